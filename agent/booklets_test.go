package agent

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
)

// Promise 2 and 4: numbers come from leased booklets, kept before use, and
// every number is issued or reported blank.

func leasingHarness(t *testing.T, c *clock, lease func(req posagent.LeaseRequest) ([]posagent.Booklet, error)) (*harness, *[]posagent.LeaseRequest) {
	var asked []posagent.LeaseRequest
	h := newHarness(t, c.Now, func(o *Options) {
		fp := newFakeProvider(c.Now)
		fp.lease = func(req posagent.LeaseRequest) ([]posagent.Booklet, error) {
			asked = append(asked, req)
			return lease(req)
		}
		o.Provider = leasingProvider{fp}
		o.Config.Booklets.LowWater = 60
	})
	return h, &asked
}

func TestLeasesWhenRunningLow(t *testing.T) {
	c := taipeiClock()
	next := 0
	h, asked := leasingHarness(t, c, func(req posagent.LeaseRequest) ([]posagent.Booklet, error) {
		next++
		return []posagent.Booklet{{Track: "CD", First: next * 100, Last: next*100 + 99}}, nil
	})
	ctx := context.Background()
	h.agent.keepBooklets(ctx)
	require.Empty(t, *asked, "leased with 100 left and a low water of 60")
	for i := range 45 {
		sell(t, h, fmt.Sprintf("s-%d", i))
	}
	h.agent.keepBooklets(ctx)
	require.Len(t, *asked, 1)
	require.Equal(t, posagent.LeaseRequest{Period: posagent.PeriodOf(c.Now()), MachineID: "POS01", Booklets: 2}, (*asked)[0])
	left, err := h.store.NumbersLeft(ctx, Owner{Seller: testSeller, Unowned: true}, posagent.PeriodOf(c.Now()))
	require.NoError(t, err)
	require.Equal(t, 155, left)
	bs, err := h.store.Booklets(ctx)
	require.NoError(t, err)
	require.Equal(t, "fake", bs[1].Source)
	require.Equal(t, posagent.PeriodOf(c.Now()), bs[1].Period)
}

func TestOfflineAndLowRaisesAnAlarm(t *testing.T) {
	c := taipeiClock()
	h, asked := leasingHarness(t, c, func(req posagent.LeaseRequest) ([]posagent.Booklet, error) {
		return nil, posagent.Errorf(posagent.KindTransient, "dial tcp: connection refused")
	})
	for i := range 45 {
		sell(t, h, fmt.Sprintf("s-%d", i))
	}
	ctx := context.Background()
	h.agent.keepBooklets(ctx)
	h.agent.keepBooklets(ctx)
	require.Len(t, *asked, 1, "a failed lease is retried at once")
	s, err := h.agent.Status(ctx)
	require.NoError(t, err)
	require.Equal(t, LevelWarning, s.Level)
	var found bool
	for _, a := range s.Alarms {
		if a.Code == "numbers_low" {
			found = true
			require.Contains(t, a.Message, "only 55 invoice numbers left")
			require.Contains(t, a.Message, "connection refused")
		}
	}
	require.True(t, found, "%+v", s.Alarms)
	c.Add(leaseRetry)
	h.agent.keepBooklets(ctx)
	require.Len(t, *asked, 2)
}

func TestLeasesTheNextPeriodAhead(t *testing.T) {
	c := &clock{t: time.Date(2025, 10, 29, 12, 0, 0, 0, posagent.Taipei)} // the period ends 10-31 24:00
	h, asked := leasingHarness(t, c, func(req posagent.LeaseRequest) ([]posagent.Booklet, error) {
		return []posagent.Booklet{{Track: "EF", First: 0, Last: 99}}, nil
	})
	h.agent.keepBooklets(context.Background())
	require.Len(t, *asked, 1)
	require.Equal(t, "11412", (*asked)[0].Period.Code())
	left, err := h.store.NumbersLeft(context.Background(), Owner{Seller: testSeller, Unowned: true}, posagent.Period{Year: 114, EvenMonth: 12})
	require.NoError(t, err)
	require.Equal(t, 100, left)
}

func TestRetiresThePreviousPeriodAndQueuesTheBlankReport(t *testing.T) {
	c := taipeiClock()
	h := newHarness(t, c.Now, func(o *Options) { o.Config.Booklets.LowWater = 0 })
	for i := range 3 {
		sell(t, h, fmt.Sprintf("s-%d", i))
	}
	c.t = time.Date(2025, 11, 1, 12, 0, 0, 0, posagent.Taipei)
	h.agent.keepBooklets(context.Background())
	bs, _ := h.store.Booklets(context.Background())
	require.False(t, bs[0].Retired, "retired before the grace period")
	c.t = time.Date(2025, 11, 2, 1, 0, 0, 0, posagent.Taipei)
	h.agent.keepBooklets(context.Background())
	bs, _ = h.store.Booklets(context.Background())
	require.True(t, bs[0].Retired)

	// The fake provider takes no blank reports: the job goes dead naming the
	// ranges, and status lists them.
	jobs, err := h.store.Claim(context.Background(), nil, 10, time.Minute)
	require.NoError(t, err)
	var blank Job
	for _, j := range jobs {
		if j.Kind == JobBlank {
			blank = j
		}
	}
	require.Equal(t, JobBlank, blank.Kind)
	h.agent.runJob(context.Background(), h.agent.defaultSeller(), blank)
	dead, _ := h.store.Jobs(context.Background(), StateDead, 10)
	require.Len(t, dead, 1)
	require.Contains(t, dead[0].LastError, "AB12345603-AB12345699")
	require.Contains(t, dead[0].LastError, "2025-11-10")
	s, err := h.agent.Status(context.Background())
	require.NoError(t, err)
	require.Equal(t, []BlankView{{Period: "11410", Range: "AB12345600-AB12345699", Unused: 97, Deadline: "2025-11-10"}}, s.Blank)
}

func TestManualBookletWithoutLeasingSource(t *testing.T) {
	c := taipeiClock()
	h := newHarness(t, c.Now, func(o *Options) { o.Config.Booklets.LowWater = 200 })
	h.agent.keepBooklets(context.Background())
	s, err := h.agent.Status(context.Background())
	require.NoError(t, err)
	require.Contains(t, s.Alarms[0].Message, "posagent booklets add RANGE --period 11410")

	code, body := h.do(t, "POST", "/v1/booklets", `{"range":"XY00000100-XY00000199","period":"11410"}`)
	require.Equal(t, 201, code, "%v", body)
	require.Equal(t, "manual", body["source"])
	h.agent.keepBooklets(context.Background())
	s, err = h.agent.Status(context.Background())
	require.NoError(t, err)
	require.Equal(t, LevelOK, s.Level, "%+v", s.Alarms)
	require.Equal(t, 200, s.Numbers[0].Left)
}

func TestDeadlineAlarms(t *testing.T) {
	c := taipeiClock()
	h := newHarness(t, c.Now, nil)
	sell(t, h, "s-1")
	ctx := context.Background()
	for _, tc := range []struct {
		after time.Duration
		level string
	}{{23 * time.Hour, LevelOK}, {time.Hour, LevelWarning}, {16 * time.Hour, LevelCritical}} {
		c.Add(tc.after)
		s, err := h.agent.Status(ctx)
		require.NoError(t, err)
		require.Equal(t, tc.level, s.Level, "%+v", s.Alarms)
		require.NotNil(t, s.Queue.OldestUnsent)
		require.Equal(t, "2025-09-16T13:03:00+08:00", s.Queue.OldestUnsent.Deadline.Format(time.RFC3339))
		h.agent.logAlarms(s)
	}
	require.Contains(t, h.logs.String(), "level=WARN msg=alarm code=upload_deadline")
	require.Contains(t, h.logs.String(), "level=ERROR msg=ALARM code=upload_deadline")
	require.Contains(t, h.logs.String(), "the legal limit is 48h")
}

type sourceFunc func(req posagent.LeaseRequest) ([]posagent.Booklet, error)

func (f sourceFunc) LeaseBooklets(ctx context.Context, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	return f(req)
}

// A head office replaces a provider's leasing: the keeper asks the source it
// was given, not the provider, and a paused provider (bad credentials) does not
// stop it, because the head office is another server.
func TestExplicitBookletSourceReplacesTheProvider(t *testing.T) {
	c := taipeiClock()
	var fromProvider, fromSource []posagent.LeaseRequest
	h := newHarness(t, c.Now, func(o *Options) {
		fp := newFakeProvider(c.Now)
		fp.lease = func(req posagent.LeaseRequest) ([]posagent.Booklet, error) {
			fromProvider = append(fromProvider, req)
			return nil, posagent.Errorf(posagent.KindInternal, "the provider was asked")
		}
		o.Provider = leasingProvider{fp}
		o.BookletSource = sourceFunc(func(req posagent.LeaseRequest) ([]posagent.Booklet, error) {
			fromSource = append(fromSource, req)
			return []posagent.Booklet{{Track: "HQ", First: 50000000, Last: 50000049, Source: "hq"}}, nil
		})
		o.Config.Booklets.LowWater = 150
	})
	h.agent.defaultSeller().health.mu.Lock()
	h.agent.defaultSeller().health.pausedUntil = c.Now().Add(time.Hour)
	h.agent.defaultSeller().health.mu.Unlock()
	ctx := context.Background()
	h.agent.keepBooklets(ctx)
	require.Empty(t, fromProvider)
	require.Len(t, fromSource, 1)
	bs, err := h.store.Booklets(ctx)
	require.NoError(t, err)
	require.Len(t, bs, 2)
	require.Equal(t, "hq", bs[1].Source)
	left, err := h.store.NumbersLeft(ctx, Owner{Seller: testSeller, Unowned: true}, posagent.PeriodOf(c.Now()))
	require.NoError(t, err)
	require.Equal(t, 150, left)
}

// Without an explicit source a paused provider is not asked for numbers either.
func TestPausedProviderIsNotAskedToLease(t *testing.T) {
	c := taipeiClock()
	h, asked := leasingHarness(t, c, func(req posagent.LeaseRequest) ([]posagent.Booklet, error) {
		return []posagent.Booklet{{Track: "CD", First: 100, Last: 199}}, nil
	})
	h.agent.defaultSeller().health.mu.Lock()
	h.agent.defaultSeller().health.pausedUntil = c.Now().Add(time.Hour)
	h.agent.defaultSeller().health.mu.Unlock()
	for i := range 45 {
		sell(t, h, fmt.Sprintf("s-%d", i))
	}
	h.agent.keepBooklets(context.Background())
	require.Empty(t, *asked)
}

// A till on ECPay's test platform says so in its status, as a warning: its
// invoices are not legal ones.
func TestStatusWarnsOnTheTestPlatform(t *testing.T) {
	c := &clock{t: time.Date(2025, 9, 14, 13, 3, 0, 0, posagent.Taipei)}
	for _, tc := range []struct {
		base string
		want bool
	}{
		{"https://einvoice-stage.ecpay.com.tw", true},
		{"https://einvoice.ecpay.com.tw", false},
		{"http://127.0.0.1:9", false},
	} {
		h := newHarness(t, c.Now, func(o *Options) {
			o.Config.Provider.Name = "ecpay"
			o.Config.Provider.ECPay.BaseURL = tc.base
		})
		s, err := h.agent.Status(context.Background())
		require.NoError(t, err)
		found := false
		for _, a := range s.Alarms {
			if a.Code == "test_platform" {
				found = true
				require.Equal(t, LevelWarning, a.Level)
				require.Contains(t, a.Message, "not legal invoices")
			}
		}
		require.Equal(t, tc.want, found, "%s: %+v", tc.base, s.Alarms)
	}
}

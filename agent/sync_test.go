package agent

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
)

// Promise 3: uploaded exactly once, in order; the errors table decides what
// happens after a failed call.

func TestDecideFollowsTheErrorsTable(t *testing.T) {
	c := taipeiClock()
	h := newHarness(t, c.Now, nil)
	now := c.Now()
	job := Job{ID: 1, Kind: JobUpload, Attempts: 3}
	cases := []struct {
		name   string
		err    error
		action action
		at     time.Duration
		check  func(t *testing.T, d decision)
	}{
		{"ok", nil, actDone, 0, nil},
		{"invalid", posagent.Invalid("items[0].name", "too long"), actDead, 0, nil},
		{"conflict", posagent.Errorf(posagent.KindConflict, "different invoice"), actDead, 0, nil},
		{"transient", posagent.Errorf(posagent.KindTransient, "timeout"), actRetry, 8 * time.Second,
			func(t *testing.T, d decision) { require.True(t, d.offline) }},
		{"plain error", errors.New("boom"), actRetry, 8 * time.Second,
			func(t *testing.T, d decision) { require.False(t, d.offline) }},
		{"not found", posagent.Errorf(posagent.KindNotFound, "lagging"), actRetry, 8 * time.Second, nil},
		{"rate limited with delay", &posagent.Error{Kind: posagent.KindRateLimited, RetryAfter: 90 * time.Second}, actRetry, 90 * time.Second,
			func(t *testing.T, d decision) { require.Equal(t, now.Add(90*time.Second), d.holdUntil) }},
		{"rate limited", &posagent.Error{Kind: posagent.KindRateLimited}, actRetry, time.Minute, nil},
		{"config", posagent.Errorf(posagent.KindConfig, "bad HashKey"), actRetry, configPause,
			func(t *testing.T, d decision) { require.Equal(t, now.Add(configPause), d.pauseUntil) }},
		{"auth", posagent.Errorf(posagent.KindAuth, "TransCode 110 decrypt fail"), actRetry, configPause,
			func(t *testing.T, d decision) {
				require.Equal(t, now.Add(configPause), d.pauseUntil)
				require.True(t, d.providerWide)
			}},
		{"clock", &posagent.Error{Kind: posagent.KindClock, Skew: 7 * time.Minute}, actRetry, 8 * time.Second,
			func(t *testing.T, d decision) { require.True(t, d.clock); require.Equal(t, 7*time.Minute, d.skew) }},
		{"clock unknown skew", &posagent.Error{Kind: posagent.KindClock}, actRetry, 8 * time.Second,
			func(t *testing.T, d decision) { require.True(t, d.clock) }},
		{"clock a second off: a short wait", &posagent.Error{Kind: posagent.KindTransient, RetryAfter: 1900 * time.Millisecond}, actRetry, 1900 * time.Millisecond,
			func(t *testing.T, d decision) {
				require.False(t, d.clock)
				require.False(t, d.offline)
				require.True(t, d.wait)
				require.Equal(t, now.Add(1900*time.Millisecond), d.holdUntil)
			}},
		{"clock seconds off is still an alarm", &posagent.Error{Kind: posagent.KindClock, Skew: 2 * time.Second}, actRetry, 8 * time.Second,
			func(t *testing.T, d decision) { require.True(t, d.clock) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := h.agent.decide(job, tc.err, now)
			require.Equal(t, tc.action, d.action)
			if tc.action == actRetry {
				require.Equal(t, tc.at, d.at.Sub(now))
			}
			if tc.err != nil {
				require.Equal(t, tc.err.Error(), d.reason)
			}
			if tc.check != nil {
				tc.check(t, d)
			}
		})
	}
}

func TestMaxAttemptsMakesAJobDead(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, func(o *Options) { o.Config.Sync.MaxAttempts = 5 })
	d := h.agent.decide(Job{Attempts: 5}, posagent.Errorf(posagent.KindTransient, "down"), bubbleNow())
	require.Equal(t, actDead, d.action)
	require.Contains(t, d.reason, "gave up after 5 attempts")
	d = h.agent.decide(Job{Attempts: 4}, posagent.Errorf(posagent.KindTransient, "down"), bubbleNow())
	require.Equal(t, actRetry, d.action)
	// A wait the client asked for is not a failed attempt.
	d = h.agent.decide(Job{Attempts: 5}, &posagent.Error{Kind: posagent.KindTransient, RetryAfter: time.Second}, bubbleNow())
	require.Equal(t, actRetry, d.action)
}

func TestBackoffDoublesWithJitterAndCap(t *testing.T) {
	jitter := 1.0
	h := newHarness(t, taipeiClock().Now, func(o *Options) { o.Jitter = func() float64 { return jitter } })
	var got []time.Duration
	for n := range 8 {
		got = append(got, h.agent.backoff(n))
	}
	require.Equal(t, []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second,
		32 * time.Second, time.Minute, time.Minute, time.Minute}, got)
	jitter = 0.8
	require.Equal(t, 1600*time.Millisecond, h.agent.backoff(0))
	jitter = 1.2
	require.Equal(t, time.Minute, h.agent.backoff(5), "jitter never exceeds the cap")
	require.Equal(t, time.Minute, h.agent.backoff(1000), "no overflow")
}

// bubbleClock is the synctest bubble's clock moved to 2025-09-14 (the bubble
// starts in 2000, before e-invoices existed); it advances with the bubble.
func bubbleClock() func() time.Time { return bubbleNow }

func bubbleNow() time.Time {
	return time.Now().Add(time.Date(2025, 9, 14, 13, 0, 0, 0, posagent.Taipei).Sub(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)))
}

// runSync runs the sync loop of h until stop is called.
func runSync(h *harness) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.agent.syncLoop(ctx); close(done) }()
	return func() { cancel(); <-done }
}

func TestSyncUploadsEverythingOnceWithBoundedConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, bubbleClock(), func(o *Options) { o.PollInterval = time.Second })
		h.provider.fn = func(c call) error { time.Sleep(20 * time.Millisecond); return nil }
		stop := runSync(h)
		defer stop()
		for i := range 40 {
			sell(t, h, fmt.Sprintf("s-%d", i))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		require.Equal(t, map[string]int{StateDone: 40}, h.store.jobStates())
		for _, c := range h.provider.callList() {
			require.Equal(t, 1, h.provider.accepted[JobUpload+"/"+string(c.Number)], "uploaded more than once: %s", c.Number)
		}
		require.LessOrEqual(t, h.provider.maxIn, 4)
		require.Greater(t, h.provider.maxIn, 1, "concurrency unused")
	})
}

func TestSyncWakesAtOnceOnASale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, bubbleClock(), func(o *Options) { o.PollInterval = time.Hour })
		stop := runSync(h)
		defer stop()
		synctest.Wait()
		start := bubbleNow()
		sell(t, h, "s-1")
		synctest.Wait()
		calls := h.provider.callList()
		require.Len(t, calls, 1)
		require.Equal(t, start, calls[0].At, "the upload waited for the poll")
	})
}

// Offline: one probe at a time on the backoff schedule (2 s, 4 s, 8 s …, capped
// at a minute), not the whole queue; back online, the queue drains in order and
// voids go after their invoices.
func TestOfflineProbesOnScheduleThenDrains(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, bubbleClock(), func(o *Options) { o.PollInterval = time.Second; o.Config.Sync.Concurrency = 1 })
		var down atomic.Bool
		down.Store(true)
		h.provider.fn = func(c call) error {
			if down.Load() {
				return posagent.Errorf(posagent.KindTransient, "connection refused")
			}
			return nil
		}
		stop := runSync(h)
		defer stop()
		start := bubbleNow()
		for i := range 20 {
			sell(t, h, fmt.Sprintf("s-%d", i))
		}
		_, err := h.agent.VoidInvoice(context.Background(), "AB12345603", "打錯")
		require.NoError(t, err)

		time.Sleep(2*time.Minute + 10*time.Second)
		synctest.Wait()
		var offsets []time.Duration
		for _, c := range h.provider.callList() {
			offsets = append(offsets, c.At.Sub(start).Round(time.Second))
		}
		// First call fails, then the probe waits 2, 4, 8, 16, 32 s, then the cap.
		require.Equal(t, []time.Duration{0, 2 * time.Second, 6 * time.Second, 14 * time.Second, 30 * time.Second,
			62 * time.Second, 122 * time.Second}, offsets)
		require.False(t, h.agent.healthView(h.agent.defaultSeller(), bubbleNow()).Online)

		down.Store(false)
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		require.Equal(t, map[string]int{StateDone: 21}, h.store.jobStates())
		require.True(t, h.agent.healthView(h.agent.defaultSeller(), bubbleNow()).Online)

		// Each invoice accepted once, uploads in number order, the void after its invoice.
		var uploads []posagent.InvoiceNumber
		voidAt, uploadAt := -1, -1
		for i, c := range h.provider.callList() {
			if c.Kind == JobVoid {
				voidAt = i
			}
			if c.Kind == JobUpload && c.Number == "AB12345603" {
				uploadAt = i
			}
		}
		for k, n := range h.provider.accepted {
			require.Equal(t, 1, n, k)
			if k[:len(JobUpload)] == JobUpload {
				uploads = append(uploads, posagent.InvoiceNumber(k[len(JobUpload)+1:]))
			}
		}
		require.Len(t, uploads, 20)
		require.Greater(t, voidAt, uploadAt)
		var lastDone posagent.InvoiceNumber
		for _, c := range h.provider.callList() {
			if c.Kind == JobUpload && c.At.Sub(start) > 3*time.Minute {
				require.Greater(t, c.Number, lastDone, "out of order")
				lastDone = c.Number
			}
		}
	})
}

func TestConfigErrorPausesTheProvider(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, bubbleClock(), func(o *Options) { o.PollInterval = time.Second })
		var bad atomic.Bool
		bad.Store(true)
		h.provider.fn = func(c call) error {
			if bad.Load() {
				return posagent.Errorf(posagent.KindConfig, "ECPay rejected the MerchantID")
			}
			return nil
		}
		stop := runSync(h)
		defer stop()
		for i := range 5 {
			sell(t, h, fmt.Sprintf("s-%d", i))
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		calls := len(h.provider.callList())
		require.LessOrEqual(t, calls, 4, "kept calling a provider that rejected the set-up")
		s, err := h.agent.Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, LevelCritical, s.Level)
		require.Equal(t, "provider_config", s.Alarms[0].Code)
		require.Contains(t, s.Alarms[0].Message, "MerchantID")

		// Sales go on while paused.
		sell(t, h, "s-paused")
		bad.Store(false)
		time.Sleep(configPause + 10*time.Second)
		synctest.Wait()
		require.Equal(t, map[string]int{StateDone: 6}, h.store.jobStates())
	})
}

func TestRateLimitHoldsEveryCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, bubbleClock(), func(o *Options) { o.PollInterval = time.Second })
		var n atomic.Int32
		h.provider.fn = func(c call) error {
			if n.Add(1) == 1 {
				return &posagent.Error{Kind: posagent.KindRateLimited, Message: "403 Forbidden", RetryAfter: 30 * time.Second}
			}
			return nil
		}
		stop := runSync(h)
		defer stop()
		start := bubbleNow()
		sell(t, h, "s-1")
		synctest.Wait()
		sell(t, h, "s-2")
		time.Sleep(29 * time.Second)
		synctest.Wait()
		require.Len(t, h.provider.callList(), 1, "called during the hold")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		calls := h.provider.callList()
		require.Len(t, calls, 3)
		require.GreaterOrEqual(t, calls[1].At.Sub(start), 30*time.Second)
	})
}

func TestClockErrorRaisesAnAlarmWithTheSkew(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, bubbleClock(), func(o *Options) { o.PollInterval = time.Second })
		var n atomic.Int32
		h.provider.fn = func(c call) error {
			if n.Add(1) == 1 {
				return &posagent.Error{Kind: posagent.KindClock, Message: "timestamp out of window", Skew: -11 * time.Minute}
			}
			return nil
		}
		stop := runSync(h)
		defer stop()
		sell(t, h, "s-1")
		synctest.Wait()
		s, err := h.agent.Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, "clock", s.Alarms[0].Code)
		require.Contains(t, s.Alarms[0].Message, "-11m0s")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		s, err = h.agent.Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, LevelOK, s.Level, "alarm stays after the clock was fixed: %+v", s.Alarms)
	})
}

func TestInvalidJobGoesDeadAndRevives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, bubbleClock(), func(o *Options) { o.PollInterval = time.Second })
		var fixed atomic.Bool
		h.provider.fn = func(c call) error {
			if !fixed.Load() {
				return posagent.Invalid("ItemName", "too long for ECPay")
			}
			return nil
		}
		stop := runSync(h)
		defer stop()
		sell(t, h, "s-1")
		time.Sleep(10 * time.Second)
		synctest.Wait()
		dead, err := h.store.Jobs(context.Background(), StateDead, 10)
		require.NoError(t, err)
		require.Len(t, dead, 1)
		require.Contains(t, dead[0].LastError, "ItemName")
		require.Len(t, h.provider.callList(), 1, "a dead job was retried")

		fixed.Store(true)
		code, _ := h.do(t, "POST", fmt.Sprintf("/v1/jobs/%d/revive", dead[0].ID), "")
		require.Equal(t, 200, code)
		synctest.Wait()
		require.Equal(t, map[string]int{StateDone: 1}, h.store.jobStates())
	})
}

// lookupProvider answers duplicates and can look invoices up.
type lookupProvider struct {
	*fakeProvider
	remote posagent.RemoteInvoice
}

func (p lookupProvider) LookupInvoice(ctx context.Context, n posagent.InvoiceNumber, at time.Time, sale string) (posagent.RemoteInvoice, error) {
	return p.remote, nil
}

func TestDuplicateIsAdoptedWhenItIsOurs(t *testing.T) {
	c := taipeiClock()
	for _, tc := range []struct {
		name   string
		remote func(inv posagent.Invoice) posagent.RemoteInvoice
		action action
	}{
		{"ours", func(inv posagent.Invoice) posagent.RemoteInvoice {
			return posagent.RemoteInvoice{Number: inv.Number, RandomCode: inv.RandomCode, Total: inv.Total}
		}, actDone},
		{"someone else's", func(inv posagent.Invoice) posagent.RemoteInvoice {
			return posagent.RemoteInvoice{Number: inv.Number, RandomCode: "9999", Total: inv.Total + 1}
		}, actDead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var lp lookupProvider
			h := newHarness(t, c.Now, func(o *Options) {
				lp = lookupProvider{fakeProvider: newFakeProvider(c.Now)}
				o.Provider = lp
			})
			lp.fn = func(call) error { return posagent.Errorf(posagent.KindDuplicate, "RelateNumber exists") }
			res := sell(t, h, "s-1")
			lp.remote = tc.remote(res.Invoice)
			h.agent.defaultSeller().provider = lp
			jobs, err := h.store.Claim(context.Background(), nil, 1, time.Minute)
			require.NoError(t, err)
			h.agent.runJob(context.Background(), h.agent.defaultSeller(), jobs[0])
			st := h.store.jobStates()
			if tc.action == actDone {
				require.Equal(t, 1, st[StateDone])
			} else {
				require.Equal(t, 1, st[StateDead])
			}
		})
	}
}

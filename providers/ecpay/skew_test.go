package ecpay_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/ecpay"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

// manualClock is one clock for the client and the stand-in, moved by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func withClock(clk *manualClock) envOption {
	return func(o *ecpaytest.Options, c *ecpay.Config) {
		if o != nil {
			o.Now = clk.Now
		}
		if c != nil {
			c.Now = clk.Now
		}
	}
}

// ECPay's clock a fraction of a second behind ours (the skew measured from
// its whole-second times rounds to a second): a fresh invoice is not a clock
// problem but a short wait, after which it is uploaded.
func TestSubSecondSkewIsAShortWait(t *testing.T) {
	clk := &manualClock{t: time.Now().Truncate(time.Second)}
	e := newEnv(t, withClock(clk))
	e.srv.SetClockOffset(-800 * time.Millisecond)
	if _, err := e.c.Machines(e.ctx); err != nil {
		t.Fatal(err)
	}
	if skew, _, _ := e.c.ClockSkew(); skew <= 0 || skew > 2*time.Second {
		t.Fatalf("measured skew = %v, want about a second", skew)
	}
	inv := e.sale("SKEW1")
	inv.IssuedAt = clk.Now() // rung up this instant
	err := e.c.Upload(e.ctx, inv)
	e.checkErr(err, posagent.KindTransient)
	var pe *posagent.Error
	errors.As(err, &pe)
	if pe.RetryAfter <= 0 || pe.RetryAfter > 3*time.Second {
		t.Fatalf("RetryAfter = %v, want a short wait", pe.RetryAfter)
	}
	if pe.Skew != 0 {
		t.Fatalf("a short wait carries Skew %v: the agent would raise the clock alarm", pe.Skew)
	}
	if n := e.srv.Count(string(inv.Number)); n != 0 {
		t.Fatalf("the stand-in holds the invoice %d times before the wait", n)
	}
	clk.Add(pe.RetryAfter)
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatalf("after waiting RetryAfter: %v", err)
	}
	if n := e.srv.Count(string(inv.Number)); n != 1 {
		t.Fatalf("the stand-in holds the invoice %d times", n)
	}
}

// The same wait, with the tolerance disabled, is a clock problem.
func TestSubSecondSkewWithoutToleranceIsClock(t *testing.T) {
	clk := &manualClock{t: time.Now().Truncate(time.Second)}
	e := newEnv(t, withClock(clk), func(_ *ecpaytest.Options, c *ecpay.Config) {
		if c != nil {
			c.ClockTolerance = -1
		}
	})
	e.srv.SetClockOffset(-800 * time.Millisecond)
	if _, err := e.c.Machines(e.ctx); err != nil {
		t.Fatal(err)
	}
	inv := e.sale("SKEW2")
	inv.IssuedAt = clk.Now()
	e.checkErr(e.c.Upload(e.ctx, inv), posagent.KindClock)
}

// The skew is measured to a second: ECPay a fifth of a second behind can be
// measured as 0 while it would still refuse an invoice of the second it has
// not reached. A fresh invoice waits out that uncertainty too.
func TestSkewMeasuredAsZeroStillWaitsForTheSecond(t *testing.T) {
	clk := &manualClock{t: time.Now().Truncate(time.Second).Add(300 * time.Millisecond)}
	e := newEnv(t, withClock(clk))
	e.srv.SetClockOffset(-200 * time.Millisecond)
	if _, err := e.c.Machines(e.ctx); err != nil {
		t.Fatal(err)
	}
	if skew, _, _ := e.c.ClockSkew(); skew != 0 {
		t.Fatalf("measured skew = %v; the test needs 0", skew)
	}
	clk.Add(750 * time.Millisecond) // local x+1.05 s, ECPay x+0.85 s
	inv := e.sale("SKEW3")
	inv.IssuedAt = clk.Now()
	err := e.c.Upload(e.ctx, inv)
	e.checkErr(err, posagent.KindTransient)
	var pe *posagent.Error
	errors.As(err, &pe)
	if pe.RetryAfter <= 0 || pe.RetryAfter > 2*time.Second {
		t.Fatalf("RetryAfter = %v", pe.RetryAfter)
	}
	clk.Add(pe.RetryAfter)
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatalf("after waiting RetryAfter: %v", err)
	}
}

// ECPay five minutes behind: a clock problem, with the skew. Nothing else
// measures the skew while uploads are held, so a held upload measures it
// again once the measurement is old: when the clocks agree, it goes up.
func TestFiveMinuteSkewIsClockUntilTheClocksAgree(t *testing.T) {
	clk := &manualClock{t: time.Now().Truncate(time.Second)}
	e := newEnv(t, withClock(clk))
	e.srv.SetClockOffset(-5 * time.Minute)
	if _, err := e.c.Machines(e.ctx); err != nil {
		t.Fatal(err)
	}
	inv := e.sale("SKEW5M")
	inv.IssuedAt = clk.Now().Add(-time.Second)
	err := e.c.Upload(e.ctx, inv)
	e.checkErr(err, posagent.KindClock)
	var pe *posagent.Error
	if errors.As(err, &pe); pe.Skew < 4*time.Minute || pe.Skew > 6*time.Minute {
		t.Fatalf("Skew = %v, want about 5m", pe.Skew)
	}
	before := len(e.srv.Requests())
	// Still off when measured again: still a clock problem.
	clk.Add(10 * time.Second)
	e.checkErr(e.c.Upload(e.ctx, inv), posagent.KindClock)
	if got := len(e.srv.Requests()); got != before+1 {
		t.Fatalf("%d requests for a held upload with an old measurement, want 1 (the time check)", got-before)
	}
	e.srv.SetClockOffset(0)
	clk.Add(10 * time.Second)
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatalf("after the clocks agree: %v", err)
	}
	if n := e.srv.Count(string(inv.Number)); n != 1 {
		t.Fatalf("the stand-in holds the invoice %d times", n)
	}
}

// The first upload after start, before any skew is measured, with ECPay's
// clock 0.3 s or 1 s behind (issue 10 §4): ECPay refuses the invoice of a
// second it has not reached ("發票開立時間不可大於上傳時間", no published code).
// That refusal is a short wait, never a bad document, and after the wait the
// invoice goes up.
func TestFirstUploadBeforeAnySkewIsMeasuredWaits(t *testing.T) {
	for _, behind := range []time.Duration{300 * time.Millisecond, time.Second} {
		t.Run(behind.String(), func(t *testing.T) {
			clk := &manualClock{t: time.Now().Truncate(time.Second).Add(100 * time.Millisecond)}
			e := newEnv(t, withClock(clk))
			inv := e.sale("FIRST1") // leases through this client: measured
			fresh := e.srv.Config("POS01")
			fresh.Now = clk.Now
			c, err := ecpay.New(fresh) // a client that has measured nothing, as after start
			if err != nil {
				t.Fatal(err)
			}
			if _, _, ok := c.ClockSkew(); ok {
				t.Fatal("skew known before any answer")
			}
			e.srv.SetClockOffset(-behind)
			inv.IssuedAt = clk.Now() // rung up this instant
			err = c.Upload(e.ctx, inv)
			e.checkErr(err, posagent.KindTransient)
			var pe *posagent.Error
			errors.As(err, &pe)
			if pe.RetryAfter <= 0 || pe.RetryAfter > 3*time.Second || pe.Skew != 0 {
				t.Fatalf("RetryAfter %v, Skew %v: want a short wait and no clock alarm", pe.RetryAfter, pe.Skew)
			}
			if a := asAPI(err); a == nil || a.RtnCode != 4000006 {
				t.Fatalf("the refusal is not kept as the cause: %v", err)
			}
			clk.Add(pe.RetryAfter)
			if err := c.Upload(e.ctx, inv); err != nil {
				t.Fatalf("after waiting RetryAfter: %v", err)
			}
			if n := e.srv.Count(string(inv.Number)); n != 1 {
				t.Fatalf("the stand-in holds the invoice %d times", n)
			}
		})
	}
}

// An issue-time refusal of an invoice whose time ECPay's clock has long
// passed (by our measure) is not a second to wait out but clocks that
// disagree: KindClock (the agent's alarm, a retry with backoff), never a
// dead job.
func TestIssueTimeRefusalOfAnOldInvoiceIsClock(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("OLDTIME")
	inv.IssuedAt = time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultRtnCode, Endpoint: "OfflineIssue", Code: 4000006, Msg: "發票開立時間不可大於上傳時間"}, 1)
	err := e.c.Upload(e.ctx, inv)
	e.checkErr(err, posagent.KindClock)
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatal(err)
	}
}

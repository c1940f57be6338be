package bridge_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/bridge"
	"github.com/posagent/posagent/providers/bridge/bridgetest"
)

// op is one document kind of the fault matrix: prepare what it needs (its
// invoice, already accepted), send it, and check that the receiver holds
// exactly one document of the kind afterwards.
type op struct {
	kind    bridge.Kind
	prepare func(e *env) any
	run     func(e *env, state any) error
	check   func(t *testing.T, e *env, state any)
}

// uploaded is an invoice the receiver already holds.
func (e *env) uploaded(id string) posagent.Invoice {
	e.t.Helper()
	inv := e.sale(id)
	if err := e.c.Upload(e.ctx, inv); err != nil {
		e.t.Fatalf("upload %s: %v", id, err)
	}
	return inv
}

type allowed struct {
	inv posagent.Invoice
	a   posagent.Allowance
}

type leased struct {
	got []posagent.Booklet
}

var matrixOps = []op{
	{bridge.KindInvoice,
		func(e *env) any { return e.sale("M1") },
		func(e *env, s any) error { return e.c.Upload(e.ctx, s.(posagent.Invoice)) },
		func(t *testing.T, e *env, s any) {
			inv := s.(posagent.Invoice)
			key := fmt.Sprintf("invoice:%s:%s:%s", testSeller, inv.Period().Code(), inv.Number)
			if e.srv.Count(key) != 1 || len(e.docsOf(bridge.KindInvoice)) != 1 {
				t.Fatalf("receiver holds %d of %s, %d invoices", e.srv.Count(key), key, len(e.docsOf(bridge.KindInvoice)))
			}
		}},
	{bridge.KindVoid,
		func(e *env) any { return e.uploaded("M1") },
		func(e *env, s any) error { inv := s.(posagent.Invoice); return e.c.Void(e.ctx, inv, voidOf(inv)) },
		func(t *testing.T, e *env, s any) {
			d := e.docsOf(bridge.KindVoid)
			if len(d) != 1 || d[0].Doc.Void.Number != s.(posagent.Invoice).Number || d[0].Doc.Void.Reason != "客戶退貨" {
				t.Fatalf("receiver holds voids %+v", d)
			}
		}},
	{bridge.KindAllowance,
		func(e *env) any { return e.uploaded("M1") },
		func(e *env, s any) error {
			inv := s.(posagent.Invoice)
			return e.c.Allow(e.ctx, inv, allowanceOf(inv, "A1"))
		},
		func(t *testing.T, e *env, s any) {
			d := e.docsOf(bridge.KindAllowance)
			if len(d) != 1 || d[0].Doc.Allowance.Number != "A1" || d[0].Doc.Allowance.Total != 50 {
				t.Fatalf("receiver holds allowances %+v", d)
			}
		}},
	{bridge.KindAllowanceVoid,
		func(e *env) any {
			inv := e.uploaded("M1")
			a := allowanceOf(inv, "A1")
			if err := e.c.Allow(e.ctx, inv, a); err != nil {
				e.t.Fatal(err)
			}
			return allowed{inv, a}
		},
		func(e *env, s any) error {
			x := s.(allowed)
			return e.c.VoidAllowance(e.ctx, x.inv, x.a, "退貨取消")
		},
		func(t *testing.T, e *env, s any) {
			d := e.docsOf(bridge.KindAllowanceVoid)
			if len(d) != 1 || d[0].Doc.Reason != "退貨取消" || d[0].Doc.Allowance.Number != "A1" {
				t.Fatalf("receiver holds allowance voids %+v", d)
			}
		}},
	{bridge.KindBlank,
		func(e *env) any { return nil },
		func(e *env, _ any) error {
			return e.c.ReportBlank(e.ctx, period(), []posagent.Booklet{{Track: "AB", First: 12345610, Last: 12345649, Period: period()}})
		},
		func(t *testing.T, e *env, _ any) {
			d := e.docsOf(bridge.KindBlank)
			if len(d) != 1 || d[0].Doc.Blank.Period != period().Code() || len(d[0].Doc.Blank.Ranges) != 1 ||
				d[0].Doc.Blank.Ranges[0] != (bridge.Range{Track: "AB", First: 12345610, Last: 12345649}) {
				t.Fatalf("receiver holds blank reports %+v", d)
			}
		}},
	{bridge.KindLease,
		func(e *env) any { return &leased{} },
		func(e *env, s any) error {
			bs, err := e.src.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: period(), MachineID: "POS01", Booklets: 2})
			s.(*leased).got = bs
			return err
		},
		func(t *testing.T, e *env, s any) {
			d := e.docsOf(bridge.KindLease)
			got := s.(*leased).got
			want := posagent.Booklet{Track: "ZZ", First: 10000000, Last: 10000099, Period: period(), Source: "bridge"}
			if len(d) != 1 || len(got) != 1 || got[0] != want {
				t.Fatalf("receiver holds %d leases; the client got %+v", len(d), got)
			}
		}},
}

type fault struct {
	name    string
	inject  func(e *env, kind bridge.Kind)
	want    posagent.Kind
	timeout time.Duration // the client's time limit, when the fault needs a short one
	retry   time.Duration // the RetryAfter the error must carry
	// mayPass: Go's HTTP client itself re-sends a request that carries an
	// Idempotency-Key when a reused connection drops without an answer; the
	// receiver then answers 409 and the first call already succeeds.
	mayPass bool
}

var matrixFaults = []fault{
	{name: "503", inject: func(e *env, k bridge.Kind) {
		e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultStatus, DocKind: k, Status: 503}, 1)
	}, want: posagent.KindTransient},
	{name: "500", inject: func(e *env, k bridge.Kind) {
		e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultStatus, DocKind: k, Status: 500, Message: "database is locked"}, 1)
	}, want: posagent.KindTransient},
	{name: "429 Retry-After", inject: func(e *env, k bridge.Kind) {
		e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultStatus, DocKind: k, Status: 429, RetryAfter: 7}, 1)
	}, want: posagent.KindRateLimited, retry: 7 * time.Second},
	{name: "503 Retry-After", inject: func(e *env, k bridge.Kind) {
		e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultStatus, DocKind: k, Status: 503, RetryAfter: 120}, 1)
	}, want: posagent.KindRateLimited, retry: 2 * time.Minute},
	{name: "garbage", inject: func(e *env, k bridge.Kind) {
		e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultGarbage, DocKind: k}, 1)
	}, want: posagent.KindTransient},
	{name: "lost answer", inject: func(e *env, k bridge.Kind) {
		e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultLoseAnswer, DocKind: k}, 1)
	}, want: posagent.KindTransient, mayPass: true},
	// The receiver answers only after the client gave up (it stops waiting
	// when the client hangs up, so the long latency costs no test time); 2 s
	// leaves a busy CI machine time to start the relay program on the retries.
	{name: "latency", inject: func(e *env, _ bridge.Kind) { e.srv.SetLatency(time.Minute) },
		want: posagent.KindTransient, timeout: 2 * time.Second},
	{name: "down", inject: func(e *env, _ bridge.Kind) { e.srv.Down() }, want: posagent.KindTransient},
}

// TestFaultMatrix: every fault × every document kind × both transports ends,
// after the sync loop's retries, with exactly one document at the receiver.
func TestFaultMatrix(t *testing.T) {
	for _, tr := range transports {
		for _, o := range matrixOps {
			for _, f := range matrixFaults {
				t.Run(tr+"/"+string(o.kind)+"/"+f.name, func(t *testing.T) {
					t.Parallel()
					e := newEnv(t, tr, func(_ *bridgetest.Options, c *bridge.Config) {
						if c != nil && f.timeout > 0 {
							c.Timeout = f.timeout
						}
					})
					state := o.prepare(e)
					f.inject(e, o.kind)
					err := o.run(e, state)
					if !(f.mayPass && err == nil) {
						e.checkErr(err, f.want)
					}
					if f.retry > 0 {
						var pe *posagent.Error
						if !errors.As(err, &pe) || pe.RetryAfter != f.retry {
							t.Fatalf("RetryAfter = %v, want %v", pe.RetryAfter, f.retry)
						}
					}
					e.srv.ClearFaults()
					for attempt := 0; attempt < 3 && err != nil; attempt++ {
						err = o.run(e, state)
					}
					if err != nil {
						t.Fatalf("after retries: %v", err)
					}
					o.check(t, e, state)
				})
			}
		}
	}
}

// TestDuplicateIsAdopted: a document the receiver already holds (409, exit
// 10) is success, and said so in the log.
func TestDuplicateIsAdopted(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, tr)
			inv := e.uploaded("D1")
			if err := e.c.Upload(e.ctx, inv); err != nil {
				t.Fatalf("second upload: %v", err)
			}
			if n := len(e.docsOf(bridge.KindInvoice)); n != 1 {
				t.Fatalf("%d invoices", n)
			}
			if !strings.Contains(e.logs.String(), "adopted") {
				t.Fatal("the adoption was not logged")
			}
		})
	}
}

// TestOrderAndRefusals: the receiver's answers for a void before its invoice
// (425), a key reused for other content (422) and an allowance on a voided
// invoice (422) map to a retry, and to dead jobs with the receiver's message.
func TestOrderAndRefusals(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, tr)
			inv := e.sale("O1")
			e.checkErr(e.c.Void(e.ctx, inv, voidOf(inv)), posagent.KindTransient)
			e.checkErr(e.c.Allow(e.ctx, inv, allowanceOf(inv, "A1")), posagent.KindTransient)
			if err := e.c.Upload(e.ctx, inv); err != nil {
				t.Fatal(err)
			}
			changed := inv
			changed.Remark = "changed after issue"
			err := e.c.Upload(e.ctx, changed)
			e.checkErr(err, posagent.KindInvalid)
			if !strings.Contains(err.Error(), "was used for a different document") {
				t.Fatalf("the receiver's message is lost: %v", err)
			}
			if err := e.c.Void(e.ctx, inv, voidOf(inv)); err != nil {
				t.Fatal(err)
			}
			err = e.c.Allow(e.ctx, inv, allowanceOf(inv, "A1"))
			e.checkErr(err, posagent.KindInvalid)
			if !strings.Contains(err.Error(), "is voided") {
				t.Fatalf("the receiver's message is lost: %v", err)
			}
		})
	}
}

// TestWrongSecret: a receiver that cannot verify the signature answers 401
// (the relay program exits 77): auth, which pauses the provider.
func TestWrongSecret(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, tr, func(o *bridgetest.Options, _ *bridge.Config) {
				if o != nil {
					o.Secret = "another-secret-of-the-receiver-0123456789"
				}
			})
			err := e.c.Upload(e.ctx, e.sale("W1"))
			e.checkErr(err, posagent.KindAuth)
			if len(e.srv.Documents()) != 0 {
				t.Fatal("the receiver stored a document it could not verify")
			}
		})
	}
}

// TestClockOff: the receiver refuses a timestamp outside its window; its Date
// header shows the terminal's clock is wrong (HTTP).
func TestClockOff(t *testing.T) {
	e := newEnv(t, bridge.TransportHTTP, func(o *bridgetest.Options, _ *bridge.Config) {
		if o != nil {
			o.Now = func() time.Time { return time.Now().Add(20 * time.Minute) }
		}
	})
	err := e.c.Upload(e.ctx, e.sale("C1"))
	e.checkErr(err, posagent.KindClock)
	var pe *posagent.Error
	errors.As(err, &pe)
	if d := pe.Skew + 20*time.Minute; d < -3*time.Second || d > 3*time.Second {
		t.Fatalf("Skew = %v, want about -20m", pe.Skew)
	}
}

// TestNumberedAllowances: the receiver numbers allowances; the client returns
// the number (also when the answer was lost and the retry meets 409), and
// the void of the allowance carries it.
func TestNumberedAllowances(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, tr, func(o *bridgetest.Options, c *bridge.Config) {
				if o != nil {
					o.NumberAllowances = true
				}
				if c != nil {
					c.NumberedAllowances = true
				}
			})
			p, err := bridge.Open(e.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ai, ok := p.(posagent.AllowanceIssuer)
			if !ok {
				t.Fatal("Open with NumberedAllowances is not an AllowanceIssuer")
			}
			if _, ok := p.(posagent.BookletSource); ok {
				t.Fatal("Open without Lease is a BookletSource")
			}
			inv := e.uploaded("N1")
			a := allowanceOf(inv, "A1")
			e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultLoseAnswer, DocKind: bridge.KindAllowance}, 1)
			_, err = ai.AllowNumbered(e.ctx, inv, a)
			e.checkErr(err, posagent.KindTransient)
			n, err := ai.AllowNumbered(e.ctx, inv, a)
			if err != nil || !strings.HasPrefix(n, "BR") {
				t.Fatalf("AllowNumbered = %q, %v", n, err)
			}
			e.checkErr(p.VoidAllowance(e.ctx, inv, a, "x"), posagent.KindInvalid) // without the number
			a.ProviderNumber = n
			if err := p.VoidAllowance(e.ctx, inv, a, "x"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestOpenCapabilities: Lease makes the provider a BookletSource, and only then.
func TestOpenCapabilities(t *testing.T) {
	e := newEnv(t, bridge.TransportHTTP)
	cfg := e.cfg
	p, err := bridge.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(posagent.BookletSource); ok {
		t.Fatal("a bridge without lease leases")
	}
	if _, ok := p.(posagent.BlankReporter); !ok {
		t.Fatal("a bridge takes blank reports")
	}
	cfg.Lease = true
	p, err = bridge.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	src, ok := p.(posagent.BookletSource)
	if !ok {
		t.Fatal("Lease is not a BookletSource")
	}
	if _, ok := p.(posagent.AllowanceIssuer); ok {
		t.Fatal("an allowance issuer without NumberedAllowances")
	}
	bs, err := src.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: period(), Booklets: 1})
	if err != nil || len(bs) != 1 || bs[0].Booklets() != 1 {
		t.Fatalf("lease = %+v, %v", bs, err)
	}
	// A second lease is a new key and new numbers.
	bs2, err := src.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: period(), Booklets: 1})
	if err != nil || len(bs2) != 1 || bs2[0].First != bs[0].Last+1 {
		t.Fatalf("second lease = %+v, %v", bs2, err)
	}
	_, err = src.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: period(), MachineID: "POS02"})
	e.checkErr(err, posagent.KindInvalid)
}

package amego_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/providers/amego/amegotest"
)

// op is one sync action of the fault matrix: prepare it, run it, and check
// that the stand-in holds exactly one result afterwards.
type op struct {
	name     string
	endpoint string
	prepare  func(e *env) any
	run      func(e *env, state any) error
	check    func(t *testing.T, e *env, state any)
}

type allowState struct {
	inv posagent.Invoice
	a   posagent.Allowance
}

var matrixOps = []op{
	{"upload", "f0401_custom",
		func(e *env) any { return e.sale("M1") },
		func(e *env, s any) error { return e.c.Upload(e.ctx, s.(posagent.Invoice)) },
		func(t *testing.T, e *env, s any) {
			inv := s.(posagent.Invoice)
			if got := e.srv.Invoices(); len(got) != 1 || got[0].Number != string(inv.Number) {
				t.Fatalf("stand-in holds %+v", got)
			}
		}},
	{"void", "f0501",
		func(e *env) any { inv := e.sale("M1"); e.upload(inv); return inv },
		func(e *env, s any) error { inv := s.(posagent.Invoice); return e.c.Void(e.ctx, inv, voidOf(inv)) },
		func(t *testing.T, e *env, s any) {
			got := e.srv.Invoices()
			if len(got) != 1 || !got[0].Voided {
				t.Fatalf("stand-in holds %+v", got)
			}
		}},
	{"allowance", "g0401",
		func(e *env) any {
			inv := e.sale("M1")
			e.upload(inv)
			return allowState{inv, allowanceOf(inv, "A1", 21)}
		},
		func(e *env, s any) error { st := s.(allowState); return e.c.Allow(e.ctx, st.inv, st.a) },
		func(t *testing.T, e *env, s any) {
			if al := e.srv.Allowances(); len(al) != 1 || al[0].Total+al[0].Tax != 21 || al[0].Voided {
				t.Fatalf("stand-in holds %+v", al)
			}
		}},
	{"allowance void", "g0501",
		func(e *env) any {
			inv := e.sale("M1")
			e.upload(inv)
			a := allowanceOf(inv, "A1", 21)
			if err := e.c.Allow(e.ctx, inv, a); err != nil {
				e.t.Fatal(err)
			}
			return allowState{inv, a}
		},
		func(e *env, s any) error {
			st := s.(allowState)
			return e.c.VoidAllowance(e.ctx, st.inv, st.a, "錯誤")
		},
		func(t *testing.T, e *env, s any) {
			if al := e.srv.Allowances(); len(al) != 1 || !al[0].Voided {
				t.Fatalf("stand-in holds %+v", al)
			}
		}},
	{"lease", "track_get",
		func(e *env) any { return new([]posagent.Booklet) },
		func(e *env, s any) error {
			bs, err := e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: e.period(), Booklets: 2})
			if err == nil {
				*s.(*[]posagent.Booklet) = bs
			}
			return err
		},
		func(t *testing.T, e *env, s any) {
			got := *s.(*[]posagent.Booklet)
			tr := e.srv.Tracks()
			if len(tr) != 1 || len(got) != 1 || got[0].First != tr[0].Start || got[0].Last != tr[0].End || got[0].Booklets() != 2 {
				t.Fatalf("stand-in leased %+v, client got %+v", tr, got)
			}
		}},
}

type fault struct {
	name   string
	inject func(e *env, endpoint string)
	want   posagent.Kind
}

var matrixFaults = []fault{
	{"503", func(e *env, ep string) {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultStatus, Endpoint: ep, Status: 503}, 1)
	}, posagent.KindTransient},
	{"500", func(e *env, ep string) {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultStatus, Endpoint: ep, Status: 500}, 1)
	}, posagent.KindTransient},
	{"garbage", func(e *env, ep string) {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultMalformed, Endpoint: ep}, 1)
	}, posagent.KindTransient},
	{"code 10 maintenance", func(e *env, ep string) {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: ep, Code: 10, Msg: "系統維護中"}, 1)
	}, posagent.KindTransient},
	{"code 18 database", func(e *env, ep string) {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: ep, Code: 18, Msg: "資料庫異常"}, 1)
	}, posagent.KindTransient},
	{"code 21 busy", func(e *env, ep string) {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: ep, Code: 21, Msg: "使用人數過多"}, 1)
	}, posagent.KindRateLimited},
	// Code 15 once: the client resyncs its clock and retries in the same call.
	{"code 15 once", func(e *env, ep string) {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: ep, Code: 15, Msg: "時間 錯誤"}, 1)
	}, ""},
	{"code 15 twice", func(e *env, ep string) {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: ep, Code: 15, Msg: "時間 錯誤"}, 2)
	}, posagent.KindClock},
	{"lost answer", func(e *env, ep string) {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultLoseAnswer, Endpoint: ep}, 1)
	}, posagent.KindTransient},
	{"latency", func(e *env, _ string) { e.srv.SetLatency(1500 * time.Millisecond) }, posagent.KindTransient},
	{"down", func(e *env, _ string) { e.srv.Down() }, posagent.KindTransient},
}

// TestFaultMatrix: every fault on every sync action, then retries as the sync
// loop makes them: exactly one result at the stand-in.
func TestFaultMatrix(t *testing.T) {
	for _, o := range matrixOps {
		for _, f := range matrixFaults {
			t.Run(o.name+"/"+f.name, func(t *testing.T) {
				e := newEnv(t, func(_ *amegotest.Options, c *amego.Config) {
					if c != nil {
						c.Timeout = 500 * time.Millisecond
					}
				})
				state := o.prepare(e)
				f.inject(e, o.endpoint)
				err := o.run(e, state)
				e.checkErr(err, f.want)
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

// TestLostLeaseNeverLeasesTwice: Amego leased the books but the answer was
// lost; the retry finds them in track_status and asks for no more.
func TestLostLeaseNeverLeasesTwice(t *testing.T) {
	e := newEnv(t)
	e.lease(1) // an earlier lease, known to the till
	e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultLoseAnswer, Endpoint: "track_get"}, 1)
	_, err := e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: e.period(), Booklets: 2})
	e.checkErr(err, posagent.KindTransient)
	if n := len(e.srv.Tracks()); n != 2 {
		t.Fatalf("the stand-in did not lease: %d tracks", n)
	}
	bs, err := e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: e.period(), Booklets: 2})
	if err != nil {
		t.Fatal(err)
	}
	tr := e.srv.Tracks()
	if len(tr) != 2 || len(bs) != 1 || bs[0].First != tr[1].Start || bs[0].Last != tr[1].End {
		t.Fatalf("stand-in tracks %+v, recovered %+v", tr, bs)
	}
	if n := e.srv.Count("track_get"); n != 2 {
		t.Fatalf("track_get called %d times, want 2", n)
	}
	// The next lease is a fresh one again.
	if b := e.lease(1); b.First != tr[1].End+1 {
		t.Fatalf("next lease %+v", b)
	}
	// A lost call that never reached Amego (down): the retry leases once.
	e.srv.Down()
	_, err = e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: e.period(), Booklets: 1})
	e.checkErr(err, posagent.KindTransient)
	e.srv.Up()
	e.lease(1)
	if n := len(e.srv.Tracks()); n != 4 {
		t.Fatalf("%d tracks after a lease that never arrived", n)
	}
}

// TestLostLeaseAmbiguous: another till leased meanwhile; which range is ours
// cannot be told, and nothing is guessed.
func TestLostLeaseAmbiguous(t *testing.T) {
	e := newEnv(t)
	other := newEnvOn(t, e.srv)
	e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultLoseAnswer, Endpoint: "track_get"}, 1)
	_, err := e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: e.period(), Booklets: 1})
	e.checkErr(err, posagent.KindTransient)
	other.lease(1)
	_, err = e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: e.period(), Booklets: 1})
	e.checkErr(err, posagent.KindConflict)
	if !strings.Contains(err.Error(), "back office") || len(e.srv.Tracks()) != 2 {
		t.Fatalf("error %v, tracks %+v", err, e.srv.Tracks())
	}
}

func newEnvOn(t *testing.T, srv *amegotest.Server) *env {
	c, err := amego.New(srv.Config())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	e.srv, e.c = srv, c
	return e
}

func TestLostUploadAnswerIsAdopted(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("LOST1")
	e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultLoseAnswer, Endpoint: "f0401_custom"}, 1)
	e.checkErr(e.c.Upload(e.ctx, inv), posagent.KindTransient)
	if len(e.srv.Invoices()) != 1 {
		t.Fatal("the stand-in did not keep the upload whose answer was lost")
	}
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if n := len(e.srv.Invoices()); n != 1 || !strings.Contains(e.logs.String(), "adopted") {
		t.Fatalf("%d invoices after retry", n)
	}
}

// TestNoSecretInLogsOrErrors drives successes and failures at debug level and
// scans every error and log line for the app key.
func TestNoSecretInLogsOrErrors(t *testing.T) {
	const wrongKey = "WRONG-app-key-123456"
	e := newEnv(t)
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	keep(e.c.Upload(e.ctx, e.sale("SEC1")))
	for _, f := range []amegotest.Fault{
		{Kind: amegotest.FaultMalformed}, {Kind: amegotest.FaultStatus, Status: 500}, {Kind: amegotest.FaultCode, Code: 21},
		{Kind: amegotest.FaultCode, Code: 16, Msg: "簽名錯誤"}, {Kind: amegotest.FaultCode, Code: 99, Msg: "第1筆 錯誤"},
		{Kind: amegotest.FaultLoseAnswer},
	} {
		e.srv.Inject(f, 1)
		keep(e.c.Upload(e.ctx, e.sale(fmt.Sprintf("SEC-%d-%d", f.Kind, f.Code))))
	}
	wrong := newEnv(t, func(_ *amegotest.Options, c *amego.Config) {
		if c != nil {
			c.AppKey = wrongKey
		}
	})
	keep(wrong.c.Upload(wrong.ctx, e.sale("SEC2")))
	if len(errs) < 7 {
		t.Fatalf("only %d failures were provoked", len(errs))
	}
	for _, err := range errs {
		for _, s := range []string{amego.TestAppKey, wrongKey} {
			if strings.Contains(err.Error(), s) || strings.Contains(fmt.Sprintf("%+v %#v", err, err), s) {
				t.Fatalf("error %q contains the key", err)
			}
		}
	}
	logs := e.logs.String() + wrong.logs.String()
	if !strings.Contains(logs, `"level":"DEBUG"`) || !strings.Contains(logs, "f0401_custom") {
		t.Fatal("the debug log is empty: the scan would prove nothing")
	}
	if strings.Contains(logs, wrongKey) {
		t.Fatal("a log line holds the app key")
	}
}

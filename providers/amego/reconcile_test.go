package amego_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/reconciletest"
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/providers/amego/amegotest"
)

var refOf = reconciletest.Ref

func (e *env) holdings(refs []posagent.DocRef) []posagent.Holding {
	e.t.Helper()
	return reconciletest.Ask(e.t, e.c, refs)
}

// A clean day: every document Amego was sent is found, accepted, and an
// allowance with Amego's amount.
func TestHoldingsCleanDay(t *testing.T) {
	e := newEnv(t)
	a, b, c := e.sale("R1"), e.sale("R2"), e.sale("R3")
	for _, inv := range []posagent.Invoice{a, b, c} {
		e.upload(inv)
	}
	e.checkErr(e.c.Void(e.ctx, b, voidOf(b)), "")
	al1, al2 := allowanceOf(c, "R3A1", 20), allowanceOf(c, "R3A2", 10)
	e.checkErr(e.c.Allow(e.ctx, c, al1), "")
	e.checkErr(e.c.Allow(e.ctx, c, al2), "")
	e.checkErr(e.c.VoidAllowance(e.ctx, c, al2, "打錯"), "")

	refs := []posagent.DocRef{
		refOf(posagent.DocInvoice, a, "", a.Total), refOf(posagent.DocInvoice, b, "", b.Total), refOf(posagent.DocVoid, b, "", b.Total),
		refOf(posagent.DocInvoice, c, "", c.Total), refOf(posagent.DocAllowance, c, al1.Number, 20),
		refOf(posagent.DocAllowance, c, al2.Number, 10), refOf(posagent.DocAllowanceVoid, c, al2.Number, 10),
	}
	before := len(e.srv.Requests())
	hs := e.holdings(refs)
	for i, h := range hs {
		if !h.Found || h.Acceptance != posagent.AcceptAccepted {
			t.Errorf("ref %d %s %s %s: found %v, acceptance %q (%s)", i, h.Ref.Kind, h.Ref.Number, h.Ref.AllowanceNumber, h.Found, h.Acceptance, h.Detail)
		}
	}
	if hs[0].HasAmount || hs[2].HasAmount {
		t.Error("invoice_status carries no amount, yet one was reported")
	}
	if !hs[4].HasAmount || hs[4].Amount != 20 || !hs[5].HasAmount || hs[5].Amount != 10 {
		t.Errorf("allowance amounts: %+v, %+v", hs[4], hs[5])
	}
	if !strings.Contains(hs[0].Detail, "type=C0401 status=99 (完成)") || !strings.Contains(hs[2].Detail, "C0501") {
		t.Errorf("details: %q, %q", hs[0].Detail, hs[2].Detail)
	}
	// One invoice_status for the three numbers, one invoice_query for c's allowances, nothing written.
	var endpoints []string
	for _, r := range e.srv.Requests()[before:] {
		endpoints = append(endpoints, r.Endpoint)
	}
	if got := strings.Join(endpoints, " "); strings.Count(got, "invoice_status") != 1 || strings.Count(got, "invoice_query") != 1 ||
		strings.Contains(got, "f0") || strings.Contains(got, "g0") {
		t.Errorf("requests: %s", got)
	}
}

// Each kind of difference the stand-in can produce is told apart.
func TestHoldingsDifferences(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(e *env, inv posagent.Invoice)
		ask     func(inv posagent.Invoice) posagent.DocRef
		found   bool
		accept  posagent.Acceptance
		details []string
	}{
		{"invoice dropped after answering OK", func(e *env, inv posagent.Invoice) {
			e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultForget, Endpoint: "f0401_custom"}, 1)
			e.upload(inv) // Amego answered OK
		}, func(inv posagent.Invoice) posagent.DocRef { return refOf(posagent.DocInvoice, inv, "", inv.Total) },
			false, posagent.AcceptUnknown, []string{"NOT_FOUND"}},
		{"void lost", func(e *env, inv posagent.Invoice) {
			e.upload(inv)
			e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultForget, Endpoint: "f0501"}, 1)
			e.checkErr(e.c.Void(e.ctx, inv, voidOf(inv)), "")
		}, func(inv posagent.Invoice) posagent.DocRef { return refOf(posagent.DocVoid, inv, "", inv.Total) },
			false, posagent.AcceptUnknown, []string{"type=C0401"}},
		{"allowance dropped", func(e *env, inv posagent.Invoice) {
			e.upload(inv)
			e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultForget, Endpoint: "g0401"}, 1)
			e.checkErr(e.c.Allow(e.ctx, inv, allowanceOf(inv, "DA1", 30)), "")
		}, func(inv posagent.Invoice) posagent.DocRef { return refOf(posagent.DocAllowance, inv, "DA1", 30) },
			false, posagent.AcceptUnknown, []string{"lists allowances []"}},
		{"allowance void lost", func(e *env, inv posagent.Invoice) {
			e.upload(inv)
			al := allowanceOf(inv, "DA2", 30)
			e.checkErr(e.c.Allow(e.ctx, inv, al), "")
			e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultForget, Endpoint: "g0501"}, 1)
			e.checkErr(e.c.VoidAllowance(e.ctx, inv, al, "打錯"), "")
		}, func(inv posagent.Invoice) posagent.DocRef { return refOf(posagent.DocAllowanceVoid, inv, "DA2", 30) },
			false, posagent.AcceptUnknown, []string{"type=G0401"}},
		{"invoice of an allowance not at Amego", func(e *env, inv posagent.Invoice) {},
			func(inv posagent.Invoice) posagent.DocRef { return refOf(posagent.DocAllowance, inv, "DA3", 30) },
			false, posagent.AcceptUnknown, []string{"not found"}},
		{"rejected by the platform", func(e *env, inv posagent.Invoice) {
			e.upload(inv)
			e.srv.SetStatus(string(inv.Number), 91)
		}, func(inv posagent.Invoice) posagent.DocRef { return refOf(posagent.DocInvoice, inv, "", inv.Total) },
			true, posagent.AcceptRejected, []string{"status=91 (錯誤)"}},
		{"on its way to the platform", func(e *env, inv posagent.Invoice) {
			e.upload(inv)
			e.srv.SetStatus(string(inv.Number), 32)
		}, func(inv posagent.Invoice) posagent.DocRef { return refOf(posagent.DocInvoice, inv, "", inv.Total) },
			true, posagent.AcceptPending, []string{"status=32 (處理完成)"}},
		{"void rejected", func(e *env, inv posagent.Invoice) {
			e.upload(inv)
			e.checkErr(e.c.Void(e.ctx, inv, voidOf(inv)), "")
			e.srv.SetStatus(string(inv.Number), 91)
		}, func(inv posagent.Invoice) posagent.DocRef { return refOf(posagent.DocVoid, inv, "", inv.Total) },
			true, posagent.AcceptRejected, []string{"type=C0501 status=91"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			inv := e.sale("D-" + strings.ReplaceAll(tt.name, " ", "-"))
			tt.setup(e, inv)
			h := e.holdings([]posagent.DocRef{tt.ask(inv)})[0]
			if h.Found != tt.found || h.Acceptance != tt.accept {
				t.Fatalf("found %v acceptance %q, want %v %q (%s)", h.Found, h.Acceptance, tt.found, tt.accept, h.Detail)
			}
			for _, d := range tt.details {
				if !strings.Contains(h.Detail, d) {
					t.Errorf("detail %q lacks %q", h.Detail, d)
				}
			}
		})
	}
}

// 250 numbers go in batches of StatusBatch, each number asked once even when
// its invoice and its void are both asked; the answers keep the order asked.
func TestHoldingsBatches(t *testing.T) {
	e := newEnv(t)
	held := map[posagent.InvoiceNumber]bool{}
	var refs []posagent.DocRef
	for i := 0; i < 250; i++ {
		inv := e.sale(fmt.Sprintf("B%03d", i))
		if i%25 == 0 {
			e.upload(inv)
			held[inv.Number] = true
		}
		refs = append(refs, refOf(posagent.DocInvoice, inv, "", inv.Total))
		if i%50 == 7 {
			refs = append(refs, refOf(posagent.DocVoid, inv, "", inv.Total))
		}
	}
	before := e.srv.Count("invoice_status")
	hs := e.holdings(refs)
	if calls := e.srv.Count("invoice_status") - before; calls != (250+amego.StatusBatch-1)/amego.StatusBatch {
		t.Fatalf("%d invoice_status calls for 250 numbers", calls)
	}
	for _, r := range e.srv.Requests() {
		if r.Endpoint == "invoice_status" && strings.Count(r.Data, "InvoiceNumber") > amego.StatusBatch {
			t.Fatalf("a batch of %d numbers", strings.Count(r.Data, "InvoiceNumber"))
		}
	}
	found := 0
	for _, h := range hs {
		want := held[h.Ref.Number] && h.Ref.Kind == posagent.DocInvoice
		if h.Found != want {
			t.Fatalf("%s %s: found %v, want %v", h.Ref.Kind, h.Ref.Number, h.Found, want)
		}
		if h.Found {
			found++
		}
	}
	if found != 10 {
		t.Fatalf("%d found, want 10", found)
	}
}

// When the question cannot be answered nothing is concluded: an error, never
// a Found=false. The app key appears in none of them.
func TestHoldingsFailures(t *testing.T) {
	tests := []struct {
		name  string
		fault *amegotest.Fault
		down  bool
		ref   func(inv posagent.Invoice) posagent.DocRef
		want  posagent.Kind
	}{
		{"down", nil, true, nil, posagent.KindTransient},
		{"HTTP 503", &amegotest.Fault{Kind: amegotest.FaultStatus, Endpoint: "invoice_status"}, false, nil, posagent.KindTransient},
		{"garbage", &amegotest.Fault{Kind: amegotest.FaultMalformed, Endpoint: "invoice_status"}, false, nil, posagent.KindTransient},
		{"bad signature", &amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: "invoice_status", Code: 16, Msg: "簽名 錯誤"}, false, nil, posagent.KindConfig},
		{"too many users", &amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: "invoice_status", Code: 21}, false, nil, posagent.KindRateLimited},
		{"a line missing", &amegotest.Fault{Kind: amegotest.FaultData, Endpoint: "invoice_status", Data: `[]`}, false, nil, posagent.KindTransient},
		{"not a list", &amegotest.Fault{Kind: amegotest.FaultData, Endpoint: "invoice_status", Data: `{"type":"C0401"}`}, false, nil, posagent.KindTransient},
		{"allowance past the query window", &amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: "invoice_query", Code: 51, Msg: "超過可查詢期間"}, false,
			func(inv posagent.Invoice) posagent.DocRef { return refOf(posagent.DocAllowance, inv, "X1", 10) }, posagent.KindNotFound},
		{"allowance query pending", &amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: "invoice_query", Code: 52}, false,
			func(inv posagent.Invoice) posagent.DocRef { return refOf(posagent.DocAllowance, inv, "X1", 10) }, posagent.KindTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			inv := e.sale("F1")
			e.upload(inv)
			ref := refOf(posagent.DocInvoice, inv, "", inv.Total)
			if tt.ref != nil {
				ref = tt.ref(inv)
			}
			if tt.fault != nil {
				e.srv.Inject(*tt.fault, 1)
			}
			if tt.down {
				e.srv.Down()
			}
			hs, err := e.c.Holdings(e.ctx, []posagent.DocRef{ref})
			if hs != nil {
				t.Fatalf("holdings %+v beside the error", hs)
			}
			e.checkErr(err, tt.want)
			if strings.Contains(err.Error(), amego.TestAppKey) {
				t.Fatal("the error holds the app key")
			}
		})
	}
	t.Run("wrong app key", func(t *testing.T) {
		const wrongKey = "wrong-app-key-0123456789"
		e := newEnv(t, func(_ *amegotest.Options, c *amego.Config) {
			if c != nil {
				c.AppKey = wrongKey
			}
		})
		_, err := e.c.Holdings(e.ctx, []posagent.DocRef{{Kind: posagent.DocInvoice, Number: "ZZ10000000"}})
		e.checkErr(err, posagent.KindConfig)
		if strings.Contains(err.Error(), wrongKey) || strings.Contains(e.logs.String(), wrongKey) {
			t.Fatal("the app key leaked")
		}
	})
	t.Run("bad refs", func(t *testing.T) {
		e := newEnv(t)
		for _, ref := range []posagent.DocRef{{Kind: posagent.DocInvoice, Number: "bad"},
			{Kind: "receipt", Number: "ZZ10000000"}, {Kind: posagent.DocAllowance, Number: "ZZ10000000"}} {
			_, err := e.c.Holdings(e.ctx, []posagent.DocRef{ref})
			e.checkErr(err, posagent.KindInvalid)
		}
		if n := len(e.srv.Requests()); n != 0 {
			t.Fatalf("%d requests for refs refused before asking", n)
		}
	})
}

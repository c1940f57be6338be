package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/reconciletest"
	"github.com/posagent/posagent/providers/bridge"
	"github.com/posagent/posagent/providers/bridge/bridgetest"
)

var refOf = reconciletest.Ref

func (e *env) holdings(refs []posagent.DocRef) []posagent.Holding {
	e.t.Helper()
	return reconciletest.Ask(e.t, e.c, refs)
}

func (e *env) must(err error) {
	e.t.Helper()
	e.checkErr(err, "")
}

// The status call over both transports: a clean set found with amounts, and
// each difference the receiver can produce told apart.
func TestStatusHoldings(t *testing.T) {
	for _, transport := range transports {
		t.Run(transport, func(t *testing.T) {
			e := newEnv(t, transport)
			a, b, c, d, v := e.sale("S1"), e.sale("S2"), e.sale("S3"), e.sale("S4"), e.sale("S5")
			for _, inv := range []posagent.Invoice{a, b, c, v} {
				e.must(e.c.Upload(e.ctx, inv))
			}
			e.must(e.c.Void(e.ctx, b, voidOf(b)))
			al1, al2 := allowanceOf(c, "C-A1"), allowanceOf(c, "C-A2")
			al2.Total, al2.TaxAmount = 30, 1
			e.must(e.c.Allow(e.ctx, c, al1))
			e.must(e.c.Allow(e.ctx, c, al2))
			e.must(e.c.VoidAllowance(e.ctx, c, al2, "打錯"))
			// d is dropped by the receiver after it answered done; v's void is lost.
			e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultForget, DocKind: bridge.KindInvoice}, 1)
			e.must(e.c.Upload(e.ctx, d))
			e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultForget, DocKind: bridge.KindVoid}, 1)
			e.must(e.c.Void(e.ctx, v, voidOf(v)))
			if !e.srv.SetAcceptance("invoice:"+testSeller+":"+a.Period().Code()+":"+string(a.Number), posagent.AcceptRejected,
				"E0103 發票明細加總與總金額不符 "+credPID) {
				t.Fatal("a's key is not stored")
			}
			e.srv.SetAcceptance("invoice:"+testSeller+":"+c.Period().Code()+":"+string(c.Number), posagent.AcceptAccepted, "C")

			refs := []posagent.DocRef{
				refOf(posagent.DocInvoice, a, "", a.Total), refOf(posagent.DocInvoice, b, "", b.Total), refOf(posagent.DocVoid, b, "", b.Total),
				refOf(posagent.DocInvoice, c, "", c.Total), refOf(posagent.DocAllowance, c, al1.Number, al1.Total),
				refOf(posagent.DocAllowance, c, al2.Number, al2.Total), refOf(posagent.DocAllowanceVoid, c, al2.Number, al2.Total),
				refOf(posagent.DocInvoice, d, "", d.Total), refOf(posagent.DocInvoice, v, "", v.Total), refOf(posagent.DocVoid, v, "", v.Total),
			}
			// An allowance made in a later period than its invoice: its key
			// names the invoice's period, the receiver matches it by numbers.
			late := refOf(posagent.DocAllowance, c, al1.Number, al1.Total)
			late.IssuedAt = c.IssuedAt.AddDate(0, 3, 0)
			refs = append(refs, late)
			hs := e.holdings(refs)
			type want struct {
				found  bool
				amount int64 // -1: none
				accept posagent.Acceptance
				detail string
			}
			wants := []want{
				{true, a.Total, posagent.AcceptRejected, "E0103"}, {true, b.Total, "", "voided at the receiver"}, {true, -1, "", ""},
				{true, c.Total, posagent.AcceptAccepted, "C"}, {true, 50, "", ""},
				{true, 30, "", "voided at the receiver"}, {true, -1, "", ""},
				{false, -1, "", ""}, {true, v.Total, "", ""}, {false, -1, "", ""},
				{true, 50, "", ""},
			}
			for i, w := range wants {
				h := hs[i]
				if h.Found != w.found || h.Acceptance != w.accept || (w.amount < 0) == h.HasAmount || (h.HasAmount && h.Amount != w.amount) ||
					!strings.Contains(h.Detail, w.detail) {
					t.Errorf("ref %d (%s %s %s): %+v, want %+v", i, h.Ref.Kind, h.Ref.Number, h.Ref.AllowanceNumber, h, w)
				}
			}
			if strings.Contains(hs[0].Detail, credPID) {
				t.Fatal("a credential the receiver echoed reached the detail")
			}
			// The status call stores nothing and writes nothing.
			for _, doc := range e.srv.Documents() {
				if doc.Kind == bridge.KindStatus {
					t.Fatal("the receiver stored a status question")
				}
			}
		})
	}
}

// A receiver or program without the status call: an error carrying
// posagent.ErrNotReconcilable, never a Found=false.
func TestStatusUnsupported(t *testing.T) {
	ref := func(e *env) []posagent.DocRef {
		inv := e.sale("U1")
		return []posagent.DocRef{refOf(posagent.DocInvoice, inv, "", inv.Total)}
	}
	check := func(e *env, c *bridge.Client, refs []posagent.DocRef, words string) {
		t.Helper()
		hs, err := c.Holdings(e.ctx, refs)
		e.checkErr(err, posagent.KindConfig)
		if hs != nil || !errors.Is(err, posagent.ErrNotReconcilable) || !strings.Contains(err.Error(), words) {
			t.Fatalf("holdings %v, error %v", hs, err)
		}
	}
	for _, transport := range transports {
		t.Run(transport+" receiver answers 501", func(t *testing.T) {
			e := newEnv(t, transport, func(o *bridgetest.Options, _ *bridge.Config) {
				if o != nil {
					o.NoStatus = true
				}
			})
			words := "HTTP 501"
			if transport == bridge.TransportExec {
				words = "exit 11"
			}
			check(e, e.c, ref(e), words)
		})
	}
	e := &env{t: t, ctx: context.Background()}
	for _, tt := range []struct{ args, words string }{
		{"-exit 11", "exit 11"}, {"-exit 64 -stderr unknown-kind", "exit 64"}, {"-exit 0", "without documents"},
		{`-exit 0 -answer {"message":"stored"}`, "without documents"},
	} {
		t.Run("exec "+tt.args, func(t *testing.T) {
			e.t = t
			c := execClient(t, 10*time.Second, strings.Fields(tt.args)...)
			check(e, c, ref(e), tt.words)
		})
	}
	// Exit 11 for a document kind is a set-up error, not "cannot be reconciled".
	t.Run("exec exit 11 on an upload", func(t *testing.T) {
		e.t = t
		err := execClient(t, 10*time.Second, "-exit", "11").Upload(e.ctx, e.sale("U2"))
		e.checkErr(err, posagent.KindConfig)
		if errors.Is(err, posagent.ErrNotReconcilable) {
			t.Fatal("an upload error says the provider cannot be reconciled")
		}
	})
}

// 250 refs go in batches of MaxStatusBatch and come back in order.
func TestStatusBatches(t *testing.T) {
	e := newEnv(t, bridge.TransportHTTP)
	held := map[posagent.InvoiceNumber]bool{}
	var refs []posagent.DocRef
	for i := 0; i < 250; i++ {
		inv := e.sale(fmt.Sprintf("B%03d", i))
		if i%25 == 0 {
			e.must(e.c.Upload(e.ctx, inv))
			held[inv.Number] = true
		}
		refs = append(refs, refOf(posagent.DocInvoice, inv, "", inv.Total))
	}
	hs := e.holdings(refs)
	calls := 0
	for _, r := range e.srv.Requests() {
		if r.Kind == string(bridge.KindStatus) {
			calls++
		}
	}
	if want := (250 + bridge.MaxStatusBatch - 1) / bridge.MaxStatusBatch; calls != want {
		t.Fatalf("%d status calls, want %d", calls, want)
	}
	for _, h := range hs {
		if h.Found != held[h.Ref.Number] {
			t.Fatalf("%s: found %v", h.Ref.Number, h.Found)
		}
	}
}

// When the question cannot be answered, an error and nothing concluded; no
// secret in it.
func TestStatusFailures(t *testing.T) {
	tests := []struct {
		name string
		run  func(e *env) *bridge.Client
		want posagent.Kind
	}{
		{"receiver down", func(e *env) *bridge.Client { e.srv.Down(); return e.c }, posagent.KindTransient},
		{"HTTP 503", func(e *env) *bridge.Client {
			e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultStatus, DocKind: bridge.KindStatus}, 1)
			return e.c
		}, posagent.KindTransient},
		{"garbage", func(e *env) *bridge.Client {
			e.srv.Inject(bridgetest.Fault{Kind: bridgetest.FaultGarbage, DocKind: bridge.KindStatus}, 1)
			return e.c
		}, posagent.KindTransient},
		{"wrong secret", func(e *env) *bridge.Client {
			cfg := e.cfg
			cfg.Secret = strings.Repeat("w", bridge.MinSecretLen)
			c, err := bridge.New(cfg)
			e.must(err)
			return c
		}, posagent.KindAuth},
		{"a line missing", func(e *env) *bridge.Client {
			return execClient(e.t, 10*time.Second, "-exit", "0", "-answer", `{"documents":[{"key":"other","found":true}]}`)
		}, posagent.KindTransient},
		{"an acceptance outside the contract", func(e *env) *bridge.Client {
			return execClient(e.t, 10*time.Second, "-exit", "0", "-answer", `{"documents":[{"key":"k","found":true,"acceptance":"ok"}]}`)
		}, posagent.KindTransient},
		{"program fails", func(e *env) *bridge.Client {
			return execClient(e.t, 10*time.Second, "-exit", "70", "-stderr", "panic "+credRID)
		}, posagent.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, bridge.TransportHTTP)
			inv := e.sale("F1")
			e.must(e.c.Upload(e.ctx, inv))
			c := tt.run(e)
			hs, err := c.Holdings(e.ctx, []posagent.DocRef{refOf(posagent.DocInvoice, inv, "", inv.Total)})
			if hs != nil {
				t.Fatalf("holdings %+v beside the error", hs)
			}
			e.checkErr(err, tt.want)
			if errors.Is(err, posagent.ErrNotReconcilable) {
				t.Fatal("a failed question reported as a provider that cannot be reconciled")
			}
		})
	}
	t.Run("bad refs", func(t *testing.T) {
		e := newEnv(t, bridge.TransportHTTP)
		inv := e.sale("F2")
		other := refOf(posagent.DocInvoice, inv, "", 1)
		other.SellerTaxID = "22099131"
		noTime := refOf(posagent.DocInvoice, inv, "", 1)
		noTime.IssuedAt = time.Time{}
		for _, r := range []posagent.DocRef{other, noTime, refOf(posagent.DocAllowance, inv, "", 1), refOf("receipt", inv, "", 1)} {
			_, err := e.c.Holdings(e.ctx, []posagent.DocRef{r})
			e.checkErr(err, posagent.KindInvalid)
			if !strings.HasPrefix(posagent.ErrorField(err), "refs[0].") {
				t.Fatalf("field %q", posagent.ErrorField(err))
			}
		}
		if n := len(e.srv.Requests()); n != 0 {
			t.Fatalf("%d requests for refs refused before asking", n)
		}
	})
}

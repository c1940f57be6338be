package ecpay_test

import (
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

// Holdings against the stand-in: found, voided, amounts, the platform's
// verdict, and an allowance told from the invoice's remaining amount.
func TestHoldings(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("S0300")
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatal(err)
	}
	a := allowanceOf(inv, "A1")
	if err := e.c.Allow(e.ctx, inv, a); err != nil {
		t.Fatal(err)
	}
	voided := e.sale("S0301")
	if err := e.c.Upload(e.ctx, voided); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Void(e.ctx, voided, voidOf(voided)); err != nil {
		t.Fatal(err)
	}
	never := e.sale("S0302")
	e.srv.SetTurnkeyStatus(string(voided.Number), "G")
	left := inv.Total - a.Total

	ref := func(kind posagent.DocKind, i posagent.Invoice, amount, remaining int64) posagent.DocRef {
		return posagent.DocRef{Kind: kind, Number: i.Number, SaleID: i.SaleID, IssuedAt: i.IssuedAt, Amount: amount, Remaining: remaining}
	}
	refs := []posagent.DocRef{
		ref(posagent.DocInvoice, inv, inv.Total, left),
		ref(posagent.DocAllowance, inv, a.Total, left),          // landed
		ref(posagent.DocAllowance, inv, 7, left-7),              // ECPay holds 7 more: this one is missing
		ref(posagent.DocAllowanceVoid, inv, a.Total, inv.Total), // the void did not land
		ref(posagent.DocInvoice, voided, voided.Total, voided.Total),
		ref(posagent.DocVoid, voided, 0, voided.Total),
		ref(posagent.DocInvoice, never, never.Total, never.Total),
		ref(posagent.DocVoid, never, 0, never.Total),
	}
	before := len(e.srv.Requests())
	hs, err := e.c.Holdings(e.ctx, refs)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Requests()) - before; n != 3 {
		t.Fatalf("%d GetIssue calls for 3 invoices", n)
	}
	for i, want := range []struct {
		found      bool
		amount     int64
		acceptance posagent.Acceptance
	}{
		{true, inv.Total, posagent.AcceptAccepted},
		{true, a.Total, ""},
		{false, 7, ""},
		{false, 0, ""},
		{true, voided.Total, posagent.AcceptPending},
		{true, 0, ""},
		{false, 0, ""},
		{false, 0, ""},
	} {
		h := hs[i]
		if h.Found != want.found || h.Amount != want.amount || h.Acceptance != want.acceptance || h.Ref != refs[i] {
			t.Errorf("holding %d (%s %s) = %+v, want %+v", i, refs[i].Kind, refs[i].Number, h, want)
		}
	}
	if !hs[0].HasRemaining || hs[0].Remaining != left || !strings.Contains(hs[0].Detail, "IIS_Turnkey_Status=C") {
		t.Errorf("invoice holding %+v", hs[0])
	}

	// A failure to ask is an error, not "not found".
	e.srv.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultStatus, Endpoint: "GetIssue", Status: 503}, 10)
	if _, err := e.c.Holdings(e.ctx, refs[:1]); err == nil || posagent.ErrorKind(err) == posagent.KindNotFound {
		t.Fatalf("Holdings with ECPay down: %v", err)
	}
}

// The verdict: C accepted, E rejected, G/P pending; absent is unknown [U].
func TestHoldingsVerdicts(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("S0310")
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatal(err)
	}
	for status, want := range map[string]posagent.Acceptance{
		"C": posagent.AcceptAccepted, "E": posagent.AcceptRejected, "G": posagent.AcceptPending, "P": posagent.AcceptPending,
		"": posagent.AcceptUnknown, "X": posagent.AcceptUnknown, "e": posagent.AcceptRejected,
	} {
		e.srv.SetTurnkeyStatus(string(inv.Number), status)
		hs, err := e.c.Holdings(e.ctx, []posagent.DocRef{{Kind: posagent.DocInvoice, Number: inv.Number, SaleID: inv.SaleID, IssuedAt: inv.IssuedAt, Amount: inv.Total}})
		if err != nil {
			t.Fatal(err)
		}
		if hs[0].Acceptance != want {
			t.Errorf("IIS_Turnkey_Status %q: %q, want %q", status, hs[0].Acceptance, want)
		}
	}
}

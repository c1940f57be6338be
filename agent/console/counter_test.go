package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
)

// The invoice pages of a reissue link to each other, and their events say
// what happened.
func TestReissueOnInvoicePages(t *testing.T) {
	r := newRig(t)
	old := r.sell("re-1", 120)
	var fixed posagent.Invoice
	if err := fixed.UnmarshalJSON([]byte(`{"sale_id":"re-1b","buyer":{"tax_id":"53212539"},"items":[{"name":"拿鐵","quantity":1,"unit_price":120}]}`)); err != nil {
		t.Fatal(err)
	}
	fixed, err := r.agent.PrepareSale(fixed)
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.agent.Reissue(context.Background(), old.Number, "買方要統編", fixed, agent.SaleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.signIn(r.client, testToken)
	a := r.get("/invoices/" + string(old.Number))
	wantStatus(t, a, http.StatusOK)
	for _, want := range []string{`id="replaced-by">` + res.Invoice.Number.Printed(), "作廢重開", "replaced by " + string(res.Invoice.Number)} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the old invoice's page lacks %q", want)
		}
	}
	b := r.get("/invoices/" + string(res.Invoice.Number))
	wantStatus(t, b, http.StatusOK)
	for _, want := range []string{`id="replaces">` + old.Number.Printed(), "重開自", "replaces " + string(old.Number)} {
		if !strings.Contains(b.body, want) {
			t.Errorf("the new invoice's page lacks %q", want)
		}
	}
	if strings.Contains(b.body, `http-equiv="refresh"`) {
		t.Error("a printed invoice's page refreshes itself")
	}
}

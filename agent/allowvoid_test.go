package agent

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
)

// numberingProvider is a fakeProvider that numbers allowances
// (posagent.AllowanceIssuer) and records the allowance each void was given.
type numberingProvider struct {
	*fakeProvider
	mu     sync.Mutex
	number string // what AllowNumbered answers
	voided []posagent.Allowance
}

func (p *numberingProvider) AllowNumbered(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) (string, error) {
	if err := p.do(ctx, JobAllowance, inv.Number); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.number, nil
}

func (p *numberingProvider) VoidAllowance(ctx context.Context, inv posagent.Invoice, a posagent.Allowance, r string) error {
	p.mu.Lock()
	p.voided = append(p.voided, a)
	p.mu.Unlock()
	return p.fakeProvider.VoidAllowance(ctx, inv, a, r)
}

// runAll claims and runs due jobs until none is left.
func runAll(t *testing.T, h *harness) {
	t.Helper()
	for range 10 {
		jobs, err := h.store.Claim(context.Background(), nil, 10, time.Minute)
		require.NoError(t, err)
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			h.agent.runJob(context.Background(), h.agent.defaultSeller(), j)
		}
	}
	t.Fatal("jobs kept coming")
}

// The sync loop keeps the provider's allowance number and gives it back to
// void the allowance.
func TestSyncKeepsTheProviderAllowanceNumber(t *testing.T) {
	c := taipeiClock()
	np := &numberingProvider{fakeProvider: newFakeProvider(c.Now), number: "2026112100000007"}
	h := newHarness(t, c.Now, func(o *Options) { o.Provider = np })
	res := sell(t, h, "s-1")
	n := res.Invoice.Number
	code, al := h.do(t, "POST", "/v1/invoices/"+string(n)+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":30}]}`)
	require.Equal(t, http.StatusCreated, code, "%v", al)
	// Voided at once: the void waits for the allowance, then carries its number.
	code, v := h.do(t, "POST", "/v1/invoices/"+string(n)+"/allowances/"+string(n)+"-01/void", `{"reason":"開錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	require.Equal(t, "voiding", v["state"])
	runAll(t, h)

	var kinds []string
	for _, c := range np.callList() {
		kinds = append(kinds, c.Kind)
	}
	require.Equal(t, []string{JobUpload, JobAllowance, JobVoidAllowance}, kinds)
	require.Len(t, np.voided, 1)
	require.Equal(t, "2026112100000007", np.voided[0].ProviderNumber)

	code, got := h.do(t, "GET", "/v1/invoices/"+string(n), "")
	require.Equal(t, http.StatusOK, code)
	als := got["allowances"].([]any)
	require.Len(t, als, 1)
	a0 := als[0].(map[string]any)
	require.Equal(t, "2026112100000007", a0["provider_number"])
	require.Equal(t, "voided", a0["state"])
	require.Equal(t, "開錯", a0["void"].(map[string]any)["reason"])
	require.Equal(t, float64(res.Invoice.Total), got["remaining"])
}

// An allowance the provider holds without a number (adopted after a lost
// answer) cannot be voided through it: the void job goes dead at once with a
// reason for a person, and the provider is not asked.
func TestVoidOfAnAllowanceWithoutProviderNumberIsDead(t *testing.T) {
	c := taipeiClock()
	np := &numberingProvider{fakeProvider: newFakeProvider(c.Now)} // answers no number
	h := newHarness(t, c.Now, func(o *Options) { o.Provider = np })
	n := sell(t, h, "s-1").Invoice.Number
	al, err := h.agent.AllowInvoice(context.Background(), posagent.Allowance{InvoiceNumber: n,
		Items: []posagent.Item{{Name: "拿鐵", Quantity: posagent.DecimalFromInt(1), UnitPrice: posagent.DecimalFromInt(30), Amount: posagent.DecimalFromInt(30)}}, Total: 30})
	require.NoError(t, err)
	runAll(t, h)
	_, err = h.agent.VoidAllowance(context.Background(), n, al.Number, "開錯")
	require.NoError(t, err)
	runAll(t, h)
	require.Empty(t, np.voided, "the provider was asked to void without the number")
	dead, err := h.store.Jobs(context.Background(), StateDead, 100)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, JobVoidAllowance, dead[0].Kind)
	require.Contains(t, dead[0].LastError, "fake did not return the allowance number of "+al.Number+"; void it in the fake back office")
	rec, err := h.store.Invoice(context.Background(), n)
	require.NoError(t, err)
	require.Equal(t, "void_dead", allowanceView(rec.Allowances[0]).State)
	require.Contains(t, h.logs.String(), "did not return its number")
}

// A provider that does not number allowances voids them by our number.
func TestVoidAllowanceWithoutNumberingProvider(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	n := sell(t, h, "s-1").Invoice.Number
	code, _ := h.do(t, "POST", "/v1/invoices/"+string(n)+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":30}]}`)
	require.Equal(t, http.StatusCreated, code)
	code, v := h.do(t, "POST", "/v1/invoices/"+string(n)+"/allowances/"+string(n)+"-01/void", `{"reason":"開錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	runAll(t, h)
	require.Equal(t, 1, h.provider.accepted[JobVoidAllowance+"/"+string(n)])
	_, got := h.do(t, "GET", "/v1/invoices/"+string(n), "")
	a0 := got["allowances"].([]any)[0].(map[string]any)
	require.Equal(t, "voided", a0["state"])
	require.Equal(t, "", a0["provider_number"])
	// The invoice can be voided once its allowances are.
	code, v = h.do(t, "POST", "/v1/invoices/"+string(n)+"/void", `{"reason":"打錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
}

func TestVoidAllowanceAPIErrors(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	n := string(sell(t, h, "s-1").Invoice.Number)
	code, _ := h.do(t, "POST", "/v1/invoices/"+n+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":30}]}`)
	require.Equal(t, http.StatusCreated, code)
	other := string(sell(t, h, "s-2").Invoice.Number)
	path := "/v1/invoices/" + n + "/allowances/" + n + "-01/void"
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, field              string
	}{
		{"unknown invoice", "POST", "/v1/invoices/ZZ99999999/allowances/x/void", `{"reason":"r"}`, 404, "not_found", "number"},
		{"unknown allowance", "POST", "/v1/invoices/" + n + "/allowances/nope/void", `{"reason":"r"}`, 404, "not_found", "allowance"},
		{"allowance of another invoice", "POST", "/v1/invoices/" + other + "/allowances/" + n + "-01/void", `{"reason":"r"}`, 404, "not_found", "allowance"},
		{"no reason", "POST", path, `{}`, 422, "invalid", "reason"},
		{"reason too long", "POST", path, `{"reason":"一二三四五六七八九十一二三四五六七八九十一"}`, 422, "invalid", "reason"},
		{"unknown field", "POST", path, `{"reason":"r","extra":1}`, 400, "malformed", "extra"},
		{"GET", "GET", path, "", 405, "method_not_allowed", ""},
		{"bad invoice number", "POST", "/v1/invoices/nope/allowances/x/void", `{"reason":"r"}`, 400, "malformed", "number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := h.do(t, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, code, "%v", body)
			if tc.code != "" {
				require.Equal(t, tc.code, body["code"], "%v", body)
			}
			require.Equal(t, tc.field, fieldOf(body), "%v", body)
			require.NotEmpty(t, body["message"])
		})
	}
	code, body := h.do(t, "POST", path, `{"reason":"開錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", body)
	code, body = h.do(t, "POST", path, `{"reason":"開錯"}`)
	require.Equal(t, http.StatusConflict, code, "%v", body)
	require.Equal(t, "conflict", body["code"])
	require.Equal(t, "allowance", body["field"])
}

func fieldOf(body map[string]any) string {
	f, _ := body["field"].(string)
	return f
}

package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
	"github.com/posagent/posagent/providers/fake"
	"github.com/posagent/posagent/queue"
)

// allowanceOf reads one allowance of an invoice through the API.
func (e *e2e) allowanceOf(number string, i int) map[string]any {
	e.t.Helper()
	code, inv := e.call("GET", "/v1/invoices/"+number, "")
	require.Equal(e.t, http.StatusOK, code, "%v", inv)
	als := inv["allowances"].([]any)
	require.Greater(e.t, len(als), i, "%v", inv)
	return als[i].(map[string]any)
}

// Sale → upload → allowance → void of the allowance, through the API, the
// store, the real ECPay client and the stand-in: ECPay's allowance number is
// kept and given back, and the stand-in ends with the allowance voided.
func TestAllowanceVoidAtECPay(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	n := e.sell("allow-1", 200)["number"].(string)
	e.waitUploaded(10 * time.Second)

	code, al := e.call("POST", "/v1/invoices/"+n+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":50}],"reason":"少糖"}`)
	require.Equal(t, http.StatusCreated, code, "%v", al)
	e.waitUploaded(10 * time.Second)
	a0 := e.allowanceOf(n, 0)
	require.Equal(t, "uploaded", a0["state"])
	held := e.stand.Allowances()
	require.Len(t, held, 1)
	require.Equal(t, held[0].Number, a0["provider_number"], "the agent did not keep ECPay's IA_Allow_No")
	require.False(t, held[0].Voided)

	code, v := e.call("POST", "/v1/invoices/"+n+"/allowances/"+al["number"].(string)+"/void", `{"reason":"開錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	e.waitUploaded(10 * time.Second)
	require.Equal(t, "voided", e.allowanceOf(n, 0)["state"])
	held = e.stand.Allowances()
	require.Len(t, held, 1)
	require.True(t, held[0].Voided, "the stand-in still holds the allowance live")

	// With its allowance voided, the invoice itself can be voided.
	code, v = e.call("POST", "/v1/invoices/"+n+"/void", `{"reason":"打錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	e.waitUploaded(10 * time.Second)
	inv, ok := e.stand.Invoice(n)
	require.True(t, ok)
	require.True(t, inv.Voided)
}

// The allowance's answer is lost; the retry adopts it without ECPay's number.
// Its void then goes dead at once with a reason for a person, without looping.
func TestAllowanceAdoptedWithoutNumberCannotBeVoided(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	n := e.sell("allow-lost", 200)["number"].(string)
	e.waitUploaded(10 * time.Second)
	e.stand.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultLoseAnswer, Endpoint: "Allowance"}, 1)
	code, al := e.call("POST", "/v1/invoices/"+n+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":50}]}`)
	require.Equal(t, http.StatusCreated, code, "%v", al)
	e.waitUploaded(15 * time.Second)
	a0 := e.allowanceOf(n, 0)
	require.Equal(t, "uploaded", a0["state"])
	require.Equal(t, "", a0["provider_number"])
	require.Len(t, e.stand.Allowances(), 1, "the lost answer made a second allowance")

	code, v := e.call("POST", "/v1/invoices/"+n+"/allowances/"+al["number"].(string)+"/void", `{"reason":"開錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	require.Eventually(t, func() bool { return e.allowanceOf(n, 0)["state"] == "void_dead" }, 10*time.Second, 20*time.Millisecond)
	a0 = e.allowanceOf(n, 0)
	require.Contains(t, a0["void"].(map[string]any)["upload"].(map[string]any)["error"],
		"ECPay did not return the allowance number of "+al["number"].(string)+"; void it in the ECPay back office")
	code, jobs := e.call("GET", "/v1/jobs?state=dead", "")
	require.Equal(t, http.StatusOK, code, "%v", jobs)
	require.False(t, e.stand.Allowances()[0].Voided)
	for _, r := range e.stand.Requests() {
		require.NotEqual(t, "AllowanceInvalid", r.Endpoint, "the agent asked ECPay to void without the number")
	}
}

// The same through the fake provider (which numbers allowances too) on the
// real store, with a lost answer on the allowance and on its void: the retry
// gets the same number back and the void reaches the fake once.
func TestAllowanceVoidAtFakeProvider(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.DefaultConfig()
	cfg.Terminal = config.Terminal{SellerTaxID: "24634102", SellerName: "測試商店", MachineID: e2eMachine}
	cfg.QR.Key = e2eQRKey
	cfg.Provider.Name = "fake"
	cfg.Store.Path = filepath.Join(dir, "posagent.db")
	cfg.API.Token = e2eToken
	cfg.Sync.BackoffBase = config.Duration{Duration: 10 * time.Millisecond}
	cfg.Sync.BackoffCap = config.Duration{Duration: 50 * time.Millisecond}
	cfg.Booklets.LowWater = 0
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	kit, err := agent.NewProofKit(cfg, log)
	require.NoError(t, err)
	store, err := queue.Open(cfg.Store.Path, queue.Options{Logger: log})
	require.NoError(t, err)
	_, err = store.AddBooklet(ctx, posagent.Booklet{Track: "FK", First: 0, Last: 49, Period: posagent.PeriodOf(time.Now())})
	require.NoError(t, err)
	prov := fake.New(fake.Options{})
	prov.LoseNext(fake.Allow, 1)
	prov.LoseNext(fake.VoidAllowance, 1)
	a, err := agent.New(agent.Options{Config: cfg, Store: &agent.QueueStore{S: store}, Printer: discardPrinter{},
		Render: kit.Render, Coder: kit.Coder, Provider: prov, Logger: log, PollInterval: 10 * time.Millisecond,
		ShutdownGrace: time.Second})
	require.NoError(t, err)
	runCtx, cancel := context.WithCancel(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Serve(runCtx, ln) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	e := &e2e{t: t, store: store, base: "http://" + ln.Addr().String(), client: &http.Client{Timeout: 10 * time.Second}}

	n := e.sell("fake-allow", 200)["number"].(string)
	code, al := e.call("POST", "/v1/invoices/"+n+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":50}]}`)
	require.Equal(t, http.StatusCreated, code, "%v", al)
	e.waitUploaded(10 * time.Second)
	rec, ok := prov.Invoice(posagent.InvoiceNumber(n))
	require.True(t, ok)
	require.Len(t, rec.Allowances, 1)
	require.Equal(t, rec.Allowances[0].ProviderNumber, e.allowanceOf(n, 0)["provider_number"])

	code, v := e.call("POST", "/v1/invoices/"+n+"/allowances/"+al["number"].(string)+"/void", `{"reason":"開錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	e.waitUploaded(10 * time.Second)
	require.Equal(t, "voided", e.allowanceOf(n, 0)["state"])
	rec, _ = prov.Invoice(posagent.InvoiceNumber(n))
	require.True(t, rec.Allowances[0].Voided)
	require.Len(t, rec.Allowances, 1)
	require.Len(t, prov.CallsOf(fake.Allow), 2, "the lost allowance answer was not retried")
	require.Len(t, prov.CallsOf(fake.VoidAllowance), 2, "the lost void answer was not retried")
}

// After the back office: the dead void is resolved by hand with a note, and
// the invoice's own void, queued behind it, goes to ECPay.
func TestDeadAllowanceVoidResolvedByHand(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	n := e.sell("allow-resolve", 200)["number"].(string)
	e.waitUploaded(10 * time.Second)
	e.stand.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultLoseAnswer, Endpoint: "Allowance"}, 1)
	code, al := e.call("POST", "/v1/invoices/"+n+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":50}]}`)
	require.Equal(t, http.StatusCreated, code, "%v", al)
	code, _ = e.call("POST", "/v1/invoices/"+n+"/allowances/"+al["number"].(string)+"/void", `{"reason":"開錯"}`)
	require.Equal(t, http.StatusAccepted, code)
	require.Eventually(t, func() bool { return e.allowanceOf(n, 0)["state"] == "void_dead" }, 10*time.Second, 20*time.Millisecond)
	code, v := e.call("POST", "/v1/invoices/"+n+"/void", `{"reason":"退貨"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)

	code, jobs := e.call("GET", "/v1/jobs?state=dead", "")
	require.Equal(t, http.StatusOK, code)
	list := jobs["jobs"].([]any)
	require.Len(t, list, 1)
	id := int64(list[0].(map[string]any)["id"].(float64))
	// The person voids it in ECPay's back office, then tells posagent.
	require.True(t, e.stand.VoidAllowanceByHand(e.stand.Allowances()[0].Number))
	path := fmt.Sprintf("/v1/jobs/%d/resolve", id)
	code, body := e.call("POST", path, `{}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", body)
	require.Equal(t, "note", body["field"])
	code, body = e.call("POST", path, `{"note":"voided in the ECPay back office by 王店長"}`)
	require.Equal(t, http.StatusOK, code, "%v", body)
	code, body = e.call("POST", path, `{"note":"again"}`)
	require.Equal(t, http.StatusConflict, code, "%v", body)

	e.waitUploaded(10 * time.Second)
	inv, ok := e.stand.Invoice(n)
	require.True(t, ok)
	require.True(t, inv.Voided, "the invoice void did not go out after the resolved job")
	code, got := e.call("GET", "/v1/invoices/"+n, "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, fmt.Sprint(got["events"]), "voided in the ECPay back office by 王店長")
}

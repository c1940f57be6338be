package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/ecpay"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
	"github.com/posagent/posagent/queue"
	"github.com/stretchr/testify/require"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// End to end, no hardware, no internet: the local API, the SQLite store, the
// printer simulator on a pseudo-terminal and the ECPay stand-in speaking the
// real protocol through the real client.

const (
	e2eToken   = "e2e-token-5f1c0a9b7d3e2a41"
	e2eQRKey   = "F1A618ED8685B1A3B81E6CB6884617F4"
	e2eMachine = "POS01"
)

// recorder is the provider as the agent sees it, logging every accepted call
// in order; it keeps the optional capabilities of the ECPay client.
type recorder struct {
	*ecpay.Client
	mu       sync.Mutex
	accepted []string // "upload ZZ10000000", "void ZZ10000000", …
}

func (r *recorder) note(err error, what string) error {
	if err == nil {
		r.mu.Lock()
		r.accepted = append(r.accepted, what)
		r.mu.Unlock()
	}
	return err
}

func (r *recorder) Upload(ctx context.Context, inv posagent.Invoice) error {
	return r.note(r.Client.Upload(ctx, inv), "upload "+string(inv.Number))
}

func (r *recorder) Void(ctx context.Context, inv posagent.Invoice, v posagent.Void) error {
	return r.note(r.Client.Void(ctx, inv, v), "void "+string(inv.Number))
}

func (r *recorder) Allow(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) error {
	return r.note(r.Client.Allow(ctx, inv, a), "allowance "+string(inv.Number))
}

func (r *recorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.accepted...)
}

// discardPrinter prints everything at once, to measure the agent without a wire.
type discardPrinter struct{}

func (discardPrinter) Print(context.Context, []byte) agent.PrintOutcome {
	return agent.PrintOutcome{Printed: true}
}
func (discardPrinter) Status(context.Context) agent.PrinterStatus {
	return agent.PrinterStatus{Ready: true}
}

type e2eOptions struct {
	discard     bool // a printer that takes every job at once (rendering still runs)
	concurrency int
	lowWater    int
	// reload lets the agent reload: the new provider is a client with the
	// stand-in's current keys, as after the operator fixed the config file.
	reload bool
	// makePrinter, when set, gives the agent its printer (the simulator tests).
	makePrinter func(t testing.TB, dir string, log *slog.Logger, kit agent.ProofKit) agent.Printer
	// storeDir, when set, is where the store lives (a small file system of
	// its own for the full-disk test); the test's temporary directory if not.
	storeDir string
}

type e2e struct {
	t      testing.TB
	dir    string
	cfg    config.Config
	stand  *ecpaytest.Server
	store  *queue.Store
	prov   *recorder
	agent  *agent.Agent
	base   string
	logs   *lockedBuffer
	client *http.Client
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startE2E runs an agent on a fresh store, with the ECPay stand-in and, if
// asked, the printer simulator; everything stops at the end of the test.
func startE2E(t testing.TB, o e2eOptions) *e2e {
	t.Helper()
	e := &e2e{t: t, dir: t.TempDir(), logs: &lockedBuffer{}, client: &http.Client{Timeout: 30 * time.Second}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.stand = ecpaytest.New(ecpaytest.Options{Logger: log})
	t.Cleanup(e.stand.Close)

	cfg := config.DefaultConfig()
	cfg.Terminal = config.Terminal{SellerTaxID: "24634102", SellerName: "端到端測試商店", MachineID: e2eMachine}
	cfg.QR.Key = e2eQRKey
	cfg.Provider.ECPay = config.ECPay{MerchantID: ecpaytest.StageMerchantID, HashKey: ecpaytest.StageHashKey,
		HashIV: ecpaytest.StageHashIV, BaseURL: e.stand.URL(), Timeout: config.Duration{Duration: 5 * time.Second}}
	cfg.Printer.Profile = "58mm"
	cfg.Printer.Timeout = config.Duration{Duration: 5 * time.Second}
	cfg.Store.Path = filepath.Join(e.dir, "posagent.db")
	if o.storeDir != "" {
		cfg.Store.Path = filepath.Join(o.storeDir, "posagent.db")
	}
	cfg.API.Token = e2eToken
	cfg.Sync.BackoffBase = config.Duration{Duration: 50 * time.Millisecond}
	cfg.Sync.BackoffCap = config.Duration{Duration: 500 * time.Millisecond}
	cfg.Sync.CallTimeout = config.Duration{Duration: 2 * time.Second}
	cfg.Sync.Concurrency = max(1, o.concurrency)
	cfg.Booklets.LowWater = o.lowWater
	cfg.Reconcile.Enabled = false // tests reconcile on demand, on the day they sold
	if o.makePrinter != nil {
		cfg.Printer.Device = "serial:sim"
	}
	require.NoError(t, cfg.Validate())
	e.cfg = cfg

	kit, err := agent.NewProofKit(cfg, log)
	require.NoError(t, err)
	var pr agent.Printer
	if o.makePrinter != nil {
		pr = o.makePrinter(t, e.dir, log, kit)
	}
	if o.discard {
		pr = discardPrinter{}
	}
	e.store, err = queue.Open(cfg.Store.Path, queue.Options{Logger: log})
	require.NoError(t, err)
	ecfg := e.stand.Config(e2eMachine)
	ecfg.Logger = log
	ecfg.Timeout = 2 * time.Second
	client, err := ecpay.New(ecfg)
	require.NoError(t, err)
	e.prov = &recorder{Client: client}
	var reload agent.Reloader
	if o.reload {
		reload = func(ctx context.Context) (config.Config, agent.Providers, error) {
			ecfg := e.stand.Config(e2eMachine)
			ecfg.Logger, ecfg.Timeout = log, 2*time.Second
			c, err := ecpay.New(ecfg)
			if err != nil {
				return config.Config{}, nil, err
			}
			next := e.cfg
			next.Provider.ECPay.HashKey, next.Provider.ECPay.HashIV = config.Secret(ecfg.HashKey), config.Secret(ecfg.HashIV)
			return next, agent.Providers{next.Terminal.SellerTaxID: &recorder{Client: c}}, next.Validate()
		}
	}
	e.agent, err = agent.New(agent.Options{Config: cfg, Store: &agent.QueueStore{S: e.store}, Printer: pr,
		Render: kit.Render, Coder: kit.Coder, Provider: e.prov, Logger: log, PollInterval: 20 * time.Millisecond,
		ShutdownGrace: 2 * time.Second, Reload: reload})
	require.NoError(t, err)

	e.serve()
	return e
}

// serve leases the first booklets and serves the agent on a free loopback
// port until the test ends.
func (e *e2e) serve() {
	t := e.t
	ctx, cancel := context.WithCancel(context.Background())
	e.agent.KeepBooklets(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	e.base = "http://" + ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- e.agent.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// call sends one API request with the token; it returns the status and the
// decoded JSON answer.
func (e *e2e) call(method, path, body string) (int, map[string]any) {
	e.t.Helper()
	return e.callAuth(method, path, body, "Bearer "+e2eToken)
}

func (e *e2e) callAuth(method, path, body, auth string) (int, map[string]any) {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, r)
	require.NoError(e.t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := e.client.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	out := map[string]any{}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(e.t, json.Unmarshal(data, &out), "%s", data)
	} else {
		out["text"] = string(data)
	}
	return resp.StatusCode, out
}

func (e *e2e) sell(id string, price int) map[string]any {
	e.t.Helper()
	code, body := e.call("POST", "/v1/sales", fmt.Sprintf(`{"sale_id":%q,"items":[{"name":"拿鐵","quantity":1,"unit":"杯","unit_price":%d},{"name":"可頌","quantity":2,"unit_price":45}]}`, id, price))
	require.Equal(e.t, http.StatusCreated, code, "%v", body)
	return body
}

// waitUploaded waits until the outbox is empty, then returns the job counts.
func (e *e2e) waitUploaded(timeout time.Duration) {
	e.t.Helper()
	require.Eventually(e.t, func() bool {
		st, err := e.store.Status(context.Background())
		require.NoError(e.t, err)
		return st.OldestUnsent == nil
	}, timeout, 20*time.Millisecond, "the outbox did not drain")
}

// TestOfflineThenRecovery: the provider is down for 500 sales (and a void
// every 25th); when it is back, every invoice is uploaded once, in number
// order, and each void after its invoice (promise 3).
func TestOfflineThenRecovery(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{concurrency: 1, lowWater: 0})
	ctx := context.Background()
	// 500 numbers: five more booklets of 100.
	for range 5 {
		bs, err := e.prov.LeaseBooklets(ctx, posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now()), MachineID: e2eMachine, Booklets: 2})
		require.NoError(t, err)
		for _, b := range bs {
			_, err := e.store.AddBooklet(ctx, b)
			require.NoError(t, err)
		}
	}
	e.stand.Down()
	var numbers []string
	for i := range 500 {
		ans := e.sell(fmt.Sprintf("off-%03d", i), 50+i%7)
		numbers = append(numbers, ans["number"].(string))
		if i%25 == 0 {
			code, body := e.call("POST", "/v1/invoices/"+ans["number"].(string)+"/void", `{"reason":"打錯"}`)
			require.Equal(t, 202, code, "%v", body)
		}
	}
	require.Eventually(t, func() bool {
		_, st := e.call("GET", "/v1/status", "")
		return st["provider"].(map[string]any)["online"] == false
	}, 10*time.Second, 20*time.Millisecond, "the agent did not notice the provider is down")
	_, st := e.call("GET", "/v1/status", "")
	require.GreaterOrEqual(t, st["queue"].(map[string]any)["pending"].(float64)+st["queue"].(map[string]any)["in_flight"].(float64), 500.0)
	require.Empty(t, e.stand.Invoices())

	e.stand.Up()
	e.waitUploaded(60 * time.Second)

	calls := e.prov.calls()
	pos := map[string]int{}
	var uploads []string
	for i, c := range calls {
		_, dup := pos[c]
		require.False(t, dup, "%s accepted twice", c)
		pos[c] = i
		if n, ok := strings.CutPrefix(c, "upload "); ok {
			uploads = append(uploads, n)
		}
	}
	require.Equal(t, numbers, uploads, "uploads out of order or missing")
	for i := 0; i < 500; i += 25 {
		require.Greater(t, pos["void "+numbers[i]], pos["upload "+numbers[i]], "void before its invoice")
	}
	require.Len(t, e.stand.Invoices(), 500)
	for _, n := range numbers {
		require.Equal(t, 1, e.stand.Count(n), n)
	}
	for i := 0; i < 500; i += 25 {
		inv, ok := e.stand.Invoice(numbers[i])
		require.True(t, ok)
		require.True(t, inv.Voided, numbers[i])
	}
}

// TestLostAnswersAndDuplicates: the stand-in does the work and the answer is
// lost, or answers 5xx and rate limits: retries end with each invoice held once.
func TestLostAnswersAndDuplicates(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{concurrency: 1, lowWater: 10})
	e.stand.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultLoseAnswer, Endpoint: "OfflineIssue"}, 3)
	e.stand.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultStatus, Endpoint: "OfflineIssue", Status: 502}, 2)
	var numbers []string
	for i := range 8 {
		numbers = append(numbers, e.sell(fmt.Sprintf("lost-%d", i), 70)["number"].(string))
	}
	e.waitUploaded(30 * time.Second)
	for _, n := range numbers {
		require.Equal(t, 1, e.stand.Count(n), "invoice %s held %d times", n, e.stand.Count(n))
	}
	require.Len(t, e.stand.Invoices(), 8)
	var faults int
	for _, r := range e.stand.Requests() {
		if r.Fault != "" {
			faults++
		}
	}
	require.Equal(t, 5, faults, "the faults were not all exercised")
}

// TestBadRequests: malformed and hostile requests get the right status and a
// message; nothing is stored and no number is spent.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{lowWater: 10})
	ctx := context.Background()
	before, err := e.store.NumbersLeft(ctx)
	require.NoError(t, err)
	item := `{"name":"拿鐵","quantity":1,"unit_price":50}`
	sale := func(extra string) string {
		return `{"sale_id":"bad-1",` + extra + `"items":[` + item + `]}`
	}
	huge := `{"sale_id":"bad-1","remark":"` + strings.Repeat("長", 100_000) + `","items":[` + item + `]}`
	many := `{"sale_id":"bad-1","items":[` + strings.Repeat(item+",", 200) + item + `]}`
	cases := []struct {
		name, method, path, body, auth string
		status                         int
		code, field                    string
	}{
		{"no token", "POST", "/v1/sales", sale(""), "-", 401, "unauthorized", ""},
		{"wrong token", "POST", "/v1/sales", sale(""), "Bearer " + e2eToken + "x", 401, "unauthorized", ""},
		{"token prefix", "POST", "/v1/sales", sale(""), "Bearer " + e2eToken[:10], 401, "unauthorized", ""},
		{"token twice", "POST", "/v1/sales", sale(""), "Bearer " + e2eToken + " Bearer " + e2eToken, 401, "unauthorized", ""},
		{"token in basic auth", "POST", "/v1/sales", sale(""), "Basic " + e2eToken, 401, "unauthorized", ""},
		{"empty token", "POST", "/v1/sales", sale(""), "Bearer ", 401, "unauthorized", ""},
		{"not json", "POST", "/v1/sales", `sale please`, "", 400, "malformed", ""},
		{"truncated json", "POST", "/v1/sales", `{"sale_id":"bad-1","items":[`, "", 400, "malformed", ""},
		{"array", "POST", "/v1/sales", `[` + sale("") + `]`, "", 400, "malformed", ""},
		{"two documents", "POST", "/v1/sales", sale("") + sale(""), "", 400, "malformed", ""},
		{"empty body", "POST", "/v1/sales", ``, "", 400, "malformed", ""},
		{"null", "POST", "/v1/sales", `null`, "", 422, "invalid", "sale_id"},
		{"unknown field", "POST", "/v1/sales", sale(`"discount":10,`), "", 400, "malformed", "discount"},
		{"unknown item field", "POST", "/v1/sales", `{"sale_id":"bad-1","items":[{"name":"a","quantity":1,"unit_price":5,"sku":"x"}]}`, "", 400, "malformed", ""},
		{"total as string", "POST", "/v1/sales", sale(`"total":"50",`), "", 400, "malformed", "total"},
		{"items as object", "POST", "/v1/sales", `{"sale_id":"bad-1","items":{}}`, "", 400, "malformed", "items"},
		{"quantity as bool", "POST", "/v1/sales", `{"sale_id":"bad-1","items":[{"name":"a","quantity":true,"unit_price":5}]}`, "", 400, "malformed", "items[0].quantity"},
		{"huge body", "POST", "/v1/sales", huge, "", 413, "too_large", ""},
		{"too many items", "POST", "/v1/sales", many, "", 422, "invalid", "items"},
		{"no items", "POST", "/v1/sales", `{"sale_id":"bad-1","items":[]}`, "", 422, "invalid", "items"},
		{"no sale id", "POST", "/v1/sales", `{"items":[` + item + `]}`, "", 422, "invalid", "sale_id"},
		{"bad sale id", "POST", "/v1/sales", `{"sale_id":"a b/c","items":[` + item + `]}`, "", 422, "invalid", "sale_id"},
		{"sql in sale id", "POST", "/v1/sales", `{"sale_id":"x'; DROP TABLE invoices;--","items":[` + item + `]}`, "", 422, "invalid", "sale_id"},
		{"bad seller tax id", "POST", "/v1/sales", sale(`"seller":{"tax_id":"12345678","name":"x"},`), "", 422, "invalid", "seller.tax_id"},
		{"other seller", "POST", "/v1/sales", sale(`"seller":{"tax_id":"53212539","name":"x"},`), "", 422, "invalid", "seller.tax_id"},
		{"bad buyer tax id", "POST", "/v1/sales", sale(`"buyer":{"tax_id":"53212538"},`), "", 422, "invalid", "buyer.tax_id"},
		{"consumer zeros", "POST", "/v1/sales", sale(`"buyer":{"tax_id":"00000000"},`), "", 422, "invalid", "buyer.tax_id"},
		{"negative price", "POST", "/v1/sales", `{"sale_id":"bad-1","items":[{"name":"a","quantity":1,"unit_price":-50}]}`, "", 422, "invalid", ""},
		{"zero quantity", "POST", "/v1/sales", `{"sale_id":"bad-1","items":[{"name":"a","quantity":0,"unit_price":50}]}`, "", 422, "invalid", "items[0].quantity"},
		{"amount mismatch", "POST", "/v1/sales", `{"sale_id":"bad-1","items":[{"name":"a","quantity":2,"unit_price":10,"amount":30}]}`, "", 422, "invalid", "items[0].amount"},
		{"total mismatch", "POST", "/v1/sales", sale(`"total":49,`), "", 422, "invalid", "total"},
		{"tax mismatch", "POST", "/v1/sales", sale(`"sales_amount":40,"tax_amount":10,`), "", 422, "invalid", ""},
		{"bad carrier", "POST", "/v1/sales", sale(`"carrier":{"type":"mobile","id":"ABC"},`), "", 422, "invalid", "carrier.id"},
		{"bad love code", "POST", "/v1/sales", sale(`"love_code":"12",`), "", 422, "invalid", "love_code"},
		{"number given", "POST", "/v1/sales", sale(`"number":"AB12345678","random_code":"1234",`), "", 422, "invalid", "number"},
		{"future time", "POST", "/v1/sales", sale(`"issued_at":"2099-01-01T00:00:00+08:00",`), "", 422, "invalid", "issued_at"},
		{"bad time", "POST", "/v1/sales", sale(`"issued_at":"yesterday",`), "", 400, "malformed", "issued_at"},
		{"bad tax type", "POST", "/v1/sales", sale(`"tax_type":"vat",`), "", 422, "invalid", "tax_type"},
		{"control characters", "POST", "/v1/sales", `{"sale_id":"bad-1","items":[{"name":"a\u0000b","quantity":1,"unit_price":5}]}`, "", 422, "invalid", "items[0].name"},
		{"xml content type", "POST", "/v1/sales", sale(""), "ct:application/xml", 415, "unsupported_media_type", ""},
		{"GET sales", "GET", "/v1/sales", "", "", 405, "method_not_allowed", ""},
		{"unknown path", "GET", "/v1/../../etc/passwd", "", "", 404, "not_found", ""},
		{"bad number", "GET", "/v1/invoices/12345", "", "", 400, "malformed", "number"},
		{"unknown invoice", "GET", "/v1/invoices/ZZ99999999", "", "", 404, "not_found", "number"},
		{"void unknown", "POST", "/v1/invoices/ZZ99999999/void", `{"reason":"x"}`, "", 404, "not_found", "number"},
		{"void unknown field", "POST", "/v1/invoices/ZZ99999999/void", `{"reason":"x","force":true}`, "", 400, "malformed", "force"},
		{"allowance unknown invoice", "POST", "/v1/invoices/ZZ99999999/allowances", `{"items":[` + item + `]}`, "", 404, "not_found", "number"},
		{"booklet bad range", "POST", "/v1/booklets", `{"range":"ZZ10000001-ZZ10000050","period":"11410"}`, "", 422, "invalid", "first"},
		{"revive unknown", "POST", "/v1/jobs/424242/revive", "", "", 404, "not_found", ""},
	}
	require.GreaterOrEqual(t, len(cases), 40)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader
			if tc.body != "" {
				r = strings.NewReader(tc.body)
			}
			req, err := http.NewRequest(tc.method, e.base+tc.path, r)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			switch {
			case tc.auth == "":
				req.Header.Set("Authorization", "Bearer "+e2eToken)
			case strings.HasPrefix(tc.auth, "ct:"):
				req.Header.Set("Authorization", "Bearer "+e2eToken)
				req.Header.Set("Content-Type", strings.TrimPrefix(tc.auth, "ct:"))
			case tc.auth != "-":
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := e.client.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			var body agent.APIError
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			require.Equal(t, tc.status, resp.StatusCode, "%+v", body)
			require.Equal(t, tc.code, body.Code, "%+v", body)
			require.NotEmpty(t, body.Message)
			if tc.field != "" {
				require.Equal(t, tc.field, body.Field, "%+v", body)
			}
			require.NotContains(t, body.Message, e2eToken)
		})
	}
	after, err := e.store.NumbersLeft(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "a bad request spent a number")
	st, err := e.store.Status(ctx)
	require.NoError(t, err)
	require.Nil(t, st.OldestUnsent, "a bad request stored something")
	recent, err := e.store.Recent(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, recent)
	require.NotContains(t, e.logs.String(), e2eToken)
}

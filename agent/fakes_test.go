package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
)

const (
	testToken  = "test-token-0123456789abcdef"
	testQRKey  = "F1A618ED8685B1A3B81E6CB6884617F4"
	testSeller = "24634102"
)

// call is one provider call the fake saw.
type call struct {
	Kind   string
	Number posagent.InvoiceNumber
	At     time.Time
}

// fakeProvider records calls; fn decides each call's outcome.
type fakeProvider struct {
	mu       sync.Mutex
	calls    []call
	accepted map[string]int // kind/number → times accepted
	inflight int
	maxIn    int
	fn       func(c call) error
	now      func() time.Time
	lease    func(req posagent.LeaseRequest) ([]posagent.Booklet, error)
}

func newFakeProvider(now func() time.Time) *fakeProvider {
	return &fakeProvider{accepted: map[string]int{}, now: now}
}

func (p *fakeProvider) Name() string { return "fake" }

func (p *fakeProvider) do(ctx context.Context, kind string, n posagent.InvoiceNumber) error {
	p.mu.Lock()
	c := call{Kind: kind, Number: n, At: p.now()}
	p.calls = append(p.calls, c)
	p.inflight++
	p.maxIn = max(p.maxIn, p.inflight)
	fn := p.fn
	p.mu.Unlock()
	var err error
	if fn != nil {
		err = fn(c)
	}
	p.mu.Lock()
	p.inflight--
	if err == nil || posagent.IsKind(err, posagent.KindDuplicate) {
		p.accepted[kind+"/"+string(n)]++
	}
	p.mu.Unlock()
	return err
}

func (p *fakeProvider) Upload(ctx context.Context, inv posagent.Invoice) error {
	return p.do(ctx, JobUpload, inv.Number)
}
func (p *fakeProvider) Void(ctx context.Context, inv posagent.Invoice, v posagent.Void) error {
	return p.do(ctx, JobVoid, inv.Number)
}
func (p *fakeProvider) Allow(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) error {
	return p.do(ctx, JobAllowance, inv.Number)
}
func (p *fakeProvider) VoidAllowance(ctx context.Context, inv posagent.Invoice, a posagent.Allowance, r string) error {
	return p.do(ctx, JobVoidAllowance, inv.Number)
}

func (p *fakeProvider) callList() []call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]call(nil), p.calls...)
}

// leasingProvider is a fakeProvider that is also a BookletSource.
type leasingProvider struct{ *fakeProvider }

func (p leasingProvider) LeaseBooklets(ctx context.Context, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	return p.lease(req)
}

// fakePrinter answers each job with the next scripted outcome (printed when
// the script is empty) and keeps what it printed.
type fakePrinter struct {
	mu      sync.Mutex
	script  []PrintOutcome
	status  PrinterStatus
	printed [][]byte
	tries   int
}

func (p *fakePrinter) Print(ctx context.Context, job []byte) PrintOutcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tries++
	if len(p.script) > 0 {
		out := p.script[0]
		p.script = p.script[1:]
		if out.Printed {
			p.printed = append(p.printed, job)
		}
		return out
	}
	if !p.status.Ready && p.status.Reason != "" {
		return PrintOutcome{Reason: p.status.Reason}
	}
	p.printed = append(p.printed, job)
	return PrintOutcome{Printed: true}
}

func (p *fakePrinter) Status(ctx context.Context) PrinterStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

func (p *fakePrinter) set(s PrinterStatus) {
	p.mu.Lock()
	p.status = s
	p.mu.Unlock()
}

func (p *fakePrinter) jobs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, len(p.printed))
	for i, b := range p.printed {
		out[i] = string(b)
	}
	return out
}

// fakeRender writes "ORIGINAL AB12345678" or "補印 AB12345678".
func fakeRender(inv posagent.Invoice, reprint bool) ([]byte, error) {
	if reprint {
		return []byte("補印 " + inv.Number), nil
	}
	return []byte("ORIGINAL " + inv.Number), nil
}

func fakeCoder(inv posagent.Invoice) (Proof, error) {
	return Proof{Barcode: inv.Period().Code() + string(inv.Number) + inv.RandomCode,
		QRLeft: "L" + string(inv.Number), QRRight: "**", QRVersion: 6}, nil
}

// clock is a settable clock for tests that run outside a synctest bubble.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func testConfig() config.Config {
	cfg := config.DefaultConfig()
	cfg.Terminal = config.Terminal{SellerTaxID: testSeller, SellerName: "測試商店", MachineID: "POS01"}
	cfg.QR.Key = testQRKey
	cfg.Provider.Name = "fake"
	cfg.API.Token = testToken
	cfg.Store.Path = "mem"
	cfg.Printer.Device = "file:/dev/null"
	cfg.Sync.BackoffBase = config.Duration{Duration: 2 * time.Second}
	cfg.Sync.BackoffCap = config.Duration{Duration: time.Minute}
	cfg.Sync.Concurrency = 4
	return cfg
}

type harness struct {
	agent    *Agent
	store    *memStore
	provider *fakeProvider
	printer  *fakePrinter
	logs     *syncBuffer
	handler  http.Handler
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHarness builds an agent on a memStore with one booklet for the period of
// now. Tests change opts through edit before the agent is built.
func newHarness(t testing.TB, now func() time.Time, edit func(*Options)) *harness {
	t.Helper()
	st := newMemStore(now)
	p := PeriodOfNow(now)
	require.NoError(t, st.AddBooklet(context.Background(), posagent.Booklet{Track: "AB", First: 12345600, Last: 12345699, Period: p}))
	prov := newFakeProvider(now)
	pr := &fakePrinter{status: PrinterStatus{Ready: true}}
	logs := &syncBuffer{}
	opt := Options{
		Config: testConfig(), Store: st, Printer: pr, Render: fakeRender, Coder: fakeCoder, Provider: prov,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    now, Jitter: func() float64 { return 1 }, PollInterval: 10 * time.Millisecond,
	}
	if edit != nil {
		edit(&opt)
	}
	a, err := New(opt)
	require.NoError(t, err)
	return &harness{agent: a, store: st, provider: prov, printer: pr, logs: logs, handler: a.Handler()}
}

// PeriodOfNow is the period of the clock's reading.
func PeriodOfNow(now func() time.Time) posagent.Period { return posagent.PeriodOf(now()) }

// do sends one API request with the test token.
func (h *harness) do(t testing.TB, method, path, body string) (int, map[string]any) {
	t.Helper()
	return h.doAuth(t, method, path, body, "Bearer "+testToken)
}

func (h *harness) doAuth(t testing.TB, method, path, body, auth string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	var out map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), "body %s", rec.Body.String())
	} else {
		out = map[string]any{"text": rec.Body.String()}
	}
	return rec.Code, out
}

func saleJSON(id string, price int) string {
	return fmt.Sprintf(`{"sale_id":%q,"items":[{"name":"拿鐵","quantity":1,"unit_price":%d}]}`, id, price)
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return string(b)
}

func toJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

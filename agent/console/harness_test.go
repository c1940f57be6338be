package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/agent/console"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/fake"
	"github.com/posagent/posagent/queue"
)

const (
	testToken    = "console-test-token-8c1e5a0f"
	testPassword = "店長的密碼-pw-2025"
	testQRKey    = "F1A618ED8685B1A3B81E6CB6884617F4"
)

// clock is a settable clock for the console's sessions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// paper is a printer that takes every job and keeps it.
type paper struct {
	mu   sync.Mutex
	jobs [][]byte
}

func (p *paper) Print(_ context.Context, job []byte) agent.PrintOutcome {
	p.mu.Lock()
	p.jobs = append(p.jobs, append([]byte(nil), job...))
	p.mu.Unlock()
	return agent.PrintOutcome{Printed: true}
}

func (p *paper) Status(context.Context) agent.PrinterStatus { return agent.PrinterStatus{Ready: true} }

func (p *paper) count() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.jobs) }

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// rig is an agent with the console mounted, serving on loopback: the real
// SQLite store, the fake provider, a printer that keeps its jobs.
type rig struct {
	t       testing.TB
	base    string
	agent   *agent.Agent
	prov    *fake.Provider
	printer *paper
	clock   *clock
	logs    *lockedBuffer
	client  *http.Client
}

// demoSwitch is the demo's provider switch, on the fake provider.
type demoSwitch struct {
	prov *fake.Provider
	down atomic.Bool
}

func (d *demoSwitch) SetProviderDown(down bool) {
	d.down.Store(down)
	if down {
		d.prov.Down()
	} else {
		d.prov.Up()
	}
}
func (d *demoSwitch) ProviderDown() bool { return d.down.Load() }

// newRig starts the rig; withDemo gives it the demo's provider switch.
func newRig(t testing.TB, withDemo ...bool) *rig {
	t.Helper()
	return newRigOf(t, len(withDemo) > 0 && withDemo[0], false)
}

// newRigOf is newRig, with the demo's switch and, when twoSellers, a second
// seller (a bakery, 53212539, on a fake provider of its own).
func newRigOf(t testing.TB, withDemo, twoSellers bool) *rig {
	t.Helper()
	r := &rig{t: t, printer: &paper{}, logs: &lockedBuffer{}, clock: &clock{t: time.Now()}}
	log := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := config.DefaultConfig()
	cfg.Terminal = config.Terminal{SellerTaxID: "24634102", SellerName: "測試咖啡", MachineID: "POS01"}
	cfg.QR.Key = testQRKey
	cfg.Provider.Name = "fake"
	cfg.Printer.Profile = "58mm"
	cfg.Printer.Details = true
	cfg.Store.Path = filepath.Join(t.TempDir(), "posagent.db")
	cfg.API.Token = testToken
	cfg.Console.Password = testPassword
	cfg.Sync.BackoffBase = config.Duration{Duration: 20 * time.Millisecond}
	cfg.Sync.BackoffCap = config.Duration{Duration: 200 * time.Millisecond}
	cfg.Sync.CallTimeout = config.Duration{Duration: 2 * time.Second}
	cfg.Booklets.LowWater = 10
	if twoSellers {
		cfg.Sellers = []config.Seller{
			{TaxID: "24634102", Name: "測試咖啡", QR: cfg.QR, Provider: cfg.Provider, Booklets: cfg.Booklets},
			{TaxID: "53212539", Name: "測試麵包", QR: cfg.QR, Provider: cfg.Provider, Booklets: cfg.Booklets},
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	kit, err := agent.NewProofKit(cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	st, err := queue.Open(cfg.Store.Path, queue.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r.prov = fake.New(fake.Options{Track: "ZZ", Logger: log})
	var demo agent.DemoControl
	if withDemo {
		demo = &demoSwitch{prov: r.prov}
	}
	var sellers []agent.SellerOptions
	if twoSellers {
		sellers = []agent.SellerOptions{{TaxID: "24634102", Coder: kit.Coder, Provider: r.prov},
			{TaxID: "53212539", Coder: kit.Coder, Provider: fake.New(fake.Options{Track: "YY", Logger: log})}}
	}
	r.agent, err = agent.New(agent.Options{Config: cfg, Store: &agent.QueueStore{S: st}, Printer: r.printer,
		Render: kit.Render, Coder: kit.Coder, Provider: r.prov, Sellers: sellers, Logger: log, PollInterval: 20 * time.Millisecond,
		ShutdownGrace: time.Second, Demo: demo})
	if err != nil {
		t.Fatal(err)
	}
	c, err := console.New(console.Options{Agent: r.agent, Token: cfg.API.Token, Password: cfg.Console.Password,
		SessionTimeout: cfg.Console.SessionTimeout.Duration, PaperWidth: kit.Profile.Dots, Logger: log, Now: r.clock.Now,
		Refresh: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r.agent.MountConsole(c)
	ctx, cancel := context.WithCancel(context.Background())
	r.agent.KeepBooklets(ctx)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.base = "http://" + ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- r.agent.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if t.Failed() {
			for _, line := range strings.Split(r.logs.String(), "\n") {
				if strings.Contains(line, "console") && strings.Contains(line, "ERROR") {
					t.Log(line)
				}
			}
		}
		for _, secret := range []string{testToken, testPassword} {
			if strings.Contains(r.logs.String(), secret) {
				t.Errorf("a secret reached the log")
			}
		}
	})
	r.client = r.newClient()
	return r
}

// newClient is a browser: a cookie jar, no redirects followed.
func (r *rig) newClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// sell rings up a sale of one line at total NT$ through the agent.
func (r *rig) sell(id string, total int64) posagent.Invoice {
	r.t.Helper()
	var sale posagent.Invoice
	doc := fmt.Sprintf(`{"sale_id": %q, "items": [{"name": "拿鐵", "quantity": 1, "unit_price": %d}]}`, id, total)
	if err := sale.UnmarshalJSON([]byte(doc)); err != nil {
		r.t.Fatal(err)
	}
	sale, err := r.agent.PrepareSale(sale)
	if err != nil {
		r.t.Fatal(err)
	}
	res, err := r.agent.Sell(context.Background(), sale)
	if err != nil {
		r.t.Fatal(err)
	}
	return res.Invoice
}

type answer struct {
	status int
	body   string
	header http.Header
}

func (r *rig) do(c *http.Client, method, path string, form url.Values, hdr ...string) answer {
	r.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, r.base+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, secret := range []string{testToken, testPassword} {
		if strings.Contains(string(b), secret) || strings.Contains(fmt.Sprint(resp.Header), secret) {
			r.t.Errorf("%s %s: the answer carries a secret", method, path)
		}
	}
	return answer{status: resp.StatusCode, body: string(b), header: resp.Header}
}

func (r *rig) get(path string) answer { return r.do(r.client, http.MethodGet, path, nil) }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field on the page:\n%s", page)
	}
	return m[1]
}

// signIn signs c in with secret and fails the test unless it worked.
func (r *rig) signIn(c *http.Client, secret string) {
	r.t.Helper()
	a := r.tryLogin(c, secret)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
		r.t.Fatalf("sign in: %d %s\n%s", a.status, a.header.Get("Location"), a.body)
	}
}

func (r *rig) tryLogin(c *http.Client, secret string) answer {
	r.t.Helper()
	page := r.do(c, http.MethodGet, "/login", nil)
	return r.do(c, http.MethodPost, "/login", url.Values{"csrf": {csrfOf(r.t, page.body)}, "secret": {secret}, "next": {"/"}})
}

// post sends a form from the signed-in client with the session's CSRF token
// (read from page).
func (r *rig) post(path string, form url.Values) answer {
	r.t.Helper()
	page := r.get("/")
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrfOf(r.t, page.body))
	return r.do(r.client, http.MethodPost, path, form)
}

// waitFor polls cond for up to five seconds.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

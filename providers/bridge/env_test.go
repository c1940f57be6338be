package bridge_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/bridge"
	"github.com/posagent/posagent/providers/bridge/bridgetest"
	"github.com/posagent/posagent/qr"
)

var (
	execOnce sync.Once
	execDir  string
	execBin  string
	execErr  error
)

// execPath is the reference exec program, built on first use (the fuzz
// workers and the HTTP-only tests never pay for the build).
func execPath(t testing.TB) string {
	t.Helper()
	execOnce.Do(func() {
		execDir, execErr = os.MkdirTemp("", "bridgeexec")
		if execErr == nil {
			execBin, execErr = bridgetest.Build(execDir)
		}
	})
	if execErr != nil {
		t.Fatal(execErr)
	}
	return execBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if execDir != "" {
		os.RemoveAll(execDir)
	}
	os.Exit(code)
}

const (
	testSeller = "24634102"
	testQRKey  = "F1A618ED8685B1A3B81E6CB6884617F4"
	// The Wixtar-like credentials passed through; none may reach a log or error.
	credPID = "PID-7c1f0e5a9b"
	credRID = "RID-Q2w9x8Zk41"
)

// secrets are what no log line and no error may contain.
var secrets = []string{bridgetest.DemoSecret, credPID, credRID, testQRKey}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	t         *testing.T
	transport string
	srv       *bridgetest.Server
	cfg       bridge.Config
	c         *bridge.Client
	src       posagent.BookletSource // the same set-up with Lease
	logs      *lockedBuffer
	ctx       context.Context
	used      int
}

// texts computes the MOF texts the way the agent's proof kit does.
func texts(inv posagent.Invoice) (bridge.Texts, error) {
	key, err := qr.ParseKey(testQRKey)
	if err != nil {
		return bridge.Texts{}, err
	}
	c, err := qr.Encode(inv, key, qr.DefaultOptions())
	if err != nil {
		return bridge.Texts{}, err
	}
	return bridge.Texts{Barcode: c.Barcode, QRLeft: c.Left, QRRight: c.Right}, nil
}

// execCommand is the reference relay program pointed at srv.
func execCommand(t testing.TB, srv *bridgetest.Server, extra ...string) []string {
	return append([]string{execPath(t), "-url", srv.URL(), "-timeout", "5s"}, extra...)
}

// newEnv starts a receiver and a client of the transport; edit may change
// either's options before they start.
func newEnv(t *testing.T, transport string, edit ...func(*bridgetest.Options, *bridge.Config)) *env {
	t.Helper()
	var sopt bridgetest.Options
	for _, f := range edit {
		f(&sopt, nil)
	}
	srv := bridgetest.New(sopt)
	t.Cleanup(srv.Close)
	logs := &lockedBuffer{}
	cfg := bridge.Config{
		Transport: transport, SellerTaxID: testSeller, MachineID: "POS01", Texts: texts, Timeout: 10 * time.Second,
		Credentials: map[string]string{"pid": credPID, "rid": credRID, "store_code": "S001"},
		Redact:      []string{testQRKey},
		Logger:      slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	switch transport {
	case bridge.TransportHTTP:
		cfg.URL, cfg.Secret = srv.URL(), bridgetest.DemoSecret
	case bridge.TransportExec:
		cfg.Command = execCommand(t, srv)
		cfg.Credentials["relay_secret"] = bridgetest.DemoSecret
	}
	for _, f := range edit {
		f(nil, &cfg)
	}
	c, err := bridge.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lcfg := cfg
	lcfg.Lease = true
	p, err := bridge.Open(lcfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, transport: transport, srv: srv, cfg: cfg, c: c, src: p.(posagent.BookletSource), logs: logs, ctx: context.Background()}
	t.Cleanup(func() {
		out := logs.String()
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("a log line contains the secret %q", s)
			}
		}
	})
	return e
}

// checkErr fails when err is not of kind want, and when its text holds a secret.
func (e *env) checkErr(err error, want posagent.Kind) {
	e.t.Helper()
	if got := posagent.ErrorKind(err); got != want {
		e.t.Fatalf("error kind = %q (%v), want %q", got, err, want)
	}
	if err != nil {
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				e.t.Fatalf("error %q contains the secret %q", err, s)
			}
		}
	}
}

func period() posagent.Period { return posagent.PeriodOf(time.Now()) }

// sale returns a valid issued invoice, numbered in track AB.
func (e *env) sale(saleID string) posagent.Invoice {
	e.t.Helper()
	inv := sampleSale(saleID)
	inv.Number = posagent.MakeInvoiceNumber("AB", 12345600+e.used)
	e.used++
	inv.RandomCode = "4821"
	inv.IssuedAt = time.Now().Add(-2 * time.Second).Truncate(time.Second)
	if err := inv.ValidateIssued(); err != nil {
		e.t.Fatal(err)
	}
	return inv
}

func sampleSale(saleID string) posagent.Invoice {
	return posagent.Invoice{
		Seller: posagent.Seller{TaxID: testSeller, Name: "好日子雜貨店"},
		Print:  true, TaxType: posagent.TaxTaxable,
		Items: []posagent.Item{
			{Name: "咖啡豆", Quantity: posagent.MustDecimal("2"), Unit: "包", UnitPrice: posagent.MustDecimal("50"), Amount: posagent.MustDecimal("100")},
			{Name: "紙杯", Quantity: posagent.MustDecimal("3"), UnitPrice: posagent.MustDecimal("3.5"), Amount: posagent.MustDecimal("10.5")},
		},
		Total: 111, SalesAmount: 106, TaxAmount: 5, SaleID: saleID,
	}
}

func voidOf(inv posagent.Invoice) posagent.Void {
	return posagent.Void{Number: inv.Number, VoidedAt: inv.IssuedAt.Add(time.Second), Reason: "客戶退貨"}
}

func allowanceOf(inv posagent.Invoice, number string) posagent.Allowance {
	return posagent.Allowance{
		Number: number, InvoiceNumber: inv.Number, IssuedAt: inv.IssuedAt.Add(time.Second), Total: 50, TaxAmount: 2,
		Items: []posagent.Item{{Name: "咖啡豆", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("50"), Amount: posagent.MustDecimal("50")}},
	}
}

// docsOf returns the receiver's documents of kind.
func (e *env) docsOf(kind bridge.Kind) []bridgetest.Stored {
	var out []bridgetest.Stored
	for _, d := range e.srv.Documents() {
		if d.Kind == kind {
			out = append(out, d)
		}
	}
	return out
}

var transports = []string{bridge.TransportHTTP, bridge.TransportExec}

package ecpay_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/ecpay"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

// lockedBuffer collects log output from concurrent handlers.
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

// itemName is the plaintext fragment the secret scan looks for: it only ever
// travels inside the encrypted Data.
const itemName = "測試咖啡豆"

// secrets are what no log line and no error may contain.
var secrets = []string{ecpaytest.StageHashKey, ecpaytest.StageHashIV, itemName, ecpay.URLEncode(itemName), "ItemName", "ItemAmount"}

type env struct {
	t        *testing.T
	srv      *ecpaytest.Server
	c        *ecpay.Client
	logs     *lockedBuffer
	ctx      context.Context
	booklets []posagent.Booklet
	used     int
}

type envOption func(*ecpaytest.Options, *ecpay.Config)

func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	sopt := ecpaytest.Options{TLS: true}
	var cfg ecpay.Config
	for _, o := range opts {
		o(&sopt, nil)
	}
	srv := ecpaytest.New(sopt)
	t.Cleanup(srv.Close)
	cfg = srv.Config("POS01")
	cfg.Timeout = 2 * time.Second
	cfg.Contact = ecpay.Contact{Name: "好日子雜貨店", Addr: "臺北市中正區重慶南路一段2號", Email: "shop@example.com"}
	for _, o := range opts {
		o(nil, &cfg)
	}
	logs := &lockedBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := ecpay.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, c: c, logs: logs, ctx: context.Background()}
	t.Cleanup(func() {
		out := logs.String()
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("a log line contains the secret or plaintext %q", s)
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
				e.t.Fatalf("error %q contains %q", err, s)
			}
		}
	}
}

func (e *env) period() posagent.Period { return posagent.PeriodOf(time.Now()) }

// lease leases one booklet for POS01 in the current period.
func (e *env) lease() posagent.Booklet {
	e.t.Helper()
	bs, err := e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: e.period(), MachineID: "POS01", Booklets: 1})
	if err != nil {
		e.t.Fatalf("lease: %v", err)
	}
	e.booklets = append(e.booklets, bs...)
	return bs[0]
}

// sale returns a valid issued invoice numbered from the leased booklets.
func (e *env) sale(saleID string) posagent.Invoice {
	e.t.Helper()
	if len(e.booklets) == 0 {
		e.lease()
	}
	n := e.booklets[0].Number(e.used)
	e.used++
	inv := sampleSale(saleID)
	inv.Number, inv.RandomCode = n, "4821"
	inv.IssuedAt = time.Now().Add(-2 * time.Second).Truncate(time.Second)
	if err := inv.ValidateIssued(); err != nil {
		e.t.Fatal(err)
	}
	return inv
}

func sampleSale(saleID string) posagent.Invoice {
	return posagent.Invoice{
		Seller: posagent.Seller{TaxID: "24634102", Name: "好日子雜貨店"},
		Print:  true, TaxType: posagent.TaxTaxable,
		Items: []posagent.Item{
			{Name: itemName, Quantity: posagent.MustDecimal("2"), Unit: "包", UnitPrice: posagent.MustDecimal("50"), Amount: posagent.MustDecimal("100")},
			{Name: "紙杯", Quantity: posagent.MustDecimal("3"), UnitPrice: posagent.MustDecimal("3.5"), Amount: posagent.MustDecimal("10.5")},
		},
		Total: 111, SalesAmount: 106, TaxAmount: 5, SaleID: saleID,
	}
}

func voidOf(inv posagent.Invoice) posagent.Void {
	return posagent.Void{Number: inv.Number, VoidedAt: time.Now().Add(-time.Second), Reason: "客戶退貨"}
}

func allowanceOf(inv posagent.Invoice, number string) posagent.Allowance {
	return posagent.Allowance{
		Number: number, InvoiceNumber: inv.Number, IssuedAt: inv.IssuedAt, Total: 50, TaxAmount: 2,
		Items: []posagent.Item{{Name: itemName, Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("50"), Amount: posagent.MustDecimal("50")}},
	}
}

func kindOf(err error) posagent.Kind { return posagent.ErrorKind(err) }

func asAPI(err error) *ecpay.APIError {
	var a *ecpay.APIError
	errors.As(err, &a)
	return a
}

package amego_test

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
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/providers/amego/amegotest"
)

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

type env struct {
	t    testing.TB
	ctx  context.Context
	srv  *amegotest.Server
	c    *amego.Client
	logs *lockedBuffer
	// booklet numbers come from, and the next index in it
	book posagent.Booklet
	next int
}

// newEnv starts a stand-in and a client on it, logging at debug level; the
// cleanup scans the log for the app key.
func newEnv(t *testing.T, tweak ...func(*amegotest.Options, *amego.Config)) *env {
	t.Helper()
	opt := amegotest.Options{}
	for _, f := range tweak {
		f(&opt, nil)
	}
	srv := amegotest.New(opt)
	t.Cleanup(srv.Close)
	cfg := srv.Config()
	logs := &lockedBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	for _, f := range tweak {
		f(nil, &cfg)
	}
	c, err := amego.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), amego.TestAppKey) {
			t.Error("a log line holds the app key")
		}
	})
	return &env{t: t, ctx: context.Background(), srv: srv, c: c, logs: logs}
}

func (e *env) period() posagent.Period { return posagent.PeriodOf(time.Now()) }

func (e *env) lease(books int) posagent.Booklet {
	e.t.Helper()
	bs, err := e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: e.period(), Booklets: books})
	if err != nil || len(bs) != 1 {
		e.t.Fatalf("lease: %+v, %v", bs, err)
	}
	return bs[0]
}

// sale is an issued consumer invoice numbered from a leased booklet.
func (e *env) sale(id string) posagent.Invoice {
	e.t.Helper()
	if e.book.Track == "" || e.next >= e.book.Count() {
		e.book, e.next = e.lease(1), 0
	}
	n := e.book.Number(e.next)
	e.next++
	inv := posagent.Invoice{
		Number: n, RandomCode: "4321", IssuedAt: time.Now().Add(-time.Minute).Truncate(time.Second),
		Seller: posagent.Seller{TaxID: amegotest.DemoSeller, Name: "光貿測試"},
		Print:  true, TaxType: posagent.TaxTaxable, SaleID: id,
		Items: []posagent.Item{
			{Name: "咖啡", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("65"), Amount: posagent.MustDecimal("65")},
			{Name: "可頌", Quantity: posagent.MustDecimal("2"), Unit: "個", UnitPrice: posagent.MustDecimal("20"), Amount: posagent.MustDecimal("40")},
		},
		Total: 105,
	}
	s, _ := inv.SplitTax()
	inv.SalesAmount, inv.TaxAmount = s.Sales(), s.Tax
	if err := inv.ValidateIssued(); err != nil {
		e.t.Fatalf("sample sale: %v", err)
	}
	return inv
}

func (e *env) upload(inv posagent.Invoice) {
	e.t.Helper()
	if err := e.c.Upload(e.ctx, inv); err != nil {
		e.t.Fatalf("upload %s: %v", inv.Number, err)
	}
}

func voidOf(inv posagent.Invoice) posagent.Void {
	return posagent.Void{Number: inv.Number, VoidedAt: time.Now(), Reason: "客戶退貨"}
}

func allowanceOf(inv posagent.Invoice, number string, total int64) posagent.Allowance {
	return posagent.Allowance{Number: number, InvoiceNumber: inv.Number, IssuedAt: time.Now(),
		Items: []posagent.Item{{Name: "咖啡", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.DecimalFromInt(total), Amount: posagent.DecimalFromInt(total)}},
		Total: total, TaxAmount: posagent.AllowanceTax(inv, total)}
}

// checkErr fails unless err has kind want ("" = no error).
func (e *env) checkErr(err error, want posagent.Kind) {
	e.t.Helper()
	if got := posagent.ErrorKind(err); got != want {
		e.t.Fatalf("error %v: kind %q, want %q", err, got, want)
	}
}

func asAPI(err error) *amego.APIError {
	var a *amego.APIError
	if errors.As(err, &a) {
		return a
	}
	return nil
}

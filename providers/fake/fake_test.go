package fake_test

import (
	"context"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/fake"
)

var ctx = context.Background()

func issued(n posagent.InvoiceNumber, saleID string) posagent.Invoice {
	return posagent.Invoice{
		Number: n, RandomCode: "1234", IssuedAt: time.Date(2026, 3, 5, 10, 0, 0, 0, posagent.Taipei),
		Seller: posagent.Seller{TaxID: "24634102", Name: "店"}, Print: true, TaxType: posagent.TaxTaxable,
		Items: []posagent.Item{{Name: "咖啡", Quantity: posagent.MustDecimal("2"), UnitPrice: posagent.MustDecimal("50"), Amount: posagent.MustDecimal("100")}},
		Total: 100, SalesAmount: 95, TaxAmount: 5, SaleID: saleID,
	}
}

func allowance(inv posagent.Invoice, n string, total int64) posagent.Allowance {
	return posagent.Allowance{Number: n, InvoiceNumber: inv.Number, IssuedAt: inv.IssuedAt, Total: total,
		Items: []posagent.Item{{Name: "咖啡", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.DecimalFromInt(total), Amount: posagent.DecimalFromInt(total)}}}
}

func kind(t *testing.T, err error, want posagent.Kind) {
	t.Helper()
	if got := posagent.ErrorKind(err); got != want {
		t.Fatalf("kind = %q (%v), want %q", got, err, want)
	}
}

func TestLifecycle(t *testing.T) {
	p := fake.New(fake.Options{})
	inv := issued("AB00000001", "S1")
	kind(t, p.Void(ctx, inv, posagent.Void{Number: inv.Number, VoidedAt: time.Now(), Reason: "x"}), posagent.KindNotFound)
	kind(t, p.Upload(ctx, inv), "")
	kind(t, p.Upload(ctx, inv), "") // idempotent
	other := issued("AB00000001", "S2")
	kind(t, p.Upload(ctx, other), posagent.KindConflict)
	kind(t, p.Upload(ctx, issued("AB00000002", "S1")), posagent.KindConflict)
	bad := issued("AB00000003", "S3")
	bad.RandomCode = ""
	kind(t, p.Upload(ctx, bad), posagent.KindInvalid)

	a := allowance(inv, "A1", 30)
	no, err := p.AllowNumbered(ctx, inv, a)
	if err != nil || no == "" {
		t.Fatalf("allow = %q, %v", no, err)
	}
	if again, err := p.AllowNumbered(ctx, inv, a); err != nil || again != no {
		t.Fatalf("allow again = %q, %v", again, err)
	}
	kind(t, p.Allow(ctx, inv, allowance(inv, "A2", 80)), posagent.KindInvalid) // more than remains
	v := posagent.Void{Number: inv.Number, VoidedAt: time.Now(), Reason: "退貨"}
	kind(t, p.Void(ctx, inv, v), posagent.KindConflict)
	kind(t, p.VoidAllowance(ctx, inv, a, "x"), "")
	kind(t, p.VoidAllowance(ctx, inv, allowance(inv, "A9", 1), "x"), posagent.KindNotFound)
	kind(t, p.Void(ctx, inv, v), "")
	kind(t, p.Void(ctx, inv, v), "") // already voided is success

	r, err := p.LookupInvoice(ctx, inv.Number, inv.IssuedAt, "")
	if err != nil || !r.Voided || r.Remaining != 100 || r.SaleID != "S1" {
		t.Fatalf("lookup = %+v, %v", r, err)
	}
	if r, err := p.LookupInvoice(ctx, "", time.Time{}, "S1"); err != nil || r.Number != inv.Number {
		t.Fatalf("lookup by sale = %+v, %v", r, err)
	}
	_, err = p.LookupInvoice(ctx, inv.Number, inv.IssuedAt.AddDate(0, 0, 1), "")
	kind(t, err, posagent.KindNotFound)

	if got := len(p.Invoices()); got != 1 {
		t.Fatalf("%d invoices", got)
	}
	calls := p.Calls()
	if calls[0].Method != fake.Void || calls[1].Method != fake.Upload || calls[0].Err == nil || calls[1].Err != nil {
		t.Fatalf("calls %+v", calls[:2])
	}
}

func TestScriptedFailures(t *testing.T) {
	p := fake.New(fake.Options{})
	inv := issued("AB00000001", "S1")
	p.FailNext(fake.Upload, 2, posagent.KindTransient)
	p.FailNext(fake.Upload, 1, posagent.KindRateLimited)
	kind(t, p.Upload(ctx, inv), posagent.KindTransient)
	kind(t, p.Upload(ctx, inv), posagent.KindTransient)
	err := p.Upload(ctx, inv)
	kind(t, err, posagent.KindRateLimited)
	if e := err.(*posagent.Error); e.RetryAfter == 0 {
		t.Fatal("rate limit without RetryAfter")
	}
	if len(p.Invoices()) != 0 {
		t.Fatal("a failed call did the work")
	}
	kind(t, p.Upload(ctx, inv), "")
	// Other methods are unaffected by Upload's script.
	p.FailNext(fake.Void, 1, posagent.KindConfig)
	kind(t, p.Upload(ctx, issued("AB00000002", "S2")), "")
	kind(t, p.Void(ctx, inv, posagent.Void{Number: inv.Number, VoidedAt: time.Now(), Reason: "x"}), posagent.KindConfig)
	if n := len(p.CallsOf(fake.Upload)); n != 5 {
		t.Fatalf("%d upload calls", n)
	}
}

func TestLostAnswer(t *testing.T) {
	p := fake.New(fake.Options{})
	inv := issued("AB00000001", "S1")
	p.LoseNext(fake.Upload, 1)
	kind(t, p.Upload(ctx, inv), posagent.KindTransient)
	if _, ok := p.Invoice(inv.Number); !ok {
		t.Fatal("the lost call did not do its work")
	}
	kind(t, p.Upload(ctx, inv), "")
	if len(p.Invoices()) != 1 {
		t.Fatal("duplicated")
	}
	p.LoseNext(fake.Allow, 1)
	a := allowance(inv, "A1", 10)
	kind(t, p.Allow(ctx, inv, a), posagent.KindTransient)
	kind(t, p.Allow(ctx, inv, a), "")
	if r, _ := p.Invoice(inv.Number); len(r.Allowances) != 1 || r.Remaining() != 90 {
		t.Fatalf("record %+v", r)
	}
}

func TestLatencyDownUp(t *testing.T) {
	p := fake.New(fake.Options{})
	p.SetLatency(time.Second)
	c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	kind(t, p.Upload(c, issued("AB00000001", "S1")), posagent.KindTransient)
	p.SetLatency(0)
	p.Down()
	kind(t, p.Upload(ctx, issued("AB00000001", "S1")), posagent.KindTransient)
	_, err := p.LeaseBooklets(ctx, posagent.LeaseRequest{Period: posagent.Period{Year: 115, EvenMonth: 4}})
	kind(t, err, posagent.KindTransient)
	p.Up()
	kind(t, p.Upload(ctx, issued("AB00000001", "S1")), "")
	p.FailNext(fake.Upload, 5, posagent.KindTransient)
	p.Reset()
	kind(t, p.Upload(ctx, issued("AB00000002", "S2")), "")
}

func TestLease(t *testing.T) {
	p := fake.New(fake.Options{Track: "XY", First: 12345600, Booklets: 3})
	per := posagent.Period{Year: 115, EvenMonth: 4}
	bs, err := p.LeaseBooklets(ctx, posagent.LeaseRequest{Period: per, Booklets: 2})
	if err != nil || len(bs) != 1 || bs[0].String() != "XY12345600-XY12345699" || bs[0].Period != per || bs[0].Source != "fake" {
		t.Fatalf("lease = %+v, %v", bs, err)
	}
	bs, err = p.LeaseBooklets(ctx, posagent.LeaseRequest{Period: per, Booklets: 2})
	if err != nil || bs[0].String() != "XY12345700-XY12345749" {
		t.Fatalf("second lease = %+v, %v", bs, err)
	}
	_, err = p.LeaseBooklets(ctx, posagent.LeaseRequest{Period: per})
	kind(t, err, posagent.KindExhausted)
	p.FailNext(fake.Lease, 1, posagent.KindConfig)
	_, err = p.LeaseBooklets(ctx, posagent.LeaseRequest{Period: per})
	kind(t, err, posagent.KindConfig)
}

package amego_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/providers/amego/amegotest"
	"github.com/posagent/posagent/qr"
)

// The docs' signing example (providers.md §1.1), derived from the formula.
func TestSignatureVector(t *testing.T) {
	got := amego.Sign(`{"type":"order","order_id":"POS1-000123"}`, "1781654751", amego.TestAppKey)
	if got != "221a0bd77f89df5dc33ec52b0a7f53da" {
		t.Fatalf("Sign = %s", got)
	}
	// No-data endpoints sign the empty string, not "{}".
	if amego.Sign("", "1781654751", amego.TestAppKey) == amego.Sign("{}", "1781654751", amego.TestAppKey) {
		t.Fatal("empty data and {} sign alike")
	}
}

func TestOrderID(t *testing.T) {
	long := strings.Repeat("s", 64)
	tests := []struct{ in, want string }{
		{"S01-260617-000123", "S01-260617-000123"},
		{strings.Repeat("a", 39), strings.Repeat("a", 39)},
	}
	for _, tt := range tests {
		if got := amego.OrderID(tt.in); got != tt.want {
			t.Errorf("OrderID(%q) = %q", tt.in, got)
		}
	}
	a, b := amego.OrderID(long), amego.OrderID(long[:63]+"t")
	if len(a) != amego.MaxOrderID || a == b || amego.OrderID(long) != a || !strings.HasPrefix(a, "ssssssssssss") {
		t.Fatalf("long ids: %q %q", a, b)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]amego.Config{
		"http":   {BaseURL: "http://invoice-api.amego.tw", Seller: amego.TestSeller, AppKey: "k"},
		"seller": {Seller: "1234567", AppKey: "k"},
		"key":    {Seller: amego.TestSeller},
		"url":    {BaseURL: "::", Seller: amego.TestSeller, AppKey: "k"},
	} {
		if _, err := amego.New(cfg); !posagent.IsKind(err, posagent.KindConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := amego.New(amego.Config{Seller: amego.TestSeller, AppKey: "k"}); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}

func TestServerClockOffset(t *testing.T) {
	e := newEnv(t)
	// Amego's clock runs 5 minutes ahead: our own time would be refused
	// (code 15); the offset from /json/time makes requests pass.
	e.srv.SetClockOffset(5 * time.Minute)
	if _, err := e.c.Tracks(e.ctx, e.period()); err != nil {
		t.Fatal(err)
	}
	skew, at, ok := e.c.ClockSkew()
	if !ok || at.IsZero() || skew > -4*time.Minute || skew < -6*time.Minute {
		t.Fatalf("ClockSkew = %v %v %v", skew, at, ok)
	}
	// Amego moves again: code 15 refreshes the offset and retries at once.
	e.srv.SetClockOffset(-3 * time.Minute)
	if _, err := e.c.Tracks(e.ctx, e.period()); err != nil {
		t.Fatalf("after code 15: %v", err)
	}
	if n := e.srv.Count("time"); n != 2 {
		t.Fatalf("/json/time fetched %d times, want 2", n)
	}
	// Every request carried a time inside Amego's window.
	for _, r := range e.srv.Requests() {
		if r.Endpoint == "track_status" && r.Code == 0 && r.Time == 0 {
			t.Fatalf("request without time: %+v", r)
		}
	}
	// A code 15 that persists although the time came from Amego's clock is KindClock.
	e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: "track_status", Code: 15, Msg: "時間 錯誤"}, 2)
	_, err := e.c.Tracks(e.ctx, e.period())
	e.checkErr(err, posagent.KindClock)
}

func TestLeaseAndTrackStatus(t *testing.T) {
	e := newEnv(t)
	p := e.period()
	b := e.lease(2)
	if b.Track != "ZZ" || b.First != 10000000 || b.Last != 10000099 || b.Period != p || b.Source != "amego" {
		t.Fatalf("lease = %+v", b)
	}
	b2 := e.lease(1)
	if b2.First != 10000100 || b2.Count() != 50 {
		t.Fatalf("second lease = %+v", b2)
	}
	// Western year and 0-based period on the wire.
	var req struct{ Year, Period, Book int }
	for _, r := range e.srv.Requests() {
		if r.Endpoint == "track_get" {
			if err := json.Unmarshal([]byte(r.Data), &req); err != nil {
				t.Fatal(err)
			}
		}
	}
	if req.Year != p.Year+1911 || req.Period != p.EvenMonth/2-1 || req.Book != 1 {
		t.Fatalf("track_get sent %+v for %s", req, p)
	}
	e.book, e.next = b, 0
	e.upload(e.sale("T1"))
	e.upload(e.sale("T2"))
	ts, err := e.c.Tracks(e.ctx, p)
	if err != nil || len(ts) != 2 {
		t.Fatalf("Tracks = %+v, %v", ts, err)
	}
	if ts[0].Left() != 98 || ts[1].Left() != 50 || int(ts[0].Total) != 2 || int(ts[0].Used) != 1 {
		t.Fatalf("track status %+v, left %d/%d", ts, ts[0].Left(), ts[1].Left())
	}
	// The other period has nothing leased.
	ts, err = e.c.Tracks(e.ctx, p.Next().Next())
	if err != nil || len(ts) != 0 {
		t.Fatalf("empty period: %+v, %v", ts, err)
	}
	// An empty pool is "no numbers": exhausted.
	e2 := newEnv(t, func(o *amegotest.Options, _ *amego.Config) {
		if o != nil {
			o.Pool = []amegotest.Allocation{{Period: p, Track: "AB", Start: 0, End: 49}}
		}
	})
	e2.lease(1)
	_, err = e2.c.LeaseBooklets(e2.ctx, posagent.LeaseRequest{Period: p, Booklets: 1})
	e2.checkErr(err, posagent.KindExhausted)
}

func TestUploadAndItsCodes(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("S01-260617-000123")
	e.upload(inv)
	got, ok := e.srv.Invoice(string(inv.Number))
	if !ok || got.OrderID != "S01-260617-000123" || got.Random != "4321" || got.PrintMark != "Y" || got.Buyer != "0000000000" ||
		got.BuyerName != "消費者" || got.Sales != 105 || got.Tax != 0 || got.Total != 105 || got.TaxType != 1 || got.Items != 2 ||
		!got.Date.Equal(inv.IssuedAt) {
		t.Fatalf("stand-in holds %+v", got)
	}
	// Amego's codes decode as MOF codes made with the key it holds.
	f, err := qr.Decode(got.QRLeft, got.QRRight)
	if err != nil {
		t.Fatalf("decode %q %q: %v", got.QRLeft, got.QRRight, err)
	}
	key, _ := qr.ParseKey(amegotest.DemoQRKey)
	if err := f.Verify(key); err != nil || f.SalesAmount != 100 || f.Total != 105 || f.Barcode() != got.Barcode || len(f.Items) != 2 {
		t.Fatalf("fields %+v: %v", f, err)
	}
	if len(e.c.ProviderAlarms()) != 0 {
		t.Fatalf("alarms with the right key: %+v", e.c.ProviderAlarms())
	}
	// Our JSON: one record, order_id in snake case, PascalCase fields.
	var sent []map[string]any
	for _, r := range e.srv.Requests() {
		if r.Endpoint == "f0401_custom" {
			if err := json.Unmarshal([]byte(r.Data), &sent); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(sent) != 1 || sent[0]["order_id"] != "S01-260617-000123" || sent[0]["InvoiceTime"] != inv.IssuedAt.In(posagent.Taipei).Format("15:04:05") ||
		sent[0]["TaxRate"] != "0.05" || sent[0]["DetailVat"] != float64(1) {
		t.Fatalf("sent %+v", sent)
	}
}

func TestUploadMapping(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		edit  func(*posagent.Invoice)
		check func(amegotest.Invoice) bool
	}{
		{"mobile carrier", func(i *posagent.Invoice) {
			i.Print, i.Carrier = false, posagent.Carrier{Type: posagent.CarrierMobile, ID: "/ABC+123"}
		}, func(g amegotest.Invoice) bool {
			return g.CarrierType == "3J0002" && g.CarrierID == "/ABC+123" && g.PrintMark == "N"
		}},
		{"citizen carrier", func(i *posagent.Invoice) {
			i.Print, i.Carrier = false, posagent.Carrier{Type: posagent.CarrierCitizen, ID: "AB12345678901234"}
		}, func(g amegotest.Invoice) bool { return g.CarrierType == "CQ0001" }},
		{"member carrier", func(i *posagent.Invoice) {
			i.Print, i.Carrier = false, posagent.Carrier{Type: posagent.CarrierMember, ID: "M0001"}
		}, func(g amegotest.Invoice) bool { return g.CarrierType == "amego" && g.CarrierID == "M0001" }},
		{"donation", func(i *posagent.Invoice) { i.Print, i.LoveCode = false, "168001" },
			func(g amegotest.Invoice) bool {
				return g.NPOBAN == "168001" && g.PrintMark == "N" && g.CarrierType == ""
			}},
		{"business buyer", func(i *posagent.Invoice) { i.Buyer = posagent.Buyer{TaxID: "53212539"} },
			func(g amegotest.Invoice) bool {
				return g.Buyer == "53212539" && g.BuyerName == "53212539" && g.Sales == 100 && g.Tax == 5 && g.Total == 105
			}},
		{"zero rated", func(i *posagent.Invoice) { i.TaxType, i.ZeroTaxReason = posagent.TaxZero, "71" },
			func(g amegotest.Invoice) bool { return g.TaxType == 2 && g.ZeroTax == 105 && g.Sales == 0 }},
		{"exempt", func(i *posagent.Invoice) { i.TaxType = posagent.TaxExempt },
			func(g amegotest.Invoice) bool { return g.TaxType == 3 && g.FreeTax == 105 }},
		{"mixed", func(i *posagent.Invoice) {
			i.TaxType = posagent.TaxMixed
			i.Items[0].TaxType, i.Items[1].TaxType = posagent.TaxTaxable, posagent.TaxExempt
		}, func(g amegotest.Invoice) bool { return g.TaxType == 9 && g.FreeTax == 40 && g.Sales == 65 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := e.sale("MAP-" + strings.ReplaceAll(tt.name, " ", "-"))
			tt.edit(&inv)
			s, _ := inv.SplitTax()
			inv.SalesAmount, inv.TaxAmount = s.Sales(), s.Tax
			if err := e.c.Upload(e.ctx, inv); err != nil {
				t.Fatal(err)
			}
			if got, _ := e.srv.Invoice(string(inv.Number)); !tt.check(got) {
				t.Fatalf("stand-in holds %+v", got)
			}
		})
	}
}

func TestUploadRefusals(t *testing.T) {
	e := newEnv(t)
	// Refused locally, before any call.
	bad := e.sale("R1")
	bad.Total = 1
	e.checkErr(e.c.Upload(e.ctx, bad), posagent.KindInvalid)
	other := e.sale("R2")
	other.Seller.TaxID = "53212539"
	e.checkErr(e.c.Upload(e.ctx, other), posagent.KindInvalid)
	// A number outside the leased tracks: Amego's code 99 with its message kept.
	out := e.sale("R3")
	out.Number = "ZZ10009990"
	err := e.c.Upload(e.ctx, out)
	e.checkErr(err, posagent.KindInvalid)
	if a := asAPI(err); a == nil || a.Code != 99 || !strings.Contains(err.Error(), "號碼不在字軌起訖內") {
		t.Fatalf("error %v", err)
	}
	// A track of another period.
	old := e.sale("R4")
	old.IssuedAt = e.period().Start().Add(-time.Hour)
	err = e.c.Upload(e.ctx, old)
	if !strings.Contains(err.Error(), "非當期字軌") {
		t.Fatalf("error %v", err)
	}
	// Past Amego's upload deadline.
	late := newEnv(t, func(o *amegotest.Options, _ *amego.Config) {
		if o != nil {
			o.UploadLimit = time.Second
		}
	})
	inv := late.sale("R5")
	err = late.c.Upload(late.ctx, inv)
	late.checkErr(err, posagent.KindInvalid)
	if !strings.Contains(err.Error(), "超過開立期限") || !strings.Contains(err.Error(), "back office") {
		t.Fatalf("error %v", err)
	}
	if len(e.srv.Invoices()) != 0 {
		t.Fatalf("refused uploads were kept: %+v", e.srv.Invoices())
	}
}

func TestDuplicateIsAdoptedOrConflict(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("D1")
	e.upload(inv)
	// The same invoice again (an earlier answer lost): confirmed and adopted.
	e.upload(inv)
	if !strings.Contains(e.logs.String(), "adopted") || len(e.srv.Invoices()) != 1 {
		t.Fatal("the duplicate was not adopted")
	}
	// Another invoice under the same number is a conflict for a person.
	other := inv
	other.RandomCode, other.SaleID = "9999", "D2"
	err := e.c.Upload(e.ctx, other)
	e.checkErr(err, posagent.KindConflict)
	if !strings.Contains(err.Error(), "random code") {
		t.Fatalf("error %v", err)
	}
	// The same sale id under another number: code 99 order_id, a data error.
	again := e.sale("D1")
	e.checkErr(e.c.Upload(e.ctx, again), posagent.KindInvalid)
}

func TestVoidAllowanceAndTheirVoids(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("V1")
	e.upload(inv)
	if err := e.c.Void(e.ctx, inv, voidOf(inv)); err != nil {
		t.Fatal(err)
	}
	got, _ := e.srv.Invoice(string(inv.Number))
	if !got.Voided || got.VoidReason != "客戶退貨" {
		t.Fatalf("stand-in holds %+v", got)
	}
	// Already voided (3050122) is success.
	if err := e.c.Void(e.ctx, inv, voidOf(inv)); err != nil {
		t.Fatal(err)
	}
	// A void of an invoice Amego does not hold: not found (the sync loop retries).
	ghost := e.sale("V2")
	e.checkErr(e.c.Void(e.ctx, ghost, voidOf(ghost)), posagent.KindNotFound)
	// An allowance on a voided invoice: 4040153.
	e.checkErr(e.c.Allow(e.ctx, inv, allowanceOf(inv, "A0", 21)), posagent.KindConflict)

	inv2 := e.sale("V3")
	e.upload(inv2)
	a := allowanceOf(inv2, "A1", 21)
	if err := e.c.Allow(e.ctx, inv2, a); err != nil {
		t.Fatal(err)
	}
	al := e.srv.Allowances()
	if len(al) != 1 || al[0].Number != "A1" || al[0].Type != 2 || al[0].Total != 20 || al[0].Tax != 1 || al[0].InvoiceNo != string(inv2.Number) {
		t.Fatalf("allowances %+v", al)
	}
	// Our number again: already there, confirmed with invoice_query, adopted.
	if err := e.c.Allow(e.ctx, inv2, a); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.logs.String(), "amego allowance already there; adopted") {
		t.Fatal("the allowance was not confirmed")
	}
	// Our number with another amount: a conflict, not adopted.
	e.checkErr(e.c.Allow(e.ctx, inv2, allowanceOf(inv2, "A1", 10)), posagent.KindConflict)
	// More than what is left: 4040173, invalid.
	e.checkErr(e.c.Allow(e.ctx, inv2, allowanceOf(inv2, "A2", 100)), posagent.KindInvalid)
	// An invoice with an allowance can no longer be voided (3050141).
	err := e.c.Void(e.ctx, inv2, voidOf(inv2))
	e.checkErr(err, posagent.KindConflict)
	if !strings.Contains(err.Error(), "allowance") {
		t.Fatalf("error %v", err)
	}
	// The allowance's void; g0501 answers its code as a string.
	if err := e.c.VoidAllowance(e.ctx, inv2, a, "錯誤"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.VoidAllowance(e.ctx, inv2, a, "錯誤"); err != nil {
		t.Fatalf("already voided: %v", err)
	}
	if al := e.srv.Allowances(); !al[0].Voided {
		t.Fatal("the allowance is not voided")
	}
	e.checkErr(e.c.VoidAllowance(e.ctx, inv2, allowanceOf(inv2, "NOPE", 1), "x"), posagent.KindNotFound)
	// Still no void after a voided allowance (providers.md §1.4).
	e.checkErr(e.c.Void(e.ctx, inv2, voidOf(inv2)), posagent.KindConflict)
}

func TestAllowanceTaxSpread(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("AT1")
	e.upload(inv)
	a := posagent.Allowance{Number: "AT1-1", InvoiceNumber: inv.Number, IssuedAt: time.Now(), Total: 63,
		Items: []posagent.Item{
			{Name: "咖啡", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("43"), Amount: posagent.MustDecimal("43")},
			{Name: "可頌", Quantity: posagent.MustDecimal("2"), UnitPrice: posagent.MustDecimal("10"), Amount: posagent.MustDecimal("20")},
		}}
	a.TaxAmount = posagent.AllowanceTax(inv, a.Total)
	if err := e.c.Allow(e.ctx, inv, a); err != nil {
		t.Fatal(err)
	}
	var sent []struct {
		ProductItem []struct {
			Amount, UnitPrice json.Number
			Tax               int64
		}
		TaxAmount, TotalAmount int64
	}
	for _, r := range e.srv.Requests() {
		if r.Endpoint == "g0401" {
			json.Unmarshal([]byte(r.Data), &sent)
		}
	}
	it := sent[0].ProductItem
	if sent[0].TaxAmount != 3 || sent[0].TotalAmount != 60 || it[0].Tax+it[1].Tax != 3 || it[0].Amount != "41" || it[1].Amount != "19" || it[1].UnitPrice != "9.5" {
		t.Fatalf("sent %+v", sent)
	}
}

func TestLookups(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("L1")
	e.upload(inv)
	for _, by := range []struct {
		n  posagent.InvoiceNumber
		id string
	}{{inv.Number, ""}, {"", "L1"}} {
		r, err := e.c.LookupInvoice(e.ctx, by.n, time.Time{}, by.id)
		if err != nil || r.Number != inv.Number || r.RandomCode != "4321" || r.Total != 105 || r.SaleID != "L1" ||
			!r.IssuedAt.Equal(inv.IssuedAt) || r.Voided {
			t.Fatalf("lookup %+v: %+v, %v", by, r, err)
		}
	}
	_, err := e.c.LookupInvoice(e.ctx, "ZZ00000001", time.Time{}, "")
	e.checkErr(err, posagent.KindNotFound)
	st, err := e.c.InvoiceStatus(e.ctx, inv.Number, "ZZ00000001")
	if err != nil || len(st) != 2 || st[0].Type != "C0401" || st[0].Status != 99 || st[1].Type != "NOT_FOUND" {
		t.Fatalf("status %+v, %v", st, err)
	}
	if err := e.c.Void(e.ctx, inv, voidOf(inv)); err != nil {
		t.Fatal(err)
	}
	if r, err := e.c.LookupInvoice(e.ctx, inv.Number, time.Time{}, ""); err != nil || !r.Voided {
		t.Fatalf("voided lookup %+v, %v", r, err)
	}
}

func TestQRKeyMismatchAlarm(t *testing.T) {
	// The till prints with the MOF test key; Amego holds another.
	e := newEnv(t, func(o *amegotest.Options, _ *amego.Config) {
		if o != nil {
			o.QRKey = qr.DeriveKey("another seed")
		}
	}, func(_ *amegotest.Options, c *amego.Config) {
		if c != nil {
			c.QRKey, _ = qr.ParseKey(amegotest.DemoQRKey)
		}
	})
	first, second := e.sale("Q1"), e.sale("Q2")
	e.upload(first)
	e.upload(second) // uploads go on
	al := e.c.ProviderAlarms()
	if len(al) != 1 || al[0].Level != posagent.AlarmCritical || al[0].Code != "qr_key_mismatch" ||
		!strings.Contains(al[0].Message, "2 uploaded invoices") || !strings.Contains(al[0].Message, string(first.Number)) ||
		!strings.Contains(al[0].Message, "qr.key") {
		t.Fatalf("alarms %+v", al)
	}
	if len(e.srv.Invoices()) != 2 {
		t.Fatal("uploads stopped")
	}
	for _, s := range []string{amegotest.DemoQRKey, qr.DeriveKey("another seed").Hex()} {
		if strings.Contains(al[0].Message, s) || strings.Contains(e.logs.String(), s) {
			t.Fatal("a key leaked into the alarm or the log")
		}
	}
	// Without a key the check is off.
	off := newEnv(t, func(_ *amegotest.Options, c *amego.Config) {
		if c != nil {
			c.QRKey = qr.Key{}
		}
	}, func(o *amegotest.Options, _ *amego.Config) {
		if o != nil {
			o.QRKey = qr.DeriveKey("x")
		}
	})
	off.upload(off.sale("Q3"))
	if len(off.c.ProviderAlarms()) != 0 {
		t.Fatal("an alarm without a key to check")
	}
}

func TestCodeMapping(t *testing.T) {
	tests := []struct {
		code int64
		msg  string
		want posagent.Kind
	}{
		{10, "系統維護中", posagent.KindTransient},
		{18, "資料庫異常", posagent.KindTransient},
		{21, "使用人數過多", posagent.KindRateLimited},
		{11, "", posagent.KindConfig}, {12, "", posagent.KindConfig}, {13, "", posagent.KindConfig}, {14, "", posagent.KindConfig},
		{16, "簽名錯誤", posagent.KindConfig}, {19, "", posagent.KindConfig}, {22, "", posagent.KindConfig},
		{17, "", posagent.KindInvalid}, {20, "", posagent.KindInvalid}, {23, "", posagent.KindInvalid},
		{31, "", posagent.KindInvalid}, {36, "", posagent.KindInvalid},
		{99, "第1筆 發票號碼AA00000010 InvoiceDate 錯誤", posagent.KindInvalid},
		{99, "第1筆 發票號碼AA00000010 註銷中", posagent.KindConflict},
		{99, "第1筆 發票號碼AA00000010 InvoiceNumber 超過開立期限", posagent.KindInvalid},
		{3040111, "", posagent.KindExhausted}, {3040191, "", posagent.KindExhausted},
		{3040132, "載具錯誤", posagent.KindInvalid}, {3040137, "", posagent.KindInvalid},
		{3040192, "", posagent.KindTransient},
		{3050111, "", posagent.KindInvalid}, {3050121, "", posagent.KindTransient},
		{3050123, "", posagent.KindConflict}, {3050125, "", posagent.KindNotFound},
		{3050126, "", posagent.KindConflict}, {3050141, "", posagent.KindConflict},
		{4040145, "", posagent.KindInvalid}, {4040153, "", posagent.KindConflict}, {4040156, "", posagent.KindNotFound},
		{4040158, "", posagent.KindTransient}, {4040163, "", posagent.KindInvalid},
		{4050121, "", posagent.KindInvalid}, {4050131, "", posagent.KindTransient}, {4050134, "", posagent.KindNotFound},
		{4050135, "", posagent.KindConflict},
		{51, "", posagent.KindNotFound}, {52, "", posagent.KindTransient}, {56, "", posagent.KindInvalid}, {71, "", posagent.KindNotFound},
		{123456, "something new", posagent.KindInvalid},
	}
	e := newEnv(t)
	for _, tt := range tests {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: "invoice_status", Code: tt.code, Msg: tt.msg}, 1)
		_, err := e.c.InvoiceStatus(e.ctx, "ZZ10000000")
		if got := posagent.ErrorKind(err); got != tt.want {
			t.Errorf("code %d %q: kind %q, want %q", tt.code, tt.msg, got, tt.want)
		}
		if a := asAPI(err); a == nil || a.Code != tt.code || a.Endpoint != "invoice_status" {
			t.Errorf("code %d: APIError %+v", tt.code, a)
		}
	}
	// Void codes that mean "done already" are success, and g0501 sends its code as a string.
	inv := e.sale("CM1")
	e.upload(inv)
	for _, f := range []amegotest.Fault{
		{Kind: amegotest.FaultCode, Endpoint: "f0501", Code: 3050122}, {Kind: amegotest.FaultCode, Endpoint: "f0501", Code: 3050131},
		{Kind: amegotest.FaultCode, Endpoint: "g0501", Code: 4050132}, {Kind: amegotest.FaultCode, Endpoint: "g0501", Code: 4050141},
	} {
		e.srv.Inject(f, 1)
		var err error
		if f.Endpoint == "f0501" {
			err = e.c.Void(e.ctx, inv, voidOf(inv))
		} else {
			err = e.c.VoidAllowance(e.ctx, inv, allowanceOf(inv, "X1", 1), "x")
		}
		if err != nil {
			t.Fatalf("%s %d: %v", f.Endpoint, f.Code, err)
		}
	}
	e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: "g0501", Code: 4050134, Msg: "不存在"}, 1)
	e.checkErr(e.c.VoidAllowance(e.ctx, inv, allowanceOf(inv, "X1", 1), "x"), posagent.KindNotFound)
	// HTTP errors.
	for st, want := range map[int]posagent.Kind{500: posagent.KindTransient, 503: posagent.KindTransient, 429: posagent.KindRateLimited, 404: posagent.KindConfig} {
		e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultStatus, Status: st}, 1)
		_, err := e.c.InvoiceStatus(e.ctx, "ZZ10000000")
		e.checkErr(err, want)
	}
	e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultMalformed}, 1)
	_, err := e.c.InvoiceStatus(e.ctx, "ZZ10000000")
	e.checkErr(err, posagent.KindTransient)
}

func TestWrongCredentials(t *testing.T) {
	for name, tweak := range map[string]func(*amegotest.Options, *amego.Config){
		"app key": func(_ *amegotest.Options, c *amego.Config) {
			if c != nil {
				c.AppKey = "not-the-key-0000"
			}
		},
		"seller": func(_ *amegotest.Options, c *amego.Config) {
			if c != nil {
				c.Seller = "53212539"
			}
		},
	} {
		e := newEnv(t, tweak)
		_, err := e.c.Tracks(e.ctx, e.period())
		e.checkErr(err, posagent.KindConfig)
		if strings.Contains(err.Error(), "not-the-key-0000") || strings.Contains(err.Error(), amego.TestAppKey) {
			t.Fatalf("%s: the error shows the key: %v", name, err)
		}
	}
}

// TestFastClockHoldsUploadsBack: this till's clock runs 5 minutes ahead of
// Amego's, so a fresh invoice is dated in Amego's future: the upload is a
// clock error with the skew (an alarm), not a dead job, and goes through
// once the clocks agree.
func TestFastClockHoldsUploadsBack(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("FAST1")
	e.srv.SetClockOffset(-5 * time.Minute)
	err := e.c.Upload(e.ctx, inv)
	e.checkErr(err, posagent.KindClock)
	var pe *posagent.Error
	if !errors.As(err, &pe) || pe.Skew < 4*time.Minute || pe.Skew > 6*time.Minute {
		t.Fatalf("error %+v", pe)
	}
	if len(e.srv.Invoices()) != 0 {
		t.Fatal("uploaded anyway")
	}
	// Now the offset is known: the next try is held back before any call.
	sent := e.srv.Count("f0401_custom")
	e.checkErr(e.c.Upload(e.ctx, inv), posagent.KindClock)
	if e.srv.Count("f0401_custom") != sent {
		t.Fatal("an upload Amego must refuse was sent")
	}
	e.srv.SetClockOffset(0)
	if err := e.c.SyncTime(e.ctx); err != nil {
		t.Fatal(err)
	}
	e.upload(inv)
}

// TestUploadAnswerShapes: an answer of one object is read like a list of one;
// a success without QR texts keeps the invoice uploaded and skips the check.
func TestUploadAnswerShapes(t *testing.T) {
	e := newEnv(t, func(o *amegotest.Options, _ *amego.Config) {
		if o != nil {
			o.QRKey = qr.DeriveKey("another seed")
		}
	})
	inv := e.sale("SHAPE1")
	// The object carries a verification field that is not the till's.
	left := string(inv.Number) + strings.Repeat("0", 7+4+32) + strings.Repeat("A", 24) + ":**********:1:1:0:"
	e.srv.Inject(amegotest.Fault{Kind: amegotest.FaultData, Endpoint: "f0401_custom",
		Data: `{"invoice_number":"` + string(inv.Number) + `","qrcode_left":"` + left + `","qrcode_right":"**"}`}, 1)
	e.upload(inv)
	if al := e.c.ProviderAlarms(); len(al) != 1 {
		t.Fatalf("the object answer was not checked: %+v", al)
	}
	for _, data := range []string{`null`, `[]`, `"ok"`, `[{"invoice_number":"` + string(inv.Number) + `"}]`} {
		other := newEnv(t)
		s := other.sale("SHAPE2")
		other.srv.Inject(amegotest.Fault{Kind: amegotest.FaultData, Endpoint: "f0401_custom", Data: data}, 1)
		other.upload(s)
		if len(other.c.ProviderAlarms()) != 0 || len(other.srv.Invoices()) != 1 {
			t.Fatalf("%s: alarms %+v", data, other.c.ProviderAlarms())
		}
		if !strings.Contains(other.logs.String(), "check is skipped") {
			t.Fatalf("%s: the skipped check was not logged", data)
		}
	}
}

// TestTimeRefresh: the offset is fetched again once it is older than
// TimeRefresh, so a local clock that jumps does not cost a code 15.
func TestTimeRefresh(t *testing.T) {
	var mu sync.Mutex
	jump := time.Duration(0)
	e := newEnv(t, func(_ *amegotest.Options, c *amego.Config) {
		if c != nil {
			c.TimeRefresh = 5 * time.Minute
			c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(jump) }
		}
	})
	for range 3 {
		if _, err := e.c.Tracks(e.ctx, e.period()); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.srv.Count("time"); n != 1 {
		t.Fatalf("/json/time fetched %d times within TimeRefresh", n)
	}
	mu.Lock()
	jump = 6 * time.Minute // our clock jumps ahead; Amego's does not
	mu.Unlock()
	if _, err := e.c.Tracks(e.ctx, e.period()); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.Count("time"); n != 2 {
		t.Fatalf("/json/time fetched %d times, want 2", n)
	}
	for _, r := range e.srv.Requests() {
		if r.Code == 15 {
			t.Fatalf("a request was refused for its time: %+v", r)
		}
	}
	if skew, _, _ := e.c.ClockSkew(); skew < 5*time.Minute || skew > 7*time.Minute {
		t.Fatalf("skew %v", skew)
	}
}

// No Amego endpoint for blank numbers is known: the client must not claim to
// report them, so that the agent's blank-report job says what to file by hand
// on the MOF platform, and by when.
func TestNoBlankReporter(t *testing.T) {
	e := newEnv(t)
	if _, ok := any(e.c).(posagent.BlankReporter); ok {
		t.Fatal("the Amego client claims to report blank numbers")
	}
}

package ecpay_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/ecpay"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

func TestMachines(t *testing.T) {
	e := newEnv(t)
	if err := e.c.SetMachine(e.ctx, ecpay.MachineAdd, "POS01", "收銀台一"); err != nil {
		t.Fatal(err)
	}
	e.checkErr(e.c.SetMachine(e.ctx, ecpay.MachineAdd, "POS01", ""), posagent.KindDuplicate)
	e.checkErr(e.c.SetMachine(e.ctx, ecpay.MachineAdd, "POS-01", ""), posagent.KindInvalid) // refused locally
	if err := e.c.SetMachine(e.ctx, ecpay.MachineAdd, "POS02", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.c.SetMachine(e.ctx, ecpay.MachineEdit, "POS02", "備用"); err != nil {
		t.Fatal(err)
	}
	ms, err := e.c.Machines(e.ctx)
	if err != nil || len(ms) != 2 || ms[0].MachineID != "POS01" || ms[1].Remark != "備用" {
		t.Fatalf("Machines = %+v, %v", ms, err)
	}
	if err := e.c.SetMachine(e.ctx, ecpay.MachineDelete, "POS02", ""); err != nil {
		t.Fatal(err)
	}
	e.checkErr(e.c.SetMachine(e.ctx, ecpay.MachineDelete, "POS02", ""), posagent.KindNotFound)
	// EnsureMachine is idempotent.
	if err := e.c.EnsureMachine(e.ctx); err != nil {
		t.Fatal(err)
	}
	// A machine with a bound track cannot be deleted.
	e.lease()
	e.checkErr(e.c.SetMachine(e.ctx, ecpay.MachineDelete, "POS01", ""), posagent.KindInvalid)
}

func TestTracksAndLeaseRange(t *testing.T) {
	e := newEnv(t)
	p := e.period()
	gov, err := e.c.GovTracks(e.ctx, p.Year)
	if err != nil || len(gov) == 0 || gov[0].InvoiceHeader != "ZZ" || gov[0].Number != 200 {
		t.Fatalf("GovTracks = %+v, %v", gov, err)
	}
	b := e.lease()
	if b.Track != "ZZ" || b.First != 10000000 || b.Last != 10000049 || b.Period != p || b.Source != "ecpay" {
		t.Fatalf("lease = %+v", b)
	}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	// The next lease binds the next booklets, never the same numbers.
	bs, err := e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: p, MachineID: "POS01", Booklets: 3})
	if err != nil || len(bs) != 1 || bs[0].First != 10000050 || bs[0].Booklets() != 3 {
		t.Fatalf("second lease = %+v, %v", bs, err)
	}
	tracks, err := e.c.Tracks(e.ctx, ecpay.TrackQuery{Period: p, Category: ecpay.CategoryOffline})
	if err != nil || len(tracks) != 2 {
		t.Fatalf("Tracks = %+v, %v", tracks, err)
	}
	for _, tr := range tracks {
		if ecpay.UseStatus(tr.UseStatus) != ecpay.UseInUse || tr.MachineID != "POS01" {
			t.Fatalf("track %+v is not enabled for POS01", tr)
		}
	}
	// GetOfflineInvoiceWordSetting pads numbers with spaces; the client trims them.
	r, err := e.c.OfflineRange(e.ctx, p, ecpay.RangeActive)
	if err != nil || r.Header != "ZZ" || r.Start != 10000050 || r.End != 10000199 || r.Times < 2 {
		t.Fatalf("OfflineRange = %+v, %v", r, err)
	}
	r2, err := e.c.OfflineRange(e.ctx, p, ecpay.RangeStandby)
	if err != nil || r2.Start != 10000000 {
		t.Fatalf("standby range = %+v, %v", r2, err)
	}
	// Disabled tracks are listed under UseDisabled.
	if err := e.c.SetTrackStatus(e.ctx, string(tracks[0].TrackID), ecpay.TrackDisabled); err != nil {
		t.Fatal(err)
	}
	dis, err := e.c.Tracks(e.ctx, ecpay.TrackQuery{Period: p, Category: ecpay.CategoryOffline, Status: ecpay.UseDisabled})
	if err != nil || len(dis) != 1 {
		t.Fatalf("disabled tracks = %+v, %v", dis, err)
	}
	e.checkErr(e.c.SetTrackStatus(e.ctx, string(tracks[0].TrackID), ecpay.TrackEnabled), posagent.KindInvalid)
	e.checkErr(e.c.SetTrackStatus(e.ctx, "9999999999", ecpay.TrackEnabled), posagent.KindNotFound)
}

func TestLeaseNumbersMode(t *testing.T) {
	e := newEnv(t)
	e.c.SetLeaseMode(ecpay.LeaseNumbers)
	b := e.lease()
	if b.Count() != 50 {
		t.Fatalf("lease = %+v", b)
	}
	nums, times, err := e.c.OfflineNumbers(e.ctx, e.period(), ecpay.RangeActive)
	if err != nil || len(nums) != 50 || times < 2 {
		t.Fatalf("OfflineNumbers = %d numbers, times %d, %v", len(nums), times, err)
	}
	for _, n := range nums {
		if !b.Contains(n.InvoiceNo) || !posagent.ValidRandomCode(n.RandomNumber) || len(n.EncryptData) != 24 {
			t.Fatalf("number %+v", n)
		}
	}
}

func TestLeaseRecoversABoundButDisabledTrack(t *testing.T) {
	e := newEnv(t)
	p := e.period()
	if err := e.c.EnsureMachine(e.ctx); err != nil {
		t.Fatal(err)
	}
	// As if a lease stopped after AddInvoiceWordSetting.
	if _, err := e.c.AddTrack(e.ctx, ecpay.NewTrack{Period: p, InvType: "07", Category: ecpay.CategoryOffline,
		Header: "ZZ", Start: 10000100, End: 10000149, MachineID: "POS01"}); err != nil {
		t.Fatal(err)
	}
	b := e.lease()
	if b.First != 10000100 || b.Last != 10000149 {
		t.Fatalf("lease = %+v, want the orphaned track", b)
	}
	if got := len(e.srv.Tracks()); got != 1 {
		t.Fatalf("%d tracks bound, want 1", got)
	}
}

func TestLeaseExhausted(t *testing.T) {
	p := posagent.PeriodOf(time.Now())
	e := newEnv(t, func(o *ecpaytest.Options, _ *ecpay.Config) {
		if o != nil {
			o.Pool = []ecpaytest.Allocation{{Year: p.Year, Term: p.Term(), InvType: "07", Header: "QQ", Start: 20000000, End: 20000099}}
		}
	})
	bs, err := e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: p, MachineID: "POS01", Booklets: 5})
	if err != nil || len(bs) != 1 || bs[0].Booklets() != 2 {
		t.Fatalf("lease = %+v, %v (want what is left: 2 booklets)", bs, err)
	}
	_, err = e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: p, MachineID: "POS01", Booklets: 1})
	e.checkErr(err, posagent.KindExhausted)
	_, err = e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: p, MachineID: "POS09"})
	e.checkErr(err, posagent.KindInvalid)
}

func TestUploadVoidLookup(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("S0001")
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatal(err)
	}
	got, ok := e.srv.Invoice(string(inv.Number))
	if !ok || got.RelateNumber != "S0001" || got.SalesAmount != 111 || got.TaxAmount != 5 || got.RandomNumber != "4821" ||
		got.MachineID != "POS01" || got.Items != 2 || !got.Date.Equal(inv.IssuedAt) || got.Print != "1" {
		t.Fatalf("stand-in holds %+v", got)
	}
	// Re-uploading the same invoice is adopted.
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatalf("re-upload: %v", err)
	}
	// Lookup by number and by sale id.
	r, err := e.c.LookupInvoice(e.ctx, inv.Number, inv.IssuedAt, "")
	if err != nil || r.Number != inv.Number || r.Total != 111 || r.RandomCode != "4821" || r.Remaining != 111 || r.Voided || !r.IssuedAt.Equal(inv.IssuedAt) {
		t.Fatalf("lookup by number = %+v, %v", r, err)
	}
	r, err = e.c.LookupInvoice(e.ctx, "", time.Time{}, "S0001")
	if err != nil || r.Number != inv.Number || r.SaleID != "S0001" {
		t.Fatalf("lookup by sale = %+v, %v", r, err)
	}
	_, err = e.c.LookupInvoice(e.ctx, "", time.Time{}, "nope")
	e.checkErr(err, posagent.KindNotFound)
	_, err = e.c.LookupInvoice(e.ctx, inv.Number, inv.IssuedAt.AddDate(0, 0, -1), "")
	e.checkErr(err, posagent.KindNotFound)

	// A different invoice under the same number is a conflict, not adopted.
	other := inv
	other.SaleID, other.Items, other.Total, other.SalesAmount, other.TaxAmount = "S0002", inv.Items[:1], 100, 95, 5
	e.checkErr(e.c.Upload(e.ctx, other), posagent.KindConflict)
	// The same sale id with another number is a duplicate RelateNumber → conflict after lookup.
	again := e.sale("S0001")
	e.checkErr(e.c.Upload(e.ctx, again), posagent.KindConflict)

	v := voidOf(inv)
	if err := e.c.Void(e.ctx, inv, v); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.srv.Invoice(string(inv.Number)); !got.Voided || got.VoidReason != "客戶退貨" {
		t.Fatalf("stand-in holds %+v", got)
	}
	if err := e.c.Void(e.ctx, inv, v); err != nil {
		t.Fatalf("second void (already voided = success): %v", err)
	}
	r, _ = e.c.LookupInvoice(e.ctx, inv.Number, inv.IssuedAt, "")
	if !r.Voided {
		t.Fatalf("lookup after void = %+v", r)
	}
	// A void before the upload is refused as not found.
	never := e.sale("S0003")
	e.checkErr(e.c.Void(e.ctx, never, voidOf(never)), posagent.KindNotFound)
}

func TestUploadOutsideLeasedRange(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("S0100")
	inv.Number = "ZZ10009999" // in the MOF allocation, not bound to POS01
	e.checkErr(e.c.Upload(e.ctx, inv), posagent.KindInvalid)
	if n := len(e.srv.Invoices()); n != 0 {
		t.Fatalf("stand-in accepted %d invoices", n)
	}
}

func TestUploadMapsTheDomain(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name  string
		edit  func(*posagent.Invoice)
		check func(ecpaytest.Invoice) bool
	}{
		{"mobile carrier", func(i *posagent.Invoice) {
			i.Print, i.Carrier = false, posagent.Carrier{Type: posagent.CarrierMobile, ID: "/ABC+123"}
		}, func(g ecpaytest.Invoice) bool {
			return g.CarrierType == "3" && g.CarrierNum == "/ABC+123" && g.Print == "0"
		}},
		{"citizen carrier", func(i *posagent.Invoice) {
			i.Print, i.Carrier = false, posagent.Carrier{Type: posagent.CarrierCitizen, ID: "AB12345678901234"}
		}, func(g ecpaytest.Invoice) bool { return g.CarrierType == "2" && g.CarrierNum == "AB12345678901234" }},
		// ECPay keys a member carrier by the buyer's e-mail or phone (i301 §13).
		{"member carrier by e-mail", func(i *posagent.Invoice) {
			i.Print, i.Carrier = false, posagent.Carrier{Type: posagent.CarrierMember, ID: "buyer@example.com"}
		}, func(g ecpaytest.Invoice) bool {
			return g.CarrierType == "1" && g.CarrierNum == "" && g.Email == "buyer@example.com" && g.Phone == ""
		}},
		{"member carrier by phone", func(i *posagent.Invoice) {
			i.Print, i.Carrier = false, posagent.Carrier{Type: posagent.CarrierMember, ID: "0911222333"}
		}, func(g ecpaytest.Invoice) bool {
			return g.CarrierType == "1" && g.CarrierNum == "" && g.Phone == "0911222333" && g.Email == ""
		}},
		{"donation", func(i *posagent.Invoice) { i.Print, i.LoveCode = false, "168001" },
			func(g ecpaytest.Invoice) bool { return g.LoveCode == "168001" && g.Print == "0" }},
		{"business buyer", func(i *posagent.Invoice) {
			i.Buyer = posagent.Buyer{TaxID: "53212539", Name: "測試股份有限公司"}
		},
			func(g ecpaytest.Invoice) bool { return g.Identifier == "53212539" && g.Print == "1" }},
		{"zero rated", func(i *posagent.Invoice) {
			i.TaxType, i.ZeroTaxReason, i.SalesAmount, i.TaxAmount = posagent.TaxZero, "71", 111, 0
		}, func(g ecpaytest.Invoice) bool { return g.TaxType == "2" }},
		{"exempt", func(i *posagent.Invoice) { i.TaxType, i.SalesAmount, i.TaxAmount = posagent.TaxExempt, 111, 0 },
			func(g ecpaytest.Invoice) bool { return g.TaxType == "3" }},
		{"special", func(i *posagent.Invoice) {
			i.TaxType, i.SpecialTaxType = posagent.TaxSpecial, 1
			i.SalesAmount, i.TaxAmount = 89, 22
		}, func(g ecpaytest.Invoice) bool { return g.TaxType == "4" }},
		{"mixed", func(i *posagent.Invoice) {
			i.TaxType, i.ZeroTaxReason = posagent.TaxMixed, "72"
			i.Items[0].TaxType, i.Items[1].TaxType = posagent.TaxTaxable, posagent.TaxZero
			s, _ := i.SplitTax()
			i.SalesAmount, i.TaxAmount = s.Sales(), s.Tax
		}, func(g ecpaytest.Invoice) bool { return g.TaxType == "9" }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := e.sale("MAP" + string(rune('A'+i)))
			tt.edit(&inv)
			if err := inv.ValidateIssued(); err != nil {
				t.Fatalf("test invoice: %v", err)
			}
			if err := e.c.Upload(e.ctx, inv); err != nil {
				t.Fatal(err)
			}
			got, _ := e.srv.Invoice(string(inv.Number))
			if !tt.check(got) {
				t.Fatalf("stand-in holds %+v", got)
			}
		})
	}
}

func TestUploadRefusesBadInvoicesLocally(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("")
	e.checkErr(e.c.Upload(e.ctx, inv), posagent.KindInvalid)
	inv = e.sale("S1")
	inv.RandomCode = ""
	e.checkErr(e.c.Upload(e.ctx, inv), posagent.KindInvalid)
	if got := len(e.srv.Requests()); got != 0 {
		// the lease made requests; only count uploads
		for _, r := range e.srv.Requests() {
			if r.Endpoint == "OfflineIssue" {
				t.Fatal("a locally invalid invoice reached the server")
			}
		}
	}
}

func TestOnlineIssueVoidAllowance(t *testing.T) {
	e := newEnv(t)
	p := e.period()
	id, err := e.c.AddTrack(e.ctx, ecpay.NewTrack{Period: p, InvType: "07", Category: ecpay.CategoryOnline, Header: "ZZ", Start: 10005000, End: 10005049})
	if err != nil {
		t.Fatal(err)
	}
	// New online tracks start disabled: Issue fails until enabled.
	_, err = e.c.IssueOnline(e.ctx, sampleSale("ON1"))
	e.checkErr(err, posagent.KindConfig)
	if err := e.c.SetTrackStatus(e.ctx, id, ecpay.TrackEnabled); err != nil {
		t.Fatal(err)
	}
	online, err := e.c.Tracks(e.ctx, ecpay.TrackQuery{Period: p, Category: ecpay.CategoryOnline, Status: ecpay.UseInUse})
	if err != nil || len(online) != 1 || string(online[0].TrackID) != id {
		t.Fatalf("online tracks = %+v, %v", online, err)
	}

	inv, err := e.c.IssueOnline(e.ctx, sampleSale("ON1"))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Number != "ZZ10005000" || !posagent.ValidRandomCode(inv.RandomCode) || inv.IssuedAt.IsZero() {
		t.Fatalf("issued %+v", inv)
	}
	if err := inv.ValidateIssued(); err != nil {
		t.Fatal(err)
	}
	// Issuing the same sale again adopts the first invoice.
	again, err := e.c.IssueOnline(e.ctx, sampleSale("ON1"))
	if err != nil || again.Number != inv.Number || again.RandomCode != inv.RandomCode || !again.IssuedAt.Equal(inv.IssuedAt) {
		t.Fatalf("second issue = %+v, %v", again, err)
	}
	// The same sale id with other content is a conflict.
	changed := sampleSale("ON1")
	changed.Items, changed.Total, changed.SalesAmount, changed.TaxAmount = changed.Items[:1], 100, 95, 5
	_, err = e.c.IssueOnline(e.ctx, changed)
	e.checkErr(err, posagent.KindConflict)
	if n := len(e.srv.Invoices()); n != 1 {
		t.Fatalf("stand-in holds %d invoices", n)
	}

	a := allowanceOf(inv, "A1")
	no, err := e.c.AllowNumbered(e.ctx, inv, a)
	if err != nil || len(no) != 16 {
		t.Fatalf("allowance = %q, %v", no, err)
	}
	r, _ := e.c.LookupInvoice(e.ctx, inv.Number, inv.IssuedAt, "")
	if r.Remaining != 61 {
		t.Fatalf("remaining after allowance = %d", r.Remaining)
	}
	// An invoice with allowances cannot be voided.
	e.checkErr(e.c.VoidOnline(e.ctx, inv, voidOf(inv)), posagent.KindConflict)
	a.ProviderNumber = no
	if err := e.c.VoidAllowance(e.ctx, inv, a, "輸入錯誤"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.VoidAllowance(e.ctx, inv, a, "輸入錯誤"); err != nil {
		t.Fatalf("already voided allowance: %v", err)
	}
	a.ProviderNumber = "2026000000000099"
	e.checkErr(e.c.VoidAllowance(e.ctx, inv, a, "x"), posagent.KindNotFound)
	a.ProviderNumber = ""
	e.checkErr(e.c.VoidAllowance(e.ctx, inv, a, "x"), posagent.KindInvalid)
	if err := e.c.VoidOnline(e.ctx, inv, voidOf(inv)); err != nil {
		t.Fatal(err)
	}
	if err := e.c.VoidOnline(e.ctx, inv, voidOf(inv)); err != nil {
		t.Fatalf("already voided: %v", err)
	}
	// A voided sale re-issued is not adopted.
	_, err = e.c.IssueOnline(e.ctx, sampleSale("ON1"))
	e.checkErr(err, posagent.KindConflict)
}

func TestOnlineIssueNeedsAContact(t *testing.T) {
	e := newEnv(t, func(_ *ecpaytest.Options, c *ecpay.Config) {
		if c != nil {
			c.Contact = ecpay.Contact{}
		}
	})
	_, err := e.c.IssueOnline(e.ctx, sampleSale("ON2"))
	e.checkErr(err, posagent.KindConfig)
}

func TestAllowanceOnUploadedInvoice(t *testing.T) {
	e := newEnv(t)
	inv := e.sale("S0200")
	if err := e.c.Upload(e.ctx, inv); err != nil {
		t.Fatal(err)
	}
	a := allowanceOf(inv, "A1")
	a.Total = 51 // not the sum of its lines
	e.checkErr(e.c.Allow(e.ctx, inv, a), posagent.KindInvalid)
	a = allowanceOf(inv, "A1")
	if err := e.c.Allow(e.ctx, inv, a); err != nil {
		t.Fatal(err)
	}
	big := allowanceOf(inv, "A2")
	big.Items[0].Quantity, big.Items[0].Amount, big.Total = posagent.MustDecimal("2"), posagent.MustDecimal("100"), 100
	e.checkErr(e.c.Allow(e.ctx, inv, big), posagent.KindInvalid) // more than remains
	if n := len(e.srv.Allowances()); n != 1 {
		t.Fatalf("%d allowances", n)
	}
}

func TestCarrierChecks(t *testing.T) {
	e := newEnv(t)
	e.srv.SetCarrierCodes(nil, []string{"/NOPE000", "999"})
	count := func(endpoint string) int {
		n := 0
		for _, r := range e.srv.Requests() {
			if r.Endpoint == endpoint {
				n++
			}
		}
		return n
	}
	ok, err := e.c.MobileBarcodeExists(e.ctx, "/ABC+123")
	if err != nil || !ok {
		t.Fatalf("barcode = %v, %v", ok, err)
	}
	ok, err = e.c.MobileBarcodeExists(e.ctx, "/ABC+123")
	if err != nil || !ok || count("CheckBarcode") != 1 {
		t.Fatalf("cached barcode = %v, %v after %d calls", ok, err, count("CheckBarcode"))
	}
	if ok, err := e.c.MobileBarcodeExists(e.ctx, "/NOPE000"); err != nil || ok {
		t.Fatalf("missing barcode = %v, %v", ok, err)
	}
	_, err = e.c.MobileBarcodeExists(e.ctx, "ABC")
	e.checkErr(err, posagent.KindInvalid)
	if count("CheckBarcode") != 2 {
		t.Fatal("a malformed barcode was sent")
	}
	if ok, err := e.c.LoveCodeExists(e.ctx, "168001"); err != nil || !ok {
		t.Fatalf("love code = %v, %v", ok, err)
	}
	if ok, err := e.c.LoveCodeExists(e.ctx, "999"); err != nil || ok {
		t.Fatalf("missing love code = %v, %v", ok, err)
	}
	_, err = e.c.LoveCodeExists(e.ctx, "12")
	e.checkErr(err, posagent.KindInvalid)
	// Advisory: an outage is an error the caller may ignore, and is not cached.
	e.srv.Down()
	_, err = e.c.LoveCodeExists(e.ctx, "7654321")
	e.checkErr(err, posagent.KindTransient)
	e.srv.Up()
	if ok, err := e.c.LoveCodeExists(e.ctx, "7654321"); err != nil || !ok {
		t.Fatalf("after outage = %v, %v", ok, err)
	}
}

// BenchmarkUploadRoundTrip is one OfflineIssue against the TLS stand-in:
// encryption, HTTPS on loopback, the stand-in's checks, decryption.
func BenchmarkUploadRoundTrip(b *testing.B) {
	p := posagent.PeriodOf(time.Now())
	srv := ecpaytest.New(ecpaytest.Options{TLS: true, Pool: []ecpaytest.Allocation{{Year: p.Year, Term: p.Term(), InvType: "07", Header: "ZZ", Start: 0, End: 999999}}})
	defer srv.Close()
	c, err := ecpay.New(srv.Config("POS01"))
	if err != nil {
		b.Fatal(err)
	}
	bs, err := c.LeaseBooklets(b.Context(), posagent.LeaseRequest{Period: p, MachineID: "POS01", Booklets: 20000})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		if i >= bs[0].Count() {
			b.Fatal("out of numbers")
		}
		inv := sampleSale("B" + strconv.Itoa(i))
		inv.Number, inv.RandomCode, inv.IssuedAt = bs[0].Number(i), "1234", time.Now().Add(-time.Second)
		i++
		if err := c.Upload(b.Context(), inv); err != nil {
			b.Fatal(err)
		}
	}
}

// A member carrier ECPay cannot key is refused before anything is sent (and,
// through posagent.SaleChecker, before the agent spends a number).
func TestMemberCarrierECPayCannotKeyIsRefused(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{"", "m-001", "buyer@", "0911", "09112223334445556667778", "a@b"} {
		inv := e.sale("MC" + fmt.Sprint(len(id)))
		inv.Print, inv.Carrier = false, posagent.Carrier{Type: posagent.CarrierMember, ID: id}
		err := e.c.CheckSale(inv)
		if !posagent.IsKind(err, posagent.KindInvalid) || posagent.ErrorField(err) != "carrier.id" {
			t.Fatalf("%q: CheckSale = %v", id, err)
		}
		if err := e.c.Upload(e.ctx, inv); !posagent.IsKind(err, posagent.KindInvalid) {
			t.Fatalf("%q: Upload = %v", id, err)
		}
	}
	for _, r := range e.srv.Requests() {
		if r.Endpoint == "OfflineIssue" {
			t.Fatalf("an upload reached ECPay: %+v", r)
		}
	}
	ok := e.sale("MCOK")
	ok.Print, ok.Carrier = false, posagent.Carrier{Type: posagent.CarrierMember, ID: "a.b-c@shop.example.tw"}
	if err := e.c.CheckSale(ok); err != nil {
		t.Fatal(err)
	}
}

// An account that enables offline tracks on add and refuses a second enable
// (O'Pay's reading, ecpay.md §12) still leases: the track's status settles it.
func TestLeaseWhenTracksAreEnabledOnAdd(t *testing.T) {
	e := newEnv(t, func(o *ecpaytest.Options, _ *ecpay.Config) {
		if o != nil {
			o.AutoEnableTracks = true
		}
	})
	bs, err := e.c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: e.period(), MachineID: "POS01", Booklets: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 1 || bs[0].Booklets() != 2 {
		t.Fatalf("lease = %+v", bs)
	}
	if tr := e.srv.Tracks(); len(tr) != 1 || tr[0].UseStatus != 2 {
		t.Fatalf("tracks %+v", tr)
	}
	var refused bool
	for _, r := range e.srv.Requests() {
		refused = refused || (r.Endpoint == "UpdateInvoiceWordStatus" && r.RtnCode != 1)
	}
	if !refused {
		t.Fatal("the stand-in did not refuse the second enable: the test tests nothing")
	}
}

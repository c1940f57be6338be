package mig

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent"
)

func validDoc(t *testing.T) f0401 {
	t.Helper()
	inv := posagent.Invoice{
		Number: "AB12345678", RandomCode: "0122", IssuedAt: time.Date(2025, 4, 17, 13, 3, 0, 0, posagent.Taipei),
		Seller: posagent.Seller{TaxID: "12345675", Name: "測試咖啡有限公司", Address: "臺北市中正區測試路1號"},
		Print:  true, TaxType: posagent.TaxTaxable,
		Items:       []posagent.Item{{Name: "美式咖啡", Quantity: posagent.MustDecimal("2"), UnitPrice: posagent.MustDecimal("50"), Amount: posagent.MustDecimal("100")}},
		SalesAmount: 95, TaxAmount: 5, Total: 100,
	}
	msg, err := F0401(inv, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var d f0401
	if err := xml.Unmarshal(msg.XML, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestTurnkeyLocalRules: each rule Turnkey checks after the XSD (turnkey.md
// §3.1, rules 1–8) and each platform rule a file can be seen to break, broken
// one at a time on a valid F0401, is refused with its element named.
func TestTurnkeyLocalRules(t *testing.T) {
	tests := []struct {
		name  string
		mut   func(d *f0401)
		field string
	}{
		{"1 seller address blank", func(d *f0401) { d.Main.Seller.Address = "" }, "Main/Seller/Address"},
		{"1 seller address full-width spaces", func(d *f0401) { d.Main.Seller.Address = "\u3000\u3000" }, "Main/Seller/Address"},
		{"2 buyer id not digits", func(d *f0401) { d.Main.Buyer.Identifier = "00000000A0" }, "Main/Buyer/Identifier"},
		{"2 business buyer 10 digits", func(d *f0401) { d.Main.Buyer.Identifier = "1234567890" }, "Main/Buyer/Identifier"},
		{"3 consumer named 0000", func(d *f0401) { d.Main.Buyer.Name = "0000" }, "Main/Buyer/Name"},
		{"3 consumer named 0", func(d *f0401) { d.Main.Buyer.Name = "0" }, "Main/Buyer/Name"},
		{"3 random number 5 digits", func(d *f0401) { d.Main.RandomNumber = "01234" }, "Main/RandomNumber"},
		{"3 random number letters", func(d *f0401) { d.Main.RandomNumber = "12a4" }, "Main/RandomNumber"},
		{"3 consumer amount with decimals", func(d *f0401) {
			d.Amount.SalesAmount, d.Amount.TotalAmount = "99.5", "99.5"
		}, "Amount/SalesAmount"},
		{"4 printed and donated", func(d *f0401) { d.Main.DonateMark, d.Main.NPOBAN = "1", "25885" }, "Main/DonateMark"},
		{"4 printed with a carrier", func(d *f0401) {
			d.Main.CarrierType, d.Main.CarrierID1, d.Main.CarrierID2 = "CQ0001", "AB12345678901234", "AB12345678901234"
		}, "Main/CarrierType"},
		{"5 not printed, no carrier, no donation", func(d *f0401) { d.Main.PrintMark = "N" }, "Main/PrintMark"},
		{"5 not printed, carrier without hidden id", func(d *f0401) {
			d.Main.PrintMark, d.Main.CarrierType, d.Main.CarrierID1 = "N", "CQ0001", "AB12345678901234"
		}, "Main/PrintMark"},
		{"6 carrier id with a trailing space", func(d *f0401) {
			d.Main.PrintMark, d.Main.CarrierType, d.Main.CarrierID1, d.Main.CarrierID2 = "N", "CQ0001", "AB12345678901234 ", "AB12345678901234"
		}, "Main/CarrierId1"},
		{"6 carrier id with a full-width space", func(d *f0401) {
			d.Main.PrintMark, d.Main.CarrierType, d.Main.CarrierID1, d.Main.CarrierID2 = "N", "CQ0001", "AB12345678901234", "\u3000AB12345678901234"
		}, "Main/CarrierId2"},
		{"6 mobile barcode needs both ids", func(d *f0401) {
			d.Main.PrintMark, d.Main.CarrierType, d.Main.CarrierID1 = "N", "3J0002", "/ABC+123"
		}, "Main/CarrierId1"},
		{"7 donated without NPOBAN", func(d *f0401) { d.Main.PrintMark, d.Main.DonateMark = "N", "1" }, "Main/NPOBAN"},
		{"7 NPOBAN without donation", func(d *f0401) { d.Main.NPOBAN = "25885" }, "Main/NPOBAN"},
		{"8 zero-rated without reason", func(d *f0401) { d.Amount.TaxType, d.Amount.TaxRate = "2", "0" }, "Main/ZeroTaxRateReason"},
		{"8 no details", func(d *f0401) { d.Details = nil }, "Details"},
		{"E0105 total zero", func(d *f0401) {
			d.Amount.SalesAmount, d.Amount.TotalAmount = "0", "0"
		}, "Amount/TotalAmount"},
		{"E0103 sums do not add up", func(d *f0401) { d.Amount.TotalAmount = "101" }, "Amount/TotalAmount"},
		{"E0106 quantity zero", func(d *f0401) { d.Details[0].Quantity = "0" }, "Details/ProductItem[1]/Quantity"},
		{"E0220 sequence number twice", func(d *f0401) {
			d.Details = append(d.Details, d.Details[0])
			d.Amount.SalesAmount, d.Amount.TotalAmount = "200", "200"
		}, "Details/ProductItem[2]/SequenceNumber"},
		{"negative amount", func(d *f0401) {
			d.Amount.FreeTaxSalesAmount, d.Amount.SalesAmount = "-1", "101"
		}, "Amount/FreeTaxSalesAmount"},
		{"bad invoice number", func(d *f0401) { d.Main.InvoiceNumber = "ab12345678" }, "Main/InvoiceNumber"},
		{"bad date", func(d *f0401) { d.Main.InvoiceDate = "20250231" }, "Main/InvoiceDate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDoc(t)
			if err := d.check(); err != nil {
				t.Fatalf("the valid document is refused: %v", err)
			}
			tt.mut(&d)
			err := d.check()
			if !posagent.IsKind(err, posagent.KindInvalid) || posagent.ErrorField(err) != tt.field {
				t.Fatalf("got %v (field %q), want an invalid %s", err, posagent.ErrorField(err), tt.field)
			}
			// Inspect (what the Turnkey stand-in runs on a dropped file) refuses it too.
			data, merr := marshal(d)
			if merr != nil {
				t.Fatal(merr)
			}
			if _, err := Inspect(data); posagent.ErrorField(err) != tt.field {
				t.Errorf("Inspect: %v", err)
			}
		})
	}
	// The exception of rule 4: a business buyer may keep a printed invoice in
	// a mobile barcode, with both ids.
	d := validDoc(t)
	d.Main.Buyer = party{Identifier: "22099131", Name: "測試買方股份有限公司"}
	d.Main.CarrierType, d.Main.CarrierID1, d.Main.CarrierID2 = "3J0002", "/ABC+123", "/ABC+123"
	d.Amount.SalesAmount, d.Amount.TaxAmount, d.Amount.TotalAmount = "95", "5", "100"
	if err := d.check(); err != nil {
		t.Errorf("a printed business invoice in a mobile barcode: %v", err)
	}
}

// TestCheckInvoiceBeforeANumberIsSpent: what the sale path can know is
// refused with the domain field named, before any number or file.
func TestCheckInvoiceBeforeANumberIsSpent(t *testing.T) {
	base := posagent.Invoice{
		Seller: posagent.Seller{TaxID: "12345675", Name: "測試咖啡有限公司", Address: "臺北市中正區測試路1號"},
		Print:  true, TaxType: posagent.TaxTaxable,
		Items:       []posagent.Item{{Name: "美式咖啡", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("100"), Amount: posagent.MustDecimal("100")}},
		SalesAmount: 95, TaxAmount: 5, Total: 100, SaleID: "s1",
	}
	if err := CheckInvoice(base, Options{}); err != nil {
		t.Fatalf("valid sale refused: %v", err)
	}
	tests := []struct {
		name  string
		mut   func(inv *posagent.Invoice)
		opt   Options
		field string
	}{
		{"no seller address", func(inv *posagent.Invoice) { inv.Seller.Address = " " }, Options{}, "seller.address"},
		{"consumer named 000", func(inv *posagent.Invoice) { inv.Buyer.Name = "000" }, Options{}, "buyer.name"},
		{"member carrier without its code", func(inv *posagent.Invoice) {
			inv.Print, inv.Carrier = false, posagent.Carrier{Type: posagent.CarrierMember, ID: "M0001"}
		}, Options{}, "carrier.type"},
		{"member carrier without id", func(inv *posagent.Invoice) {
			inv.Print, inv.Carrier = false, posagent.Carrier{Type: posagent.CarrierMember}
		}, Options{MemberCarrierType: "EJ0113"}, "carrier.id"},
		{"domain rule still applies", func(inv *posagent.Invoice) { inv.Total = 0 }, Options{}, "total"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := base
			tt.mut(&inv)
			if err := CheckInvoice(inv, tt.opt); posagent.ErrorField(err) != tt.field {
				t.Fatalf("got %v, want field %s", err, tt.field)
			}
		})
	}
	if err := CheckSeller(posagent.Seller{TaxID: "12345675", Name: "店"}); posagent.ErrorField(err) != "seller.address" {
		t.Errorf("CheckSeller without address: %v", err)
	}
	if err := (Options{CustomsClearanceMark: "3"}).Check(); posagent.ErrorField(err) != "customs_clearance_mark" {
		t.Errorf("bad customs mark: %v", err)
	}
}

func TestInspectRefusesWhatIsNotAMessage(t *testing.T) {
	for name, data := range map[string]string{
		"empty":          "",
		"not xml":        "hello",
		"wrong ns":       `<Invoice xmlns="urn:other"><Main/></Invoice>`,
		"unknown type":   `<X xmlns="urn:GEINV:eInvoiceMessage:C0401:4.1"/>`,
		"old version":    `<Invoice xmlns="urn:GEINV:eInvoiceMessage:F0401:4.0"/>`,
		"empty F0501":    `<CancelInvoice xmlns="urn:GEINV:eInvoiceMessage:F0501:4.1"/>`,
		"truncated":      `<CancelInvoice xmlns="urn:GEINV:eInvoiceMessage:F0501:4.1"><CancelInvoiceNumber>AB`,
		"void no reason": `<CancelInvoice xmlns="urn:GEINV:eInvoiceMessage:F0501:4.1"><CancelInvoiceNumber>AB12345678</CancelInvoiceNumber><InvoiceDate>20250417</InvoiceDate><BuyerId>0000000000</BuyerId><SellerId>12345675</SellerId><CancelDate>20250417</CancelDate><CancelTime>13:20:05</CancelTime><CancelReason></CancelReason></CancelInvoice>`,
	} {
		if _, err := Inspect([]byte(data)); !posagent.IsKind(err, posagent.KindInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A BOM is tolerated, as Turnkey does.
	doc, err := os.ReadFile(filepath.Join("testdata", "turnkeydoc", "F0501.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Inspect(append([]byte("\xEF\xBB\xBF"), doc...)); err != nil {
		t.Errorf("with a BOM: %v", err)
	}
}

func FuzzInspect(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "turnkeydoc", "*.xml"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := Inspect(data)
		if err != nil {
			if !posagent.IsKind(err, posagent.KindInvalid) {
				t.Fatalf("not an invalid-kind error: %v", err)
			}
			return
		}
		if info.Type == "" || info.Identifier == "" {
			t.Fatalf("accepted without type or identifier: %+v", info)
		}
	})
}

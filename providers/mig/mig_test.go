package mig_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/testxml"
	. "github.com/posagent/posagent/providers/mig"
)

var update = flag.Bool("update", false, "rewrite the golden XML files in testdata/golden")

// testAddress is the seller address the receipt cases lack: Turnkey needs one
// on every F0401 and G0401, and a terminal's config provides it.
const testAddress = "臺北市中正區重慶南路一段2號"

func loadInvoice(t *testing.T, path string) posagent.Invoice {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := posagent.DecodeInvoice(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if inv.Seller.Address == "" {
		inv.Seller.Address = testAddress
	}
	return inv
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// receiptCases are the invoices of the golden receipts (../../testdata/receipts).
func receiptCases(t *testing.T) map[string]posagent.Invoice {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "..", "testdata", "receipts", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no receipt cases: %v", err)
	}
	out := map[string]posagent.Invoice{}
	for _, p := range paths {
		if strings.HasSuffix(p, ".options.json") {
			continue
		}
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = loadInvoice(t, p)
	}
	return out
}

func TestGoldenF0401ForEveryReceiptCase(t *testing.T) {
	for name, inv := range receiptCases(t) {
		t.Run(name, func(t *testing.T) {
			msg, err := F0401(inv, Options{})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".F0401.xml", msg.XML)
			testxml.Valid(t, TypeF0401, msg.XML)
			info, err := Inspect(msg.XML)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			want := "F0401" + string(inv.Number) + inv.IssuedAt.In(posagent.Taipei).Format("20060102")
			if msg.Identifier != want || info.Identifier != want {
				t.Errorf("identifier %q / inspected %q, want %q", msg.Identifier, info.Identifier, want)
			}
			checkAmountsAddUp(t, inv, msg.XML)
		})
	}
}

// docInvoice is the consumer invoice of turnkey.md §4, in domain form.
func docInvoice() posagent.Invoice {
	return posagent.Invoice{
		Number: "AB12345678", RandomCode: "0122",
		IssuedAt: time.Date(2025, 4, 17, 13, 3, 0, 0, posagent.Taipei),
		Seller:   posagent.Seller{TaxID: "12345675", Name: "測試咖啡有限公司", Address: "臺北市中正區測試路1號"},
		Print:    true, TaxType: posagent.TaxTaxable,
		Items: []posagent.Item{
			{Name: "美式咖啡", Quantity: posagent.MustDecimal("2"), UnitPrice: posagent.MustDecimal("50"), Amount: posagent.MustDecimal("100")},
			{Name: "可頌", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("5"), Amount: posagent.MustDecimal("5")},
		},
		SalesAmount: 100, TaxAmount: 5, Total: 105, SaleID: "doc-1",
	}
}

// TestDocumentedExamples: every validated instance of turnkey.md §4 is
// XSD-valid here too, passes the local rules, and the builders reproduce it
// from the domain types, element for element.
func TestDocumentedExamples(t *testing.T) {
	inv := docInvoice()
	al := posagent.Allowance{
		Number: "S01250520000001", InvoiceNumber: inv.Number,
		IssuedAt: time.Date(2025, 5, 20, 10, 0, 0, 0, posagent.Taipei),
		Items:    []posagent.Item{{Name: "美式咖啡", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("50"), Amount: posagent.MustDecimal("50")}},
		Total:    50, TaxAmount: 2,
	}
	build := map[string]func() (Message, error){
		TypeF0401: func() (Message, error) { return F0401(inv, Options{}) },
		TypeF0501: func() (Message, error) {
			return F0501(inv, posagent.Void{Number: inv.Number, VoidedAt: time.Date(2025, 4, 17, 13, 20, 5, 0, posagent.Taipei), Reason: "顧客退貨"})
		},
		TypeF0701: func() (Message, error) {
			return F0701(inv, time.Date(2025, 4, 17, 14, 0, 0, 0, posagent.Taipei), "載具號碼輸入錯誤")
		},
		TypeG0401: func() (Message, error) { return G0401(inv, al) },
		TypeG0501: func() (Message, error) {
			return G0501(inv, al, time.Date(2025, 5, 20, 16, 45, 0, 0, posagent.Taipei), "折讓金額有誤")
		},
		TypeE0402: func() (Message, error) {
			return E0402(Blank{HeadBan: "12345675", BranchBan: "12345675", Period: posagent.Period{Year: 114, EvenMonth: 4},
				Track: "AB", Ranges: []Range{{12345681, 12345699}}})
		},
	}
	wantID := map[string]string{
		TypeF0401: "F0401AB1234567820250417", TypeF0501: "F0501AB1234567820250417", TypeF0701: "F0701AB1234567820250417",
		TypeG0401: "G0401S0125052000000120250520", TypeG0501: "G0501S0125052000000120250520", TypeE0402: "12345675-AB07",
	}
	for _, typ := range Types {
		t.Run(typ, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", "turnkeydoc", typ+".xml"))
			if err != nil {
				t.Fatal(err)
			}
			testxml.Valid(t, typ, doc)
			info, err := Inspect(doc)
			if err != nil {
				t.Fatalf("the documented example breaks a local rule: %v", err)
			}
			if info.Identifier != wantID[typ] {
				t.Errorf("identifier %q, want %q", info.Identifier, wantID[typ])
			}
			msg, err := build[typ]()
			if err != nil {
				t.Fatal(err)
			}
			if msg.Identifier != wantID[typ] {
				t.Errorf("built identifier %q, want %q", msg.Identifier, wantID[typ])
			}
			golden(t, "doc-"+typ+".xml", msg.XML)
			testxml.Valid(t, typ, msg.XML)
			if a, b := canonical(t, doc), canonical(t, msg.XML); a != b {
				t.Errorf("built message differs from the documented one:\n--- built\n%s\n--- documented\n%s", b, a)
			}
		})
	}
}

// canonical lists an XML document's elements and their text, one per line,
// so that two documents can be compared regardless of layout.
func canonical(t *testing.T, data []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out, path []string
	var text string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case xml.StartElement:
			path = append(path, v.Name.Local)
			text = ""
		case xml.CharData:
			text = strings.TrimSpace(string(v))
		case xml.EndElement:
			if text != "" {
				out = append(out, strings.Join(path, "/")+"="+text)
			}
			text = ""
			path = path[:len(path)-1]
		}
	}
	return strings.Join(out, "\n")
}

func TestGoldenOtherMessages(t *testing.T) {
	cases := receiptCases(t)
	consumer, business, mixed := cases["consumer"], cases["business"], cases["mixed-tax"]
	later := func(inv posagent.Invoice, d time.Duration) time.Time { return inv.IssuedAt.Add(d) }
	tests := []struct {
		name  string
		build func() (Message, error)
	}{
		{"consumer.F0501", func() (Message, error) {
			return F0501(consumer, posagent.Void{Number: consumer.Number, VoidedAt: later(consumer, time.Hour), Reason: "顧客退貨"})
		}},
		{"business.F0501", func() (Message, error) {
			return F0501(business, posagent.Void{Number: business.Number, VoidedAt: later(business, time.Hour), Reason: "統編打錯"})
		}},
		{"consumer.F0701", func() (Message, error) {
			return F0701(consumer, later(consumer, 2*time.Hour), "載具號碼輸入錯誤")
		}},
		{"consumer.G0401", func() (Message, error) {
			return G0401(consumer, posagent.Allowance{Number: "AL0001", InvoiceNumber: consumer.Number, IssuedAt: later(consumer, 24*time.Hour),
				Items: []posagent.Item{{Name: "美式咖啡", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("65"), Amount: posagent.MustDecimal("65")}},
				Total: 65, TaxAmount: posagent.AllowanceTax(consumer, 65)})
		}},
		{"mixed-tax.G0401", func() (Message, error) {
			return G0401(mixed, posagent.Allowance{Number: "AL0002", InvoiceNumber: mixed.Number, IssuedAt: later(mixed, 24*time.Hour),
				Items: []posagent.Item{
					{Name: "文具組", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("105"), Amount: posagent.MustDecimal("105")},
					{Name: "新鮮蔬菜", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("60"), Amount: posagent.MustDecimal("60")},
				},
				Total: 165, TaxAmount: 5})
		}},
		{"consumer.G0501", func() (Message, error) {
			al := posagent.Allowance{Number: "AL0001", InvoiceNumber: consumer.Number, IssuedAt: later(consumer, 24*time.Hour)}
			return G0501(consumer, al, later(consumer, 25*time.Hour), "折讓金額有誤")
		}},
		{"blank.E0402", func() (Message, error) {
			p := posagent.Period{Year: 114, EvenMonth: 10}
			reports, err := BlankReports("24634102", "24634102", p, []posagent.Booklet{
				{Track: "AB", First: 11223360, Last: 11223399, Period: p},
				{Track: "AB", First: 11223400, Last: 11223449, Period: p},
				{Track: "AB", First: 11223500, Last: 11223549, Period: p},
			})
			if err != nil {
				return Message{}, err
			}
			return E0402(reports[0])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := tt.build()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".xml", msg.XML)
			testxml.Valid(t, msg.Type, msg.XML)
			info, err := Inspect(msg.XML)
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if info.Identifier != msg.Identifier || info.Type != msg.Type {
				t.Errorf("inspected %v, built %s %s", info, msg.Type, msg.Identifier)
			}
		})
	}
}

func TestBlankReportsGroupAndMerge(t *testing.T) {
	p := posagent.Period{Year: 114, EvenMonth: 4}
	got, err := BlankReports("12345675", "12345675", p, []posagent.Booklet{
		{Track: "CD", First: 100, Last: 149, Period: p},
		{Track: "AB", First: 250, Last: 299, Period: p},
		{Track: "AB", First: 17, Last: 49, Period: p},
		{Track: "AB", First: 50, Last: 99, Period: p},   // touches 17–49
		{Track: "AB", First: 260, Last: 270, Period: p}, // inside 250–299
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Blank{
		{HeadBan: "12345675", BranchBan: "12345675", Period: p, Track: "AB", Ranges: []Range{{17, 99}, {250, 299}}},
		{HeadBan: "12345675", BranchBan: "12345675", Period: p, Track: "CD", Ranges: []Range{{100, 149}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	other := posagent.Period{Year: 114, EvenMonth: 6}
	if _, err := BlankReports("12345675", "12345675", p, []posagent.Booklet{{Track: "AB", First: 0, Last: 49, Period: other}}); posagent.ErrorField(err) != "blank[0].period" {
		t.Errorf("a range of another period: %v", err)
	}
	if _, err := E0402(Blank{HeadBan: "12345675", BranchBan: "12345675", Period: p, Track: "AB"}); posagent.ErrorField(err) != "ranges" {
		t.Errorf("no ranges: %v", err)
	}
	if _, err := E0402(Blank{HeadBan: "12345678", BranchBan: "12345675", Period: p, Track: "AB", Ranges: []Range{{0, 1}}}); posagent.ErrorField(err) != "head_ban" {
		t.Errorf("bad head ban: %v", err)
	}
}

func TestValidateXSDFilesOneRunManyFiles(t *testing.T) {
	testxml.Require(t)
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join("testdata", "golden", "consumer.F0501.xml"))
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string][]byte{
		"a good.xml": good,
		"bad.xml":    bytes.Replace(good, []byte("<CancelReason>顧客退貨</CancelReason>"), nil, 1),
		"junk.xml":   []byte("not xml"),
		"bom.xml":    append([]byte("\xEF\xBB\xBF"), good...),
	}
	var list []string
	for name, data := range paths {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		list = append(list, p)
	}
	got, err := ValidateXSDFiles(context.Background(), TypeF0501, list)
	if err != nil {
		t.Fatal(err)
	}
	for name, wantOK := range map[string]bool{"a good.xml": true, "bad.xml": false, "junk.xml": false, "bom.xml": true} {
		err := got[filepath.Join(dir, name)]
		if (err == nil) != wantOK {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && !posagent.IsKind(err, posagent.KindInvalid) {
			t.Errorf("%s: kind %v", name, err)
		}
	}
	if !strings.Contains(fmt.Sprint(got[filepath.Join(dir, "bad.xml")]), "CancelReason") {
		t.Errorf("the complaint does not name the element: %v", got[filepath.Join(dir, "bad.xml")])
	}
}

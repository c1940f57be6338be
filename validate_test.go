package posagent_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/posagent/posagent"
)

// base is a valid issued consumer invoice in JSON; each case below edits it.
const base = `{
  "sale_id": "POS01-000001",
  "number": "AB11223344",
  "random_code": "9999",
  "issued_at": "2025-09-14T13:03:00+08:00",
  "seller": {"tax_id": "24634102", "name": "好日子雜貨店"},
  "items": [
    {"name": "乾電池", "quantity": 1, "unit": "個", "unit_price": 105, "amount": 105},
    {"name": "口罩", "quantity": 1, "unit": "盒", "unit_price": 210, "amount": 210},
    {"name": "牛奶", "quantity": 1, "unit": "瓶", "unit_price": 25, "amount": 25}
  ],
  "total": 340
}`

// edit applies changes to the base document: a key with a nil value is deleted;
// "items.N.key" edits item N.
func edit(t *testing.T, changes map[string]any) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(base), &doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range changes {
		target, key := doc, k
		if strings.HasPrefix(k, "items.") {
			parts := strings.SplitN(k, ".", 3)
			i := int(parts[1][0] - '0')
			target, key = doc["items"].([]any)[i].(map[string]any), parts[2]
		}
		if v == nil {
			delete(target, key)
		} else {
			target[key] = v
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBaseIsValid(t *testing.T) {
	inv, err := posagent.DecodeInvoice([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.ValidateIssued(); err != nil {
		t.Fatal(err)
	}
	if inv.Total != 340 || inv.SalesAmount != 324 || inv.TaxAmount != 16 || !inv.Print || inv.TaxType != posagent.TaxTaxable {
		t.Fatalf("derived values: %+v", inv)
	}
	if got := inv.Period().Code(); got != "11410" {
		t.Fatalf("period %s", got)
	}
}

func TestSampleInvoicesAreValid(t *testing.T) {
	files, _ := os.ReadDir("testdata/invoices")
	if len(files) == 0 {
		t.Fatal("no sample invoices")
	}
	for _, f := range files {
		data, err := os.ReadFile("testdata/invoices/" + f.Name())
		if err != nil {
			t.Fatal(err)
		}
		inv, err := posagent.DecodeInvoice(data)
		if err != nil {
			t.Errorf("%s: %v", f.Name(), err)
			continue
		}
		if err := inv.ValidateIssued(); err != nil {
			t.Errorf("%s: %v", f.Name(), err)
		}
	}
}

func TestValidationRules(t *testing.T) {
	item := func(name string, qty, price any) map[string]any {
		return map[string]any{"name": name, "quantity": qty, "unit_price": price}
	}
	manyItems := make([]any, 201)
	for i := range manyItems {
		manyItems[i] = item("x", 1, 1)
	}
	tests := []struct {
		name    string
		changes map[string]any
		field   string
		message string
	}{
		// Identity.
		{"bad number", map[string]any{"number": "ab11223344"}, "number", "not an invoice number"},
		{"bad random code", map[string]any{"random_code": "12a4"}, "random_code", "not 4 digits"},
		{"number without random code", map[string]any{"random_code": nil}, "random_code", "required with an invoice number"},
		{"bad issued_at", map[string]any{"issued_at": "2025-09-14 13:03"}, "issued_at", "RFC 3339"},
		{"issued before e-invoices", map[string]any{"issued_at": "2005-01-01T00:00:00+08:00"}, "issued_at", "before e-invoices"},
		{"bad sale id", map[string]any{"sale_id": "sale #1"}, "sale_id", "A-Z a-z 0-9"},
		{"long sale id", map[string]any{"sale_id": strings.Repeat("a", 65)}, "sale_id", "1 to 64"},
		// Parties.
		{"no seller tax id", map[string]any{"seller": map[string]any{"name": "x"}}, "seller.tax_id", "required"},
		{"seller checksum", map[string]any{"seller": map[string]any{"tax_id": "01234567", "name": "x"}}, "seller.tax_id", "check sum"},
		{"seller not digits", map[string]any{"seller": map[string]any{"tax_id": "2463410X", "name": "x"}}, "seller.tax_id", "統一編號"},
		{"no seller name", map[string]any{"seller": map[string]any{"tax_id": "24634102"}}, "seller.name", "required"},
		{"seller name too long", map[string]any{"seller": map[string]any{"tax_id": "24634102", "name": strings.Repeat("店", 61)}}, "seller.name", "more than 60"},
		{"buyer checksum", map[string]any{"buyer": map[string]any{"tax_id": "12345678"}}, "buyer.tax_id", "check sum"},
		{"buyer zeros", map[string]any{"buyer": map[string]any{"tax_id": "00000000"}}, "buyer.tax_id", "leave it out"},
		{"buyer name control char", map[string]any{"buyer": map[string]any{"name": "a\x1bb"}}, "buyer.name", "control character"},
		// Carrier, donation, print.
		{"bad mobile barcode", map[string]any{"carrier": map[string]any{"type": "mobile", "id": "ABC1234"}}, "carrier.id", "mobile barcode"},
		{"bad citizen cert", map[string]any{"carrier": map[string]any{"type": "citizen", "id": "A1"}}, "carrier.id", "citizen certificate"},
		{"unknown carrier type", map[string]any{"carrier": map[string]any{"type": "card", "id": "1"}}, "carrier.type", "not a carrier type"},
		{"carrier without type", map[string]any{"carrier": map[string]any{"id": "/ABC+123"}}, "carrier.type", "required"},
		{"bad love code", map[string]any{"love_code": "12"}, "love_code", "3 to 7 digits"},
		{"donation and business buyer", map[string]any{"love_code": "168001", "buyer": map[string]any{"tax_id": "53212539"}}, "love_code", "cannot be donated"},
		{"donation printed", map[string]any{"love_code": "168001", "print": true}, "print", "donated invoice is not printed"},
		{"carrier printed", map[string]any{"carrier": map[string]any{"type": "mobile", "id": "/ABC+123"}, "print": true}, "print", "carrier is not printed"},
		{"nothing and not printed", map[string]any{"print": false}, "print", "must be printed"},
		// Tax type.
		{"unknown tax type", map[string]any{"tax_type": "vat"}, "tax_type", "not a tax type"},
		{"zero rated without reason", map[string]any{"tax_type": "zero_rated"}, "zero_tax_reason", "need a reason"},
		{"zero rated bad reason", map[string]any{"tax_type": "zero_rated", "zero_tax_reason": "80"}, "zero_tax_reason", "71 to 79"},
		{"reason on taxable", map[string]any{"zero_tax_reason": "71"}, "zero_tax_reason", "only for zero-rated"},
		{"special without code", map[string]any{"tax_type": "special"}, "special_tax_type", "1 to 8"},
		{"special code on taxable", map[string]any{"special_tax_type": 1}, "special_tax_type", "only for tax_type special"},
		{"mixed item without type", map[string]any{"tax_type": "mixed"}, "items[0].tax_type", "needs its tax type"},
		{"item type differs", map[string]any{"items.1.tax_type": "exempt"}, "items[1].tax_type", "use tax_type mixed"},
		// Items.
		{"no items", map[string]any{"items": []any{}, "total": nil}, "items", "at least one item"},
		{"too many items", map[string]any{"items": manyItems, "total": nil}, "items", "more than the 200"},
		{"item without name", map[string]any{"items.0.name": ""}, "items[0].name", "required"},
		{"item name too long", map[string]any{"items.0.name": strings.Repeat("長", 101)}, "items[0].name", "more than 100"},
		{"item name control", map[string]any{"items.0.name": "a\nb"}, "items[0].name", "control character"},
		{"unit too long", map[string]any{"items.0.unit": "1234567"}, "items[0].unit", "more than 6"},
		{"zero quantity", map[string]any{"items.0.quantity": 0, "items.0.amount": 0}, "items[0].quantity", "more than 0"},
		{"negative quantity", map[string]any{"items.0.quantity": -1, "items.0.amount": -105}, "items[0].quantity", "more than 0"},
		{"too many places", map[string]any{"items.0.quantity": "1.001"}, "items[0].quantity", "3 decimal places, more than 2"},
		{"price too many places", map[string]any{"items.0.unit_price": "1.00000001"}, "items[0].unit_price", "8 decimal places, more than 7"},
		{"amount mismatch", map[string]any{"items.1.amount": 200}, "items[1].amount", "not quantity × unit price"},
		{"quantity not a number", map[string]any{"items.0.quantity": "one"}, "items[0].quantity", "not a decimal number"},
		{"quantity missing", map[string]any{"items.0.quantity": nil}, "items[0].quantity", "required"},
		{"price exponent", map[string]any{"items.0.unit_price": "1e2"}, "items[0].unit_price", "not a decimal number"},
		// Amounts.
		{"total mismatch", map[string]any{"total": 341}, "total", "not the sum"},
		{"zero total", map[string]any{"items": []any{item("free", 1, 0)}, "total": 0}, "total", "more than 0"},
		{"negative total", map[string]any{"items": []any{item("refund", 1, -10)}, "total": nil}, "total", "more than 0"},
		{"total not whole", map[string]any{"total": 340.5}, "total", "whole number"},
		{"total a string", map[string]any{"total": "340"}, "total", "whole number"},
		{"sales and tax do not add up", map[string]any{"sales_amount": 300, "tax_amount": 16}, "sales_amount", "is not the total"},
		{"tax far off", map[string]any{"sales_amount": 300, "tax_amount": 40}, "tax_amount", "differs"},
		{"negative tax", map[string]any{"tax_amount": -1}, "tax_amount", "negative"},
		{"tax on exempt", map[string]any{"tax_type": "exempt", "tax_amount": 16}, "tax_amount", "differs"},
		{"remark too long", map[string]any{"remark": strings.Repeat("r", 201)}, "remark", "more than 200"},
		// Shape.
		{"unknown field", map[string]any{"colour": "red"}, "colour", "unknown field"},
		{"items not an array", map[string]any{"items": "many"}, "items", "an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := posagent.DecodeInvoice(edit(t, tt.changes))
			if err == nil {
				t.Fatal("accepted, want an error")
			}
			if got := posagent.ErrorKind(err); got != posagent.KindInvalid {
				t.Errorf("kind = %q, want invalid (%v)", got, err)
			}
			if got := posagent.ErrorField(err); got != tt.field {
				t.Errorf("field = %q, want %q (%v)", got, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not say %q", err, tt.message)
			}
		})
	}
}

func TestValidCombinations(t *testing.T) {
	tests := []struct {
		name    string
		changes map[string]any
		check   func(posagent.Invoice) bool
	}{
		{"mobile carrier not printed", map[string]any{"carrier": map[string]any{"type": "mobile", "id": "/ABC+123"}},
			func(i posagent.Invoice) bool { return !i.Print }},
		{"donation not printed", map[string]any{"love_code": "168001"},
			func(i posagent.Invoice) bool { return !i.Print && i.IsDonated() }},
		{"member carrier without id", map[string]any{"carrier": map[string]any{"type": "member", "id": ""}},
			func(i posagent.Invoice) bool { return !i.Print }},
		{"business buyer printed", map[string]any{"buyer": map[string]any{"tax_id": "53212539", "name": "測試"}},
			func(i posagent.Invoice) bool { return i.Print && i.Buyer.IsBusiness() }},
		{"business buyer with carrier", map[string]any{"buyer": map[string]any{"tax_id": "53212539"}, "carrier": map[string]any{"type": "mobile", "id": "/ABC+123"}},
			func(i posagent.Invoice) bool { return !i.Print }},
		{"total derived", map[string]any{"total": nil},
			func(i posagent.Invoice) bool { return i.Total == 340 }},
		{"amount derived", map[string]any{"items.0.amount": nil},
			func(i posagent.Invoice) bool { return i.Items[0].Amount.String() == "105" }},
		{"three for a hundred", map[string]any{"items": []any{map[string]any{"name": "餅", "quantity": 3, "unit_price": "33.3333333", "amount": 100}}, "total": 100},
			func(i posagent.Invoice) bool { return i.Total == 100 && i.TaxAmount == 5 }},
		{"discount line", map[string]any{"items": []any{map[string]any{"name": "餅", "quantity": 1, "unit_price": 100}, map[string]any{"name": "折扣", "quantity": 1, "unit_price": -10}}, "total": 90},
			func(i posagent.Invoice) bool { return i.Total == 90 }},
		{"tax given, within a dollar", map[string]any{"tax_amount": 17, "sales_amount": 323},
			func(i posagent.Invoice) bool { return i.TaxAmount == 17 && i.SalesAmount == 323 }},
		{"only tax given", map[string]any{"tax_amount": 16},
			func(i posagent.Invoice) bool { return i.SalesAmount == 324 }},
		{"zero rated with reason", map[string]any{"tax_type": "zero_rated", "zero_tax_reason": "71"},
			func(i posagent.Invoice) bool { return i.TaxAmount == 0 && i.SalesAmount == 340 }},
		{"decimal strings", map[string]any{"items.0.quantity": "1.0", "items.0.unit_price": "105.00"},
			func(i posagent.Invoice) bool { return i.Items[0].Quantity.String() == "1" }},
		{"sale without number", map[string]any{"number": nil, "random_code": nil, "issued_at": nil},
			func(i posagent.Invoice) bool { return i.Number == "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := posagent.DecodeInvoice(edit(t, tt.changes))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(inv) {
				t.Errorf("unexpected invoice: %+v", inv)
			}
		})
	}
}

func TestValidateIssuedRequiresIdentity(t *testing.T) {
	for _, drop := range []string{"number", "issued_at"} {
		changes := map[string]any{drop: nil}
		if drop == "number" {
			changes["random_code"] = nil
		}
		inv, err := posagent.DecodeInvoice(edit(t, changes))
		if err != nil {
			t.Fatal(err)
		}
		if err := inv.ValidateIssued(); posagent.ErrorField(err) != drop {
			t.Errorf("without %s: %v", drop, err)
		}
	}
}

func TestInvoiceJSONRoundTrip(t *testing.T) {
	for _, name := range []string{"consumer", "business", "vector-a"} {
		data, err := os.ReadFile("testdata/invoices/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		inv, err := posagent.DecodeInvoice(data)
		if err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(inv)
		if err != nil {
			t.Fatal(err)
		}
		again, err := posagent.DecodeInvoice(out)
		if err != nil {
			t.Fatalf("%s: re-decoding our own JSON: %v\n%s", name, err, out)
		}
		out2, _ := json.Marshal(again)
		if string(out) != string(out2) {
			t.Errorf("%s: not stable:\n%s\n%s", name, out, out2)
		}
		if !again.IssuedAt.Equal(inv.IssuedAt) || again.Total != inv.Total || len(again.Items) != len(inv.Items) {
			t.Errorf("%s: changed in the round trip", name)
		}
	}
}

func TestDecodeRejectsDocumentShape(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":         "",
		"array":         "[]",
		"trailing":      base + "{}",
		"truncated":     base[:40],
		"not json":      "hello",
		"two documents": base + base,
		"null":          "null",
	} {
		_, err := posagent.DecodeInvoice([]byte(doc))
		if err == nil || posagent.ErrorKind(err) != posagent.KindInvalid {
			t.Errorf("%s: err = %v, want invalid", name, err)
		}
	}
	_, err := posagent.ReadInvoice(strings.NewReader(`{"remark":"` + strings.Repeat("x", posagent.MaxInvoiceJSON) + `"}`))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge document: %v", err)
	}
}

func FuzzDecodeInvoice(f *testing.F) {
	f.Add([]byte(base))
	for _, name := range []string{"consumer", "business", "vector-a"} {
		if data, err := os.ReadFile("testdata/invoices/" + name + ".json"); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`{"items":[{"quantity":"1e9999999","unit_price":1}]}`))
	// Issue 10: wrap-around amounts, the bound, sums beyond it, JSON not exactly meant.
	for _, seed := range []string{
		`{"sale_id":"w-1","seller":{"tax_id":"24634102","name":"店"},"items":[{"name":"a","quantity":1,"unit_price":"18446744073709551716"}]}`,
		`{"sale_id":"w-2","seller":{"tax_id":"24634102","name":"店"},"items":[{"name":"a","quantity":1,"unit_price":18446744073709551716}]}`,
		`{"sale_id":"w-3","seller":{"tax_id":"24634102","name":"店"},"items":[{"name":"a","quantity":"4294967296","unit_price":"4294967296"},{"name":"b","quantity":1,"unit_price":100}]}`,
		`{"sale_id":"w-4","seller":{"tax_id":"24634102","name":"店"},"items":[{"name":"a","quantity":1,"unit_price":9223372036854775807},{"name":"b","quantity":1,"unit_price":9223372036854775807},{"name":"c","quantity":1,"unit_price":102}]}`,
		`{"sale_id":"w-5","seller":{"tax_id":"24634102","name":"店"},"items":[{"name":"a","quantity":1,"unit_price":"4294967295"}]}`,
		`{"sale_id":"w-6","seller":{"tax_id":"24634102","name":"店"},"items":[{"name":"a","quantity":1,"unit_price":"4294967296"}]}`,
		`{"sale_id":"w-7","seller":{"tax_id":"24634102","name":"店"},"items":[{"name":"a","quantity":1,"unit_price":2147483648},{"name":"b","quantity":1,"unit_price":2147483648}]}`,
		`{"sale_id":"w-8","seller":{"tax_id":"24634102","name":"店"},"tax_type":"mixed","items":[{"name":"a","quantity":"99999999","unit_price":"9999999999","tax_type":"exempt"}]}`,
		`{"sale_id":"w-9","seller":{"tax_id":"24634102","name":"店"},"total":18446744073709551716,"sales_amount":-9223372036854775808,"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
		`{"sale_id":"A","sale_id":"B","seller":{"tax_id":"24634102","name":"店"},"items":[{"name":"a","quantity":1,"quantity":5,"unit_price":100}]}`,
		`{"SALE_ID":"c-1","ITEMS":[{"name":"a","quantity":1,"Unit_Price":100}]}`,
		"{\"sale_id\":\"u-1\",\"items\":[{\"name\":\"a\xff\xfeb\",\"quantity\":1,\"unit_price\":100}]}",
		`{"sale_id":"u-2","items":[{"name":"a\ud800b","quantity":1,"unit_price":100}]}`,
		"{\"sale_id\":\"u-3\",\"items\":[{\"name\":\"a\xc0\xafb\",\"quantity\":1,\"unit_price\":100}]}",
		`{"sale_id":"t-1","issued_at":"0001-01-01T00:00:00Z","items":[{"name":"a","quantity":1,"unit_price":100}]}`,
		`{"sale_id":"q-1","items":[{"name":"a","quantity":true,"unit_price":100}]}`,
		`{"sale_id":"l-1","seller":{"tax_id":"24634102","name":"店"},"love_code":"168001","carrier":{"type":"mobile","id":"/ABC+123"},"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := posagent.DecodeInvoice(data)
		if err != nil {
			if posagent.ErrorKind(err) != posagent.KindInvalid {
				t.Fatalf("error of kind %q: %v", posagent.ErrorKind(err), err)
			}
			return
		}
		// Whatever is accepted is valid and survives its own JSON unchanged.
		if err := inv.Validate(); err != nil {
			t.Fatalf("accepted an invalid invoice: %v", err)
		}
		if inv.Total <= 0 || inv.Total > posagent.MaxTotal || inv.SalesAmount+inv.TaxAmount != inv.Total {
			t.Fatalf("accepted amounts beyond the limits: total %d = %d + %d", inv.Total, inv.SalesAmount, inv.TaxAmount)
		}
		out, err := json.Marshal(inv)
		if err != nil {
			t.Fatal(err)
		}
		again, err := posagent.DecodeInvoice(out)
		if err != nil {
			t.Fatalf("own JSON rejected: %v\n%s", err, out)
		}
		if out2, _ := json.Marshal(again); string(out2) != string(out) {
			t.Fatalf("unstable:\n%s\n%s", out, out2)
		}
	})
}

func BenchmarkDecodeInvoice(b *testing.B) {
	data := []byte(base)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := posagent.DecodeInvoice(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	inv, err := posagent.DecodeInvoice([]byte(base))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := inv.ValidateIssued(); err != nil {
			b.Fatal(err)
		}
	}
}

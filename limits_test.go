package posagent_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/posagent/posagent"
)

func TestRoundNTDRefusesWhatDoesNotFit(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"9223372036854775807", math.MaxInt64, true},
		{"9223372036854775807.4", math.MaxInt64, true},
		{"9223372036854775807.5", 0, false},
		{"-9223372036854775808", math.MinInt64, true},
		{"-9223372036854775808.5", 0, false},
		{"18446744073709551716", 0, false}, // 2^64 + 100: was NT$100
		{"18446744073709551616", 0, false},
		{"18446744073709551615.9", 0, false},
		{"0.5", 1, true},
	} {
		got, ok := posagent.MustDecimal(tt.in).RoundNTD()
		if got != tt.want || ok != tt.ok {
			t.Errorf("RoundNTD(%s) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestIntDigits(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "0.5": 0, "-0.001": 0, "1": 1, "9.99": 1, "10": 2, "-123.45": 3,
		"9999999999": 10, "10000000000": 11, "18446744073709551716": 20, "100.000": 3} {
		if got := posagent.MustDecimal(in).IntDigits(); got != want {
			t.Errorf("IntDigits(%s) = %d, want %d", in, got, want)
		}
	}
}

// TestSplitTaxNeverOverflows checks the split against its definition computed
// in big integers, at the int64 extremes and at random over the whole range:
// sales = total × 10000 ÷ (10000 + rate) rounded half away from zero.
func TestSplitTaxNeverOverflows(t *testing.T) {
	totals := []int64{math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1, posagent.MaxTotal,
		posagent.MaxTotal + 1, -posagent.MaxTotal, 1 << 62, 461168601842738, 461168601842739, 0, 1, -1, 10, 100, 105}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		totals = append(totals, int64(r.Uint64()))
	}
	for _, total := range totals {
		for _, tc := range []struct {
			inv  posagent.Invoice
			rate int64
		}{
			{posagent.Invoice{TaxType: posagent.TaxTaxable, Total: total}, 500},
			{posagent.Invoice{TaxType: posagent.TaxSpecial, SpecialTaxType: 1, Total: total}, 2500},
			{posagent.Invoice{TaxType: posagent.TaxSpecial, SpecialTaxType: 4, Total: total}, 100},
		} {
			s, err := tc.inv.SplitTax()
			if err != nil {
				t.Fatalf("total %d: %v", total, err)
			}
			if want := bigSplit(total, tc.rate); s.Taxable != want {
				t.Fatalf("total %d rate %d: sales %d, want %d", total, tc.rate, s.Taxable, want)
			}
			if s.Taxable+s.Tax != total {
				t.Fatalf("total %d: %d + %d", total, s.Taxable, s.Tax)
			}
		}
	}
}

func bigSplit(total, rate int64) int64 {
	num := new(big.Int).Mul(big.NewInt(total), big.NewInt(20000))
	den := big.NewInt(2 * (10000 + rate))
	half := big.NewInt(10000 + rate)
	neg := num.Sign() < 0
	num.Abs(num)
	q := new(big.Int).Quo(num.Add(num, half), den)
	if neg {
		q.Neg(q)
	}
	return q.Int64()
}

func TestSplitTaxMixedRefusesWhatDoesNotFit(t *testing.T) {
	inv := posagent.Invoice{TaxType: posagent.TaxMixed, Total: 100, Items: []posagent.Item{
		{Name: "a", Quantity: posagent.DecimalFromInt(1), UnitPrice: posagent.MustDecimal("18446744073709551716"),
			Amount: posagent.MustDecimal("18446744073709551716"), TaxType: posagent.TaxZero},
	}}
	if _, err := inv.SplitTax(); posagent.ErrorField(err) != "items" {
		t.Fatalf("err = %v, want one naming items", err)
	}
}

// TestAmountLimits: each limit at its bound is accepted and one above it is
// refused, naming the field; wrap-around values never become a legal invoice.
func TestAmountLimits(t *testing.T) {
	sale := func(items string, extra string) string {
		return `{"sale_id":"L-1",` + extra + `"seller":{"tax_id":"24634102","name":"店"},"items":[` + items + `]}`
	}
	line := func(q, p string) string { return `{"name":"x","quantity":` + q + `,"unit_price":` + p + `}` }
	many := func(n int, l string) string { return strings.TrimSuffix(strings.Repeat(l+",", n), ",") }
	for _, tt := range []struct {
		name, doc string
		total     int64  // when accepted
		field     string // when refused
	}{
		{"total at the bound", sale(line("1", `"4294967295"`), ""), posagent.MaxTotal, ""},
		{"total one above", sale(line("1", `"4294967296"`), ""), 0, "total"},
		{"total given one above", sale(line("1", "100"), `"total":4294967296,`), 0, "total"},
		{"unit price of 10 digits", sale(line("1", `"1000000000.1234567"`), ""), 1000000000, ""},
		{"unit price of 11 digits", sale(line("1", `"10000000000"`), ""), 0, "items[0].unit_price"},
		{"unit price of 8 decimals", sale(line("1", `"1.12345678"`), ""), 0, "items[0].unit_price"},
		{"quantity of 8 digits", sale(line(`"99999999"`, "1"), ""), 99999999, ""},
		{"quantity of 9 digits", sale(line(`"100000000"`, "1"), ""), 0, "items[0].quantity"},
		{"quantity of 2 decimals", sale(line(`"1.25"`, "100"), ""), 125, ""},
		{"quantity of 3 decimals", sale(line(`"1.125"`, "100"), ""), 0, "items[0].quantity"},
		{"line amount beyond 12 digits", sale(line(`"99999999"`, `"9999999999"`), ""), 0, "items[0].amount"},
		{"line amount given beyond 12 digits", sale(`{"name":"x","quantity":1,"unit_price":1,"amount":"1000000000000"}`, ""), 0, "items[0].amount"},
		{"2^64+100 string", sale(line("1", `"18446744073709551716"`), ""), 0, "items[0].unit_price"},
		{"2^64+100 number", sale(line("1", `18446744073709551716`), ""), 0, "items[0].unit_price"},
		{"2^32 x 2^32 + 100", sale(line(`"4294967296"`, `"4294967296"`)+","+line("1", "100"), ""), 0, "items[0].quantity"},
		{"two int64 max + 102", sale(line("1", "9223372036854775807")+","+line("1", "9223372036854775807")+","+line("1", "102"), ""), 0, "items[0].unit_price"},
		{"lines within bound, sum not", sale(line("1", "2147483648")+","+line("1", "2147483648"), ""), 0, "total"},
		{"lines within bound, sum exactly", sale(line("1", "2147483648")+","+line("1", "2147483647"), ""), posagent.MaxTotal, ""},
		{"200 lines of the largest price", sale(many(200, line("1", "9999999999")), ""), 0, "total"},
		{"discounts bring it back", sale(line("1", "9999999999")+","+line("1", "-9999999000"), ""), 999, ""},
		{"total 2^64+100", sale(line("1", "100"), `"total":18446744073709551716,`), 0, "total"},
		{"sales_amount int64 min", sale(line("1", "100"), `"sales_amount":-9223372036854775808,`), 0, "sales_amount"},
		{"tax_amount int64 max", sale(line("1", "100"), `"tax_amount":9223372036854775807,`), 0, "tax_amount"},
		{"sales and tax both int64 max", sale(line("1", "100"), `"sales_amount":9223372036854775807,"tax_amount":9223372036854775807,`), 0, "sales_amount"},
		{"a thousand digits", sale(line("1", `"`+strings.Repeat("9", 1000)+`"`), ""), 0, "items[0].unit_price"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := posagent.DecodeInvoice([]byte(tt.doc))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if inv.Total != tt.total || inv.SalesAmount+inv.TaxAmount != inv.Total {
					t.Fatalf("total %d (%d + %d), want %d", inv.Total, inv.SalesAmount, inv.TaxAmount, tt.total)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted with total %d", inv.Total)
			}
			if posagent.ErrorKind(err) != posagent.KindInvalid || posagent.IsMalformed(err) {
				t.Errorf("kind %q malformed %v, want a broken rule: %v", posagent.ErrorKind(err), posagent.IsMalformed(err), err)
			}
			if got := posagent.ErrorField(err); got != tt.field {
				t.Errorf("field %q, want %q: %v", got, tt.field, err)
			}
			if len(err.Error()) > 300 {
				t.Errorf("message of %d bytes: %.100s…", len(err.Error()), err)
			}
		})
	}
}

func TestOutOfRangeMessages(t *testing.T) {
	_, err := posagent.DecodeInvoice([]byte(`{"total":18446744073709551716,"items":[{"name":"x","quantity":1,"unit_price":1}]}`))
	if posagent.ErrorField(err) != "total" || !strings.Contains(err.Error(), "beyond the NT$4294967295 an invoice can carry") {
		t.Errorf("total 2^64+100: %v", err)
	}
	_, err = posagent.DecodeInvoice([]byte(`{"special_tax_type":99999999999999999999,"items":[{"name":"x","quantity":1,"unit_price":1}]}`))
	if posagent.ErrorField(err) != "special_tax_type" || !strings.Contains(err.Error(), "out of range") || strings.Contains(err.Error(), "NT$") {
		t.Errorf("special_tax_type out of range: %v", err)
	}
}

// TestValidateItemBounds: an Item made in Go (not decoded) meets the same limits.
func TestValidateItemBounds(t *testing.T) {
	d := posagent.MustDecimal
	for _, tt := range []struct {
		it    posagent.Item
		field string
	}{
		{posagent.Item{Name: "a", Quantity: d("1"), UnitPrice: d("1"), Amount: d("1")}, ""},
		{posagent.Item{Name: "a", Quantity: d("1"), UnitPrice: d("10000000000"), Amount: d("10000000000")}, "unit_price"},
		{posagent.Item{Name: "a", Quantity: d("100000000"), UnitPrice: d("1"), Amount: d("100000000")}, "quantity"},
		{posagent.Item{Name: "a", Quantity: d("1"), UnitPrice: d("1000000000000"), Amount: d("1000000000000")}, "unit_price"},
		{posagent.Item{Name: "a", Quantity: d("100"), UnitPrice: d("9999999999"), Amount: d("999999999900")}, ""},
		{posagent.Item{Name: "a", Quantity: d("1000"), UnitPrice: d("9999999999"), Amount: d("9999999999000")}, "amount"},
	} {
		if got := posagent.ErrorField(posagent.ValidateItem(tt.it)); got != tt.field {
			t.Errorf("%v × %v = %v: field %q, want %q", tt.it.Quantity, tt.it.UnitPrice, tt.it.Amount, got, tt.field)
		}
	}
}

// TestStrictJSON: JSON that is not exactly what was meant is malformed, naming the key.
func TestStrictJSON(t *testing.T) {
	line := `{"name":"x","quantity":1,"unit_price":100}`
	doc := func(s string) string { return strings.Replace(base, `"sale_id": "POS01-000001",`, s, 1) }
	for _, tt := range []struct{ name, doc, field string }{
		{"duplicate sale_id", doc(`"sale_id":"A","sale_id":"B",`), "sale_id"},
		{"duplicate total", doc(`"sale_id":"A","total":1,`), "total"},
		{"duplicate quantity", `{"sale_id":"A","items":[{"name":"x","quantity":1,"quantity":5,"unit_price":100}]}`, "items[0].quantity"},
		{"duplicate buyer", doc(`"sale_id":"A","buyer":{"tax_id":"53212539"},"buyer":null,`), "buyer"},
		{"duplicate inside seller", `{"seller":{"tax_id":"24634102","tax_id":"53212539","name":"x"},"items":[` + line + `]}`, "seller.tax_id"},
		{"SALE_ID", doc(`"SALE_ID":"A",`), "SALE_ID"},
		{"Unit_Price", `{"items":[{"name":"x","quantity":1,"Unit_Price":100}]}`, "items[0].Unit_Price"},
		{"ITEMS", `{"ITEMS":[` + line + `]}`, "ITEMS"},
		{"raw invalid UTF-8", `{"items":[{"name":"a` + "\xff\xfe" + `b","quantity":1,"unit_price":100}]}`, "items[0].name"},
		{"lone surrogate", `{"items":[{"name":"a\ud800b","quantity":1,"unit_price":100}]}`, "items[0].name"},
		{"lone low surrogate", `{"remark":"\udc00","items":[` + line + `]}`, "remark"},
		{"overlong", `{"items":[{"name":"a` + "\xc0\xaf" + `b","quantity":1,"unit_price":100}]}`, "items[0].name"},
		{"issued_at zero", doc(`"sale_id":"A","issued_at":"0001-01-01T00:00:00Z",`), "issued_at"},
		{"issued_at empty", `{"issued_at":"","items":[` + line + `]}`, "issued_at"},
		{"issued_at not a time", `{"issued_at":"yesterday","items":[` + line + `]}`, "issued_at"},
		{"quantity true", `{"items":[{"name":"x","quantity":true,"unit_price":100}]}`, "items[0].quantity"},
		{"unit_price array", `{"items":[{"name":"x","quantity":1,"unit_price":[1]}]}`, "items[0].unit_price"},
		{"print a string", `{"print":"yes","items":[` + line + `]}`, "print"},
		{"total a fraction", `{"total":1.5,"items":[` + line + `]}`, "total"},
		{"unknown", `{"colour":"red","items":[` + line + `]}`, "colour"},
		{"trailing", `{"items":[` + line + `]} {}`, ""},
		{"empty", ``, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := posagent.DecodeInvoice([]byte(tt.doc))
			if !posagent.IsMalformed(err) {
				t.Fatalf("err = %v, want malformed", err)
			}
			if got := posagent.ErrorField(err); got != tt.field {
				t.Errorf("field %q, want %q: %v", got, tt.field, err)
			}
		})
	}
	_, err := posagent.DecodeInvoice([]byte(`{"SALE_ID":"A"}`))
	if !strings.Contains(err.Error(), `keys are exact, this one is "sale_id"`) {
		t.Errorf("a miscased key does not say which is meant: %v", err)
	}
	// A rule broken is not malformed.
	if _, err := posagent.DecodeInvoice([]byte(`{"items":[{"name":"x","quantity":0,"unit_price":100}]}`)); err == nil || posagent.IsMalformed(err) {
		t.Errorf("zero quantity: %v, want a rule error", err)
	}
}

// TestStrictJSONAcceptsWhatIsRight: a valid document still decodes, escapes
// and surrogate pairs included, and an absent or null issued_at means "now".
func TestStrictJSONAcceptsWhatIsRight(t *testing.T) {
	inv, err := posagent.DecodeInvoice([]byte(strings.Replace(base, `"乾電池"`, `"\u4e7e\u96fb\u6c60 \ud83d\ude00"`, 1)))
	if err != nil {
		t.Fatal(err)
	}
	if inv.Items[0].Name != "乾電池 😀" {
		t.Errorf("name %q", inv.Items[0].Name)
	}
	for _, doc := range []string{`{"items":[{"name":"x","quantity":1,"unit_price":1}]}`, `{"issued_at":null,"items":[{"name":"x","quantity":1,"unit_price":1}]}`} {
		var sale posagent.Invoice
		if err := sale.UnmarshalJSON([]byte(doc)); err != nil || !sale.IssuedAt.IsZero() {
			t.Errorf("%s: %v %v", doc, err, sale.IssuedAt)
		}
	}
}

func TestDecodeAllowance(t *testing.T) {
	line := func(p string) string { return `{"name":"x","quantity":1,"unit_price":` + p + `}` }
	al, taxGiven, err := posagent.DecodeAllowance([]byte(`{"items":[`+line("60")+`,`+line("`40`")+`],"reason":"少糖"}`), "AB11223344")
	if err == nil {
		t.Fatalf("a back-quoted price was taken: %+v", al)
	}
	al, taxGiven, err = posagent.DecodeAllowance([]byte(`{"items":[`+line("60")+`,`+line(`"40.4"`)+`],"reason":"少糖"}`), "AB11223344")
	if err != nil || taxGiven || al.Total != 100 || al.InvoiceNumber != "AB11223344" || al.Reason != "少糖" {
		t.Fatalf("%+v %v %v", al, taxGiven, err)
	}
	if _, taxGiven, err = posagent.DecodeAllowance([]byte(`{"tax_amount":0,"items":[`+line("60")+`]}`), "AB11223344"); err != nil || !taxGiven {
		t.Errorf("a given tax of 0 is not told from none: %v %v", taxGiven, err)
	}
	for _, tt := range []struct {
		doc, field string
		malformed  bool
	}{
		{`{"items":[` + line(`"18446744073709551716"`) + `]}`, "items[0].unit_price", false},
		{`{"items":[` + line("9223372036854775807") + `,` + line("9223372036854775807") + `,` + line("102") + `]}`, "items[0].unit_price", false},
		{`{"items":[` + line("2147483648") + `,` + line("2147483648") + `]}`, "total", false},
		{`{"total":18446744073709551716,"items":[` + line("1") + `]}`, "total", false},
		{`{"tax_amount":-9223372036854775808,"items":[` + line("1") + `]}`, "tax_amount", false},
		{`{"total":1,"total":2,"items":[` + line("1") + `]}`, "total", true},
		{`{"Reason":"x","items":[` + line("1") + `]}`, "Reason", true},
		{`{"reason":"a` + "\xff" + `","items":[` + line("1") + `]}`, "reason", true},
		{`{"issued_at":"","items":[` + line("1") + `]}`, "issued_at", true},
		{`{"issued_at":"0001-01-01T00:00:00Z","items":[` + line("1") + `]}`, "issued_at", true},
		{`{"items":[{"name":"x","quantity":true,"unit_price":1}]}`, "items[0].quantity", true},
	} {
		_, _, err := posagent.DecodeAllowance([]byte(tt.doc), "AB11223344")
		if err == nil || posagent.ErrorField(err) != tt.field || posagent.IsMalformed(err) != tt.malformed {
			t.Errorf("%s: %v (malformed %v), want field %s malformed %v", tt.doc, err, posagent.IsMalformed(err), tt.field, tt.malformed)
		}
	}
}

// TestAllowanceTaxRule: an allowance's tax is within NT$1 of the split of its
// total, like an invoice's; on a mixed invoice zero-rated and exempt lines carry none.
func TestAllowanceTaxRule(t *testing.T) {
	inv := issued(t)
	inv.Total = 2000
	mk := func(tax int64, items ...posagent.Item) posagent.Allowance {
		a := posagent.Allowance{Number: "AL1", InvoiceNumber: inv.Number, IssuedAt: inv.IssuedAt, Items: items, TaxAmount: tax}
		for _, it := range items {
			v, _ := it.Amount.RoundNTD()
			a.Total += v
		}
		return a
	}
	for tax, ok := range map[int64]bool{46: false, 47: true, 48: true, 49: true, 50: false, 0: false, 1000: false} {
		err := mk(tax, item("x", "1", "1000")).Validate(inv, inv.Total)
		if (err == nil) != ok || (err != nil && posagent.ErrorField(err) != "tax_amount") {
			t.Errorf("tax %d on 1000: %v, want ok=%v", tax, err, ok)
		}
	}
	mixed := inv
	mixed.TaxType, mixed.ZeroTaxReason = posagent.TaxMixed, "71"
	zero := withTax(item("z", "1", "1000"), posagent.TaxZero)
	if err := mk(0, zero).Validate(mixed, mixed.Total); err != nil {
		t.Errorf("zero-rated line of a mixed invoice: %v", err)
	}
	if err := mk(48, zero).Validate(mixed, mixed.Total); posagent.ErrorField(err) != "tax_amount" {
		t.Errorf("tax on a zero-rated line: %v", err)
	}
	if err := mk(48, withTax(item("t", "1", "1000"), posagent.TaxTaxable)).Validate(mixed, mixed.Total); err != nil {
		t.Errorf("taxable line of a mixed invoice: %v", err)
	}
	// A line named like an invoice line refunds that line: its tax type is the line's.
	byName := mixed
	byName.Items = append([]posagent.Item(nil), mixed.Items...)
	for i := range byName.Items {
		byName.Items[i].TaxType = posagent.TaxTaxable
	}
	byName.Items[2].TaxType = posagent.TaxExempt // 牛奶
	if err := mk(0, item("牛奶", "1", "1000")).Validate(byName, byName.Total); err != nil {
		t.Errorf("refund of an exempt line: %v", err)
	}
	if err := mk(48, item("口罩", "1", "1000")).Validate(byName, byName.Total); err != nil {
		t.Errorf("refund of a taxable line: %v", err)
	}
	huge := mk(0, item("x", "1", "1"))
	huge.Total = math.MaxInt64
	if err := huge.Validate(inv, math.MaxInt64); posagent.ErrorField(err) != "total" {
		t.Errorf("total int64 max: %v", err)
	}
}

func TestLoveCodeWithCarrierIsRefused(t *testing.T) {
	_, err := posagent.DecodeInvoice(edit(t, map[string]any{"love_code": "168001", "print": false,
		"carrier": map[string]any{"type": "mobile", "id": "/ABC+123"}}))
	if posagent.ErrorField(err) != "love_code" || !strings.Contains(err.Error(), "carrier") {
		t.Fatalf("err = %v", err)
	}
	for _, c := range []string{"member", "citizen"} {
		id := map[string]string{"member": "M1", "citizen": "AB12345678901234"}[c]
		_, err := posagent.DecodeInvoice(edit(t, map[string]any{"love_code": "168001",
			"carrier": map[string]any{"type": c, "id": id}}))
		if posagent.ErrorField(err) != "love_code" {
			t.Errorf("%s carrier with a love code: %v", c, err)
		}
	}
}

func FuzzDecodeAllowance(f *testing.F) {
	for _, seed := range []string{
		`{"items":[{"name":"a","quantity":1,"unit_price":"18446744073709551716"}]}`,
		`{"items":[{"name":"a","quantity":"4294967296","unit_price":"4294967296"},{"name":"b","quantity":1,"unit_price":100}]}`,
		`{"items":[{"name":"a","quantity":1,"unit_price":9223372036854775807},{"name":"b","quantity":1,"unit_price":9223372036854775807},{"name":"c","quantity":1,"unit_price":102}]}`,
		`{"items":[{"name":"a","quantity":1,"unit_price":2147483648},{"name":"b","quantity":1,"unit_price":2147483648}]}`,
		`{"total":18446744073709551716,"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
		`{"total":1,"total":100,"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
		`{"Items":[{"name":"a","quantity":1,"unit_price":100}]}`,
		"{\"reason\":\"a\xff\xfeb\",\"items\":[{\"name\":\"a\",\"quantity\":1,\"unit_price\":100}]}",
		`{"reason":"a\ud800b","items":[{"name":"a","quantity":1,"unit_price":100}]}`,
		"{\"reason\":\"a\xc0\xafb\",\"items\":[{\"name\":\"a\",\"quantity\":1,\"unit_price\":100}]}",
		`{"issued_at":"0001-01-01T00:00:00Z","items":[{"name":"a","quantity":1,"unit_price":100}]}`,
		`{"issued_at":"2026-01-02T10:00:00+08:00","tax_amount":1000,"items":[{"name":"a","quantity":1,"unit_price":1000}]}`,
		`{"tax_amount":48,"items":[{"name":"a","quantity":"2.5","unit_price":400}],"reason":"少糖"}`,
	} {
		f.Add([]byte(seed))
	}
	inv, err := posagent.DecodeInvoice([]byte(strings.Replace(base, `"total": 340`, `"total": 340, "remark": "fuzz"`, 1)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		al, taxGiven, err := posagent.DecodeAllowance(data, inv.Number)
		if err != nil {
			if posagent.ErrorKind(err) != posagent.KindInvalid {
				t.Fatalf("error of kind %q: %v", posagent.ErrorKind(err), err)
			}
			return
		}
		if !taxGiven {
			if al.TaxAmount, err = al.DerivedTax(inv); err != nil {
				return
			}
		}
		if al.Number == "" {
			al.Number = "AL1"
		}
		if al.IssuedAt.IsZero() {
			al.IssuedAt = inv.IssuedAt
		}
		if err := al.Validate(inv, inv.Total); err != nil {
			if posagent.ErrorKind(err) != posagent.KindInvalid {
				t.Fatalf("error of kind %q: %v", posagent.ErrorKind(err), err)
			}
			return
		}
		// Whatever passes is within the invoice and the limits, its tax by the rule.
		want, _ := al.DerivedTax(inv)
		if al.Total <= 0 || al.Total > inv.Total || al.TaxAmount-want > 1 || want-al.TaxAmount > 1 {
			t.Fatalf("accepted %+v (tax rule %d)", al, want)
		}
		for i, it := range al.Items {
			if it.UnitPrice.IntDigits() > posagent.UnitPriceDigits || it.Quantity.IntDigits() > posagent.QuantityDigits ||
				it.Amount.IntDigits() > posagent.AmountDigits {
				t.Fatalf("line %d beyond the limits: %+v", i, it)
			}
		}
	})
}

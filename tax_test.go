package posagent_test

import (
	"testing"

	"github.com/posagent/posagent"
)

func item(name, qty, price string) posagent.Item {
	q, p := posagent.MustDecimal(qty), posagent.MustDecimal(price)
	return posagent.Item{Name: name, Quantity: q, UnitPrice: p, Amount: q.Mul(p)}
}

func TestSplitTaxStandardRate(t *testing.T) {
	// sales = total ÷ 1.05 rounded half up; tax = total − sales.
	tests := []struct{ total, sales, tax int64 }{
		{105, 100, 5},
		{100, 95, 5}, // 95.238
		{10, 10, 0},  // 9.52 rounds up to 10: no tax on a NT$10 sale
		{1, 1, 0},
		{21, 20, 1},       // 20.0
		{32, 30, 2},       // 30.476 → 30
		{43, 41, 2},       // 40.952 → 41
		{340, 324, 16},    // the MOF example: 銷售額 324, 總計 340
		{2100, 2000, 100}, // exact
		{4294967295, 4090445043, 204522252},
	}
	for _, tt := range tests {
		inv := posagent.Invoice{TaxType: posagent.TaxTaxable, Total: tt.total}
		s, err := inv.SplitTax()
		if err != nil || s.Taxable != tt.sales || s.Tax != tt.tax || s.Sales()+s.Tax != tt.total {
			t.Errorf("total %d: split %+v, want sales %d tax %d", tt.total, s, tt.sales, tt.tax)
		}
	}
}

// TestSplitTaxIsNearest checks the rule over a wide range against its
// definition in integers: sales is the whole number nearest to total ÷ 1.05,
// i.e. |105·sales − 100·total| ≤ 52.5. (At 5 % an exact half cannot occur:
// 40·total would have to equal 21 times an odd number.)
func TestSplitTaxIsNearest(t *testing.T) {
	for total := int64(1); total <= 200000; total++ {
		inv := posagent.Invoice{TaxType: posagent.TaxTaxable, Total: total}
		s, _ := inv.SplitTax()
		d := 105*s.Taxable - 100*total
		if d < 0 {
			d = -d
		}
		if 2*d > 105 || s.Taxable+s.Tax != total || s.Tax < 0 {
			t.Fatalf("total %d: %+v is not the nearest split", total, s)
		}
	}
}

func TestSplitTaxOtherTypes(t *testing.T) {
	zero := posagent.Invoice{TaxType: posagent.TaxZero, Total: 500}
	if s, _ := zero.SplitTax(); s.ZeroRated != 500 || s.Tax != 0 || s.Taxable != 0 {
		t.Errorf("zero-rated: %+v", s)
	}
	exempt := posagent.Invoice{TaxType: posagent.TaxExempt, Total: 500}
	if s, _ := exempt.SplitTax(); s.Exempt != 500 || s.Tax != 0 {
		t.Errorf("exempt: %+v", s)
	}
	special := posagent.Invoice{TaxType: posagent.TaxSpecial, SpecialTaxType: 1, Total: 125}
	if s, _ := special.SplitTax(); s.Taxable != 100 || s.Tax != 25 {
		t.Errorf("special 25 %%: %+v", s)
	}
	mixed := posagent.Invoice{TaxType: posagent.TaxMixed, Total: 355, Items: []posagent.Item{
		withTax(item("taxable", "1", "105"), posagent.TaxTaxable),
		withTax(item("zero", "1", "200"), posagent.TaxZero),
		withTax(item("exempt", "1", "50"), posagent.TaxExempt),
	}}
	s, err := mixed.SplitTax()
	if err != nil || s.Taxable != 100 || s.Tax != 5 || s.ZeroRated != 200 || s.Exempt != 50 || s.Sales()+s.Tax != 355 {
		t.Errorf("mixed: %+v", s)
	}
	if got := mixed.TaxRate(); got != 500 {
		t.Errorf("mixed TaxRate = %d", got)
	}
	if got := zero.TaxRate(); got != 0 {
		t.Errorf("zero TaxRate = %d", got)
	}
}

func withTax(it posagent.Item, tt posagent.TaxType) posagent.Item {
	it.TaxType = tt
	return it
}

func TestSpecialTaxRate(t *testing.T) {
	for code, want := range map[int]int{1: 2500, 2: 1500, 3: 200, 4: 100, 5: 500, 8: 0} {
		if got, ok := posagent.SpecialTaxRate(code); !ok || got != want {
			t.Errorf("SpecialTaxRate(%d) = %d, %v", code, got, ok)
		}
	}
	for _, code := range []int{0, 9, -1} {
		if _, ok := posagent.SpecialTaxRate(code); ok {
			t.Errorf("SpecialTaxRate(%d) ok", code)
		}
	}
}

func TestDecimal(t *testing.T) {
	for in, want := range map[string]string{"1": "1", "1.50": "1.5", "0.0000001": "0.0000001", "-12.25": "-12.25", "007": "7"} {
		d, err := posagent.ParseDecimal(in)
		if err != nil || d.String() != want {
			t.Errorf("ParseDecimal(%q) = %s, %v; want %s", in, d, err, want)
		}
	}
	for _, in := range []string{"", "1e3", "+1", ".5", "1.", "1,5", "NaN", "Infinity", "0x10", " 1"} {
		if _, err := posagent.ParseDecimal(in); err == nil {
			t.Errorf("ParseDecimal(%q) succeeded", in)
		}
	}
	// 0.1 + 0.2 is exactly 0.3: no float ever touches a price.
	if got := posagent.MustDecimal("0.1").Add(posagent.MustDecimal("0.2")); !got.Equal(posagent.MustDecimal("0.3")) {
		t.Errorf("0.1 + 0.2 = %s", got)
	}
	if got := posagent.MustDecimal("33.3333333").Mul(posagent.DecimalFromInt(3)).String(); got != "99.9999999" {
		t.Errorf("33.3333333 × 3 = %s", got)
	}
	for in, want := range map[string]int64{"2.5": 3, "2.4999": 2, "-2.5": -3, "99.9999999": 100} {
		if got, ok := posagent.MustDecimal(in).RoundNTD(); !ok || got != want {
			t.Errorf("RoundNTD(%s) = %d, want %d", in, got, want)
		}
	}
	if got := posagent.MustDecimal("1.2300").Places(); got != 2 {
		t.Errorf("Places(1.2300) = %d", got)
	}
	var d posagent.Decimal
	for _, js := range []string{`12.5`, `"12.5"`} {
		if err := d.UnmarshalJSON([]byte(js)); err != nil || d.String() != "12.5" {
			t.Errorf("UnmarshalJSON(%s) = %s, %v", js, d, err)
		}
	}
	if b, _ := posagent.MustDecimal("12.50").MarshalJSON(); string(b) != "12.5" {
		t.Errorf("MarshalJSON = %s", b)
	}
}

package posagent

// TaxRateBasisPoints of the standard business tax (營業稅): 5 %.
const standardRate = 500

// SpecialTaxRate returns the rate in basis points for an ECPay/MIG special tax
// code (特種稅額, SpecialTaxType 1–8).
//
// [U] The code-to-rate table is taken from ECPay's published field description,
// not from MOF text: 1 = 25 % (bars and tea rooms with hostess service), 2 = 15 %
// (night clubs), 3 = 2 % (financial core business), 4 = 1 % (reinsurance),
// 5–7 = 5 % (financial non-core and banking/insurance core business), 8 = 0 %
// (exempt). Confirm with the provider before selling special-rate goods.
func SpecialTaxRate(code int) (basisPoints int, ok bool) {
	switch code {
	case 1:
		return 2500, true
	case 2:
		return 1500, true
	case 3:
		return 200, true
	case 4:
		return 100, true
	case 5, 6, 7:
		return 500, true
	case 8:
		return 0, true
	}
	return 0, false
}

// TaxSplit divides a tax-inclusive total into its parts.
type TaxSplit struct {
	Taxable   int64 // 應稅銷售額: taxable sales without tax
	ZeroRated int64 // 零稅率銷售額
	Exempt    int64 // 免稅銷售額
	Tax       int64 // 稅額
}

// Sales is everything sold without tax: taxable, zero-rated and exempt sales.
func (s TaxSplit) Sales() int64 { return s.Taxable + s.ZeroRated + s.Exempt }

// splitInclusive divides a tax-inclusive amount at rate (basis points) into
// sales and tax. The rule, as 統一發票使用辦法 prescribes for tax-inclusive
// prices: sales = total ÷ (1 + rate), rounded half up to whole NT$ (四捨五入);
// tax = total − sales. So 105 → 100 + 5, 100 → 95 + 5 (95.238…), 10 → 10 + 0
// (9.52 rounds to 10), and sales + tax always equals the total.
//
// It cannot overflow for any int64 total: the whole multiples of (1 + rate)
// are divided out first, so no intermediate is larger than the total or than
// 2 × 10000 × (10000 + rate).
func splitInclusive(total int64, rate int) (sales, tax int64) {
	if rate == 0 {
		return total, 0
	}
	neg := total < 0
	// Work on the magnitude in uint64: -MinInt64 does not fit an int64.
	mag := uint64(total)
	if neg {
		mag = -mag
	}
	den := uint64(10000 + rate)
	q, r := mag/den, mag%den
	// sales = q × 10000 + round(r × 10000 / den), half away from zero.
	s := q*10000 + (r*10000*2+den)/(den*2)
	if neg {
		sales = -int64(s)
	} else {
		sales = int64(s)
	}
	return sales, total - sales
}

// SplitTax derives the tax split from the total, the tax type and, on a mixed
// invoice, the items' tax types. The zero-rated and exempt parts of a mixed
// invoice are their items' amounts rounded to whole NT$; the taxable part is
// what remains of the total, split at 5 %. An invoice whose parts do not fit
// the domain's limits is an error naming the field, never a wrapped number.
func (inv *Invoice) SplitTax() (TaxSplit, error) {
	switch inv.TaxType {
	case TaxZero:
		return TaxSplit{ZeroRated: inv.Total}, nil
	case TaxExempt:
		return TaxSplit{Exempt: inv.Total}, nil
	case TaxSpecial:
		rate, _ := SpecialTaxRate(inv.SpecialTaxType)
		sales, tax := splitInclusive(inv.Total, rate)
		return TaxSplit{Taxable: sales, Tax: tax}, nil
	case TaxMixed:
		var zero, exempt Decimal
		for _, it := range inv.Items {
			switch it.TaxType {
			case TaxZero:
				zero = zero.Add(it.Amount)
			case TaxExempt:
				exempt = exempt.Add(it.Amount)
			}
		}
		var s TaxSplit
		var okZ, okE bool
		s.ZeroRated, okZ = zero.RoundNTD()
		s.Exempt, okE = exempt.RoundNTD()
		if !okZ || !okE || checkTotal("items", s.ZeroRated) != nil || checkTotal("items", s.Exempt) != nil {
			return TaxSplit{}, Invalid("items", "the zero-rated or exempt lines add up to more than an invoice can carry")
		}
		// All three are within ±MaxTotal (checkTotal), so the difference fits.
		if err := checkTotal("total", inv.Total); err != nil {
			return TaxSplit{}, err
		}
		s.Taxable, s.Tax = splitInclusive(inv.Total-s.ZeroRated-s.Exempt, standardRate)
		return s, nil
	default:
		sales, tax := splitInclusive(inv.Total, standardRate)
		return TaxSplit{Taxable: sales, Tax: tax}, nil
	}
}

// TaxRate is the invoice's rate in basis points as the MIG TaxRate field wants
// it: 500 for taxable and mixed, the special rate, 0 for zero-rated and exempt.
func (inv *Invoice) TaxRate() int {
	switch inv.TaxType {
	case TaxZero, TaxExempt:
		return 0
	case TaxSpecial:
		r, _ := SpecialTaxRate(inv.SpecialTaxType)
		return r
	}
	return standardRate
}

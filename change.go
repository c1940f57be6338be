package posagent

import (
	"strconv"
	"time"
)

// Void cancels an issued invoice (作廢, MIG F0501).
type Void struct {
	Number   InvoiceNumber `json:"number"`
	VoidedAt time.Time     `json:"voided_at"`
	Reason   string        `json:"reason"`
}

// MaxVoidReason is ECPay's Reason String(20); the MIG allows more.
const MaxVoidReason = 20

// Validate checks the void's own fields.
func (v Void) Validate() error {
	if !v.Number.Valid() {
		return Invalid("number", "%q is not an invoice number", v.Number)
	}
	if v.VoidedAt.IsZero() {
		return Invalid("voided_at", "is required")
	}
	return checkText("reason", v.Reason, MaxVoidReason, true)
}

// Allowance is a partial refund against an issued invoice (折讓證明單, MIG G0401).
// Its lines carry tax-inclusive amounts like the invoice's; Total is their sum
// in whole NT$ and TaxAmount the tax within it.
type Allowance struct {
	Number        string        `json:"number"` // the allowance's own number, ≤ 16 characters
	InvoiceNumber InvoiceNumber `json:"invoice_number"`
	IssuedAt      time.Time     `json:"issued_at"`
	Items         []Item        `json:"items"`
	Total         int64         `json:"total"`
	TaxAmount     int64         `json:"tax_amount"`
	Reason        string        `json:"reason,omitempty"`
	// ProviderNumber is the number the provider gave the allowance, for
	// providers that number allowances themselves (ECPay's IA_Allow_No; see
	// AllowanceIssuer). VoidAllowance needs it there.
	ProviderNumber string `json:"provider_number,omitempty"`
}

// MaxAllowanceNumber is the MIG AllowanceNumber length.
const MaxAllowanceNumber = 16

var allowanceNumberText = saleIDText

// Validate checks the allowance against the invoice it refunds: lines valid, the
// total their sum, more than zero and no more than remaining (what is left of
// the invoice after earlier allowances).
func (a Allowance) Validate(inv Invoice, remaining int64) error {
	switch {
	case a.Number == "" || len(a.Number) > MaxAllowanceNumber || !allowanceNumberText.MatchString(a.Number):
		return Invalid("number", "an allowance number is 1 to %d of A-Z a-z 0-9 . _ -", MaxAllowanceNumber)
	case a.InvoiceNumber != inv.Number:
		return Invalid("invoice_number", "%q is not the invoice %s", a.InvoiceNumber, inv.Number)
	case a.IssuedAt.IsZero():
		return Invalid("issued_at", "is required")
	case a.IssuedAt.Before(inv.IssuedAt):
		return Invalid("issued_at", "an allowance cannot come before its invoice")
	case len(a.Items) == 0:
		return Invalid("items", "an allowance needs at least one line")
	case len(a.Items) > MaxItems:
		return Invalid("items", "%d lines is more than %d", len(a.Items), MaxItems)
	}
	for i, it := range a.Items {
		if err := ValidateItem(it); err != nil {
			return prefixField("items["+strconv.Itoa(i)+"]", err)
		}
		if it.Amount.Sign() <= 0 {
			return Invalid("items["+strconv.Itoa(i)+"].amount", "an allowance line refunds more than 0")
		}
	}
	// The lines passed their limits, so the sum fits; sumNTD refuses otherwise.
	sum, err := sumNTD("total", a.Items)
	if err != nil {
		return err
	}
	switch {
	case a.Total <= 0:
		return Invalid("total", "must be more than 0")
	case a.Total > MaxTotal:
		return Invalid("total", "%d is beyond the NT$%d an invoice can carry", a.Total, int64(MaxTotal))
	case a.Total != sum:
		return Invalid("total", "%d is not the sum of the lines (%d)", a.Total, sum)
	case a.Total > remaining:
		return Invalid("total", "%d is more than the %d left of invoice %s", a.Total, remaining, inv.Number)
	case a.TaxAmount < 0 || a.TaxAmount > a.Total:
		return Invalid("tax_amount", "must be between 0 and the total")
	}
	want, err := a.DerivedTax(inv)
	if err != nil {
		return err
	}
	if !taxWithin(a.TaxAmount, want) {
		return Invalid("tax_amount", "%d differs from the %d the allowance carries at the invoice's tax type (at most NT$%d apart)", a.TaxAmount, want, maxTaxDeviation)
	}
	return checkText("reason", a.Reason, MaxVoidReason, false)
}

// AllowanceTax derives the tax within a tax-inclusive allowance total at the
// invoice's rate, with the same rounding as the invoice's split.
func AllowanceTax(inv Invoice, total int64) int64 {
	_, tax := splitInclusive(total, inv.TaxRate())
	return tax
}

// DerivedTax is the tax within the allowance by the invoice's rule: its total
// at the invoice's rate (AllowanceTax), except on a mixed invoice, where the
// zero-rated and exempt lines carry none and the rest is split at 5 %.
func (a Allowance) DerivedTax(inv Invoice) (int64, error) {
	if inv.TaxType != TaxMixed {
		return AllowanceTax(inv, a.Total), nil
	}
	// Each line refunds a line of the invoice: its tax type is that line's
	// (found by name, as the G0401 writer does), else its own, else taxable.
	items := make([]Item, len(a.Items))
	for i, it := range a.Items {
		items[i] = it
		items[i].TaxType = allowanceLineTax(inv, it)
	}
	mixed := Invoice{TaxType: TaxMixed, Total: a.Total, Items: items}
	s, err := mixed.SplitTax()
	if err != nil {
		return 0, err
	}
	return s.Tax, nil
}

// allowanceLineTax is the tax type of an allowance line on a mixed invoice.
func allowanceLineTax(inv Invoice, it Item) TaxType {
	for _, orig := range inv.Items {
		if orig.Name == it.Name {
			return inv.itemTaxType(orig)
		}
	}
	if it.TaxType != "" {
		return it.TaxType
	}
	return TaxTaxable
}

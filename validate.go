package posagent

import (
	"fmt"
	"regexp"
	"unicode"
	"unicode/utf8"
)

// Limits on an invoice, from the strictest of the MOF QR rules and the
// providers' field sizes (ECPay: ≤ 200 lines, ItemName String(100), ItemWord
// String(6), ItemRemark String(40), InvoiceRemark String(200); CustomerName String(60)).
const (
	MaxItems        = 200
	MaxItemName     = 100 // characters
	MaxUnit         = 6
	MaxItemRemark   = 40
	MaxRemark       = 200
	MaxName         = 60
	MaxCarrierID    = 64
	maxTaxDeviation = 1 // NT$ a given tax amount may differ from ours
)

var memberCarrierID = regexp.MustCompile(`^[\x21-\x7E]{1,64}$`)

// Validate checks the sale: everything a POS sends. It names the field and the
// rule broken by the first violation it finds, as a KindInvalid *Error. Number,
// random code and issue time are checked when present; ValidateIssued requires them.
func (inv *Invoice) Validate() error {
	checks := []func() error{
		inv.validateIdentity,
		inv.validateParties,
		inv.validateDelivery,
		inv.validateTaxType,
		inv.validateItems,
		inv.validateAmounts,
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// ValidateIssued is Validate for an invoice that must already carry its number,
// random code and issue time.
func (inv *Invoice) ValidateIssued() error {
	switch {
	case inv.Number == "":
		return Invalid("number", "is required on an issued invoice")
	case inv.RandomCode == "":
		return Invalid("random_code", "is required on an issued invoice")
	case inv.IssuedAt.IsZero():
		return Invalid("issued_at", "is required on an issued invoice")
	}
	return inv.Validate()
}

func (inv *Invoice) validateIdentity() error {
	if inv.Number != "" && !inv.Number.Valid() {
		return Invalid("number", "%q is not two uppercase letters and eight digits", inv.Number)
	}
	if inv.RandomCode != "" && !ValidRandomCode(inv.RandomCode) {
		return Invalid("random_code", "%q is not 4 digits", inv.RandomCode)
	}
	if inv.Number != "" && inv.RandomCode == "" {
		return Invalid("random_code", "is required with an invoice number")
	}
	if !inv.IssuedAt.IsZero() && inv.IssuedAt.In(Taipei).Year() < 2012 {
		return Invalid("issued_at", "%s is before e-invoices existed", inv.IssuedAt.Format("2006-01-02"))
	}
	if inv.SaleID != "" && !saleIDText.MatchString(inv.SaleID) {
		return Invalid("sale_id", "must be 1 to 64 of A-Z a-z 0-9 . _ -")
	}
	return nil
}

func (inv *Invoice) validateParties() error {
	switch {
	case inv.Seller.TaxID == "":
		return Invalid("seller.tax_id", "is required")
	case !ValidTaxID(inv.Seller.TaxID):
		return Invalid("seller.tax_id", "%q is not a valid 統一編號 (8 digits with a check sum)", inv.Seller.TaxID)
	}
	if err := checkText("seller.name", inv.Seller.Name, MaxName, true); err != nil {
		return err
	}
	if err := checkText("seller.address", inv.Seller.Address, 100, false); err != nil {
		return err
	}
	if inv.Buyer.TaxID != "" {
		switch {
		case inv.Buyer.TaxID == ConsumerTaxID:
			return Invalid("buyer.tax_id", "00000000 is not a tax id: leave it out for a consumer")
		case !ValidTaxID(inv.Buyer.TaxID):
			return Invalid("buyer.tax_id", "%q is not a valid 統一編號 (8 digits with a check sum)", inv.Buyer.TaxID)
		}
	}
	return checkText("buyer.name", inv.Buyer.Name, MaxName, false)
}

// validateDelivery checks how the buyer receives the invoice: carrier, donation
// or printed proof, and the combinations the MOF and the providers allow.
func (inv *Invoice) validateDelivery() error {
	c := inv.Carrier
	if !c.IsZero() {
		switch c.Type {
		case CarrierMobile:
			if !ValidMobileBarcode(c.ID) {
				return Invalid("carrier.id", "%q is not a mobile barcode: / and 7 of 0-9 A-Z . + -", c.ID)
			}
		case CarrierCitizen:
			if !ValidCitizenCertificate(c.ID) {
				return Invalid("carrier.id", "%q is not a citizen certificate id: 2 uppercase letters and 14 digits", c.ID)
			}
		case CarrierMember:
			if c.ID != "" && !memberCarrierID.MatchString(c.ID) {
				return Invalid("carrier.id", "a member carrier id is up to %d printable ASCII characters", MaxCarrierID)
			}
		case "":
			return Invalid("carrier.type", "is required with a carrier: mobile, citizen or member")
		default:
			return Invalid("carrier.type", "%q is not a carrier type: mobile, citizen or member", c.Type)
		}
	}
	if inv.LoveCode != "" {
		switch {
		case !ValidLoveCode(inv.LoveCode):
			return Invalid("love_code", "%q is not a donation code: 3 to 7 digits", inv.LoveCode)
		case inv.Buyer.IsBusiness():
			return Invalid("love_code", "an invoice to a business buyer (tax id) cannot be donated")
		case !c.IsZero():
			// MOF and the providers refuse it (Amego: 捐贈發票不可設定載具): a donated
			// invoice belongs to the charity, not to the buyer's carrier.
			return Invalid("love_code", "a donated invoice cannot also go to a carrier: give love_code or carrier, not both")
		case inv.Print:
			return Invalid("print", "a donated invoice is not printed")
		}
	}
	if inv.Print && !c.IsZero() {
		return Invalid("print", "an invoice kept in a carrier is not printed")
	}
	if !inv.Print && c.IsZero() && inv.LoveCode == "" {
		return Invalid("print", "an invoice with no carrier and no donation must be printed")
	}
	return nil
}

func (inv *Invoice) validateTaxType() error {
	switch inv.TaxType {
	case TaxTaxable, TaxExempt, TaxZero, TaxSpecial, TaxMixed:
	default:
		return Invalid("tax_type", "%q is not a tax type: taxable, zero_rated, exempt, special or mixed", inv.TaxType)
	}
	if inv.TaxType == TaxSpecial {
		if _, ok := SpecialTaxRate(inv.SpecialTaxType); !ok {
			return Invalid("special_tax_type", "a special-rate invoice needs a special tax type 1 to 8")
		}
	} else if inv.SpecialTaxType != 0 {
		return Invalid("special_tax_type", "is only for tax_type special")
	}
	needsReason := inv.TaxType == TaxZero
	if inv.TaxType == TaxMixed {
		for _, it := range inv.Items {
			needsReason = needsReason || it.TaxType == TaxZero
		}
	}
	switch {
	case needsReason && inv.ZeroTaxReason == "":
		return Invalid("zero_tax_reason", "zero-rated sales need a reason code 71 to 79")
	case needsReason && !zeroTaxReasonTxt.MatchString(inv.ZeroTaxReason):
		return Invalid("zero_tax_reason", "%q is not a reason code 71 to 79", inv.ZeroTaxReason)
	case !needsReason && inv.ZeroTaxReason != "":
		return Invalid("zero_tax_reason", "is only for zero-rated sales")
	}
	return nil
}

func (inv *Invoice) validateItems() error {
	switch {
	case len(inv.Items) == 0:
		return Invalid("items", "an invoice needs at least one item")
	case len(inv.Items) > MaxItems:
		return Invalid("items", "%d items is more than the %d an invoice may have", len(inv.Items), MaxItems)
	}
	for i, it := range inv.Items {
		if err := inv.validateItem(it); err != nil {
			return prefixField(fmt.Sprintf("items[%d]", i), err)
		}
	}
	return nil
}

func (inv *Invoice) validateItem(it Item) error {
	if err := ValidateItem(it); err != nil {
		return err
	}
	if inv.TaxType == TaxMixed {
		switch it.TaxType {
		case TaxTaxable, TaxZero, TaxExempt:
		case "":
			return Invalid("tax_type", "each item of a mixed invoice needs its tax type: taxable, zero_rated or exempt")
		default:
			return Invalid("tax_type", "%q is not taxable, zero_rated or exempt", it.TaxType)
		}
	} else if it.TaxType != "" && it.TaxType != inv.TaxType {
		return Invalid("tax_type", "%s differs from the invoice's %s: use tax_type mixed", it.TaxType, inv.TaxType)
	}
	return nil
}

// ValidateItem checks one line on its own: name, unit, remark, quantity, unit
// price and amount (also used for allowance lines).
func ValidateItem(it Item) error {
	if err := checkText("name", it.Name, MaxItemName, true); err != nil {
		return err
	}
	if err := checkText("unit", it.Unit, MaxUnit, false); err != nil {
		return err
	}
	if err := checkText("remark", it.Remark, MaxItemRemark, false); err != nil {
		return err
	}
	for _, f := range []struct {
		limit decimalLimit
		d     Decimal
	}{{quantityLimit, it.Quantity}, {unitPriceLimit, it.UnitPrice}, {amountLimit, it.Amount}} {
		if err := f.limit.check(f.d); err != nil {
			return err
		}
	}
	if it.Quantity.Sign() <= 0 {
		return Invalid("quantity", "must be more than 0 (a discount is a line with a negative unit price)")
	}
	// A line agrees with its price when they differ by less than one dollar:
	// "3 for 100" is 3 × 33.33 = 99.99 on a till and 100 on the receipt.
	diff := it.Amount.Sub(it.Quantity.Mul(it.UnitPrice))
	if diff.Cmp(DecimalFromInt(1)) >= 0 || diff.Cmp(DecimalFromInt(-1)) <= 0 {
		return Invalid("amount", "%s is not quantity × unit price (%s × %s)", it.Amount, it.Quantity, it.UnitPrice)
	}
	return nil
}

func (inv *Invoice) validateAmounts() error {
	// The items passed their limits (validateItems runs first), so their sum
	// fits; sumNTD still refuses rather than wraps if it did not.
	sum, err := sumNTD("total", inv.Items)
	if err != nil {
		return err
	}
	switch {
	case inv.Total <= 0:
		return Invalid("total", "must be more than 0: there is no zero or negative invoice")
	case inv.Total > MaxTotal:
		return Invalid("total", "%d is beyond the NT$%d an invoice can carry (the QR code's 8 hex digits)", inv.Total, int64(MaxTotal))
	case inv.Total != sum:
		return Invalid("total", "%d is not the sum of the items' amounts (%d)", inv.Total, sum)
	case inv.SalesAmount < 0:
		return Invalid("sales_amount", "must not be negative")
	case inv.TaxAmount < 0:
		return Invalid("tax_amount", "must not be negative")
	case inv.SalesAmount > inv.Total:
		return Invalid("sales_amount", "%d is more than the total %d", inv.SalesAmount, inv.Total)
	case inv.TaxAmount > inv.Total:
		return Invalid("tax_amount", "%d is more than the total %d", inv.TaxAmount, inv.Total)
	// Both are within 0..MaxTotal now: the sum cannot overflow.
	case inv.SalesAmount+inv.TaxAmount != inv.Total:
		return Invalid("sales_amount", "%d + tax %d is not the total %d", inv.SalesAmount, inv.TaxAmount, inv.Total)
	}
	split, err := inv.SplitTax()
	if err != nil {
		return err
	}
	if !taxWithin(inv.TaxAmount, split.Tax) {
		return Invalid("tax_amount", "%d differs from the %d the total carries at this tax type", inv.TaxAmount, split.Tax)
	}
	return checkText("remark", inv.Remark, MaxRemark, false)
}

// taxWithin is the tax rule of invoices and allowances alike: a given tax may
// differ from the derived one by at most NT$1 (a POS that rounds per line).
// Both are within 0..MaxTotal where it is called, so the difference fits.
func taxWithin(given, derived int64) bool {
	return given-derived <= maxTaxDeviation && derived-given <= maxTaxDeviation
}

// checkText checks a free-text field: required or not, at most max characters,
// no control characters (they would reach the printer as commands).
func checkText(field, s string, max int, required bool) error {
	switch {
	case s == "" && required:
		return Invalid(field, "is required")
	case !utf8.ValidString(s):
		return Invalid(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		return Invalid(field, "is %d characters, more than %d", utf8.RuneCountInString(s), max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return Invalid(field, "contains the control character %U", r)
		}
	}
	return nil
}

package posagent

import "fmt"

// The domain's limits on amounts, in one place. A sale or allowance that
// breaks one is refused before anything is stored or a number is spent, with
// the field named: an invoice the MOF's QR code or a provider cannot carry must
// never be issued.
//
// Sources, strictest first:
//   - MOF, 電子發票證明聯 QR code (mof-einvoice.md, fields 4 and 5): the sales
//     amount and the total are 8 hex digits, so no total above 4,294,967,295.
//   - MOF MIG 4.1 (F0401, G0401): Quantity, UnitPrice and Amount are decimals of
//     at most 20 digits with at most 7 after the point; TaxAmount is whole.
//   - ECPay B2C/offline invoice API, Items[] (as summarised in the issue that
//     set these limits): ItemPrice at most 10 integer digits and 7 decimals,
//     ItemCount 8 and 2, ItemAmount 12 and 7. These are stricter than the MIG
//     and so are the ones posagent enforces.
//
// [U] ecpay.md summarises every item Number as "≤ 7 decimals"; the stricter
// reading of ItemCount (2 decimals) is taken: a quantity ECPay would refuse
// after the number is spent costs a dead upload, one refused here costs the
// cashier a retype (sell 1.235 kg as quantity 1 at the line's price).
const (
	// MaxTotal is the largest invoice or allowance total, in whole NT$.
	MaxTotal = 0xFFFFFFFF

	UnitPriceDigits = 10 // integer digits of a unit price (ECPay ItemPrice)
	UnitPricePlaces = 7  // decimals of a unit price (ECPay ItemPrice, MIG)
	QuantityDigits  = 8  // integer digits of a quantity (ECPay ItemCount)
	QuantityPlaces  = 2  // decimals of a quantity (ECPay ItemCount) [U]
	AmountDigits    = 12 // integer digits of a line amount (ECPay ItemAmount)
	AmountPlaces    = 7  // decimals of a line amount (ECPay ItemAmount, MIG)
)

// MaxQRTotal is MaxTotal by its reason: the QR code writes amounts as 8 hex digits.
const MaxQRTotal = MaxTotal

// decimalLimit is the bound of one decimal field of a line.
type decimalLimit struct {
	field          string
	digits, places int
}

var (
	quantityLimit  = decimalLimit{"quantity", QuantityDigits, QuantityPlaces}
	unitPriceLimit = decimalLimit{"unit_price", UnitPriceDigits, UnitPricePlaces}
	amountLimit    = decimalLimit{"amount", AmountDigits, AmountPlaces}
)

// check refuses d when it has more integer digits or decimals than the limit
// allows, naming the field. Zeros after the point do not count (1.50 has one).
func (l decimalLimit) check(d Decimal) error {
	if n := d.IntDigits(); n > l.digits {
		return Invalid(l.field, "%s has %d digits before the point, more than the %d an invoice line can carry", shorten(d.String()), n, l.digits)
	}
	if p := d.Places(); p > l.places {
		return Invalid(l.field, "%s has %d decimal places, more than %d", shorten(d.String()), p, l.places)
	}
	return nil
}

// checkMagnitude is check without the decimals: it bounds what later sums see.
func (l decimalLimit) checkMagnitude(d Decimal) error {
	if n := d.IntDigits(); n > l.digits {
		return Invalid(l.field, "%s has %d digits before the point, more than the %d an invoice line can carry", shorten(d.String()), n, l.digits)
	}
	return nil
}

// checkTotal bounds a whole-NT$ amount given or derived for an invoice or allowance.
func checkTotal(field string, v int64) error {
	if v > MaxTotal || v < -MaxTotal {
		return Invalid(field, "%d is beyond the NT$%d an invoice can carry", v, int64(MaxTotal))
	}
	return nil
}

// shorten keeps error messages readable when a POS sends a thousand digits.
func shorten(s string) string {
	if len(s) <= 40 {
		return s
	}
	return fmt.Sprintf("%s…(%d characters)", s[:24], len(s))
}

// Limits of a Portuguese sale. InvoiceXpress publishes none [U]; these keep
// every sum far inside what a decimal and a receipt carry, and refuse at the
// till what would otherwise fail, or be changed, at the issuer.
const (
	// MaxPTSaleID: the sale id is the document's reference and is printed on
	// the "not an invoice" slip, which takes 64 printable ASCII characters.
	MaxPTSaleID = 64
	// MaxPTItems: lines per document; a till's basket, with room.
	MaxPTItems = 200
	// MaxPTSKU and MaxPTItemName: the item's name and description at
	// InvoiceXpress [U: no published limit]; a receipt wraps longer text.
	MaxPTSKU      = 60
	MaxPTItemName = 100
	// MaxPTBuyerName: the client's name at InvoiceXpress [U].
	MaxPTBuyerName = 100
	// PTUnitPriceDigits / PTUnitPricePlaces: a unit price up to
	// 999 999.99 EUR, in cents as the issuer's example writes prices ("0.81").
	PTUnitPriceDigits = 6
	PTUnitPricePlaces = 2
	// PTQuantityDigits / PTQuantityPlaces: up to 99 999.999 (grams of a kilo).
	PTQuantityDigits = 5
	PTQuantityPlaces = 3
	// MaxPTTotal is the largest sale, VAT included, in cents (10 million EUR):
	// no till sells more in one document.
	MaxPTTotal = 10_000_000_00
)

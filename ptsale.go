package posagent

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// PTSale is a Portuguese sale as the POS sends it (POST /v1/sales on a
// terminal whose regime is "pt"). It is not a fiscal document: InvoiceXpress
// makes one from it (PTDocument) when the sale is issued. Amounts are EUR
// decimals with cents; unit prices exclude VAT, as InvoiceXpress takes them.
type PTSale struct {
	SaleID string `json:"sale_id"`
	// IssuedAt is when the sale was made; zero is now. The document's date is
	// its day in Lisbon.
	IssuedAt time.Time `json:"issued_at,omitzero"`
	Buyer    *PTBuyer  `json:"buyer,omitempty"`
	Items    []PTItem  `json:"items"`
}

// PTBuyer is the buyer when the sale names one; no buyer is the final consumer.
type PTBuyer struct {
	NIF  string `json:"nif,omitempty"`
	Name string `json:"name,omitempty"`
}

// PTItem is one line of a Portuguese sale.
type PTItem struct {
	// SKU is sent as the InvoiceXpress item's name, so that the account's
	// products stay matched by SKU; Name is sent as its description.
	SKU       string  `json:"sku"`
	Name      string  `json:"name"`
	Quantity  Decimal `json:"quantity"`
	UnitPrice Decimal `json:"unit_price"` // EUR, VAT excluded
	VATRate   Decimal `json:"vat_rate"`   // percent: 23, 13, 6, 0 (mainland), 22/12/5 (Madeira), 16/9/4 (Azores)
	// Exemption is the AT exemption reason (M01–M99): required on a 0 % line,
	// refused on any other.
	Exemption string `json:"exemption,omitempty"`
}

var (
	ptExemption = regexp.MustCompile(`^M[0-9]{2}$`)
	cent        = MustDecimal("0.01")
)

// DecodePTSale reads one Portuguese sale strictly (DecodeJSON: unknown,
// duplicate or miscased keys, wrong types and trailing data are malformed
// errors naming the key). It does not validate: call Validate.
func DecodePTSale(data []byte) (PTSale, error) {
	var w struct {
		SaleID   string   `json:"sale_id"`
		IssuedAt *string  `json:"issued_at"`
		Buyer    *PTBuyer `json:"buyer"`
		Items    []PTItem `json:"items"`
	}
	if err := DecodeJSON(data, &w); err != nil {
		return PTSale{}, err
	}
	t, err := issuedAtField(w.IssuedAt)
	if err != nil {
		return PTSale{}, err
	}
	return PTSale{SaleID: w.SaleID, IssuedAt: t, Buyer: w.Buyer, Items: w.Items}, nil
}

// Validate checks what can be checked without the account's taxes: the sale
// id, the buyer's NIF (InvoiceXpress would silently turn a bad one into the
// final consumer), every line's text, quantity, price, rate and exemption
// reason, and the total. Every error is KindInvalid naming the field.
func (s PTSale) Validate() error {
	if err := checkPTSaleID("sale_id", s.SaleID); err != nil {
		return err
	}
	if s.Buyer != nil {
		b := s.Buyer
		switch {
		case b.NIF == "" && b.Name != "":
			return Invalid("buyer.nif", "is required when the buyer is named: a document names a buyer by NIF")
		case b.NIF != "" && !ValidNIF(b.NIF):
			return Invalid("buyer.nif", "%q is not a valid Portuguese NIF (9 digits, the last a mod-11 check digit); check it with the buyer, or leave buyer out for the final consumer", shorten(b.NIF))
		case !utf8.ValidString(b.Name) || utf8.RuneCountInString(b.Name) > MaxPTBuyerName || strings.ContainsFunc(b.Name, isControl):
			return Invalid("buyer.name", "must be text of at most %d characters without control characters", MaxPTBuyerName)
		}
	}
	switch {
	case len(s.Items) == 0:
		return Invalid("items", "a sale has at least one item")
	case len(s.Items) > MaxPTItems:
		return Invalid("items", "%d items: a document takes at most %d", len(s.Items), MaxPTItems)
	}
	total := Decimal{}
	for i, it := range s.Items {
		field := func(f string) string { return fmt.Sprintf("items[%d].%s", i, f) }
		if err := checkPTText(field("sku"), it.SKU, MaxPTSKU); err != nil {
			return err
		}
		if err := checkPTText(field("name"), it.Name, MaxPTItemName); err != nil {
			return err
		}
		switch {
		case it.Quantity.Sign() <= 0:
			return Invalid(field("quantity"), "must be more than 0, not %s (a refund is a credit note)", shorten(it.Quantity.String()))
		case it.Quantity.IntDigits() > PTQuantityDigits || it.Quantity.Places() > PTQuantityPlaces:
			return Invalid(field("quantity"), "%s: at most %d digits before the point and %d after", shorten(it.Quantity.String()), PTQuantityDigits, PTQuantityPlaces)
		case it.UnitPrice.Sign() < 0:
			return Invalid(field("unit_price"), "must not be negative, not %s", shorten(it.UnitPrice.String()))
		case it.UnitPrice.IntDigits() > PTUnitPriceDigits || it.UnitPrice.Places() > PTUnitPricePlaces:
			return Invalid(field("unit_price"), "%s: EUR with cents, VAT excluded, at most %d digits before the point and %d after", shorten(it.UnitPrice.String()), PTUnitPriceDigits, PTUnitPricePlaces)
		case it.VATRate.Sign() < 0 || it.VATRate.IntDigits() > 2 || it.VATRate.Places() > 2:
			return Invalid(field("vat_rate"), "%s is not a VAT rate in percent (23, 13, 6, 0…)", shorten(it.VATRate.String()))
		case it.VATRate.IsZero() && !ptExemption.MatchString(it.Exemption):
			return Invalid(field("exemption"), "a 0%% line needs the AT exemption reason code M01–M99, not %q", shorten(it.Exemption))
		case !it.VATRate.IsZero() && it.Exemption != "":
			return Invalid(field("exemption"), "only a 0%% line has an exemption reason; this line's VAT is %s%%", it.VATRate)
		}
		total = total.Add(it.Gross())
	}
	if total.Cmp(DecimalFromInt(MaxPTTotal).Mul(cent)) > 0 {
		return Invalid("items", "the sale's total %s EUR is more than a document takes (%s EUR)", total.RoundCents(), DecimalFromInt(MaxPTTotal).Mul(cent))
	}
	// One exemption reason per document (InvoiceXpress's tax_exemption).
	first := ""
	for i, it := range s.Items {
		if it.Exemption == "" {
			continue
		}
		if first != "" && it.Exemption != first {
			return Invalid(fmt.Sprintf("items[%d].exemption", i), "%s differs from %s on another line: a document carries one exemption reason", it.Exemption, first)
		}
		first = it.Exemption
	}
	return nil
}

// Net is the line before VAT, rounded to cents.
func (it PTItem) Net() Decimal { return it.Quantity.Mul(it.UnitPrice).RoundCents() }

// Gross is the line with its VAT, each rounded to cents: what the till
// expects InvoiceXpress to total (its own figures are the legal ones).
func (it PTItem) Gross() Decimal {
	net := it.Net()
	return net.Add(net.Mul(it.VATRate).Mul(cent).RoundCents())
}

// Total is the sale's expected total, VAT included (the issued document's
// total is InvoiceXpress's and is the one that counts).
func (s PTSale) Total() Decimal {
	t := Decimal{}
	for _, it := range s.Items {
		t = t.Add(it.Gross())
	}
	return t
}

// checkPTSaleID is the rule for a sale id or a refund id: it becomes the
// document's reference at InvoiceXpress and the key that finds it again.
func checkPTSaleID(field, id string) error {
	switch {
	case id == "":
		return Invalid(field, "is required: the POS's id for the sale makes retries safe and finds the document again")
	case len(id) > MaxPTSaleID || strings.IndexFunc(id, func(c rune) bool { return c <= 0x20 || c > 0x7E }) >= 0:
		return Invalid(field, "%q: at most %d printable ASCII characters without spaces", shorten(id), MaxPTSaleID)
	}
	return nil
}

// CheckPTRefundID is the rule for a credit note's own id (its reference).
func CheckPTRefundID(id string) error { return checkPTSaleID("refund_id", id) }

func checkPTText(field, s string, limit int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return Invalid(field, "is required")
	case !utf8.ValidString(s) || utf8.RuneCountInString(s) > limit:
		return Invalid(field, "must be text of at most %d characters", limit)
	case strings.ContainsFunc(s, isControl):
		return Invalid(field, "must not hold control characters")
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7F }

// MaxPTCancelMessage bounds the reason sent with a cancel (InvoiceXpress
// requires one [C], and publishes no limit [U]).
const MaxPTCancelMessage = 200

// CheckPTCancelMessage is the rule for a cancel's message.
func CheckPTCancelMessage(msg string) error {
	switch {
	case strings.TrimSpace(msg) == "":
		return Invalid("message", "is required: InvoiceXpress refuses to cancel a document without a reason")
	case !utf8.ValidString(msg) || utf8.RuneCountInString(msg) > MaxPTCancelMessage || strings.ContainsFunc(msg, isControl):
		return Invalid("message", "must be text of at most %d characters without control characters", MaxPTCancelMessage)
	}
	return nil
}

package posagent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// invoiceJSON is the one JSON shape of an invoice, used by the CLI, the local
// API and test data. Pointers and raw numbers tell "absent" from zero and let
// every error name its field.
type invoiceJSON struct {
	Number         string     `json:"number,omitempty"`
	RandomCode     string     `json:"random_code,omitempty"`
	IssuedAt       string     `json:"issued_at,omitempty"`
	Seller         Seller     `json:"seller"`
	Buyer          *Buyer     `json:"buyer,omitempty"`
	Carrier        *Carrier   `json:"carrier,omitempty"`
	LoveCode       string     `json:"love_code,omitempty"`
	Print          *bool      `json:"print,omitempty"`
	TaxType        TaxType    `json:"tax_type,omitempty"`
	ZeroTaxReason  string     `json:"zero_tax_reason,omitempty"`
	SpecialTaxType int        `json:"special_tax_type,omitempty"`
	Items          []itemJSON `json:"items"`
	SalesAmount    *int64     `json:"sales_amount,omitempty"`
	TaxAmount      *int64     `json:"tax_amount,omitempty"`
	Total          *int64     `json:"total,omitempty"`
	Remark         string     `json:"remark,omitempty"`
	SaleID         string     `json:"sale_id,omitempty"`
}

type itemJSON struct {
	Name      string          `json:"name"`
	Quantity  json.RawMessage `json:"quantity"`
	Unit      string          `json:"unit,omitempty"`
	UnitPrice json.RawMessage `json:"unit_price"`
	Amount    json.RawMessage `json:"amount,omitempty"`
	TaxType   TaxType         `json:"tax_type,omitempty"`
	Remark    string          `json:"remark,omitempty"`
}

// MaxInvoiceJSON is the largest invoice document accepted, in bytes: 200 items
// with long names fit with room to spare.
const MaxInvoiceJSON = 256 << 10

// DecodeInvoice reads one invoice JSON document strictly (unknown fields,
// trailing data and wrong types are errors naming the field), derives what was
// left out (item amounts, total, tax split, print mark, tax type) and validates
// the result. Every error is an *Error of kind invalid.
func DecodeInvoice(data []byte) (Invoice, error) {
	var inv Invoice
	if err := inv.UnmarshalJSON(data); err != nil {
		return Invoice{}, err
	}
	if err := inv.Validate(); err != nil {
		return Invoice{}, err
	}
	return inv, nil
}

// ReadInvoice is DecodeInvoice for a reader, refusing documents over MaxInvoiceJSON.
func ReadInvoice(r io.Reader) (Invoice, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInvoiceJSON+1))
	if err != nil {
		return Invoice{}, fmt.Errorf("read invoice: %w", err)
	}
	if len(data) > MaxInvoiceJSON {
		return Invoice{}, Invalid("", "the invoice document is larger than %d bytes", MaxInvoiceJSON)
	}
	return DecodeInvoice(data)
}

// UnmarshalJSON decodes strictly and fills in derived values; it does not run
// Validate (DecodeInvoice does both).
func (inv *Invoice) UnmarshalJSON(data []byte) error {
	var w invoiceJSON
	if err := strictUnmarshal(data, &w); err != nil {
		return err
	}
	out := Invoice{
		Number:         InvoiceNumber(w.Number),
		RandomCode:     w.RandomCode,
		Seller:         w.Seller,
		LoveCode:       w.LoveCode,
		TaxType:        w.TaxType,
		ZeroTaxReason:  w.ZeroTaxReason,
		SpecialTaxType: w.SpecialTaxType,
		Remark:         w.Remark,
		SaleID:         w.SaleID,
	}
	if w.Number != "" {
		n, err := ParseInvoiceNumber(w.Number)
		if err != nil {
			return err
		}
		out.Number = n
	}
	if w.IssuedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, w.IssuedAt)
		if err != nil {
			return Invalid("issued_at", "%q is not an RFC 3339 time such as 2025-09-14T13:03:00+08:00", w.IssuedAt)
		}
		out.IssuedAt = t
	}
	if w.Buyer != nil {
		out.Buyer = *w.Buyer
	}
	if w.Carrier != nil {
		out.Carrier = *w.Carrier
	}
	if out.TaxType == "" {
		out.TaxType = TaxTaxable
	}
	items, err := decodeItems(w.Items, "items")
	if err != nil {
		return err
	}
	out.Items = items

	if w.Total != nil {
		out.Total = *w.Total
	} else {
		out.Total = SumAmounts(items).RoundNTD()
	}
	switch {
	case w.SalesAmount != nil && w.TaxAmount != nil:
		out.SalesAmount, out.TaxAmount = *w.SalesAmount, *w.TaxAmount
	case w.SalesAmount != nil:
		out.SalesAmount, out.TaxAmount = *w.SalesAmount, out.Total-*w.SalesAmount
	case w.TaxAmount != nil:
		out.SalesAmount, out.TaxAmount = out.Total-*w.TaxAmount, *w.TaxAmount
	default:
		s := out.SplitTax()
		out.SalesAmount, out.TaxAmount = s.Sales(), s.Tax
	}
	if w.Print != nil {
		out.Print = *w.Print
	} else {
		out.Print = out.Carrier.IsZero() && out.LoveCode == ""
	}
	*inv = out
	return nil
}

// decodeItems turns wire items into domain items, naming fields as prefix[i].name.
func decodeItems(in []itemJSON, prefix string) ([]Item, error) {
	items := make([]Item, 0, len(in))
	for i, w := range in {
		field := fmt.Sprintf("%s[%d]", prefix, i)
		it := Item{Name: w.Name, Unit: w.Unit, TaxType: w.TaxType, Remark: w.Remark}
		var err error
		if it.Quantity, err = decimalField(w.Quantity, field+".quantity", true); err != nil {
			return nil, err
		}
		if it.UnitPrice, err = decimalField(w.UnitPrice, field+".unit_price", true); err != nil {
			return nil, err
		}
		if len(w.Amount) == 0 || string(w.Amount) == "null" {
			it.Amount = it.Quantity.Mul(it.UnitPrice)
		} else if it.Amount, err = decimalField(w.Amount, field+".amount", true); err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

func decimalField(raw json.RawMessage, field string, required bool) (Decimal, error) {
	if len(raw) == 0 || string(raw) == "null" {
		if required {
			return Decimal{}, Invalid(field, "is required")
		}
		return Decimal{}, nil
	}
	var d Decimal
	if err := d.UnmarshalJSON(raw); err != nil {
		return Decimal{}, Invalid(field, "%s is not a decimal number (write 12.5 or \"12.5\")", raw)
	}
	return d, nil
}

// SumAmounts adds the items' amounts.
func SumAmounts(items []Item) Decimal {
	var sum Decimal
	for _, it := range items {
		sum = sum.Add(it.Amount)
	}
	return sum
}

// MarshalJSON writes the invoice in its one JSON shape, with every derived value present.
func (inv Invoice) MarshalJSON() ([]byte, error) {
	w := invoiceJSON{
		Number:         string(inv.Number),
		RandomCode:     inv.RandomCode,
		Seller:         inv.Seller,
		LoveCode:       inv.LoveCode,
		Print:          &inv.Print,
		TaxType:        inv.TaxType,
		ZeroTaxReason:  inv.ZeroTaxReason,
		SpecialTaxType: inv.SpecialTaxType,
		SalesAmount:    &inv.SalesAmount,
		TaxAmount:      &inv.TaxAmount,
		Total:          &inv.Total,
		Remark:         inv.Remark,
		SaleID:         inv.SaleID,
		Items:          make([]itemJSON, len(inv.Items)),
	}
	if !inv.IssuedAt.IsZero() {
		w.IssuedAt = inv.IssuedAt.Format(time.RFC3339Nano)
	}
	if inv.Buyer != (Buyer{}) {
		w.Buyer = &inv.Buyer
	}
	if !inv.Carrier.IsZero() {
		w.Carrier = &inv.Carrier
	}
	for i, it := range inv.Items {
		w.Items[i] = itemJSON{
			Name: it.Name, Unit: it.Unit, TaxType: it.TaxType, Remark: it.Remark,
			Quantity:  json.RawMessage(it.Quantity.String()),
			UnitPrice: json.RawMessage(it.UnitPrice.String()),
			Amount:    json.RawMessage(it.Amount.String()),
		}
	}
	return json.Marshal(w)
}

// strictUnmarshal decodes exactly one JSON value into v, rejecting unknown
// fields and trailing data, and turns encoding/json's errors into *Error values
// that name the field.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Invalid("", "unexpected data after the JSON document")
	}
	return nil
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		return Invalid(typeErr.Field, "must be %s, not JSON %s", jsonTypeName(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr):
		return Invalid("", "malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.Is(err, io.EOF):
		return Invalid("", "empty document: an invoice JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Invalid("", "the JSON document ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return Invalid(name, "unknown field")
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Invalid("", "malformed JSON: %v", err)
}

func jsonTypeName(kind string) string {
	switch kind {
	case "int64", "int", "int32":
		return "a whole number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	}
	return "a " + kind
}

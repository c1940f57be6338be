package posagent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// invoiceJSON is the one JSON shape of an invoice, used by the CLI, the local
// API and test data. Pointers and raw numbers tell "absent" from zero and let
// every error name its field.
type invoiceJSON struct {
	Number         string     `json:"number,omitempty"`
	RandomCode     string     `json:"random_code,omitempty"`
	IssuedAt       *string    `json:"issued_at,omitempty"`
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

// DecodeInvoice reads one invoice JSON document strictly (see DecodeJSON: unknown,
// duplicate or miscased keys, invalid UTF-8, trailing data and wrong types are
// errors naming the field), derives what was
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
// Validate (DecodeInvoice does both). Amounts beyond the domain's limits are
// refused here already, so that nothing derived from them can overflow.
func (inv *Invoice) UnmarshalJSON(data []byte) error {
	var w invoiceJSON
	if err := DecodeJSON(data, &w); err != nil {
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
	t, err := issuedAtField(w.IssuedAt)
	if err != nil {
		return err
	}
	out.IssuedAt = t
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

	for _, f := range []struct {
		name string
		v    *int64
	}{{"total", w.Total}, {"sales_amount", w.SalesAmount}, {"tax_amount", w.TaxAmount}} {
		if f.v != nil {
			if err := checkTotal(f.name, *f.v); err != nil {
				return err
			}
		}
	}
	if w.Total != nil {
		out.Total = *w.Total
	} else if out.Total, err = sumNTD("total", items); err != nil {
		return err
	}
	// Every operand is within ±MaxTotal here: the differences cannot overflow.
	switch {
	case w.SalesAmount != nil && w.TaxAmount != nil:
		out.SalesAmount, out.TaxAmount = *w.SalesAmount, *w.TaxAmount
	case w.SalesAmount != nil:
		out.SalesAmount, out.TaxAmount = *w.SalesAmount, out.Total-*w.SalesAmount
	case w.TaxAmount != nil:
		out.SalesAmount, out.TaxAmount = out.Total-*w.TaxAmount, *w.TaxAmount
	default:
		s, err := out.SplitTax()
		if err != nil {
			return err
		}
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

// issuedAtField reads an issue time: absent (or null) is the zero time, for the
// caller to default to now; a given value must be a real RFC 3339 time, never
// empty or the zero time (which would silently mean "now").
func issuedAtField(s *string) (time.Time, error) {
	if s == nil {
		return time.Time{}, nil
	}
	if *s == "" {
		return time.Time{}, malformed("issued_at", "is empty: leave it out for now, or give an RFC 3339 time such as 2025-09-14T13:03:00+08:00")
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return time.Time{}, malformed("issued_at", "%q is not an RFC 3339 time such as 2025-09-14T13:03:00+08:00", shorten(*s))
	}
	if t.IsZero() {
		return time.Time{}, malformed("issued_at", "%q is the zero time, not an issue time: leave it out for now", *s)
	}
	return t, nil
}

// decodeItems turns wire items into domain items, naming fields as
// prefix[i].name. Each decimal is bounded here (integer digits; the decimals
// are Validate's), so the derived amounts and their sums stay small.
func decodeItems(in []itemJSON, prefix string) ([]Item, error) {
	items := make([]Item, 0, len(in))
	for i, w := range in {
		field := fmt.Sprintf("%s[%d]", prefix, i)
		it := Item{Name: w.Name, Unit: w.Unit, TaxType: w.TaxType, Remark: w.Remark}
		var err error
		if it.Quantity, err = decimalField(w.Quantity, field, quantityLimit); err != nil {
			return nil, err
		}
		if it.UnitPrice, err = decimalField(w.UnitPrice, field, unitPriceLimit); err != nil {
			return nil, err
		}
		if len(w.Amount) == 0 || string(w.Amount) == "null" {
			it.Amount = it.Quantity.Mul(it.UnitPrice)
			if err := amountLimit.checkMagnitude(it.Amount); err != nil {
				return nil, prefixField(field, Invalid("amount", "quantity × unit price = %s has more than the %d digits before the point a line amount can carry", shorten(it.Amount.String()), AmountDigits))
			}
		} else if it.Amount, err = decimalField(w.Amount, field, amountLimit); err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

// decimalField reads one required decimal of a line and bounds its size.
func decimalField(raw json.RawMessage, prefix string, limit decimalLimit) (Decimal, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return Decimal{}, Invalid(prefix+"."+limit.field, "is required")
	}
	var d Decimal
	if err := d.UnmarshalJSON(raw); err != nil {
		return Decimal{}, prefixField(prefix+"."+limit.field, err)
	}
	if err := limit.checkMagnitude(d); err != nil {
		return Decimal{}, prefixField(prefix, err)
	}
	return d, nil
}

// sumNTD is the items' amounts summed and rounded to whole NT$, refused (naming
// field) when it is beyond what an invoice can carry.
func sumNTD(field string, items []Item) (int64, error) {
	sum := SumAmounts(items)
	v, ok := sum.RoundNTD()
	if !ok || v > MaxTotal || v < -MaxTotal {
		return 0, Invalid(field, "the lines add up to %s, beyond the NT$%d an invoice can carry", shorten(sum.String()), int64(MaxTotal))
	}
	return v, nil
}

// allowanceJSON is an allowance as a POS sends it (POST
// /v1/invoices/{number}/allowances, posagent allow): the invoice is named by
// the path, not the body.
type allowanceJSON struct {
	Number    string     `json:"number,omitempty"`
	IssuedAt  *string    `json:"issued_at,omitempty"`
	Items     []itemJSON `json:"items"`
	Total     *int64     `json:"total,omitempty"`
	TaxAmount *int64     `json:"tax_amount,omitempty"`
	Reason    string     `json:"reason,omitempty"`
}

// DecodeAllowance reads an allowance document strictly, with the invoice
// JSON's rules (DecodeJSON; line amounts default to quantity × unit price and
// are bounded like an invoice's; the total defaults to their sum). taxGiven
// tells a tax_amount of 0 that was sent from one left out, which the caller
// derives from the invoice (Allowance.DerivedTax). Validation against the
// invoice is Allowance.Validate's.
func DecodeAllowance(data []byte, n InvoiceNumber) (al Allowance, taxGiven bool, err error) {
	var w allowanceJSON
	if err := DecodeJSON(data, &w); err != nil {
		return Allowance{}, false, err
	}
	al = Allowance{Number: w.Number, InvoiceNumber: n, Reason: w.Reason}
	if al.IssuedAt, err = issuedAtField(w.IssuedAt); err != nil {
		return Allowance{}, false, err
	}
	if !al.IssuedAt.IsZero() {
		al.IssuedAt = al.IssuedAt.In(Taipei)
	}
	if al.Items, err = decodeItems(w.Items, "items"); err != nil {
		return Allowance{}, false, err
	}
	for _, f := range []struct {
		name string
		v    *int64
	}{{"total", w.Total}, {"tax_amount", w.TaxAmount}} {
		if f.v != nil {
			if err := checkTotal(f.name, *f.v); err != nil {
				return Allowance{}, false, err
			}
		}
	}
	if w.Total != nil {
		al.Total = *w.Total
	} else if al.Total, err = sumNTD("total", al.Items); err != nil {
		return Allowance{}, false, err
	}
	if w.TaxAmount != nil {
		al.TaxAmount = *w.TaxAmount
	}
	return al, w.TaxAmount != nil, nil
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
		t := inv.IssuedAt.Format(time.RFC3339Nano)
		w.IssuedAt = &t
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

// DecodeJSON decodes exactly one JSON value into v, the one strict decoder for
// everything posagent reads from outside (sales, allowances, voids, booklets,
// the API's bodies). It refuses, as malformed errors naming the key:
// duplicate keys, keys that match a field only in another case, unknown keys,
// invalid UTF-8 (raw bytes, overlong forms, lone surrogate escapes), wrong
// types, trailing data. Numbers are never read through float64 into amounts.
//
// It is encoding/json/v2 (github.com/go-json-experiment/json), whose defaults
// are exactly these rules; encoding/json takes the last of duplicate keys,
// matches keys in any case and replaces bad UTF-8 with U+FFFD, and has no
// option against any of them.
func DecodeJSON(data []byte, v any) error {
	if err := jsonv2.Unmarshal(data, v, jsonv2.RejectUnknownMembers(true)); err != nil {
		return jsonError(err, v)
	}
	return nil
}

// jsonError turns the decoder's errors into *Error values naming the field in
// the form the rules use ("items[2].unit_price").
func jsonError(err error, v any) error {
	var syn *jsontext.SyntacticError
	var sem *jsonv2.SemanticError
	switch {
	case errors.As(err, &syn):
		field := fieldOf(syn.JSONPointer)
		msg := syn.Err.Error()
		switch {
		case errors.Is(err, jsontext.ErrDuplicateName):
			return malformed(field, "is given twice: each key may appear once")
		case strings.Contains(msg, "invalid UTF-8"), strings.Contains(msg, "surrogate"):
			return malformed(field, "is not valid UTF-8 text (invalid bytes, an overlong form or a lone surrogate escape)")
		case errors.Is(syn.Err, io.ErrUnexpectedEOF) && syn.ByteOffset == 0 && field == "":
			return malformed("", "empty document: a JSON object is required")
		case errors.Is(syn.Err, io.ErrUnexpectedEOF):
			return malformed(field, "the JSON document ends too early")
		case strings.Contains(msg, "after top-level value"):
			return malformed("", "unexpected data after the JSON document")
		}
		return malformed(field, "malformed JSON at byte %d: %s", syn.ByteOffset, msg)
	case errors.As(err, &sem):
		field := fieldOf(sem.JSONPointer)
		var pe *Error
		switch {
		case errors.As(sem.Err, &pe):
			// A field's own decoder (Decimal) said what is wrong with it.
			c := *pe
			c.Field = joinField(field, pe.Field)
			return &c
		case errors.Is(sem.Err, jsonv2.ErrUnknownName):
			if want := foldMatch(sem.GoType, sem.JSONPointer.LastToken()); want != "" {
				return malformed(field, "unknown field: keys are exact, this one is %q", want)
			}
			return malformed(field, "unknown field")
		case errors.Is(sem.Err, strconv.ErrRange):
			switch sem.JSONPointer.LastToken() {
			case "total", "sales_amount", "tax_amount":
				return Invalid(field, "%s is beyond the NT$%d an invoice can carry", shorten(string(sem.JSONValue)), int64(MaxTotal))
			}
			return Invalid(field, "%s is out of range", shorten(string(sem.JSONValue)))
		case sem.GoType != nil && sem.JSONKind != 0:
			return malformed(field, "must be %s, not JSON %s", goTypeName(sem.GoType), kindName(sem.JSONKind, sem.JSONValue))
		}
		return malformed(field, "malformed JSON: %v", sem.Err)
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return malformed("", "malformed JSON: %v", err)
}

// fieldOf turns a JSON pointer (/items/0/unit_price) into a field path (items[0].unit_price).
func fieldOf(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func joinField(parent, child string) string {
	switch {
	case parent == "":
		return child
	case child == "":
		return parent
	}
	return parent + "." + child
}

// foldMatch finds the field of struct type t whose JSON name equals key in
// another case, so that the error can say which spelling is meant.
func foldMatch(t reflect.Type, key string) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && strings.EqualFold(name, key) {
			return name
		}
	}
	return ""
}

func goTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.Kind().String()
}

func kindName(k jsontext.Kind, v jsontext.Value) string {
	switch k {
	case 'n':
		return "null"
	case 't':
		return "true"
	case 'f':
		return "false"
	case '"':
		return "string"
	case '0':
		if len(v) > 0 {
			return "number " + shorten(string(v))
		}
		return "number"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return k.String()
}

// jsonKindOf names the kind of a raw JSON value for messages.
func jsonKindOf(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case 't':
		return "true"
	case 'f':
		return "false"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	}
	return "number"
}

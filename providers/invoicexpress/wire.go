package invoicexpress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// The wire shapes of InvoiceXpress's JSON (providers.md §2.2, §5.3). Every
// decoder here is strict about what posagent relies on and lenient about
// representation: numbers come as "23.0" or 23, ids and flags as numbers or
// strings, and an absent wrapper key is an error, never an empty answer (a
// silent zero value would let a dedupe scan find nothing and issue a second
// document).

// DateLayout is InvoiceXpress's date format (dd/mm/yyyy, Lisbon).
const DateLayout = "02/01/2006"

// amount is a decimal read exactly from a JSON number or string; null and ""
// leave it unset.
type amount struct {
	d   posagent.Decimal
	set bool
}

func (a *amount) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" || s == `""` {
		return nil
	}
	s = strings.Trim(s, `"`)
	d, err := posagent.ParseDecimal(strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%s is not a decimal number", shorten(string(b)))
	}
	a.d, a.set = d, true
	return nil
}

// id is a document id sent as a number or a string.
type id int64

func (i *id) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "null" || s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("id %s is not a whole number", shorten(string(b)))
	}
	*i = id(n)
	return nil
}

// flag is a boolean sent as true/false, 1/0 or "1"/"0".
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	switch strings.Trim(strings.TrimSpace(string(b)), `"`) {
	case "1", "true":
		*f = true
	case "0", "false", "null", "":
		*f = false
	default:
		return fmt.Errorf("flag %s is neither true nor false", shorten(string(b)))
	}
	return nil
}

// text is a string that may come as null or as a number.
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*t = text(v)
		return nil
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		*t = text(s)
		return nil
	}
	return fmt.Errorf("%s is not text", shorten(s))
}

// wireTax is a tax as /taxes.json and documents' items carry it.
type wireTax struct {
	ID      id     `json:"id"`
	Name    text   `json:"name"`
	Value   amount `json:"value"`
	Region  text   `json:"region"`
	Default flag   `json:"default_tax"`
}

// wireItem is a document line as InvoiceXpress answers it.
type wireItem struct {
	Name        text    `json:"name"`
	Description text    `json:"description"`
	UnitPrice   amount  `json:"unit_price"`
	Quantity    amount  `json:"quantity"`
	Tax         wireTax `json:"tax"`
	Subtotal    amount  `json:"subtotal"`
	TaxAmount   amount  `json:"tax_amount"`
	Total       amount  `json:"total"`
}

type wireClient struct {
	Name     text `json:"name"`
	Code     text `json:"code"`
	FiscalID text `json:"fiscal_id"`
}

// wireDocument is a document as InvoiceXpress answers it.
type wireDocument struct {
	ID             id         `json:"id"`
	Status         text       `json:"status"`
	SequenceNumber text       `json:"sequence_number"`
	ATCUD          text       `json:"atcud"`
	Date           text       `json:"date"`
	Reference      text       `json:"reference"`
	Permalink      text       `json:"permalink"`
	SAFTHash       text       `json:"saft_hash"`
	OwnerInvoiceID id         `json:"owner_invoice_id"`
	BeforeTaxes    amount     `json:"before_taxes"`
	Taxes          amount     `json:"taxes"`
	Total          amount     `json:"total"`
	Client         wireClient `json:"client"`
	Items          []wireItem `json:"items"`
}

// singular is the key InvoiceXpress wraps one document of type t in
// ("invoice_receipts" → "invoice_receipt").
func singular(t posagent.PTDocType) string { return strings.TrimSuffix(string(t), "s") }

// decodeDocument reads a one-document answer of type t. The key is the
// type's singular; the documented generic "invoice" is taken only when it is
// the answer's one key (providers.md §2.2: the docs show it, the live service
// answers by type).
func decodeDocument(t posagent.PTDocType, raw []byte) (posagent.PTDocument, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return posagent.PTDocument{}, fmt.Errorf("answer is not a JSON object")
	}
	key := singular(t)
	body, ok := top[key]
	if !ok && len(top) == 1 {
		body, ok = top["invoice"]
		key = "invoice"
	}
	if !ok {
		return posagent.PTDocument{}, fmt.Errorf("answer has no %q document (keys: %s)", singular(t), keys(top))
	}
	if bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
		return posagent.PTDocument{}, fmt.Errorf("answer's %q document is null", key)
	}
	var w wireDocument
	if err := json.Unmarshal(body, &w); err != nil {
		return posagent.PTDocument{}, fmt.Errorf("%s: %w", key, err)
	}
	return w.document(t)
}

// page is the pagination block of a list.
type page struct {
	Current int `json:"current_page"`
	Total   int `json:"total_pages"`
	Entries int `json:"total_entries"`
	PerPage int `json:"per_page"`
}

// decodeList reads one page of documents of type t. The list key is the
// type ("invoice_receipts"), or the documented generic "invoices" when it is
// the one key besides the pagination.
func decodeList(t posagent.PTDocType, raw []byte) ([]posagent.PTDocument, page, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return nil, page{}, fmt.Errorf("answer is not a JSON object")
	}
	var p page
	pg, hasPage := top["pagination"]
	if hasPage {
		if err := json.Unmarshal(pg, &p); err != nil {
			return nil, page{}, fmt.Errorf("pagination: %w", err)
		}
	}
	key := string(t)
	body, ok := top[key]
	if !ok {
		others := len(top)
		if hasPage {
			others--
		}
		if b, generic := top["invoices"]; generic && others == 1 {
			body, ok, key = b, true, "invoices"
		}
	}
	if !ok {
		return nil, page{}, fmt.Errorf("answer has no %q list (keys: %s)", string(t), keys(top))
	}
	var ws []wireDocument
	if err := json.Unmarshal(body, &ws); err != nil {
		return nil, page{}, fmt.Errorf("%s: %w", key, err)
	}
	out := make([]posagent.PTDocument, 0, len(ws))
	for i, w := range ws {
		d, err := w.document(t)
		if err != nil {
			return nil, page{}, fmt.Errorf("%s[%d]: %w", key, i, err)
		}
		out = append(out, d)
	}
	return out, p, nil
}

// document maps the wire document onto the domain's.
func (w wireDocument) document(t posagent.PTDocType) (posagent.PTDocument, error) {
	if w.ID <= 0 {
		return posagent.PTDocument{}, fmt.Errorf("id: missing")
	}
	d := posagent.PTDocument{
		ID: int64(w.ID), Type: t, State: string(w.Status), SequenceNumber: string(w.SequenceNumber),
		ATCUD: string(w.ATCUD), Reference: string(w.Reference), Permalink: string(w.Permalink),
		OwnerID: int64(w.OwnerInvoiceID), BuyerNIF: string(w.Client.FiscalID), BuyerName: string(w.Client.Name),
		Net: w.BeforeTaxes.d, VAT: w.Taxes.d, Total: w.Total.d,
	}
	if d.State == "" {
		return posagent.PTDocument{}, fmt.Errorf("status: missing")
	}
	if d.State == "draft" {
		// A draft has no number yet, whatever placeholder the answer shows.
		d.SequenceNumber, d.ATCUD = "", ""
	}
	if w.Date != "" {
		at, err := time.ParseInLocation(DateLayout, string(w.Date), posagent.Lisbon)
		if err != nil {
			return posagent.PTDocument{}, fmt.Errorf("date: %q is not dd/mm/yyyy", shorten(string(w.Date)))
		}
		d.Date = at
	}
	for _, it := range w.Items {
		d.Lines = append(d.Lines, posagent.PTLine{
			SKU: string(it.Name), Description: string(it.Description), Quantity: it.Quantity.d,
			UnitPrice: it.UnitPrice.d, TaxName: string(it.Tax.Name), VATRate: it.Tax.Value.d, Net: it.Subtotal.d,
		})
	}
	return d, nil
}

// decodeTaxes reads /taxes.json.
func decodeTaxes(raw []byte) ([]Tax, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return nil, fmt.Errorf("answer is not a JSON object")
	}
	body, ok := top["taxes"]
	if !ok {
		return nil, fmt.Errorf("answer has no \"taxes\" list (keys: %s)", keys(top))
	}
	var ws []wireTax
	if err := json.Unmarshal(body, &ws); err != nil {
		return nil, fmt.Errorf("taxes: %w", err)
	}
	out := make([]Tax, 0, len(ws))
	for i, w := range ws {
		if w.Name == "" || !w.Value.set {
			return nil, fmt.Errorf("taxes[%d]: name and value are required", i)
		}
		out = append(out, Tax{ID: int64(w.ID), Name: string(w.Name), Value: w.Value.d, Region: string(w.Region), Default: bool(w.Default)})
	}
	return out, nil
}

// decodeSeriesCode reads /sequences.json and returns the default series'
// name and its validation code for type t (providers.md §5.3 X.2: the field
// current_<type>_validation_code holds a code, "N/D" or "N/A").
func decodeSeriesCode(t posagent.PTDocType, raw []byte) (series, code string, err error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return "", "", fmt.Errorf("answer is not a JSON object")
	}
	body, ok := top["sequences"]
	if !ok {
		return "", "", fmt.Errorf("answer has no \"sequences\" list (keys: %s)", keys(top))
	}
	var seqs []map[string]json.RawMessage
	if err := json.Unmarshal(body, &seqs); err != nil {
		return "", "", fmt.Errorf("sequences: %w", err)
	}
	pick := -1
	for i, s := range seqs {
		var def flag
		if v, ok := s["default_sequence"]; ok {
			if err := json.Unmarshal(v, &def); err != nil {
				return "", "", fmt.Errorf("sequences[%d].default_sequence: %w", i, err)
			}
		}
		if def {
			if pick >= 0 {
				return "", "", fmt.Errorf("sequences: more than one default series")
			}
			pick = i
		}
	}
	if pick < 0 && len(seqs) == 1 {
		pick = 0
	}
	if pick < 0 {
		return "", "", fmt.Errorf("sequences: no default series among %d", len(seqs))
	}
	field := "current_" + singular(t) + "_validation_code"
	v, ok := seqs[pick][field]
	if !ok {
		return "", "", fmt.Errorf("sequences[%d]: no %q", pick, field)
	}
	var c, name text
	if err := json.Unmarshal(v, &c); err != nil {
		return "", "", fmt.Errorf("sequences[%d].%s: %w", pick, field, err)
	}
	if c == "" {
		return "", "", fmt.Errorf("sequences[%d].%s: empty", pick, field)
	}
	for _, k := range []string{"serie", "serie_number"} {
		if v, ok := seqs[pick][k]; ok && json.Unmarshal(v, &name) == nil && name != "" {
			break
		}
	}
	return string(name), string(c), nil
}

// decodeQRURL reads /api/qr_codes/{id}.json → {"qr_code":{"url":…}}.
func decodeQRURL(raw []byte) (string, error) {
	var out struct {
		QR *struct {
			URL text `json:"url"`
		} `json:"qr_code"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("answer is not the QR code's JSON")
	}
	if out.QR == nil || out.QR.URL == "" {
		return "", fmt.Errorf("answer has no qr_code.url")
	}
	return string(out.QR.URL), nil
}

// apiMessages reads an error body in the three shapes InvoiceXpress uses
// (providers.md §2.5): {"errors":{"field":[…]}}, {"errors":[{"error":…}]}
// and {"error":…}. It returns the first field named, if any, and the
// messages ("field: message" for the first shape).
func apiMessages(raw []byte) (field string, msgs []string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return "", nil
	}
	if errs, ok := top["errors"]; ok {
		var byField map[string]json.RawMessage
		if json.Unmarshal(errs, &byField) == nil {
			names := make([]string, 0, len(byField))
			for k := range byField {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				for _, m := range messagesIn(byField[k]) {
					msgs = append(msgs, k+": "+m)
				}
				if field == "" {
					field = k
				}
			}
		} else {
			var list []json.RawMessage
			if json.Unmarshal(errs, &list) == nil {
				for _, v := range list {
					msgs = append(msgs, messagesIn(v)...)
				}
			} else {
				msgs = append(msgs, messagesIn(errs)...)
			}
		}
	}
	for _, k := range []string{"error", "message"} {
		if v, ok := top[k]; ok {
			msgs = append(msgs, messagesIn(v)...)
		}
	}
	return field, msgs
}

// messagesIn reads a message, a list of them or an {"error"|"message": …} object.
func messagesIn(raw json.RawMessage) []string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if s = strings.TrimSpace(s); s != "" {
			return []string{shorten(s)}
		}
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		var out []string
		for _, m := range list {
			if m = strings.TrimSpace(m); m != "" {
				out = append(out, shorten(m))
			}
		}
		return out
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for _, k := range []string{"error", "message"} {
			if v, ok := obj[k]; ok {
				return messagesIn(v)
			}
		}
	}
	return nil
}

func keys(m map[string]json.RawMessage) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, shorten(k))
	}
	sort.Strings(ks)
	if len(ks) == 0 {
		return "none"
	}
	return strings.Join(ks, ", ")
}

// shorten keeps messages readable when an answer holds kilobytes.
func shorten(s string) string {
	const max = 200
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// --- request bodies ---

type reqTax struct {
	Name string `json:"name"`
}

type reqItem struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	UnitPrice   string `json:"unit_price"`
	Quantity    string `json:"quantity"`
	Tax         reqTax `json:"tax"`
}

type reqClient struct {
	Name     string `json:"name"`
	Code     string `json:"code"`
	FiscalID string `json:"fiscal_id"`
}

type reqDocument struct {
	Date           string    `json:"date"`
	DueDate        string    `json:"due_date"`
	Reference      string    `json:"reference"`
	Client         reqClient `json:"client"`
	Items          []reqItem `json:"items"`
	TaxExemption   string    `json:"tax_exemption,omitempty"`
	OwnerInvoiceID int64     `json:"owner_invoice_id,omitempty"`
}

type reqState struct {
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
}

package invoicexpress

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	_ "image/gif"  // QR images may come as GIF [U]
	_ "image/jpeg" // or JPEG [U]
	_ "image/png"  // the usual
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/endpoint"
)

// Tax is one of the account's taxes (GET /taxes.json, providers.md §5.3 X.3).
type Tax struct {
	ID      int64
	Name    string           // what a line names ("IVA23")
	Value   posagent.Decimal // the rate in percent (23)
	Region  string           // "PT", "PT-MA", "PT-AC" …
	Default bool             // the tax InvoiceXpress silently applies to an unknown name
}

// States of a document as InvoiceXpress names them (providers.md §2.2).
const (
	StateDraft    = "draft"
	StateFinal    = "final"
	StateSettled  = "settled" // an invoice-receipt finalizes as settled
	StateCanceled = "canceled"
	StateDeleted  = "deleted"
)

// IsFinal reports whether state is a finalized document's (final, settled or
// unsettled): it has a number and fiscal value.
func IsFinal(state string) bool {
	return state == StateFinal || state == StateSettled || state == "unsettled"
}

// Series validation codes that are not codes (providers.md §5.3 X.2).
const (
	SeriesNotRegistered = "N/D" // relevant for ATCUD but not registered with AT: refuse to issue
	SeriesNotApplicable = "N/A"
)

func validType(t posagent.PTDocType) bool {
	switch t {
	case posagent.PTInvoiceReceipt, posagent.PTSimplifiedInvoice, posagent.PTInvoice, posagent.PTCreditNote:
		return true
	}
	return false
}

func checkType(t posagent.PTDocType) error {
	if !validType(t) {
		return posagent.Invalid("type", "%q is not a document type posagent issues (invoice_receipts, simplified_invoices, invoices, credit_notes)", shorten(string(t)))
	}
	return nil
}

func checkID(id int64) error {
	if id <= 0 {
		return posagent.Invalid("id", "a document id is a positive number, not %d", id)
	}
	return nil
}

// Taxes returns the account's taxes and refreshes the cache Create checks tax names against.
func (c *Client) Taxes(ctx context.Context) ([]Tax, error) {
	raw, err := c.do(ctx, call{op: "taxes", method: http.MethodGet, path: "/taxes.json", idempotent: true})
	if err != nil {
		return nil, err
	}
	taxes, err := decodeTaxes(raw)
	if err != nil {
		return nil, malformedAnswer("taxes", err)
	}
	c.mu.Lock()
	c.taxes, c.taxesAt = taxes, c.now()
	c.mu.Unlock()
	return append([]Tax(nil), taxes...), nil
}

// cachedTaxes returns the taxes, fetched again when older than the cache's life.
func (c *Client) cachedTaxes(ctx context.Context) ([]Tax, error) {
	c.mu.Lock()
	taxes, at := c.taxes, c.taxesAt
	c.mu.Unlock()
	if taxes != nil {
		if age := c.now().Sub(at); age >= 0 && age < c.taxesTTL {
			return taxes, nil
		}
	}
	return c.Taxes(ctx)
}

// SeriesCode returns the AT validation code of the default series for type
// t, as InvoiceXpress gives it: a code, "N/D" (not registered: Issue refuses)
// or "N/A".
func (c *Client) SeriesCode(ctx context.Context, t posagent.PTDocType) (string, error) {
	if err := checkType(t); err != nil {
		return "", err
	}
	raw, err := c.do(ctx, call{op: "sequences", method: http.MethodGet, path: "/sequences.json", idempotent: true})
	if err != nil {
		return "", err
	}
	_, code, err := decodeSeriesCode(t, raw)
	if err != nil {
		return "", malformedAnswer("sequences", err)
	}
	c.mu.Lock()
	c.series[t] = seriesCode{code: code, at: c.now()}
	c.mu.Unlock()
	return code, nil
}

// seriesCode is a validation code as last read.
type seriesCode struct {
	code string
	at   time.Time
}

// seriesTTL is how long Issue trusts a validation code read earlier. A
// series goes from N/D to registered, hardly ever back; a registered code
// read five minutes ago still holds.
const seriesTTL = 5 * time.Minute

// cachedSeriesCode is SeriesCode, read again when older than seriesTTL or N/D.
func (c *Client) cachedSeriesCode(ctx context.Context, t posagent.PTDocType) (string, error) {
	c.mu.Lock()
	sc, ok := c.series[t]
	c.mu.Unlock()
	if age := c.now().Sub(sc.at); ok && sc.code != SeriesNotRegistered && age >= 0 && age < seriesTTL {
		return sc.code, nil
	}
	return c.SeriesCode(ctx, t)
}

var exemptionCode = regexp.MustCompile(`^M[0-9]{2}$`)

// request checks doc against what InvoiceXpress would otherwise change
// silently (providers.md §2.6) and builds the create body.
func (c *Client) request(ctx context.Context, doc posagent.PTDocument) (reqDocument, error) {
	if err := checkType(doc.Type); err != nil {
		return reqDocument{}, err
	}
	if doc.ID != 0 {
		return reqDocument{}, posagent.Invalid("id", "a document to create has no id yet (got %d)", doc.ID)
	}
	if strings.TrimSpace(doc.Reference) == "" {
		return reqDocument{}, posagent.Invalid("reference", "the sale id is required: it is how a lost answer is found again")
	}
	switch {
	case doc.Type == posagent.PTCreditNote && doc.OwnerID <= 0:
		return reqDocument{}, posagent.Invalid("owner_id", "a credit note names the document it corrects")
	case doc.Type != posagent.PTCreditNote && doc.OwnerID != 0:
		return reqDocument{}, posagent.Invalid("owner_id", "only a credit note names an owner document")
	}
	if len(doc.Lines) == 0 {
		return reqDocument{}, posagent.Invalid("lines", "a document has at least one line")
	}
	taxes, err := c.cachedTaxes(ctx)
	if err != nil {
		return reqDocument{}, fmt.Errorf("invoicexpress: the account's taxes are needed to check the lines: %w", err)
	}
	byName := make(map[string]Tax, len(taxes))
	for _, t := range taxes {
		byName[t.Name] = t
	}
	date := doc.Date
	if date.IsZero() {
		date = c.now()
	}
	day := date.In(posagent.Lisbon).Format(DateLayout)
	body := reqDocument{Date: day, DueDate: day, Reference: doc.Reference, OwnerInvoiceID: doc.OwnerID}
	switch nif := doc.BuyerNIF; {
	case nif == "" || nif == posagent.FinalConsumerNIF:
		body.Client = reqClient{Name: "Consumidor Final", Code: "CF", FiscalID: posagent.FinalConsumerNIF}
	case !posagent.ValidNIF(nif):
		return reqDocument{}, posagent.Invalid("buyer_nif", "%q is not a valid Portuguese NIF (9 digits with a mod-11 check digit); InvoiceXpress would silently issue to the final consumer", shorten(nif))
	default:
		name := strings.TrimSpace(doc.BuyerName)
		if name == "" {
			name = "NIF " + nif
		}
		body.Client = reqClient{Name: name, Code: nif, FiscalID: nif}
	}
	for i, l := range doc.Lines {
		field := func(f string) string { return fmt.Sprintf("lines[%d].%s", i, f) }
		switch {
		case strings.TrimSpace(l.SKU) == "":
			return reqDocument{}, posagent.Invalid(field("sku"), "required: the item's name at InvoiceXpress is its SKU")
		case strings.TrimSpace(l.Description) == "":
			return reqDocument{}, posagent.Invalid(field("description"), "required: the item's name as printed")
		case l.Quantity.Sign() <= 0:
			return reqDocument{}, posagent.Invalid(field("quantity"), "must be more than 0, not %s", l.Quantity)
		case l.UnitPrice.Sign() < 0:
			return reqDocument{}, posagent.Invalid(field("unit_price"), "must not be negative, not %s", l.UnitPrice)
		}
		tax, ok := byName[l.TaxName]
		if !ok {
			return reqDocument{}, posagent.Invalid(field("tax_name"), "%q is not one of the account's taxes; InvoiceXpress would silently apply its default tax", shorten(l.TaxName))
		}
		if !l.VATRate.IsZero() && !l.VATRate.Equal(tax.Value) {
			return reqDocument{}, posagent.Invalid(field("vat_rate"), "%s%% is not the rate of %s at InvoiceXpress (%s%%)", l.VATRate, tax.Name, tax.Value)
		}
		switch {
		case tax.Value.IsZero() && !exemptionCode.MatchString(l.Exemption):
			return reqDocument{}, posagent.Invalid(field("exemption"), "a 0%% line needs the exemption reason code (M01–M99), not %q", shorten(l.Exemption))
		case !tax.Value.IsZero() && l.Exemption != "":
			return reqDocument{}, posagent.Invalid(field("exemption"), "only a 0%% line has an exemption reason")
		case l.Exemption != "" && body.TaxExemption != "" && l.Exemption != body.TaxExemption:
			// InvoiceXpress takes one exemption reason per document (tax_exemption).
			return reqDocument{}, posagent.Invalid(field("exemption"), "%s differs from %s on another line; a document carries one exemption reason", l.Exemption, body.TaxExemption)
		case l.Exemption != "":
			body.TaxExemption = l.Exemption
		}
		body.Items = append(body.Items, reqItem{Name: l.SKU, Description: l.Description,
			UnitPrice: l.UnitPrice.String(), Quantity: l.Quantity.String(), Tax: reqTax{Name: tax.Name}})
	}
	return body, nil
}

// Create sends doc as a draft (no fiscal value) and returns the draft as
// InvoiceXpress holds it. It is never retried: a create whose answer is lost
// may have landed, and only a lookup by reference can tell (Issue does it).
func (c *Client) Create(ctx context.Context, doc posagent.PTDocument) (posagent.PTDocument, error) {
	body, err := c.request(ctx, doc)
	if err != nil {
		return posagent.PTDocument{}, err
	}
	op := "create " + string(doc.Type)
	raw, err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/" + string(doc.Type) + ".json",
		body: map[string]any{"invoice": body}})
	if err != nil {
		return posagent.PTDocument{}, err
	}
	out, err := decodeDocument(doc.Type, raw)
	if err != nil {
		// The draft may exist: the caller must treat this like a lost answer.
		return posagent.PTDocument{}, &posagent.Error{Kind: posagent.KindTransient, Message: "invoicexpress " + op + ": answer unreadable (the draft may exist)", Err: err}
	}
	if out.Reference != doc.Reference {
		return out, &posagent.Error{Kind: posagent.KindInternal, Message: fmt.Sprintf("invoicexpress %s: draft %d came back with reference %q, sent %q", op, out.ID, shorten(out.Reference), shorten(doc.Reference))}
	}
	return out, nil
}

// Get reads one document.
func (c *Client) Get(ctx context.Context, t posagent.PTDocType, docID int64) (posagent.PTDocument, error) {
	if err := errors.Join(checkType(t), checkID(docID)); err != nil {
		return posagent.PTDocument{}, err
	}
	op := fmt.Sprintf("get %s %d", t, docID)
	raw, err := c.do(ctx, call{op: op, method: http.MethodGet, path: fmt.Sprintf("/%s/%d.json", t, docID), idempotent: true})
	if err != nil {
		return posagent.PTDocument{}, err
	}
	d, err := decodeDocument(t, raw)
	if err != nil {
		return posagent.PTDocument{}, malformedAnswer(op, err)
	}
	if d.ID != docID {
		return posagent.PTDocument{}, malformedAnswer(op, fmt.Errorf("answer is document %d", d.ID))
	}
	return d, nil
}

// listPage is how many documents one list call asks for.
const listPage = 50

// FindByReference pages through the most recent documents of type t (up to
// the lookup depth) and returns those with reference ref that are not
// deleted, most recent first. InvoiceXpress's list has no documented filter
// by reference [U], so the client reads and matches itself.
func (c *Client) FindByReference(ctx context.Context, t posagent.PTDocType, ref string) ([]posagent.PTDocument, error) {
	if err := checkType(t); err != nil {
		return nil, err
	}
	if ref == "" {
		return nil, posagent.Invalid("reference", "required")
	}
	pages := (c.lookupDepth + listPage - 1) / listPage
	var out []posagent.PTDocument
	for p := 1; p <= pages; p++ {
		op := fmt.Sprintf("list %s page %d", t, p)
		raw, err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/" + string(t) + ".json",
			query: url.Values{"page": {strconv.Itoa(p)}, "per_page": {strconv.Itoa(listPage)}}, idempotent: true})
		if err != nil {
			return nil, err
		}
		docs, pg, err := decodeList(t, raw)
		if err != nil {
			return nil, malformedAnswer(op, err)
		}
		for _, d := range docs {
			if d.Reference == ref && d.State != StateDeleted {
				out = append(out, d)
			}
		}
		if len(docs) == 0 || pg.Total <= p {
			break
		}
	}
	return out, nil
}

// changeState asks for a state change (PUT change-state, idempotent in effect).
func (c *Client) changeState(ctx context.Context, t posagent.PTDocType, docID int64, st reqState) error {
	if err := errors.Join(checkType(t), checkID(docID)); err != nil {
		return err
	}
	_, err := c.do(ctx, call{op: fmt.Sprintf("%s %s %d", st.State, t, docID), method: http.MethodPut,
		path: fmt.Sprintf("/%s/%d/change-state.json", t, docID), body: map[string]any{"invoice": st}, idempotent: true})
	return err
}

// Finalize finalizes a draft and reads the final document back (sequence
// number, ATCUD, permalink, totals). A finalize answered 406/422 because the
// document is already final (an earlier finalize whose answer was lost)
// counts as done.
func (c *Client) Finalize(ctx context.Context, t posagent.PTDocType, docID int64) (posagent.PTDocument, error) {
	ferr := c.changeState(ctx, t, docID, reqState{State: "finalized"})
	if ferr != nil {
		k := posagent.ErrorKind(ferr)
		if k != posagent.KindConflict && k != posagent.KindInvalid && k != posagent.KindTransient {
			return posagent.PTDocument{}, ferr
		}
	}
	// Read back; after an ambiguous or refused finalize, the reading decides.
	d, err := c.Get(ctx, t, docID)
	if err != nil {
		if ferr != nil {
			return posagent.PTDocument{}, ferr
		}
		return posagent.PTDocument{}, err
	}
	if !IsFinal(d.State) {
		if ferr != nil {
			return d, ferr
		}
		return d, &posagent.Error{Kind: posagent.KindInternal, Message: fmt.Sprintf("invoicexpress finalize %s %d: accepted, but the document reads %q", t, docID, d.State)}
	}
	if d.SequenceNumber == "" || d.ATCUD == "" {
		return d, malformedAnswer(fmt.Sprintf("get %s %d", t, docID), fmt.Errorf("a final document without sequence_number or atcud"))
	}
	return d, nil
}

// DeleteDraft deletes a draft (drafts have no fiscal value; a final document
// can never be deleted, only cancelled or credited). Deleting a draft that is
// already deleted succeeds.
func (c *Client) DeleteDraft(ctx context.Context, t posagent.PTDocType, docID int64) error {
	err := c.changeState(ctx, t, docID, reqState{State: StateDeleted})
	if k := posagent.ErrorKind(err); k == posagent.KindConflict || k == posagent.KindInvalid || k == posagent.KindTransient || k == posagent.KindNotFound {
		if d, gerr := c.Get(ctx, t, docID); gerr == nil && d.State == StateDeleted || posagent.IsKind(gerr, posagent.KindNotFound) {
			return nil
		}
	}
	return err
}

// Cancel cancels a final document with message (required by InvoiceXpress
// and refused here first). A cancel whose answer was lost and is refused on
// retry because the document is already cancelled succeeds.
func (c *Client) Cancel(ctx context.Context, t posagent.PTDocType, docID int64, message string) error {
	if strings.TrimSpace(message) == "" {
		return posagent.Invalid("message", "a cancellation needs a reason (InvoiceXpress: \"Cancel message can't be blank\")")
	}
	err := c.changeState(ctx, t, docID, reqState{State: StateCanceled, Message: message})
	if k := posagent.ErrorKind(err); k == posagent.KindConflict || k == posagent.KindInvalid || k == posagent.KindTransient {
		if d, gerr := c.Get(ctx, t, docID); gerr == nil && d.State == StateCanceled {
			return nil
		}
	}
	return err
}

// maxImage bounds a QR image download.
const maxImage = 2 << 20

// QRText returns the AT QR payload of a final document: the QR image
// InvoiceXpress serves (GET /api/qr_codes/{id}.json → image URL) is
// downloaded and decoded (providers.md §5.3 X.1 recommends printing what
// InvoiceXpress encoded rather than building the AT string locally). A draft
// has no QR: KindNotFound.
func (c *Client) QRText(ctx context.Context, docID int64) (string, error) {
	if err := checkID(docID); err != nil {
		return "", err
	}
	op := fmt.Sprintf("qr code %d", docID)
	raw, err := c.do(ctx, call{op: op, method: http.MethodGet, path: fmt.Sprintf("/api/qr_codes/%d.json", docID), idempotent: true})
	if err != nil {
		return "", err
	}
	ref, err := decodeQRURL(raw)
	if err != nil {
		return "", malformedAnswer(op, err)
	}
	img, err := c.image(ctx, op, ref)
	if err != nil {
		return "", err
	}
	txt, err := decodeQR(img)
	if err != nil {
		return "", &posagent.Error{Kind: posagent.KindInternal, Message: "invoicexpress " + op + ": the QR image does not decode", Err: err}
	}
	return txt, nil
}

// image downloads the QR image. It is fetched without the API key: the URL
// may point anywhere, and the key must not travel there.
func (c *Client) image(ctx context.Context, op, ref string) ([]byte, error) {
	u, err := c.base.Parse(ref)
	if err != nil || u.Host == "" || !endpoint.Allowed(u) {
		return nil, malformedAnswer(op, fmt.Errorf("qr_code.url %q is not an https URL", shorten(c.Redact(ref))))
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var lastErr error
	wait := c.backoff
	for try := 1; try <= c.attempts; try++ {
		if try > 1 {
			if err := c.sleep(ctx, wait); err != nil {
				break
			}
			wait *= 2
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err != nil {
			return nil, malformedAnswer(op, err)
		}
		resp, err := c.http.Do(req)
		if err != nil {
			lastErr = transportError(op+" image", c.redactErr(err))
			continue
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxImage+1))
		resp.Body.Close()
		switch {
		case err != nil:
			lastErr = &posagent.Error{Kind: posagent.KindTransient, Message: "invoicexpress " + op + ": image cut off", Err: c.redactErr(err)}
			continue
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			lastErr = &posagent.Error{Kind: posagent.KindTransient, Message: fmt.Sprintf("invoicexpress %s: image: HTTP %d", op, resp.StatusCode)}
			continue
		case resp.StatusCode != http.StatusOK:
			return nil, &posagent.Error{Kind: posagent.KindInternal, Message: fmt.Sprintf("invoicexpress %s: image: HTTP %d", op, resp.StatusCode)}
		case len(b) > maxImage:
			return nil, &posagent.Error{Kind: posagent.KindInternal, Message: fmt.Sprintf("invoicexpress %s: image larger than %d bytes", op, maxImage)}
		}
		c.log.LogAttrs(ctx, slog.LevelDebug, "invoicexpress qr image", slog.String("op", op), slog.Int("bytes", len(b)))
		return b, nil
	}
	if lastErr == nil {
		lastErr = &posagent.Error{Kind: posagent.KindTransient, Message: "invoicexpress " + op + ": image: " + ctx.Err().Error()}
	}
	return nil, lastErr
}

// decodeQR reads the text of the one QR code in an image. A clean,
// unrotated code with its quiet zone (what a QR service renders) is read as a
// pure barcode first; the general detector, which can miss finder patterns
// in a perfectly regular image, is the fallback, then the image is read again
// with a wider white margin.
func decodeQR(b []byte) (string, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("not an image: %w", err)
	}
	var first error
	for _, im := range []image.Image{img, withMargin(img, img.Bounds().Dx()/4)} {
		bmp, err := gozxing.NewBinaryBitmapFromImage(im)
		if err != nil {
			return "", err
		}
		for _, hints := range []map[gozxing.DecodeHintType]any{
			{gozxing.DecodeHintType_PURE_BARCODE: true},
			{gozxing.DecodeHintType_TRY_HARDER: true},
		} {
			res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
			if err == nil {
				return res.GetText(), nil
			}
			if first == nil {
				first = err
			}
		}
	}
	return "", first
}

// withMargin is img on a white canvas m pixels wider on each side.
func withMargin(img image.Image, m int) image.Image {
	r := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, r.Dx()+2*m, r.Dy()+2*m))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, image.Rect(m, m, m+r.Dx(), m+r.Dy()), img, r.Min, draw.Src)
	return out
}

// malformedAnswer is an answer posagent cannot read. It is transient: a
// proxy, a captive portal or a deploy can answer that way, and the document
// may or may not be as asked.
func malformedAnswer(op string, err error) error {
	return &posagent.Error{Kind: posagent.KindTransient, Message: "invoicexpress " + op + ": answer not understood", Err: err}
}

// ATField returns the value of field key ("H" for the ATCUD) in an AT QR
// payload ("A:…*B:…*…"), and whether it is there.
func ATField(payload, key string) (string, bool) {
	for _, part := range strings.Split(payload, "*") {
		if k, v, ok := strings.Cut(part, ":"); ok && k == key {
			return v, true
		}
	}
	return "", false
}

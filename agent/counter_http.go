package agent

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/posagent/posagent"
)

// The request keys that travel beside a sale in the same JSON object (POST
// /v1/sales, /v1/orders, /v1/invoices/{number}/reissue): they are not part
// of the invoice and are taken out before the invoice's strict decoder
// reads the rest.
const (
	keyConfirmed = "confirmed"
	keyPrintMode = "print_mode"
	keyReason    = "reason"
)

// splitRequest takes the named top-level keys out of a JSON object and
// returns the object without them, and their raw values. Anything that is
// not a well-formed object comes back untouched with no extras, for the
// strict decoder to name what is wrong; a key given twice is left in place
// for the same reason (the decoder refuses duplicates).
func splitRequest(body []byte, names ...string) ([]byte, map[string]jsontext.Value) {
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return body, nil
	}
	var out bytes.Buffer
	enc := jsontext.NewEncoder(&out)
	if enc.WriteToken(jsontext.BeginObject) != nil {
		return body, nil
	}
	extras := map[string]jsontext.Value{}
	for dec.PeekKind() != '}' {
		tok, err := dec.ReadToken()
		if err != nil {
			return body, nil
		}
		name := tok.String() // the token is void after the next read
		val, err := dec.ReadValue()
		if err != nil {
			return body, nil
		}
		if slices.Contains(names, name) {
			extras[name] = val.Clone()
			continue
		}
		if enc.WriteToken(jsontext.String(name)) != nil || enc.WriteValue(val) != nil {
			return body, nil
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return body, nil
	}
	if _, err := dec.ReadToken(); !errors.Is(err, io.EOF) {
		return body, nil // trailing data: the decoder says so
	}
	if enc.WriteToken(jsontext.EndObject) != nil {
		return body, nil
	}
	return bytes.TrimSpace(out.Bytes()), extras
}

// saleRequest is a sale with what the request says beside it.
type saleRequest struct {
	sale   posagent.Invoice
	opt    SaleOptions
	reason string
}

// readSaleRequest reads a sale body with the extra keys allowed, then
// completes and validates the sale (PrepareSale). It answers the client
// itself and returns false when the request is unusable: 400 for a body
// that is not the expected JSON, 422 naming the field for a rule broken.
func (a *Agent) readSaleRequest(w http.ResponseWriter, r *http.Request, keys ...string) (saleRequest, bool) {
	return a.readSaleRequestOf(w, r, "", keys...)
}

// readSaleRequestOf is readSaleRequest where a sale that names no seller is
// seller's ("" the default seller's): a reissue's is the voided invoice's.
func (a *Agent) readSaleRequestOf(w http.ResponseWriter, r *http.Request, seller string, keys ...string) (saleRequest, bool) {
	body, ok := readBody(w, r, posagent.MaxInvoiceJSON)
	if !ok {
		return saleRequest{}, false
	}
	rest, extras := splitRequest(body, keys...)
	var req saleRequest
	for key, raw := range extras {
		var err error
		switch key {
		case keyConfirmed:
			err = decodeStrict(raw, &req.opt.Confirmed)
		case keyPrintMode:
			err = decodeStrict(raw, &req.opt.PrintMode)
		case keyReason:
			err = decodeStrict(raw, &req.reason)
		}
		if err != nil {
			malformed(w, &posagent.Error{Kind: posagent.KindInvalid, Field: key, Message: key + ": " + messageOf(err)})
			return saleRequest{}, false
		}
	}
	// The invoice JSON's strict decoder (unknown fields, types, derived amounts);
	// validation follows once the seller and time are filled in.
	if err := req.sale.UnmarshalJSON(rest); err != nil {
		if shapeError(err) {
			malformed(w, err)
		} else {
			a.fail(w, r, err)
		}
		return saleRequest{}, false
	}
	if seller != "" && req.sale.Seller.TaxID == "" && req.sale.Seller.Name == "" && req.sale.Seller.Address == "" {
		req.sale.Seller.TaxID = seller
	}
	sale, err := a.PrepareSale(req.sale)
	if err != nil {
		a.fail(w, r, err)
		return saleRequest{}, false
	}
	req.sale = sale
	return req, true
}

// saleAnswer is the answer to a sale, as POST /v1/sales gives it.
func saleAnswer(res SaleResult) SaleAnswer {
	inv := res.Invoice
	p := inv.Period()
	return SaleAnswer{
		Number: string(inv.Number), RandomCode: inv.RandomCode, Period: p.Code(), PeriodLabel: p.Label(),
		IssuedAt: inv.IssuedAt.In(posagent.Taipei), SaleID: inv.SaleID, Total: inv.Total,
		Barcode: res.Proof.Barcode, QRLeft: res.Proof.QRLeft, QRRight: res.Proof.QRRight,
		Replayed: res.Replayed, Print: res.Print, Invoice: inv,
	}
}

// ReissueAnswer is the answer to POST /v1/invoices/{number}/reissue: both
// numbers, the void, and the new invoice as a sale's answer.
type ReissueAnswer struct {
	// Voided is the number of the invoice voided, Number the new one's.
	Voided   string        `json:"voided"`
	Number   string        `json:"number"`
	Replayed bool          `json:"replayed"`
	Void     posagent.Void `json:"void"`
	Invoice  SaleAnswer    `json:"reissued"`
}

func (a *Agent) handleReissue(w http.ResponseWriter, r *http.Request) {
	n, ok := pathNumber(w, r)
	if !ok {
		return
	}
	// The corrected sale is the voided invoice's seller's unless it names one.
	seller := ""
	if old, err := a.store.Invoice(r.Context(), n); err == nil {
		seller = old.Invoice.Seller.TaxID
	}
	req, ok := a.readSaleRequestOf(w, r, seller, keyConfirmed, keyPrintMode, keyReason)
	if !ok {
		return
	}
	if a.refuseWhileStopping(w, "reissue") {
		return
	}
	res, err := a.Reissue(r.Context(), n, req.reason, req.sale, req.opt)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, ReissueAnswer{Voided: string(res.Void.Number), Number: string(res.Invoice.Number),
		Replayed: res.Replayed, Void: res.Void, Invoice: saleAnswer(res.SaleResult)})
}

func (a *Agent) handleAddOrder(w http.ResponseWriter, r *http.Request) {
	req, ok := a.readSaleRequest(w, r, keyConfirmed)
	if !ok {
		return
	}
	o, created, err := a.AddOrder(r.Context(), req.sale, req.opt)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, o)
}

func (a *Agent) handleOrders(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	switch state {
	case "", OrderOpen, OrderIssued, OrderCancelled:
	default:
		writeError(w, http.StatusBadRequest, APIError{Code: codeMalformed, Field: "state", Message: "must be open, issued or cancelled (or left out: all)"})
		return
	}
	limit, ok := queryLimit(w, r)
	if !ok {
		return
	}
	os, err := a.Orders(r.Context(), state, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": state, "orders": os})
}

func (a *Agent) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	o, err := a.Order(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (a *Agent) handleCancelOrder(w http.ResponseWriter, r *http.Request) {
	reason, ok := readReason(w, r)
	if !ok {
		return
	}
	o, err := a.CancelOrder(r.Context(), r.PathValue("id"), reason)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

// handleIssueOrder issues an order now. The body is optional: {} or
// {"print_mode": "after_commit"}.
func (a *Agent) handleIssueOrder(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PrintMode string `json:"print_mode"`
	}
	if r.ContentLength != 0 {
		body, ok := readBody(w, r, maxSmallBody)
		if !ok {
			return
		}
		if err := decodeStrict(body, &req); err != nil {
			malformed(w, err)
			return
		}
	}
	if a.refuseWhileStopping(w, "order's issue") {
		return
	}
	res, err := a.IssueOrder(r.Context(), r.PathValue("id"), SaleOptions{PrintMode: req.PrintMode})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, saleAnswer(res))
}

// failGuard answers a guard rail's refusal; false when err is not one.
func failGuard(w http.ResponseWriter, err error) bool {
	var ge *GuardError
	if !errors.As(err, &ge) {
		return false
	}
	status := http.StatusConflict
	if ge.Code == CodeOverLimit {
		status = http.StatusUnprocessableEntity
	}
	writeError(w, status, APIError{Code: ge.Code, Field: "total", Message: ge.Error()})
	return true
}

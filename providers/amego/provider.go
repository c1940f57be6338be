package amego

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/qr"
)

var (
	_ posagent.Provider      = (*Client)(nil)
	_ posagent.BookletSource = (*Client)(nil)
	_ posagent.InvoiceLookup = (*Client)(nil)
	_ posagent.AlarmReporter = (*Client)(nil)
)

// Codes is what Amego computed for an uploaded invoice: the barcode text and
// the two QR texts of its proof.
type Codes struct {
	Number  string `json:"invoice_number"`
	Barcode string `json:"barcode"`
	Left    string `json:"qrcode_left"`
	Right   string `json:"qrcode_right"`
}

// Upload sends an invoice the till numbered and printed (f0401_custom, one
// record per call so that each has its own answer), then checks Amego's QR
// texts against the till's key. "Number already issued" (code 99 已存在開立
// or 3040171) is confirmed with invoice_status and invoice_query and adopted
// when it is this invoice.
func (c *Client) Upload(ctx context.Context, inv posagent.Invoice) error {
	if err := inv.ValidateIssued(); err != nil {
		return err
	}
	if inv.SaleID == "" {
		return posagent.Invalid("sale_id", "is required: it becomes Amego's order_id")
	}
	if inv.Seller.TaxID != c.cfg.Seller {
		return posagent.Invalid("seller.tax_id", "%s is not the Amego account's seller %s", inv.Seller.TaxID, c.cfg.Seller)
	}
	if err := c.checkIssueTime(ctx, inv); err != nil {
		return err
	}
	rec, err := c.record(inv)
	if err != nil {
		return err
	}
	data, err := c.call(ctx, "f0401_custom", []Record{rec})
	if posagent.IsKind(err, posagent.KindDuplicate) {
		return c.adopt(ctx, inv, err)
	}
	if e := apiError(err); e != nil && e.Code == codeRecord {
		// A code 15 on the way may have moved Amego's clock offset: an
		// InvoiceDate refused because our clock is ahead is a clock error.
		if cerr := c.checkIssueTime(ctx, inv); cerr != nil {
			return cerr
		}
	}
	if err != nil {
		return err
	}
	var codes []Codes
	if json.Unmarshal(data, &codes) != nil {
		// One record was sent: an answer of one object rather than a list of
		// one [U] is read too.
		var one Codes
		if json.Unmarshal(data, &one) == nil && one.Left != "" {
			codes = []Codes{one}
		}
	}
	if len(codes) == 0 {
		// The invoice is at Amego (code 0); only the check is lost.
		c.log.LogAttrs(ctx, slog.LevelWarn, "amego f0401_custom: success without readable QR texts; the QR key check is skipped",
			attrNumber(inv.Number))
		return nil
	}
	for _, got := range codes {
		if got.Number == "" || got.Number == string(inv.Number) {
			c.checkCodes(ctx, inv, got)
			break
		}
	}
	return nil
}

// checkIssueTime holds back an invoice issued more than ClockWindow after
// Amego's now: Amego would refuse its InvoiceDate as a data error and the job
// would die, when the fault is this till's clock. KindClock carries the skew
// for the agent's alarm; the upload goes through once the clocks agree.
func (c *Client) checkIssueTime(ctx context.Context, inv posagent.Invoice) error {
	c.ensureTime(ctx)
	skew, _, ok := c.ClockSkew()
	if !ok {
		return nil
	}
	if ahead := inv.IssuedAt.Sub(c.amegoNow()); ahead > ClockWindow {
		return &posagent.Error{Kind: posagent.KindClock, Skew: skew, Message: fmt.Sprintf(
			"amego f0401_custom: invoice %s is issued at %s, %s after Amego's clock (this till's clock is ahead by %s)",
			inv.Number, inv.IssuedAt.In(posagent.Taipei).Format("2006-01-02 15:04:05"), ahead.Round(time.Second), skew.Round(time.Second))}
	}
	return nil
}

// adopt settles a "duplicate" answer: the invoice number (or order id) is
// already at Amego. It is ours when Amego holds it under this number with our
// random code and total; otherwise the job needs a person (KindConflict).
func (c *Client) adopt(ctx context.Context, inv posagent.Invoice, dup error) error {
	states, err := c.InvoiceStatus(ctx, inv.Number)
	if err != nil {
		return err
	}
	if len(states) == 0 || states[0].Type == "NOT_FOUND" {
		if e := apiError(dup); e != nil && e.Code == codeOrderExists {
			// The order id is taken, by another number.
			return &posagent.Error{Kind: posagent.KindConflict, Err: dup,
				Message: fmt.Sprintf("Amego holds another invoice for sale %s, not %s", inv.SaleID, inv.Number)}
		}
		return &posagent.Error{Kind: posagent.KindTransient, Err: dup,
			Message: fmt.Sprintf("Amego says %s exists but invoice_status does not find it yet", inv.Number)}
	}
	remote, err := c.LookupInvoice(ctx, inv.Number, inv.IssuedAt, "")
	switch {
	case posagent.IsKind(err, posagent.KindNotFound):
		// invoice_query covers 180 days; invoice_status found it: accept.
		c.log.LogAttrs(ctx, slog.LevelInfo, "amego invoice already uploaded (status only); adopted", attrNumber(inv.Number))
		return nil
	case err != nil:
		return err
	}
	if m := mismatch(inv, remote); m != "" {
		return &posagent.Error{Kind: posagent.KindConflict, Err: dup,
			Message: fmt.Sprintf("Amego holds a different invoice under %s (%s)", inv.Number, m)}
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "amego invoice already uploaded; adopted", attrNumber(inv.Number))
	return nil
}

func mismatch(inv posagent.Invoice, r posagent.RemoteInvoice) string {
	switch {
	case r.Number != "" && r.Number != inv.Number:
		return "number " + string(r.Number)
	case r.RandomCode != "" && r.RandomCode != inv.RandomCode:
		return "random code " + r.RandomCode + ", ours " + inv.RandomCode
	case r.Total != inv.Total:
		return fmt.Sprintf("total %d, ours %d", r.Total, inv.Total)
	case r.SaleID != "" && r.SaleID != OrderID(inv.SaleID):
		return "order id " + r.SaleID
	}
	return ""
}

// Void uploads the void of an invoice (f0501). "Already voided" and "void
// already queued" are success; an invoice with an allowance, or past Amego's
// modification deadline, cannot be voided (KindConflict: issue an allowance).
func (c *Client) Void(ctx context.Context, inv posagent.Invoice, v posagent.Void) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if v.Number != inv.Number {
		return posagent.Invalid("number", "the void is for %s, not invoice %s", v.Number, inv.Number)
	}
	data := []struct {
		CancelInvoiceNumber string `json:"CancelInvoiceNumber"`
		CancelReason        string `json:"CancelReason,omitempty"`
	}{{string(inv.Number), v.Reason}}
	_, err := c.call(ctx, "f0501", data)
	return settledVoid(err)
}

// Allow uploads an allowance (g0401) under our AllowanceNumber, type 2
// (seller-issued), with tax-exclusive lines and their tax. "Allowance already
// exists" (4040161/4040162) for our number means an earlier, unanswered attempt
// landed: it is confirmed against the invoice's allowances in invoice_query
// and adopted when the amount agrees (another amount is a conflict).
func (c *Client) Allow(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) error {
	if err := a.Validate(inv, inv.Total); err != nil {
		return err
	}
	_, err := c.call(ctx, "g0401", []AllowanceRecord{allowanceRecord(inv, a)})
	if posagent.IsKind(err, posagent.KindDuplicate) {
		return c.adoptAllowance(ctx, inv, a, err)
	}
	return err
}

func (c *Client) adoptAllowance(ctx context.Context, inv posagent.Invoice, a posagent.Allowance, dup error) error {
	q, err := c.Query(ctx, inv.Number, "")
	if err != nil && !posagent.IsKind(err, posagent.KindNotFound) {
		return err
	}
	for _, got := range q.Allowance {
		if got.Number != a.Number {
			continue
		}
		if sum := int64(got.Total) + int64(got.Tax); sum != a.Total {
			return &posagent.Error{Kind: posagent.KindConflict, Err: dup, Message: fmt.Sprintf(
				"Amego holds allowance %s of invoice %s for NT$%d, ours is NT$%d", a.Number, inv.Number, sum, a.Total)}
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "amego allowance already there; adopted", attrNumber(inv.Number), slog.String("allowance", a.Number))
		return nil
	}
	// Amego says the number exists, and the number is ours (posagent makes it
	// per invoice); invoice_query did not list it (past 180 days, or its
	// allowance fields are not the ones we read [U]): taken at its word.
	c.log.LogAttrs(ctx, slog.LevelWarn, "amego allowance already there but not listed by invoice_query; adopted", attrNumber(inv.Number),
		slog.String("allowance", a.Number))
	return nil
}

// VoidAllowance uploads the void of an allowance (g0501) by our number.
// "Already voided" is success.
func (c *Client) VoidAllowance(ctx context.Context, inv posagent.Invoice, a posagent.Allowance, reason string) error {
	if a.Number == "" {
		return posagent.Invalid("allowance.number", "is required")
	}
	data := []struct {
		CancelAllowanceNumber string `json:"CancelAllowanceNumber"`
	}{{a.Number}}
	_, err := c.call(ctx, "g0501", data)
	return settledVoid(err)
}

// Status is one line of invoice_status.
type Status struct {
	Number string `json:"invoice_number"`
	// Type: NOT_FOUND, C0401 (issued), C0501 (voided), C0701 (void-reissued).
	Type string `json:"type"`
	// Status: 1 waiting, 2 uploading, 3 uploaded, 31 processing, 32 processed,
	// 91 error, 99 done.
	Status int `json:"status"`
}

// InvoiceStatus asks where invoices stand on their way to the MOF.
func (c *Client) InvoiceStatus(ctx context.Context, numbers ...posagent.InvoiceNumber) ([]Status, error) {
	type line struct {
		InvoiceNumber string `json:"InvoiceNumber"`
	}
	req := make([]line, len(numbers))
	for i, n := range numbers {
		req[i] = line{string(n)}
	}
	data, err := c.call(ctx, "invoice_status", req)
	if err != nil {
		return nil, err
	}
	var out []struct {
		Number string  `json:"invoice_number"`
		Type   string  `json:"type"`
		Status flexInt `json:"status"`
	}
	if json.Unmarshal(data, &out) != nil {
		return nil, posagent.Errorf(posagent.KindTransient, "amego invoice_status: the answer is not a list")
	}
	st := make([]Status, len(out))
	for i, o := range out {
		st[i] = Status{Number: o.Number, Type: o.Type, Status: int(o.Status)}
	}
	return st, nil
}

// Queried is invoice_query's answer for one invoice.
type Queried struct {
	Number      string  `json:"invoice_number"`
	Type        string  `json:"invoice_type"`
	Status      flexInt `json:"invoice_status"`
	Date        flexInt `json:"invoice_date"` // YYYYMMDD
	Time        string  `json:"invoice_time"` // HH:MM:SS
	Random      string  `json:"random_number"`
	OrderID     string  `json:"order_id"`
	TotalAmount flexInt `json:"total_amount"`
	CancelDate  flexInt `json:"cancel_date"`
	// Allowance lists the invoice's allowances (field names [U]: as the
	// stand-in writes them; invoice_query's allowance lines are not documented).
	Allowance []struct {
		Number string  `json:"allowance_number"`
		Total  flexInt `json:"total_amount"` // without tax
		Tax    flexInt `json:"tax_amount"`
		// Type is G0401 for an allowance in force, G0501 once voided (D0401 /
		// D0501 in MIG 3 names) [3P: a client of Amego reads it so].
		Type   string  `json:"invoice_type"`
		Status flexInt `json:"invoice_status"`
	} `json:"allowance"`
}

// Query is invoice_query by invoice number, or by order id when number is
// empty. Amego keeps 180 days; older is KindNotFound.
func (c *Client) Query(ctx context.Context, number posagent.InvoiceNumber, orderID string) (Queried, error) {
	var req any
	if number != "" {
		req = map[string]string{"type": "invoice", "invoice_number": string(number)}
	} else {
		req = map[string]string{"type": "order", "order_id": orderID}
	}
	data, err := c.call(ctx, "invoice_query", req)
	if err != nil {
		return Queried{}, err
	}
	var q Queried
	if json.Unmarshal(data, &q) != nil || q.Number == "" {
		return Queried{}, posagent.Errorf(posagent.KindTransient, "amego invoice_query: the answer is not an invoice")
	}
	return q, nil
}

// LookupInvoice implements posagent.InvoiceLookup with invoice_query.
func (c *Client) LookupInvoice(ctx context.Context, number posagent.InvoiceNumber, _ time.Time, saleID string) (posagent.RemoteInvoice, error) {
	orderID := ""
	if number == "" {
		orderID = OrderID(saleID)
	}
	q, err := c.Query(ctx, number, orderID)
	if err != nil {
		return posagent.RemoteInvoice{}, err
	}
	r := posagent.RemoteInvoice{Number: posagent.InvoiceNumber(q.Number), RandomCode: q.Random, SaleID: q.OrderID,
		Total: int64(q.TotalAmount), Voided: q.CancelDate != 0 || q.Type == "C0501"}
	if t, err := time.ParseInLocation("20060102 15:04:05", fmt.Sprintf("%08d %s", int64(q.Date), q.Time), posagent.Taipei); err == nil {
		r.IssuedAt = t
	}
	return r, nil
}

// flexInt reads a number sent as a JSON number or a string ("" is 0).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	*f = flexInt(n)
	return nil
}

func attrNumber(n posagent.InvoiceNumber) slog.Attr { return slog.String("number", string(n)) }

// qrMismatch is the state of the QR key alarm.
type qrMismatch struct {
	since  time.Time
	first  posagent.InvoiceNumber
	last   posagent.InvoiceNumber
	count  int
	latest time.Time
}

// checkCodes compares what Amego computed for an upload with what the till
// printed. The verification field (加密驗證資訊, AES of number and random
// code) depends only on the QR key: when Amego's differs from the one the
// till's key gives, the two keys differ, and every proof printed so far
// carries a verification field the MOF will not accept. That raises a
// critical alarm (ProviderAlarms); uploads go on, since the invoices are
// valid and their data are Amego's to report. Other differences (number,
// date, random code in the barcode) are logged.
func (c *Client) checkCodes(ctx context.Context, inv posagent.Invoice, got Codes) {
	if c.cfg.QRKey.IsZero() {
		return
	}
	if barcode, err := qr.Barcode(inv); err == nil && got.Barcode != "" && got.Barcode != barcode {
		c.log.LogAttrs(ctx, slog.LevelWarn, "amego barcode differs from the printed one", attrNumber(inv.Number),
			slog.String("amego", got.Barcode), slog.String("printed", barcode))
	}
	theirs, ok := verificationField(got.Left)
	if !ok {
		c.log.LogAttrs(ctx, slog.LevelWarn, "amego returned no readable left QR text; the QR key check is skipped", attrNumber(inv.Number))
		return
	}
	ours, err := c.cfg.QRKey.Verification(inv.Number, inv.RandomCode)
	if err != nil {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if theirs == ours {
		return
	}
	if c.qrAlarm == nil {
		c.qrAlarm = &qrMismatch{since: now, first: inv.Number}
		c.log.LogAttrs(ctx, slog.LevelError, "QR KEY MISMATCH: the verification field Amego computed differs from the one printed; the till's qr.key is not the key Amego holds",
			attrNumber(inv.Number))
	}
	c.qrAlarm.count++
	c.qrAlarm.last, c.qrAlarm.latest = inv.Number, now
}

// verificationField cuts the 24-character verification field out of a left
// QR text: the head is number (10), date (7), random code (4), two amounts
// and two tax ids (8 each), then the field.
func verificationField(left string) (string, bool) {
	const at = 10 + 7 + 4 + 8 + 8 + 8 + 8
	if len(left) < at+qr.VerificationLen {
		return "", false
	}
	return left[at : at+qr.VerificationLen], true
}

// ProviderAlarms implements posagent.AlarmReporter: the QR key alarm, up
// from the first mismatch until the agent restarts (after qr.key is fixed).
func (c *Client) ProviderAlarms() []posagent.ProviderAlarm {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.qrAlarm == nil {
		return nil
	}
	m := c.qrAlarm
	return []posagent.ProviderAlarm{{
		Level: posagent.AlarmCritical, Code: "qr_key_mismatch", Since: m.since,
		Message: fmt.Sprintf("the QR verification field Amego computed differs from the printed one for %d uploaded invoices (%s … %s, since %s): "+
			"the till's qr.key is not the key Amego holds, so every proof printed with it carries a wrong verification field. "+
			"Set qr.key to the key registered for this seller (ask Amego which seed it holds) and restart; uploads go on meanwhile",
			m.count, m.first, m.last, m.since.In(posagent.Taipei).Format("2006-01-02 15:04")),
	}}
}

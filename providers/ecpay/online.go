package ecpay

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// IssueOnline has ECPay number the sale (Issue, §7.1) and returns the invoice
// completed with ECPay's number, random code and issue time. The RelateNumber
// derived from SaleID makes retries safe: a duplicate answer, or an answer lost
// on the way, is settled with GetIssue and adopted.
func (c *Client) IssueOnline(ctx context.Context, sale posagent.Invoice) (posagent.Invoice, error) {
	if err := sale.Validate(); err != nil {
		return posagent.Invoice{}, err
	}
	if sale.SaleID == "" {
		return posagent.Invoice{}, posagent.Invalid("sale_id", "is required: it becomes ECPay's RelateNumber")
	}
	if err := c.CheckSale(sale); err != nil {
		return posagent.Invoice{}, err
	}
	data, err := c.onlineIssue(sale)
	if err != nil {
		return posagent.Invoice{}, err
	}
	var out struct {
		Result
		InvoiceNo    Str `json:"InvoiceNo"`
		InvoiceDate  Str `json:"InvoiceDate"`
		RandomNumber Str `json:"RandomNumber"`
	}
	err = c.call(ctx, "Issue", data, &out)
	switch posagent.ErrorKind(err) {
	case "":
		n, perr := posagent.ParseInvoiceNumber(strings.TrimSpace(string(out.InvoiceNo)))
		t, terr := parseDateTime(string(out.InvoiceDate))
		if perr != nil || terr != nil || !posagent.ValidRandomCode(string(out.RandomNumber)) {
			return posagent.Invoice{}, posagent.Errorf(posagent.KindInternal, "ecpay Issue: success without a valid number, date and random code")
		}
		sale.Number, sale.IssuedAt, sale.RandomCode = n, t, string(out.RandomNumber)
		return sale, nil
	case posagent.KindDuplicate:
		return c.adoptOnline(ctx, sale, err)
	case posagent.KindTransient:
		// The request may have been processed with its answer lost (§9): look
		// before the caller resends.
		if got, aerr := c.adoptOnline(ctx, sale, err); aerr == nil {
			return got, nil
		}
		return posagent.Invoice{}, err
	}
	return posagent.Invoice{}, err
}

func (c *Client) adoptOnline(ctx context.Context, sale posagent.Invoice, cause error) (posagent.Invoice, error) {
	r, err := c.LookupInvoice(ctx, "", time.Time{}, sale.SaleID)
	if err != nil {
		if posagent.IsKind(err, posagent.KindNotFound) && posagent.IsKind(cause, posagent.KindDuplicate) {
			return posagent.Invoice{}, withKind(cause, posagent.KindConflict, "ecpay says sale %s exists but GetIssue does not find it", sale.SaleID)
		}
		return posagent.Invoice{}, err
	}
	if r.Total != sale.Total {
		return posagent.Invoice{}, withKind(cause, posagent.KindConflict, "ecpay holds sale %s with total %d, not %d", sale.SaleID, r.Total, sale.Total)
	}
	if r.Voided {
		return posagent.Invoice{}, withKind(cause, posagent.KindConflict, "ecpay holds sale %s as invoice %s, voided", sale.SaleID, r.Number)
	}
	sale.Number, sale.RandomCode, sale.IssuedAt = r.Number, r.RandomCode, r.IssuedAt
	c.log.LogAttrs(ctx, levelInfo, "ecpay sale already issued; adopted", attrNumber(r.Number))
	return sale, nil
}

// VoidOnline voids an invoice ECPay issued online (Invalid, §7.2). "Already
// voided" is success.
func (c *Client) VoidOnline(ctx context.Context, inv posagent.Invoice, v posagent.Void) error {
	if err := v.Validate(); err != nil {
		return err
	}
	data := struct {
		MerchantID  string `json:"MerchantID"`
		InvoiceNo   string `json:"InvoiceNo"`
		InvoiceDate string `json:"InvoiceDate"`
		Reason      string `json:"Reason"`
	}{c.cfg.MerchantID, string(inv.Number), date(inv.IssuedAt), v.Reason}
	var out struct {
		Result
		InvoiceNo Str `json:"InvoiceNo"`
	}
	return voidResult(c.call(ctx, "Invalid", data, &out))
}

// AllowNumbered issues an allowance (Allowance, §7.3) and returns ECPay's
// allowance number (IA_Allow_No), which VoidAllowance needs.
//
// ECPay has no idempotency key for allowances, so the client reads the
// invoice's remaining amount before the first attempt. When an attempt's
// answer is lost and a retry finds the remaining amount already lowered by this
// allowance, the allowance is adopted (number unknown) instead of made twice.
// That memory lives in the process: a restart between the lost answer and the
// retry falls back to a fresh read.
func (c *Client) AllowNumbered(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) (string, error) {
	if a.InvoiceNumber != inv.Number {
		return "", posagent.Invalid("invoice_number", "%q is not the invoice %s", a.InvoiceNumber, inv.Number)
	}
	if a.Total <= 0 || a.Total > posagent.MaxTotal || len(a.Items) == 0 {
		return "", posagent.Invalid("total", "an allowance refunds more than 0 in at least one line")
	}
	key := string(inv.Number) + "/" + a.Number
	c.mu.Lock()
	before, retry := c.allowances[key]
	c.mu.Unlock()
	r, err := c.LookupInvoice(ctx, inv.Number, inv.IssuedAt, "")
	if err != nil {
		return "", err
	}
	if r.Voided {
		c.forgetAllowance(key)
		return "", posagent.Errorf(posagent.KindConflict, "ecpay: invoice %s is voided; no allowance can be made", inv.Number)
	}
	// a.Total is 1..MaxTotal (checked above and by Validate); before is what
	// ECPay said, so the subtraction is guarded rather than trusted.
	if retry && before >= math.MinInt64+a.Total && r.Remaining == before-a.Total {
		c.forgetAllowance(key)
		c.log.LogAttrs(ctx, levelWarn, "ecpay allowance made by an unanswered request; adopted without its number", attrNumber(inv.Number))
		return "", nil
	}
	if !retry {
		before = r.Remaining
		c.mu.Lock()
		c.allowances[key] = before
		c.mu.Unlock()
	}
	data := struct {
		MerchantID      string `json:"MerchantID"`
		InvoiceNo       string `json:"InvoiceNo"`
		InvoiceDate     string `json:"InvoiceDate"`
		AllowanceNotify string `json:"AllowanceNotify"`
		CustomerName    string `json:"CustomerName,omitempty"`
		AllowanceAmount int64  `json:"AllowanceAmount"`
		Reason          string `json:"Reason,omitempty"`
		Items           []Item `json:"Items"`
	}{c.cfg.MerchantID, string(inv.Number), date(inv.IssuedAt), "N", inv.Buyer.Name, a.Total, a.Reason, c.items(inv, a.Items)}
	var out struct {
		Result
		AllowNo   Str `json:"IA_Allow_No"`
		InvoiceNo Str `json:"IA_Invoice_No"`
		Date      Str `json:"IA_Date"`
		Remain    Int `json:"IA_Remain_Allowance_Amt"`
	}
	err = c.call(ctx, "Allowance", data, &out)
	if err != nil {
		if !posagent.IsKind(err, posagent.KindTransient) {
			c.forgetAllowance(key) // refused: nothing was made
		}
		return "", err
	}
	c.forgetAllowance(key)
	no := strings.TrimSpace(string(out.AllowNo))
	if no == "" {
		return "", posagent.Errorf(posagent.KindInternal, "ecpay Allowance: success without IA_Allow_No")
	}
	return no, nil
}

func (c *Client) forgetAllowance(key string) {
	c.mu.Lock()
	delete(c.allowances, key)
	c.mu.Unlock()
}

// VoidAllowanceNumbered voids an allowance by ECPay's number (AllowanceInvalid,
// §7.4). "Already voided" is success.
func (c *Client) VoidAllowanceNumbered(ctx context.Context, inv posagent.Invoice, allowanceNo, reason string) error {
	if allowanceNo == "" || len(allowanceNo) > 16 {
		return posagent.Invalid("provider_number", "ECPay's allowance number (IA_Allow_No, 16 characters) is unknown: void the allowance in the ECPay back office")
	}
	// Reason ≤ 20 is assumed like the other voids [U].
	if len([]rune(reason)) > posagent.MaxVoidReason {
		return posagent.Invalid("reason", "is more than %d characters", posagent.MaxVoidReason)
	}
	data := struct {
		MerchantID  string `json:"MerchantID"`
		InvoiceNo   string `json:"InvoiceNo"`
		AllowanceNo string `json:"AllowanceNo"`
		Reason      string `json:"Reason"`
	}{c.cfg.MerchantID, string(inv.Number), allowanceNo, reason}
	var out Result
	return voidResult(c.call(ctx, "AllowanceInvalid", data, &out))
}

// IssueInfo is GetIssue's answer (§7.5).
type IssueInfo struct {
	Number        Str `json:"IIS_Number"`
	RelateNumber  Str `json:"IIS_Relate_Number"`
	CreateDate    Str `json:"IIS_Create_Date"`
	RandomNumber  Str `json:"IIS_Random_Number"`
	SalesAmount   Int `json:"IIS_Sales_Amount"`
	TaxAmount     Int `json:"IIS_Tax_Amount"`
	InvalidStatus Str `json:"IIS_Invalid_Status"`
	UploadStatus  Str `json:"IIS_Upload_Status"`
	// TurnkeyStatus is the platform's verdict as ECPay relays it: C
	// accepted, E failed, G/P in progress. [U] Named on ECPay's 查詢發票明細
	// page (issue 15's seed), not in §7.5's field list: it may be absent,
	// and is then read as "cannot tell" (reconcile.go).
	TurnkeyStatus Str `json:"IIS_Turnkey_Status"`
	RemainAmount  Int `json:"IIS_Remain_Allowance_Amt"`
	Identifier    Str `json:"IIS_Identifier"`
	CarrierType   Str `json:"IIS_Carrier_Type"`
	CarrierNum    Str `json:"IIS_Carrier_Num"`
	LoveCode      Str `json:"IIS_Love_Code"`
	PrintFlag     Str `json:"IIS_Print_Flag"`
	AwardFlag     Str `json:"IIS_Award_Flag"`
	TaxType       Str `json:"IIS_Tax_Type"`
}

// GetIssue queries an invoice by RelateNumber (when relateNumber is not empty)
// or by number and issue date. Not found is KindNotFound.
func (c *Client) GetIssue(ctx context.Context, number posagent.InvoiceNumber, issuedAt time.Time, relateNumber string) (IssueInfo, error) {
	data := struct {
		MerchantID   string `json:"MerchantID"`
		RelateNumber string `json:"RelateNumber,omitempty"`
		InvoiceNo    string `json:"InvoiceNo,omitempty"`
		InvoiceDate  string `json:"InvoiceDate,omitempty"`
	}{MerchantID: c.cfg.MerchantID}
	if relateNumber != "" {
		data.RelateNumber = relateNumber
	} else {
		if !number.Valid() || issuedAt.IsZero() {
			return IssueInfo{}, posagent.Invalid("number", "a lookup needs a sale id, or an invoice number with its issue date")
		}
		data.InvoiceNo, data.InvoiceDate = string(number), date(issuedAt)
	}
	var out struct {
		Result
		IssueInfo
	}
	if err := c.call(ctx, "GetIssue", data, &out); err != nil {
		return IssueInfo{}, err
	}
	return out.IssueInfo, nil
}

// LookupInvoice implements posagent.InvoiceLookup with GetIssue. Whether
// GetIssue finds offline uploads is unconfirmed [U]; the stand-in does.
func (c *Client) LookupInvoice(ctx context.Context, number posagent.InvoiceNumber, issuedAt time.Time, saleID string) (posagent.RemoteInvoice, error) {
	relate := ""
	if number == "" {
		if saleID == "" {
			return posagent.RemoteInvoice{}, posagent.Invalid("sale_id", "a lookup needs a sale id or an invoice number")
		}
		relate = RelateNumber(saleID)
	}
	info, err := c.GetIssue(ctx, number, issuedAt, relate)
	if err != nil {
		return posagent.RemoteInvoice{}, err
	}
	n, err := posagent.ParseInvoiceNumber(strings.TrimSpace(string(info.Number)))
	if err != nil {
		return posagent.RemoteInvoice{}, posagent.Errorf(posagent.KindInternal, "ecpay GetIssue: the answer has no invoice number")
	}
	r := posagent.RemoteInvoice{
		Number:     n,
		RandomCode: strings.TrimSpace(string(info.RandomNumber)),
		SaleID:     strings.TrimSpace(string(info.RelateNumber)),
		Total:      int64(info.SalesAmount),
		Voided:     strings.TrimSpace(string(info.InvalidStatus)) == "1",
		Remaining:  int64(info.RemainAmount),
	}
	if saleID != "" && strings.EqualFold(r.SaleID, RelateNumber(saleID)) {
		r.SaleID = saleID
	}
	if t, err := parseDateTime(string(info.CreateDate)); err == nil {
		r.IssuedAt = t
	}
	return r, nil
}

type carrierEntry struct {
	exists bool
	at     time.Time
}

// MobileBarcodeExists asks ECPay (CheckBarcode, §7.6) whether a mobile barcode
// is registered at the MOF. Advisory: answers are cached for CarrierCacheTTL,
// errors are returned for the caller to ignore, and a malformed code is
// refused locally without a call.
func (c *Client) MobileBarcodeExists(ctx context.Context, code string) (bool, error) {
	if !posagent.ValidMobileBarcode(code) {
		return false, posagent.Invalid("carrier.id", "%q is not a mobile barcode: / and 7 of 0-9 A-Z . + -", code)
	}
	return c.checkCarrier(ctx, "CheckBarcode", "BarCode", code)
}

// LoveCodeExists asks ECPay (CheckLoveCode) whether a donation code exists;
// advisory and cached like MobileBarcodeExists.
func (c *Client) LoveCodeExists(ctx context.Context, code string) (bool, error) {
	if !posagent.ValidLoveCode(code) {
		return false, posagent.Invalid("love_code", "%q is not a donation code: 3 to 7 digits", code)
	}
	return c.checkCarrier(ctx, "CheckLoveCode", "LoveCode", code)
}

func (c *Client) checkCarrier(ctx context.Context, endpoint, field, code string) (bool, error) {
	key := endpoint + ":" + code
	now := c.now()
	c.mu.Lock()
	e, ok := c.carriers[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.cfg.CarrierCacheTTL {
		return e.exists, nil
	}
	data := map[string]string{"MerchantID": c.cfg.MerchantID, field: code}
	var out struct {
		Result
		IsExist   Str `json:"IsExist"`
		OrganName Str `json:"OrganName"`
	}
	if err := c.call(ctx, endpoint, data, &out); err != nil {
		return false, err
	}
	exists := strings.EqualFold(strings.TrimSpace(string(out.IsExist)), "Y")
	c.mu.Lock()
	c.carriers[key] = carrierEntry{exists: exists, at: now}
	c.mu.Unlock()
	return exists, nil
}

package agent

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/posagent/posagent"
)

// SaleResult is the answer to a sale: the invoice as issued, its proof texts
// and whether the proof printed.
type SaleResult struct {
	Invoice posagent.Invoice
	Proof   Proof
	// Replayed: the sale id was seen before; this is the stored invoice.
	Replayed bool
	Print    PrintReport
}

// PrintReport says whether the proof is on paper, and if not, why, in words a cashier understands.
type PrintReport struct {
	// Required is false when the buyer keeps the invoice in a carrier or donates it.
	Required bool   `json:"required"`
	Printed  bool   `json:"printed"`
	Reprint  bool   `json:"reprint,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
	// WillRetry: the proof prints by itself when the printer is back.
	WillRetry bool `json:"will_retry,omitempty"`
	// Background: the answer came once the sale was stored, and the proof
	// is printing now (print_mode after_commit); GET /v1/invoices/{number}
	// shows how it went.
	Background bool `json:"background,omitempty"`
}

// Clock rules for a sale's issue time: the POS may send its own, within reason.
const (
	maxFutureSkew = 5 * time.Minute
	// A sale older than this could not be uploaded within the legal 48 h.
	maxSaleAge = 24 * time.Hour
)

// checkIssuedAt is the clock rule for a time the POS gives, sale or allowance
// alike: at most maxFutureSkew ahead of this terminal, at most maxSaleAge behind.
func checkIssuedAt(t, now time.Time) error {
	switch {
	case t.After(now.Add(maxFutureSkew)):
		return posagent.Invalid("issued_at", "%s is in the future (this terminal's clock says %s)",
			t.Format(time.RFC3339), now.Format(time.RFC3339))
	case t.Before(now.Add(-maxSaleAge)):
		return posagent.Invalid("issued_at", "%s is more than %s ago: too late to issue",
			t.Format(time.RFC3339), maxSaleAge)
	}
	return nil
}

// PrepareSale completes and validates a sale decoded from the POS: the issue
// time defaults to now (Taipei), the seller to the terminal's default seller;
// a seller named by tax id must be one the till sells for. Nothing is stored;
// every error is KindInvalid naming the field.
func (a *Agent) PrepareSale(sale posagent.Invoice) (posagent.Invoice, error) {
	now := a.now().In(posagent.Taipei)
	if sale.SaleID == "" {
		return sale, posagent.Invalid("sale_id", "is required: the POS's id for the sale makes retries safe")
	}
	if sale.Number != "" || sale.RandomCode != "" {
		return sale, posagent.Invalid("number", "a sale must not carry an invoice number or random code: the agent assigns them")
	}
	if sale.IssuedAt.IsZero() {
		sale.IssuedAt = now
	} else {
		if err := checkIssuedAt(sale.IssuedAt, now); err != nil {
			return sale, err
		}
		sale.IssuedAt = sale.IssuedAt.In(posagent.Taipei)
	}
	var s *seller
	switch {
	case sale.Seller.TaxID == "" && sale.Seller.Name == "":
		s = a.defaultSeller()
		c := a.sellerConf(s)
		sale.Seller = posagent.Seller{TaxID: c.TaxID, Name: c.Name, Address: c.Address}
	case sale.Seller.TaxID != "" && sale.Seller.Name == "" && sale.Seller.Address == "" && a.sellerByTax(sale.Seller.TaxID) != nil:
		// Named by tax id alone: the seller's registered name and address.
		s = a.sellerByTax(sale.Seller.TaxID)
		c := a.sellerConf(s)
		sale.Seller = posagent.Seller{TaxID: c.TaxID, Name: c.Name, Address: c.Address}
	default:
		if s = a.sellerByTax(sale.Seller.TaxID); s == nil || sale.Seller.TaxID == "" {
			return sale, a.errUnknownSeller("seller.tax_id", sale.Seller.TaxID)
		}
	}
	if err := sale.Validate(); err != nil {
		return sale, err
	}
	if c, ok := s.prov().(posagent.SaleChecker); ok {
		// What only the provider requires (ECPay: a member carrier keyed by
		// the buyer's e-mail or phone) is refused before a number is spent.
		if err := c.CheckSale(sale); err != nil {
			return sale, err
		}
	}
	return sale, nil
}

// Sell issues a prepared sale, prints its proof and answers (after the
// print or after the commit, as printer.answer says). Once Issue has
// committed, the sale stands whatever the printer does. The guard rails are
// SellWith's.
func (a *Agent) Sell(ctx context.Context, sale posagent.Invoice) (SaleResult, error) {
	return a.sell(ctx, sale, a.conf().Printer.Answer)
}

func (a *Agent) sell(ctx context.Context, sale posagent.Invoice, mode string) (SaleResult, error) {
	start := a.now()
	s, err := a.saleSeller(sale)
	if err != nil {
		return SaleResult{}, err
	}
	// The seller's booklets and QR key: numbers and codes never cross sellers.
	rec, created, err := a.store.Issue(ctx, sale, a.owner(s), s.coder)
	if err != nil {
		if posagent.IsKind(err, posagent.KindExhausted) {
			wake(a.bookletWake)
		}
		return SaleResult{}, err
	}
	if created {
		a.log.Info("sale issued", "seller", s.taxID, "number", rec.Invoice.Number, "sale_id", rec.Invoice.SaleID, "total", rec.Invoice.Total)
	}
	res := a.answerSale(ctx, rec, created, mode)
	if created {
		a.metrics.observeSale(a.now().Sub(start))
	}
	return res, nil
}

// printReport describes the print state of a stored invoice.
func (a *Agent) printReport(rec Record) PrintReport {
	if !rec.Invoice.Print {
		return noProofReport(rec.Invoice)
	}
	r := PrintReport{Required: true, Printed: rec.Print.State == "printed", Reason: rec.Print.Reason}
	if !r.Printed {
		r.Message = cashierMessage(r.Reason)
		r.WillRetry = true
	}
	return r
}

// Invoice returns a stored invoice with its state.
func (a *Agent) Invoice(ctx context.Context, n posagent.InvoiceNumber) (Record, error) {
	return a.store.Invoice(ctx, n)
}

// VoidInvoice voids an issued invoice; the void is uploaded after the invoice.
func (a *Agent) VoidInvoice(ctx context.Context, n posagent.InvoiceNumber, reason string) (posagent.Void, error) {
	rec, err := a.store.Invoice(ctx, n)
	if err != nil {
		return posagent.Void{}, err
	}
	if rec.Void != nil {
		return posagent.Void{}, posagent.Errorf(posagent.KindConflict, "invoice %s was already voided at %s", n,
			rec.Void.VoidedAt.In(posagent.Taipei).Format(time.RFC3339))
	}
	for _, al := range rec.Allowances {
		if !al.Voided() {
			return posagent.Void{}, posagent.Errorf(posagent.KindConflict,
				"invoice %s has allowances; void them before voiding the invoice", n)
		}
	}
	v := posagent.Void{Number: n, VoidedAt: a.now().In(posagent.Taipei), Reason: reason}
	if err := v.Validate(); err != nil {
		return posagent.Void{}, err
	}
	if err := a.store.Void(ctx, v); err != nil {
		return posagent.Void{}, err
	}
	a.log.Info("invoice voided", "number", n)
	wake(a.syncWake)
	return v, nil
}

// AllowInvoice records an allowance (partial refund) against an invoice. An
// empty allowance number is assigned by the store; the same allowance sent
// again returns the stored one. A TaxAmount of 0 is derived from the invoice.
func (a *Agent) AllowInvoice(ctx context.Context, al posagent.Allowance) (posagent.Allowance, error) {
	return a.allowInvoice(ctx, al, al.TaxAmount != 0)
}

// allowInvoice is AllowInvoice where the caller says whether the tax was given
// (a given 0 is checked like any other given tax, not replaced).
func (a *Agent) allowInvoice(ctx context.Context, al posagent.Allowance, taxGiven bool) (posagent.Allowance, error) {
	rec, err := a.store.Invoice(ctx, al.InvoiceNumber)
	if err != nil {
		return posagent.Allowance{}, err
	}
	if rec.Void != nil {
		return posagent.Allowance{}, posagent.Errorf(posagent.KindConflict, "invoice %s is voided", al.InvoiceNumber)
	}
	now := a.now().In(posagent.Taipei)
	if al.IssuedAt.IsZero() {
		al.IssuedAt = now
	} else if err := checkIssuedAt(al.IssuedAt, now); err != nil {
		return posagent.Allowance{}, err
	}
	if !taxGiven && al.Total > 0 {
		// Derived from lines the decoder bounded; an error here is the same
		// refusal Validate would give.
		if al.TaxAmount, err = al.DerivedTax(rec.Invoice); err != nil {
			return posagent.Allowance{}, err
		}
	}
	check := al
	if check.Number == "" {
		check.Number = string(al.InvoiceNumber) + "-00" // the store assigns the real one
	}
	if err := check.Validate(rec.Invoice, rec.Remaining); err != nil {
		return posagent.Allowance{}, err
	}
	al, err = a.store.Allow(ctx, al)
	if err != nil {
		return posagent.Allowance{}, err
	}
	a.log.Info("allowance recorded", "invoice", al.InvoiceNumber, "allowance", al.Number, "total", al.Total)
	wake(a.syncWake)
	return al, nil
}

// VoidAllowance voids an allowance of invoice n; the void is sent to the
// provider after the allowance itself. An allowance not on that invoice is
// KindNotFound (field "allowance"); one already voided is KindConflict.
func (a *Agent) VoidAllowance(ctx context.Context, n posagent.InvoiceNumber, allowance, reason string) (AllowanceRecord, error) {
	switch {
	case reason == "":
		return AllowanceRecord{}, posagent.Invalid("reason", "is required")
	case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > posagent.MaxVoidReason:
		return AllowanceRecord{}, posagent.Invalid("reason", "must be text of at most %d characters", posagent.MaxVoidReason)
	}
	find := func(rec Record) (AllowanceRecord, error) {
		for _, al := range rec.Allowances {
			if al.Number == allowance {
				return al, nil
			}
		}
		return AllowanceRecord{}, &posagent.Error{Kind: posagent.KindNotFound, Field: "allowance",
			Message: fmt.Sprintf("invoice %s has no allowance %q", n, allowance)}
	}
	rec, err := a.store.Invoice(ctx, n)
	if err != nil {
		return AllowanceRecord{}, err
	}
	al, err := find(rec)
	if err != nil {
		return AllowanceRecord{}, err
	}
	if al.Voided() {
		return AllowanceRecord{}, &posagent.Error{Kind: posagent.KindConflict, Field: "allowance",
			Message: fmt.Sprintf("allowance %s was already voided at %s", allowance, al.VoidedAt.In(posagent.Taipei).Format(time.RFC3339))}
	}
	if err := a.store.VoidAllowance(ctx, allowance, reason); err != nil {
		return AllowanceRecord{}, err
	}
	a.log.Info("allowance voided", "invoice", n, "allowance", allowance)
	wake(a.syncWake)
	if rec, err = a.store.Invoice(ctx, n); err != nil {
		return AllowanceRecord{}, err
	}
	return find(rec)
}

// Reprint prints the proof again, always marked 補印.
func (a *Agent) Reprint(ctx context.Context, n posagent.InvoiceNumber) (PrintReport, error) {
	rec, err := a.store.Invoice(ctx, n)
	if err != nil {
		return PrintReport{}, err
	}
	if !rec.Invoice.Print {
		return PrintReport{}, posagent.Errorf(posagent.KindConflict,
			"invoice %s went to a carrier or a donation: it has no paper proof to reprint", n)
	}
	if rec.Void != nil {
		return PrintReport{}, posagent.Errorf(posagent.KindConflict, "invoice %s is voided", n)
	}
	return a.printProof(context.WithoutCancel(ctx), rec.Invoice, true), nil
}

package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
)

// At the counter: guard rails, the answer before the paper, void and
// reissue in one step, and orders issued later.

// SaleOptions are what a request says besides the sale itself.
type SaleOptions struct {
	// Confirmed: the cashier confirmed a total above guard.confirm_above.
	Confirmed bool
	// PrintMode is when to answer: config.AnswerAfterPrint,
	// config.AnswerAfterCommit, or "" for the configured printer.answer.
	PrintMode string
}

// The guard rails' refusal codes (APIError.Code).
const (
	// CodeNeedsConfirmation: the total is above guard.confirm_above and the
	// request did not say "confirmed": true (409).
	CodeNeedsConfirmation = "needs_confirmation"
	// CodeOverLimit: the total is above guard.refuse_above (422): never issued here.
	CodeOverLimit = "over_limit"
)

// GuardError is a sale refused by the guard rails. Nothing was stored and no
// number was spent.
type GuardError struct {
	Code      string // CodeNeedsConfirmation or CodeOverLimit
	Total     int64  // the sale's total, NT$
	Threshold int64  // the threshold it is above, NT$
	// Key is where the rails are set: "guard", or "sellers[1].guard" for a
	// seller with rails of its own.
	Key string
}

func (e *GuardError) Error() string {
	if e.Code == CodeOverLimit {
		return fmt.Sprintf("total NT$%d is above the limit of NT$%d (%s.refuse_above): a sale this large is never issued at this till; check the amount",
			e.Total, e.Threshold, e.Key)
	}
	return fmt.Sprintf(`total NT$%d is above NT$%d (%s.confirm_above): ask the cashier to check the amount, then send the sale again with "confirmed": true`,
		e.Total, e.Threshold, e.Key)
}

// CheckGuard refuses a total above the seller's refuse threshold, and one
// above its confirm threshold unless confirmed (*GuardError). The rails are
// the seller's own [sellers.guard] (ho600 keeps them per seller), else the
// till's [guard].
func (a *Agent) CheckGuard(sale posagent.Invoice, confirmed bool) error {
	g, key := a.conf().GuardFor(sale.Seller.TaxID)
	switch {
	case g.RefuseAbove > 0 && sale.Total > g.RefuseAbove:
		return &GuardError{Code: CodeOverLimit, Total: sale.Total, Threshold: g.RefuseAbove, Key: key}
	case g.ConfirmAbove > 0 && sale.Total > g.ConfirmAbove && !confirmed:
		return &GuardError{Code: CodeNeedsConfirmation, Total: sale.Total, Threshold: g.ConfirmAbove, Key: key}
	}
	return nil
}

// printMode resolves a request's print mode against printer.answer.
func (a *Agent) printMode(mode string) (string, error) {
	switch mode {
	case "":
		return a.conf().Printer.Answer, nil
	case config.AnswerAfterPrint, config.AnswerAfterCommit:
		return mode, nil
	}
	return "", posagent.Invalid("print_mode", "must be %s (answer once the proof printed) or %s (answer once the sale is stored; print in the background)",
		config.AnswerAfterPrint, config.AnswerAfterCommit)
}

// SellWith is Sell for a request: the guard rails first, then the sale,
// answered after the print or after the commit as the options say.
func (a *Agent) SellWith(ctx context.Context, sale posagent.Invoice, opt SaleOptions) (SaleResult, error) {
	mode, err := a.printMode(opt.PrintMode)
	if err != nil {
		return SaleResult{}, err
	}
	if err := a.CheckGuard(sale, opt.Confirmed); err != nil {
		return SaleResult{}, err
	}
	return a.sell(ctx, sale, mode)
}

// The reasons a proof is not printed that are no fault: the buyer keeps the
// invoice in a carrier or donates it, or it prints in the background.
const (
	ReasonCarrier  = "carrier"
	ReasonDonated  = "donated"
	ReasonNoProof  = "no_proof"
	ReasonPrinting = "printing"
)

// noProofReport is the print report of an invoice that has no paper proof,
// saying why.
func noProofReport(inv posagent.Invoice) PrintReport {
	r := PrintReport{Required: false, Reason: ReasonNoProof, Message: "不列印證明聯 / no paper proof for this invoice"}
	switch {
	case !inv.Carrier.IsZero():
		r.Reason, r.Message = ReasonCarrier, "存入載具，不列印證明聯 / kept in the buyer's carrier: no paper proof"
	case inv.IsDonated():
		r.Reason, r.Message = ReasonDonated, "已捐贈，不列印證明聯 / donated: no paper proof"
	}
	return r
}

// answerSale finishes a sale the store has answered for: a replay reports
// the stored print state; a new invoice wakes the uploader and prints its
// proof now (after_print) or in the background (after_commit).
func (a *Agent) answerSale(ctx context.Context, rec Record, created bool, mode string) SaleResult {
	res := SaleResult{Invoice: rec.Invoice, Proof: rec.Proof, Replayed: !created}
	if !created {
		res.Print = a.printReport(rec)
		return res
	}
	a.metrics.sale(rec.Invoice.Seller.TaxID)
	wake(a.syncWake)
	wake(a.bookletWake)
	inv := rec.Invoice
	switch {
	case !inv.Print:
		res.Print = noProofReport(inv)
	case mode == config.AnswerAfterCommit && a.printer != nil:
		// The sale is committed: a cancelled request must not stop the proof.
		pctx := context.WithoutCancel(ctx)
		a.prints.Go(func() { a.printProof(pctx, inv, false) })
		res.Print = PrintReport{Required: true, Reason: ReasonPrinting, Message: cashierMessage(ReasonPrinting),
			WillRetry: true, Background: true}
	default:
		// The sale is committed: a cancelled request must not leave the proof half-printed.
		res.Print = a.printProof(context.WithoutCancel(ctx), inv, false)
	}
	return res
}

// ReissueResult is the answer to a reissue: the void of the old invoice and
// the new invoice as a sale's answer.
type ReissueResult struct {
	Void posagent.Void
	SaleResult
}

// Reissue voids invoice n and issues the corrected sale (prepared with
// PrepareSale, with a sale id of its own) from the next number, in one store
// transaction (作廢重開), then prints the new proof. A retried reissue (the
// same new sale id) answers the same and voids or issues nothing. It is
// refused when the invoice is voided, ever had an allowance, or is past its
// period's void deadline (use an allowance then), and when the corrected
// sale breaks a rule or a guard rail: nothing is then voided or spent.
func (a *Agent) Reissue(ctx context.Context, n posagent.InvoiceNumber, reason string, sale posagent.Invoice, opt SaleOptions) (ReissueResult, error) {
	r, ok := a.store.(Reissuer)
	if !ok {
		return ReissueResult{}, posagent.Errorf(posagent.KindInternal, "this store cannot reissue")
	}
	mode, err := a.printMode(opt.PrintMode)
	if err != nil {
		return ReissueResult{}, err
	}
	v := posagent.Void{Number: n, VoidedAt: a.now().In(posagent.Taipei), Reason: reason}
	if err := v.Validate(); err != nil {
		return ReissueResult{}, err
	}
	if err := a.CheckGuard(sale, opt.Confirmed); err != nil {
		return ReissueResult{}, err
	}
	// The correction is issued for the voided invoice's seller, from its
	// booklets and with its key.
	s, err := a.saleSeller(sale)
	if err != nil {
		return ReissueResult{}, err
	}
	if old, err := a.store.Invoice(ctx, n); err == nil && old.Invoice.Seller.TaxID != s.taxID {
		return ReissueResult{}, posagent.Invalid("seller.tax_id", "invoice %s is seller %s's; its correction must be too (not %s)",
			n, old.Invoice.Seller.TaxID, s.taxID)
	}
	void, rec, created, err := r.Reissue(ctx, v, sale, a.owner(s), s.coder)
	if err != nil {
		if posagent.IsKind(err, posagent.KindExhausted) {
			wake(a.bookletWake)
		}
		return ReissueResult{}, err
	}
	if created {
		a.log.Info("invoice voided and reissued", "voided", n, "number", rec.Invoice.Number, "sale_id", rec.Invoice.SaleID,
			"total", rec.Invoice.Total)
	}
	return ReissueResult{Void: void, SaleResult: a.answerSale(ctx, rec, created, mode)}, nil
}

func (a *Agent) orderBook() (OrderBook, error) {
	ob, ok := a.store.(OrderBook)
	if !ok {
		return nil, posagent.Errorf(posagent.KindInternal, "this store cannot keep orders")
	}
	return ob, nil
}

// AddOrder takes a prepared sale (PrepareSale) as an order: stored without a
// number, under its sale id. The guard rails apply as to a sale. The same
// order again returns the stored one (created false); the same id with other
// content is KindConflict.
func (a *Agent) AddOrder(ctx context.Context, sale posagent.Invoice, opt SaleOptions) (Order, bool, error) {
	ob, err := a.orderBook()
	if err != nil {
		return Order{}, false, err
	}
	if opt.PrintMode != "" {
		return Order{}, false, posagent.Invalid("print_mode", "belongs to the issue of an order, not to its taking: nothing prints now")
	}
	if err := a.CheckGuard(sale, opt.Confirmed); err != nil {
		return Order{}, false, err
	}
	o, created, err := ob.AddOrder(ctx, sale)
	if err == nil && created {
		a.log.Info("order taken", "order", o.ID, "total", o.Sale.Total)
	}
	return o, created, err
}

// Orders lists orders in a state ("" every state), oldest first.
func (a *Agent) Orders(ctx context.Context, state string, limit int) ([]Order, error) {
	ob, err := a.orderBook()
	if err != nil {
		return nil, err
	}
	os, err := ob.Orders(ctx, state, limit)
	if os == nil && err == nil {
		os = []Order{}
	}
	return os, err
}

// Order returns one order.
func (a *Agent) Order(ctx context.Context, id string) (Order, error) {
	ob, err := a.orderBook()
	if err != nil {
		return Order{}, err
	}
	return ob.Order(ctx, id)
}

// CancelOrder cancels an open order: no invoice, ever.
func (a *Agent) CancelOrder(ctx context.Context, id, reason string) (Order, error) {
	ob, err := a.orderBook()
	if err != nil {
		return Order{}, err
	}
	o, err := ob.CancelOrder(ctx, id, reason)
	if err == nil {
		a.log.Info("order cancelled", "order", id)
	}
	return o, err
}

// IssueOrder issues an open order now: numbered from the booklets of this
// moment's period, dated now, printed now (or in the background). Issuing
// an issued order answers its invoice again.
func (a *Agent) IssueOrder(ctx context.Context, id string, opt SaleOptions) (SaleResult, error) {
	ob, err := a.orderBook()
	if err != nil {
		return SaleResult{}, err
	}
	mode, err := a.printMode(opt.PrintMode)
	if err != nil {
		return SaleResult{}, err
	}
	// The order's seller's booklets and key.
	o, err := ob.Order(ctx, id)
	if err != nil {
		return SaleResult{}, err
	}
	s, err := a.saleSeller(o.Sale)
	if err != nil {
		return SaleResult{}, err
	}
	rec, created, err := ob.IssueOrder(ctx, id, a.now().In(posagent.Taipei), a.owner(s), s.coder)
	if err != nil {
		if posagent.IsKind(err, posagent.KindExhausted) {
			wake(a.bookletWake)
		}
		return SaleResult{}, err
	}
	if created {
		a.log.Info("order issued", "order", id, "number", rec.Invoice.Number, "total", rec.Invoice.Total)
	}
	return a.answerSale(ctx, rec, created, mode), nil
}

// OrdersView is the orders part of status: open orders, and those open
// longer than orders.stale_after.
type OrdersView struct {
	Open       int       `json:"open"`
	Stale      int       `json:"stale"`
	StaleAfter string    `json:"stale_after"`
	Oldest     time.Time `json:"oldest,omitzero"`
}

// ordersStatus counts the orders for status; nil when the store keeps none.
func (a *Agent) ordersStatus(ctx context.Context, now time.Time) (*OrdersView, error) {
	ob, ok := a.store.(OrderBook)
	if !ok {
		return nil, nil
	}
	after := a.conf().Orders.StaleAfter.Duration
	open, stale, oldest, err := ob.OrderCounts(ctx, now.Add(-after))
	if err != nil {
		return nil, err
	}
	v := &OrdersView{Open: open, Stale: stale, StaleAfter: after.String()}
	if !oldest.IsZero() {
		v.Oldest = oldest.In(posagent.Taipei)
	}
	return v, nil
}

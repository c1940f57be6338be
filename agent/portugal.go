package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/providers/invoicexpress"
	"github.com/posagent/posagent/queue"
)

// The Portuguese regime. Its fiscal model is not Taiwan's and is not bent
// into it: a Portuguese till never numbers a document. InvoiceXpress, a
// certified program, assigns the number, the ATCUD and the hash when it
// finalizes a document, so:
//
//   - A sale is validated (NIF check digit, VAT rate → one of the account's
//     taxes for the configured region, exemption reasons), stored durably
//     (queue.PTAccept) and answered at once: state "pending", not yet an
//     invoice.
//   - ptLoop issues the pending documents exactly once and in sale order
//     through invoicexpress.Client.Issue, the store being its journal
//     (Creating and Drafted each committed before the next network step);
//     the final document is stored and its receipt printed by itself, once
//     as the original; any later print is a copy ("2ª via").
//   - The head of the queue blocks the documents behind it while it fails
//     transiently (network, 5xx, 429) or the account is not usable (auth,
//     a series without AT validation code): the series is numbered in sale
//     order. A document InvoiceXpress refuses (422) is set aside ("held")
//     for a person, so that the shop keeps issuing; once fixed and retried
//     it is numbered after the documents issued meanwhile.

// PTIssuer is InvoiceXpress as the Portuguese loop uses it
// (*invoicexpress.Client).
type PTIssuer interface {
	Issue(ctx context.Context, p invoicexpress.Progress, doc posagent.PTDocument, j invoicexpress.Journal) (posagent.PTDocument, error)
	Draft(ctx context.Context, p invoicexpress.Progress, doc posagent.PTDocument, j invoicexpress.Journal) (posagent.PTDocument, error)
	Get(ctx context.Context, t posagent.PTDocType, id int64) (posagent.PTDocument, error)
	Cancel(ctx context.Context, t posagent.PTDocType, id int64, message string) error
	Taxes(ctx context.Context) ([]invoicexpress.Tax, error)
	SeriesCode(ctx context.Context, t posagent.PTDocType) (string, error)
}

var _ PTIssuer = (*invoicexpress.Client)(nil)

// PTOptions is what a Portuguese terminal's agent is built from besides Options.
type PTOptions struct {
	Store  *queue.Store
	Issuer PTIssuer
	// Profile is the printer's Portuguese profile (printer.LookupPTProfile).
	Profile printer.Profile
}

// ptRegime is the Portuguese part of the agent.
type ptRegime struct {
	store   *queue.Store
	ix      PTIssuer
	profile printer.Profile
	wake    chan struct{}

	mu          sync.Mutex
	online      bool
	lastOK      time.Time
	lastError   string
	lastErrorAt time.Time
	// blocked is the account-wide refusal (auth, config: N/D series) that
	// stops the queue until a person fixes it; empty when none.
	blocked     string
	blockedKind posagent.Kind
	series      string // the document type's AT validation code as last read
	seriesAt    time.Time
	taxesAt     time.Time
	taxesErr    string
}

// Portuguese answers' states, as the POS reads them.
const (
	PTStatePending = "pending" // accepted, not yet an invoice
	PTStateDraft   = "draft"   // drafts_only: a draft at InvoiceXpress, not yet an invoice
	PTStateIssued  = "issued"  // the fiscal document exists
	PTStateHeld    = "held"    // InvoiceXpress refused it: a person must look
	PTStateCancel  = "cancelled"
)

// ptRetryAlarm is how many failed attempts of the head of the queue raise
// the alarm: a few are a blip, more a link or an account to look at.
const ptRetryAlarm = 5

// ptNotYet is what the cashier reads while a sale has no document.
const ptNotYet = "not yet an invoice: the document is issued by InvoiceXpress and prints by itself when the till reaches it (ainda não é uma fatura)"

// PortugalEnabled reports whether the agent follows the Portuguese regime.
func (a *Agent) PortugalEnabled() bool { return a.pt != nil }

// PTPrepared is a Portuguese sale checked and turned into the document to create.
type PTPrepared struct {
	Sale posagent.PTSale
	Doc  posagent.PTDocument
	// Note is what the cashier is told besides (the final consumer fallback).
	Note string
}

// PreparePTSale completes and validates a Portuguese sale: the time defaults
// to now, the buyer's NIF is checked (refused, or with invalid_nif =
// final_consumer replaced by the final consumer and said so), every VAT
// rate is mapped to one of the account's taxes of the configured region
// (from the cache; none cached yet is KindExhausted: the till must have
// reached InvoiceXpress once). Nothing is stored.
func (a *Agent) PreparePTSale(ctx context.Context, sale posagent.PTSale) (PTPrepared, error) {
	cfg := a.conf().Portugal
	var note string
	if b := sale.Buyer; b != nil && b.NIF != "" && !posagent.ValidNIF(b.NIF) && cfg.InvalidNIF == "final_consumer" {
		note = fmt.Sprintf("buyer NIF %q fails its check digit: issued to the final consumer %s, without the buyer's name (portugal.invalid_nif = final_consumer)",
			b.NIF, posagent.FinalConsumerNIF)
		sale.Buyer = nil
	}
	if err := sale.Validate(); err != nil {
		return PTPrepared{}, err
	}
	now := a.now().In(posagent.Lisbon)
	if sale.IssuedAt.IsZero() {
		sale.IssuedAt = now
	} else if err := checkIssuedAt(sale.IssuedAt, now); err != nil {
		return PTPrepared{}, err
	}
	sale.IssuedAt = sale.IssuedAt.In(posagent.Lisbon)
	taxes, err := a.pt.store.PTTaxes(ctx)
	if err != nil {
		return PTPrepared{}, err
	}
	if len(taxes) == 0 {
		return PTPrepared{}, &posagent.Error{Kind: posagent.KindExhausted, Field: "items",
			Message: "the account's taxes are not known yet: this till has not reached InvoiceXpress since it was installed; connect it once (posagent pt taxes refresh), then sell"}
	}
	doc := posagent.PTDocument{Type: posagent.PTDocType(cfg.DocumentType), Date: sale.IssuedAt, Reference: sale.SaleID}
	if b := sale.Buyer; b != nil && b.NIF != "" {
		doc.BuyerNIF, doc.BuyerName = b.NIF, strings.TrimSpace(b.Name)
	}
	for i, it := range sale.Items {
		tax, err := ptTaxFor(taxes, cfg.Region, it.VATRate)
		if err != nil {
			return PTPrepared{}, prefixed(fmt.Sprintf("items[%d].vat_rate", i), err)
		}
		doc.Lines = append(doc.Lines, posagent.PTLine{SKU: it.SKU, Description: it.Name, Quantity: it.Quantity,
			UnitPrice: it.UnitPrice, TaxName: tax.Name, VATRate: tax.Value, Exemption: it.Exemption, Net: it.Net()})
	}
	return PTPrepared{Sale: sale, Doc: doc, Note: note}, nil
}

func prefixed(field string, err error) error {
	var pe *posagent.Error
	if errors.As(err, &pe) {
		c := *pe
		c.Field = field
		return &c
	}
	return err
}

// ptTaxFor maps a VAT rate to the account's tax of that rate in region
// (a 0 % rate is exempt anywhere: any region's 0 % tax serves). When the
// account has several, the default tax wins, then the lowest name: the
// choice is the till's, never InvoiceXpress's silent default.
func ptTaxFor(taxes []queue.PTTax, region string, rate posagent.Decimal) (queue.PTTax, error) {
	var match []queue.PTTax
	var rates []string
	for _, t := range taxes {
		if t.Region == region {
			rates = append(rates, t.Value.String()+"%")
		}
		if t.Value.Equal(rate) && (t.Region == region || rate.IsZero()) {
			match = append(match, t)
		}
	}
	if len(match) == 0 {
		slices.Sort(rates)
		return queue.PTTax{}, posagent.Invalid("", "%s%% is not one of the account's VAT rates for region %s (%s); InvoiceXpress would silently apply its default tax",
			rate, region, strings.Join(slices.Compact(rates), ", "))
	}
	sort.SliceStable(match, func(i, j int) bool {
		if match[i].Default != match[j].Default {
			return match[i].Default
		}
		if (match[i].Region == region) != (match[j].Region == region) {
			return match[i].Region == region
		}
		return match[i].Name < match[j].Name
	})
	return match[0], nil
}

// PTSaleResult is the answer to a Portuguese sale.
type PTSaleResult struct {
	View     PTSaleView
	Replayed bool
}

// SellPT stores a prepared Portuguese sale and answers at once; the document
// is issued by the loop. A sale id seen before answers with what became of
// it; with different content it is KindConflict.
func (a *Agent) SellPT(ctx context.Context, p PTPrepared) (PTSaleResult, error) {
	start := a.now()
	saleJSON, err := json.Marshal(p.Sale)
	if err != nil {
		return PTSaleResult{}, err
	}
	e, created, err := a.pt.store.PTAccept(ctx, queue.PTEntry{Ref: p.Sale.SaleID, SaleID: p.Sale.SaleID, Kind: queue.PTKindSale,
		Request: p.Doc, Sale: saleJSON, Total: p.Sale.Total(), Note: p.Note})
	if err != nil {
		return PTSaleResult{}, err
	}
	if !created {
		if e.Kind != queue.PTKindSale || !samePTSale(e.Sale, p.Sale) {
			return PTSaleResult{}, posagent.Errorf(posagent.KindConflict, "sale_id %q was already used for a different sale (total %s EUR)", p.Sale.SaleID, e.Total)
		}
		v, err := a.ptView(ctx, e)
		return PTSaleResult{View: v, Replayed: true}, err
	}
	a.metrics.sales.Add(1)
	a.log.Info("Portuguese sale accepted", "sale_id", e.Ref, "total", e.Total.String())
	v, err := a.ptView(ctx, e)
	if err != nil {
		return PTSaleResult{}, err
	}
	if a.conf().Portugal.PendingSlip && a.ptWillWait(ctx) {
		v.Slip = a.printPTSlip(context.WithoutCancel(ctx), e)
	}
	wake(a.pt.wake)
	a.metrics.observeSale(a.now().Sub(start))
	return PTSaleResult{View: v}, nil
}

// samePTSale reports whether a replayed sale id carries the same sale.
func samePTSale(stored json.RawMessage, req posagent.PTSale) bool {
	var s posagent.PTSale
	if err := json.Unmarshal(stored, &s); err != nil {
		return false
	}
	if (s.Buyer == nil) != (req.Buyer == nil) || (s.Buyer != nil && *s.Buyer != *req.Buyer) || len(s.Items) != len(req.Items) {
		return false
	}
	for i, a := range s.Items {
		b := req.Items[i]
		if a.SKU != b.SKU || a.Name != b.Name || a.Exemption != b.Exemption || !a.Quantity.Equal(b.Quantity) ||
			!a.UnitPrice.Equal(b.UnitPrice) || !a.VATRate.Equal(b.VATRate) {
			return false
		}
	}
	return true
}

// ptWillWait says whether a sale accepted now will wait for its document:
// InvoiceXpress is unreachable or refuses the account, or other documents
// are ahead of it. Only then is the "not an invoice" slip worth its paper.
func (a *Agent) ptWillWait(ctx context.Context) bool {
	a.pt.mu.Lock()
	wait := !a.pt.online || a.pt.blocked != ""
	a.pt.mu.Unlock()
	if !wait {
		if st, err := a.pt.store.PTStatus(ctx); err == nil && st.Pending > 1 {
			wait = true // others are ahead of it
		}
	}
	return wait
}

// PTSaleView is a Portuguese sale or credit note as the API answers it.
type PTSaleView struct {
	SaleID string `json:"sale_id"`
	// Ref is the document's reference at InvoiceXpress (a credit note: its refund id).
	Ref   string `json:"ref"`
	Kind  string `json:"kind"`
	State string `json:"state"`
	// Invoice says whether a fiscal document exists: false until InvoiceXpress has finalized it.
	Invoice    bool                 `json:"invoice"`
	Message    string               `json:"message"`
	Note       string               `json:"note,omitempty"`
	Total      posagent.Decimal     `json:"expected_total"`
	AcceptedAt time.Time            `json:"accepted_at"`
	Type       posagent.PTDocType   `json:"document_type"`
	Document   *posagent.PTDocument `json:"document,omitempty"`
	DraftID    int64                `json:"draft_id,omitempty"`
	LastError  string               `json:"last_error,omitempty"`
	Attempts   int                  `json:"attempts"`
	Print      PrintState           `json:"print"`
	Slip       *PrintReport         `json:"slip,omitempty"`
	Cancel     *PTCancelView        `json:"cancel,omitempty"`
	OwnerRef   string               `json:"refunds,omitempty"`
	CreditNote []string             `json:"credit_notes,omitempty"`
}

// PTCancelView is a document's cancel.
type PTCancelView struct {
	Message string    `json:"message"`
	State   string    `json:"state"` // pending, done, held
	Error   string    `json:"error,omitempty"`
	At      time.Time `json:"requested_at"`
}

func (a *Agent) ptView(ctx context.Context, e queue.PTEntry) (PTSaleView, error) {
	v := PTSaleView{SaleID: e.SaleID, Ref: e.Ref, Kind: e.Kind, Note: e.Note, Total: e.Total, AcceptedAt: e.AcceptedAt.In(posagent.Lisbon),
		Type: e.Request.Type, Document: e.Document, DraftID: e.DraftID, LastError: e.LastError, Attempts: e.Attempts, OwnerRef: e.OwnerRef,
		Print: PrintState{State: e.Print.State, OriginalPrinted: e.Print.OriginalSpent, Attempts: e.Print.Attempts, Reason: e.Print.LastError}}
	switch e.State {
	case queue.PTIssued:
		v.State, v.Invoice = PTStateIssued, true
		v.Message = fmt.Sprintf("issued by InvoiceXpress: %s %s, ATCUD %s", e.Request.Type, e.Document.SequenceNumber, e.Document.ATCUD)
	case queue.PTDrafted:
		v.State, v.Message = PTStateDraft, "a draft at InvoiceXpress (drafts_only): not yet an invoice; posagent pt finalize issues it"
	case queue.PTHeld:
		v.State, v.Message = PTStateHeld, "InvoiceXpress refused this document; a person must fix the cause, then: posagent pt retry "+e.Ref
	default:
		v.State, v.Message = PTStatePending, ptNotYet
	}
	if e.CancelState != "" {
		v.Cancel = &PTCancelView{Message: e.CancelMessage, State: e.CancelState, Error: e.CancelError, At: e.CanceledAt.In(posagent.Lisbon)}
		if e.CancelState == "done" {
			v.State, v.Message = PTStateCancel, "cancelled at InvoiceXpress: "+e.CancelMessage
		}
	}
	if e.Kind == queue.PTKindSale {
		refunds, err := a.pt.store.PTRefunds(ctx, e.Ref)
		if err != nil {
			return v, err
		}
		for _, r := range refunds {
			v.CreditNote = append(v.CreditNote, r.Ref)
		}
	}
	return v, nil
}

// PTSale reads a Portuguese sale or credit note by its reference.
func (a *Agent) PTSale(ctx context.Context, ref string) (PTSaleView, error) {
	e, err := a.pt.store.PTEntry(ctx, ref)
	if err != nil {
		return PTSaleView{}, err
	}
	return a.ptView(ctx, e)
}

// PTCancel cancels a sale's document at InvoiceXpress with the required
// message. The cancel is queued: sent once the document is issued, in order.
func (a *Agent) PTCancel(ctx context.Context, ref, message string) (PTSaleView, error) {
	if err := posagent.CheckPTCancelMessage(message); err != nil {
		return PTSaleView{}, err
	}
	if err := a.pt.store.PTRequestCancel(ctx, ref, message); err != nil {
		return PTSaleView{}, err
	}
	a.log.Info("Portuguese document cancel queued", "ref", ref)
	wake(a.pt.wake)
	return a.PTSale(ctx, ref)
}

// PTRefund queues a credit note for a sale, linked to its document
// (owner_invoice_id), issued through the same loop exactly once. refundID is
// the credit note's own reference; items name the lines and quantities
// refunded (posagent.ResolvePTRefund), none (nil) is everything not yet
// refunded. A sale may have several credit notes; together they never take
// more of a line than the sale had. The same refund id asked again with the
// same items answers the same credit note; with other items, or for another
// sale, it is KindConflict.
func (a *Agent) PTRefund(ctx context.Context, saleRef, refundID string, items []posagent.PTRefundItem) (PTSaleView, error) {
	if err := posagent.CheckPTRefundID(refundID); err != nil {
		return PTSaleView{}, err
	}
	owner, err := a.pt.store.PTEntry(ctx, saleRef)
	if err != nil {
		return PTSaleView{}, err
	}
	if owner.Kind != queue.PTKindSale {
		return PTSaleView{}, &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id", Message: saleRef + " is a credit note: refund the sale itself"}
	}
	asked, err := posagent.ResolvePTRefund(owner.Request.Lines, items)
	if err != nil {
		return PTSaleView{}, err
	}
	same := func(e queue.PTEntry) (PTSaleView, error) {
		if e.Kind == queue.PTKindCreditNote && e.OwnerRef == saleRef && samePTRefund(e.Sale, asked) {
			return a.ptView(ctx, e) // the same refund asked again
		}
		return PTSaleView{}, &posagent.Error{Kind: posagent.KindConflict, Field: "refund_id",
			Message: fmt.Sprintf("%q is already the id of another sale or refund (or of this refund with other items)", refundID)}
	}
	if e, err := a.pt.store.PTEntry(ctx, refundID); err == nil {
		return same(e)
	}
	lines := owner.Request.Lines
	e, created, err := a.pt.store.PTAcceptCreditNote(ctx, refundID, saleRef, func(prior []json.RawMessage) (queue.PTEntry, error) {
		refunded, err := ptRefunded(lines, prior)
		if err != nil {
			return queue.PTEntry{}, err
		}
		take, err := posagent.PTRefundLeft(lines, refunded, asked)
		if err != nil {
			return queue.PTEntry{}, err
		}
		doc := owner.Request
		doc.Type, doc.Reference, doc.Date, doc.OwnerID = posagent.PTCreditNote, refundID, a.now().In(posagent.Lisbon), 0
		var total posagent.Decimal
		doc.Lines, total = posagent.PTCreditLines(lines, take)
		body, err := json.Marshal(ptRefundBody{SaleID: saleRef, RefundID: refundID, Items: asked, Lines: take})
		return queue.PTEntry{Request: doc, Sale: body, Total: total}, err
	})
	if err != nil {
		return PTSaleView{}, err
	}
	if !created {
		return same(e) // the same refund id stored meanwhile
	}
	a.log.Info("Portuguese credit note queued", "sale_id", saleRef, "refund_id", refundID, "lines", len(e.Request.Lines), "total", e.Total.String())
	wake(a.pt.wake)
	return a.ptView(ctx, e)
}

// ptRefundBody is a credit note as accepted (queue.PTEntry.Sale): the items
// asked for, resolved (null: everything left), and the lines it takes. A
// credit note stored before partial refunds has neither and took the whole
// sale.
type ptRefundBody struct {
	SaleID   string                  `json:"sale_id"`
	RefundID string                  `json:"refund_id"`
	Items    []posagent.PTRefundLine `json:"items"`
	Lines    []posagent.PTRefundLine `json:"lines"`
}

// ptRefunded sums, per line of the sale, what its credit notes took.
func ptRefunded(lines []posagent.PTLine, prior []json.RawMessage) ([]posagent.Decimal, error) {
	out := make([]posagent.Decimal, len(lines))
	for _, raw := range prior {
		var b ptRefundBody
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, fmt.Errorf("read credit note of the sale: %w", err)
		}
		if b.Lines == nil { // a whole-sale credit note
			for n, l := range lines {
				out[n] = out[n].Add(l.Quantity)
			}
			continue
		}
		for _, r := range b.Lines {
			if r.Line < 0 || r.Line >= len(lines) {
				return nil, fmt.Errorf("credit note %s of the sale names line %d of %d", b.RefundID, r.Line, len(lines))
			}
			out[r.Line] = out[r.Line].Add(r.Quantity)
		}
	}
	return out, nil
}

// samePTRefund reports whether a refund id asked again asks for the same items.
func samePTRefund(stored json.RawMessage, asked []posagent.PTRefundLine) bool {
	var b ptRefundBody
	if err := json.Unmarshal(stored, &b); err != nil || (b.Items == nil) != (asked == nil) || len(b.Items) != len(asked) {
		return false
	}
	for i, r := range b.Items {
		if r.Line != asked[i].Line || !r.Quantity.Equal(asked[i].Quantity) {
			return false
		}
	}
	return true
}

// PTRetry puts a held document (or cancel) back in the queue once a person
// fixed its cause.
func (a *Agent) PTRetry(ctx context.Context, ref string) (PTSaleView, error) {
	if err := a.pt.store.PTRelease(ctx, ref); err != nil {
		return PTSaleView{}, err
	}
	a.log.Info("Portuguese document released for another attempt", "ref", ref)
	wake(a.pt.wake)
	return a.PTSale(ctx, ref)
}

// PTDrafts lists the drafts kept (drafts_only), in sale order.
func (a *Agent) PTDrafts(ctx context.Context) ([]PTSaleView, error) {
	return a.PTList(ctx, PTStateDraft)
}

// PTFinalizeDrafts queues every kept draft to be finalized, in sale order.
func (a *Agent) PTFinalizeDrafts(ctx context.Context) (int, error) {
	n, err := a.pt.store.PTFinalizeDrafts(ctx)
	if err != nil {
		return 0, err
	}
	a.log.Info("drafts queued to be finalized", "drafts", n)
	wake(a.pt.wake)
	return n, nil
}

// PTReprint prints an issued document's receipt again, marked "2ª via".
func (a *Agent) PTReprint(ctx context.Context, ref string) (PrintReport, error) {
	e, err := a.pt.store.PTEntry(ctx, ref)
	if err != nil {
		return PrintReport{}, err
	}
	if e.State != queue.PTIssued {
		return PrintReport{}, posagent.Errorf(posagent.KindConflict, "%s is not issued yet: %s", ref, ptNotYet)
	}
	return a.printPT(context.WithoutCancel(ctx), e, true), nil
}

// PTRefreshTaxes reads the account's taxes and the series' validation code
// now, and caches the taxes.
func (a *Agent) PTRefreshTaxes(ctx context.Context) ([]queue.PTTax, error) {
	if err := a.ptRefresh(ctx); err != nil {
		return nil, err
	}
	return a.pt.store.PTTaxes(ctx)
}

// PTTaxes lists the cached taxes.
func (a *Agent) PTTaxes(ctx context.Context) ([]queue.PTTax, error) { return a.pt.store.PTTaxes(ctx) }

func (a *Agent) ptRefresh(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, a.conf().Sync.CallTimeout.Duration)
	defer cancel()
	taxes, err := a.pt.ix.Taxes(cctx)
	a.ptNote(err)
	if err != nil {
		a.pt.mu.Lock()
		a.pt.taxesErr = err.Error()
		a.pt.mu.Unlock()
		return err
	}
	cached := make([]queue.PTTax, len(taxes))
	for i, t := range taxes {
		cached[i] = queue.PTTax{Name: t.Name, Value: t.Value, Region: t.Region, Default: t.Default}
	}
	if err := a.pt.store.PTSetTaxes(ctx, cached); err != nil {
		return err
	}
	typ := posagent.PTDocType(a.conf().Portugal.DocumentType)
	code, err := a.pt.ix.SeriesCode(cctx, typ)
	a.ptNote(err)
	now := a.now()
	a.pt.mu.Lock()
	a.pt.taxesAt, a.pt.taxesErr = now, ""
	if err == nil {
		a.pt.series, a.pt.seriesAt = code, now
		if code != invoicexpress.SeriesNotRegistered && a.pt.blockedKind == posagent.KindConfig {
			a.pt.blocked, a.pt.blockedKind = "", ""
		}
	}
	a.pt.mu.Unlock()
	return err
}

// ptNote updates InvoiceXpress's reachability from one call.
func (a *Agent) ptNote(err error) {
	now := a.now()
	a.pt.mu.Lock()
	defer a.pt.mu.Unlock()
	switch k := posagent.ErrorKind(err); {
	case err == nil:
		if !a.pt.online {
			a.log.Info("InvoiceXpress is reachable again")
		}
		a.pt.online, a.pt.lastOK = true, now
	case k == posagent.KindTransient || k == posagent.KindRateLimited || errors.Is(err, context.DeadlineExceeded):
		if a.pt.online {
			a.log.Warn("InvoiceXpress unreachable; sales go on and wait to be issued", "err", err)
		}
		a.pt.online = false
		a.pt.lastError, a.pt.lastErrorAt = err.Error(), now
	default:
		a.pt.online, a.pt.lastOK = true, now // it answered
		a.pt.lastError, a.pt.lastErrorAt = err.Error(), now
	}
}

// ptLoop issues the pending documents in sale order, sends the cancels,
// prints the receipts left pending and keeps the taxes fresh.
func (a *Agent) ptLoop(ctx context.Context) {
	a.ptRefresh(ctx) //nolint:errcheck // noted in the health; an offline start is normal
	var nextRefresh time.Time = a.now().Add(a.conf().Portugal.TaxRefresh.Duration)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		wait := a.poll
		if ctx.Err() != nil || a.stopping.Load() {
			return
		}
		if a.now().After(nextRefresh) {
			if err := a.ptRefresh(ctx); err == nil {
				nextRefresh = a.now().Add(a.conf().Portugal.TaxRefresh.Duration)
			} else {
				nextRefresh = a.now().Add(a.backoff(2))
			}
		}
		a.ptPrintPending(ctx)
		worked, until := a.ptStep(ctx)
		if worked {
			continue
		}
		if !until.IsZero() {
			wait = min(wait*5, max(until.Sub(a.now()), time.Millisecond))
		}
		t.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.pt.wake:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		}
	}
}

// ptStep does one piece of work: issue the head of the queue, or send one
// cancel. worked is false when there was nothing to do now; until is then
// when the head is due, if it waits.
func (a *Agent) ptStep(ctx context.Context) (worked bool, until time.Time) {
	e, ok, err := a.pt.store.PTNext(ctx)
	if err != nil {
		a.log.Error("read the Portuguese queue", "err", err)
		return false, time.Time{}
	}
	if ok {
		if e.NextAt.After(a.now()) {
			until = e.NextAt
		} else {
			a.ptIssue(ctx, e)
			return true, time.Time{}
		}
	}
	c, ok, err := a.pt.store.PTNextCancel(ctx)
	if err != nil {
		a.log.Error("read the Portuguese cancels", "err", err)
		return false, until
	}
	if ok {
		a.ptSendCancel(ctx, c)
		return true, time.Time{}
	}
	return false, until
}

// ptJournal is the store as invoicexpress.Journal: each record is its own
// committed transaction, written before the next network step.
type ptJournal struct{ s *queue.Store }

func (j ptJournal) Creating(ctx context.Context, ref string) error { return j.s.PTCreating(ctx, ref) }
func (j ptJournal) Drafted(ctx context.Context, ref string, id int64) error {
	return j.s.PTDrafted(ctx, ref, id)
}

// ptIssue issues (or, drafts_only, drafts) one document and records the outcome.
func (a *Agent) ptIssue(ctx context.Context, e queue.PTEntry) {
	a.inflight.Add(1)
	defer a.inflight.Done()
	doc := e.Request
	if e.Kind == queue.PTKindCreditNote {
		owner, err := a.pt.store.PTEntry(ctx, e.OwnerRef)
		if err != nil || owner.Document == nil {
			a.ptFailed(ctx, e, fmt.Errorf("the credit note's sale %s has no document: %w", e.OwnerRef, err))
			return
		}
		doc.OwnerID = owner.Document.ID
	}
	// The document is dated the day it is created at InvoiceXpress: a
	// certified program numbers a series in date order, so a sale made
	// offline yesterday and issued today is dated today (its sale time is
	// kept, and printed when it falls on the document's date).
	doc.Date = a.now().In(posagent.Lisbon)
	progress := invoicexpress.Progress{Ref: e.Ref, Type: doc.Type, Creating: e.Creating, DraftID: e.DraftID}
	// The calls end with the loops (after the shutdown's grace): a procedure
	// cut anywhere resumes from the journal at the next start.
	cctx, cancel := context.WithTimeout(ctx, 4*a.conf().Sync.CallTimeout.Duration)
	defer cancel()
	// What happened is recorded even when the loops are stopping.
	ctx = context.WithoutCancel(ctx)
	start := a.now()
	if a.conf().Portugal.DraftsOnly && !e.Finalize && e.Kind == queue.PTKindSale {
		// Exactly one draft, kept for the shop to check (drafts_only).
		d, err := a.pt.ix.Draft(cctx, progress, doc, ptJournal{a.pt.store})
		a.metrics.observeUpload(a.conf().Portugal.Seller.NIF, "pt_draft", a.now().Sub(start), err)
		a.ptNote(err)
		switch {
		case err != nil:
			a.ptFailed(ctx, e, err)
			return
		case d.State == invoicexpress.StateDraft:
			if err := a.pt.store.PTKeepDraft(ctx, e.Ref, d.ID); err != nil {
				a.log.Error("record kept draft", "ref", e.Ref, "err", err)
				return
			}
			a.log.Info("draft kept at InvoiceXpress (drafts_only)", "ref", e.Ref, "draft_id", d.ID)
			return
		}
		// Issued already (finalized by hand at InvoiceXpress): Issue adopts it and reads its QR.
		progress.DraftID = d.ID
	}
	final, err := a.pt.ix.Issue(cctx, progress, doc, ptJournal{a.pt.store})
	a.metrics.observeUpload(a.conf().Portugal.Seller.NIF, "pt_"+string(doc.Type), a.now().Sub(start), err)
	a.ptNote(err)
	if err != nil {
		if final.ID != 0 && invoicexpress.IsFinal(final.State) {
			// Final, but its QR could not be read: the next attempt adopts
			// it by id (never creates another).
			if jerr := a.pt.store.PTDrafted(ctx, e.Ref, final.ID); jerr != nil {
				a.log.Error("journal the final document's id", "ref", e.Ref, "err", jerr)
			}
		}
		a.ptFailed(ctx, e, err)
		return
	}
	a.ptDone(ctx, e, final)
}

// ptDone stores a final document and prints its receipt, the original.
func (a *Agent) ptDone(ctx context.Context, e queue.PTEntry, final posagent.PTDocument) {
	if err := a.pt.store.PTIssued(ctx, e.Ref, final); err != nil {
		// The document stands at InvoiceXpress; the next attempt adopts it.
		a.log.Error("store the issued document", "ref", e.Ref, "id", final.ID, "err", err)
		return
	}
	a.pt.mu.Lock()
	if a.pt.blocked != "" {
		a.log.Info("InvoiceXpress issues again", "was", a.pt.blocked)
		a.pt.blocked, a.pt.blockedKind = "", ""
	}
	a.pt.mu.Unlock()
	a.log.Info("Portuguese document issued", "ref", e.Ref, "type", final.Type, "number", final.SequenceNumber, "atcud", final.ATCUD)
	stored, err := a.pt.store.PTEntry(ctx, e.Ref)
	if err != nil {
		a.log.Error("read the issued document", "ref", e.Ref, "err", err)
		return
	}
	a.printPT(context.WithoutCancel(ctx), stored, false)
}

// ptFailed decides what a failed attempt means: a refusal of this document
// holds it for a person (the queue goes on); anything else retries it with
// backoff at the head of the queue (order holds), an account-wide refusal
// raising the alarm.
func (a *Agent) ptFailed(ctx context.Context, e queue.PTEntry, err error) {
	kind := posagent.ErrorKind(err)
	switch kind {
	case posagent.KindInvalid, posagent.KindConflict, posagent.KindDuplicate:
		a.log.Error("InvoiceXpress refused a document; it is held for a person, the queue goes on", "ref", e.Ref, "err", err)
		if herr := a.pt.store.PTHold(ctx, e.Ref, err); herr != nil {
			a.log.Error("hold document", "ref", e.Ref, "err", herr)
		}
		return
	case posagent.KindAuth, posagent.KindConfig:
		a.pt.mu.Lock()
		if a.pt.blocked == "" {
			a.log.Error("InvoiceXpress refuses the account; documents wait, sales go on", "err", err)
		}
		a.pt.blocked, a.pt.blockedKind = err.Error(), kind
		a.pt.mu.Unlock()
	}
	if max := a.conf().Sync.MaxAttempts; max > 0 && e.Attempts+1 >= max && kind != posagent.KindTransient && kind != posagent.KindRateLimited {
		if herr := a.pt.store.PTHold(ctx, e.Ref, err); herr != nil {
			a.log.Error("hold document", "ref", e.Ref, "err", herr)
		}
		return
	}
	delay := a.backoff(e.Attempts)
	var pe *posagent.Error
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		delay = pe.RetryAfter
	}
	if kind == posagent.KindAuth || kind == posagent.KindConfig {
		delay = a.conf().Sync.BackoffCap.Duration
	}
	a.log.Warn("document not issued yet; tried again later", "ref", e.Ref, "in", delay.Round(time.Millisecond), "err", err)
	if rerr := a.pt.store.PTRetry(ctx, e.Ref, a.now().Add(delay), err); rerr != nil {
		a.log.Error("record failed attempt", "ref", e.Ref, "err", rerr)
	}
}

// ptSendCancel cancels one issued document. A cancel whose answer was lost is
// settled by reading the document: already cancelled is done.
func (a *Agent) ptSendCancel(ctx context.Context, e queue.PTEntry) {
	a.inflight.Add(1)
	defer a.inflight.Done()
	cctx, cancel := context.WithTimeout(ctx, a.conf().Sync.CallTimeout.Duration)
	defer cancel()
	ctx = context.WithoutCancel(ctx)
	start := a.now()
	err := a.pt.ix.Cancel(cctx, e.Document.Type, e.Document.ID, e.CancelMessage)
	if err != nil {
		if d, gerr := a.pt.ix.Get(cctx, e.Document.Type, e.Document.ID); gerr == nil && d.State == invoicexpress.StateCanceled {
			err = nil
		}
	}
	a.metrics.observeUpload(a.conf().Portugal.Seller.NIF, "pt_cancel", a.now().Sub(start), err)
	a.ptNote(err)
	if err == nil {
		if derr := a.pt.store.PTCancelDone(ctx, e.Ref); derr != nil {
			a.log.Error("record cancel", "ref", e.Ref, "err", derr)
		}
		a.log.Info("Portuguese document cancelled", "ref", e.Ref, "number", e.Document.SequenceNumber)
		return
	}
	hold := posagent.IsKind(err, posagent.KindInvalid) || posagent.IsKind(err, posagent.KindConflict)
	a.log.Warn("cancel not done", "ref", e.Ref, "held_for_a_person", hold, "err", err)
	if ferr := a.pt.store.PTCancelFailed(ctx, e.Ref, hold, err); ferr != nil {
		a.log.Error("record failed cancel", "ref", e.Ref, "err", ferr)
	}
	if !hold {
		// The loop comes back to it on its next pass; do not spin.
		select {
		case <-ctx.Done():
		case <-time.After(a.backoff(1)):
		}
	}
}

// printPT prints a document's receipt: the original the first time, a copy
// ("2ª via") when asked or when an original may already be on paper.
func (a *Agent) printPT(ctx context.Context, e queue.PTEntry, forceCopy bool) PrintReport {
	a.printMu.Lock()
	defer a.printMu.Unlock()
	rep := PrintReport{Required: true}
	if a.printer == nil {
		rep.Reason, rep.Message = ReasonNoPrinter, cashierMessage(ReasonNoPrinter)
		return rep
	}
	if !forceCopy {
		if cur, err := a.pt.store.PTEntry(ctx, e.Ref); err == nil && cur.Print.State == "printed" {
			rep.Printed = true
			return rep
		}
	}
	r := printer.PTReceipt{Doc: *e.Document, Seller: a.ptSeller(), Certification: a.conf().Portugal.Certification,
		Time: e.AcceptedAt, Logger: a.log}
	var sale posagent.PTSale
	if e.Kind == queue.PTKindSale && json.Unmarshal(e.Sale, &sale) == nil && !sale.IssuedAt.IsZero() {
		r.Time = sale.IssuedAt // the time the POS gave for the sale
	}
	if e.Kind == queue.PTKindCreditNote {
		owner, err := a.pt.store.PTEntry(ctx, e.OwnerRef)
		if err != nil || owner.Document == nil {
			rep.Reason, rep.Message = ReasonStore, cashierMessage(ReasonStore)
			return rep
		}
		r.Original = printer.PTDocNumber(*owner.Document)
	}
	copy, err := a.pt.store.PTBeginPrint(ctx, e.Ref)
	if err != nil {
		a.log.Error("begin print", "ref", e.Ref, "err", err)
		rep.Reason, rep.Message, rep.WillRetry = ReasonStore, cashierMessage(ReasonStore), true
		return rep
	}
	r.Copy = copy || forceCopy
	rep.Reprint = r.Copy
	data, err := printer.RenderPT(r, a.pt.profile)
	if err != nil {
		a.log.Error("render Portuguese receipt", "ref", e.Ref, "err", err)
		a.ptFinishPrint(ctx, e.Ref, r.Copy, PrintOutcome{Reason: ReasonRender})
		rep.Reason, rep.Message = ReasonRender, cashierMessage(ReasonRender)
		return rep
	}
	pctx, cancel := context.WithTimeout(ctx, a.printTimeout(len(data)))
	out := a.printer.Print(pctx, data)
	cancel()
	a.ptFinishPrint(ctx, e.Ref, r.Copy, out)
	a.printerSeen(out)
	if out.Printed {
		rep.Printed = true
		a.log.Info("receipt printed", "ref", e.Ref, "number", e.Document.SequenceNumber, "copy", r.Copy)
		return rep
	}
	rep.Reason, rep.Message, rep.WillRetry = out.Reason, cashierMessage(out.Reason), true
	a.log.Warn("receipt not printed; it prints when the printer is back", "ref", e.Ref, "reason", out.Reason)
	return rep
}

func (a *Agent) ptFinishPrint(ctx context.Context, ref string, copy bool, out PrintOutcome) {
	if err := a.pt.store.PTFinishPrint(ctx, ref, out.Printed, copy, out.Reason, out.MayHaveReachedPaper); err != nil {
		a.log.Error("record print outcome", "ref", ref, "err", err)
	}
}

func (a *Agent) ptSeller() posagent.PTSeller {
	s := a.conf().Portugal.Seller
	return posagent.PTSeller{Name: s.Name, NIF: s.NIF, Address: s.Address}
}

// ptPrintPending prints the receipts left pending (printer out of paper,
// a crash mid-print), in sale order, until one fails.
func (a *Agent) ptPrintPending(ctx context.Context) {
	if a.printer == nil {
		return
	}
	es, err := a.pt.store.PTUnprinted(ctx, 50)
	if err != nil || len(es) == 0 {
		return
	}
	if ps, known := a.printerStatus.get(); known && !ps.Ready {
		if st := a.printerStatusNow(ctx); !st.Ready {
			return
		}
	}
	for _, e := range es {
		if ctx.Err() != nil || a.stopping.Load() {
			return
		}
		if e.Print.Attempts >= maxAutoPrintAttempts {
			continue
		}
		if rep := a.printPT(ctx, e, false); !rep.Printed {
			return
		}
	}
}

// printPTSlip prints the "not an invoice" slip of a sale that waits for its document.
func (a *Agent) printPTSlip(ctx context.Context, e queue.PTEntry) *PrintReport {
	a.printMu.Lock()
	defer a.printMu.Unlock()
	rep := &PrintReport{Required: false}
	if a.printer == nil {
		rep.Reason, rep.Message = ReasonNoPrinter, cashierMessage(ReasonNoPrinter)
		return rep
	}
	data, err := printer.RenderPTPending(e.Ref, e.Total, e.AcceptedAt, a.pt.profile)
	if err != nil {
		a.log.Error("render the not-an-invoice slip", "ref", e.Ref, "err", err)
		rep.Reason, rep.Message = ReasonRender, cashierMessage(ReasonRender)
		return rep
	}
	pctx, cancel := context.WithTimeout(ctx, a.printTimeout(len(data)))
	out := a.printer.Print(pctx, data)
	cancel()
	a.printerSeen(out)
	if out.Printed {
		rep.Printed = true
		if err := a.pt.store.PTSlipPrinted(ctx, e.Ref); err != nil {
			a.log.Error("record slip", "ref", e.Ref, "err", err)
		}
		return rep
	}
	rep.Reason, rep.Message = out.Reason, cashierMessage(out.Reason)
	return rep
}

// PTStatusView is the Portuguese part of the status.
type PTStatusView struct {
	DocumentType string `json:"document_type"`
	Region       string `json:"region"`
	DraftsOnly   bool   `json:"drafts_only"`
	Pending      int    `json:"pending"`
	Drafts       int    `json:"drafts"`
	Issued       int    `json:"issued"`
	Held         int    `json:"held"`
	// OldestPending is when the oldest sale not yet issued was accepted.
	OldestPending        time.Time `json:"oldest_pending,omitzero"`
	OldestPendingAge     string    `json:"oldest_pending_age,omitempty"`
	OldestPendingSeconds int64     `json:"oldest_pending_seconds"`
	// Series is the document type's AT validation code as InvoiceXpress last gave it ("N/D": not registered).
	Series          string    `json:"series_validation_code,omitempty"`
	SeriesCheckedAt time.Time `json:"series_checked_at,omitzero"`
	Taxes           int       `json:"taxes_cached"`
	TaxesFetchedAt  time.Time `json:"taxes_fetched_at,omitzero"`
	CancelsPending  int       `json:"cancels_pending"`
	CancelsHeld     int       `json:"cancels_held"`
	Blocked         string    `json:"blocked,omitempty"`
}

// ptStatus fills the status of a Portuguese terminal.
func (a *Agent) ptStatus(ctx context.Context, now time.Time) (Status, error) {
	st, err := a.pt.store.PTStatus(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("status: %w", err)
	}
	taxes, err := a.pt.store.PTTaxes(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("status: %w", err)
	}
	cfg := a.conf().Portugal
	s := Status{Time: now.In(posagent.Lisbon), Alarms: []Alarm{},
		Terminal: TerminalView{MachineID: a.conf().Terminal.MachineID, SellerTaxID: cfg.Seller.NIF, SellerName: cfg.Seller.Name}}
	v := &PTStatusView{DocumentType: cfg.DocumentType, Region: cfg.Region, DraftsOnly: cfg.DraftsOnly, Pending: st.Pending,
		Drafts: st.Drafted, Issued: st.Issued, Held: st.Held, Taxes: len(taxes), CancelsPending: st.CancelsPending, CancelsHeld: st.CancelsHeld}
	if len(taxes) > 0 {
		v.TaxesFetchedAt = taxes[0].FetchedAt.In(posagent.Lisbon)
	}
	a.pt.mu.Lock()
	v.Series, v.SeriesCheckedAt, v.Blocked = a.pt.series, a.pt.seriesAt, a.pt.blocked
	s.Provider = HealthView{Name: "invoicexpress", Online: a.pt.online, LastError: a.pt.lastError, LastErrorAt: a.pt.lastErrorAt,
		LastSuccess: a.pt.lastOK, Paused: a.pt.blocked != "", PauseReason: a.pt.blocked, PauseKind: string(a.pt.blockedKind)}
	a.pt.mu.Unlock()
	if !st.OldestPending.IsZero() {
		age := now.Sub(st.OldestPending)
		v.OldestPending, v.OldestPendingAge, v.OldestPendingSeconds = st.OldestPending.In(posagent.Lisbon), age.Round(time.Second).String(), int64(age.Seconds())
		if st.Pending > 0 && age >= time.Hour {
			s.alarm(LevelWarning, "pt_pending", "%d sales are not issued yet, the oldest for %s: the customers have no invoice until InvoiceXpress is reached",
				st.Pending, age.Round(time.Minute))
		}
	}
	s.Portugal = v
	switch {
	case v.Series == invoicexpress.SeriesNotRegistered:
		s.alarm(LevelCritical, "pt_series", "the InvoiceXpress series of %s has no AT validation code (N/D): nothing is issued until it is registered with AT in InvoiceXpress", cfg.DocumentType)
	case s.Provider.Paused:
		s.alarm(LevelCritical, "provider_config", "InvoiceXpress refuses the account; documents wait, sales go on: %s", s.Provider.PauseReason)
	case !s.Provider.Online:
		s.alarm(LevelInfo, "provider_offline", "InvoiceXpress is unreachable; sales go on and are issued when it is back")
	}
	if head, ok, err := a.pt.store.PTNext(ctx); err == nil && ok && head.Attempts >= ptRetryAlarm {
		// The head of the queue holds every sale behind it.
		s.alarm(LevelWarning, "pt_retrying", "sale %s is not issued after %d attempts (the %d behind it wait): %s",
			head.Ref, head.Attempts, st.Pending-1, head.LastError)
	}
	if st.Held > 0 {
		s.alarm(LevelCritical, "pt_held", "%d documents were refused by InvoiceXpress and need a person: posagent pt list --state held", st.Held)
	}
	if st.CancelsHeld > 0 {
		s.alarm(LevelCritical, "pt_cancel_held", "%d cancels were refused by InvoiceXpress and need a person", st.CancelsHeld)
	}
	if len(taxes) == 0 {
		s.alarm(LevelCritical, "pt_taxes", "the account's taxes are not known yet: sales are refused until the till reaches InvoiceXpress once")
	}
	if cfg.DraftsOnly && st.Drafted > 0 {
		s.alarm(LevelInfo, "pt_drafts", "%d drafts wait to be checked and finalized: posagent pt finalize", st.Drafted)
	}
	a.printerView(&s, st.PrintsPending, "receipts")
	a.settleStatus(&s)
	return s, nil
}

// PTList lists the documents in a state ("pending", "draft", "issued",
// "held"; "" all), in sale order, at most 1000.
func (a *Agent) PTList(ctx context.Context, state string) ([]PTSaleView, error) {
	states := map[string]queue.PTState{"": "", PTStatePending: queue.PTPending, PTStateDraft: queue.PTDrafted,
		PTStateIssued: queue.PTIssued, PTStateHeld: queue.PTHeld}
	st, ok := states[state]
	if !ok {
		return nil, posagent.Invalid("state", "must be pending, draft, issued or held")
	}
	es, err := a.pt.store.PTList(ctx, st, 1000)
	if err != nil {
		return nil, err
	}
	out := make([]PTSaleView, 0, len(es))
	for _, e := range es {
		v, err := a.ptView(ctx, e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// ptResume ends an account-wide block by hand (POST /v1/provider/resume):
// the head of the queue is tried at once.
func (a *Agent) ptResume() ResumeResult {
	a.pt.mu.Lock()
	was := a.pt.blocked != ""
	a.pt.blocked, a.pt.blockedKind = "", ""
	a.pt.mu.Unlock()
	if e, ok, err := a.pt.store.PTNext(context.Background()); err == nil && ok && e.NextAt.After(a.now()) {
		if err := a.pt.store.PTRetry(context.Background(), e.Ref, a.now(), errors.New(e.LastError)); err != nil {
			a.log.Error("resume", "err", err)
		}
	}
	wake(a.pt.wake)
	return ResumeResult{Provider: "invoicexpress", WasPaused: was}
}

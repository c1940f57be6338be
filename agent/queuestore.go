package agent

import (
	"context"
	"strconv"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// QueueStore is the agent's Store on the terminal's SQLite store.
type QueueStore struct {
	S *queue.Store
}

var (
	_ Store         = (*QueueStore)(nil)
	_ InvoiceLister = (*QueueStore)(nil)
	_ Reissuer      = (*QueueStore)(nil)
	_ OrderBook     = (*QueueStore)(nil)
)

// The keys of the proof texts kept with each invoice (queue's Derived).
const (
	derivedBarcode   = "barcode"
	derivedQRLeft    = "qr_left"
	derivedQRRight   = "qr_right"
	derivedQRVersion = "qr_version"
)

func proofFrom(d map[string]string) Proof {
	v, _ := strconv.Atoi(d[derivedQRVersion])
	return Proof{Barcode: d[derivedBarcode], QRLeft: d[derivedQRLeft], QRRight: d[derivedQRRight], QRVersion: v}
}

// Issue stores the sale with its proof texts in the issuing transaction.
func (q *QueueStore) Issue(ctx context.Context, sale posagent.Invoice, owner Owner, derive Coder) (Record, bool, error) {
	issued, err := q.S.Issue(ctx, sale, issueOptions(owner, derive))
	if err != nil {
		return Record{}, false, err
	}
	return q.issued(ctx, issued)
}

// issueOptions numbers from owner's booklets and keeps the proof texts with
// the invoice, derived in the issuing transaction.
func issueOptions(owner Owner, derive Coder) queue.IssueOptions {
	return queue.IssueOptions{Owner: queue.Owner(owner), Derive: func(inv posagent.Invoice) (map[string]string, error) {
		p, err := derive(inv)
		if err != nil {
			return nil, err
		}
		return map[string]string{derivedBarcode: p.Barcode, derivedQRLeft: p.QRLeft, derivedQRRight: p.QRRight,
			derivedQRVersion: strconv.Itoa(p.QRVersion)}, nil
	}}
}

// issued is the record of a fresh issue, or of the stored invoice for a replay.
func (q *QueueStore) issued(ctx context.Context, issued queue.Issued) (Record, bool, error) {
	if issued.Replayed {
		// The POS asks again: answer with what became of the first attempt.
		rec, err := q.Invoice(ctx, issued.Invoice.Number)
		return rec, false, err
	}
	rec := Record{Invoice: issued.Invoice, Proof: proofFrom(issued.Derived), UploadState: StatePending,
		Remaining: issued.Invoice.Total, Print: PrintState{State: "not_needed"}}
	if issued.Invoice.Print {
		rec.Print = PrintState{State: string(queue.PrintPending)}
	}
	return rec, true, nil
}

// Invoice gathers an invoice's record, upload error and events.
func (q *QueueStore) Invoice(ctx context.Context, n posagent.InvoiceNumber) (Record, error) {
	r, err := q.S.Invoice(ctx, n)
	if err != nil {
		return Record{}, err
	}
	rec := recordFrom(r)
	events, err := q.S.Events(ctx, n)
	if err != nil {
		return Record{}, err
	}
	for _, e := range events {
		rec.Events = append(rec.Events, Event{At: e.At.In(posagent.Taipei), Kind: string(e.Kind), Detail: e.Detail})
	}
	return rec, nil
}

// Activity lists the invoices touched in [from, to), without their events.
func (q *QueueStore) Activity(ctx context.Context, from, to time.Time) ([]Record, error) {
	rs, err := q.S.Activity(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]Record, len(rs))
	for i, r := range rs {
		out[i] = recordFrom(r)
	}
	return out, nil
}

// InvoiceBySale finds the invoice of a sale id, without its events.
func (q *QueueStore) InvoiceBySale(ctx context.Context, saleID string) (Record, error) {
	r, err := q.S.InvoiceBySale(ctx, saleID)
	if err != nil {
		return Record{}, err
	}
	return recordFrom(r), nil
}

func recordFrom(r queue.Record) Record {
	rec := Record{Invoice: r.Invoice, Proof: proofFrom(r.Derived), UploadState: string(r.Upload), UploadError: r.UploadError,
		Void: r.Void, Remaining: r.Remaining, Print: PrintState{State: "not_needed"},
		Replaces: r.Replaces, ReplacedBy: r.ReplacedBy, Order: r.Order}
	if p := r.Print; p != nil {
		rec.Print = PrintState{State: string(p.State), OriginalPrinted: p.OriginalSpent, Attempts: p.Attempts, Reason: p.LastError}
	}
	for _, a := range r.Allowances {
		rec.Allowances = append(rec.Allowances, AllowanceRecord{Allowance: a.Allowance,
			Upload: string(a.Upload), UploadError: a.UploadError, VoidedAt: a.VoidedAt, VoidReason: a.VoidReason,
			VoidUpload: string(a.VoidUpload), VoidError: a.VoidError})
	}
	return rec
}

func (q *QueueStore) Void(ctx context.Context, v posagent.Void) error { return q.S.Void(ctx, v) }

func (q *QueueStore) Allow(ctx context.Context, a posagent.Allowance) (posagent.Allowance, error) {
	return q.S.Allow(ctx, a)
}

func (q *QueueStore) VoidAllowance(ctx context.Context, number, reason string) error {
	return q.S.VoidAllowance(ctx, number, reason)
}

func (q *QueueStore) BeginPrint(ctx context.Context, n posagent.InvoiceNumber) (bool, error) {
	return q.S.BeginPrint(ctx, n)
}

func (q *QueueStore) FinishPrint(ctx context.Context, n posagent.InvoiceNumber, printed bool, reason string, may bool) error {
	return q.S.FinishPrint(ctx, n, printed, reason, may)
}

func (q *QueueStore) PendingPrints(ctx context.Context, limit int) ([]posagent.InvoiceNumber, error) {
	jobs, err := q.S.UnprintedJobs(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]posagent.InvoiceNumber, len(jobs))
	for i, j := range jobs {
		out[i] = j.Number
	}
	return out, nil
}

func jobFrom(j queue.Job) Job {
	out := Job{ID: j.ID, Kind: string(j.Kind), Seller: j.JobSeller(), Invoice: j.Invoice, Number: string(j.Invoice.Number), Void: j.Void,
		Allowance: j.Allowance, Reason: j.Reason, Period: j.Period, Blank: j.Blank, Token: j.Token,
		State: string(j.State), Attempts: j.Attempts, LastError: j.LastError, CreatedAt: j.CreatedAt}
	if j.State == queue.JobPending {
		out.NextTry = j.NextAt
	}
	return out
}

func jobTo(j Job) queue.Job {
	return queue.Job{ID: j.ID, Token: j.Token, Kind: queue.JobKind(j.Kind), Allowance: j.Allowance}
}

func (q *QueueStore) Claim(ctx context.Context, sellers []string, max int, lease time.Duration) ([]Job, error) {
	jobs, err := q.S.ClaimSellers(ctx, sellers, max, lease)
	if err != nil {
		return nil, err
	}
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		out[i] = jobFrom(j)
	}
	return out, nil
}

func (q *QueueStore) Done(ctx context.Context, j Job) error { return q.S.Done(ctx, jobTo(j)) }

func (q *QueueStore) DoneAllowance(ctx context.Context, j Job, providerNumber string) error {
	return q.S.DoneAllowance(ctx, jobTo(j), providerNumber)
}

func (q *QueueStore) Retry(ctx context.Context, j Job, at time.Time, cause error) error {
	return q.S.Retry(ctx, jobTo(j), at, cause)
}

func (q *QueueStore) Postpone(ctx context.Context, j Job, at time.Time) error {
	return q.S.Postpone(ctx, jobTo(j), at)
}

func (q *QueueStore) Dead(ctx context.Context, j Job, reason error) error {
	return q.S.Dead(ctx, jobTo(j), reason)
}

func (q *QueueStore) Jobs(ctx context.Context, state string, limit int) ([]Job, error) {
	jobs, err := q.S.Jobs(ctx, queue.JobState(state), limit)
	if err != nil {
		return nil, err
	}
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		out[i] = jobFrom(j)
	}
	return out, nil
}

func (q *QueueStore) Revive(ctx context.Context, id int64) error { return q.S.Revive(ctx, id) }

func (q *QueueStore) Resolve(ctx context.Context, id int64, note string) error {
	return q.S.Resolve(ctx, id, note)
}

func (q *QueueStore) AddBooklet(ctx context.Context, b posagent.Booklet) error {
	_, err := q.S.AddBooklet(ctx, b)
	return err
}

func (q *QueueStore) Booklets(ctx context.Context) ([]BookletInfo, error) {
	return bookletInfos(q.S.Booklets(ctx, posagent.Period{}))
}

func (q *QueueStore) BlankBooklets(ctx context.Context, p posagent.Period) ([]BookletInfo, error) {
	return bookletInfos(q.S.BlankBooklets(ctx, p))
}

func bookletInfos(bs []queue.BookletInfo, err error) ([]BookletInfo, error) {
	if err != nil {
		return nil, err
	}
	out := make([]BookletInfo, len(bs))
	for i, b := range bs {
		out[i] = BookletInfo{Booklet: b.Booklet, Left: b.Left, Unused: b.Unused, Retired: b.Retired()}
	}
	return out, nil
}

func (q *QueueStore) NumbersLeft(ctx context.Context, owner Owner, p posagent.Period) (int, error) {
	return q.S.OwnerPeriodLeft(ctx, p, queue.Owner(owner))
}

// AdoptBooklets gives the booklets of no seller to seller (the default).
func (q *QueueStore) AdoptBooklets(ctx context.Context, seller string) (int, error) {
	return q.S.AdoptBooklets(ctx, seller)
}

func (q *QueueStore) SellerStats(ctx context.Context, sellers []string) (SellerStats, error) {
	sq, err := q.S.SellerJobs(ctx, sellers)
	if err != nil {
		return SellerStats{}, err
	}
	out := SellerStats{Jobs: map[string]int{}}
	for k, v := range sq.Jobs {
		out.Jobs[string(k)] = v
	}
	out.OldestUnsent, out.OldestIssuedAt, out.OldestKind = oldest(sq.Oldest)
	return out, nil
}

// oldest is the oldest unsent job's invoice, when its deadline started and
// its kind (zero values for none).
func oldest(u *queue.Unsent) (posagent.InvoiceNumber, time.Time, string) {
	if u == nil {
		return "", time.Time{}, ""
	}
	if u.Kind == queue.JobUpload && !u.IssuedAt.IsZero() {
		// An upload's legal deadline runs from the invoice's issue time.
		return u.Number, u.IssuedAt, string(u.Kind)
	}
	return u.Number, u.Since, string(u.Kind)
}

func (q *QueueStore) RetirePeriod(ctx context.Context, p posagent.Period) ([]posagent.Booklet, error) {
	return q.S.RetirePeriod(ctx, p)
}

func (q *QueueStore) Stats(ctx context.Context) (Stats, error) {
	st, err := q.S.Status(ctx)
	if err != nil {
		return Stats{}, err
	}
	out := Stats{Jobs: map[string]int{}, LastUpload: st.LastUpload, PrintsPending: st.Unprinted}
	for k, v := range st.Jobs {
		out.Jobs[string(k)] = v
	}
	out.OldestUnsent, out.OldestIssuedAt, out.OldestKind = oldest(st.OldestUnsent)
	return out, nil
}

// ReleaseClaims hands back the claims a crashed run left, so that their jobs
// need not wait for the lease to run out.
func (q *QueueStore) ReleaseClaims(ctx context.Context) (int, error) { return q.S.ReleaseClaims(ctx) }

func (q *QueueStore) Close() error { return q.S.Close() }

// PrintState reads the state of an invoice's proof.
func (q *QueueStore) PrintState(ctx context.Context, n posagent.InvoiceNumber) (PrintState, error) {
	p, err := q.S.PrintJob(ctx, n)
	if err != nil {
		return PrintState{}, err
	}
	return PrintState{State: string(p.State), OriginalPrinted: p.OriginalSpent, Attempts: p.Attempts, Reason: p.LastError}, nil
}

// Reissue voids v.Number and issues sale in its place in one transaction.
func (q *QueueStore) Reissue(ctx context.Context, v posagent.Void, sale posagent.Invoice, owner Owner, derive Coder) (posagent.Void, Record, bool, error) {
	re, err := q.S.Reissue(ctx, v, sale, issueOptions(owner, derive))
	if err != nil {
		return posagent.Void{}, Record{}, false, err
	}
	rec, created, err := q.issued(ctx, re.Issued)
	return re.Void, rec, created, err
}

func orderFrom(o queue.Order) Order {
	return Order{ID: o.ID, State: string(o.State), Sale: o.Sale, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		Invoice: string(o.Invoice), CancelReason: o.CancelReason}
}

func (q *QueueStore) AddOrder(ctx context.Context, sale posagent.Invoice) (Order, bool, error) {
	o, created, err := q.S.AddOrder(ctx, sale)
	return orderFrom(o), created, err
}

func (q *QueueStore) Order(ctx context.Context, id string) (Order, error) {
	o, err := q.S.Order(ctx, id)
	return orderFrom(o), err
}

func (q *QueueStore) Orders(ctx context.Context, state string, limit int) ([]Order, error) {
	os, err := q.S.Orders(ctx, queue.OrderState(state), limit)
	if err != nil {
		return nil, err
	}
	out := make([]Order, len(os))
	for i, o := range os {
		out[i] = orderFrom(o)
	}
	return out, nil
}

func (q *QueueStore) CancelOrder(ctx context.Context, id, reason string) (Order, error) {
	o, err := q.S.CancelOrder(ctx, id, reason)
	return orderFrom(o), err
}

func (q *QueueStore) IssueOrder(ctx context.Context, id string, at time.Time, owner Owner, derive Coder) (Record, bool, error) {
	issued, err := q.S.IssueOrder(ctx, id, at, issueOptions(owner, derive))
	if err != nil {
		return Record{}, false, err
	}
	return q.issued(ctx, issued)
}

func (q *QueueStore) OrderCounts(ctx context.Context, staleBefore time.Time) (int, int, time.Time, error) {
	return q.S.OrderCounts(ctx, staleBefore)
}

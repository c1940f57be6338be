package agent

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// The daily reconciliation (issue 15; README "Daily reconciliation and
// period close-out"). posagent knows what it sent; a run asks the provider
// what it holds of one day's documents, checks the day's numbers locally,
// queues again what the provider lacks, and keeps what needs a person as
// findings: an alarm in status, metrics, the console and a CSV report. Since
// 2025 a correction the seller makes before the tax office notices is not
// fined (turnkey.md §5): the point is to know first.

// ReconcileStore is a Store that keeps reconciliations (the SQLite store).
type ReconcileStore interface {
	ReconcileDocs(ctx context.Context, from, to time.Time) ([]queue.ReconcileDoc, error)
	PeriodNumbers(ctx context.Context, p posagent.Period) ([]queue.BookletInfo, []queue.IssuedNumber, error)
	Requeue(ctx context.Context, kind queue.JobKind, number posagent.InvoiceNumber, allowanceNumber, note string) (int64, error)
	SaveReconcile(ctx context.Context, run queue.ReconcileRun, findings []queue.Finding, checked []string) (queue.ReconcileRun, error)
	ReconcileRuns(ctx context.Context, limit int) ([]queue.ReconcileRun, error)
	LatestRun(ctx context.Context, day, trigger string) (queue.ReconcileRun, bool, error)
	RunFindings(ctx context.Context, runID int64) ([]queue.Finding, error)
	OpenFindings(ctx context.Context) ([]queue.Finding, error)
	PeriodFindings(ctx context.Context, p posagent.Period) ([]queue.Finding, error)
	PeriodOpenJobs(ctx context.Context, p posagent.Period) (map[queue.JobKind]int, error)
	PeriodBlankReport(ctx context.Context, p posagent.Period) (queue.BlankReport, error)
	PeriodIssued(ctx context.Context, p posagent.Period) (bool, error)
	Booklets(ctx context.Context, p posagent.Period) ([]queue.BookletInfo, error)
}

var _ ReconcileStore = (*queue.Store)(nil)

func (a *Agent) reconcileStore() (ReconcileStore, error) {
	if q, ok := a.store.(*QueueStore); ok {
		return q.S, nil
	}
	return nil, posagent.Errorf(posagent.KindInternal, "this store cannot keep reconciliations")
}

// The kinds of finding. Each has its own line in the README.
const (
	FindMissing          = "missing"           // the provider does not hold the invoice: upload queued again
	FindVoidMissing      = "void_missing"      // the void did not land: queued again
	FindAllowanceMissing = "allowance_missing" // the allowance did not land: queued again
	FindAllowanceVoid    = "allowance_void_missing"
	FindNoJob            = "no_job"             // a document with no upload job
	FindAmount           = "amount_differs"     // the provider holds another amount
	FindRemaining        = "remaining_differs"  // the amount left after allowances differs
	FindRejected         = "rejected"           // the platform refused it (E)
	FindNotAccepted      = "not_accepted"       // at the platform, no verdict yet (G/P)
	FindAnswerLost       = "answer_lost"        // done, but the provider's answer (its allowance number) was lost
	FindSkipped          = "skipped_number"     // 跳號: a number before the booklet's highest issued one never issued
	FindOutOfOrder       = "out_of_order"       // issued after a higher number of its booklet
	FindDateOrder        = "date_order"         // a higher number with an earlier date in the track (E0209)
	FindSummary          = "summary_differs"    // the platform's day summary counts another number
	FindProviderNotAsked = "provider_not_asked" // the provider could not be asked
)

// findingKinds are every kind, in the order reports list them.
var findingKinds = []string{FindMissing, FindVoidMissing, FindAllowanceMissing, FindAllowanceVoid, FindNoJob,
	FindAmount, FindRemaining, FindRejected, FindNotAccepted, FindAnswerLost, FindSkipped, FindOutOfOrder,
	FindDateOrder, FindSummary, FindProviderNotAsked}

// localKinds are checked on every run, whether the provider answers or not.
var localKinds = []string{FindNoJob, FindAnswerLost, FindSkipped, FindOutOfOrder, FindDateOrder, FindProviderNotAsked}

// reconcileBatch bounds one Holdings call.
const reconcileBatch = 50

// Triggers of a run.
const (
	TriggerSchedule = "schedule"
	TriggerDemand   = "demand"
)

// RunView is one reconciliation as the API shows it.
type RunView struct {
	ID         int64     `json:"id"`
	Day        string    `json:"date"`
	Trigger    string    `json:"trigger"`
	Provider   string    `json:"provider"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Documents  int       `json:"documents"`
	Asked      int       `json:"asked"`
	Mended     int       `json:"mended"`
	Findings   int       `json:"findings"`
	Clean      bool      `json:"clean"`
	Summary    string    `json:"summary,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// FindingView is one difference as the API shows it.
type FindingView struct {
	Day        string    `json:"date"`
	Kind       string    `json:"kind"`
	Level      string    `json:"level"`
	Number     string    `json:"invoice,omitempty"`
	Document   string    `json:"document,omitempty"`
	Difference string    `json:"difference"`
	Fix        string    `json:"fix"`
	Mended     bool      `json:"mended"`
	IssuedAt   time.Time `json:"issued_at,omitzero"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
}

// ReconcileResult is what a run found.
type ReconcileResult struct {
	Run      RunView       `json:"run"`
	Findings []FindingView `json:"findings"`
	// Report is the CSV file written for the day ("" when it could not be).
	Report string `json:"report,omitempty"`
}

// runView shows a run; a clean day is one where nothing differed and the
// provider answered every question.
func runView(r queue.ReconcileRun, findings []queue.Finding) RunView {
	return RunView{ID: r.ID, Day: r.Day, Trigger: r.Trigger, Provider: r.Provider, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Documents: r.Documents, Asked: r.Asked, Mended: r.Mended, Findings: len(findings), Clean: r.Error == "" && len(findings) == 0,
		Summary: r.Summary, Error: r.Error}
}

func findingView(f queue.Finding) FindingView {
	return FindingView{Day: f.Day, Kind: f.Kind, Level: f.Level, Number: string(f.Number), Document: f.Document,
		Difference: f.Difference, Fix: f.Fix, Mended: f.Mended, IssuedAt: f.IssuedAt, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen}
}

func findingViews(fs []queue.Finding) []FindingView {
	out := make([]FindingView, len(fs))
	for i, f := range fs {
		out[i] = findingView(f)
	}
	return out
}

// reconcileState keeps one run at a time, and the close-out checklists
// status shows (a run makes them stale).
type reconcileState struct {
	sem      chan struct{} // holds the run in progress
	guard    sync.Mutex    // guards closeOut
	closeOut map[posagent.Period]cachedCloseOut
}

// ParseDay reads a day YYYY-MM-DD as its first instant in Taipei.
func ParseDay(s string) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, s, posagent.Taipei)
	if err != nil {
		return time.Time{}, posagent.Invalid("date", "%q is not a day YYYY-MM-DD", s)
	}
	return d, nil
}

// dayOf is the first instant of t's day in Taipei.
func dayOf(t time.Time) time.Time {
	t = t.In(posagent.Taipei)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, posagent.Taipei)
}

// Reconcile checks one day (its first instant, Taipei) with the provider and
// locally, mends what posagent can, stores the findings and writes the day's
// CSV report. One run at a time: a second waits for the first.
func (a *Agent) Reconcile(ctx context.Context, day time.Time, trigger string) (ReconcileResult, error) {
	rs, err := a.reconcileStore()
	if err != nil {
		return ReconcileResult{}, err
	}
	day = dayOf(day)
	if day.After(a.now()) {
		return ReconcileResult{}, posagent.Invalid("date", "%s has not begun: reconcile a day that has", day.Format(time.DateOnly))
	}
	// One run at a time: a second waits for the first (a scheduled run and
	// one asked for by hand may meet), or gives up with its caller.
	st := &a.reconcile
	select {
	case st.sem <- struct{}{}:
	case <-ctx.Done():
		return ReconcileResult{}, &posagent.Error{Kind: posagent.KindTransient, Field: "date",
			Message: "another reconciliation is running: ask again when it is done", Err: ctx.Err()}
	}
	defer func() {
		<-st.sem
		st.guard.Lock()
		st.closeOut = nil
		st.guard.Unlock()
	}()

	r := reconciliation{a: a, rs: rs, day: day, prov: a.defaultSeller().prov(),
		run: queue.ReconcileRun{Day: day.Format(time.DateOnly), Trigger: trigger, StartedAt: a.now()}}
	checked, err := r.check(ctx)
	if err != nil {
		return ReconcileResult{}, err
	}
	saved, err := rs.SaveReconcile(ctx, r.run, r.findings, checked)
	if err != nil {
		return ReconcileResult{}, err
	}
	stored, err := rs.RunFindings(ctx, saved.ID)
	if err != nil {
		return ReconcileResult{}, err
	}
	res := ReconcileResult{Run: runView(saved, stored), Findings: findingViews(stored)}
	if path, err := a.writeReport(saved.Day, stored); err != nil {
		a.log.Error("reconciliation report", "date", saved.Day, "err", err)
	} else {
		res.Report = path
	}
	a.metrics.observeReconcile(saved, stored)
	attrs := []any{"date", saved.Day, "trigger", trigger, "documents", saved.Documents, "asked", saved.Asked,
		"mended", saved.Mended, "findings", saved.Findings}
	switch {
	case saved.Error != "":
		a.log.Warn("reconciliation could not ask the provider", append(attrs, "err", saved.Error)...)
	case res.Run.Clean:
		a.log.Info("reconciliation: the day is clean", attrs...)
	default:
		a.log.Warn("reconciliation found differences", attrs...)
	}
	return res, nil
}

// reconciliation is one run in progress.
type reconciliation struct {
	a  *Agent
	rs ReconcileStore
	// prov is the provider being asked (the default seller's for the local
	// checks): the fixes name it, and it is told of a document lost.
	prov     posagent.Provider
	day      time.Time
	run      queue.ReconcileRun
	findings []queue.Finding
	// remaining are the remaining-amount differences seen, and mendedAllowance
	// the invoices whose allowance (or its void) was queued again.
	remaining       []remainingDiff
	mendedAllowance map[posagent.InvoiceNumber]bool
}

type remainingDiff struct {
	doc    queue.ReconcileDoc
	held   int64
	detail string
	title  string
}

// reportRemaining reports the remaining-amount differences that no
// allowance queued again explains, once per invoice.
func (r *reconciliation) reportRemaining() {
	seen := map[posagent.InvoiceNumber]bool{}
	for _, d := range r.remaining {
		if r.mendedAllowance[d.doc.Number] || seen[d.doc.Number] {
			continue
		}
		seen[d.doc.Number] = true
		doc := d.doc
		doc.Kind = posagent.DocInvoice
		r.find(FindRemaining, LevelWarning, &doc, "%s holds NT$%d left after allowances, posagent NT$%d%s", d.title, d.held, doc.Remaining, d.detail)
	}
	r.remaining = nil
}

func (r *reconciliation) find(kind, level string, d *queue.ReconcileDoc, format string, args ...any) *queue.Finding {
	f := queue.Finding{Kind: kind, Level: level, Difference: fmt.Sprintf(format, args...), Fix: fixFor(kind, r.prov.Name())}
	f.Key = kind
	if d != nil {
		f.Number, f.Document, f.IssuedAt = d.Number, docName(*d), d.IssuedAt
		f.Key += "|" + string(d.Number) + "|" + f.Document
	}
	r.findings = append(r.findings, f)
	return &r.findings[len(r.findings)-1]
}

func docName(d queue.ReconcileDoc) string {
	switch d.Kind {
	case posagent.DocAllowance:
		return "allowance " + d.AllowanceNumber
	case posagent.DocAllowanceVoid:
		return "allowance void " + d.AllowanceNumber
	}
	return string(d.Kind)
}

// check runs the checks and returns the kinds it checked in full (their
// findings not seen again are cleared).
func (r *reconciliation) check(ctx context.Context) ([]string, error) {
	docs, err := r.rs.ReconcileDocs(ctx, r.day, r.day.AddDate(0, 0, 1))
	if err != nil {
		return nil, err
	}
	r.run.Documents = len(docs)
	if err := r.checkNumbers(ctx); err != nil {
		return nil, err
	}
	checked := append([]string(nil), localKinds...)
	complete := true
	for _, t := range r.a.reconcileTargets(docs) {
		r.run.Provider = joinName(r.run.Provider, t.provider.Name())
		complete = r.checkProvider(ctx, t) && complete
	}
	if complete {
		// Every provider answered: what they no longer show is gone.
		checked = findingKinds
	}
	return checked, nil
}

func joinName(list, name string) string {
	if list == "" {
		return name
	}
	return list + "," + name
}

// reconcileTarget is one seller's provider and the documents it was sent:
// the run is per seller and provider.
type reconcileTarget struct {
	provider posagent.Provider
	docs     []queue.ReconcileDoc
}

// reconcileTargets splits the day's documents by seller, the default first.
// A document of a seller no longer configured goes with the default's.
func (a *Agent) reconcileTargets(docs []queue.ReconcileDoc) []reconcileTarget {
	bySeller := map[*seller][]queue.ReconcileDoc{}
	for _, d := range docs {
		s := a.sellerByTax(d.SellerTaxID)
		if s == nil {
			s = a.defaultSeller()
		}
		bySeller[s] = append(bySeller[s], d)
	}
	var out []reconcileTarget
	for _, s := range a.sellers {
		if ds := bySeller[s]; len(ds) > 0 || s == a.defaultSeller() {
			out = append(out, reconcileTarget{provider: s.prov(), docs: ds})
		}
	}
	return out
}

// checkProvider asks the provider about the target's documents that were
// sent (their latest job done) or never queued; it reports whether every
// question was answered.
func (r *reconciliation) checkProvider(ctx context.Context, t reconcileTarget) bool {
	r.prov = t.provider
	name := t.provider.Name()
	_, numbersAllowances := t.provider.(posagent.AllowanceIssuer)
	var ask []queue.ReconcileDoc
	for _, d := range t.docs {
		switch {
		case d.JobID == 0:
			ask = append(ask, d)
		case d.JobState == queue.JobDone:
			ask = append(ask, d)
			if d.Kind == posagent.DocAllowance && numbersAllowances && d.ProviderNumber == "" {
				r.find(FindAnswerLost, LevelWarning, &d, "%s took allowance %s but its answer, %s's number for the allowance, was lost: the allowance cannot be voided through posagent",
					providerTitle(name), d.AllowanceNumber, providerTitle(name))
			}
		}
	}
	rec, canAsk := t.provider.(posagent.Reconciler)
	if !canAsk {
		r.cannotAsk(ctx, ask, name, "")
		return false
	}
	complete := true
	for start := 0; start < len(ask); start += reconcileBatch {
		batch := ask[start:min(start+reconcileBatch, len(ask))]
		refs := make([]posagent.DocRef, len(batch))
		for i, d := range batch {
			refs[i] = refOf(d)
		}
		cctx, cancel := context.WithTimeout(ctx, r.a.conf().Sync.CallTimeout.Duration*time.Duration(1+len(batch)/10))
		hs, err := rec.Holdings(cctx, refs)
		cancel()
		if err == nil && len(hs) != len(refs) {
			err = fmt.Errorf("%s answered %d holdings for %d documents", name, len(hs), len(refs))
		}
		if errors.Is(err, posagent.ErrNotReconcilable) {
			// Not a failure of this question: this provider cannot be asked
			// at all (a bridge receiver without the status call).
			r.cannotAsk(ctx, ask, name, messageOf(err))
			return false
		}
		r.run.Asked += len(batch)
		if err != nil {
			complete = false
			r.run.Error = joinName(r.run.Error, fmt.Sprintf("%s: %v", name, err))
			r.find(FindProviderNotAsked, LevelWarning, nil, "%s could not be asked what it holds of %d documents: %v", providerTitle(name), len(batch), messageOf(err))
			continue
		}
		for i, h := range hs {
			r.compare(ctx, &batch[i], h, name)
		}
	}
	r.reportRemaining()
	if sum, ok := t.provider.(posagent.DaySummarizer); ok && complete {
		complete = r.compareSummary(ctx, sum, t, name) && complete
	}
	return complete
}

// refOf is the question a reconciliation asks about a document.
func refOf(d queue.ReconcileDoc) posagent.DocRef {
	ref := posagent.DocRef{Kind: d.Kind, Number: d.Number, AllowanceNumber: d.AllowanceNumber, ProviderNumber: d.ProviderNumber,
		SaleID: d.SaleID, SellerTaxID: d.SellerTaxID, IssuedAt: d.IssuedAt, Amount: d.Amount, Remaining: d.Remaining}
	if d.Kind == posagent.DocVoid {
		// A void is asked about by its invoice.
		ref.IssuedAt = d.InvoiceIssuedAt
	}
	return ref
}

// cannotAsk is a provider that cannot say what it holds: only the local
// checks run, and documents without a job are queued all the same (the
// provider's idempotency keeps a second copy out).
func (r *reconciliation) cannotAsk(ctx context.Context, docs []queue.ReconcileDoc, name, why string) {
	for i := range docs {
		if docs[i].JobID == 0 {
			r.mend(ctx, &docs[i], name, FindNoJob)
		}
	}
	msg := providerTitle(name) + " cannot be asked what it holds: only the local checks ran"
	if why != "" {
		msg += " (" + why + ")"
	}
	r.run.Summary = joinName(r.run.Summary, msg)
}

// compare turns one holding into findings and mends.
func (r *reconciliation) compare(ctx context.Context, d *queue.ReconcileDoc, h posagent.Holding, name string) {
	title := providerTitle(name)
	if !h.Found {
		kind := map[posagent.DocKind]string{posagent.DocInvoice: FindMissing, posagent.DocVoid: FindVoidMissing,
			posagent.DocAllowance: FindAllowanceMissing, posagent.DocAllowanceVoid: FindAllowanceVoid}[d.Kind]
		if d.JobID == 0 {
			kind = FindNoJob
		}
		r.mend(ctx, d, name, kind)
		return
	}
	if d.JobID == 0 {
		r.find(FindNoJob, LevelInfo, d, "%s had no job in posagent, yet %s holds it", docName(*d), title)
	}
	detail := ""
	if h.Detail != "" {
		detail = " (" + h.Detail + ")"
	}
	if h.HasAmount && h.Amount != d.Amount {
		r.find(FindAmount, LevelCritical, d, "%s holds NT$%d, posagent issued NT$%d%s", title, h.Amount, d.Amount, detail)
	}
	if h.HasRemaining && h.Remaining != d.Remaining && d.Kind != posagent.DocVoid {
		// Kept back until the batch is done: an allowance found missing and
		// queued again explains the difference, which is then not reported.
		r.remaining = append(r.remaining, remainingDiff{doc: *d, held: h.Remaining, detail: detail, title: title})
	}
	switch h.Acceptance {
	case posagent.AcceptRejected:
		r.find(FindRejected, LevelCritical, d, "the platform rejected the %s%s", docName(*d), detail)
	case posagent.AcceptPending:
		r.find(FindNotAccepted, LevelInfo, d, "at %s, not yet accepted by the platform%s", title, detail)
	}
}

// mend queues a document again that the provider does not hold, with an
// event on the invoice. Never for a document the provider holds.
func (r *reconciliation) mend(ctx context.Context, d *queue.ReconcileDoc, name, kind string) {
	title := providerTitle(name)
	jobKind := map[posagent.DocKind]queue.JobKind{posagent.DocInvoice: queue.JobUpload, posagent.DocVoid: queue.JobVoid,
		posagent.DocAllowance: queue.JobAllowance, posagent.DocAllowanceVoid: queue.JobAllowanceVoid}[d.Kind]
	what := map[posagent.DocKind]string{posagent.DocInvoice: "upload", posagent.DocVoid: "void",
		posagent.DocAllowance: "allowance", posagent.DocAllowanceVoid: "allowance void"}[d.Kind]
	why := "not at " + title
	if d.JobID == 0 {
		why = "no job in posagent"
	}
	note := fmt.Sprintf("reconcile %s: %s, %s queued again", r.run.Day, why, what)
	if d.Kind == posagent.DocAllowance || d.Kind == posagent.DocAllowanceVoid {
		note = fmt.Sprintf("reconcile %s: allowance %s %s, %s queued again", r.run.Day, d.AllowanceNumber, why, what)
	}
	if rs, ok := r.prov.(posagent.Resender); ok && d.JobID != 0 {
		// The provider would take the job for done from its own memory.
		if err := rs.Lost(ctx, refOf(*d)); err != nil {
			r.find(kind, LevelCritical, d, "%s does not hold the %s and could not be told to send it again: %v", title, docName(*d), messageOf(err))
			return
		}
	}
	if _, err := r.rs.Requeue(ctx, jobKind, d.Number, d.AllowanceNumber, note); err != nil {
		r.find(kind, LevelCritical, d, "%s does not hold the %s and queuing it again failed: %v", title, docName(*d), messageOf(err))
		return
	}
	r.run.Mended++
	if d.Kind == posagent.DocAllowance || d.Kind == posagent.DocAllowanceVoid {
		if r.mendedAllowance == nil {
			r.mendedAllowance = map[posagent.InvoiceNumber]bool{}
		}
		r.mendedAllowance[d.Number] = true
	}
	f := r.find(kind, LevelInfo, d, "%s: %s queued again", why, what)
	f.Mended = true
	r.a.wakeSync()
}

// compareSummary compares the platform's counts of the day with what
// posagent sent; it reports whether the summary could be asked.
func (r *reconciliation) compareSummary(ctx context.Context, sum posagent.DaySummarizer, t reconcileTarget, name string) bool {
	cctx, cancel := context.WithTimeout(ctx, r.a.conf().Sync.CallTimeout.Duration)
	s, ok, err := sum.DaySummary(cctx, r.day)
	cancel()
	if errors.Is(err, posagent.ErrNotReconcilable) {
		r.run.Summary = joinName(r.run.Summary, "no day summary from "+providerTitle(name)+": "+messageOf(err))
		return true
	}
	if err != nil {
		r.run.Error = joinName(r.run.Error, fmt.Sprintf("%s day summary: %v", name, err))
		r.find(FindProviderNotAsked, LevelWarning, nil, "%s's day summary could not be read: %v", providerTitle(name), messageOf(err))
		return false
	}
	if !ok {
		r.run.Summary = joinName(r.run.Summary, "the platform's summary of the day is not out yet")
		return true
	}
	sent := map[string]int{}
	message := map[posagent.DocKind]string{posagent.DocInvoice: "F0401", posagent.DocVoid: "F0501",
		posagent.DocAllowance: "G0401", posagent.DocAllowanceVoid: "G0501"}
	for _, d := range t.docs {
		if d.JobState == queue.JobDone {
			sent[message[d.Kind]]++
		}
	}
	names := []string{"F0401", "F0501", "G0401", "G0501"}
	var parts []string
	for _, m := range names {
		c := s.Messages[m]
		parts = append(parts, fmt.Sprintf("%s %d/%d", m, c.Total, sent[m]))
		switch {
		case c.Total != sent[m]:
			r.findingSummary(m, "the platform counts %d %s for the day, posagent sent %d", c.Total, m, sent[m])
		case c.Failed > 0:
			r.findingSummary(m, "the platform counts %d of %d %s of the day as failed", c.Failed, c.Total, m)
		}
	}
	for m, c := range s.Messages {
		if !strings.HasPrefix(m, "F") && !strings.HasPrefix(m, "G") || sent[m] > 0 || containsString(names, m) || c.Total == 0 {
			continue
		}
		r.findingSummary(m, "the platform counts %d %s for the day, posagent sent none", c.Total, m)
	}
	r.run.Summary = joinName(r.run.Summary, "platform/posagent: "+strings.Join(parts, " "))
	return true
}

func (r *reconciliation) findingSummary(message, format string, args ...any) {
	f := r.find(FindSummary, LevelWarning, nil, format, args...)
	f.Key += "|" + message
	f.Document = message
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// checkNumbers looks at the numbers of the day's period: a number skipped
// within a booklet (跳號), one issued after a higher number of its booklet,
// and a higher number with an earlier date in the track (E0209). A finding is
// kept on the day of the invoice that shows it.
func (r *reconciliation) checkNumbers(ctx context.Context) error {
	p := posagent.PeriodOf(r.day)
	booklets, issued, err := r.rs.PeriodNumbers(ctx, p)
	if err != nil {
		return err
	}
	onDay := func(t time.Time) bool { return dayOf(t).Equal(r.day) }
	byBooklet := map[int64][]queue.IssuedNumber{}
	for _, n := range issued {
		byBooklet[n.BookletID] = append(byBooklet[n.BookletID], n)
	}
	for _, b := range booklets {
		ns := byBooklet[b.ID]
		// In issue order, each number must be higher than every one before.
		high := -1
		var highNumber posagent.InvoiceNumber
		used := map[int]queue.IssuedNumber{}
		for _, n := range ns {
			seq := n.Number.Seq()
			used[seq] = n
			if seq < high && onDay(n.IssuedAt) {
				d := queue.ReconcileDoc{Kind: posagent.DocInvoice, Number: n.Number, IssuedAt: n.IssuedAt}
				r.find(FindOutOfOrder, LevelWarning, &d, "%s was issued after %s, a higher number of its booklet %s", n.Number, highNumber, b.String())
			}
			if seq > high {
				high, highNumber = seq, n.Number
			}
		}
		// A number below the highest issued one that was never issued; the
		// unused tail of a booklet is not a gap (it is reported blank).
		var gap []int
		for seq := b.First; seq < high; seq++ {
			if _, ok := used[seq]; !ok {
				gap = append(gap, seq)
			}
		}
		for len(gap) > 0 {
			end := 1
			for end < len(gap) && gap[end] == gap[end-1]+1 {
				end++
			}
			first, last := gap[0], gap[end-1]
			gap = gap[end:]
			// The gap shows at the first number issued after it.
			next := used[last+1]
			for seq := last + 1; next.Number == "" && seq <= high; seq++ {
				next = used[seq]
			}
			if !onDay(next.IssuedAt) {
				continue
			}
			what := fmt.Sprintf("%s%08d", b.Track, first)
			if last > first {
				what = fmt.Sprintf("%s%08d–%s%08d (%d numbers)", b.Track, first, b.Track, last, last-first+1)
			}
			d := queue.ReconcileDoc{Kind: posagent.DocInvoice, Number: next.Number, IssuedAt: next.IssuedAt}
			f := r.find(FindSkipped, LevelCritical, &d, "%s never issued in booklet %s, though %s was", what, b.String(), next.Number)
			f.Key += "|" + what
			f.Document = "numbers " + what
		}
	}
	// E0209: within a track, a higher number must not carry an earlier date.
	byTrack := map[string][]queue.IssuedNumber{}
	for _, n := range issued {
		byTrack[n.Number.Track()] = append(byTrack[n.Number.Track()], n)
	}
	for _, ns := range byTrack {
		sort.Slice(ns, func(i, j int) bool { return ns[i].Number.Seq() < ns[j].Number.Seq() })
		var latest time.Time
		var latestNumber posagent.InvoiceNumber
		for _, n := range ns {
			d := dayOf(n.IssuedAt)
			if d.Before(latest) && onDay(n.IssuedAt) {
				doc := queue.ReconcileDoc{Kind: posagent.DocInvoice, Number: n.Number, IssuedAt: n.IssuedAt}
				r.find(FindDateOrder, LevelCritical, &doc, "%s is dated %s, before %s dated %s: the platform refuses a higher number with an earlier date (E0209)",
					n.Number, d.Format(time.DateOnly), latestNumber, latest.Format(time.DateOnly))
			}
			if d.After(latest) {
				latest, latestNumber = d, n.Number
			}
		}
	}
	return nil
}

// fixFor says what to do about a finding of a kind.
func fixFor(kind, provider string) string {
	title := providerTitle(provider)
	switch kind {
	case FindMissing, FindVoidMissing, FindAllowanceMissing, FindAllowanceVoid:
		return "none: posagent queued it again; the next run checks that it landed (if the new job dies, see posagent jobs --dead)"
	case FindNoJob:
		return "none: posagent queued it; if this recurs, report it as a bug"
	case FindAmount:
		return "compare the invoice in " + title + "'s back office with posagent's (posagent invoice N); correct it there with an allowance or a void and a new invoice"
	case FindRemaining:
		return "compare the invoice's allowances in " + title + "'s back office with posagent's; void or add the allowance that differs"
	case FindRejected:
		return "read the platform's reason in " + title + "'s back office; correct the data and issue it again (void and reissue), before the tax office notices"
	case FindNotAccepted:
		return "none yet: the platform is processing it; an alarm rises if it is not accepted before the legal deadline"
	case FindAnswerLost:
		return "find the allowance's number in " + title + "'s back office; to void the allowance, void it there and resolve the job (posagent jobs resolve)"
	case FindSkipped:
		return "find out why the number was never issued (a crash? a number issued by another till?); if unused, report it blank with the period's blank numbers (E0402)"
	case FindOutOfOrder:
		return "check the till's clock and the booklet; report to support: numbers must be issued in order"
	case FindDateOrder:
		return "the platform refuses it (E0209): check the till's clock; void and reissue under a later number, or ask the provider"
	case FindSummary:
		return "compare the day's documents at the platform (Turnkey's summary) with posagent's list of the day; resend what is missing"
	case FindProviderNotAsked:
		return "check that " + title + " is reachable and its credentials work; run posagent reconcile --date again"
	}
	return ""
}

// wakeSync starts the sync loop at once (a mended document goes now).
func (a *Agent) wakeSync() { wake(a.syncWake) }

// ReconcileRuns lists the latest runs, newest first.
func (a *Agent) ReconcileRuns(ctx context.Context, limit int) ([]RunView, error) {
	rs, err := a.reconcileStore()
	if err != nil {
		return nil, err
	}
	runs, err := rs.ReconcileRuns(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]RunView, len(runs))
	for i, r := range runs {
		fs, err := rs.RunFindings(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		out[i] = runView(r, fs)
	}
	return out, nil
}

// ReconcileDay is the latest run of a day with what it saw; KindNotFound
// when the day was never reconciled.
func (a *Agent) ReconcileDay(ctx context.Context, day time.Time) (ReconcileResult, error) {
	rs, err := a.reconcileStore()
	if err != nil {
		return ReconcileResult{}, err
	}
	name := dayOf(day).Format(time.DateOnly)
	run, ok, err := rs.LatestRun(ctx, name, "")
	if err != nil {
		return ReconcileResult{}, err
	}
	if !ok {
		return ReconcileResult{}, &posagent.Error{Kind: posagent.KindNotFound, Field: "date",
			Message: fmt.Sprintf("%s was never reconciled: posagent reconcile --date %s", name, name)}
	}
	fs, err := rs.RunFindings(ctx, run.ID)
	if err != nil {
		return ReconcileResult{}, err
	}
	return ReconcileResult{Run: runView(run, fs), Findings: findingViews(fs), Report: a.reportPath(name)}, nil
}

// OpenFindings lists the findings no later run has cleared.
func (a *Agent) OpenFindings(ctx context.Context) ([]FindingView, error) {
	rs, err := a.reconcileStore()
	if err != nil {
		return nil, err
	}
	fs, err := rs.OpenFindings(ctx)
	if err != nil {
		return nil, err
	}
	return findingViews(fs), nil
}

// reconcileLoop runs the daily reconciliation at the configured hour: at
// each poll, once today's hour has come, yesterday is reconciled unless a
// scheduled run did it already (so a till that was off at the hour catches
// up when it starts).
func (a *Agent) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(a.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.reconcileTick(ctx)
	}
}

// pendingRecheck is how often a day with documents the platform has not
// judged yet is asked again: the deadline alarms count to acceptance, so the
// verdict must not wait for the next daily run.
const pendingRecheck = time.Hour

// reconcileTick is one look of the schedule; it reports whether it ran.
func (a *Agent) reconcileTick(ctx context.Context) bool {
	cfg := a.conf().Reconcile
	if !cfg.Enabled {
		return false
	}
	h, m, err := cfg.Clock()
	if err != nil {
		return false
	}
	rs, err := a.reconcileStore()
	if err != nil {
		return false
	}
	now := a.now().In(posagent.Taipei)
	today := dayOf(now)
	if !now.Before(today.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute)) {
		yesterday := today.AddDate(0, 0, -1)
		_, done, err := rs.LatestRun(ctx, yesterday.Format(time.DateOnly), TriggerSchedule)
		if err == nil && !done {
			return a.scheduledRun(ctx, yesterday)
		}
	}
	return a.recheckPending(ctx, rs, now)
}

// recheckPending asks again about a day whose documents wait for the
// platform's verdict, once its latest run is pendingRecheck old.
func (a *Agent) recheckPending(ctx context.Context, rs ReconcileStore, now time.Time) bool {
	open, err := rs.OpenFindings(ctx)
	if err != nil {
		return false
	}
	for _, f := range open {
		if f.Kind != FindNotAccepted {
			continue
		}
		run, ok, err := rs.LatestRun(ctx, f.Day, "")
		if err != nil || !ok || now.Sub(run.FinishedAt) < pendingRecheck {
			continue
		}
		day, err := ParseDay(f.Day)
		if err != nil {
			continue
		}
		return a.scheduledRun(ctx, day)
	}
	return false
}

func (a *Agent) scheduledRun(ctx context.Context, day time.Time) bool {
	if _, err := a.Reconcile(ctx, day, TriggerSchedule); err != nil {
		if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
			a.log.Error("scheduled reconciliation", "date", day.Format(time.DateOnly), "err", err)
		}
		return false
	}
	return true
}

package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// What the daily reconciliation reads from the store and writes to it: the
// day's documents with their latest job, the numbers issued in a period, new
// jobs for what the provider lacks, and the runs with their findings
// (migration 0009).

// EventReconciled is a reconciliation's note on an invoice: what it found and
// the job it queued again.
const EventReconciled EventKind = "reconcile"

// ReconcileDoc is one document of a day as the reconciliation checks it.
type ReconcileDoc struct {
	Kind            posagent.DocKind
	Number          posagent.InvoiceNumber
	AllowanceNumber string
	// ProviderNumber is the provider's number of the allowance, if it gave one.
	ProviderNumber string
	SaleID         string
	SellerTaxID    string
	// IssuedAt is when the document was made: the invoice's issue, the
	// void's or the allowance's time.
	IssuedAt time.Time
	// InvoiceIssuedAt is the invoice's own issue time.
	InvoiceIssuedAt time.Time
	Amount          int64
	// Remaining is the invoice's total less the allowances that reached the
	// provider and whose void did not (what the provider should hold).
	Remaining int64
	// JobID and JobState are the document's latest job of its kind (a job
	// queued again replaces the one before); JobID 0: it has none.
	JobID    int64
	JobState JobState
}

// ReconcileDocs lists the documents made in [from, to): invoices issued,
// voids, allowances and allowance voids, in that order, at most MaxActivity
// of each kind.
func (s *Store) ReconcileDocs(ctx context.Context, from, to time.Time) ([]ReconcileDoc, error) {
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.storageError("read the day's documents", err)
	}
	defer tx.Rollback()
	f, t := from.UnixNano(), to.UnixNano()
	const latest = `(SELECT max(id) FROM jobs WHERE invoice_id = i.id AND kind = ?3)`
	const latestAllowance = `(SELECT max(id) FROM jobs WHERE allowance_id = a.id AND kind = ?3)`
	queries := []struct {
		kind posagent.DocKind
		job  JobKind
		sql  string
	}{
		{posagent.DocInvoice, JobUpload, `SELECT i.id, i.doc, i.issued_at, '', '', i.total, j.id, j.state FROM invoices i
			LEFT JOIN jobs j ON j.id = ` + latest + ` WHERE i.issued_at >= ?1 AND i.issued_at < ?2 ORDER BY i.id LIMIT ?4`},
		{posagent.DocVoid, JobVoid, `SELECT i.id, i.doc, i.voided_at, '', '', i.total, j.id, j.state FROM invoices i
			LEFT JOIN jobs j ON j.id = ` + latest + ` WHERE i.voided_at >= ?1 AND i.voided_at < ?2 ORDER BY i.id LIMIT ?4`},
		{posagent.DocAllowance, JobAllowance, `SELECT i.id, i.doc, a.issued_at, a.number, a.provider_number, a.total, j.id, j.state
			FROM allowances a JOIN invoices i ON i.id = a.invoice_id
			LEFT JOIN jobs j ON j.id = ` + latestAllowance + ` WHERE a.issued_at >= ?1 AND a.issued_at < ?2 ORDER BY a.id LIMIT ?4`},
		{posagent.DocAllowanceVoid, JobAllowanceVoid, `SELECT i.id, i.doc, a.voided_at, a.number, a.provider_number, a.total, j.id, j.state
			FROM allowances a JOIN invoices i ON i.id = a.invoice_id
			LEFT JOIN jobs j ON j.id = ` + latestAllowance + ` WHERE a.voided_at >= ?1 AND a.voided_at < ?2 ORDER BY a.id LIMIT ?4`},
	}
	var out []ReconcileDoc
	invoiceIDs := map[int]int64{}
	for _, q := range queries {
		rows, err := tx.QueryContext(ctx, q.sql, f, t, string(q.job), MaxActivity+1)
		if err != nil {
			return nil, s.storageError("read the day's documents", err)
		}
		n := 0
		for rows.Next() {
			var d ReconcileDoc
			var id int64
			var doc string
			var at int64
			var jobID sql.NullInt64
			var state sql.NullString
			if err := rows.Scan(&id, &doc, &at, &d.AllowanceNumber, &d.ProviderNumber, &d.Amount, &jobID, &state); err != nil {
				rows.Close()
				return nil, s.storageError("read the day's documents", err)
			}
			inv, _, err := decodeStored(doc, "")
			if err != nil {
				rows.Close()
				return nil, s.storageError("read the day's documents", err)
			}
			d.Kind, d.Number, d.SaleID, d.SellerTaxID = q.kind, inv.Number, inv.SaleID, inv.Seller.TaxID
			d.IssuedAt, d.InvoiceIssuedAt = fromNanos(at), inv.IssuedAt.In(posagent.Taipei)
			d.JobID, d.JobState = jobID.Int64, JobState(state.String)
			invoiceIDs[len(out)] = id
			out = append(out, d)
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, s.storageError("read the day's documents", err)
		}
		if n > MaxActivity {
			return nil, posagent.Invalid("date", "more than %d documents of one kind in a day: the reconciliation cannot read them at once", MaxActivity)
		}
	}
	remaining := map[int64]int64{}
	for i := range out {
		id := invoiceIDs[i]
		r, ok := remaining[id]
		if !ok {
			if r, err = landedRemaining(ctx, tx, id); err != nil {
				return nil, s.storageError("read the day's documents", err)
			}
			remaining[id] = r
		}
		out[i].Remaining = r
	}
	return out, nil
}

// landedRemaining is an invoice's total less the allowances whose latest
// job is done and whose void's latest job is not.
func landedRemaining(ctx context.Context, tx *sql.Tx, invoiceID int64) (int64, error) {
	var r int64
	err := tx.QueryRowContext(ctx, `SELECT i.total - coalesce((SELECT sum(a.total) FROM allowances a
		WHERE a.invoice_id = i.id
		AND (SELECT state FROM jobs WHERE id = (SELECT max(id) FROM jobs WHERE allowance_id = a.id AND kind = 'allowance')) = 'done'
		AND coalesce((SELECT state FROM jobs WHERE id = (SELECT max(id) FROM jobs WHERE allowance_id = a.id AND kind = 'allowance_void')), '') <> 'done'), 0)
		FROM invoices i WHERE i.id = ?`, invoiceID).Scan(&r)
	return r, err
}

// IssuedNumber is one invoice as the number checks see it.
type IssuedNumber struct {
	ID        int64 // issue order
	BookletID int64
	Number    posagent.InvoiceNumber
	IssuedAt  time.Time
}

// PeriodNumbers returns the period's booklets and the invoices issued from
// them, in issue order: the data of the checks for skipped numbers and for
// dates against number order.
func (s *Store) PeriodNumbers(ctx context.Context, p posagent.Period) ([]BookletInfo, []IssuedNumber, error) {
	bs, err := s.Booklets(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	// Off the issued_at index (an invoice's date is in its period): a till's
	// years of invoices are not walked.
	rows, err := s.reader.QueryContext(ctx, `SELECT id, booklet_id, number, issued_at FROM invoices
		WHERE issued_at >= ? AND issued_at < ? AND period = ? ORDER BY id`, p.Start().UnixNano(), p.End().UnixNano(), p.Code())
	if err != nil {
		return nil, nil, s.storageError("read the period's numbers", err)
	}
	defer rows.Close()
	var out []IssuedNumber
	for rows.Next() {
		var n IssuedNumber
		var number string
		var at int64
		if err := rows.Scan(&n.ID, &n.BookletID, &number, &at); err != nil {
			return nil, nil, s.storageError("read the period's numbers", err)
		}
		n.Number, n.IssuedAt = posagent.InvoiceNumber(number), fromNanos(at)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.storageError("read the period's numbers", err)
	}
	return bs, out, nil
}

// Requeue queues a document again as a new job, due now, because the
// provider does not hold it; the note goes into the invoice's events. The
// document's latest job of the kind must be done (or missing: the document
// never had a job); one still open is KindConflict, as it will be sent anyway.
// For an allowance or its void, allowanceNumber names it.
func (s *Store) Requeue(ctx context.Context, kind JobKind, number posagent.InvoiceNumber, allowanceNumber, note string) (int64, error) {
	if kind == JobBlank || kind == "" {
		return 0, posagent.Invalid("kind", "only an invoice's documents are queued again")
	}
	var jobID int64
	err := s.write(ctx, fmt.Sprintf("queue %s of %s again", kind, number), func(tx *sql.Tx, now int64) error {
		var invoiceID int64
		var voidedAt sql.NullInt64
		var voidReason sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT id, voided_at, void_reason FROM invoices WHERE number = ? ORDER BY id DESC LIMIT 1`, string(number)).
			Scan(&invoiceID, &voidedAt, &voidReason)
		if isNoRows(err) {
			return &posagent.Error{Kind: posagent.KindNotFound, Field: "number", Message: fmt.Sprintf("no invoice %s", number)}
		}
		if err != nil {
			return err
		}
		var allowanceID sql.NullInt64
		var allowanceReason sql.NullString
		if kind == JobAllowance || kind == JobAllowanceVoid {
			var aid int64
			err := tx.QueryRowContext(ctx, `SELECT id, void_reason FROM allowances WHERE invoice_id = ? AND number = ?`, invoiceID, allowanceNumber).
				Scan(&aid, &allowanceReason)
			if isNoRows(err) {
				return &posagent.Error{Kind: posagent.KindNotFound, Field: "allowance", Message: fmt.Sprintf("invoice %s has no allowance %s", number, allowanceNumber)}
			}
			if err != nil {
				return err
			}
			allowanceID = sql.NullInt64{Int64: aid, Valid: true}
		}
		var state, payload string
		q := `SELECT state, payload FROM jobs WHERE id = (SELECT max(id) FROM jobs WHERE invoice_id = ? AND kind = ?)`
		args := []any{invoiceID, string(kind)}
		if allowanceID.Valid {
			q = `SELECT state, payload FROM jobs WHERE id = (SELECT max(id) FROM jobs WHERE allowance_id = ? AND kind = ?)`
			args = []any{allowanceID.Int64, string(kind)}
		}
		err = tx.QueryRowContext(ctx, q, args...).Scan(&state, &payload)
		switch {
		case isNoRows(err):
			// No job ever: write the payload the document's own path writes.
			switch kind {
			case JobVoid:
				if !voidedAt.Valid {
					return &posagent.Error{Kind: posagent.KindConflict, Field: "number", Message: fmt.Sprintf("invoice %s is not voided", number)}
				}
				b, err := json.Marshal(posagent.Void{Number: number, VoidedAt: fromNanos(voidedAt.Int64), Reason: voidReason.String})
				if err != nil {
					return err
				}
				payload = string(b)
			case JobAllowanceVoid:
				payload = allowanceReason.String
			}
		case err != nil:
			return err
		case state != string(JobDone):
			return &posagent.Error{Kind: posagent.KindConflict, Field: "job",
				Message: fmt.Sprintf("the %s of invoice %s already has a %s job: it goes out without being queued again", kind, number, state)}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, invoice_id, allowance_id, payload, state, next_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`, string(kind), invoiceID, allowanceID, payload, now, now, now)
		if err != nil {
			return err
		}
		if jobID, err = res.LastInsertId(); err != nil {
			return err
		}
		return addEvent(ctx, tx, invoiceID, now, EventReconciled, note)
	})
	return jobID, err
}

// ReconcileRun is one reconciliation of a day.
type ReconcileRun struct {
	ID         int64
	Day        string // YYYY-MM-DD, Taipei
	Trigger    string // "schedule" or "demand"
	Provider   string
	StartedAt  time.Time
	FinishedAt time.Time
	Documents  int
	Asked      int
	Mended     int
	Findings   int
	Summary    string
	Error      string
}

// Finding is one difference a reconciliation found.
type Finding struct {
	ID int64
	// Key identifies the difference across runs: its kind and its document.
	Key        string
	Day        string
	Kind       string
	Level      string
	Number     posagent.InvoiceNumber
	Document   string
	Difference string
	Fix        string
	Mended     bool
	IssuedAt   time.Time
	FirstSeen  time.Time
	LastSeen   time.Time
	ClearedAt  time.Time
	LastRun    int64
}

// SaveReconcile stores a run and what it found, in one transaction: a
// finding whose key is open already is updated (seen again), a new one is
// added, and the open findings of the same day whose kind the run checked
// (checked) and that it did not see again are cleared.
func (s *Store) SaveReconcile(ctx context.Context, run ReconcileRun, findings []Finding, checked []string) (ReconcileRun, error) {
	if run.Trigger != "schedule" && run.Trigger != "demand" {
		return ReconcileRun{}, posagent.Invalid("trigger", "must be schedule or demand")
	}
	if _, err := time.Parse(time.DateOnly, run.Day); err != nil {
		return ReconcileRun{}, posagent.Invalid("date", "%q is not a day YYYY-MM-DD", run.Day)
	}
	err := s.write(ctx, "store the reconciliation of "+run.Day, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO reconcile_runs (day, trigger, provider, started_at, finished_at, documents, asked, mended, findings, summary, error)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, run.Day, run.Trigger, run.Provider, run.StartedAt.UnixNano(), now,
			run.Documents, run.Asked, run.Mended, len(findings), run.Summary, run.Error)
		if err != nil {
			return err
		}
		if run.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		run.FinishedAt, run.Findings = fromNanos(now), len(findings)
		seen := map[string]bool{}
		for _, f := range findings {
			if seen[f.Key] {
				continue
			}
			seen[f.Key] = true
			var issued any
			if !f.IssuedAt.IsZero() {
				issued = f.IssuedAt.UnixNano()
			}
			res, err := tx.ExecContext(ctx, `UPDATE reconcile_findings SET level = ?, difference = ?, fix = ?, mended = ?, last_run = ?, last_seen = ?
				WHERE key = ? AND cleared_at IS NULL`, f.Level, f.Difference, f.Fix, f.Mended, run.ID, now, f.Key)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n > 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO reconcile_findings (key, day, kind, level, number, document, difference, fix, mended,
				issued_at, first_run, last_run, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				f.Key, run.Day, f.Kind, f.Level, string(f.Number), f.Document, f.Difference, f.Fix, f.Mended, issued,
				run.ID, run.ID, now, now); err != nil {
				return err
			}
		}
		for _, kind := range checked {
			if _, err := tx.ExecContext(ctx, `UPDATE reconcile_findings SET cleared_at = ?
				WHERE day = ? AND kind = ? AND cleared_at IS NULL AND last_run <> ?`, now, run.Day, kind, run.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return run, err
}

const runColumns = `id, day, trigger, provider, started_at, finished_at, documents, asked, mended, findings, summary, error`

func scanRun(row interface{ Scan(...any) error }) (ReconcileRun, error) {
	var r ReconcileRun
	var started, finished int64
	err := row.Scan(&r.ID, &r.Day, &r.Trigger, &r.Provider, &started, &finished, &r.Documents, &r.Asked, &r.Mended, &r.Findings, &r.Summary, &r.Error)
	r.StartedAt, r.FinishedAt = fromNanos(started), fromNanos(finished)
	return r, err
}

// ReconcileRuns lists the latest runs, newest first, at most limit (1 to 1000).
func (s *Store) ReconcileRuns(ctx context.Context, limit int) ([]ReconcileRun, error) {
	if limit < 1 || limit > 1000 {
		return nil, posagent.Invalid("limit", "must be 1 to 1000")
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+runColumns+` FROM reconcile_runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, s.storageError("list reconciliations", err)
	}
	defer rows.Close()
	var out []ReconcileRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, s.storageError("list reconciliations", err)
		}
		out = append(out, r)
	}
	return out, s.rowsError("list reconciliations", rows.Err())
}

// LatestRun is the latest run of a day (trigger "" for either); ok is false
// when the day was never reconciled.
func (s *Store) LatestRun(ctx context.Context, day, trigger string) (r ReconcileRun, ok bool, err error) {
	r, err = scanRun(s.reader.QueryRowContext(ctx, `SELECT `+runColumns+` FROM reconcile_runs
		WHERE day = ?1 AND (?2 = '' OR trigger = ?2) ORDER BY id DESC LIMIT 1`, day, trigger))
	if isNoRows(err) {
		return ReconcileRun{}, false, nil
	}
	if err != nil {
		return ReconcileRun{}, false, s.storageError("read the reconciliation of "+day, err)
	}
	return r, true, nil
}

const findingColumns = `id, key, day, kind, level, number, document, difference, fix, mended, issued_at, first_seen, last_seen, cleared_at, last_run`

func (s *Store) findings(ctx context.Context, where string, args ...any) ([]Finding, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+findingColumns+` FROM reconcile_findings WHERE `+where+` ORDER BY day, id`, args...)
	if err != nil {
		return nil, s.storageError("list findings", err)
	}
	defer rows.Close()
	var out []Finding
	for rows.Next() {
		var f Finding
		var number string
		var issued, cleared sql.NullInt64
		var first, last int64
		if err := rows.Scan(&f.ID, &f.Key, &f.Day, &f.Kind, &f.Level, &number, &f.Document, &f.Difference, &f.Fix, &f.Mended,
			&issued, &first, &last, &cleared, &f.LastRun); err != nil {
			return nil, s.storageError("list findings", err)
		}
		f.Number, f.IssuedAt, f.ClearedAt = posagent.InvoiceNumber(number), fromNullNanos(issued), fromNullNanos(cleared)
		f.FirstSeen, f.LastSeen = fromNanos(first), fromNanos(last)
		out = append(out, f)
	}
	return out, s.rowsError("list findings", rows.Err())
}

// OpenFindings lists the findings no later run has cleared, oldest day first.
func (s *Store) OpenFindings(ctx context.Context) ([]Finding, error) {
	return s.findings(ctx, `cleared_at IS NULL`)
}

// RunFindings lists what one run saw.
func (s *Store) RunFindings(ctx context.Context, runID int64) ([]Finding, error) {
	return s.findings(ctx, `last_run = ?`, runID)
}

// PeriodFindings lists the open findings about the days of a period.
func (s *Store) PeriodFindings(ctx context.Context, p posagent.Period) ([]Finding, error) {
	from, to := p.Start().Format(time.DateOnly), p.End().Format(time.DateOnly)
	return s.findings(ctx, `cleared_at IS NULL AND day >= ? AND day < ?`, from, to)
}

// PeriodOpenJobs counts the period's invoice documents whose job is not
// done, by kind: what is still on its way to the provider. It reads the open
// jobs only (off the jobs_state index): a job queued again replaces a done
// one, so an open job is always its document's latest.
func (s *Store) PeriodOpenJobs(ctx context.Context, p posagent.Period) (map[JobKind]int, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT j.kind, count(*) FROM jobs j JOIN invoices i ON i.id = j.invoice_id
		WHERE j.state IN ('pending', 'claimed', 'dead') AND i.period = ? GROUP BY j.kind`, p.Code())
	if err != nil {
		return nil, s.storageError("count the period's open jobs", err)
	}
	defer rows.Close()
	out := map[JobKind]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, s.storageError("count the period's open jobs", err)
		}
		out[JobKind(k)] = n
	}
	return out, s.rowsError("count the period's open jobs", rows.Err())
}

// PeriodIssued reports whether any invoice was issued here in the period
// (off the issued_at index).
func (s *Store) PeriodIssued(ctx context.Context, p posagent.Period) (bool, error) {
	var n int
	err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM invoices WHERE issued_at >= ? AND issued_at < ? LIMIT 1)`,
		p.Start().UnixNano(), p.End().UnixNano()).Scan(&n)
	if err != nil {
		return false, s.storageError("look for the period's invoices", err)
	}
	return n > 0, nil
}

// BlankReport is where a period's blank-number reports stand (one per
// seller on a till with several).
type BlankReport struct {
	Queued bool     // a report job exists
	State  JobState // the least advanced of them: dead, then pending or claimed, then done
	Error  string   // the last error of a report not done
}

// PeriodBlankReport finds the blank-number reports of a period.
func (s *Store) PeriodBlankReport(ctx context.Context, p posagent.Period) (BlankReport, error) {
	// Blank reports are the only jobs without an invoice: off the
	// jobs_invoice index, never the whole outbox.
	rows, err := s.reader.QueryContext(ctx, `SELECT state, last_error, payload FROM jobs WHERE invoice_id IS NULL AND kind = 'blank' ORDER BY id DESC`)
	if err != nil {
		return BlankReport{}, s.storageError("find the blank-number report", err)
	}
	defer rows.Close()
	rank := map[JobState]int{JobDone: 0, JobPending: 1, JobClaimed: 1, JobDead: 2}
	code := `"` + p.Code() + `"`
	var out BlankReport
	for rows.Next() {
		var state, lastError, payload string
		if err := rows.Scan(&state, &lastError, &payload); err != nil {
			return BlankReport{}, s.storageError("find the blank-number report", err)
		}
		if !strings.Contains(payload, code) {
			continue
		}
		var b blankPayload
		if json.Unmarshal([]byte(payload), &b) != nil || b.Period != p {
			continue
		}
		st := JobState(state)
		if !out.Queued || rank[st] > rank[out.State] {
			out.State = st
			if st != JobDone {
				out.Error = lastError
			}
		}
		out.Queued = true
	}
	return out, s.rowsError("find the blank-number report", rows.Err())
}

// rowsError is storageError for the end of a row loop: nil stays nil.
func (s *Store) rowsError(op string, err error) error {
	if err == nil {
		return nil
	}
	return s.storageError(op, err)
}

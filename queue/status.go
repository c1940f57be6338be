package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/posagent/posagent"
)

// Record is an invoice with everything the store knows about it.
type Record struct {
	// Invoice is the issued invoice as stored.
	Invoice posagent.Invoice
	// Derived is what IssueOptions.Derive returned at issue (nil without one).
	Derived map[string]string
	// Void is set once the invoice is voided.
	Void *posagent.Void
	// Allowances lists its allowances in order, voided ones included.
	Allowances []AllowanceRecord
	// Remaining is the total less the allowances that are not voided.
	Remaining int64
	// Upload is the state of the invoice's upload job.
	Upload JobState
	// Uploaded is when the provider accepted the invoice; zero before.
	Uploaded time.Time
	// UploadError is the upload's last error while it is not done.
	UploadError string
	// Print is the proof's state; nil when the invoice is not printed.
	Print *PrintJob
	// Replaces is the invoice this one was issued in place of (Reissue), and
	// ReplacedBy the one issued in place of this one; empty when none.
	Replaces, ReplacedBy posagent.InvoiceNumber
	// Order is the id of the order it was issued from (IssueOrder); empty when none.
	Order string
}

// Invoice returns the record of an invoice by number. Unknown is KindNotFound.
func (s *Store) Invoice(ctx context.Context, number posagent.InvoiceNumber) (Record, error) {
	id, err := s.invoiceID(ctx, s.reader, number)
	if err != nil {
		return Record{}, err
	}
	return s.record(ctx, id)
}

// InvoiceBySale returns the record of the invoice issued for a sale id.
// Unknown is KindNotFound.
func (s *Store) InvoiceBySale(ctx context.Context, saleID string) (Record, error) {
	var id int64
	err := s.reader.QueryRowContext(ctx, `SELECT id FROM invoices WHERE sale_id = ?`, saleID).Scan(&id)
	if isNoRows(err) {
		return Record{}, &posagent.Error{Kind: posagent.KindNotFound, Field: "sale_id", Message: fmt.Sprintf("no invoice for sale %q", saleID)}
	}
	if err != nil {
		return Record{}, s.storageError("find sale "+saleID, err)
	}
	return s.record(ctx, id)
}

// Recent returns the latest invoices issued, newest first, at most limit
// (default and cap 500).
func (s *Store) Recent(ctx context.Context, limit int) ([]Record, error) {
	if limit <= 0 || limit > 500 {
		limit = 500
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT id FROM invoices ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, s.storageError("list recent invoices", err)
	}
	ids, err := column[int64](rows)
	if err != nil {
		return nil, s.storageError("list recent invoices", err)
	}
	out := make([]Record, 0, len(ids))
	for _, id := range ids {
		r, err := s.record(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Store) record(ctx context.Context, id int64) (Record, error) {
	// One read transaction, so the parts agree with each other.
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Record{}, s.storageError("read invoice", err)
	}
	defer tx.Rollback()
	var r Record
	var doc, derived string
	var voidedAt sql.NullInt64
	var voidReason sql.NullString
	var upload, uploadError sql.NullString
	var uploaded sql.NullInt64
	var replaces, replacedBy, order sql.NullString
	err = tx.QueryRowContext(ctx, `SELECT i.doc, i.derived, i.voided_at, i.void_reason, j.state, j.done_at, j.last_error,
			(SELECT o.number FROM invoices o WHERE o.id = i.replaces),
			(SELECT n.number FROM invoices n WHERE n.replaces = i.id),
			(SELECT r.id FROM orders r WHERE r.invoice_id = i.id)
		FROM invoices i LEFT JOIN jobs j ON j.id = (SELECT max(id) FROM jobs WHERE invoice_id = i.id AND kind = 'upload')
		WHERE i.id = ?`, id).Scan(&doc, &derived, &voidedAt, &voidReason, &upload, &uploaded, &uploadError,
		&replaces, &replacedBy, &order)
	if err != nil {
		return Record{}, s.storageError("read invoice", err)
	}
	if r.Invoice, r.Derived, err = decodeStored(doc, derived); err != nil {
		return Record{}, s.storageError("read invoice", err)
	}
	if voidedAt.Valid {
		r.Void = &posagent.Void{Number: r.Invoice.Number, VoidedAt: fromNanos(voidedAt.Int64), Reason: voidReason.String}
	}
	r.Upload, r.Uploaded, r.UploadError = JobState(upload.String), fromNullNanos(uploaded), uploadError.String
	r.Replaces, r.ReplacedBy, r.Order = posagent.InvoiceNumber(replaces.String), posagent.InvoiceNumber(replacedBy.String), order.String
	r.Remaining = r.Invoice.Total

	rows, err := tx.QueryContext(ctx, `SELECT a.doc, a.provider_number, a.voided_at, a.void_reason,
			j.state, j.last_error, v.state, v.last_error
		FROM allowances a
		LEFT JOIN jobs j ON j.id = (SELECT max(id) FROM jobs WHERE allowance_id = a.id AND kind = 'allowance')
		LEFT JOIN jobs v ON v.id = (SELECT max(id) FROM jobs WHERE allowance_id = a.id AND kind = 'allowance_void')
		WHERE a.invoice_id = ? ORDER BY a.id`, id)
	if err != nil {
		return Record{}, s.storageError("read allowances", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a AllowanceRecord
		var adoc string
		var providerNumber string
		var av sql.NullInt64
		var reason, state, lastError, voidState, voidError sql.NullString
		if err := rows.Scan(&adoc, &providerNumber, &av, &reason, &state, &lastError, &voidState, &voidError); err != nil {
			return Record{}, s.storageError("read allowances", err)
		}
		if err := json.Unmarshal([]byte(adoc), &a.Allowance); err != nil {
			return Record{}, s.storageError("read allowances", err)
		}
		a.ProviderNumber = providerNumber
		a.VoidedAt, a.VoidReason, a.Upload = fromNullNanos(av), reason.String, JobState(state.String)
		a.VoidUpload = JobState(voidState.String)
		if a.Upload != JobDone {
			a.UploadError = lastError.String
		}
		if a.VoidUpload != JobDone {
			a.VoidError = voidError.String
		}
		if !av.Valid {
			r.Remaining -= a.Total
		}
		r.Allowances = append(r.Allowances, a)
	}
	if err := rows.Err(); err != nil {
		return Record{}, s.storageError("read allowances", err)
	}
	p, err := scanPrint(tx.QueryRowContext(ctx, `SELECT `+printColumns+` FROM invoices WHERE id = ? AND print_state IS NOT NULL`, id))
	switch {
	case err == nil:
		r.Print = &p
	case !isNoRows(err):
		return Record{}, s.storageError("read print job", err)
	}
	return r, nil
}

// Unsent is the oldest document not yet accepted by the provider.
type Unsent struct {
	JobID  int64                  // the job
	Kind   JobKind                // what it sends
	State  JobState               // pending, claimed or dead
	Number posagent.InvoiceNumber // empty for JobBlank
	// IssuedAt is the invoice's issue time (zero for JobBlank): the legal
	// upload deadline counts from the day after it.
	IssuedAt time.Time
	// Since is when the document was made (the job's creation): the upload
	// deadline runs from here.
	Since     time.Time
	Age       time.Duration // store clock minus Since
	Attempts  int           // claims so far
	LastError string        // the last failure, if any
}

// OldestUnsent returns the oldest job that is not done (pending, claimed or
// dead); ok is false when everything has been sent.
func (s *Store) OldestUnsent(ctx context.Context) (u Unsent, ok bool, err error) {
	var kind, state string
	var number sql.NullString
	var issuedAt sql.NullInt64
	var created int64
	// The first job of each open state, off the jobs_state index.
	err = s.reader.QueryRowContext(ctx, `SELECT j.id, j.kind, j.state, i.number, i.issued_at, j.created_at, j.attempts, j.last_error
		FROM jobs j LEFT JOIN invoices i ON i.id = j.invoice_id
		WHERE j.id = (SELECT min(id) FROM (
			SELECT min(id) AS id FROM jobs WHERE state = 'pending'
			UNION ALL SELECT min(id) FROM jobs WHERE state = 'claimed'
			UNION ALL SELECT min(id) FROM jobs WHERE state = 'dead'))`).Scan(&u.JobID, &kind, &state, &number, &issuedAt, &created, &u.Attempts, &u.LastError)
	if isNoRows(err) {
		return Unsent{}, false, nil
	}
	if err != nil {
		return Unsent{}, false, s.storageError("find oldest unsent", err)
	}
	u.Kind, u.State, u.Number = JobKind(kind), JobState(state), posagent.InvoiceNumber(number.String)
	u.Since, u.IssuedAt = fromNanos(created), fromNullNanos(issuedAt)
	u.Age = s.now().Sub(u.Since)
	return u, true, nil
}

// LastUpload is when a job was last accepted by the provider; zero if never.
func (s *Store) LastUpload(ctx context.Context) (time.Time, error) {
	var v string
	err := s.reader.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'last_upload_at'`).Scan(&v)
	if isNoRows(err) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, s.storageError("read last upload", err)
	}
	ns, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, s.storageError("read last upload", err)
	}
	return fromNanos(ns), nil
}

// Status is the store's part of `posagent status`.
type Status struct {
	Jobs         map[JobState]int // jobs by state
	OldestUnsent *Unsent          // nil when everything is sent
	LastUpload   time.Time        // zero if never
	Unprinted    int              // proofs not printed (pending, failed, interrupted), voided invoices aside
}

// Status gathers the status queries in one call. Each reads an index or a
// counter, never all invoices, jobs or booklets: it answers as fast on a
// till's millionth invoice as on its first (BenchmarkStoreScale in agent).
// The numbers left per period are PeriodLeft's.
func (s *Store) Status(ctx context.Context) (Status, error) {
	var st Status
	var err error
	if st.Jobs, err = s.JobCounts(ctx); err != nil {
		return Status{}, err
	}
	u, ok, err := s.OldestUnsent(ctx)
	if err != nil {
		return Status{}, err
	}
	if ok {
		st.OldestUnsent = &u
	}
	if st.LastUpload, err = s.LastUpload(ctx); err != nil {
		return Status{}, err
	}
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM invoices
		WHERE print_state <> 'printed' AND voided_at IS NULL`).Scan(&st.Unprinted); err != nil {
		return Status{}, s.storageError("count unprinted proofs", err)
	}
	return st, nil
}

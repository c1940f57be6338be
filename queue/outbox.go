package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/posagent/posagent"
)

// JobKind is what a job sends.
type JobKind string

// The job kinds, with the posagent.Provider (or BlankReporter) call each maps to.
const (
	JobUpload        JobKind = "upload"         // Provider.Upload(Invoice)
	JobVoid          JobKind = "void"           // Provider.Void(Invoice, *Void)
	JobAllowance     JobKind = "allowance"      // Provider.Allow(Invoice, *Allowance)
	JobAllowanceVoid JobKind = "allowance_void" // Provider.VoidAllowance(Invoice, *Allowance, Reason)
	JobBlank         JobKind = "blank"          // BlankReporter.ReportBlank(Period, Blank)
)

// JobState is where a job is in its life.
type JobState string

// The job states. A job moves pending → claimed → done, or back to pending
// (Retry, or a lease that ran out), or to dead (Dead) and from there back to
// pending (Revive). Done jobs are kept as history.
const (
	JobPending JobState = "pending"
	JobClaimed JobState = "claimed"
	JobDone    JobState = "done"
	JobDead    JobState = "dead"
)

// Job is one document in the outbox, with what its worker needs to send it.
type Job struct {
	ID    int64    // the store's id, in creation order
	Kind  JobKind  // what to send
	State JobState // where the job is
	// Attempts counts claims, the current one included.
	Attempts int
	// NextAt is when a pending job becomes due, or when a claimed job's
	// lease ends.
	NextAt    time.Time
	LastError string    // the error of the last failed attempt
	CreatedAt time.Time // when the document was made
	UpdatedAt time.Time // the last change of state
	DoneAt    time.Time // when the provider accepted it; zero before
	// Token identifies the claim that handed the job out; Done, Retry and
	// Dead must present it (Claim fills it in).
	Token int64

	// Invoice is the invoice the job is about (every kind except JobBlank).
	Invoice posagent.Invoice
	// Void is set for JobVoid.
	Void *posagent.Void
	// Allowance is set for JobAllowance and JobAllowanceVoid.
	Allowance *posagent.Allowance
	// Reason is the allowance void's reason (JobAllowanceVoid).
	Reason string
	// Period and Blank are set for JobBlank: the unused ranges to report.
	Period posagent.Period
	Blank  []posagent.Booklet // ranges of never-issued numbers
	// BlankSeller is the seller of a JobBlank's ranges ("" for none).
	BlankSeller string
}

// MaxClaim is the largest batch Claim hands out at once.
const MaxClaim = 100

// ClockSlack is how far the clock may step back before Claim distrusts the
// due and lease times written before the step (see Claim).
const ClockSlack = time.Minute

// Claim hands out up to max due jobs (at most MaxClaim), oldest first (by
// when the document was made: its deadline runs from then),
// and leases them for lease: until then no other Claim returns them. A job of
// an invoice is handed out only when every earlier job of that invoice is
// done, so a void or allowance never overtakes its upload, and an allowance
// void never overtakes its allowance; a dead upload holds back the invoice's
// later jobs until it is revived and done. The upload of a reissued invoice
// (Reissue) also waits until the void of the invoice it replaces is done.
//
// Due and lease times are wall-clock readings, which jump when NTP corrects
// the clock (go-practice §3). A jump forward ends leases early: the job may be
// handed out twice, which the provider's idempotency (sale id, invoice
// number) absorbs, and the late worker's Done is refused by its stale token.
// A jump backward would strand leased and waiting jobs until the clock caught
// up; so a job whose last change lies more than ClockSlack in the future of
// the current reading is treated as due. (Smaller steps only delay a job by
// as much as the step.)
func (s *Store) Claim(ctx context.Context, max int, lease time.Duration) ([]Job, error) {
	return s.ClaimSellers(ctx, nil, max, lease)
}

// ClaimSellers is Claim for the jobs of some sellers only (see JobSeller;
// "" is the seller of a blank report of no seller); nil is every seller. The
// agent claims for each seller whose provider may be called now, so that a
// provider that is down holds back only its own seller's jobs.
func (s *Store) ClaimSellers(ctx context.Context, sellers []string, max int, lease time.Duration) ([]Job, error) {
	switch {
	case max <= 0:
		return nil, nil
	case max > MaxClaim:
		max = MaxClaim
	}
	if lease <= 0 {
		return nil, posagent.Invalid("lease", "must be more than zero")
	}
	param, err := sellersParam(sellers)
	if err != nil {
		return nil, err
	}
	var ids []int64
	token := newToken()
	err = s.write(ctx, "claim jobs", func(tx *sql.Tx, now int64) error {
		slack := ClockSlack.Nanoseconds()
		s.mu.Lock()
		clockBack := now+slack < s.highWater
		s.mu.Unlock()
		// A reissued invoice's upload also waits for the void of the invoice
		// it replaces (after_job, NULL for every other job); a claim for some
		// sellers takes their jobs only.
		const inOrder = ` AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.invoice_id = j.invoice_id AND e.id < j.id AND e.state <> 'done')` +
			` AND (j.after_job IS NULL OR EXISTS (SELECT 1 FROM jobs b WHERE b.id = j.after_job AND b.state = 'done'))` +
			` AND (?4 IS NULL OR ` + jobSeller + ` IN (SELECT value FROM json_each(?4)))`
		queries := []string{
			// Leases that ran out (or were taken in the clock's future).
			`SELECT j.id FROM jobs j WHERE j.state = 'claimed' AND (j.next_at <= ?1 OR j.updated_at > ?1 + ?3)` + inOrder + ` ORDER BY j.id LIMIT ?2`,
			// Due pending jobs, oldest first, straight off the jobs_state index.
			`SELECT j.id FROM jobs j WHERE j.state = 'pending' AND j.next_at <= ?1` + inOrder + ` ORDER BY j.id LIMIT ?2`,
		}
		if clockBack {
			queries = append(queries, `SELECT j.id FROM jobs j WHERE j.state = 'pending' AND j.next_at > ?1 AND j.updated_at > ?1 + ?3`+inOrder+` ORDER BY j.id LIMIT ?2`)
		}
		for _, q := range queries {
			if len(ids) >= max {
				break
			}
			rows, err := tx.QueryContext(ctx, q, now, max-len(ids), slack, param)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		until := now + lease.Nanoseconds()
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'claimed', attempts = attempts + 1, next_at = ?, token = ?, updated_at = ? WHERE id = ?`,
				until, token, now, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	jobs := make([]Job, 0, len(ids))
	for _, id := range ids {
		j, err := s.loadJob(ctx, s.reader, id)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// ReleaseClaims returns every claimed job to pending at once. Call it at
// start-up, when no worker of an earlier run can still hold a claim, so that
// jobs a crash left claimed need not wait for their leases to run out.
func (s *Store) ReleaseClaims(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, "release claims", func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'pending', next_at = ?, token = 0, updated_at = ? WHERE state = 'claimed'`, now, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// Done marks a claimed job as sent. A job whose claim has passed to another
// worker (its lease ran out) is KindConflict: that worker now owns the outcome.
func (s *Store) Done(ctx context.Context, j Job) error {
	return s.finish(ctx, j, "done", func(tx *sql.Tx, now int64, invoiceID sql.NullInt64) error {
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'done', next_at = ?, done_at = ?, last_error = '', updated_at = ? WHERE id = ?`,
			now, now, now, j.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('last_upload_at', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, fmt.Sprint(now)); err != nil {
			return err
		}
		if invoiceID.Valid {
			return addEvent(ctx, tx, invoiceID.Int64, now, EventUploaded, string(j.Kind)+describeJob(j))
		}
		return nil
	})
}

// DoneAllowance marks a claimed JobAllowance as sent and stores the number
// the provider gave the allowance (posagent.AllowanceIssuer), in one
// transaction: a crash cannot leave the job done without its number, which
// the allowance's void needs. An empty providerNumber (a provider that does
// not number allowances, or an allowance adopted after a lost answer) is
// Done. A job of another kind is KindInvalid.
func (s *Store) DoneAllowance(ctx context.Context, j Job, providerNumber string) error {
	if providerNumber == "" {
		return s.Done(ctx, j)
	}
	if !utf8.ValidString(providerNumber) || len(providerNumber) > maxProviderNumber {
		return posagent.Invalid("provider_number", "must be valid text of at most %d bytes", maxProviderNumber)
	}
	return s.finish(ctx, j, "done", func(tx *sql.Tx, now int64, invoiceID sql.NullInt64) error {
		var kind string
		var allowanceID sql.NullInt64
		var number sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT j.kind, j.allowance_id, a.number FROM jobs j
			LEFT JOIN allowances a ON a.id = j.allowance_id WHERE j.id = ?`, j.ID).Scan(&kind, &allowanceID, &number); err != nil {
			return err
		}
		if kind != string(JobAllowance) || !allowanceID.Valid {
			return posagent.Invalid("job", "job %d is a %s job, not an allowance: it has no provider number", j.ID, kind)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE allowances SET provider_number = ? WHERE id = ?`, providerNumber, allowanceID.Int64); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'done', next_at = ?, done_at = ?, last_error = '', updated_at = ? WHERE id = ?`,
			now, now, now, j.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('last_upload_at', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, fmt.Sprint(now)); err != nil {
			return err
		}
		return addEvent(ctx, tx, invoiceID.Int64, now, EventUploaded,
			fmt.Sprintf("%s %s (provider number %s)", JobAllowance, number.String, providerNumber))
	})
}

// maxProviderNumber bounds a provider's allowance number (ECPay's is 16).
const maxProviderNumber = 64

// Retry returns a claimed job to the queue, due at at, recording the error.
// The attempt count is kept; the caller decides the backoff and when to give
// up (Dead).
func (s *Store) Retry(ctx context.Context, j Job, at time.Time, cause error) error {
	msg := errorText(cause)
	return s.finish(ctx, j, "retry", func(tx *sql.Tx, now int64, invoiceID sql.NullInt64) error {
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'pending', next_at = ?, last_error = ?, token = 0, updated_at = ? WHERE id = ?`,
			at.UnixNano(), msg, now, j.ID); err != nil {
			return err
		}
		if invoiceID.Valid {
			return addEvent(ctx, tx, invoiceID.Int64, now, EventFailed, string(j.Kind)+describeJob(j)+": "+msg)
		}
		return nil
	})
}

// Postpone puts a claimed job back, due at at, as if it had not been tried:
// the attempt is not counted, the last error stays what it was and the
// invoice's history gains nothing. It is for a call the provider client held
// back itself because it knows when it can succeed (a fresh invoice waiting
// for the provider's clock second): a wait, not a failure.
func (s *Store) Postpone(ctx context.Context, j Job, at time.Time) error {
	return s.finish(ctx, j, "postpone", func(tx *sql.Tx, now int64, _ sql.NullInt64) error {
		_, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'pending', next_at = ?, attempts = max(attempts - 1, 0), token = 0, updated_at = ? WHERE id = ?`,
			at.UnixNano(), now, j.ID)
		return err
	})
}

// Dead takes a claimed job out of the queue for a person to look at, with the
// reason. It stays listed (DeadJobs) until revived, and it holds back the
// later jobs of its invoice.
func (s *Store) Dead(ctx context.Context, j Job, reason error) error {
	msg := errorText(reason)
	return s.finish(ctx, j, "give up", func(tx *sql.Tx, now int64, invoiceID sql.NullInt64) error {
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'dead', last_error = ?, token = 0, updated_at = ? WHERE id = ?`,
			msg, now, j.ID); err != nil {
			return err
		}
		if invoiceID.Valid {
			return addEvent(ctx, tx, invoiceID.Int64, now, EventDead, string(j.Kind)+describeJob(j)+": "+msg)
		}
		return nil
	})
}

func errorText(err error) string {
	if err == nil {
		return "no reason given"
	}
	return err.Error()
}

func describeJob(j Job) string {
	if j.Allowance != nil {
		return " " + j.Allowance.Number
	}
	return ""
}

// finish runs the end of a claim after checking that j is still claimed
// under j.Token.
func (s *Store) finish(ctx context.Context, j Job, verb string, fn func(tx *sql.Tx, now int64, invoiceID sql.NullInt64) error) error {
	return s.write(ctx, fmt.Sprintf("%s job %d", verb, j.ID), func(tx *sql.Tx, now int64) error {
		var state string
		var token int64
		var invoiceID sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT state, token, invoice_id FROM jobs WHERE id = ?`, j.ID).Scan(&state, &token, &invoiceID)
		if isNoRows(err) {
			return &posagent.Error{Kind: posagent.KindNotFound, Field: "job", Message: fmt.Sprintf("no job %d", j.ID)}
		}
		if err != nil {
			return err
		}
		if state != string(JobClaimed) || token != j.Token {
			return &posagent.Error{Kind: posagent.KindConflict, Field: "job",
				Message: fmt.Sprintf("job %d is no longer held by this claim (it is %s): its lease ran out or it was released", j.ID, state)}
		}
		return fn(tx, now, invoiceID)
	})
}

// Revive puts a dead job back in the queue, due now, keeping its attempt
// count and last error. Reviving a job that is not dead is KindConflict.
func (s *Store) Revive(ctx context.Context, id int64) error {
	return s.write(ctx, fmt.Sprintf("revive job %d", id), func(tx *sql.Tx, now int64) error {
		var state string
		var invoiceID sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT state, invoice_id FROM jobs WHERE id = ?`, id).Scan(&state, &invoiceID)
		if isNoRows(err) {
			return &posagent.Error{Kind: posagent.KindNotFound, Field: "job", Message: fmt.Sprintf("no job %d", id)}
		}
		if err != nil {
			return err
		}
		if state != string(JobDead) {
			return &posagent.Error{Kind: posagent.KindConflict, Field: "job", Message: fmt.Sprintf("job %d is %s, not dead", id, state)}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'pending', next_at = ?, updated_at = ? WHERE id = ?`, now, now, id); err != nil {
			return err
		}
		if invoiceID.Valid {
			return addEvent(ctx, tx, invoiceID.Int64, now, EventRevived, fmt.Sprintf("job %d", id))
		}
		return nil
	})
}

// MaxResolveNote bounds the note of Resolve.
const MaxResolveNote = 200

// Resolve closes a dead job that a person settled outside posagent (say, an
// allowance voided in the provider's back office because the provider's
// number for it was lost): the job is done without a provider call, so the
// invoice's later jobs can go, and the note — what was done, by whom — is kept
// in the invoice's events. The job keeps its last error. Nothing is sent, and
// the last-upload time is not moved. A note is required; a job that is not
// dead is KindConflict, an unknown one KindNotFound.
func (s *Store) Resolve(ctx context.Context, id int64, note string) error {
	switch {
	case note == "":
		return posagent.Invalid("note", "is required: say what was done instead, and by whom")
	case !utf8.ValidString(note) || utf8.RuneCountInString(note) > MaxResolveNote:
		return posagent.Invalid("note", "must be text of at most %d characters", MaxResolveNote)
	}
	return s.write(ctx, fmt.Sprintf("resolve job %d", id), func(tx *sql.Tx, now int64) error {
		var state, kind string
		var invoiceID sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT state, kind, invoice_id FROM jobs WHERE id = ?`, id).Scan(&state, &kind, &invoiceID)
		if isNoRows(err) {
			return &posagent.Error{Kind: posagent.KindNotFound, Field: "job", Message: fmt.Sprintf("no job %d", id)}
		}
		if err != nil {
			return err
		}
		if state != string(JobDead) {
			return &posagent.Error{Kind: posagent.KindConflict, Field: "job", Message: fmt.Sprintf("job %d is %s, not dead: only a dead job is resolved by hand", id, state)}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = 'done', done_at = ?, next_at = ?, token = 0, updated_at = ? WHERE id = ?`,
			now, now, now, id); err != nil {
			return err
		}
		if invoiceID.Valid {
			return addEvent(ctx, tx, invoiceID.Int64, now, EventResolved, fmt.Sprintf("job %d (%s): %s", id, kind, note))
		}
		return nil
	})
}

// Job returns one job by id, with its document. Unknown is KindNotFound.
func (s *Store) Job(ctx context.Context, id int64) (Job, error) {
	return s.loadJob(ctx, s.reader, id)
}

// Jobs lists jobs in one state, oldest first, at most limit (all when limit
// ≤ 0), with their documents.
func (s *Store) Jobs(ctx context.Context, state JobState, limit int) ([]Job, error) {
	if limit <= 0 {
		limit = -1
	}
	return s.listJobs(ctx, `SELECT id FROM jobs WHERE state = ? ORDER BY id LIMIT ?`, string(state), limit)
}

// DeadJobs lists the jobs that gave up, oldest first, at most limit (all when
// limit ≤ 0).
func (s *Store) DeadJobs(ctx context.Context, limit int) ([]Job, error) {
	return s.Jobs(ctx, JobDead, limit)
}

// InvoiceJobs lists every job of an invoice in order. Unknown is KindNotFound.
func (s *Store) InvoiceJobs(ctx context.Context, number posagent.InvoiceNumber) ([]Job, error) {
	id, err := s.invoiceID(ctx, s.reader, number)
	if err != nil {
		return nil, err
	}
	return s.listJobs(ctx, `SELECT id FROM jobs WHERE invoice_id = ? ORDER BY id`, id)
}

func (s *Store) listJobs(ctx context.Context, query string, args ...any) ([]Job, error) {
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.storageError("list jobs", err)
	}
	ids, err := column[int64](rows)
	if err != nil {
		return nil, s.storageError("list jobs", err)
	}
	out := make([]Job, 0, len(ids))
	for _, id := range ids {
		j, err := s.loadJob(ctx, s.reader, id)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, nil
}

func (s *Store) loadJob(ctx context.Context, q querier, id int64) (Job, error) {
	var j Job
	var kind, state, payload string
	var next, created, updated int64
	var done sql.NullInt64
	var doc, allowanceDoc, providerNumber sql.NullString
	err := q.QueryRowContext(ctx, `SELECT j.id, j.kind, j.state, j.attempts, j.next_at, j.token, j.last_error,
			j.created_at, j.updated_at, j.done_at, j.payload, i.doc, a.doc, a.provider_number
		FROM jobs j LEFT JOIN invoices i ON i.id = j.invoice_id LEFT JOIN allowances a ON a.id = j.allowance_id
		WHERE j.id = ?`, id).Scan(&j.ID, &kind, &state, &j.Attempts, &next, &j.Token, &j.LastError,
		&created, &updated, &done, &payload, &doc, &allowanceDoc, &providerNumber)
	if isNoRows(err) {
		return Job{}, &posagent.Error{Kind: posagent.KindNotFound, Field: "job", Message: fmt.Sprintf("no job %d", id)}
	}
	if err != nil {
		return Job{}, s.storageError(fmt.Sprintf("read job %d", id), err)
	}
	j.Kind, j.State = JobKind(kind), JobState(state)
	j.NextAt, j.CreatedAt, j.UpdatedAt, j.DoneAt = fromNanos(next), fromNanos(created), fromNanos(updated), fromNullNanos(done)
	if doc.Valid {
		if j.Invoice, _, err = decodeStored(doc.String, ""); err != nil {
			return Job{}, s.storageError(fmt.Sprintf("read job %d", id), err)
		}
	}
	if allowanceDoc.Valid {
		var a posagent.Allowance
		if err := json.Unmarshal([]byte(allowanceDoc.String), &a); err != nil {
			return Job{}, s.storageError(fmt.Sprintf("read job %d: stored allowance", id), err)
		}
		a.ProviderNumber = providerNumber.String
		j.Allowance = &a
	}
	switch j.Kind {
	case JobVoid:
		var v posagent.Void
		if err := json.Unmarshal([]byte(payload), &v); err != nil {
			return Job{}, s.storageError(fmt.Sprintf("read job %d: stored void", id), err)
		}
		j.Void = &v
	case JobAllowanceVoid:
		j.Reason = payload
	case JobBlank:
		var b blankPayload
		if err := json.Unmarshal([]byte(payload), &b); err != nil {
			return Job{}, s.storageError(fmt.Sprintf("read job %d: stored blank report", id), err)
		}
		j.Period, j.Blank, j.BlankSeller = b.Period, b.Unused, b.Seller
	}
	if j.State != JobClaimed {
		j.Token = 0
	}
	return j, nil
}

// JobCounts counts jobs by state (every state present, zero or not). The
// counts are kept by triggers in the same transactions that change the jobs.
func (s *Store) JobCounts(ctx context.Context) (map[JobState]int, error) {
	out := map[JobState]int{JobPending: 0, JobClaimed: 0, JobDone: 0, JobDead: 0}
	rows, err := s.reader.QueryContext(ctx, `SELECT state, n FROM job_counts`)
	if err != nil {
		return nil, s.storageError("count jobs", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, s.storageError("count jobs", err)
		}
		out[JobState(state)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, s.storageError("count jobs", err)
	}
	return out, nil
}

package queue

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/posagent/posagent"
)

// Void records the void (作廢) of an issued invoice and queues it as a
// JobVoid, which is handed out only after the invoice's upload and any
// allowance jobs are done. A zero VoidedAt means now. The reason is required
// (≤ posagent.MaxVoidReason characters). Voiding a voided invoice, or one
// with allowances that are not voided, is KindConflict; an unknown number is
// KindNotFound.
func (s *Store) Void(ctx context.Context, v posagent.Void) error {
	if v.VoidedAt.IsZero() {
		v.VoidedAt = s.now()
	}
	if err := v.Validate(); err != nil {
		return err
	}
	return s.write(ctx, "void invoice "+string(v.Number), func(tx *sql.Tx, now int64) error {
		id, err := s.invoiceID(ctx, tx, v.Number)
		if err != nil {
			return err
		}
		_, err = s.voidTx(ctx, tx, now, id, v, false)
		return err
	})
}

// voidTx voids invoice id inside the caller's write transaction and queues
// the void's job, whose id it returns. anyAllowance refuses an invoice that
// ever had an allowance, voided or not (a reissue: Amego refuses such a void
// for good, 3050141, providers.md §1.4); otherwise only live allowances
// refuse. A void at or after the period's void deadline is refused: the
// correction is then an allowance.
func (s *Store) voidTx(ctx context.Context, tx *sql.Tx, now int64, id int64, v posagent.Void, anyAllowance bool) (int64, error) {
	var issuedAt int64
	var period string
	var voided sql.NullInt64
	var liveAllowances, allowances int
	if err := tx.QueryRowContext(ctx, `SELECT issued_at, period, voided_at,
			(SELECT count(*) FROM allowances WHERE invoice_id = invoices.id AND voided_at IS NULL),
			(SELECT count(*) FROM allowances WHERE invoice_id = invoices.id)
		FROM invoices WHERE id = ?`, id).Scan(&issuedAt, &period, &voided, &liveAllowances, &allowances); err != nil {
		return 0, err
	}
	p, err := posagent.ParsePeriod(period)
	if err != nil {
		return 0, err
	}
	switch {
	case voided.Valid:
		return 0, &posagent.Error{Kind: posagent.KindConflict, Field: "number",
			Message: fmt.Sprintf("invoice %s was already voided at %s", v.Number, fromNanos(voided.Int64).Format(time.DateTime))}
	case liveAllowances > 0 && !anyAllowance:
		return 0, &posagent.Error{Kind: posagent.KindConflict, Field: "number",
			Message: fmt.Sprintf("invoice %s has %d allowance(s): void them first", v.Number, liveAllowances)}
	case allowances > 0 && anyAllowance:
		return 0, &posagent.Error{Kind: posagent.KindConflict, Field: "number",
			Message: fmt.Sprintf("invoice %s has had %d allowance(s), so it can no longer be voided and reissued: use an allowance for the correction", v.Number, allowances)}
	case v.VoidedAt.UnixNano() < issuedAt:
		return 0, posagent.Invalid("voided_at", "a void cannot come before its invoice (%s)", fromNanos(issuedAt).Format(time.DateTime))
	case !v.VoidedAt.Before(p.VoidDeadline()):
		return 0, &posagent.Error{Kind: posagent.KindConflict, Field: "number",
			Message: fmt.Sprintf("invoice %s of period %s can no longer be voided: the void deadline passed at %s; use an allowance",
				v.Number, p.Label(), p.VoidDeadline().Add(-time.Second).Format(time.DateTime))}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE invoices SET voided_at = ?, void_reason = ? WHERE id = ?`,
		v.VoidedAt.UnixNano(), v.Reason, id); err != nil {
		return 0, err
	}
	payload, err := json.Marshal(v)
	if err != nil {
		return 0, err
	}
	var jobID int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO jobs (kind, invoice_id, payload, state, next_at, created_at, updated_at)
		VALUES ('void', ?, ?, 'pending', ?, ?, ?) RETURNING id`, id, string(payload), now, now, now).Scan(&jobID); err != nil {
		return 0, err
	}
	return jobID, addEvent(ctx, tx, id, now, EventVoided, v.Reason)
}

// AllowanceRecord is an allowance as stored.
type AllowanceRecord struct {
	// Allowance carries the provider's number for it (ProviderNumber) once
	// its job is done, when the provider numbers allowances.
	posagent.Allowance
	VoidedAt   time.Time // zero unless voided
	VoidReason string    // why it was voided
	// Upload is the state of the allowance's own job (JobAllowance), and
	// UploadError its last error while it is not done.
	Upload      JobState
	UploadError string
	// VoidUpload is the state of the void's job (JobAllowanceVoid), empty
	// unless voided, and VoidError its last error while it is not done.
	VoidUpload JobState
	VoidError  string
}

// Allow records an allowance (折讓, a partial refund) against an issued
// invoice and queues it as a JobAllowance, handed out only after the
// invoice's earlier jobs are done. It is checked with
// posagent.Allowance.Validate against what is left of the invoice after
// earlier allowances that are not voided: never more than that.
//
// An empty Number gets the invoice number and a sequence, "AB12345678-01"; a
// zero IssuedAt means now. Allow with the Number of a stored allowance and
// the same content (issue time aside) returns the stored one, so a retried
// request is harmless; different content is KindConflict. An allowance on a
// voided invoice is KindConflict.
func (s *Store) Allow(ctx context.Context, a posagent.Allowance) (posagent.Allowance, error) {
	if a.IssuedAt.IsZero() {
		a.IssuedAt = s.now()
	}
	// The provider gives its number when the allowance is uploaded
	// (DoneAllowance); a caller's is not the provider's.
	a.ProviderNumber = ""
	var out posagent.Allowance
	err := s.write(ctx, "allowance on invoice "+string(a.InvoiceNumber), func(tx *sql.Tx, now int64) error {
		id, err := s.invoiceID(ctx, tx, a.InvoiceNumber)
		if err != nil {
			return err
		}
		var doc string
		var voided sql.NullInt64
		var allowed, count int64
		if err := tx.QueryRowContext(ctx, `SELECT doc, voided_at,
				(SELECT coalesce(sum(total), 0) FROM allowances WHERE invoice_id = invoices.id AND voided_at IS NULL),
				(SELECT count(*) FROM allowances WHERE invoice_id = invoices.id)
			FROM invoices WHERE id = ?`, id).Scan(&doc, &voided, &allowed, &count); err != nil {
			return err
		}
		inv, _, err := decodeStored(doc, "")
		if err != nil {
			return err
		}
		if a.Number == "" {
			a.Number = fmt.Sprintf("%s-%02d", inv.Number, count+1)
		}
		hash, err := allowanceHash(a)
		if err != nil {
			return err
		}
		var storedHash []byte
		var storedDoc, storedProviderNumber string
		err = tx.QueryRowContext(ctx, `SELECT content, doc, provider_number FROM allowances WHERE number = ?`, a.Number).
			Scan(&storedHash, &storedDoc, &storedProviderNumber)
		switch {
		case err == nil:
			if !bytes.Equal(storedHash, hash) {
				return &posagent.Error{Kind: posagent.KindConflict, Field: "number",
					Message: fmt.Sprintf("allowance %s exists with different content: a new allowance needs a new number", a.Number)}
			}
			if err := json.Unmarshal([]byte(storedDoc), &out); err != nil {
				return err
			}
			out.ProviderNumber = storedProviderNumber
			return nil
		case !isNoRows(err):
			return err
		}
		if voided.Valid {
			return &posagent.Error{Kind: posagent.KindConflict, Field: "invoice_number",
				Message: fmt.Sprintf("invoice %s is voided: no allowance can be made on it", inv.Number)}
		}
		if err := a.Validate(inv, inv.Total-allowed); err != nil {
			return err
		}
		docBytes, err := json.Marshal(a)
		if err != nil {
			return err
		}
		var allowanceID int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO allowances (invoice_id, number, total, content, doc, issued_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			id, a.Number, a.Total, hash, string(docBytes), a.IssuedAt.UnixNano(), now).Scan(&allowanceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, invoice_id, allowance_id, state, next_at, created_at, updated_at)
			VALUES ('allowance', ?, ?, 'pending', ?, ?, ?)`, id, allowanceID, now, now, now); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, id, now, EventAllowance, fmt.Sprintf("%s: NT$%d, NT$%d left", a.Number, a.Total, inv.Total-allowed-a.Total)); err != nil {
			return err
		}
		return json.Unmarshal(docBytes, &out)
	})
	if err != nil {
		return posagent.Allowance{}, err
	}
	return out, nil
}

func allowanceHash(a posagent.Allowance) ([]byte, error) {
	a.IssuedAt = time.Time{}
	b, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// VoidAllowance records the void of an allowance and queues it as a
// JobAllowanceVoid, handed out only after the allowance's own job (and every
// earlier job of the invoice) is done. The reason is required (≤
// posagent.MaxVoidReason characters). A second void is KindConflict; an
// unknown allowance number KindNotFound.
func (s *Store) VoidAllowance(ctx context.Context, number string, reason string) error {
	switch {
	case reason == "":
		return posagent.Invalid("reason", "is required")
	case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > posagent.MaxVoidReason:
		return posagent.Invalid("reason", "must be valid text of at most %d characters", posagent.MaxVoidReason)
	}
	return s.write(ctx, "void allowance "+number, func(tx *sql.Tx, now int64) error {
		var allowanceID, invoiceID int64
		var voided sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT id, invoice_id, voided_at FROM allowances WHERE number = ?`, number).
			Scan(&allowanceID, &invoiceID, &voided)
		if isNoRows(err) {
			return &posagent.Error{Kind: posagent.KindNotFound, Field: "number", Message: fmt.Sprintf("no allowance %q in this store", number)}
		}
		if err != nil {
			return err
		}
		if voided.Valid {
			return &posagent.Error{Kind: posagent.KindConflict, Field: "number",
				Message: fmt.Sprintf("allowance %s was already voided at %s", number, fromNanos(voided.Int64).Format(time.DateTime))}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE allowances SET voided_at = ?, void_reason = ? WHERE id = ?`, now, reason, allowanceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO jobs (kind, invoice_id, allowance_id, payload, state, next_at, created_at, updated_at)
			VALUES ('allowance_void', ?, ?, ?, 'pending', ?, ?, ?)`, invoiceID, allowanceID, reason, now, now, now); err != nil {
			return err
		}
		return addEvent(ctx, tx, invoiceID, now, EventAllowanceVoided, number+": "+reason)
	})
}

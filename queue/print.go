package queue

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/posagent/posagent"
)

// PrintState is where an invoice's proof is.
type PrintState string

// The print states.
const (
	PrintPending  PrintState = "pending"  // not printed yet
	PrintPrinting PrintState = "printing" // bytes sent or about to be; no outcome recorded (a crash leaves this)
	PrintPrinted  PrintState = "printed"  // a complete proof came out
	PrintFailed   PrintState = "failed"   // the last attempt failed; LastError has the printer's reason
)

// PrintJob is the proof of one printed invoice.
type PrintJob struct {
	Number posagent.InvoiceNumber // the invoice
	State  PrintState             // where the proof is
	// OriginalSpent: the original proof has been printed, or an attempt at it
	// may have reached paper. Every later print is 補印 (promise 5).
	OriginalSpent bool
	Attempts      int       // BeginPrint calls
	Copies        int       // complete prints (original and 補印)
	LastError     string    // the printer's reason for the last failure
	UpdatedAt     time.Time // the last change
	PrintedAt     time.Time // the first complete print; zero before
}

// BeginPrint records that a print of the invoice's proof is about to be sent
// and says whether it must be marked 補印. The first print is the original;
// "original printed" is persisted here, BEFORE the bytes go out
// (mof-einvoice.md §2.4 safe choice), so that a crash or power cut during
// printing can never lead to a second original. Follow it with FinishPrint.
//
// An invoice that is not printed (carrier or donation) or is voided is
// KindConflict; an unknown number KindNotFound.
func (s *Store) BeginPrint(ctx context.Context, number posagent.InvoiceNumber) (reprint bool, err error) {
	err = s.write(ctx, "begin print of "+string(number), func(tx *sql.Tx, now int64) error {
		id, err := s.invoiceID(ctx, tx, number)
		if err != nil {
			return err
		}
		var state sql.NullString
		var spent bool
		var voided sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT print_state, original_spent, voided_at FROM invoices WHERE id = ?`, id).
			Scan(&state, &spent, &voided); err != nil {
			return err
		}
		switch {
		case !state.Valid:
			return &posagent.Error{Kind: posagent.KindConflict, Field: "number",
				Message: fmt.Sprintf("invoice %s is kept in a carrier or donated: no proof is printed", number)}
		case voided.Valid:
			return &posagent.Error{Kind: posagent.KindConflict, Field: "number", Message: fmt.Sprintf("invoice %s is voided: its proof is not printed", number)}
		}
		reprint = spent
		if _, err := tx.ExecContext(ctx, `UPDATE invoices SET print_state = 'printing', original_spent = 1, inflight_original = ?,
			print_attempts = print_attempts + 1, print_updated_at = ? WHERE id = ?`, !reprint, now, id); err != nil {
			return err
		}
		return addEvent(ctx, tx, id, now, EventPrintStarted, printWhich(reprint))
	})
	return reprint, err
}

func printWhich(reprint bool) string {
	if reprint {
		return "補印"
	}
	return "original"
}

// FinishPrint records how the print begun by BeginPrint ended. ok: a complete
// proof came out. Otherwise reason is the printer's answer, and
// mayHaveReachedPaper says whether any of it may have been printed (the
// bytes were sent, a cut or timeout left it unknown): then the original stays
// spent and every later print is 補印. A failure that certainly did not reach
// paper (port would not open, printer reported paper-out before sending) on
// the original attempt hands the original back: the next print is the
// original again.
func (s *Store) FinishPrint(ctx context.Context, number posagent.InvoiceNumber, ok bool, reason string, mayHaveReachedPaper bool) error {
	return s.write(ctx, "finish print of "+string(number), func(tx *sql.Tx, now int64) error {
		id, err := s.invoiceID(ctx, tx, number)
		if err != nil {
			return err
		}
		var state sql.NullString
		var inflightOriginal bool
		if err := tx.QueryRowContext(ctx, `SELECT print_state, inflight_original FROM invoices WHERE id = ?`, id).Scan(&state, &inflightOriginal); err != nil {
			return err
		}
		if !state.Valid {
			return &posagent.Error{Kind: posagent.KindConflict, Field: "number",
				Message: fmt.Sprintf("invoice %s is kept in a carrier or donated: no proof is printed", number)}
		}
		if state.String != string(PrintPrinting) {
			return &posagent.Error{Kind: posagent.KindConflict, Field: "number",
				Message: fmt.Sprintf("invoice %s has no print in progress (it is %s): call BeginPrint first", number, state.String)}
		}
		which := printWhich(!inflightOriginal)
		if ok {
			if _, err := tx.ExecContext(ctx, `UPDATE invoices SET print_state = 'printed', inflight_original = 0, print_copies = print_copies + 1,
				print_error = '', printed_at = coalesce(printed_at, ?), print_updated_at = ? WHERE id = ?`, now, now, id); err != nil {
				return err
			}
			return addEvent(ctx, tx, id, now, EventPrinted, which)
		}
		if reason == "" {
			reason = "the printer gave no reason"
		}
		// The original stays spent unless this attempt was the original and
		// certainly left no paper.
		giveBack := inflightOriginal && !mayHaveReachedPaper
		if _, err := tx.ExecContext(ctx, `UPDATE invoices SET print_state = 'failed', inflight_original = 0, print_error = ?,
			original_spent = CASE WHEN ? THEN 0 ELSE original_spent END, print_updated_at = ? WHERE id = ?`,
			reason, giveBack, now, id); err != nil {
			return err
		}
		detail := which + ": " + reason
		if mayHaveReachedPaper {
			detail += " (may have reached paper)"
		}
		return addEvent(ctx, tx, id, now, EventPrintFailed, detail)
	})
}

const printColumns = `number, print_state, original_spent, print_attempts, print_copies, print_error, print_updated_at, printed_at`

func scanPrint(row interface{ Scan(...any) error }) (PrintJob, error) {
	var p PrintJob
	var number, state string
	var updated int64
	var printed sql.NullInt64
	if err := row.Scan(&number, &state, &p.OriginalSpent, &p.Attempts, &p.Copies, &p.LastError, &updated, &printed); err != nil {
		return PrintJob{}, err
	}
	p.Number, p.State = posagent.InvoiceNumber(number), PrintState(state)
	p.UpdatedAt, p.PrintedAt = fromNanos(updated), fromNullNanos(printed)
	return p, nil
}

// PrintJob returns the proof state of an invoice. An invoice that is not
// printed (carrier or donation) is KindNotFound, as is an unknown number.
func (s *Store) PrintJob(ctx context.Context, number posagent.InvoiceNumber) (PrintJob, error) {
	id, err := s.invoiceID(ctx, s.reader, number)
	if err != nil {
		return PrintJob{}, err
	}
	p, err := scanPrint(s.reader.QueryRowContext(ctx, `SELECT `+printColumns+` FROM invoices WHERE id = ? AND print_state IS NOT NULL`, id))
	if isNoRows(err) {
		return PrintJob{}, &posagent.Error{Kind: posagent.KindNotFound, Field: "number", Message: fmt.Sprintf("invoice %s has no proof to print (carrier or donation)", number)}
	}
	if err != nil {
		return PrintJob{}, s.storageError("read print job of "+string(number), err)
	}
	return p, nil
}

// UnprintedJobs lists the proofs of invoices that are not voided and not
// printed (pending, failed, or left printing by a crash), oldest first, at
// most limit (all when limit ≤ 0): the agent's retry list when the printer
// comes back.
func (s *Store) UnprintedJobs(ctx context.Context, limit int) ([]PrintJob, error) {
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+printColumns+` FROM invoices
		WHERE print_state <> 'printed' AND voided_at IS NULL ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, s.storageError("list unprinted proofs", err)
	}
	defer rows.Close()
	var out []PrintJob
	for rows.Next() {
		p, err := scanPrint(rows)
		if err != nil {
			return nil, s.storageError("list unprinted proofs", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.storageError("list unprinted proofs", err)
	}
	return out, nil
}

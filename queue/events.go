package queue

import (
	"context"
	"database/sql"
	"time"

	"github.com/posagent/posagent"
)

// EventKind names what happened to an invoice.
type EventKind string

// The event kinds. Detail carries the specifics (the number, the reason, the
// job kind, the printer's answer).
const (
	EventIssued          EventKind = "issued"           // numbered and stored
	EventPrintStarted    EventKind = "print_started"    // bytes about to go to the printer (original or 補印)
	EventPrinted         EventKind = "printed"          // a complete proof came out
	EventPrintFailed     EventKind = "print_failed"     // the printer failed; detail has its reason
	EventUploaded        EventKind = "uploaded"         // a job was accepted by the provider; detail names the job
	EventVoided          EventKind = "voided"           // void recorded locally, queued for upload
	EventReissued        EventKind = "reissued"         // voided and replaced by a new invoice; detail names it
	EventReissueOf       EventKind = "reissue_of"       // issued in place of a voided invoice; detail names it
	EventFromOrder       EventKind = "from_order"       // issued from an order taken earlier; detail names it
	EventAllowance       EventKind = "allowance"        // allowance recorded locally, queued for upload
	EventAllowanceVoided EventKind = "allowance_voided" // allowance void recorded, queued for upload
	EventFailed          EventKind = "failed"           // a job attempt failed and will be retried; detail has the error
	EventDead            EventKind = "dead"             // a job gave up and needs a person; detail has the reason
	EventRevived         EventKind = "revived"          // a dead job was put back in the queue
	EventResolved        EventKind = "resolved"         // a person settled a dead job outside posagent; detail has their note
)

// Event is one line of an invoice's history. Events are never changed or
// deleted (a trigger refuses it).
type Event struct {
	// ID orders the events of the store. The EventIssued event is the
	// invoice row itself, which is never changed either, and has ID 0.
	ID     int64
	Number posagent.InvoiceNumber // the invoice
	At     time.Time              // by the store's clock
	Kind   EventKind              // what happened
	Detail string                 // the specifics: reason, job, printer's answer
}

func addEvent(ctx context.Context, tx *sql.Tx, invoiceID int64, now int64, kind EventKind, detail string) error {
	var id any
	if invoiceID != 0 {
		id = invoiceID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO events (invoice_id, at, kind, detail) VALUES (?, ?, ?, ?)`, id, now, string(kind), detail)
	return err
}

// Events returns the history of an invoice, oldest first. An unknown number
// is KindNotFound.
func (s *Store) Events(ctx context.Context, number posagent.InvoiceNumber) ([]Event, error) {
	id, err := s.invoiceID(ctx, s.reader, number)
	if err != nil {
		return nil, err
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.storageError("read events of "+string(number), err)
	}
	defer tx.Rollback()
	var created int64
	var saleID string
	if err := tx.QueryRowContext(ctx, `SELECT created_at, sale_id FROM invoices WHERE id = ?`, id).Scan(&created, &saleID); err != nil {
		return nil, s.storageError("read events of "+string(number), err)
	}
	out := []Event{{Number: number, At: fromNanos(created), Kind: EventIssued, Detail: string(number) + " for sale " + saleID}}
	rows, err := tx.QueryContext(ctx, `SELECT id, at, kind, detail FROM events WHERE invoice_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, s.storageError("read events of "+string(number), err)
	}
	defer rows.Close()
	for rows.Next() {
		var e Event
		var at int64
		var kind string
		if err := rows.Scan(&e.ID, &at, &kind, &e.Detail); err != nil {
			return nil, s.storageError("read events of "+string(number), err)
		}
		e.Number, e.At, e.Kind = number, fromNanos(at), EventKind(kind)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.storageError("read events of "+string(number), err)
	}
	return out, nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// invoiceID finds an invoice by number. The same number may be issued in
// two different periods in principle (the unique key is number and period);
// the latest issue wins.
func (s *Store) invoiceID(ctx context.Context, q querier, number posagent.InvoiceNumber) (int64, error) {
	if !number.Valid() {
		return 0, posagent.Invalid("number", "%q is not an invoice number", number)
	}
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM invoices WHERE number = ? ORDER BY id DESC LIMIT 1`, string(number)).Scan(&id)
	if isNoRows(err) {
		return 0, &posagent.Error{Kind: posagent.KindNotFound, Field: "number", Message: "no invoice " + string(number) + " in this store"}
	}
	if err != nil {
		return 0, s.storageError("find invoice "+string(number), err)
	}
	return id, nil
}

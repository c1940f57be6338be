package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// The Portuguese regime's part of the store: sales accepted and waiting to be
// issued by InvoiceXpress, the journal of the exactly-once procedure, the
// final documents with their receipts' print state, cancels, credit notes and
// the cached taxes. See migrations/0010_portugal.sql.

// PTState is where a Portuguese document stands.
type PTState string

// The states of a Portuguese document.
const (
	PTPending PTState = "pending" // accepted; not issued yet (a draft may exist: see DraftID)
	PTDrafted PTState = "drafted" // drafts_only: a draft is kept at InvoiceXpress for the shop to check
	PTIssued  PTState = "issued"  // final at InvoiceXpress: number, ATCUD, QR
	PTHeld    PTState = "held"    // refused by InvoiceXpress (or a conflict): a person must look
)

// PT entry kinds.
const (
	PTKindSale       = "sale"
	PTKindCreditNote = "credit_note"
)

// PTEntry is one Portuguese document with everything the store knows of it.
type PTEntry struct {
	Seq    int64  // sale order
	Ref    string // the reference at InvoiceXpress
	SaleID string
	Kind   string // PTKindSale or PTKindCreditNote
	// Request is the document to create (no id, no number).
	Request posagent.PTDocument
	// Sale is the sale or refund as accepted, JSON.
	Sale       json.RawMessage
	Total      posagent.Decimal // expected, VAT included
	Note       string
	OwnerRef   string // a credit note's corrected document
	AcceptedAt time.Time

	State     PTState
	Finalize  bool // drafts_only: finalizing was asked for
	Creating  bool
	DraftID   int64
	Attempts  int
	NextAt    time.Time
	LastError string

	// Document is the final document once issued.
	Document *posagent.PTDocument
	IssuedAt time.Time

	Print       PTPrint
	SlipPrinted bool

	CancelMessage string
	CancelState   string // "", pending, done, held
	CancelError   string
	CanceledAt    time.Time
}

// PTPrint is where a Portuguese document's receipt stands: "waiting" (not
// issued yet), "pending", "printing" (bytes sent, no outcome: a crash leaves
// it), "printed", "failed".
type PTPrint struct {
	State         string
	OriginalSpent bool
	Attempts      int
	LastError     string
}

const ptColumns = `seq, ref, sale_id, kind, request, sale, total, note, COALESCE(owner_ref, ''), accepted_at, state, finalize,
	creating, draft_id, attempts, next_at, last_error, document, issued_at, print_state, original_spent,
	print_attempts, print_error, slip_printed, COALESCE(cancel_message, ''), COALESCE(cancel_state, ''), cancel_error, canceled_at`

func scanPT(row interface{ Scan(...any) error }) (PTEntry, error) {
	var e PTEntry
	var request, sale, total string
	var document sql.NullString
	var accepted, next int64
	var issued, canceled sql.NullInt64
	var state string
	if err := row.Scan(&e.Seq, &e.Ref, &e.SaleID, &e.Kind, &request, &sale, &total, &e.Note, &e.OwnerRef, &accepted,
		&state, &e.Finalize, &e.Creating, &e.DraftID, &e.Attempts, &next, &e.LastError, &document, &issued,
		&e.Print.State, &e.Print.OriginalSpent, &e.Print.Attempts, &e.Print.LastError, &e.SlipPrinted,
		&e.CancelMessage, &e.CancelState, &e.CancelError, &canceled); err != nil {
		return PTEntry{}, err
	}
	e.State = PTState(state)
	if err := json.Unmarshal([]byte(request), &e.Request); err != nil {
		return PTEntry{}, fmt.Errorf("document %s: stored request: %w", e.Ref, err)
	}
	e.Sale = json.RawMessage(sale)
	var err error
	if e.Total, err = posagent.ParseDecimal(total); err != nil {
		return PTEntry{}, fmt.Errorf("document %s: stored total: %w", e.Ref, err)
	}
	if document.Valid {
		var d posagent.PTDocument
		if err := json.Unmarshal([]byte(document.String), &d); err != nil {
			return PTEntry{}, fmt.Errorf("document %s: stored document: %w", e.Ref, err)
		}
		e.Document = &d
	}
	e.AcceptedAt = fromNanos(accepted)
	if next > 0 {
		e.NextAt = fromNanos(next)
	}
	e.IssuedAt = fromNullNanos(issued)
	e.CanceledAt = fromNullNanos(canceled)
	return e, nil
}

func ptNotFound(ref string) error {
	return &posagent.Error{Kind: posagent.KindNotFound, Field: "sale_id", Message: fmt.Sprintf("no Portuguese sale or refund %q on this terminal", ref)}
}

// PTAccept stores a Portuguese sale or credit note, durably, before the till
// answers. A ref seen before returns the stored entry and created = false (the
// caller compares the sale). A credit note's owner must exist and be a sale.
func (s *Store) PTAccept(ctx context.Context, e PTEntry) (PTEntry, bool, error) {
	request, err := json.Marshal(e.Request)
	if err != nil {
		return PTEntry{}, false, err
	}
	created := false
	err = s.write(ctx, "accept Portuguese "+e.Kind+" "+e.Ref, func(tx *sql.Tx, now int64) error {
		var seq int64
		switch err := tx.QueryRowContext(ctx, `SELECT seq FROM pt_documents WHERE ref = ?`, e.Ref).Scan(&seq); {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		var owner any
		if e.Kind == PTKindCreditNote {
			var kind string
			switch err := tx.QueryRowContext(ctx, `SELECT kind FROM pt_documents WHERE ref = ?`, e.OwnerRef).Scan(&kind); {
			case errors.Is(err, sql.ErrNoRows):
				return ptNotFound(e.OwnerRef)
			case err != nil:
				return err
			case kind != PTKindSale:
				return &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id", Message: fmt.Sprintf("%q is a credit note: refund the sale itself", e.OwnerRef)}
			}
			owner = e.OwnerRef
		}
		err := ptInsert(ctx, tx, e, request, owner, now)
		created = err == nil
		return err
	})
	if err != nil {
		return PTEntry{}, false, err
	}
	stored, err := s.PTEntry(ctx, e.Ref)
	return stored, created, err
}

func ptInsert(ctx context.Context, tx *sql.Tx, e PTEntry, request []byte, owner any, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO pt_documents (ref, sale_id, kind, doc_type, request, sale, total, note, owner_ref, accepted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Ref, e.SaleID, e.Kind, string(e.Request.Type), string(request), string(e.Sale),
		e.Total.String(), e.Note, owner, now)
	return err
}

// ptKindAndCancel reads a document's kind and cancel state in tx; an
// unknown ref is KindNotFound.
func ptKindAndCancel(ctx context.Context, tx *sql.Tx, ref string) (kind string, cancel sql.NullString, err error) {
	err = tx.QueryRowContext(ctx, `SELECT kind, cancel_state FROM pt_documents WHERE ref = ?`, ref).Scan(&kind, &cancel)
	if errors.Is(err, sql.ErrNoRows) {
		err = ptNotFound(ref)
	}
	return kind, cancel, err
}

// PTAcceptCreditNote stores a credit note of the sale saleRef under ref,
// built by build from the refunds (their Sale JSON, in order) the sale
// already has, all in one transaction: two refunds asked at once cannot both
// take what is left of a line. A ref already stored is returned as it is
// (created false) without calling build. The sale must exist, be a sale and
// not be cancelled (KindNotFound, KindConflict); build's error is returned.
func (s *Store) PTAcceptCreditNote(ctx context.Context, ref, saleRef string, build func(prior []json.RawMessage) (PTEntry, error)) (PTEntry, bool, error) {
	created := false
	err := s.write(ctx, "accept Portuguese credit note "+ref, func(tx *sql.Tx, now int64) error {
		var seq int64
		switch err := tx.QueryRowContext(ctx, `SELECT seq FROM pt_documents WHERE ref = ?`, ref).Scan(&seq); {
		case err == nil:
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		switch kind, cancel, err := ptKindAndCancel(ctx, tx, saleRef); {
		case err != nil:
			return err
		case kind != PTKindSale:
			return &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id", Message: fmt.Sprintf("%q is a credit note: refund the sale itself", saleRef)}
		case cancel.Valid:
			return &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id", Message: saleRef + " is cancelled"}
		}
		rows, err := tx.QueryContext(ctx, `SELECT sale FROM pt_documents WHERE owner_ref = ? ORDER BY seq`, saleRef)
		if err != nil {
			return err
		}
		var prior []json.RawMessage
		for rows.Next() {
			var body string
			if err := rows.Scan(&body); err != nil {
				rows.Close()
				return err
			}
			prior = append(prior, json.RawMessage(body))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		e, err := build(prior)
		if err != nil {
			return err
		}
		e.Ref, e.SaleID, e.Kind, e.OwnerRef = ref, saleRef, PTKindCreditNote, saleRef
		request, err := json.Marshal(e.Request)
		if err != nil {
			return err
		}
		err = ptInsert(ctx, tx, e, request, saleRef, now)
		created = err == nil
		return err
	})
	if err != nil {
		return PTEntry{}, false, err
	}
	stored, err := s.PTEntry(ctx, ref)
	return stored, created, err
}

// PTEntry reads one document by its reference.
func (s *Store) PTEntry(ctx context.Context, ref string) (PTEntry, error) {
	e, err := scanPT(s.reader.QueryRowContext(ctx, `SELECT `+ptColumns+` FROM pt_documents WHERE ref = ?`, ref))
	if errors.Is(err, sql.ErrNoRows) {
		return PTEntry{}, ptNotFound(ref)
	}
	if err != nil {
		return PTEntry{}, s.storageError("read Portuguese document "+ref, err)
	}
	return e, nil
}

// PTRefunds lists the credit notes of a sale, in order.
func (s *Store) PTRefunds(ctx context.Context, saleRef string) ([]PTEntry, error) {
	return s.ptQuery(ctx, `WHERE owner_ref = ? ORDER BY seq`, saleRef)
}

func (s *Store) ptQuery(ctx context.Context, where string, args ...any) ([]PTEntry, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+ptColumns+` FROM pt_documents `+where, args...)
	if err != nil {
		return nil, s.storageError("list Portuguese documents", err)
	}
	defer rows.Close()
	var out []PTEntry
	for rows.Next() {
		e, err := scanPT(rows)
		if err != nil {
			return nil, s.storageError("list Portuguese documents", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.storageError("list Portuguese documents", err)
	}
	return out, nil
}

// PTNext is the next document to work on, in sale order: the oldest pending
// one that can be issued (a credit note waits for its sale's document). Its
// NextAt may be in the future: the caller waits, so that order holds.
func (s *Store) PTNext(ctx context.Context) (PTEntry, bool, error) {
	es, err := s.ptQuery(ctx, `WHERE state = 'pending' AND (owner_ref IS NULL OR owner_ref IN
		(SELECT ref FROM pt_documents WHERE state = 'issued')) ORDER BY seq LIMIT 1`)
	if err != nil || len(es) == 0 {
		return PTEntry{}, false, err
	}
	return es[0], true, nil
}

// PTList lists documents in a state, in sale order (all states for "").
func (s *Store) PTList(ctx context.Context, state PTState, limit int) ([]PTEntry, error) {
	if state == "" {
		return s.ptQuery(ctx, `ORDER BY seq LIMIT ?`, limit)
	}
	return s.ptQuery(ctx, `WHERE state = ? ORDER BY seq LIMIT ?`, string(state), limit)
}

// ptUpdate runs one UPDATE on the document ref in its own committed
// transaction; the document must exist.
func (s *Store) ptUpdate(ctx context.Context, op, ref, set string, args ...any) error {
	return s.write(ctx, op+" "+ref, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE pt_documents SET `+strings.ReplaceAll(set, ":now", fmt.Sprint(now))+` WHERE ref = ?`, append(args, ref)...)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ptNotFound(ref)
		}
		return nil
	})
}

// PTCreating journals that a create may be sent for ref (invoicexpress.Journal).
func (s *Store) PTCreating(ctx context.Context, ref string) error {
	return s.ptUpdate(ctx, "journal create of", ref, `creating = 1`)
}

// PTDrafted journals ref's draft id (invoicexpress.Journal).
func (s *Store) PTDrafted(ctx context.Context, ref string, id int64) error {
	return s.ptUpdate(ctx, "journal draft of", ref, `draft_id = ?`, id)
}

// PTKeepDraft records that ref's draft is kept for the shop to check (drafts_only).
func (s *Store) PTKeepDraft(ctx context.Context, ref string, id int64) error {
	return s.ptUpdate(ctx, "keep draft of", ref, `state = 'drafted', draft_id = ?, last_error = '', next_at = 0`, id)
}

// PTFinalizeDrafts puts every kept draft back in the queue to be finalized,
// in sale order, and says how many.
func (s *Store) PTFinalizeDrafts(ctx context.Context) (int, error) {
	n := 0
	err := s.write(ctx, "finalize kept drafts", func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE pt_documents SET state = 'pending', finalize = 1, next_at = 0 WHERE state = 'drafted'`)
		if err != nil {
			return err
		}
		c, _ := res.RowsAffected()
		n = int(c)
		return nil
	})
	return n, err
}

// PTIssued stores the final document of ref; its receipt is then due.
func (s *Store) PTIssued(ctx context.Context, ref string, doc posagent.PTDocument) error {
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	return s.ptUpdate(ctx, "store issued document", ref, `state = 'issued', document = ?, doc_id = ?, number = ?, atcud = ?,
		issued_at = :now, last_error = '', next_at = 0, print_state = CASE print_state WHEN 'waiting' THEN 'pending' ELSE print_state END`,
		string(raw), doc.ID, doc.SequenceNumber, doc.ATCUD)
}

// PTRetry records a failed attempt; the document is tried again at at.
func (s *Store) PTRetry(ctx context.Context, ref string, at time.Time, cause error) error {
	return s.ptUpdate(ctx, "record failed attempt of", ref, `attempts = attempts + 1, next_at = ?, last_error = ?`,
		at.UnixNano(), errText(cause))
}

// PTHold sets ref aside for a person, with the reason.
func (s *Store) PTHold(ctx context.Context, ref string, cause error) error {
	return s.ptUpdate(ctx, "hold", ref, `state = 'held', attempts = attempts + 1, last_error = ?`, errText(cause))
}

// PTRelease puts a held document (or a held cancel) back in the queue, for
// after a person fixed the cause. Anything else is KindConflict.
func (s *Store) PTRelease(ctx context.Context, ref string) error {
	return s.write(ctx, "release "+ref, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE pt_documents SET state = 'pending', next_at = 0 WHERE ref = ? AND state = 'held'`, ref)
		if err != nil {
			return err
		}
		n1, _ := res.RowsAffected()
		res, err = tx.ExecContext(ctx, `UPDATE pt_documents SET cancel_state = 'pending' WHERE ref = ? AND cancel_state = 'held'`, ref)
		if err != nil {
			return err
		}
		if n2, _ := res.RowsAffected(); n1+n2 == 0 {
			return &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id", Message: fmt.Sprintf("%s is not held: nothing to retry", ref)}
		}
		return nil
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// PTBeginPrint records that ref's receipt is about to be sent and says
// whether it must be marked a copy: "original spent" is persisted before the
// bytes go out, so that a crash while printing never gives a second original.
func (s *Store) PTBeginPrint(ctx context.Context, ref string) (copy bool, err error) {
	err = s.write(ctx, "begin print of "+ref, func(tx *sql.Tx, now int64) error {
		var state string
		var spent bool
		switch err := tx.QueryRowContext(ctx, `SELECT state, original_spent FROM pt_documents WHERE ref = ?`, ref).Scan(&state, &spent); {
		case errors.Is(err, sql.ErrNoRows):
			return ptNotFound(ref)
		case err != nil:
			return err
		case state != string(PTIssued):
			return &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id", Message: fmt.Sprintf("%s is not issued yet: there is no document to print", ref)}
		}
		copy = spent
		_, err := tx.ExecContext(ctx, `UPDATE pt_documents SET print_state = 'printing', original_spent = 1, print_attempts = print_attempts + 1 WHERE ref = ?`, ref)
		return err
	})
	return copy, err
}

// PTFinishPrint records how the print went. A failed original that cannot
// have reached paper gives the original back: the next print is the original.
func (s *Store) PTFinishPrint(ctx context.Context, ref string, printed, wasCopy bool, reason string, mayHaveReachedPaper bool) error {
	if printed {
		return s.ptUpdate(ctx, "finish print of", ref, `print_state = 'printed', print_error = ''`)
	}
	spent := 0
	if wasCopy || mayHaveReachedPaper {
		spent = 1
	}
	return s.ptUpdate(ctx, "finish print of", ref, `print_state = 'failed', print_error = ?, original_spent = ?`, reason, spent)
}

// PTSlipPrinted records that the "not an invoice" slip went out.
func (s *Store) PTSlipPrinted(ctx context.Context, ref string) error {
	return s.ptUpdate(ctx, "record slip of", ref, `slip_printed = 1`)
}

// PTUnprinted lists the issued documents whose receipt is still to print, in sale order.
func (s *Store) PTUnprinted(ctx context.Context, limit int) ([]PTEntry, error) {
	return s.ptQuery(ctx, `WHERE print_state IN ('pending', 'printing', 'failed') ORDER BY seq LIMIT ?`, limit)
}

// PTRequestCancel records a cancel of ref with its message, to be sent once
// the document is issued. A cancel asked twice is KindConflict.
func (s *Store) PTRequestCancel(ctx context.Context, ref, message string) error {
	return s.write(ctx, "cancel "+ref, func(tx *sql.Tx, now int64) error {
		switch _, cs, err := ptKindAndCancel(ctx, tx, ref); {
		case err != nil:
			return err
		case cs.Valid:
			return &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id", Message: fmt.Sprintf("%s was already cancelled", ref)}
		}
		var refunds int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM pt_documents WHERE owner_ref = ?`, ref).Scan(&refunds); err != nil {
			return err
		}
		if refunds > 0 {
			return &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id", Message: fmt.Sprintf("%s has credit notes: a document with credit notes is not cancelled", ref)}
		}
		_, err := tx.ExecContext(ctx, `UPDATE pt_documents SET cancel_message = ?, cancel_state = 'pending', canceled_at = ? WHERE ref = ?`, message, now, ref)
		return err
	})
}

// PTNextCancel is the oldest cancel waiting whose document is issued.
func (s *Store) PTNextCancel(ctx context.Context) (PTEntry, bool, error) {
	es, err := s.ptQuery(ctx, `WHERE cancel_state = 'pending' AND state = 'issued' ORDER BY seq LIMIT 1`)
	if err != nil || len(es) == 0 {
		return PTEntry{}, false, err
	}
	return es[0], true, nil
}

// PTCancelDone records that InvoiceXpress cancelled ref's document.
func (s *Store) PTCancelDone(ctx context.Context, ref string) error {
	return s.ptUpdate(ctx, "record cancel of", ref, `cancel_state = 'done', cancel_error = ''`)
}

// PTCancelFailed records a failed cancel: held for a person, or to retry.
func (s *Store) PTCancelFailed(ctx context.Context, ref string, hold bool, cause error) error {
	state := "pending"
	if hold {
		state = "held"
	}
	return s.ptUpdate(ctx, "record failed cancel of", ref, `cancel_state = ?, cancel_error = ?`, state, errText(cause))
}

// PTTax is one of the account's taxes as cached.
type PTTax struct {
	Name      string
	Value     posagent.Decimal
	Region    string
	Default   bool
	FetchedAt time.Time
}

// PTSetTaxes replaces the cached taxes with a fresh list.
func (s *Store) PTSetTaxes(ctx context.Context, taxes []PTTax) error {
	return s.write(ctx, "cache taxes", func(tx *sql.Tx, now int64) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pt_taxes`); err != nil {
			return err
		}
		for _, t := range taxes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO pt_taxes (name, value, region, is_default, fetched_at) VALUES (?, ?, ?, ?, ?)`,
				t.Name, t.Value.String(), t.Region, t.Default, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// PTTaxes returns the cached taxes (none before the first refresh).
func (s *Store) PTTaxes(ctx context.Context) ([]PTTax, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT name, value, region, is_default, fetched_at FROM pt_taxes ORDER BY name`)
	if err != nil {
		return nil, s.storageError("read cached taxes", err)
	}
	defer rows.Close()
	var out []PTTax
	for rows.Next() {
		var t PTTax
		var v string
		var at int64
		if err := rows.Scan(&t.Name, &v, &t.Region, &t.Default, &at); err != nil {
			return nil, s.storageError("read cached taxes", err)
		}
		if t.Value, err = posagent.ParseDecimal(v); err != nil {
			return nil, s.storageError("read cached taxes", err)
		}
		t.FetchedAt = fromNanos(at)
		out = append(out, t)
	}
	return out, rows.Err()
}

// PTStats summarises the Portuguese documents for status and metrics.
type PTStats struct {
	Pending, Drafted, Issued, Held int
	// OldestPending is when the oldest document not yet issued was accepted.
	OldestPending  time.Time
	PrintsPending  int
	CancelsPending int
	CancelsHeld    int
}

// PTStatus reads the summary.
func (s *Store) PTStatus(ctx context.Context) (PTStats, error) {
	var st PTStats
	rows, err := s.reader.QueryContext(ctx, `SELECT state, COUNT(*), MIN(accepted_at) FROM pt_documents GROUP BY state`)
	if err != nil {
		return st, s.storageError("Portuguese status", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		var oldest int64
		if err := rows.Scan(&state, &n, &oldest); err != nil {
			return st, s.storageError("Portuguese status", err)
		}
		switch PTState(state) {
		case PTPending:
			st.Pending = n
			if st.OldestPending.IsZero() || fromNanos(oldest).Before(st.OldestPending) {
				st.OldestPending = fromNanos(oldest)
			}
		case PTHeld:
			st.Held = n
			if st.OldestPending.IsZero() || fromNanos(oldest).Before(st.OldestPending) {
				st.OldestPending = fromNanos(oldest)
			}
		case PTDrafted:
			st.Drafted = n
		case PTIssued:
			st.Issued = n
		}
	}
	if err := rows.Err(); err != nil {
		return st, s.storageError("Portuguese status", err)
	}
	err = s.reader.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM pt_documents WHERE print_state IN ('pending', 'printing', 'failed')),
		(SELECT COUNT(*) FROM pt_documents WHERE cancel_state = 'pending'),
		(SELECT COUNT(*) FROM pt_documents WHERE cancel_state = 'held')`).Scan(&st.PrintsPending, &st.CancelsPending, &st.CancelsHeld)
	if err != nil {
		return st, s.storageError("Portuguese status", err)
	}
	return st, nil
}

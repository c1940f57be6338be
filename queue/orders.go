package queue

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/posagent/posagent"
)

// OrderState is where an order stands.
type OrderState string

// The order states: an open order becomes issued (it has an invoice) or
// cancelled (it never will), and stays so.
const (
	OrderOpen      OrderState = "open"
	OrderIssued    OrderState = "issued"
	OrderCancelled OrderState = "cancelled"
)

// Order is a sale accepted without a number (預購, 取貨), issued later.
type Order struct {
	// ID is the POS's id for the order; the invoice issued from it carries
	// it as its sale id.
	ID string
	// Sale is the sale as ordered; its IssuedAt is when it was ordered.
	Sale  posagent.Invoice
	State OrderState
	// CreatedAt is when the store took the order, UpdatedAt its last change.
	CreatedAt, UpdatedAt time.Time
	// Invoice is the number of the invoice issued from it (OrderIssued).
	Invoice posagent.InvoiceNumber
	// CancelReason is why it was cancelled (OrderCancelled).
	CancelReason string
}

// MaxOrderList is the most orders Orders returns at once.
const MaxOrderList = 1000

// AddOrder stores a sale as an open order, keyed by its SaleID. The sale is
// checked as Issue checks one (it must pass Validate and carry no number or
// random code), but no number is taken. An order id stored before with the
// same content (issue time aside) returns the stored order and created =
// false; different content is KindConflict, and so is an id an invoice was
// already issued for.
func (s *Store) AddOrder(ctx context.Context, sale posagent.Invoice) (Order, bool, error) {
	if err := checkSale(sale); err != nil {
		return Order{}, false, err
	}
	hash, err := saleHash(sale)
	if err != nil {
		return Order{}, false, err
	}
	doc, err := json.Marshal(sale)
	if err != nil {
		return Order{}, false, err
	}
	var out Order
	created := false
	err = s.write(ctx, "add order "+sale.SaleID, func(tx *sql.Tx, now int64) error {
		o, stored, err := loadOrder(ctx, tx, sale.SaleID)
		switch {
		case err == nil:
			if !bytes.Equal(stored, hash) {
				return &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id",
					Message: fmt.Sprintf("order %s was taken with different content: a new order needs a new id", sale.SaleID)}
			}
			out = o
			return nil
		case !posagent.IsKind(err, posagent.KindNotFound):
			return err
		}
		var number string
		err = tx.QueryRowContext(ctx, `SELECT number FROM invoices WHERE sale_id = ?`, sale.SaleID).Scan(&number)
		switch {
		case err == nil:
			return &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id",
				Message: fmt.Sprintf("sale %s was issued as invoice %s already: an order needs an id of its own", sale.SaleID, number)}
		case !isNoRows(err):
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO orders (id, content, doc, total, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'open', ?, ?)`, sale.SaleID, hash, string(doc), sale.Total, now, now); err != nil {
			return err
		}
		out, _, err = loadOrder(ctx, tx, sale.SaleID)
		created = true
		return err
	})
	if err != nil {
		return Order{}, false, err
	}
	return out, created, nil
}

// loadOrder reads an order; stored is its content hash. Unknown is KindNotFound.
func loadOrder(ctx context.Context, q querier, id string) (Order, []byte, error) {
	var o Order
	var doc, state string
	var content []byte
	var created, updated int64
	var number sql.NullString
	err := q.QueryRowContext(ctx, `SELECT o.content, o.doc, o.state, o.created_at, o.updated_at, o.cancel_reason, i.number
		FROM orders o LEFT JOIN invoices i ON i.id = o.invoice_id WHERE o.id = ?`, id).
		Scan(&content, &doc, &state, &created, &updated, &o.CancelReason, &number)
	if isNoRows(err) {
		return Order{}, nil, &posagent.Error{Kind: posagent.KindNotFound, Field: "id", Message: fmt.Sprintf("no order %q in this store", id)}
	}
	if err != nil {
		return Order{}, nil, err
	}
	if o.Sale, _, err = decodeStored(doc, ""); err != nil {
		return Order{}, nil, err
	}
	o.ID, o.State, o.CreatedAt, o.UpdatedAt = id, OrderState(state), fromNanos(created), fromNanos(updated)
	o.Invoice = posagent.InvoiceNumber(number.String)
	return o, content, nil
}

// Order returns an order by id. Unknown is KindNotFound.
func (s *Store) Order(ctx context.Context, id string) (Order, error) {
	o, _, err := loadOrder(ctx, s.reader, id)
	if err != nil && !posagent.IsKind(err, posagent.KindNotFound) {
		return Order{}, s.storageError("read order "+id, err)
	}
	return o, err
}

// Orders lists orders in a state ("" is every state), oldest first, at most
// limit (1 to MaxOrderList).
func (s *Store) Orders(ctx context.Context, state OrderState, limit int) ([]Order, error) {
	switch state {
	case "", OrderOpen, OrderIssued, OrderCancelled:
	default:
		return nil, posagent.Invalid("state", "must be open, issued or cancelled")
	}
	if limit < 1 || limit > MaxOrderList {
		return nil, posagent.Invalid("limit", "must be 1 to %d", MaxOrderList)
	}
	q := `SELECT id FROM orders ORDER BY created_at, id LIMIT ?`
	args := []any{limit}
	if state != "" {
		q = `SELECT id FROM orders WHERE state = ? ORDER BY created_at, id LIMIT ?`
		args = []any{string(state), limit}
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.storageError("list orders", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, s.storageError("list orders", err)
	}
	ids, err := column[string](rows)
	if err != nil {
		return nil, s.storageError("list orders", err)
	}
	out := make([]Order, 0, len(ids))
	for _, id := range ids {
		o, _, err := loadOrder(ctx, tx, id)
		if err != nil {
			return nil, s.storageError("list orders", err)
		}
		out = append(out, o)
	}
	return out, nil
}

// CancelOrder cancels an open order: it will never have an invoice. The
// reason is required (≤ posagent.MaxVoidReason characters). Cancelling a
// cancelled order returns it unchanged; an issued one is KindConflict (void
// its invoice instead); an unknown one KindNotFound.
func (s *Store) CancelOrder(ctx context.Context, id, reason string) (Order, error) {
	switch {
	case reason == "":
		return Order{}, posagent.Invalid("reason", "is required")
	case !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > posagent.MaxVoidReason:
		return Order{}, posagent.Invalid("reason", "must be valid text of at most %d characters", posagent.MaxVoidReason)
	}
	var out Order
	err := s.write(ctx, "cancel order "+id, func(tx *sql.Tx, now int64) error {
		o, _, err := loadOrder(ctx, tx, id)
		if err != nil {
			return err
		}
		switch o.State {
		case OrderCancelled:
			out = o
			return nil
		case OrderIssued:
			return &posagent.Error{Kind: posagent.KindConflict, Field: "id",
				Message: fmt.Sprintf("order %s was issued as invoice %s: void the invoice instead", id, o.Invoice)}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET state = 'cancelled', cancel_reason = ?, updated_at = ? WHERE id = ?`,
			reason, now, id); err != nil {
			return err
		}
		out, _, err = loadOrder(ctx, tx, id)
		return err
	})
	if err != nil {
		return Order{}, err
	}
	return out, nil
}

// IssueOrder issues an open order as an invoice dated issuedAt (the moment
// the POS says so): numbered from the booklets of issuedAt's period, with an
// upload job, a print job when printed, and a "from_order" event, in one
// transaction with the order's change to issued. An issued order returns its
// invoice with Replayed set; a cancelled one is KindConflict.
func (s *Store) IssueOrder(ctx context.Context, id string, issuedAt time.Time, opt IssueOptions) (Issued, error) {
	if issuedAt.IsZero() {
		return Issued{}, posagent.Invalid("issued_at", "is required")
	}
	var out Issued
	err := s.write(ctx, "issue order "+id, func(tx *sql.Tx, now int64) error {
		o, _, err := loadOrder(ctx, tx, id)
		if err != nil {
			return err
		}
		switch o.State {
		case OrderCancelled:
			return &posagent.Error{Kind: posagent.KindConflict, Field: "id",
				Message: fmt.Sprintf("order %s was cancelled (%s): it has no invoice", id, o.CancelReason)}
		case OrderIssued:
			// The stored invoice comes back through the sale id.
			out, err = s.issueTx(ctx, tx, now, o.Sale, opt, issueLinks{})
			return err
		}
		sale := o.Sale
		sale.IssuedAt = issuedAt.In(posagent.Taipei)
		if err := checkSale(sale); err != nil {
			return err
		}
		if out, err = s.issueTx(ctx, tx, now, sale, opt, issueLinks{}); err != nil {
			return err
		}
		var invoiceID int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM invoices WHERE sale_id = ?`, sale.SaleID).Scan(&invoiceID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE orders SET state = 'issued', invoice_id = ?, updated_at = ? WHERE id = ?`,
			invoiceID, now, id); err != nil {
			return err
		}
		return addEvent(ctx, tx, invoiceID, now, EventFromOrder,
			fmt.Sprintf("order %s taken %s", id, o.CreatedAt.Format(time.DateTime)))
	})
	if err != nil {
		return Issued{}, err
	}
	return out, nil
}

// OrderCounts counts the open orders, and those of them taken before
// staleBefore, with the time the oldest open order was taken (zero: none).
func (s *Store) OrderCounts(ctx context.Context, staleBefore time.Time) (open, stale int, oldest time.Time, err error) {
	var first sql.NullInt64
	err = s.reader.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(created_at < ?), 0), min(created_at)
		FROM orders WHERE state = 'open'`, staleBefore.UnixNano()).Scan(&open, &stale, &first)
	if err != nil {
		return 0, 0, time.Time{}, s.storageError("count orders", err)
	}
	return open, stale, fromNullNanos(first), nil
}

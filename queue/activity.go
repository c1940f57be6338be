package queue

import (
	"context"
	"time"

	"github.com/posagent/posagent"
)

// MaxActivity caps the records Activity returns: a day at a busy till is a
// few hundred invoices; a wider window is cut here rather than read whole.
const MaxActivity = 5000

// Activity returns the records of the invoices touched in [from, to): issued,
// voided, or with an allowance issued or voided in the window, oldest first,
// at most MaxActivity (more is KindInvalid on field "to": ask for a shorter
// window). It is the day's book for the operator console's list and summary.
func (s *Store) Activity(ctx context.Context, from, to time.Time) ([]Record, error) {
	f, t := from.UnixNano(), to.UnixNano()
	// Invoices are numbered in the order they are issued, so the id order is
	// the issue order. Each part of the union reads its own index (migration
	// 0006): a till's years of invoices are never walked for one day's book.
	rows, err := s.reader.QueryContext(ctx, `SELECT id FROM invoices WHERE issued_at >= ?1 AND issued_at < ?2
		UNION SELECT id FROM invoices WHERE voided_at >= ?1 AND voided_at < ?2
		UNION SELECT invoice_id FROM allowances WHERE issued_at >= ?1 AND issued_at < ?2
		UNION SELECT invoice_id FROM allowances WHERE voided_at >= ?1 AND voided_at < ?2
		ORDER BY 1 LIMIT ?3`, f, t, MaxActivity+1)
	if err != nil {
		return nil, s.storageError("list invoices", err)
	}
	ids, err := column[int64](rows)
	if err != nil {
		return nil, s.storageError("list invoices", err)
	}
	if len(ids) > MaxActivity {
		return nil, posagent.Invalid("to", "more than %d invoices in this window: ask for a shorter one", MaxActivity)
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

package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/posagent/posagent"
)

// BookletInfo is a booklet range held by the store, with its cursor.
type BookletInfo struct {
	posagent.Booklet
	// ID is the store's id for the range; ranges are used in ID order.
	ID int64
	// Next is the next sequence number to issue; Last+1 once the range is used up.
	Next int
	// Left is how many numbers can still be issued (0 once retired).
	Left int
	// Unused is how many numbers were never issued: once retired, the blank
	// numbers of the range.
	Unused    int
	AddedAt   time.Time // when the range was stored
	RetiredAt time.Time // zero while the range is in use
}

// Retired reports whether the range's period has been closed.
func (b BookletInfo) Retired() bool { return !b.RetiredAt.IsZero() }

// AddBooklet stores a range leased to this terminal (its numbers become
// available to Issue in the order ranges are added). The range must pass
// posagent.Booklet.Validate (two-letter track, whole booklets of 50, a
// period). Adding exactly the same range again returns the stored one, so a
// lease that is retried after an unanswered reply is harmless; a range that
// overlaps another of the same track and period is KindConflict, and so is
// a range for a period already retired (its blank numbers are reported).
func (s *Store) AddBooklet(ctx context.Context, b posagent.Booklet) (BookletInfo, error) {
	if err := b.Validate(); err != nil {
		return BookletInfo{}, err
	}
	var out BookletInfo
	err := s.write(ctx, "add booklet "+b.String(), func(tx *sql.Tx, now int64) error {
		var retired int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM booklets WHERE period = ? AND retired_at IS NOT NULL`, b.Period.Code()).Scan(&retired); err != nil {
			return err
		}
		if retired > 0 {
			return &posagent.Error{Kind: posagent.KindConflict, Field: "period",
				Message: fmt.Sprintf("period %s (%s) is retired: its numbers can no longer be issued", b.Period, b.Period.Label())}
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, first, last, source, seller FROM booklets
			WHERE track = ? AND period = ? AND first <= ? AND last >= ?`, b.Track, b.Period.Code(), b.Last, b.First)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var first, last int
			var source, seller string
			if err := rows.Scan(&id, &first, &last, &source, &seller); err != nil {
				return err
			}
			if first == b.First && last == b.Last && seller != b.Seller && seller != "" && b.Seller != "" {
				// A number is one seller's: the same range for another is a mistake.
				return &posagent.Error{Kind: posagent.KindConflict, Field: "seller",
					Message: fmt.Sprintf("%s of period %s is held for seller %s, not %s", b, b.Period, seller, b.Seller)}
			}
			if first == b.First && last == b.Last {
				out.ID = id
				continue
			}
			other := posagent.Booklet{Track: b.Track, First: first, Last: last, Period: b.Period}
			return &posagent.Error{Kind: posagent.KindConflict, Field: "range",
				Message: fmt.Sprintf("%s overlaps %s (from %q) already held for period %s", b, other, source, b.Period)}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if out.ID != 0 {
			return nil
		}
		return tx.QueryRowContext(ctx, `INSERT INTO booklets (track, first, last, period, source, next, added_at, seller)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			b.Track, b.First, b.Last, b.Period.Code(), b.Source, b.First, now, b.Seller).Scan(&out.ID)
	})
	if err != nil {
		return BookletInfo{}, err
	}
	return s.booklet(ctx, out.ID)
}

const bookletColumns = `id, track, first, last, period, source, next, added_at, retired_at, seller`

func scanBooklet(row interface{ Scan(...any) error }) (BookletInfo, error) {
	var b BookletInfo
	var period string
	var added int64
	var retired sql.NullInt64
	if err := row.Scan(&b.ID, &b.Track, &b.First, &b.Last, &period, &b.Source, &b.Next, &added, &retired, &b.Seller); err != nil {
		return BookletInfo{}, err
	}
	p, err := posagent.ParsePeriod(period)
	if err != nil {
		return BookletInfo{}, fmt.Errorf("booklet %d: stored period: %w", b.ID, err)
	}
	b.Period = p
	b.AddedAt = fromNanos(added)
	b.RetiredAt = fromNullNanos(retired)
	b.Unused = b.Last + 1 - b.Next
	if !b.Retired() {
		b.Left = b.Unused
	}
	return b, nil
}

func (s *Store) booklet(ctx context.Context, id int64) (BookletInfo, error) {
	b, err := scanBooklet(s.reader.QueryRowContext(ctx, `SELECT `+bookletColumns+` FROM booklets WHERE id = ?`, id))
	if err != nil {
		return BookletInfo{}, s.storageError("read booklet", err)
	}
	return b, nil
}

// Booklets lists the ranges of period p in the order they are used, or of
// every period when p is the zero Period.
func (s *Store) Booklets(ctx context.Context, p posagent.Period) ([]BookletInfo, error) {
	query := `SELECT ` + bookletColumns + ` FROM booklets ORDER BY period, id`
	args := []any{}
	if !p.IsZero() {
		query = `SELECT ` + bookletColumns + ` FROM booklets WHERE period = ? ORDER BY id`
		args = append(args, p.Code())
	}
	return s.booklets(ctx, query, args...)
}

// BlankBooklets lists the retired booklets of period p that hold numbers
// never issued (reported blank). Status asks it for recent periods: SQLite
// filters the period's booklets off the booklets_period index, and only the
// few that match are read into Go.
func (s *Store) BlankBooklets(ctx context.Context, p posagent.Period) ([]BookletInfo, error) {
	return s.booklets(ctx, `SELECT `+bookletColumns+` FROM booklets
		WHERE period = ? AND retired_at IS NOT NULL AND next <= last ORDER BY id`, p.Code())
}

func (s *Store) booklets(ctx context.Context, query string, args ...any) ([]BookletInfo, error) {
	rows, err := s.reader.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, s.storageError("list booklets", err)
	}
	defer rows.Close()
	var out []BookletInfo
	for rows.Next() {
		b, err := scanBooklet(rows)
		if err != nil {
			return nil, s.storageError("list booklets", err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, s.storageError("list booklets", err)
	}
	return out, nil
}

// RetirePeriod closes period p once it has ended: its ranges give no more
// numbers, and the numbers never issued are returned as ranges (in use
// order; they need not start on a booklet boundary) and queued as one
// JobBlank job for the E0402 blank-number report. Retiring a period again
// returns the same ranges and queues nothing new. Retiring a period that has
// not ended by the store's clock is KindConflict.
func (s *Store) RetirePeriod(ctx context.Context, p posagent.Period) ([]posagent.Booklet, error) {
	if p.IsZero() {
		return nil, posagent.Invalid("period", "is required")
	}
	if now := s.now(); now.Before(p.End()) {
		return nil, &posagent.Error{Kind: posagent.KindConflict, Field: "period",
			Message: fmt.Sprintf("period %s (%s) runs until %s: its numbers can still be issued", p, p.Label(), p.End().Format(time.DateOnly))}
	}
	var unused []posagent.Booklet
	err := s.write(ctx, "retire period "+p.Code(), func(tx *sql.Tx, now int64) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, track, next, last, source, retired_at, seller FROM booklets WHERE period = ? ORDER BY id`, p.Code())
		if err != nil {
			return err
		}
		defer rows.Close()
		fresh := false
		for rows.Next() {
			var id int64
			var b posagent.Booklet
			var retired sql.NullInt64
			// The part never issued runs from the cursor to the end.
			if err := rows.Scan(&id, &b.Track, &b.First, &b.Last, &b.Source, &retired, &b.Seller); err != nil {
				return err
			}
			fresh = fresh || !retired.Valid
			b.Period = p
			if b.First <= b.Last {
				unused = append(unused, b)
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		if !fresh {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE booklets SET retired_at = ? WHERE period = ? AND retired_at IS NULL`, now, p.Code()); err != nil {
			return err
		}
		// One report per seller: each goes to its seller's provider.
		var sellers []string
		bySeller := map[string][]posagent.Booklet{}
		for _, b := range unused {
			if _, ok := bySeller[b.Seller]; !ok {
				sellers = append(sellers, b.Seller)
			}
			bySeller[b.Seller] = append(bySeller[b.Seller], b)
		}
		for _, seller := range sellers {
			payload, err := json.Marshal(blankPayload{Period: p, Unused: bySeller[seller], Seller: seller})
			if err != nil {
				return err
			}
			if _, err = tx.ExecContext(ctx, `INSERT INTO jobs (kind, payload, state, next_at, created_at, updated_at)
				VALUES ('blank', ?, 'pending', ?, ?, ?)`, string(payload), now, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return unused, nil
}

type blankPayload struct {
	Period posagent.Period    `json:"period"` // the retired period
	Unused []posagent.Booklet `json:"unused"` // its never-issued ranges
	// Seller is the seller of the ranges ('' for ranges of no seller:
	// reports queued before a till had several, or of unowned booklets).
	Seller string `json:"seller,omitempty"`
}

// PeriodNumbers sums up the ranges of one period.
type PeriodNumbers struct {
	Period   posagent.Period // the bimonthly period
	Booklets int             // booklets of 50 held
	Total    int             // numbers held
	Issued   int             // numbers issued
	Left     int             // numbers still available (0 once retired)
	Retired  bool            // the period is closed
}

// PeriodLeft is the numbers still available in period p (0 once it is
// retired). It reads p's booklets only, off the booklets_period index: the
// sale path and status ask it, and must not walk years of booklets.
func (s *Store) PeriodLeft(ctx context.Context, p posagent.Period) (int, error) {
	var left int
	err := s.reader.QueryRowContext(ctx, `SELECT coalesce(sum(last + 1 - next), 0) FROM booklets
		WHERE period = ? AND retired_at IS NULL`, p.Code()).Scan(&left)
	if err != nil {
		return 0, s.storageError("count numbers left in "+p.Code(), err)
	}
	return left, nil
}

// NumbersLeft sums up every period's ranges, oldest period first. It reads
// every booklet ever added: for listings, not for the sale path or status.
func (s *Store) NumbersLeft(ctx context.Context) ([]PeriodNumbers, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT period,
			sum(last - first + 1), sum(next - first),
			sum(CASE WHEN retired_at IS NULL THEN last + 1 - next ELSE 0 END),
			min(retired_at IS NOT NULL)
		FROM booklets GROUP BY period ORDER BY period`)
	if err != nil {
		return nil, s.storageError("count numbers left", err)
	}
	defer rows.Close()
	var out []PeriodNumbers
	for rows.Next() {
		var code string
		var n PeriodNumbers
		if err := rows.Scan(&code, &n.Total, &n.Issued, &n.Left, &n.Retired); err != nil {
			return nil, s.storageError("count numbers left", err)
		}
		if n.Period, err = posagent.ParsePeriod(code); err != nil {
			return nil, s.storageError("count numbers left", err)
		}
		n.Booklets = n.Total / posagent.BookletSize
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, s.storageError("count numbers left", err)
	}
	return out, nil
}

var errNoRows = sql.ErrNoRows

func isNoRows(err error) bool { return errors.Is(err, errNoRows) }

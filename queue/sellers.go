package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/posagent/posagent"
)

// Owner is whose booklets a store call uses, on a till that sells for
// several sellers: Seller's own, and when Unowned also those stored without
// a seller (booklets of a store made before a till had several sellers, or
// added by a caller that named none: they are the default seller's).
type Owner struct {
	Seller  string
	Unowned bool
}

// of names the owner in a message (" for seller X"), or nothing.
func (o Owner) of() string {
	if o.Seller == "" {
		return ""
	}
	return " for seller " + o.Seller
}

// ownerFilter is the booklets of an Owner given as parameters ?2 (seller)
// and ?3 (unowned).
const ownerFilter = `(seller = ?2 OR (?3 AND seller = ''))`

// jobSeller is the seller of job j, set when the job is written (see
// migration 0008): its invoice's, or for a blank-number report the seller
// named in it (the empty string for none: the default seller's).
const jobSeller = `j.seller`

// sellersParam is a list of sellers as one JSON parameter for json_each;
// nil (any seller) is SQL NULL.
func sellersParam(sellers []string) (any, error) {
	if sellers == nil {
		return nil, nil
	}
	b, err := json.Marshal(sellers)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// OwnerPeriodLeft is PeriodLeft for one owner's booklets.
func (s *Store) OwnerPeriodLeft(ctx context.Context, p posagent.Period, o Owner) (int, error) {
	var left int
	err := s.reader.QueryRowContext(ctx, `SELECT coalesce(sum(last + 1 - next), 0) FROM booklets
		WHERE period = ?1 AND retired_at IS NULL AND `+ownerFilter, p.Code(), o.Seller, o.Unowned).Scan(&left)
	if err != nil {
		return 0, s.storageError("count numbers left in "+p.Code()+o.of(), err)
	}
	return left, nil
}

// AdoptBooklets gives every booklet stored without a seller to seller (the
// default seller, when a till starts with several sellers or is upgraded
// from one): from then on they are its numbers whatever the configuration
// later names as the default. It returns how many booklets it gave.
func (s *Store) AdoptBooklets(ctx context.Context, seller string) (int, error) {
	if seller == "" {
		return 0, posagent.Invalid("seller", "is required")
	}
	var n int64
	err := s.write(ctx, "give booklets to seller "+seller, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE booklets SET seller = ? WHERE seller = ''`, seller)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// SellerQueue is the outbox of some sellers: their open jobs and the oldest.
type SellerQueue struct {
	Jobs map[JobState]int // pending, claimed and dead (done is not counted per seller)
	// Oldest is the oldest open job (nil when none).
	Oldest *Unsent
}

// SellerJobs counts the open jobs of sellers (a blank-number report of no
// seller counts as the seller "") and finds the oldest. It reads the open
// jobs only (pending, claimed, dead): on a healthy till a handful.
func (s *Store) SellerJobs(ctx context.Context, sellers []string) (SellerQueue, error) {
	out := SellerQueue{Jobs: map[JobState]int{JobPending: 0, JobClaimed: 0, JobDead: 0}}
	param, err := sellersParam(sellers)
	if err != nil {
		return out, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT j.state, count(*), min(j.id) FROM jobs j
		WHERE j.state IN ('pending', 'claimed', 'dead') AND (?1 IS NULL OR `+jobSeller+` IN (SELECT value FROM json_each(?1)))
		GROUP BY j.state`, param)
	if err != nil {
		return out, s.storageError("count the sellers' jobs", err)
	}
	defer rows.Close()
	var oldest int64
	for rows.Next() {
		var state string
		var n int
		var id int64
		if err := rows.Scan(&state, &n, &id); err != nil {
			return out, s.storageError("count the sellers' jobs", err)
		}
		out.Jobs[JobState(state)] = n
		if oldest == 0 || id < oldest {
			oldest = id
		}
	}
	if err := rows.Err(); err != nil {
		return out, s.storageError("count the sellers' jobs", err)
	}
	rows.Close()
	if oldest == 0 {
		return out, nil
	}
	u, err := s.unsent(ctx, oldest)
	if err != nil {
		return out, err
	}
	out.Oldest = &u
	return out, nil
}

// unsent reads job id as an Unsent.
func (s *Store) unsent(ctx context.Context, id int64) (Unsent, error) {
	var u Unsent
	var kind, state string
	var number sql.NullString
	var issuedAt sql.NullInt64
	var created int64
	err := s.reader.QueryRowContext(ctx, `SELECT j.id, j.kind, j.state, i.number, i.issued_at, j.created_at, j.attempts, j.last_error
		FROM jobs j LEFT JOIN invoices i ON i.id = j.invoice_id WHERE j.id = ?`, id).
		Scan(&u.JobID, &kind, &state, &number, &issuedAt, &created, &u.Attempts, &u.LastError)
	if err != nil {
		return Unsent{}, s.storageError(fmt.Sprintf("read job %d", id), err)
	}
	u.Kind, u.State, u.Number = JobKind(kind), JobState(state), posagent.InvoiceNumber(number.String)
	u.Since, u.IssuedAt = fromNanos(created), fromNullNanos(issuedAt)
	u.Age = s.now().Sub(u.Since)
	return u, nil
}

// JobSeller is the seller of a job as Claim's filter sees it: the invoice's
// seller, or the blank report's ("" for none).
func (j Job) JobSeller() string {
	if j.Kind == JobBlank {
		return j.BlankSeller
	}
	return j.Invoice.Seller.TaxID
}

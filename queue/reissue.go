package queue

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/posagent/posagent"
)

// Reissued is the result of Reissue.
type Reissued struct {
	// Void is the void of the replaced invoice, as stored.
	Void posagent.Void
	// Issued is the new invoice; Issued.Replayed is set when the reissue had
	// been done before (the same new sale id for the same invoice), and
	// nothing was written this time.
	Issued
}

// Reissue voids an invoice and issues the corrected sale in its place (作廢重
// 開), in one transaction: both, or neither. The void gets a JobVoid as Void
// gives it; the new invoice is numbered as Issue numbers (the period of the
// sale's IssuedAt) and its upload job waits for the void's job, so the
// provider sees the invoice, its void, then the new invoice. The old invoice
// gets a "voided" and a "reissued" event naming the new one; the new one a
// "reissue_of" event naming the old.
//
// The sale needs a sale id of its own (providers refuse an order id used
// before, even by a voided invoice): the old invoice's is KindInvalid. A sale
// id already issued as the reissue of this invoice, with the same content, is
// a replay: the stored pair comes back and nothing is written. Any other use
// of the sale id is KindConflict, as are an invoice already voided, one that
// ever had an allowance, and a void at or past the period's void deadline
// (posagent.Period.VoidDeadline): then the correction is an allowance.
func (s *Store) Reissue(ctx context.Context, v posagent.Void, sale posagent.Invoice, opt IssueOptions) (Reissued, error) {
	if v.VoidedAt.IsZero() {
		v.VoidedAt = s.now()
	}
	if err := v.Validate(); err != nil {
		return Reissued{}, err
	}
	if err := checkSale(sale); err != nil {
		return Reissued{}, err
	}
	var out Reissued
	err := s.write(ctx, "reissue invoice "+string(v.Number), func(tx *sql.Tx, now int64) error {
		oldID, err := s.invoiceID(ctx, tx, v.Number)
		if err != nil {
			return err
		}
		var oldSale string
		var oldVoid posagent.Void
		var voidedAt sql.NullInt64
		var voidReason sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT sale_id, voided_at, void_reason FROM invoices WHERE id = ?`, oldID).
			Scan(&oldSale, &voidedAt, &voidReason); err != nil {
			return err
		}
		if oldSale == sale.SaleID {
			return posagent.Invalid("sale_id", "%q is the sale id of invoice %s: the corrected sale needs a sale id of its own (providers refuse an order id used before, even voided)",
				sale.SaleID, v.Number)
		}
		oldVoid = posagent.Void{Number: v.Number, VoidedAt: fromNullNanos(voidedAt), Reason: voidReason.String}

		// A retried reissue: the new sale id is taken already.
		var newID int64
		var replaces sql.NullInt64
		err = tx.QueryRowContext(ctx, `SELECT id, replaces FROM invoices WHERE sale_id = ?`, sale.SaleID).Scan(&newID, &replaces)
		switch {
		case err == nil && replaces.Valid && replaces.Int64 == oldID:
			iss, err := s.issueTx(ctx, tx, now, sale, opt, issueLinks{}) // a replay: reads, checks content, writes nothing
			if err != nil {
				return err
			}
			out = Reissued{Void: oldVoid, Issued: iss}
			return nil
		case err == nil:
			var number string
			if err := tx.QueryRowContext(ctx, `SELECT number FROM invoices WHERE id = ?`, newID).Scan(&number); err != nil {
				return err
			}
			return &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id",
				Message: fmt.Sprintf("sale %s was issued as invoice %s, not as the reissue of %s: the corrected sale needs a new sale id", sale.SaleID, number, v.Number)}
		case !isNoRows(err):
			return err
		}

		voidJob, err := s.voidTx(ctx, tx, now, oldID, v, true)
		if err != nil {
			return err
		}
		iss, err := s.issueTx(ctx, tx, now, sale, opt, issueLinks{replaces: oldID, afterJob: voidJob})
		if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT id FROM invoices WHERE sale_id = ?`, sale.SaleID).Scan(&newID); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, oldID, now, EventReissued,
			fmt.Sprintf("replaced by %s (sale %s)", iss.Invoice.Number, sale.SaleID)); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, newID, now, EventReissueOf,
			fmt.Sprintf("replaces %s (voided: %s)", v.Number, v.Reason)); err != nil {
			return err
		}
		out = Reissued{Void: v, Issued: iss}
		return nil
	})
	if err != nil {
		return Reissued{}, err
	}
	return out, nil
}

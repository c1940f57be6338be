package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/posagent/posagent"
)

// IssueOptions are the caller's additions to one Issue.
type IssueOptions struct {
	// Derive, when set, is called inside the issuing transaction with the
	// numbered invoice; what it returns is stored with the invoice in the same
	// commit (the agent keeps the QR texts and the barcode text there) and
	// comes back from every lookup as Derived. An error from Derive rolls the
	// whole issue back: no number is spent. It must be quick and must not
	// call the Store (the write connection is held).
	Derive func(posagent.Invoice) (map[string]string, error)
	// Owner is whose booklets give the number: a seller's tax id, and
	// whether it also takes the booklets stored without a seller (the
	// default seller does; the booklet taken becomes its). The zero Owner
	// takes the booklets of no seller only.
	Owner Owner
}

// Issued is the result of Issue.
type Issued struct {
	// Invoice is the issued invoice, as stored.
	Invoice posagent.Invoice
	// Derived is what IssueOptions.Derive returned when the invoice was first
	// issued (nil when there was no Derive).
	Derived map[string]string
	// Replayed is true when the sale id had been issued before and Invoice is
	// that earlier invoice, unchanged.
	Replayed bool
}

// Issue numbers a sale and stores it, in one transaction: the invoice, its
// upload job, its print job (when the invoice is printed) and an "issued"
// event; the booklet cursor moves in the same commit. When Issue returns nil
// the invoice is on disk (promise 1).
//
// The sale must pass Validate, carry a SaleID and IssuedAt, and have no
// Number or RandomCode (KindInvalid otherwise; nothing is written). The
// number is the next one from this terminal's ranges for the period of
// IssuedAt (ranges in the order added, numbers in order); the random code is
// four digits from crypto/rand. No number left is KindExhausted.
//
// A sale id seen before returns the stored invoice with Replayed set, when
// the sale's content is the same; otherwise it is KindConflict. Content is
// compared as the SHA-256 of the sale's canonical JSON with number, random
// code and issue time left out: a POS that retries after a lost answer gets
// its invoice back even when the agent stamped the retry with a new time,
// while a different basket, buyer, carrier or amount under a reused id is
// refused.
func (s *Store) Issue(ctx context.Context, sale posagent.Invoice, opt IssueOptions) (Issued, error) {
	if err := checkSale(sale); err != nil {
		return Issued{}, err
	}
	var out Issued
	err := s.write(ctx, "issue sale "+sale.SaleID, func(tx *sql.Tx, now int64) error {
		var err error
		out, err = s.issueTx(ctx, tx, now, sale, opt, issueLinks{})
		return err
	})
	if err != nil {
		return Issued{}, err
	}
	return out, nil
}

// checkSale is what Issue requires of a sale before it opens a transaction.
func checkSale(sale posagent.Invoice) error {
	switch {
	case sale.SaleID == "":
		return posagent.Invalid("sale_id", "is required: it is the key that makes a retried sale safe")
	case sale.IssuedAt.IsZero():
		return posagent.Invalid("issued_at", "is required")
	case sale.Number != "":
		return posagent.Invalid("number", "must be empty: the store assigns the number")
	case sale.RandomCode != "":
		return posagent.Invalid("random_code", "must be empty: the store draws the random code")
	}
	return sale.Validate()
}

// issueLinks are what a reissue adds to the rows of the new invoice.
type issueLinks struct {
	replaces int64 // the invoice it replaces (0: none)
	afterJob int64 // the job its upload waits for (0: none)
}

// issueTx is Issue inside the caller's write transaction: a sale id seen
// before is a replay (or KindConflict), otherwise the next number is taken
// and the invoice, its upload job and print state are written.
func (s *Store) issueTx(ctx context.Context, tx *sql.Tx, now int64, sale posagent.Invoice, opt IssueOptions, links issueLinks) (Issued, error) {
	period := sale.Period()
	var doc, derived string
	err := tx.QueryRowContext(ctx, `SELECT doc, derived FROM invoices WHERE sale_id = ?`, sale.SaleID).
		Scan(&doc, &derived)
	switch {
	case err == nil:
		inv, d, err := decodeStored(doc, derived)
		if err != nil {
			return Issued{}, err
		}
		// The fingerprints are computed here, not stored: repeats are
		// rare, and the sale path saves a JSON encoding and a hash.
		if same, err := sameContent(inv, sale); err != nil {
			return Issued{}, err
		} else if !same {
			return Issued{}, &posagent.Error{Kind: posagent.KindConflict, Field: "sale_id",
				Message: fmt.Sprintf("sale %s was issued as invoice %s with different content: a new sale needs a new sale id", sale.SaleID, inv.Number)}
		}
		return Issued{Invoice: inv, Derived: d, Replayed: true}, nil
	case !isNoRows(err):
		return Issued{}, err
	}

	// Take the number and move the cursor in one statement.
	var bookletID int64
	var track string
	var next int
	// Only the sale's seller's booklets: numbers never cross sellers.
	err = tx.QueryRowContext(ctx, `UPDATE booklets SET next = next + 1, seller = ?2
		WHERE id = (SELECT id FROM booklets WHERE period = ?1 AND retired_at IS NULL AND next <= last
			AND `+ownerFilter+` ORDER BY id LIMIT 1)
		RETURNING id, track, next - 1`, period.Code(), opt.Owner.Seller, opt.Owner.Unowned).Scan(&bookletID, &track, &next)
	if isNoRows(err) {
		return Issued{}, &posagent.Error{Kind: posagent.KindExhausted,
			Message: fmt.Sprintf("no invoice numbers left for period %s (%s)%s: lease more booklets", period, period.Label(), opt.Owner.of())}
	}
	if err != nil {
		return Issued{}, err
	}

	inv := sale
	inv.Number = posagent.MakeInvoiceNumber(track, next)
	if inv.RandomCode, err = randomCode(); err != nil {
		return Issued{}, err
	}
	// The sale was validated above; only what the store added is new.
	if !inv.Number.Valid() || !posagent.ValidRandomCode(inv.RandomCode) {
		return Issued{}, fmt.Errorf("numbered invoice %q with random code %q is malformed", inv.Number, inv.RandomCode)
	}
	var d map[string]string
	if opt.Derive != nil {
		if d, err = opt.Derive(inv); err != nil {
			return Issued{}, fmt.Errorf("derive data for invoice %s: %w", inv.Number, err)
		}
	}
	docBytes, err := json.Marshal(inv)
	if err != nil {
		return Issued{}, err
	}
	derivedBytes, err := json.Marshal(d)
	if err != nil {
		return Issued{}, err
	}
	if d == nil {
		derivedBytes = []byte("{}")
	}
	var printState any // NULL: no proof (carrier or donation)
	if inv.Print {
		printState = string(PrintPending)
	}
	// The invoice and its upload job in one round trip.
	if _, err := tx.ExecContext(ctx, `INSERT INTO invoices
		(sale_id, number, period, booklet_id, random_code, issued_at, total, doc, derived, created_at, print_state, print_updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?);
		INSERT INTO jobs (kind, invoice_id, state, next_at, created_at, updated_at, seller)
		VALUES ('upload', last_insert_rowid(), 'pending', ?, ?, ?, ?)`,
		inv.SaleID, string(inv.Number), period.Code(), bookletID, inv.RandomCode, inv.IssuedAt.UnixNano(),
		inv.Total, string(docBytes), string(derivedBytes), now, printState, now,
		now, now, now, inv.Seller.TaxID); err != nil {
		return Issued{}, err
	}
	if links.replaces != 0 {
		// Rare (a reissue): the sale path's statement stays as it was.
		if _, err := tx.ExecContext(ctx, `UPDATE invoices SET replaces = ? WHERE sale_id = ?;
			UPDATE jobs SET after_job = ? WHERE kind = 'upload' AND invoice_id = (SELECT id FROM invoices WHERE sale_id = ?)`,
			links.replaces, inv.SaleID, links.afterJob, inv.SaleID); err != nil {
			return Issued{}, err
		}
	}
	// The "issued" event is the invoice row itself (immutable, see the
	// schema's triggers): Events reads it from there, and the sale path
	// writes two b-trees fewer.
	// The stored document is exactly inv's JSON, so a replay decodes to
	// the same invoice.
	return Issued{Invoice: inv, Derived: d}, nil
}

// sameContent reports whether a stored sale and a repeated one carry the
// same content (saleHash).
func sameContent(stored, sale posagent.Invoice) (bool, error) {
	a, err := saleHash(stored)
	if err != nil {
		return false, err
	}
	b, err := saleHash(sale)
	if err != nil {
		return false, err
	}
	return bytes.Equal(a, b), nil
}

// saleHash is the content fingerprint compared for a repeated sale id: the
// canonical JSON of the sale without number, random code and issue time.
func saleHash(sale posagent.Invoice) ([]byte, error) {
	sale.Number, sale.RandomCode, sale.IssuedAt = "", "", time.Time{}
	b, err := json.Marshal(sale)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// randomCode draws the 4-digit 隨機碼 uniformly from crypto/rand.
func randomCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(10000))
	if err != nil {
		return "", fmt.Errorf("draw random code: %w", err)
	}
	return fmt.Sprintf("%04d", n.Int64()), nil
}

// decodeStored reads an invoice document and its derived data as stored.
func decodeStored(doc, derived string) (posagent.Invoice, map[string]string, error) {
	var inv posagent.Invoice
	if err := inv.UnmarshalJSON([]byte(doc)); err != nil {
		return posagent.Invoice{}, nil, fmt.Errorf("stored invoice document: %w", err)
	}
	var d map[string]string
	if derived != "" && derived != "{}" {
		if err := json.Unmarshal([]byte(derived), &d); err != nil {
			return posagent.Invoice{}, nil, fmt.Errorf("stored derived data: %w", err)
		}
	}
	return inv, d, nil
}

// Package benchstore builds the store of a till that has sold for years, for
// the scale benchmarks: n invoices spread over the periods before the one of
// now, every one printed and uploaded (its job done, its events written),
// their booklets used up and retired, and the current period's booklets
// ready to sell from. It writes the rows with SQL in one transaction (a
// million Issue calls would take an hour of fsyncs), through the schema the
// queue package migrates to, so the file is what posagent itself would hold.
//
// Only benchmarks use it. Built stores are cached in the system's temporary
// directory, keyed by size, content version and period, and copied for each
// use; the copy is migrated to the current schema when it is first opened.
package benchstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// Seller is the seller of every invoice in a built store.
var Seller = posagent.Seller{TaxID: "24634102", Name: "好日子雜貨店"}

// perPeriod is how many invoices a past period holds: a busy till sells
// about 500 a day, 30,000 a period.
const perPeriod = 30000

// fixtureVersion changes when the content built changes, so that an old cache
// is not reused.
const fixtureVersion = 2

// Copy puts a store holding n invoices at dir/name and returns its path. The
// first call for an n builds it (a minute or two for a million); later calls,
// in this process or another, copy the cached file.
func Copy(dir, name string, n int, now time.Time) (string, error) {
	// Keyed by what is built, not by schema version: a store built by an
	// older schema is brought up to date by queue.Open like a till's.
	cached := filepath.Join(os.TempDir(), fmt.Sprintf("posagent-benchstore-%d-f%d-%s.db", n, fixtureVersion, posagent.PeriodOf(now).Code()))
	if _, err := os.Stat(cached); errors.Is(err, fs.ErrNotExist) {
		tmp := cached + fmt.Sprintf(".%d.tmp", os.Getpid())
		os.Remove(tmp)
		if err := build(tmp, n, now); err != nil {
			os.Remove(tmp)
			return "", fmt.Errorf("build a store of %d invoices: %w", n, err)
		}
		if err := os.Rename(tmp, cached); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, name)
	if err := copyFile(cached, dst); err != nil {
		return "", err
	}
	return dst, nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// build writes the store at path.
func build(path string, n int, now time.Time) error {
	s, err := queue.Open(path, queue.Options{Now: func() time.Time { return now }})
	if err != nil {
		return err
	}
	current := posagent.PeriodOf(now)
	// The current period: enough numbers for any benchmark run.
	if _, err := s.AddBooklet(context.Background(), posagent.Booklet{Track: "ZZ", First: 0, Last: 999_999, Period: current, Source: "bench"}); err != nil {
		s.Close()
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}

	db, err := sql.Open("sqlite3", "file:"+filepath.ToSlash(path)+"?_fk=1")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// Speed over durability while building: a failed build is thrown away.
	for _, p := range []string{`PRAGMA journal_mode=DELETE`, `PRAGMA synchronous=OFF`, `PRAGMA cache_size=-262144`} {
		if _, err := db.Exec(p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = tx.Prepare(q)
		return st
	}
	insBooklet := prep(`INSERT INTO booklets (track, first, last, period, source, next, added_at, retired_at) VALUES (?, ?, ?, ?, 'bench', ?, ?, ?)`)
	insInvoice := prep(`INSERT INTO invoices (sale_id, number, period, booklet_id, random_code, issued_at, total, doc, derived, created_at,
		print_state, original_spent, print_attempts, print_copies, print_updated_at, printed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'printed', 1, 1, 1, ?, ?)`)
	insJob := prep(`INSERT INTO jobs (kind, invoice_id, state, attempts, next_at, created_at, updated_at, done_at) VALUES ('upload', ?, 'done', 1, ?, ?, ?, ?)`)
	insEvent := prep(`INSERT INTO events (invoice_id, at, kind, detail) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}

	// Periods back from the one before now, perPeriod invoices each.
	periods := (n + perPeriod - 1) / perPeriod
	p := current
	var past []posagent.Period
	for range periods {
		p = p.Prev()
		past = append([]posagent.Period{p}, past...)
	}
	issued := 0
	for _, p := range past {
		count := min(perPeriod, n-issued)
		start := p.Start().Add(8 * time.Hour)
		step := p.End().Sub(p.Start()) / time.Duration(count+1)
		track := trackFor(p)
		var bookletID int64
		for i := range count {
			seq := i
			if seq%posagent.BookletSize == 0 {
				first := seq
				res, err := insBooklet.Exec(track, first, first+posagent.BookletSize-1, p.Code(), first+min(posagent.BookletSize, count-first),
					start.UnixNano(), p.End().UnixNano())
				if err != nil {
					return fmt.Errorf("booklet: %w", err)
				}
				if bookletID, err = res.LastInsertId(); err != nil {
					return err
				}
			}
			at := start.Add(step * time.Duration(i))
			inv := invoice(issued, track, seq, at)
			doc, err := json.Marshal(inv)
			if err != nil {
				return err
			}
			derived := fmt.Sprintf(`{"barcode":%q,"qr_left":%q,"qr_right":%q}`,
				p.Code()+string(inv.Number)+inv.RandomCode,
				string(inv.Number)+strings.Repeat("0", 67)+strings.Repeat("A", 24)+":**********:2:2:1",
				"**拿鐵:1:65:可頌:2:45")
			ns := at.UnixNano()
			res, err := insInvoice.Exec(inv.SaleID, string(inv.Number), p.Code(), bookletID, inv.RandomCode, ns, inv.Total,
				string(doc), derived, ns, ns+int64(2*time.Second), ns+int64(2*time.Second))
			if err != nil {
				return fmt.Errorf("invoice %d: %w", issued, err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			done := ns + int64(3*time.Second)
			if _, err := insJob.Exec(id, done, ns, done, done); err != nil {
				return fmt.Errorf("job %d: %w", issued, err)
			}
			for _, ev := range []struct {
				at     int64
				kind   queue.EventKind
				detail string
			}{{ns + int64(time.Second), queue.EventPrintStarted, "original"}, {ns + int64(2*time.Second), queue.EventPrinted, "original"},
				{done, queue.EventUploaded, "upload"}} {
				if _, err := insEvent.Exec(id, ev.at, string(ev.kind), ev.detail); err != nil {
					return fmt.Errorf("event %d: %w", issued, err)
				}
			}
			issued++
		}
	}
	if _, err := tx.Exec(`INSERT INTO meta (key, value) VALUES ('last_upload_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
		fmt.Sprint(now.Add(-time.Hour).UnixNano())); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// No ANALYZE: a till never runs it, so the planner must find its way
	// without statistics here too.
	for _, q := range []string{`PRAGMA journal_mode=WAL`} {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return db.Close()
}

// trackFor gives each period a track of its own, as the MOF does.
func trackFor(p posagent.Period) string {
	k := p.Year*6 + p.EvenMonth/2
	return string(rune('A'+k%26)) + string(rune('A'+(k/26)%26))
}

// invoice is a typical sale: two lines, printed, B2C, NT$155.
func invoice(i int, track string, seq int, at time.Time) posagent.Invoice {
	inv := posagent.Invoice{
		SaleID:     fmt.Sprintf("pos1-%s-%07d", at.Format("20060102"), i),
		Number:     posagent.MakeInvoiceNumber(track, seq),
		RandomCode: fmt.Sprintf("%04d", (i*7919)%10000),
		IssuedAt:   at.In(posagent.Taipei),
		Seller:     Seller,
		Print:      true,
		TaxType:    posagent.TaxTaxable,
		Items: []posagent.Item{
			{Name: "熱拿鐵 Hot latte", Quantity: posagent.DecimalFromInt(1), Unit: "杯", UnitPrice: posagent.DecimalFromInt(65), Amount: posagent.DecimalFromInt(65)},
			{Name: "可頌 Croissant", Quantity: posagent.DecimalFromInt(2), Unit: "個", UnitPrice: posagent.DecimalFromInt(45), Amount: posagent.DecimalFromInt(90)},
		},
		Total: 155,
	}
	sp, err := inv.SplitTax()
	if err != nil {
		panic(err) // a fixed NT$155 sale always splits
	}
	inv.SalesAmount, inv.TaxAmount = sp.Sales(), sp.Tax
	return inv
}

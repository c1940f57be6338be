package queue_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

func migrationsApplied(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT version || ' ' || name || ' ' || applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// Promise 1 across upgrades: migrations run once each, in order, and are
// recorded; reopening changes nothing.
func TestMigrationsAppliedOnceInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	c := newClock(t0)
	s := mustReopen(t, path, c)
	s.Close()
	first := migrationsApplied(t, path)
	if len(first) != queue.SchemaVersion() {
		t.Fatalf("applied %v, want %d migrations", first, queue.SchemaVersion())
	}
	for i, m := range first {
		if !strings.HasPrefix(m, itoa(i+1)+" ") {
			t.Errorf("migration %d recorded as %q", i+1, m)
		}
	}
	c.Add(1e9)
	s = mustReopen(t, path, c)
	s.Close()
	if again := migrationsApplied(t, path); strings.Join(again, "\n") != strings.Join(first, "\n") {
		t.Fatalf("reopening changed the record:\n%v\nwant\n%v", again, first)
	}
}

// A store written by the first schema is carried forward with its data.
func TestMigrateFromFirstSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	c := newClock(t0)
	old, err := queue.OpenAtVersion(path, queue.Options{Now: c.Now}, 1)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	// Written as a version-1 binary did (today's AddBooklet and Issue write
	// columns of later versions).
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO booklets (track, first, last, period, source, next, added_at) VALUES ('AB', 0, 49, ?, '', 0, ?)`,
		p11410.Code(), t0.UnixNano()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if got := len(migrationsApplied(t, path)); got != 1 {
		t.Fatalf("old store has %d migrations", got)
	}
	// Version 2 (the outbox, before job counts): two invoices and their
	// upload jobs, as a version-2 binary issued them.
	v2, err := queue.OpenAtVersion(path, queue.Options{Now: c.Now}, 2)
	if err != nil {
		t.Fatal(err)
	}
	v2.Close()
	db, err = sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"v2-a", "v2-b"} {
		inv := sale(id, 100)
		inv.Number, inv.RandomCode = posagent.MakeInvoiceNumber("AB", i), "1234"
		doc, err := json.Marshal(inv)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE booklets SET next = next + 1 WHERE id = 1`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO invoices (sale_id, number, period, booklet_id, random_code, issued_at, total, doc, created_at)
			VALUES (?, ?, ?, 1, '1234', ?, 100, ?, ?)`, id, string(inv.Number), p11410.Code(), inv.IssuedAt.UnixNano(), string(doc), t0.UnixNano()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO jobs (kind, invoice_id, state, next_at, created_at, updated_at)
			VALUES ('upload', last_insert_rowid(), 'pending', ?, ?, ?)`, t0.UnixNano(), t0.UnixNano(), t0.UnixNano()); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	// Claimed as a version-2 binary would (today's Claim reads columns of
	// later versions).
	db, err = sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE jobs SET state = 'claimed', attempts = 1, next_at = ? WHERE id = 1`, t0.Add(time.Minute).UnixNano()); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := mustReopen(t, path, c)
	iss, err := s.Issue(context.Background(), sale("after-upgrade", 100), queue.IssueOptions{})
	if err != nil || iss.Invoice.Number != "AB00000002" {
		t.Fatalf("issue after the upgrade = %v, %v", iss.Invoice.Number, err)
	}
	counts, err := s.JobCounts(context.Background())
	if err != nil || counts[queue.JobClaimed] != 1 || counts[queue.JobPending] != 2 {
		t.Fatalf("job counts after the upgrade = %v, %v; want 1 claimed, 2 pending", counts, err)
	}
	// Version 8: the open jobs written before know their seller (the
	// invoice's), and the booklets of no seller go to the default one.
	mine, err := s.SellerJobs(context.Background(), []string{"24634102"})
	if err != nil || mine.Jobs[queue.JobClaimed] != 1 || mine.Jobs[queue.JobPending] != 2 {
		t.Fatalf("the seller's jobs after the upgrade = %v, %v; want 1 claimed, 2 pending", mine.Jobs, err)
	}
	if n, err := s.AdoptBooklets(context.Background(), "24634102"); err != nil || n != 1 {
		t.Fatalf("AdoptBooklets = %d, %v; want the one booklet", n, err)
	}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// An older binary must not write to a store a newer one has changed.
func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	s := mustReopen(t, path, newClock(t0))
	s.Close()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	newer := queue.SchemaVersion() + 1
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future', 'x')`, newer); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = queue.Open(path, queue.Options{})
	if posagent.ErrorKind(err) != posagent.KindConfig || !strings.Contains(err.Error(), "newer than this posagent knows") {
		t.Fatalf("Open of a newer schema: %v, want a config error saying so", err)
	}
	if got := len(migrationsApplied(t, path)); got != newer {
		t.Errorf("the refused store was changed: %d migrations recorded", got)
	}
}

// Promise 1: a database this posagent did not write is refused, not altered.
func TestOpenRefusesAnotherDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	s := mustReopen(t, path, newClock(t0))
	s.Close()
	db, _ := sql.Open("sqlite3", path)
	if _, err := db.Exec(`UPDATE schema_migrations SET name = 'something_else' WHERE version = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := queue.Open(path, queue.Options{}); posagent.ErrorKind(err) != posagent.KindConfig {
		t.Fatalf("Open of a store with a foreign migration: %v", err)
	}
}

// Promise 2 and 4 below the Go code: the schema itself refuses to lose or
// rewrite what accounts for a number.
func TestSchemaRefusesDeletes(t *testing.T) {
	s, _ := mustOpen(t)
	inv := issueN(t, s, 1)[0]
	if err := s.Void(context.Background(), posagent.Void{Number: inv.Number, Reason: "x"}); err != nil {
		t.Fatal(err) // an event row to protect
	}
	path := s.Path()
	s.Close()
	db, _ := sql.Open("sqlite3", path)
	defer db.Close()
	for _, q := range []string{
		`DELETE FROM invoices`,
		`DELETE FROM events`,
		`UPDATE events SET detail = 'x'`,
		`DELETE FROM booklets`,
		`DELETE FROM jobs`,
		`UPDATE booklets SET next = 0`,
		`UPDATE invoices SET number = 'AB00000049'`,
	} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("%s succeeded", q)
		}
	}
}

// Two processes (the daemon and `posagent status`, say) opening a new store
// at once: each migration is applied once and both opens succeed.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	for round := range 10 {
		path := filepath.Join(t.TempDir(), "agent.db")
		start := make(chan struct{})
		errs := make(chan error, 8)
		for range 8 {
			go func() {
				<-start
				s, err := queue.Open(path, queue.Options{})
				if err == nil {
					s.Close()
				}
				errs <- err
			}()
		}
		close(start)
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: Open: %v", round, err)
			}
		}
		if got := len(migrationsApplied(t, path)); got != queue.SchemaVersion() {
			t.Fatalf("round %d: %d migrations recorded, want %d", round, got, queue.SchemaVersion())
		}
	}
}

package queue_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// recordingDriver is mattn's driver with every statement text kept.
type recordingDriver struct {
	mu   sync.Mutex
	sqls []string
}

func (d *recordingDriver) note(q string) {
	d.mu.Lock()
	d.sqls = append(d.sqls, q)
	d.mu.Unlock()
}

func (d *recordingDriver) Open(dsn string) (driver.Conn, error) {
	c, err := (&sqlite3.SQLiteDriver{}).Open(dsn)
	if err != nil {
		return nil, err
	}
	return &recordingConn{SQLiteConn: c.(*sqlite3.SQLiteConn), d: d}, nil
}

type recordingConn struct {
	*sqlite3.SQLiteConn
	d *recordingDriver
}

func (c *recordingConn) Prepare(q string) (driver.Stmt, error) {
	c.d.note(q)
	return c.SQLiteConn.Prepare(q)
}

func (c *recordingConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	c.d.note(q)
	return c.SQLiteConn.PrepareContext(ctx, q)
}

func (c *recordingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.d.note(q)
	return c.SQLiteConn.ExecContext(ctx, q, args)
}

func (c *recordingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.d.note(q)
	return c.SQLiteConn.QueryContext(ctx, q, args)
}

var registerRecording sync.Once
var recording = &recordingDriver{}

// bigTableScan is a plan step that reads a table that grows with the years
// (or one of its full indexes) from end to end: SCAN, or a bare SEARCH with
// no index (how SQLite shows max() over an unindexed column). A partial
// index holds only the few rows that wait (unprinted proofs), so reading it
// whole is fine.
var bigTableScan = regexp.MustCompile(`^(SCAN (invoices|jobs|events|allowances|booklets)\b|SEARCH (invoices|jobs|events|allowances|booklets)$)`)
var partialIndex = regexp.MustCompile(`USING (COVERING )?INDEX (invoices_unprinted|invoices_voided|allowances_voided|jobs_allowance)\b`)

// Nothing a till runs all day — start-up, a sale, a repeated sale, printing,
// an upload, status, numbers left, the blank booklets, a lookup, the day's
// book — reads a whole table that grows with its years of invoices. Every
// statement the store sends through the driver is checked with EXPLAIN QUERY
// PLAN (SQLite plans without statistics, as on a till, so the plan does not
// depend on how much the test stores).
func TestNoFullScansOnTheDailyPaths(t *testing.T) {
	registerRecording.Do(func() { sql.Register("sqlite3_recording", recording) })
	restore := queue.UseDriver("sqlite3_recording")
	defer restore()

	s, c := mustOpen(t)
	ctx := context.Background()
	for _, b := range []posagent.Booklet{booklet("AA", 0, 2, p11410.Prev()), booklet("AB", 0, 2, p11410), booklet("AC", 0, 1, p11410.Next())} {
		if _, err := s.AddBooklet(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// Start-up again on a store with history: the path a till takes at 8 am.
	s.Close()
	recording.mu.Lock()
	recording.sqls = nil
	recording.mu.Unlock()
	s = mustReopen(t, s.Path(), c)

	inv, err := s.Issue(ctx, sale("plan-1", 155), queue.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Issue(ctx, sale("plan-1", 155), queue.IssueOptions{}); err != nil { // the POS retries
		t.Fatal(err)
	}
	if _, err := s.BeginPrint(ctx, inv.Invoice.Number); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishPrint(ctx, inv.Invoice.Number, true, "", true); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(ctx, 10, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v, %d jobs", err, len(jobs))
	}
	if err := s.Done(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PeriodLeft(ctx, p11410); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BlankBooklets(ctx, p11410.Prev()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Invoice(ctx, inv.Invoice.Number); err != nil {
		t.Fatal(err)
	}
	if _, err := s.InvoiceBySale(ctx, "plan-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Activity(ctx, t0.Add(-time.Hour), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The reconciliation: its daily run, and what status reads of it.
	if _, err := s.ReconcileDocs(ctx, t0.Add(-time.Hour), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PeriodNumbers(ctx, p11410); err != nil {
		t.Fatal(err)
	}
	run, err := s.SaveReconcile(ctx, queue.ReconcileRun{Day: "2025-09-14", Trigger: "demand", Provider: "fake", StartedAt: t0},
		[]queue.Finding{{Key: "k", Kind: "rejected", Level: "critical", Number: inv.Invoice.Number, Difference: "d", Fix: "f"}}, []string{"rejected"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunFindings(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenFindings(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReconcileRuns(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LatestRun(ctx, "2025-09-14", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PeriodFindings(ctx, p11410); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PeriodOpenJobs(ctx, p11410); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PeriodIssued(ctx, p11410); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PeriodBlankReport(ctx, p11410); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Requeue(ctx, queue.JobUpload, inv.Invoice.Number, "", "plan"); err != nil {
		t.Fatal(err)
	}

	recording.mu.Lock()
	sqls := append([]string(nil), recording.sqls...)
	recording.mu.Unlock()
	db, err := sql.Open("sqlite3", "file:"+s.Path()+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	seen := map[string]bool{}
	checked := 0
	for _, text := range sqls {
		for _, q := range strings.Split(text, ";") {
			q = strings.TrimSpace(q)
			verb := strings.ToUpper(strings.Fields(q + " x")[0])
			if q == "" || seen[q] || (verb != "SELECT" && verb != "UPDATE" && verb != "DELETE" && verb != "WITH") {
				continue
			}
			seen[q] = true
			args := make([]any, numInput(t, db, "EXPLAIN QUERY PLAN "+q)) // unbound: NULL; the plan does not depend on them
			rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatalf("explain %s: %v", q, err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
				if bigTableScan.MatchString(detail) && !partialIndex.MatchString(detail) {
					t.Errorf("reads a whole table: %s\n  in: %s", detail, strings.Join(strings.Fields(q), " "))
				}
			}
			rows.Close()
			checked++
		}
	}
	if checked < 15 {
		t.Fatalf("only %d statements seen: the recording driver is not in use", checked)
	}
	t.Logf("%d statements checked", checked)
}

// numInput is the number of parameters the statement takes.
func numInput(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := 0
	err = conn.Raw(func(dc any) error {
		st, err := dc.(*sqlite3.SQLiteConn).Prepare(q)
		if err != nil {
			return err
		}
		defer st.Close()
		n = st.NumInput()
		return nil
	})
	if err != nil {
		t.Fatalf("prepare %s: %v", q, err)
	}
	return n
}

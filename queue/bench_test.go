package queue_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// latencies collects per-operation times and reports p50 and p99.
type latencies []time.Duration

func (l latencies) quantile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

func (l latencies) report(b *testing.B, prefix string) {
	if len(l) == 0 {
		return
	}
	b.ReportMetric(float64(l.quantile(0.50).Microseconds()), prefix+"p50-µs")
	b.ReportMetric(float64(l.quantile(0.99).Microseconds()), prefix+"p99-µs")
}

func benchStore(b *testing.B, numbers int) *queue.Store {
	b.Helper()
	s, err := queue.Open(filepath.Join(b.TempDir(), "agent.db"), queue.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	for i := 0; i*50000 < numbers; i++ {
		if _, err := s.AddBooklet(context.Background(), posagent.Booklet{Track: "A" + string(rune('A'+i)), First: 0, Last: 49999, Period: p11410}); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// bareTable is the fsync floor: one ~512-byte row per transaction on a
// database with the store's own DSN.
func bareTable(b *testing.B) *sql.DB {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bare.db")
	db, err := sql.Open("sqlite3", queue.WriterDSN(path))
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	return db
}

var bareBody = strings.Repeat("x", 512)

func bareCommit(db *sql.DB) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO t (body) VALUES (?)`, bareBody); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// BenchmarkIssueVsBareCommit issues sales and commits bare single-row
// inserts alternately, in one run on the same disk and settings (WAL,
// synchronous=FULL), and reports both rates and their ratio. Alternating
// keeps disk noise from favouring either side.
func BenchmarkIssueVsBareCommit(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, b.N+1)
	db := bareTable(b)
	derive := func(inv posagent.Invoice) (map[string]string, error) {
		return map[string]string{"barcode": inv.Period().Code() + string(inv.Number) + inv.RandomCode, "qr_left": strings.Repeat("L", 180), "qr_right": strings.Repeat("R", 120)}, nil
	}
	issue := make(latencies, 0, b.N)
	bare := make(latencies, 0, b.N)
	var issueTotal, bareTotal time.Duration
	run := fmt.Sprint(time.Now().UnixNano())
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t := time.Now()
		if err := bareCommit(db); err != nil {
			b.Fatal(err)
		}
		d := time.Since(t)
		bare, bareTotal = append(bare, d), bareTotal+d

		t = time.Now()
		if _, err := s.Issue(ctx, sale(fmt.Sprintf("b%s-%d", run, i), 340), queue.IssueOptions{Derive: derive}); err != nil {
			b.Fatal(err)
		}
		d = time.Since(t)
		issue, issueTotal = append(issue, d), issueTotal+d
	}
	b.StopTimer()
	issueRate := float64(len(issue)) / issueTotal.Seconds()
	bareRate := float64(len(bare)) / bareTotal.Seconds()
	b.ReportMetric(issueRate, "issues/s")
	b.ReportMetric(bareRate, "bare-commits/s")
	b.ReportMetric(issueRate/bareRate, "ratio")
	// The median ratio resists the disk stalls of a shared machine, which
	// land on one side or the other and swing the mean.
	b.ReportMetric(float64(bare.quantile(0.5))/float64(issue.quantile(0.5)), "median-ratio")
	issue.report(b, "issue-")
	bare.report(b, "bare-")
}

// BenchmarkIssue is Issue alone, one sale per transaction, full durability.
func BenchmarkIssue(b *testing.B) {
	ctx := context.Background()
	s := benchStore(b, b.N+1)
	lat := make(latencies, 0, b.N)
	run := fmt.Sprint(time.Now().UnixNano())
	for i := 0; b.Loop(); i++ {
		t := time.Now()
		if _, err := s.Issue(ctx, sale(fmt.Sprintf("b%s-%d", run, i), 340), queue.IssueOptions{}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	lat.report(b, "")
}

// BenchmarkBareCommit is the fsync floor alone.
func BenchmarkBareCommit(b *testing.B) {
	db := bareTable(b)
	lat := make(latencies, 0, b.N)
	for b.Loop() {
		t := time.Now()
		if err := bareCommit(db); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	lat.report(b, "")
}

func fixtureDoc(number string) ([]byte, error) {
	inv := sale("fixture-"+number, 100)
	inv.Number, inv.RandomCode = posagent.InvoiceNumber(number), "1234"
	return json.Marshal(inv)
}

// BenchmarkClaimDone claims a batch and acknowledges every job in it, with
// 10,000 jobs waiting. One op is one job.
func BenchmarkClaimDone(b *testing.B) {
	for _, batch := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ctx := context.Background()
			s := benchStore(b, 0)
			fill := 10000
			if err := queue.FillOutbox(s, "ZZ", fill, 1, fixtureDoc); err != nil {
				b.Fatal(err)
			}
			filled := 1
			lat := make(latencies, 0, b.N)
			var jobs []queue.Job
			for b.Loop() {
				if len(jobs) == 0 {
					var err error
					if jobs, err = s.Claim(ctx, batch, time.Minute); err != nil {
						b.Fatal(err)
					}
					if len(jobs) == 0 { // drained: refill outside the timer
						b.StopTimer()
						if err := queue.FillOutbox(s, fmt.Sprintf("Y%c", 'A'+filled), fill, 1, fixtureDoc); err != nil {
							b.Fatal(err)
						}
						filled++
						b.StartTimer()
						if jobs, err = s.Claim(ctx, batch, time.Minute); err != nil {
							b.Fatal(err)
						}
					}
				}
				t := time.Now()
				if err := s.Done(ctx, jobs[0]); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
				jobs = jobs[1:]
			}
			lat.report(b, "done-")
		})
	}
}

// BenchmarkStatus runs the agent's status queries over 100,000 jobs: a
// backlog (all pending, the till offline for weeks) and a history (1 % pending).
func BenchmarkStatus(b *testing.B) {
	for _, tc := range []struct {
		name         string
		pendingEvery int
	}{{"backlog", 1}, {"history", 100}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			s := benchStore(b, 0)
			if err := queue.FillOutbox(s, "ZZ", 100000, tc.pendingEvery, fixtureDoc); err != nil {
				b.Fatal(err)
			}
			queries := []struct {
				name string
				fn   func() error
			}{
				{"status", func() error { _, err := s.Status(ctx); return err }},
				{"counts", func() error { _, err := s.JobCounts(ctx); return err }},
				{"oldest", func() error { _, _, err := s.OldestUnsent(ctx); return err }},
				{"numbers", func() error { _, err := s.NumbersLeft(ctx); return err }},
				{"by-number", func() error { _, err := s.Invoice(ctx, "ZZ00054321"); return err }},
				{"dead", func() error { _, err := s.DeadJobs(ctx, 50); return err }},
				{"claim-peek", func() error {
					// Claim then release: the cost of finding due jobs in a big outbox.
					jobs, err := s.Claim(ctx, 10, time.Minute)
					if err != nil {
						return err
					}
					_, err = s.ReleaseClaims(ctx)
					_ = jobs
					return err
				}},
			}
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					lat := make(latencies, 0, b.N)
					for b.Loop() {
						t := time.Now()
						if err := q.fn(); err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t))
					}
					lat.report(b, "")
				})
			}
		})
	}
}

// BenchmarkStatusDuringSales measures status queries while sales are being
// issued as fast as the disk allows, through the read-only pool and through
// the single write connection: the case for the pool.
func BenchmarkStatusDuringSales(b *testing.B) {
	for _, via := range []string{"read-pool", "writer-only"} {
		b.Run(via, func(b *testing.B) {
			ctx := context.Background()
			s := benchStore(b, 200000)
			if via == "writer-only" {
				defer queue.ReadThroughWriter(s)()
			}
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if _, err := s.Issue(ctx, sale(fmt.Sprintf("bg%d-%d", time.Now().UnixNano(), i), 340), queue.IssueOptions{}); err != nil {
						b.Error(err)
						return
					}
				}
			}()
			lat := make(latencies, 0, b.N)
			for b.Loop() {
				t := time.Now()
				if _, err := s.Status(ctx); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			close(stop)
			<-done
			lat.report(b, "")
		})
	}
}

package queue_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// Promise 1: the settings that make a commit durable are in force on the
// connection that commits (go-practice §5: WAL alone silently means NORMAL).
func TestDurabilitySettings(t *testing.T) {
	s, _ := mustOpen(t)
	for name, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "2", // FULL
		"foreign_keys": "1",
		"busy_timeout": "5000",
	} {
		got, err := queue.WriterPragma(s, name)
		if err != nil || got != want {
			t.Errorf("PRAGMA %s = %q, %v; want %q", name, got, err, want)
		}
	}
}

// Promise 1: a store that cannot be opened says which file and why.
func TestOpenErrors(t *testing.T) {
	_, err := queue.Open(filepath.Join(t.TempDir(), "no", "such", "dir", "agent.db"), queue.Options{})
	if err == nil || !strings.Contains(err.Error(), "agent.db") {
		t.Fatalf("Open in a missing directory: %v, want an error naming the file", err)
	}
	if _, err := queue.Open("", queue.Options{}); posagent.ErrorKind(err) != posagent.KindInvalid {
		t.Fatalf("Open(\"\"): %v", err)
	}
}

// Promise 3 with several workers: a claimed job is held by one worker only,
// and no job of an invoice is handed out before every earlier job of it is
// done. Jobs are created round-robin across invoices so that claims in id
// order keep running into invoices whose previous job another worker holds.
func TestConcurrentClaimers(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	invs := issueN(t, s, 8)
	for range 4 {
		for _, inv := range invs {
			if _, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: inv.Number, Items: line(10), Total: 10}); err != nil {
				t.Fatal(err)
			}
		}
	}
	before := map[int64][]int64{} // job → the earlier jobs of its invoice
	total := 0
	for _, inv := range invs {
		jobs, err := s.InvoiceJobs(ctx, inv.Number)
		if err != nil {
			t.Fatal(err)
		}
		for i, j := range jobs {
			for _, e := range jobs[:i] {
				before[j.ID] = append(before[j.ID], e.ID)
			}
		}
		total += len(jobs)
	}
	var mu sync.Mutex
	held := map[int64]bool{}
	done := map[int64]bool{}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for idle := 0; idle < 50; {
				jobs, err := s.Claim(ctx, 3, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					idle++
					time.Sleep(200 * time.Microsecond)
					continue
				}
				idle = 0
				mu.Lock()
				for _, j := range jobs {
					if held[j.ID] || done[j.ID] {
						t.Errorf("worker %d got job %d, which is held or done", w, j.ID)
					}
					for _, e := range before[j.ID] {
						if !done[e] {
							t.Errorf("worker %d got job %d of %s before job %d of it was done", w, j.ID, j.Invoice.Number, e)
						}
					}
					held[j.ID] = true
				}
				mu.Unlock()
				time.Sleep(500 * time.Microsecond) // "sending"
				for _, j := range jobs {
					// Marked done before the commit: a later job claimed
					// while this one is merely held is still caught.
					mu.Lock()
					held[j.ID], done[j.ID] = false, true
					mu.Unlock()
					if err := s.Done(ctx, j); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	if len(done) != total {
		t.Fatalf("%d of %d jobs done", len(done), total)
	}
	counts, err := s.JobCounts(ctx)
	if err != nil || counts[queue.JobDone] != total {
		t.Fatalf("counts = %v, %v; want %d done", counts, err, total)
	}
}

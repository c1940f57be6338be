package queue_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// issueAndSend issues a sale and marks its upload done.
func issueAndSend(t *testing.T, s *queue.Store, id string, total int64) posagent.Invoice {
	t.Helper()
	ctx := context.Background()
	is, err := s.Issue(ctx, sale(id, total), queue.IssueOptions{})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	for _, j := range claimAll(t, s, time.Minute) {
		if err := s.Done(ctx, j); err != nil {
			t.Fatalf("Done: %v", err)
		}
	}
	return is.Invoice
}

func TestRequeue(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	inv := issueAndSend(t, s, "rq-1", 100)
	pending, err := s.Issue(ctx, sale("rq-2", 50), queue.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name      string
		kind      queue.JobKind
		number    posagent.InvoiceNumber
		allowance string
		want      posagent.Kind
	}{
		{"blank is not an invoice's", queue.JobBlank, inv.Number, "", posagent.KindInvalid},
		{"unknown invoice", queue.JobUpload, "ZZ99999999", "", posagent.KindNotFound},
		{"unknown allowance", queue.JobAllowance, inv.Number, "nope", posagent.KindNotFound},
		{"not voided", queue.JobVoid, inv.Number, "", posagent.KindConflict},
		{"upload still open", queue.JobUpload, pending.Invoice.Number, "", posagent.KindConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.Requeue(ctx, c.kind, c.number, c.allowance, "test"); posagent.ErrorKind(err) != c.want {
				t.Fatalf("Requeue: got %v, want kind %s", err, c.want)
			}
		})
	}

	id, err := s.Requeue(ctx, queue.JobUpload, inv.Number, "", "reconcile 2025-09-14: not at ECPay, upload queued again")
	if err != nil {
		t.Fatalf("Requeue: %v", err)
	}
	// Queued once: a second request while it is open is refused.
	if _, err := s.Requeue(ctx, queue.JobUpload, inv.Number, "", "again"); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("second Requeue: %v", err)
	}
	rec, err := s.Invoice(ctx, inv.Number)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Upload != queue.JobPending {
		t.Fatalf("the record shows the old upload job: %s", rec.Upload)
	}
	events, err := s.Events(ctx, inv.Number)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if last.Kind != queue.EventReconciled || !strings.Contains(last.Detail, "upload queued again") {
		t.Fatalf("no reconcile event: %+v", last)
	}
	j, err := s.Job(ctx, id)
	if err != nil || j.Kind != queue.JobUpload || j.Invoice.Number != inv.Number {
		t.Fatalf("the new job: %+v, %v", j, err)
	}
	docs, err := s.ReconcileDocs(ctx, t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		if d.Number == inv.Number && (d.JobID != id || d.JobState != queue.JobPending) {
			t.Fatalf("ReconcileDocs does not show the latest job: %+v", d)
		}
	}
}

func TestSaveReconcileClearsWhatIsNoLongerSeen(t *testing.T) {
	s, c := mustOpen(t)
	ctx := context.Background()
	run := queue.ReconcileRun{Day: "2025-09-14", Trigger: "demand", Provider: "ecpay", StartedAt: t0}
	a := queue.Finding{Key: "missing|AB00000001|invoice", Kind: "missing", Level: "info", Number: "AB00000001", Difference: "d", Fix: "f", Mended: true}
	b := queue.Finding{Key: "rejected|AB00000002|invoice", Kind: "rejected", Level: "critical", Number: "AB00000002", Difference: "d", Fix: "f"}
	first, err := s.SaveReconcile(ctx, run, []queue.Finding{a, b}, []string{"missing", "rejected"})
	if err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour)
	// The provider could not be asked: nothing of its kinds is cleared.
	run.Error = "timeout"
	if _, err := s.SaveReconcile(ctx, run, nil, []string{"skipped_number"}); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenFindings(ctx)
	if err != nil || len(open) != 2 {
		t.Fatalf("open findings after a failed run: %+v, %v", open, err)
	}
	// A run that sees only the rejection clears the mended upload.
	run.Error = ""
	b.Difference = "still"
	second, err := s.SaveReconcile(ctx, run, []queue.Finding{b}, []string{"missing", "rejected"})
	if err != nil {
		t.Fatal(err)
	}
	open, err = s.OpenFindings(ctx)
	if err != nil || len(open) != 1 || open[0].Kind != "rejected" || open[0].Difference != "still" {
		t.Fatalf("open findings: %+v, %v", open, err)
	}
	if !open[0].FirstSeen.Equal(t0) || open[0].LastRun != second.ID || first.ID == second.ID {
		t.Fatalf("seen again is the same finding: %+v", open[0])
	}
	// Another day's findings are not cleared by this day's run.
	other := run
	other.Day = "2025-09-13"
	if _, err := s.SaveReconcile(ctx, other, nil, []string{"rejected"}); err != nil {
		t.Fatal(err)
	}
	if open, _ := s.OpenFindings(ctx); len(open) != 1 {
		t.Fatalf("another day's run cleared this day's finding: %+v", open)
	}
	latest, ok, err := s.LatestRun(ctx, "2025-09-14", "demand")
	if err != nil || !ok || latest.ID != second.ID {
		t.Fatalf("LatestRun: %+v %v %v", latest, ok, err)
	}
	if _, ok, _ := s.LatestRun(ctx, "2025-09-14", "schedule"); ok {
		t.Fatal("a run on demand counted as the scheduled one")
	}

	for _, bad := range []queue.ReconcileRun{{Day: "2025-09-14", Trigger: "cron"}, {Day: "14/09/2025", Trigger: "demand"}} {
		if _, err := s.SaveReconcile(ctx, bad, nil, nil); posagent.ErrorKind(err) != posagent.KindInvalid {
			t.Fatalf("SaveReconcile(%+v): %v", bad, err)
		}
	}
	if _, err := s.ReconcileRuns(ctx, 0); posagent.ErrorKind(err) != posagent.KindInvalid {
		t.Fatalf("ReconcileRuns(0): %v", err)
	}
}

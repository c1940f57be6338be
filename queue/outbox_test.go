package queue_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// issueN fills a store with one range and n issued sales.
func issueN(t *testing.T, s *queue.Store, n int) []posagent.Invoice {
	t.Helper()
	ctx := context.Background()
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, (n+49)/50+1, p11410)); err != nil {
		t.Fatal(err)
	}
	var out []posagent.Invoice
	for i := range n {
		iss, err := s.Issue(ctx, sale(fmt.Sprintf("s%d", i), 1000), queue.IssueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, iss.Invoice)
	}
	return out
}

func claimAll(t *testing.T, s *queue.Store, lease time.Duration) []queue.Job {
	t.Helper()
	jobs, err := s.Claim(context.Background(), queue.MaxClaim, lease)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	return jobs
}

func kinds(jobs []queue.Job) string {
	var out string
	for _, j := range jobs {
		out += fmt.Sprintf("%s:%s ", j.Kind, j.Invoice.Number)
	}
	return out
}

// Promise 3: a void or allowance never goes out before its invoice; an
// allowance void never before its allowance.
func TestClaimKeepsInvoiceOrder(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	invs := issueN(t, s, 2)
	a, b := invs[0].Number, invs[1].Number
	allowance, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: a, Items: []posagent.Item{{Name: "牛奶", Quantity: posagent.DecimalFromInt(1), UnitPrice: posagent.DecimalFromInt(300), Amount: posagent.DecimalFromInt(300)}}, Total: 300, TaxAmount: 14})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VoidAllowance(ctx, allowance.Number, "退貨取消"); err != nil {
		t.Fatal(err)
	}
	if err := s.Void(ctx, posagent.Void{Number: b, Reason: "打錯"}); err != nil {
		t.Fatal(err)
	}

	// Round 1: only the two uploads; the void was queued before anyone
	// claimed and still must not come out.
	jobs := claimAll(t, s, time.Minute)
	if len(jobs) != 2 || jobs[0].Kind != queue.JobUpload || jobs[1].Kind != queue.JobUpload {
		t.Fatalf("round 1 = %s, want the two uploads", kinds(jobs))
	}
	if again := claimAll(t, s, time.Minute); len(again) != 0 {
		t.Fatalf("while the uploads are claimed: %s, want nothing", kinds(again))
	}
	// The upload of b fails and is retried later: b's void stays back.
	if err := s.Retry(ctx, jobs[1], t0.Add(time.Hour), errors.New("ecpay: 503")); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Invoice(ctx, b); err != nil || r.Upload != queue.JobPending || r.UploadError != "ecpay: 503" {
		t.Fatalf("record after a retry = upload %s %q, %v", r.Upload, r.UploadError, err)
	}
	if u, ok, err := s.OldestUnsent(ctx); err != nil || !ok || u.Number != a || u.Kind != queue.JobUpload || !u.IssuedAt.Equal(t0) {
		t.Fatalf("OldestUnsent = %+v, %v, %v; want a's upload", u, ok, err)
	}
	if err := s.Done(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	if u, ok, err := s.OldestUnsent(ctx); err != nil || !ok || u.Number != b || u.Kind != queue.JobUpload {
		t.Fatalf("OldestUnsent = %+v, %v, %v; want b's upload", u, ok, err)
	}
	jobs = claimAll(t, s, time.Minute)
	if len(jobs) != 1 || jobs[0].Kind != queue.JobAllowance || jobs[0].Allowance == nil || jobs[0].Allowance.Number != allowance.Number {
		t.Fatalf("round 2 = %s, want the allowance only", kinds(jobs))
	}
	if err := s.Done(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	jobs = claimAll(t, s, time.Minute)
	if len(jobs) != 1 || jobs[0].Kind != queue.JobAllowanceVoid || jobs[0].Reason != "退貨取消" || jobs[0].Allowance == nil {
		t.Fatalf("round 3 = %s, want the allowance void", kinds(jobs))
	}
	if err := s.Done(ctx, jobs[0]); err != nil {
		t.Fatal(err)
	}
	if jobs := claimAll(t, s, time.Minute); len(jobs) != 0 {
		t.Fatalf("round 4 = %s, want nothing before b's retry is due", kinds(jobs))
	}
}

// The ordering rule holds when the void is queued while the upload is
// claimed, and when the upload is dead: the void waits for a revived upload.
func TestVoidWaitsForDeadUpload(t *testing.T) {
	s, c := mustOpen(t)
	ctx := context.Background()
	inv := issueN(t, s, 1)[0]
	jobs := claimAll(t, s, time.Minute)
	if err := s.Void(ctx, posagent.Void{Number: inv.Number, Reason: "客訴"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Dead(ctx, jobs[0], posagent.Invalid("seller.tax_id", "not registered")); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour)
	if got := claimAll(t, s, time.Minute); len(got) != 0 {
		t.Fatalf("with the upload dead: %s, want nothing", kinds(got))
	}
	dead, err := s.DeadJobs(ctx, 0)
	if err != nil || len(dead) != 1 || dead[0].LastError != "seller.tax_id: not registered" || dead[0].Attempts != 1 {
		t.Fatalf("DeadJobs = %+v, %v", dead, err)
	}
	if err := s.Revive(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Revive(ctx, dead[0].ID); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Errorf("reviving a pending job: %v, want a conflict", err)
	}
	up := claimAll(t, s, time.Minute)
	if len(up) != 1 || up[0].Kind != queue.JobUpload || up[0].Attempts != 2 {
		t.Fatalf("after revive = %+v, want the upload at attempt 2", up)
	}
	if err := s.Done(ctx, up[0]); err != nil {
		t.Fatal(err)
	}
	v := claimAll(t, s, time.Minute)
	if len(v) != 1 || v[0].Kind != queue.JobVoid || v[0].Void == nil || v[0].Void.Reason != "客訴" {
		t.Fatalf("after the upload = %s, want the void", kinds(v))
	}
	ev, _ := s.Events(ctx, inv.Number)
	var seq []queue.EventKind
	for _, e := range ev {
		seq = append(seq, e.Kind)
	}
	want := fmt.Sprint([]queue.EventKind{queue.EventIssued, queue.EventVoided, queue.EventDead, queue.EventRevived, queue.EventUploaded})
	if fmt.Sprint(seq) != want {
		t.Errorf("events = %v, want %v", seq, want)
	}
}

// A claimed job is invisible until its lease runs out; then it is handed out
// again and the first worker's late Done is refused.
func TestLeaseAndStaleToken(t *testing.T) {
	s, c := mustOpen(t)
	ctx := context.Background()
	issueN(t, s, 1)
	first := claimAll(t, s, time.Minute)
	if len(first) != 1 {
		t.Fatalf("claimed %d", len(first))
	}
	c.Add(59 * time.Second)
	if got := claimAll(t, s, time.Minute); len(got) != 0 {
		t.Fatalf("before the lease ends: %d jobs", len(got))
	}
	c.Add(time.Second)
	second := claimAll(t, s, time.Minute)
	if len(second) != 1 || second[0].ID != first[0].ID || second[0].Attempts != 2 {
		t.Fatalf("after the lease = %+v", second)
	}
	if err := s.Done(ctx, first[0]); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("late Done with the old token: %v, want a conflict", err)
	}
	if err := s.Done(ctx, second[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(ctx, second[0]); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("Done twice: %v, want a conflict", err)
	}
	last, err := s.LastUpload(ctx)
	if err != nil || !last.Equal(c.Now()) {
		t.Errorf("LastUpload = %v, %v; want %v", last, err, c.Now())
	}
}

// Promise 3: a failed upload comes back at the time asked, with its error
// and attempt count.
func TestRetryAtTime(t *testing.T) {
	s, c := mustOpen(t)
	ctx := context.Background()
	issueN(t, s, 1)
	j := claimAll(t, s, time.Minute)[0]
	if err := s.Retry(ctx, j, c.Now().Add(30*time.Second), posagent.Errorf(posagent.KindTransient, "timeout")); err != nil {
		t.Fatal(err)
	}
	c.Add(29 * time.Second)
	if got := claimAll(t, s, time.Minute); len(got) != 0 {
		t.Fatalf("before the retry time: %d jobs", len(got))
	}
	c.Add(time.Second)
	got := claimAll(t, s, time.Minute)
	if len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "timeout" {
		t.Fatalf("at the retry time = %+v", got)
	}
}

// A postponed job (the provider asked for a wait) is due at the given time,
// with its attempt not counted, its last error kept and no failure in the
// invoice's history; a stale claim cannot postpone it.
func TestPostponeIsNotAFailure(t *testing.T) {
	s, c := mustOpen(t)
	ctx := context.Background()
	recs := issueN(t, s, 1)
	j := claimAll(t, s, time.Minute)[0]
	if err := s.Postpone(ctx, j, c.Now().Add(1500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if err := s.Postpone(ctx, j, c.Now()); !posagent.IsKind(err, posagent.KindConflict) {
		t.Fatalf("postpone without the claim: %v", err)
	}
	c.Add(time.Second)
	if got := claimAll(t, s, time.Minute); len(got) != 0 {
		t.Fatalf("before the wait is over: %d jobs", len(got))
	}
	c.Add(500 * time.Millisecond)
	got := claimAll(t, s, time.Minute)
	if len(got) != 1 || got[0].Attempts != 1 || got[0].LastError != "" {
		t.Fatalf("after the wait = %+v, want the first attempt again with no error", got)
	}
	evs, err := s.Events(ctx, recs[0].Number)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Kind == queue.EventFailed {
			t.Fatalf("a wait was recorded as a failure: %+v", ev)
		}
	}
}

// go-practice §3: a clock set back must not strand claimed or waiting jobs.
func TestClockSetBack(t *testing.T) {
	s, c := mustOpen(t)
	ctx := context.Background()
	issueN(t, s, 2)
	jobs := claimAll(t, s, 10*time.Minute)
	if err := s.Retry(ctx, jobs[1], c.Now().Add(time.Minute), errors.New("503")); err != nil {
		t.Fatal(err)
	}
	c.Add(-30 * time.Second) // a small step back: leases and waits hold
	if got := claimAll(t, s, time.Minute); len(got) != 0 {
		t.Fatalf("after a 30 s step back: %s, want nothing yet", kinds(got))
	}
	c.Add(-24 * time.Hour) // NTP corrects a clock that ran a day ahead
	got := claimAll(t, s, time.Minute)
	if len(got) != 2 {
		t.Fatalf("after the clock went back a day: %s, want both jobs due", kinds(got))
	}
}

// Promise 3: claims are bounded and oldest first; claims left by a crash
// are released at start-up.
func TestClaimBatchIsBounded(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	issueN(t, s, 7)
	got, err := s.Claim(ctx, 3, time.Minute)
	if err != nil || len(got) != 3 {
		t.Fatalf("Claim(3) = %d jobs, %v", len(got), err)
	}
	if got[0].Invoice.Number != "AB00000000" || got[2].Invoice.Number != "AB00000002" {
		t.Errorf("not oldest first: %s", kinds(got))
	}
	if _, err := s.Claim(ctx, 1, 0); posagent.ErrorKind(err) != posagent.KindInvalid {
		t.Errorf("zero lease: %v", err)
	}
	n, err := s.ReleaseClaims(ctx)
	if err != nil || n != 3 {
		t.Fatalf("ReleaseClaims = %d, %v", n, err)
	}
	if got := claimAll(t, s, time.Minute); len(got) != 7 {
		t.Fatalf("after release: %d jobs, want 7", len(got))
	}
}

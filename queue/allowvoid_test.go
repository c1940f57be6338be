package queue_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// claimOne claims every due job and requires exactly one, of kind.
func claimOne(t *testing.T, s *queue.Store, kind queue.JobKind) queue.Job {
	t.Helper()
	jobs, err := s.Claim(context.Background(), queue.MaxClaim, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Kind != kind {
		t.Fatalf("claimed %+v, want one %s job", jobs, kind)
	}
	return jobs[0]
}

// The provider's allowance number is stored with the allowance job's end,
// survives a reopen, and reaches the allowance's void job; the void never
// overtakes the allowance.
func TestAllowanceProviderNumber(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "agent.db")
	c := newClock(t0)
	s := mustReopen(t, path, c)
	inv := issueN(t, s, 1)[0]
	if err := s.Done(ctx, claimOne(t, s, queue.JobUpload)); err != nil {
		t.Fatal(err)
	}
	// A caller cannot set the provider's number.
	al, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: inv.Number, Items: line(100), Total: 100, TaxAmount: 5, ProviderNumber: "MINE"})
	if err != nil || al.ProviderNumber != "" {
		t.Fatalf("Allow = %+v, %v; want no provider number", al, err)
	}
	allowJob := claimOne(t, s, queue.JobAllowance)
	if allowJob.Allowance.ProviderNumber != "" {
		t.Fatalf("allowance job before upload has provider number %q", allowJob.Allowance.ProviderNumber)
	}
	// Voided before the allowance is at the provider: the void waits for it.
	if err := s.VoidAllowance(ctx, al.Number, "開錯"); err != nil {
		t.Fatal(err)
	}
	if jobs, err := s.Claim(ctx, queue.MaxClaim, time.Minute); err != nil || len(jobs) != 0 {
		t.Fatalf("claim while the allowance job is out: %+v, %v; want nothing", jobs, err)
	}
	// A dead allowance job holds its void back too.
	if err := s.Dead(ctx, allowJob, posagent.Errorf(posagent.KindInvalid, "refused")); err != nil {
		t.Fatal(err)
	}
	if jobs, err := s.Claim(ctx, queue.MaxClaim, time.Minute); err != nil || len(jobs) != 0 {
		t.Fatalf("claim behind a dead allowance job: %+v, %v; want nothing", jobs, err)
	}
	if err := s.Revive(ctx, allowJob.ID); err != nil {
		t.Fatal(err)
	}
	allowJob = claimOne(t, s, queue.JobAllowance)

	// Only an allowance job takes a provider number.
	upload, err := s.InvoiceJobs(ctx, inv.Number)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DoneAllowance(ctx, upload[0], "X"); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("DoneAllowance of a done upload job: %v, want a conflict (not claimed)", err)
	}
	if err := s.DoneAllowance(ctx, allowJob, string(make([]byte, 65))); posagent.ErrorKind(err) != posagent.KindInvalid {
		t.Fatalf("DoneAllowance with an oversized number: %v", err)
	}
	if err := s.DoneAllowance(ctx, allowJob, "2026112100000001"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = mustReopen(t, path, c)
	r, err := s.Invoice(ctx, inv.Number)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Allowances[0]
	if got.ProviderNumber != "2026112100000001" || got.Upload != queue.JobDone || got.VoidedAt.IsZero() ||
		got.VoidReason != "開錯" || got.VoidUpload != queue.JobPending {
		t.Fatalf("allowance after reopen = %+v", got)
	}
	// A repeated Allow answers with the stored allowance, number included.
	again, err := s.Allow(ctx, posagent.Allowance{Number: al.Number, InvoiceNumber: inv.Number, Items: line(100), Total: 100, TaxAmount: 5})
	if err != nil || again.ProviderNumber != "2026112100000001" {
		t.Fatalf("repeated Allow = %+v, %v", again, err)
	}
	void := claimOne(t, s, queue.JobAllowanceVoid)
	if void.Allowance == nil || void.Allowance.ProviderNumber != "2026112100000001" || void.Reason != "開錯" {
		t.Fatalf("void job = %+v", void)
	}
	if err := s.DoneAllowance(ctx, void, "2026112100000001"); posagent.ErrorKind(err) != posagent.KindInvalid {
		t.Fatalf("DoneAllowance of a void job: %v, want invalid", err)
	}
	if err := s.Retry(ctx, void, c.Now(), posagent.Errorf(posagent.KindTransient, "ECPay timed out")); err != nil {
		t.Fatal(err)
	}
	if r, _ = s.Invoice(ctx, inv.Number); r.Allowances[0].VoidError == "" {
		t.Fatalf("the void's error is not reported: %+v", r.Allowances[0])
	}
	void = claimOne(t, s, queue.JobAllowanceVoid)
	if err := s.Done(ctx, void); err != nil {
		t.Fatal(err)
	}
	if r, _ = s.Invoice(ctx, inv.Number); r.Allowances[0].VoidUpload != queue.JobDone || r.Allowances[0].VoidError != "" {
		t.Fatalf("after the void is done: %+v", r.Allowances[0])
	}
}

// An allowance done without a number (adopted after a lost answer) keeps
// none; DoneAllowance with an empty number is Done.
func TestAllowanceDoneWithoutProviderNumber(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	inv := issueN(t, s, 1)[0]
	if err := s.Done(ctx, claimOne(t, s, queue.JobUpload)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: inv.Number, Items: line(100), Total: 100, TaxAmount: 5}); err != nil {
		t.Fatal(err)
	}
	if err := s.DoneAllowance(ctx, claimOne(t, s, queue.JobAllowance), ""); err != nil {
		t.Fatal(err)
	}
	r, err := s.Invoice(ctx, inv.Number)
	if err != nil || r.Allowances[0].Upload != queue.JobDone || r.Allowances[0].ProviderNumber != "" {
		t.Fatalf("record = %+v, %v", r.Allowances, err)
	}
}

// A dead job a person settled elsewhere is resolved: done, noted in the
// events, and the invoice's later jobs go.
func TestResolveDeadJob(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	inv := issueN(t, s, 1)[0]
	if err := s.Done(ctx, claimOne(t, s, queue.JobUpload)); err != nil {
		t.Fatal(err)
	}
	al, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: inv.Number, Items: line(100), Total: 100, TaxAmount: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DoneAllowance(ctx, claimOne(t, s, queue.JobAllowance), ""); err != nil {
		t.Fatal(err)
	}
	if err := s.VoidAllowance(ctx, al.Number, "開錯"); err != nil {
		t.Fatal(err)
	}
	void := claimOne(t, s, queue.JobAllowanceVoid)
	if err := s.Resolve(ctx, void.ID, "voided in the ECPay back office"); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("Resolve of a claimed job: %v, want a conflict", err)
	}
	if err := s.Dead(ctx, void, posagent.Invalid("provider_number", "ECPay did not return the allowance number")); err != nil {
		t.Fatal(err)
	}
	if err := s.Void(ctx, posagent.Void{Number: inv.Number, Reason: "退貨"}); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := s.Claim(ctx, queue.MaxClaim, time.Minute); len(jobs) != 0 {
		t.Fatalf("the invoice void went out past a dead job: %+v", jobs)
	}
	if err := s.Resolve(ctx, void.ID, ""); posagent.ErrorKind(err) != posagent.KindInvalid || posagent.ErrorField(err) != "note" {
		t.Fatalf("Resolve without a note: %v", err)
	}
	if err := s.Resolve(ctx, 9999, "x"); posagent.ErrorKind(err) != posagent.KindNotFound {
		t.Fatalf("Resolve of an unknown job: %v", err)
	}
	before, _ := s.Status(ctx)
	if err := s.Resolve(ctx, void.ID, "voided in the ECPay back office"); err != nil {
		t.Fatal(err)
	}
	if err := s.Resolve(ctx, void.ID, "again"); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("second Resolve: %v", err)
	}
	after, _ := s.Status(ctx)
	if !after.LastUpload.Equal(before.LastUpload) {
		t.Errorf("Resolve moved the last upload time: %v → %v", before.LastUpload, after.LastUpload)
	}
	claimOne(t, s, queue.JobVoid)
	r, err := s.Invoice(ctx, inv.Number)
	if err != nil || r.Allowances[0].VoidUpload != queue.JobDone {
		t.Fatalf("record = %+v, %v", r.Allowances, err)
	}
	events, err := s.Events(ctx, inv.Number)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	found := false
	for _, e := range events {
		if e.Kind == queue.EventResolved && e.Detail == fmt.Sprintf("job %d (allowance_void): voided in the ECPay back office", void.ID) {
			found = true
		}
	}
	if !found {
		t.Fatalf("no resolved event; last is %+v", last)
	}
}

package queue_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// handOut claims every due job, marks each done when done is true, and
// returns "kind number" in the order they were handed out.
func handOut(t *testing.T, s *queue.Store, done bool) []string {
	t.Helper()
	jobs, err := s.Claim(context.Background(), queue.MaxClaim, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, j := range jobs {
		out = append(out, string(j.Kind)+" "+string(j.Invoice.Number))
		if done {
			if err := s.Done(context.Background(), j); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

func TestReissue(t *testing.T) {
	ctx := context.Background()
	s, c := mustOpen(t)
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	old, err := s.Issue(ctx, sale("r-1", 150), queue.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	fixed := sale("r-1b", 150)
	fixed.Buyer = posagent.Buyer{TaxID: "24634102", Name: "買方公司"}
	fixed.IssuedAt = c.Now()
	v := posagent.Void{Number: old.Invoice.Number, VoidedAt: c.Now(), Reason: "買方要統編"}
	re, err := s.Reissue(ctx, v, fixed, queue.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if re.Replayed || re.Invoice.Number != "AB00000001" || re.Void.Number != old.Invoice.Number {
		t.Fatalf("reissue = %+v, want AB00000001 replacing %s", re, old.Invoice.Number)
	}
	oldRec, err := s.Invoice(ctx, old.Invoice.Number)
	if err != nil {
		t.Fatal(err)
	}
	if oldRec.Void == nil || oldRec.Void.Reason != "買方要統編" || oldRec.ReplacedBy != re.Invoice.Number {
		t.Fatalf("old record: void %+v, replaced by %q", oldRec.Void, oldRec.ReplacedBy)
	}
	newRec, err := s.Invoice(ctx, re.Invoice.Number)
	if err != nil {
		t.Fatal(err)
	}
	if newRec.Replaces != old.Invoice.Number || newRec.Invoice.Buyer.TaxID != "24634102" {
		t.Fatalf("new record: replaces %q, buyer %+v", newRec.Replaces, newRec.Invoice.Buyer)
	}
	// The events point at each other.
	assertEvent(t, s, old.Invoice.Number, queue.EventReissued, string(re.Invoice.Number))
	assertEvent(t, s, re.Invoice.Number, queue.EventReissueOf, string(old.Invoice.Number))

	// A retried request answers the same and writes nothing.
	c.Add(time.Second)
	again := fixed
	again.IssuedAt = c.Now()
	re2, err := s.Reissue(ctx, posagent.Void{Number: old.Invoice.Number, VoidedAt: c.Now(), Reason: "買方要統編"}, again, queue.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !re2.Replayed || re2.Invoice.Number != re.Invoice.Number || !re2.Void.VoidedAt.Equal(re.Void.VoidedAt) {
		t.Fatalf("retry = %+v, want a replay of %s", re2, re.Invoice.Number)
	}
	if left, _ := s.PeriodLeft(ctx, p11410); left != 48 {
		t.Fatalf("%d numbers left after a retried reissue, want 48", left)
	}

	// Uploads: invoice, then its void, then the new invoice, whatever the
	// batch size.
	var order []string
	for range 4 {
		order = append(order, handOut(t, s, true)...)
	}
	want := []string{"upload AB00000000", "void AB00000000", "upload AB00000001"}
	if strings.Join(order, ",") != strings.Join(want, ",") {
		t.Fatalf("jobs handed out as %v, want %v", order, want)
	}
}

// The new invoice's upload waits for the void even when the void is dead,
// until a person settles it.
func TestReissueUploadWaitsForVoid(t *testing.T) {
	ctx := context.Background()
	s, c := mustOpen(t)
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	old, err := s.Issue(ctx, sale("w-1", 150), queue.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := handOut(t, s, true); len(got) != 1 {
		t.Fatalf("claimed %v", got)
	}
	c.Add(time.Minute)
	fixed := sale("w-2", 140)
	fixed.IssuedAt = c.Now()
	if _, err := s.Reissue(ctx, posagent.Void{Number: old.Invoice.Number, Reason: "金額錯誤"}, fixed, queue.IssueOptions{}); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Claim(ctx, queue.MaxClaim, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || jobs[0].Kind != queue.JobVoid {
		t.Fatalf("claimed %d jobs, want the void alone", len(jobs))
	}
	if err := s.Dead(ctx, jobs[0], posagent.Errorf(posagent.KindConflict, "refused")); err != nil {
		t.Fatal(err)
	}
	if got := handOut(t, s, false); len(got) != 0 {
		t.Fatalf("claimed %v while the void is dead", got)
	}
	if err := s.Resolve(ctx, jobs[0].ID, "voided in the provider's back office"); err != nil {
		t.Fatal(err)
	}
	if got := handOut(t, s, true); len(got) != 1 || got[0] != "upload AB00000001" {
		t.Fatalf("claimed %v after the void was settled", got)
	}
}

func TestReissueRefusals(t *testing.T) {
	ctx := context.Background()
	s, c := mustOpen(t)
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	issue := func(id string) posagent.InvoiceNumber {
		iss, err := s.Issue(ctx, sale(id, 300), queue.IssueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return iss.Invoice.Number
	}
	plain := issue("x-plain")
	allowed := issue("x-allow")
	a, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: allowed, Items: line(10), Total: 10})
	if err != nil {
		t.Fatal(err)
	}
	allowedVoided := issue("x-allow-voided")
	a2, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: allowedVoided, Items: line(10), Total: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VoidAllowance(ctx, a2.Number, "錯誤"); err != nil {
		t.Fatal(err)
	}
	voided := issue("x-voided")
	if err := s.Void(ctx, posagent.Void{Number: voided, Reason: "錯誤"}); err != nil {
		t.Fatal(err)
	}
	other := issue("x-other")
	_ = a

	deadline := p11410.VoidDeadline() // 2025-11-14 00:00 Taipei
	for _, tc := range []struct {
		name   string
		number posagent.InvoiceNumber
		saleID string
		at     time.Time
		sale   func(*posagent.Invoice)
		kind   posagent.Kind
		want   string
	}{
		{"allowance", allowed, "n-1", t0, nil, posagent.KindConflict, "use an allowance"},
		{"voided allowance", allowedVoided, "n-2", t0, nil, posagent.KindConflict, "use an allowance"},
		{"already voided", voided, "n-3", t0, nil, posagent.KindConflict, "already voided"},
		{"past the deadline", plain, "n-4", deadline, nil, posagent.KindConflict, "void deadline passed at 2025-11-13 23:59:59; use an allowance"},
		{"same sale id", plain, "x-plain", t0, nil, posagent.KindInvalid, "sale id of its own"},
		{"sale id of another invoice", plain, "x-other", t0, nil, posagent.KindConflict, "not as the reissue of"},
		{"invalid sale", plain, "n-5", t0, func(inv *posagent.Invoice) { inv.Buyer.TaxID = "12345678" }, posagent.KindInvalid, "buyer.tax_id"},
		{"unknown invoice", "ZZ99999999", "n-6", t0, nil, posagent.KindNotFound, "no invoice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.Set(tc.at)
			fixed := sale(tc.saleID, 250)
			fixed.IssuedAt = t0
			if tc.sale != nil {
				tc.sale(&fixed)
			}
			_, err := s.Reissue(ctx, posagent.Void{Number: tc.number, Reason: "改正"}, fixed, queue.IssueOptions{})
			if !posagent.IsKind(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Reissue = %v, want %s containing %q", err, tc.kind, tc.want)
			}
		})
	}
	// Nothing was spent or voided by the refusals.
	if left, _ := s.PeriodLeft(ctx, p11410); left != 45 {
		t.Fatalf("%d numbers left, want 45", left)
	}
	for _, n := range []posagent.InvoiceNumber{plain, other, allowed} {
		if rec, _ := s.Invoice(ctx, n); rec.Void != nil {
			t.Fatalf("%s was voided by a refused reissue", n)
		}
	}
	// The plain void obeys the deadline too.
	c.Set(deadline.Add(-time.Second))
	if err := s.Void(ctx, posagent.Void{Number: other, Reason: "錯誤", VoidedAt: deadline}); !posagent.IsKind(err, posagent.KindConflict) {
		t.Fatalf("void at the deadline = %v, want a conflict", err)
	}
	if err := s.Void(ctx, posagent.Void{Number: other, Reason: "錯誤", VoidedAt: deadline.Add(-time.Second)}); err != nil {
		t.Fatalf("void a second before the deadline: %v", err)
	}
}

func assertEvent(t *testing.T, s *queue.Store, n posagent.InvoiceNumber, kind queue.EventKind, detail string) {
	t.Helper()
	events, err := s.Events(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Kind == kind && strings.Contains(e.Detail, detail) {
			return
		}
	}
	t.Fatalf("%s has no %s event naming %q: %+v", n, kind, detail, events)
}

package queue_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// An order taken in 11–12 and issued in January takes a number from the new
// period's booklets, dated the moment it was issued.
func TestOrderAcrossPeriods(t *testing.T) {
	ctx := context.Background()
	s, c := mustOpen(t)
	p11412 := posagent.Period{Year: 114, EvenMonth: 12}
	p11502 := posagent.Period{Year: 115, EvenMonth: 2}
	for _, b := range []posagent.Booklet{booklet("AB", 0, 1, p11412), booklet("CD", 100, 1, p11502)} {
		if _, err := s.AddBooklet(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	ordered := time.Date(2025, 12, 30, 18, 0, 0, 0, posagent.Taipei)
	c.Set(ordered)
	o := sale("pre-1", 880)
	o.IssuedAt = ordered
	got, created, err := s.AddOrder(ctx, o)
	if err != nil || !created || got.State != queue.OrderOpen || got.Invoice != "" {
		t.Fatalf("AddOrder = %+v, %v, %v", got, created, err)
	}
	if left, _ := s.PeriodLeft(ctx, p11412); left != 50 {
		t.Fatalf("an order spent a number: %d left", left)
	}
	if open, stale, oldest, err := s.OrderCounts(ctx, ordered.Add(time.Hour)); err != nil || open != 1 || stale != 1 || !oldest.Equal(ordered) {
		t.Fatalf("OrderCounts = %d, %d, %v, %v", open, stale, oldest, err)
	}

	pickup := time.Date(2026, 1, 3, 10, 0, 0, 0, posagent.Taipei)
	c.Set(pickup)
	iss, err := s.IssueOrder(ctx, "pre-1", pickup, queue.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if iss.Invoice.Number != "CD00000100" || !iss.Invoice.IssuedAt.Equal(pickup) || iss.Invoice.Period() != p11502 {
		t.Fatalf("issued %s at %v (%s), want CD00000100 at pick-up in 11502", iss.Invoice.Number, iss.Invoice.IssuedAt, iss.Invoice.Period())
	}
	assertEvent(t, s, iss.Invoice.Number, queue.EventFromOrder, "pre-1")
	rec, err := s.Invoice(ctx, iss.Invoice.Number)
	if err != nil || rec.Order != "pre-1" {
		t.Fatalf("record order = %q, %v", rec.Order, err)
	}
	// Issuing twice answers the same invoice.
	again, err := s.IssueOrder(ctx, "pre-1", pickup.Add(time.Hour), queue.IssueOptions{})
	if err != nil || !again.Replayed || again.Invoice.Number != iss.Invoice.Number {
		t.Fatalf("second issue = %+v, %v", again, err)
	}
	got, err = s.Order(ctx, "pre-1")
	if err != nil || got.State != queue.OrderIssued || got.Invoice != iss.Invoice.Number {
		t.Fatalf("order after issue = %+v, %v", got, err)
	}
	if _, err := s.CancelOrder(ctx, "pre-1", "不要了"); !posagent.IsKind(err, posagent.KindConflict) || !strings.Contains(err.Error(), "void the invoice") {
		t.Fatalf("cancel of an issued order = %v", err)
	}
	if open, _, _, _ := s.OrderCounts(ctx, pickup); open != 0 {
		t.Fatalf("%d open orders after the issue", open)
	}
}

func TestOrderIdempotencyAndCancel(t *testing.T) {
	ctx := context.Background()
	s, c := mustOpen(t)
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddOrder(ctx, sale("o-1", 500)); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Minute)
	retry := sale("o-1", 500)
	retry.IssuedAt = c.Now()
	if got, created, err := s.AddOrder(ctx, retry); err != nil || created || !got.Sale.IssuedAt.Equal(t0) {
		t.Fatalf("same order again = %+v, created %v, %v", got, created, err)
	}
	if _, _, err := s.AddOrder(ctx, sale("o-1", 501)); !posagent.IsKind(err, posagent.KindConflict) {
		t.Fatalf("same id, other content = %v, want a conflict", err)
	}
	if _, err := s.Issue(ctx, sale("sold", 10), queue.IssueOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AddOrder(ctx, sale("sold", 10)); !posagent.IsKind(err, posagent.KindConflict) {
		t.Fatalf("order with an issued sale's id = %v, want a conflict", err)
	}
	bad := sale("o-bad", 10)
	bad.Total = 11
	if _, _, err := s.AddOrder(ctx, bad); !posagent.IsKind(err, posagent.KindInvalid) {
		t.Fatalf("invalid order = %v", err)
	}

	if _, err := s.CancelOrder(ctx, "o-1", ""); !posagent.IsKind(err, posagent.KindInvalid) {
		t.Fatalf("cancel without a reason = %v", err)
	}
	got, err := s.CancelOrder(ctx, "o-1", "客人取消")
	if err != nil || got.State != queue.OrderCancelled || got.CancelReason != "客人取消" {
		t.Fatalf("cancel = %+v, %v", got, err)
	}
	if again, err := s.CancelOrder(ctx, "o-1", "again"); err != nil || again.CancelReason != "客人取消" {
		t.Fatalf("second cancel = %+v, %v", again, err)
	}
	if _, err := s.IssueOrder(ctx, "o-1", c.Now(), queue.IssueOptions{}); !posagent.IsKind(err, posagent.KindConflict) {
		t.Fatalf("issue of a cancelled order = %v", err)
	}
	if _, err := s.IssueOrder(ctx, "nope", c.Now(), queue.IssueOptions{}); !posagent.IsKind(err, posagent.KindNotFound) {
		t.Fatalf("issue of an unknown order = %v", err)
	}
	if left, _ := s.PeriodLeft(ctx, p11410); left != 49 {
		t.Fatalf("%d numbers left, want 49 (one sale, no order)", left)
	}
	if _, _, err := s.AddOrder(ctx, sale("o-2", 20)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		state queue.OrderState
		want  []string
	}{{"", []string{"o-1", "o-2"}}, {queue.OrderOpen, []string{"o-2"}}, {queue.OrderCancelled, []string{"o-1"}}, {queue.OrderIssued, nil}} {
		list, err := s.Orders(ctx, tc.state, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, o := range list {
			ids = append(ids, o.ID)
		}
		if strings.Join(ids, ",") != strings.Join(tc.want, ",") {
			t.Errorf("Orders(%q) = %v, want %v", tc.state, ids, tc.want)
		}
	}
	if _, err := s.Orders(ctx, "lost", 10); !posagent.IsKind(err, posagent.KindInvalid) {
		t.Fatalf("Orders(lost) = %v", err)
	}
}

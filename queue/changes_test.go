package queue_test

import (
	"context"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

func line(amount int64) []posagent.Item {
	return []posagent.Item{{Name: "退貨", Quantity: posagent.DecimalFromInt(1), UnitPrice: posagent.DecimalFromInt(amount), Amount: posagent.DecimalFromInt(amount)}}
}

// Promise 3: a void is recorded once, queued as a job, and ends the
// invoice's allowances and printing.
func TestVoid(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	inv := issueN(t, s, 1)[0]
	if err := s.Void(ctx, posagent.Void{Number: inv.Number}); posagent.ErrorKind(err) != posagent.KindInvalid {
		t.Fatalf("void without reason: %v", err)
	}
	if err := s.Void(ctx, posagent.Void{Number: "ZZ99999999", Reason: "x"}); posagent.ErrorKind(err) != posagent.KindNotFound {
		t.Fatalf("void of an unknown invoice: %v", err)
	}
	if err := s.Void(ctx, posagent.Void{Number: inv.Number, Reason: "打錯"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Void(ctx, posagent.Void{Number: inv.Number, Reason: "打錯"}); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("second void: %v, want a conflict", err)
	}
	r, err := s.Invoice(ctx, inv.Number)
	if err != nil || r.Void == nil || r.Void.Reason != "打錯" {
		t.Fatalf("record = %+v, %v", r, err)
	}
	if _, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: inv.Number, Items: line(10), Total: 10}); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Errorf("allowance on a voided invoice: %v", err)
	}
	if _, err := s.BeginPrint(ctx, inv.Number); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Errorf("printing a voided invoice: %v", err)
	}
	jobs, _ := s.InvoiceJobs(ctx, inv.Number)
	if len(jobs) != 2 || jobs[1].Kind != queue.JobVoid || jobs[1].Void.Reason != "打錯" {
		t.Errorf("jobs = %+v", jobs)
	}
}

// An allowance never refunds more than what is left of the invoice.
func TestAllowanceRemaining(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	inv := issueN(t, s, 1)[0] // NT$1000
	a1, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: inv.Number, Items: line(600), Total: 600, TaxAmount: 29})
	if err != nil {
		t.Fatal(err)
	}
	if a1.Number != string(inv.Number)+"-01" || a1.IssuedAt.IsZero() {
		t.Errorf("allowance = %+v", a1)
	}
	_, err = s.Allow(ctx, posagent.Allowance{InvoiceNumber: inv.Number, Items: line(401), Total: 401, TaxAmount: 19})
	if posagent.ErrorKind(err) != posagent.KindInvalid || posagent.ErrorField(err) != "total" {
		t.Fatalf("refund above what is left: %v, want invalid total", err)
	}
	// A retried request with the same number returns the stored allowance.
	again, err := s.Allow(ctx, posagent.Allowance{Number: a1.Number, InvoiceNumber: inv.Number, Items: line(600), Total: 600, TaxAmount: 29})
	if err != nil || !again.IssuedAt.Equal(a1.IssuedAt) {
		t.Fatalf("repeated allowance = %+v, %v", again, err)
	}
	if _, err := s.Allow(ctx, posagent.Allowance{Number: a1.Number, InvoiceNumber: inv.Number, Items: line(500), Total: 500, TaxAmount: 24}); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("same allowance number, other content: %v", err)
	}
	if err := s.Void(ctx, posagent.Void{Number: inv.Number, Reason: "x"}); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("void with a live allowance: %v, want a conflict", err)
	}
	if err := s.VoidAllowance(ctx, a1.Number, "開錯"); err != nil {
		t.Fatal(err)
	}
	if err := s.VoidAllowance(ctx, a1.Number, "開錯"); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("second allowance void: %v", err)
	}
	if err := s.VoidAllowance(ctx, "nope", "開錯"); posagent.ErrorKind(err) != posagent.KindNotFound {
		t.Fatalf("unknown allowance: %v", err)
	}
	// The voided allowance gives its amount back.
	a2, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: inv.Number, Items: line(1000), Total: 1000, TaxAmount: 48})
	if err != nil {
		t.Fatalf("full refund after the void: %v", err)
	}
	r, err := s.Invoice(ctx, inv.Number)
	if err != nil || r.Remaining != 0 || len(r.Allowances) != 2 || r.Allowances[0].VoidedAt.IsZero() || r.Allowances[1].Number != a2.Number ||
		r.Allowances[1].Number != string(inv.Number)+"-02" {
		t.Fatalf("record = %+v, %v", r, err)
	}
}

package queue_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// Promise 1: an issued invoice comes with its upload job, its print job and
// an event; promise 2: numbers in order, ranges in the order they were added.
func TestIssueTakesNumbersInOrder(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	// Added out of numeric order: the store uses them in the order added.
	for _, b := range []posagent.Booklet{booklet("AB", 200, 1, p11410), booklet("AB", 0, 1, p11410), booklet("XY", 0, 1, p11410.Next())} {
		if _, err := s.AddBooklet(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	var got []posagent.InvoiceNumber
	for i := range 100 {
		iss, err := s.Issue(ctx, sale(fmt.Sprintf("s%d", i), 100+int64(i)), queue.IssueOptions{})
		if err != nil {
			t.Fatalf("Issue %d: %v", i, err)
		}
		if !posagent.ValidRandomCode(iss.Invoice.RandomCode) {
			t.Fatalf("random code %q", iss.Invoice.RandomCode)
		}
		if err := iss.Invoice.ValidateIssued(); err != nil {
			t.Fatalf("issued invoice invalid: %v", err)
		}
		got = append(got, iss.Invoice.Number)
	}
	for i, n := range got {
		want := posagent.MakeInvoiceNumber("AB", 200+i)
		if i >= 50 {
			want = posagent.MakeInvoiceNumber("AB", i-50)
		}
		if n != want {
			t.Fatalf("invoice %d got %s, want %s", i, n, want)
		}
	}
	_, err := s.Issue(ctx, sale("one-too-many", 100), queue.IssueOptions{})
	if posagent.ErrorKind(err) != posagent.KindExhausted {
		t.Fatalf("101st sale: %v, want exhausted", err)
	}
	if _, err := s.InvoiceBySale(ctx, "one-too-many"); posagent.ErrorKind(err) != posagent.KindNotFound {
		t.Errorf("an exhausted sale was stored: %v", err)
	}

	r, err := s.Invoice(ctx, "AB00000200")
	if err != nil {
		t.Fatal(err)
	}
	if r.Invoice.SaleID != "s0" || r.Upload != queue.JobPending || r.Print == nil || r.Print.State != queue.PrintPending || r.Remaining != 100 {
		t.Errorf("record = %+v", r)
	}
	ev, err := s.Events(ctx, "AB00000200")
	if err != nil || len(ev) != 1 || ev[0].Kind != queue.EventIssued {
		t.Errorf("events = %+v, %v", ev, err)
	}
	counts, err := s.JobCounts(ctx)
	if err != nil || counts[queue.JobPending] != 100 {
		t.Errorf("JobCounts = %v, %v; want 100 pending", counts, err)
	}
}

// Promise 1 and 2 under a retried request: the same sale id gives back the
// same invoice, never a second number.
func TestIssueRepeatedSaleID(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	derive := func(inv posagent.Invoice) (map[string]string, error) {
		return map[string]string{"barcode": inv.Period().Code() + string(inv.Number) + inv.RandomCode}, nil
	}
	first, err := s.Issue(ctx, sale("pos-1", 340), queue.IssueOptions{Derive: derive})
	if err != nil {
		t.Fatal(err)
	}
	if first.Replayed || first.Derived["barcode"] != "11410AB00000000"+first.Invoice.RandomCode {
		t.Fatalf("first issue = %+v", first)
	}
	retry := sale("pos-1", 340)
	retry.IssuedAt = t0.Add(3 * time.Second) // the agent stamps the retry anew
	again, err := s.Issue(ctx, retry, queue.IssueOptions{Derive: func(posagent.Invoice) (map[string]string, error) {
		t.Error("Derive called for a replay")
		return nil, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.Invoice.Number != first.Invoice.Number || again.Invoice.RandomCode != first.Invoice.RandomCode ||
		!again.Invoice.IssuedAt.Equal(first.Invoice.IssuedAt) || again.Derived["barcode"] != first.Derived["barcode"] {
		t.Fatalf("replay = %+v, want the first invoice %+v", again, first)
	}
	changed := sale("pos-1", 341)
	_, err = s.Issue(ctx, changed, queue.IssueOptions{})
	if posagent.ErrorKind(err) != posagent.KindConflict || posagent.ErrorField(err) != "sale_id" {
		t.Fatalf("same sale id, other content: %v, want a sale_id conflict", err)
	}
	b, _ := s.Booklets(ctx, p11410)
	if b[0].Next != 1 {
		t.Errorf("cursor = %d after one sale and two repeats, want 1", b[0].Next)
	}
}

// Bad input spends no number and writes nothing.
func TestIssueInvalidWritesNothing(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	badTotal := sale("bad-total", 100)
	badTotal.Total = 99
	noID := sale("", 100)
	noTime := sale("no-time", 100)
	noTime.IssuedAt = time.Time{}
	numbered := sale("numbered", 100)
	numbered.Number = "AB00000001"
	numbered.RandomCode = "1234"
	tests := []struct {
		name  string
		sale  posagent.Invoice
		field string
	}{
		{"wrong total", badTotal, "total"},
		{"no sale id", noID, "sale_id"},
		{"no issue time", noTime, "issued_at"},
		{"already numbered", numbered, "number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Issue(ctx, tt.sale, queue.IssueOptions{})
			if posagent.ErrorKind(err) != posagent.KindInvalid || posagent.ErrorField(err) != tt.field {
				t.Fatalf("Issue: %v, want invalid %s", err, tt.field)
			}
		})
	}
	boom := errors.New("qr encoder failed")
	_, err := s.Issue(ctx, sale("derive-fails", 100), queue.IssueOptions{Derive: func(posagent.Invoice) (map[string]string, error) { return nil, boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("failing Derive: %v, want its error", err)
	}
	b, _ := s.Booklets(ctx, p11410)
	if b[0].Next != 0 {
		t.Fatalf("cursor moved to %d on rejected sales", b[0].Next)
	}
	st, err := s.Status(ctx)
	if err != nil || st.Jobs[queue.JobPending] != 0 || st.OldestUnsent != nil || st.Unprinted != 0 {
		t.Fatalf("status after rejected sales = %+v, %v", st, err)
	}
	iss, err := s.Issue(ctx, sale("good", 100), queue.IssueOptions{})
	if err != nil || iss.Invoice.Number != "AB00000000" {
		t.Fatalf("next good sale = %v, %v; want AB00000000", iss.Invoice.Number, err)
	}
}

// Promise 5: an invoice kept in a carrier has no proof at all, so no
// original can be printed for it.
func TestIssueCarrierInvoiceHasNoPrintJob(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	inv := sale("carrier", 100)
	inv.Print = false
	inv.Carrier = posagent.Carrier{Type: posagent.CarrierMobile, ID: "/ABC1234"}
	iss, err := s.Issue(ctx, inv, queue.IssueOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Invoice(ctx, iss.Invoice.Number)
	if err != nil || r.Print != nil {
		t.Fatalf("record = %+v, %v; want no print job", r, err)
	}
	if _, err := s.BeginPrint(ctx, iss.Invoice.Number); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Errorf("BeginPrint of a carrier invoice: %v, want a conflict", err)
	}
}

// Promise 2 under load: many goroutines issuing at once get unique numbers,
// ranges used in order, no gaps.
func TestIssueConcurrent(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	ranges := []posagent.Booklet{booklet("AB", 500, 2, p11410), booklet("AB", 0, 2, p11410), booklet("CD", 1000, 2, p11410)}
	for _, b := range ranges {
		if _, err := s.AddBooklet(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	const workers, each = 16, 15 // 240 of the 300 numbers
	type result struct {
		saleID string
		number posagent.InvoiceNumber
	}
	results := make(chan result, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id := fmt.Sprintf("w%d-%d", w, i)
				iss, err := s.Issue(ctx, sale(id, 100), queue.IssueOptions{})
				if err != nil {
					t.Errorf("Issue %s: %v", id, err)
					return
				}
				results <- result{id, iss.Invoice.Number}
			}
		})
	}
	wg.Wait()
	close(results)
	seen := map[posagent.InvoiceNumber]string{}
	for r := range results {
		if other, dup := seen[r.number]; dup {
			t.Fatalf("number %s issued to %s and %s", r.number, other, r.saleID)
		}
		seen[r.number] = r.saleID
	}
	if len(seen) != workers*each {
		t.Fatalf("%d numbers, want %d", len(seen), workers*each)
	}
	// In issue order (invoice id), the numbers are exactly the ranges in the
	// order added, without a gap.
	recent, err := s.Recent(ctx, 500)
	if err != nil {
		t.Fatal(err)
	}
	var want []posagent.InvoiceNumber
	for _, b := range ranges {
		for i := range b.Count() {
			want = append(want, b.Number(i))
		}
	}
	for i := range recent { // Recent is newest first
		got := recent[len(recent)-1-i].Invoice.Number
		if got != want[i] {
			t.Fatalf("issue #%d got %s, want %s", i, got, want[i])
		}
	}
}

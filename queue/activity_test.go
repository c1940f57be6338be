package queue_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// Activity lists the invoices issued, voided or given an allowance in the
// window, each once, oldest first; others are left out.
func TestActivity(t *testing.T) {
	s, c := mustOpen(t)
	ctx := context.Background()
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	issue := func(id string, at time.Time) posagent.Invoice {
		t.Helper()
		sl := sale(id, 100)
		sl.IssuedAt = at
		iss, err := s.Issue(ctx, sl, queue.IssueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return iss.Invoice
	}
	day1 := time.Date(2025, 9, 14, 0, 0, 0, 0, posagent.Taipei)
	day2 := day1.AddDate(0, 0, 1)
	day3 := day2.AddDate(0, 0, 1)
	a := issue("a", day1.Add(9*time.Hour))  // day 1, voided on day 2
	b := issue("b", day1.Add(23*time.Hour)) // day 1, allowance on day 2
	_ = issue("c", day1.Add(23*time.Hour+30*time.Minute))
	d := issue("d", day2.Add(time.Minute)) // day 2
	c.Set(day2.Add(10 * time.Hour))
	if err := s.Void(ctx, posagent.Void{Number: a.Number, Reason: "打錯"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Allow(ctx, posagent.Allowance{InvoiceNumber: b.Number, Items: line(40), Total: 40, TaxAmount: 2}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		from, to time.Time
		want     []posagent.InvoiceNumber
	}{
		{"day 1: issued", day1, day2, []posagent.InvoiceNumber{a.Number, b.Number, "AB00000002"}},
		{"day 2: issued, voided, allowance", day2, day3, []posagent.InvoiceNumber{a.Number, b.Number, d.Number}},
		{"day 3: nothing", day3, day3.AddDate(0, 0, 1), nil},
		{"empty window", day2, day2, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := s.Activity(ctx, tc.from, tc.to)
			if err != nil {
				t.Fatal(err)
			}
			var got []posagent.InvoiceNumber
			for _, r := range recs {
				got = append(got, r.Invoice.Number)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
	recs, err := s.Activity(ctx, day2, day3)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Void == nil || recs[0].Void.Reason != "打錯" || len(recs[1].Allowances) != 1 || recs[1].Remaining != 60 {
		t.Fatalf("records lack their void or allowance: %+v", recs[:2])
	}
}

// BenchmarkActivityDay reads one day's book (300 invoices, a busy till) out
// of a store holding 20 days (6,000 invoices): the console's invoice list
// and daily summary.
func BenchmarkActivityDay(b *testing.B) {
	const days, perDay = 20, 300
	s := benchStore(b, days*perDay)
	ctx := context.Background()
	start := time.Date(2025, 9, 1, 8, 0, 0, 0, posagent.Taipei)
	for d := range days {
		for i := range perDay {
			sl := sale(fmt.Sprintf("d%d-%d", d, i), 100)
			sl.IssuedAt = start.AddDate(0, 0, d).Add(time.Duration(i) * 2 * time.Minute)
			if _, err := s.Issue(ctx, sl, queue.IssueOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	from := time.Date(2025, 9, 11, 0, 0, 0, 0, posagent.Taipei)
	b.ResetTimer()
	for b.Loop() {
		recs, err := s.Activity(ctx, from, from.AddDate(0, 0, 1))
		if err != nil || len(recs) != perDay {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
}

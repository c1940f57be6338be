package queue_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// Promise 2 (one number, one invoice) and 4 (every number accounted for):
// ranges are whole booklets and never overlap.
func TestAddBookletRules(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	if _, err := s.AddBooklet(ctx, booklet("AB", 1000, 2, p11410)); err != nil {
		t.Fatalf("AddBooklet: %v", err)
	}
	tests := []struct {
		name  string
		b     posagent.Booklet
		kind  posagent.Kind
		field string
	}{
		{"first not 00/50", posagent.Booklet{Track: "AB", First: 10, Last: 49, Period: p11410}, posagent.KindInvalid, "first"},
		{"last not 49/99", posagent.Booklet{Track: "AB", First: 0, Last: 48, Period: p11410}, posagent.KindInvalid, "last"},
		{"lower-case track", posagent.Booklet{Track: "ab", First: 0, Last: 49, Period: p11410}, posagent.KindInvalid, "track"},
		{"no period", posagent.Booklet{Track: "AB", First: 0, Last: 49}, posagent.KindInvalid, "period"},
		{"overlaps the start", booklet("AB", 950, 2, p11410), posagent.KindConflict, "range"},
		{"inside", booklet("AB", 1050, 1, p11410), posagent.KindConflict, "range"},
		{"covers", booklet("AB", 900, 6, p11410), posagent.KindConflict, "range"},
		{"same start, longer", booklet("AB", 1000, 3, p11410), posagent.KindConflict, "range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AddBooklet(ctx, tt.b)
			if got := posagent.ErrorKind(err); got != tt.kind {
				t.Fatalf("AddBooklet(%v) kind = %q (%v), want %q", tt.b, got, err, tt.kind)
			}
			if got := posagent.ErrorField(err); got != tt.field {
				t.Errorf("field = %q, want %q", got, tt.field)
			}
		})
	}
	// Neighbours, another track and another period are fine.
	for _, b := range []posagent.Booklet{
		booklet("AB", 900, 2, p11410), booklet("AB", 1100, 1, p11410),
		booklet("AC", 1000, 2, p11410), booklet("AB", 1000, 2, p11410.Next()),
	} {
		if _, err := s.AddBooklet(ctx, b); err != nil {
			t.Errorf("AddBooklet(%v in %s): %v", b, b.Period, err)
		}
	}
	list, err := s.Booklets(ctx, p11410)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(list), 4; got != want {
		t.Fatalf("Booklets(11410) = %d ranges, want %d", got, want)
	}
}

// Promise 2: a lease retried after a lost answer stores the range once and
// does not reset its cursor.
func TestAddBookletAgainIsIdempotent(t *testing.T) {
	s, _ := mustOpen(t)
	ctx := context.Background()
	a, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Issue(ctx, sale("s1", 100), queue.IssueOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410))
	if err != nil {
		t.Fatalf("re-adding the same range: %v", err)
	}
	if b.ID != a.ID || b.Next != 1 || b.Left != 49 {
		t.Errorf("re-added range = id %d next %d left %d, want id %d next 1 left 49", b.ID, b.Next, b.Left, a.ID)
	}
}

// Promise 4: at period end the unused numbers are reported, as ranges, and
// queued for the E0402 report; the period gives no more numbers.
func TestRetirePeriodReportsUnusedNumbers(t *testing.T) {
	s, c := mustOpen(t)
	ctx := context.Background()
	for _, b := range []posagent.Booklet{booklet("AB", 0, 1, p11410), booklet("AB", 100, 2, p11410), booklet("XY", 0, 1, p11410.Next())} {
		if _, err := s.AddBooklet(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 53 {
		if _, err := s.Issue(ctx, sale("s"+itoa(i), 100), queue.IssueOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RetirePeriod(ctx, p11410); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("RetirePeriod before the period ends: %v, want a conflict", err)
	}
	c.Set(p11410.End())
	unused, err := s.RetirePeriod(ctx, p11410)
	if err != nil {
		t.Fatal(err)
	}
	want := []posagent.Booklet{{Track: "AB", First: 103, Last: 199, Period: p11410, Source: "test"}}
	if len(unused) != 1 || unused[0] != want[0] {
		t.Fatalf("unused = %v, want %v", unused, want)
	}
	again, err := s.RetirePeriod(ctx, p11410)
	if err != nil || len(again) != 1 || again[0] != want[0] {
		t.Fatalf("retiring again = %v, %v; want the same ranges", again, err)
	}
	blank, err := s.Jobs(ctx, queue.JobPending, 0)
	if err != nil {
		t.Fatal(err)
	}
	var blanks []queue.Job
	for _, j := range blank {
		if j.Kind == queue.JobBlank {
			blanks = append(blanks, j)
		}
	}
	if len(blanks) != 1 || blanks[0].Period != p11410 || len(blanks[0].Blank) != 1 || blanks[0].Blank[0] != want[0] {
		t.Fatalf("blank jobs = %+v, want one for %v", blanks, want)
	}
	if _, err := s.AddBooklet(ctx, booklet("AB", 500, 1, p11410)); posagent.ErrorKind(err) != posagent.KindConflict {
		t.Fatalf("adding a range to a retired period: %v, want a conflict", err)
	}
	late := sale("late", 100)
	if _, err := s.Issue(ctx, late, queue.IssueOptions{}); posagent.ErrorKind(err) != posagent.KindExhausted {
		t.Fatalf("issuing in a retired period: %v, want exhausted", err)
	}
	left, err := s.NumbersLeft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.Booklets(ctx, p11410)
	if err != nil || len(list) != 2 || list[1].Unused != 97 || list[1].Left != 0 || !list[1].Retired() || list[0].Unused != 0 {
		t.Errorf("Booklets after retiring = %+v, %v", list, err)
	}
	if len(left) != 2 || left[0].Period != p11410 || !left[0].Retired || left[0].Left != 0 || left[0].Issued != 53 || left[0].Booklets != 3 ||
		left[1].Left != 50 || left[1].Retired {
		t.Errorf("NumbersLeft = %+v", left)
	}
}

// PeriodLeft counts one period's numbers, agreeing with NumbersLeft, and
// nothing once the period is retired.
func TestPeriodLeft(t *testing.T) {
	s, c := mustOpen(t)
	ctx := context.Background()
	p := p11410
	for _, b := range []posagent.Booklet{booklet("AB", 0, 2, p), booklet("AC", 0, 1, p), booklet("AD", 0, 3, p.Next()), booklet("AE", 0, 1, p.Prev())} {
		if _, err := s.AddBooklet(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 7 {
		if _, err := s.Issue(ctx, sale("left-"+itoa(i), 100), queue.IssueOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	c.Set(p.End().Add(time.Hour)) // p has ended: it can be retired
	if _, err := s.RetirePeriod(ctx, p.Prev()); err != nil {
		t.Fatal(err)
	}
	all, err := s.NumbersLeft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[posagent.Period]int{}
	for _, n := range all {
		want[n.Period] = n.Left
	}
	for _, tc := range []struct {
		p    posagent.Period
		left int
	}{{p, 150 - 7}, {p.Next(), 150}, {p.Prev(), 0}, {p.Next().Next(), 0}} {
		got, err := s.PeriodLeft(ctx, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.left || got != want[tc.p] {
			t.Errorf("PeriodLeft(%s) = %d, want %d (NumbersLeft says %d)", tc.p, got, tc.left, want[tc.p])
		}
	}
	// The retired period's unused booklet is its blank; open or other
	// periods have none.
	for _, tc := range []struct {
		p    posagent.Period
		want []string
	}{{p.Prev(), []string{"AE00000000-AE00000049"}}, {p, nil}, {p.Next(), nil}} {
		bs, err := s.BlankBooklets(ctx, tc.p)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range bs {
			got = append(got, b.String())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("BlankBooklets(%s) = %q, want %q", tc.p, got, tc.want)
		}
	}
}

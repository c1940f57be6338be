package hq_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/testmysql"
	"github.com/posagent/posagent/providers/hq"
)

const seller = "24634102"

func open(t *testing.T) *hq.HeadOffice {
	t.Helper()
	h, err := hq.Open(context.Background(), testmysql.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func period(t *testing.T, code string) posagent.Period {
	p, err := posagent.ParsePeriod(code)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLeaseInOrderAcrossRanges(t *testing.T) {
	ctx := context.Background()
	h := open(t)
	p := period(t, "11410")
	for _, r := range []posagent.Booklet{
		{Track: "AB", First: 100, Last: 199, Period: p},
		{Track: "AB", First: 0, Last: 49, Period: p},
		{Track: "AC", First: 500, Last: 549, Period: p},
	} {
		if err := h.AddRange(ctx, seller, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := h.Lease(ctx, seller, "POS01", posagent.LeaseRequest{Period: p, Booklets: 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"AB00000000-AB00000049", "AB00000100-AB00000149"}
	if len(got) != 2 || got[0].String() != want[0] || got[1].String() != want[1] {
		t.Fatalf("first lease = %v, want %v", got, want)
	}
	got, err = h.Lease(ctx, seller, "POS02", posagent.LeaseRequest{Period: p, Booklets: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].String() != "AB00000150-AB00000199" || got[1].String() != "AC00000500-AC00000549" {
		t.Fatalf("second lease (fewer than asked) = %v", got)
	}
	for _, b := range got {
		if err := b.Validate(); err != nil || b.Source != "hq" || b.Period != p {
			t.Errorf("leased booklet %v: %v", b, err)
		}
	}
	_, err = h.Lease(ctx, seller, "POS01", posagent.LeaseRequest{Period: p, Booklets: 1})
	if !posagent.IsKind(err, posagent.KindExhausted) {
		t.Fatalf("lease after the last booklet: %v, want exhausted", err)
	}
	leases, err := h.Leases(ctx, seller, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(leases) != 4 || leases[0].Terminal != "POS01" || leases[3].Terminal != "POS02" {
		t.Fatalf("ledger = %+v", leases)
	}
	// Another period and another seller see nothing of these.
	if _, err := h.Lease(ctx, seller, "POS01", posagent.LeaseRequest{Period: p.Next(), Booklets: 1}); !posagent.IsKind(err, posagent.KindExhausted) {
		t.Errorf("next period: %v", err)
	}
	if _, err := h.Lease(ctx, "53212539", "POS01", posagent.LeaseRequest{Period: p, Booklets: 1}); !posagent.IsKind(err, posagent.KindExhausted) {
		t.Errorf("other seller: %v", err)
	}
}

func TestAddRangeRejects(t *testing.T) {
	ctx := context.Background()
	h := open(t)
	p := period(t, "11410")
	if err := h.AddRange(ctx, seller, posagent.Booklet{Track: "AB", First: 0, Last: 99, Period: p}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		seller string
		r      posagent.Booklet
		kind   posagent.Kind
	}{
		{"overlap", seller, posagent.Booklet{Track: "AB", First: 50, Last: 149, Period: p}, posagent.KindConflict},
		{"same range", seller, posagent.Booklet{Track: "AB", First: 0, Last: 99, Period: p}, posagent.KindConflict},
		{"not a booklet", seller, posagent.Booklet{Track: "AB", First: 201, Last: 249, Period: p}, posagent.KindInvalid},
		{"no period", seller, posagent.Booklet{Track: "AB", First: 200, Last: 249}, posagent.KindInvalid},
		{"bad seller", "12345678", posagent.Booklet{Track: "AB", First: 200, Last: 249, Period: p}, posagent.KindInvalid},
	} {
		if err := h.AddRange(ctx, tt.seller, tt.r); !posagent.IsKind(err, tt.kind) {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.kind)
		}
	}
	// The same numbers in another period or track are fine.
	if err := h.AddRange(ctx, seller, posagent.Booklet{Track: "AB", First: 0, Last: 99, Period: p.Next()}); err != nil {
		t.Errorf("next period: %v", err)
	}
	if err := h.AddRange(ctx, seller, posagent.Booklet{Track: "AC", First: 0, Last: 99, Period: p}); err != nil {
		t.Errorf("other track: %v", err)
	}
}

func TestLeaseRejectsBadRequests(t *testing.T) {
	h := open(t)
	p := period(t, "11410")
	for name, call := range map[string]func() error{
		"bad seller": func() error {
			_, err := h.Lease(context.Background(), "1", "POS01", posagent.LeaseRequest{Period: p, Booklets: 1})
			return err
		},
		"no terminal": func() error {
			_, err := h.Lease(context.Background(), seller, "", posagent.LeaseRequest{Period: p, Booklets: 1})
			return err
		},
		"no period": func() error {
			_, err := h.Lease(context.Background(), seller, "POS01", posagent.LeaseRequest{Booklets: 1})
			return err
		},
		"no booklets": func() error {
			_, err := h.Lease(context.Background(), seller, "POS01", posagent.LeaseRequest{Period: p})
			return err
		},
	} {
		if err := call(); !posagent.IsKind(err, posagent.KindInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
}

// TestConcurrentTerminalsNeverShareANumber guards promise 2: many terminals
// leasing at once, each through its own connection, get disjoint booklets that
// together are exactly the ranges held, with nothing left over.
func TestConcurrentTerminalsNeverShareANumber(t *testing.T) {
	ctx := context.Background()
	dsn := testmysql.DSN(t)
	setup, err := hq.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer setup.Close()
	p := period(t, "11410")
	const booklets = 120
	if err := setup.AddRange(ctx, seller, posagent.Booklet{Track: "AB", First: 0, Last: 100*posagent.BookletSize - 1, Period: p}); err != nil {
		t.Fatal(err)
	}
	if err := setup.AddRange(ctx, seller, posagent.Booklet{Track: "CD", First: 5000, Last: 5000 + 20*posagent.BookletSize - 1, Period: p}); err != nil {
		t.Fatal(err)
	}

	const terminals = 8
	var mu sync.Mutex
	var all []posagent.Booklet
	var wg sync.WaitGroup
	for i := range terminals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each terminal its own pool, as separate machines would have.
			h, err := hq.Open(ctx, dsn)
			if err != nil {
				t.Error(err)
				return
			}
			defer h.Close()
			src := hq.Source{HQ: h, Seller: seller, Terminal: fmt.Sprintf("POS%02d", i)}
			for {
				got, err := src.LeaseBooklets(ctx, posagent.LeaseRequest{Period: p, Booklets: 1 + i%3})
				if posagent.IsKind(err, posagent.KindExhausted) {
					return
				}
				if posagent.IsKind(err, posagent.KindTransient) {
					continue // a deadlock or lock wait: a terminal retries
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				all = append(all, got...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	seen := map[posagent.InvoiceNumber]bool{}
	count := 0
	for _, b := range all {
		for i := range b.Count() {
			n := b.Number(i)
			if seen[n] {
				t.Fatalf("number %s leased twice", n)
			}
			seen[n] = true
		}
		count += b.Booklets()
	}
	if count != booklets {
		t.Fatalf("leased %d booklets, the head office held %d", count, booklets)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].String() < all[j].String() })
	if left, err := setup.Unleased(ctx, seller, p); err != nil || len(left) != 0 {
		t.Fatalf("unleased after exhaustion: %v %v", left, err)
	}
	leases, err := setup.Leases(ctx, seller, p)
	if err != nil || len(leases) != len(all) {
		t.Fatalf("ledger has %d leases, terminals got %d (%v)", len(leases), len(all), err)
	}
}

func TestOpenRejectsBadDSNWithoutEchoingIt(t *testing.T) {
	_, err := hq.Open(context.Background(), "root:s3cret-password@@tcp(")
	if !posagent.IsKind(err, posagent.KindConfig) {
		t.Fatalf("err = %v, want config", err)
	}
	if got := err.Error(); strings.Contains(got, "s3cret") {
		t.Fatalf("error leaks the password: %s", got)
	}
}

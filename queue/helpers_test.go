package queue_test

import (
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// clock is a settable fake clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// t0 is 2025-09-14 13:03 Taipei, in period 11410.
var t0 = time.Date(2025, 9, 14, 13, 3, 0, 0, posagent.Taipei)

var p11410 = posagent.Period{Year: 114, EvenMonth: 10}

// mustOpen opens a fresh store in a temporary directory with a fake clock.
func mustOpen(tb testing.TB) (*queue.Store, *clock) {
	tb.Helper()
	c := newClock(t0)
	s, err := queue.Open(filepath.Join(tb.TempDir(), "agent.db"), queue.Options{Now: c.Now})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s, c
}

func mustReopen(tb testing.TB, path string, c *clock) *queue.Store {
	tb.Helper()
	s, err := queue.Open(path, queue.Options{Now: c.Now})
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// booklet is a range of n booklets of 50 in period p starting at first.
func booklet(track string, first, n int, p posagent.Period) posagent.Booklet {
	return posagent.Booklet{Track: track, First: first, Last: first + n*posagent.BookletSize - 1, Period: p, Source: "test"}
}

// sale returns a valid sale of NT$ total (one line) at t0 with the given id.
func sale(id string, total int64) posagent.Invoice {
	inv := posagent.Invoice{
		SaleID:   id,
		IssuedAt: t0,
		Seller:   posagent.Seller{TaxID: "24634102", Name: "好日子雜貨店"},
		Print:    true,
		TaxType:  posagent.TaxTaxable,
		Items: []posagent.Item{{
			Name: "牛奶", Quantity: posagent.DecimalFromInt(1), UnitPrice: posagent.DecimalFromInt(total), Amount: posagent.DecimalFromInt(total),
		}},
		Total: total,
	}
	sp, _ := inv.SplitTax()
	inv.SalesAmount, inv.TaxAmount = sp.Sales(), sp.Tax
	return inv
}

func itoa(i int) string { return strconv.Itoa(i) }

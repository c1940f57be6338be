package agent_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/internal/benchstore"
	"github.com/posagent/posagent/providers/fake"
	"github.com/posagent/posagent/queue"
)

// BenchmarkStoreScale measures, in one run, a till's store when it is new and
// after years of sales (1,000,000 invoices, every one printed and uploaded):
// Issue, the agent's Status, the console's book of a day (an hour of the
// day before, empty in both stores: the cost of finding it), a lookup by
// number, the agent's start-up (open the store, build the agent, hand back
// stale claims, first status) and the file's size. Each reports p50 and p99; the two sizes must not differ by
// more than the noise for anything on the sale path or in status.
func BenchmarkStoreScale(b *testing.B) {
	for _, n := range []int{0, 1_000_000} {
		b.Run(fmt.Sprintf("invoices=%d", n), func(b *testing.B) { benchScale(b, n) })
	}
}

func benchScale(b *testing.B, n int) {
	ctx := context.Background()
	now := time.Now()
	dir := b.TempDir()
	var path string
	if n == 0 {
		path = filepath.Join(dir, "posagent.db")
		s, err := queue.Open(path, queue.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.AddBooklet(ctx, posagent.Booklet{Track: "ZZ", First: 0, Last: 999_999, Period: posagent.PeriodOf(now), Source: "bench"}); err != nil {
			b.Fatal(err)
		}
		s.Close()
	} else {
		start := time.Now()
		var err error
		if path, err = benchstore.Copy(dir, "posagent.db", n, now); err != nil {
			b.Fatal(err)
		}
		// A cached store from an older schema migrates here, not in the
		// start-up timed below.
		s, err := queue.Open(path, queue.Options{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		b.Logf("store of %d invoices ready in %v", n, time.Since(start).Round(time.Millisecond))
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	fileMB := float64(fi.Size()) / 1e6
	samples := sampleNumbers(b, path, 1000)

	cfg := config.DefaultConfig()
	cfg.Terminal = config.Terminal{SellerTaxID: benchstore.Seller.TaxID, SellerName: benchstore.Seller.Name, MachineID: "POS01"}
	cfg.QR.Key = e2eQRKey
	cfg.Provider.Name = "fake"
	cfg.Printer.Device = "none"
	cfg.Store.Path = path
	cfg.API.Token = e2eToken
	log := slog.New(slog.DiscardHandler)
	kit, err := agent.NewProofKit(cfg, log)
	if err != nil {
		b.Fatal(err)
	}
	start := func() (*queue.Store, *agent.Agent) {
		s, err := queue.Open(path, queue.Options{})
		if err != nil {
			b.Fatal(err)
		}
		qs := &agent.QueueStore{S: s}
		a, err := agent.New(agent.Options{Config: cfg, Store: qs, Render: kit.Render, Coder: kit.Coder,
			Provider: fake.New(fake.Options{}), Logger: log})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := qs.ReleaseClaims(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Status(ctx); err != nil {
			b.Fatal(err)
		}
		return s, a
	}

	b.Run("startup", func(b *testing.B) {
		var lat latencySample
		for b.Loop() {
			t := time.Now()
			s, _ := start()
			lat = append(lat, time.Since(t))
			b.StopTimer()
			s.Close()
			b.StartTimer()
		}
		lat.report(b)
		b.ReportMetric(fileMB, "file-MB")
	})

	s, a := start()
	defer s.Close()
	run := fmt.Sprint(time.Now().UnixNano())
	b.Run("issue", func(b *testing.B) {
		var lat latencySample
		for i := 0; b.Loop(); i++ {
			inv := scaleSale(fmt.Sprintf("scale-%s-%d", run, i))
			t := time.Now()
			got, err := s.Issue(ctx, inv, queue.IssueOptions{})
			lat = append(lat, time.Since(t))
			if err != nil {
				b.Fatal(err)
			}
			if len(samples) < 1000 {
				samples = append(samples, got.Invoice.Number)
			}
		}
		lat.report(b)
	})
	b.Run("status", func(b *testing.B) {
		var lat latencySample
		for b.Loop() {
			t := time.Now()
			if _, err := a.Status(ctx); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		lat.report(b)
	})
	// The operator console's day: the invoices of today (those the issue
	// run above made), found off the issued_at index.
	b.Run("day", func(b *testing.B) {
		var lat latencySample
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, posagent.Taipei)
		for b.Loop() {
			t := time.Now()
			if _, err := s.Activity(ctx, day.Add(-time.Hour), day.Add(-time.Minute)); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		lat.report(b)
	})
	b.Run("lookup", func(b *testing.B) {
		var lat latencySample
		for i := 0; b.Loop(); i++ {
			t := time.Now()
			if _, err := s.Invoice(ctx, samples[i%len(samples)]); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(t))
		}
		lat.report(b)
	})
}

type latencySample []time.Duration

func (l latencySample) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	b.ReportMetric(float64(percentile(l, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(l, 0.99).Microseconds()), "p99-µs")
}

// sampleNumbers picks up to k invoice numbers spread over the store.
func sampleNumbers(b *testing.B, path string, k int) []posagent.InvoiceNumber {
	db, err := sql.Open("sqlite3", "file:"+filepath.ToSlash(path)+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var max int64
	if err := db.QueryRow(`SELECT coalesce(max(id), 0) FROM invoices`).Scan(&max); err != nil {
		b.Fatal(err)
	}
	var out []posagent.InvoiceNumber
	for i := int64(0); i < int64(k) && max > 0; i++ {
		var n string
		if err := db.QueryRow(`SELECT number FROM invoices WHERE id = ?`, 1+i*max/int64(k)).Scan(&n); err != nil {
			b.Fatal(err)
		}
		out = append(out, posagent.InvoiceNumber(n))
	}
	return out
}

// scaleSale is a two-line sale now.
func scaleSale(id string) posagent.Invoice {
	inv := posagent.Invoice{
		SaleID: id, IssuedAt: time.Now().In(posagent.Taipei), Seller: benchstore.Seller, Print: true, TaxType: posagent.TaxTaxable,
		Items: []posagent.Item{
			{Name: "熱拿鐵 Hot latte", Quantity: posagent.DecimalFromInt(1), Unit: "杯", UnitPrice: posagent.DecimalFromInt(65), Amount: posagent.DecimalFromInt(65)},
			{Name: "可頌 Croissant", Quantity: posagent.DecimalFromInt(2), Unit: "個", UnitPrice: posagent.DecimalFromInt(45), Amount: posagent.DecimalFromInt(90)},
		},
		Total: 155,
	}
	sp, err := inv.SplitTax()
	if err != nil {
		panic(err) // a fixed NT$155 sale always splits
	}
	inv.SalesAmount, inv.TaxAmount = sp.Sales(), sp.Tax
	return inv
}

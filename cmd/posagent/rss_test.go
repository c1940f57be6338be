package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
	"github.com/posagent/posagent/queue"
)

// rssMB reads the resident set size of a process from /proc.
func rssMB(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.Atoi(f[1])
			return float64(kb) / 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// settle exercises the daemon's status and metrics paths, then waits for the
// loops to go round, before its memory is read.
func settle(b *testing.B, addr string) {
	client := &http.Client{Timeout: 30 * time.Second}
	for range 5 {
		for _, p := range []string{"/v1/status", "/metrics", "/v1/jobs?state=pending&limit=1000"} {
			req, _ := http.NewRequest("GET", "http://"+addr+p, nil)
			req.Header.Set("Authorization", "Bearer "+childToken)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("%s: %d", p, resp.StatusCode)
			}
		}
		time.Sleep(400 * time.Millisecond)
	}
}

// BenchmarkDaemonRSS measures the resident memory of `posagent run` (a child
// process) idle on a fresh store, and with 100,000 invoices queued for a
// provider that does not answer. Goal: under 50 MB.
func BenchmarkDaemonRSS(b *testing.B) {
	b.Run("idle", func(b *testing.B) {
		var rss float64
		for b.Loop() {
			stand := ecpaytest.New(ecpaytest.Options{})
			dir := b.TempDir()
			addr := freeAddr(b)
			cfg := writeChildConfig(b, dir, addr, stand.URL(), "")
			c := startChild(b, cfg, filepath.Join(dir, "agent.log"), addr)
			settle(b, addr)
			var err error
			if rss, err = rssMB(c.cmd.Process.Pid); err != nil {
				b.Fatal(err)
			}
			c.stop(b)
			stand.Close()
		}
		b.ReportMetric(rss, "RSS-MB")
		b.ReportMetric(0, "ns/op")
	})
	b.Run("100000-queued", func(b *testing.B) {
		var rss float64
		for b.Loop() {
			dir := b.TempDir()
			fillStore(b, filepath.Join(dir, "posagent.db"), 100_000)
			stand := ecpaytest.New(ecpaytest.Options{})
			stand.Down()
			addr := freeAddr(b)
			cfg := writeChildConfig(b, dir, addr, stand.URL(), "")
			c := startChild(b, cfg, filepath.Join(dir, "agent.log"), addr)
			settle(b, addr)
			var err error
			if rss, err = rssMB(c.cmd.Process.Pid); err != nil {
				b.Fatal(err)
			}
			c.stop(b)
			stand.Close()
		}
		b.ReportMetric(rss, "RSS-MB")
		b.ReportMetric(0, "ns/op")
	})
}

// fillStore issues n sales straight into a store, each with its upload job.
func fillStore(b *testing.B, path string, n int) {
	st, err := queue.Open(path, queue.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	p := posagent.PeriodOf(time.Now())
	last := (n+posagent.BookletSize-1)/posagent.BookletSize*posagent.BookletSize - 1
	if _, err := st.AddBooklet(ctx, posagent.Booklet{Track: "AA", First: 0, Last: last, Period: p, Source: "bench"}); err != nil {
		b.Fatal(err)
	}
	one := posagent.MustDecimal("1")
	for i := range n {
		sale := posagent.Invoice{SaleID: fmt.Sprintf("rss-%d", i), IssuedAt: time.Now(),
			Seller: posagent.Seller{TaxID: "24634102", Name: "記憶體測試"}, TaxType: posagent.TaxTaxable, Print: true,
			Items: []posagent.Item{{Name: "拿鐵", Quantity: one, UnitPrice: posagent.MustDecimal("65"), Amount: posagent.MustDecimal("65")}},
			Total: 65, SalesAmount: 62, TaxAmount: 3}
		if _, err := st.Issue(ctx, sale, queue.IssueOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

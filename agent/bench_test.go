package agent_test

import (
	"context"
	"fmt"
	"github.com/posagent/posagent"
	"github.com/stretchr/testify/require"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// leaseNumbers leases n numbers (whole booklets) from the stand-in into the store.
func (e *e2e) leaseNumbers(n int) {
	e.t.Helper()
	ctx := context.Background()
	for left := n; left > 0; left -= 100 * posagent.BookletSize {
		bs, err := e.prov.LeaseBooklets(ctx, posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now()), MachineID: e2eMachine,
			Booklets: min(100, (left+posagent.BookletSize-1)/posagent.BookletSize)})
		require.NoError(e.t, err)
		for _, b := range bs {
			_, err := e.store.AddBooklet(ctx, b)
			require.NoError(e.t, err)
		}
	}
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(float64(len(s)-1)*p)]
}

// printedJobs reports what a printer printed: how many jobs, and the sizes
// of the jobs from the i-th on. Nil when the benchmark has no printer to ask.
type printedJobs interface {
	count() int
	sizes(from int) []int
}

// benchRingUp rings up 2,000 sales per round through the local HTTP API and
// reports the p50 and p99 latency seen by the POS. With jobs, nowire-*
// subtract each job's theoretical serial transfer time at wireBaud.
func benchRingUp(b *testing.B, e *e2e, jobs printedJobs, wireBaud int) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	const sales = 2000
	var total, nowire []time.Duration
	round := 0
	for b.Loop() {
		b.StopTimer()
		e.leaseNumbers(sales)
		before := 0
		if jobs != nil {
			before = jobs.count()
		}
		b.StartTimer()
		var lat []time.Duration
		for i := range sales {
			body := fmt.Sprintf(`{"sale_id":"bench-%d-%d","items":[{"name":"拿鐵","quantity":1,"unit":"杯","unit_price":65},{"name":"可頌","quantity":2,"unit_price":45}]}`, round, i)
			lat = append(lat, postSale(b, client, e.base, body))
		}
		b.StopTimer()
		total = append(total, lat...)
		if jobs != nil {
			sizes := jobs.sizes(before)
			if len(sizes) != sales {
				b.Fatalf("%d jobs printed for %d sales", len(sizes), sales)
			}
			for i, n := range sizes {
				nowire = append(nowire, lat[i]-time.Duration(n)*10*time.Second/time.Duration(wireBaud))
			}
		}
		round++
		b.StartTimer()
	}
	b.ReportMetric(float64(percentile(total, 0.5).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(total, 0.99).Microseconds())/1000, "p99-ms")
	if len(nowire) > 0 {
		b.ReportMetric(float64(percentile(nowire, 0.5).Microseconds())/1000, "nowire-p50-ms")
		b.ReportMetric(float64(percentile(nowire, 0.99).Microseconds())/1000, "nowire-p99-ms")
	}
	b.ReportMetric(0, "ns/op")
}

// postSale rings up one sale through the API and returns the answer's time.
func postSale(b *testing.B, client *http.Client, base, body string) time.Duration {
	req, _ := http.NewRequest("POST", base+"/v1/sales", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(start)
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("sale %s: %d", body, resp.StatusCode)
	}
	return took
}

// BenchmarkRingUp2000 is the agent's share of a ring-up: each of 2,000 sales
// validated, issued in the store (WAL, synchronous=FULL, QR texts in the same
// transaction) and answered; with render, its proof also rendered to ESC/POS
// and handed to a printer that takes it at once. (BenchmarkRingUpPrinterSim
// adds the printer simulator on a pseudo-terminal.)
func BenchmarkRingUp2000(b *testing.B) {
	b.Run("render-no-wire", func(b *testing.B) { benchRingUp(b, startE2E(b, e2eOptions{discard: true}), nil, 0) })
	b.Run("no-printer", func(b *testing.B) { benchRingUp(b, startE2E(b, e2eOptions{}), nil, 0) })
}

// BenchmarkDrain queues invoices while the ECPay stand-in is down, then brings
// it back with 20 ms of latency per call and measures how fast the sync loop
// drains the queue at a given concurrency. ECPay itself wants one call at a
// time per merchant (the default, sync.concurrency = 1).
func BenchmarkDrain(b *testing.B) {
	for _, tc := range []struct{ invoices, concurrency int }{{1000, 1}, {10000, 8}, {10000, 16}} {
		b.Run(fmt.Sprintf("%d-invoices-concurrency-%d", tc.invoices, tc.concurrency), func(b *testing.B) {
			var rate float64
			for b.Loop() {
				b.StopTimer()
				e := startE2E(b, e2eOptions{concurrency: tc.concurrency, lowWater: 0})
				e.leaseNumbers(tc.invoices)
				e.stand.Down()
				ctx := context.Background()
				for i := range tc.invoices {
					sale, err := e.agent.PrepareSale(posagent.Invoice{SaleID: fmt.Sprintf("drain-%d", i),
						Items: []posagent.Item{{Name: "拿鐵", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("65"), Amount: posagent.MustDecimal("65")}},
						Total: 65, SalesAmount: 62, TaxAmount: 3, TaxType: posagent.TaxTaxable, Print: true})
					if err != nil {
						b.Fatal(err)
					}
					if _, err := e.agent.Sell(ctx, sale); err != nil {
						b.Fatal(err)
					}
				}
				e.stand.SetLatency(20 * time.Millisecond)
				b.StartTimer()
				start := time.Now()
				e.stand.Up()
				e.waitUploaded(10 * time.Minute)
				elapsed := time.Since(start)
				b.StopTimer()
				if got := len(e.stand.Invoices()); got != tc.invoices {
					b.Fatalf("the stand-in holds %d invoices, want %d", got, tc.invoices)
				}
				rate = float64(tc.invoices) / elapsed.Seconds()
				b.StartTimer()
			}
			b.ReportMetric(rate, "invoices/s")
			b.ReportMetric(float64(tc.concurrency), "concurrency")
			b.ReportMetric(0, "ns/op")
		})
	}
}

package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/printersim"
)

type simJobs struct{ sim *printersim.Sim }

func (s simJobs) count() int { return len(s.sim.Jobs()) }

func (s simJobs) sizes(from int) []int {
	var out []int
	for _, j := range s.sim.Jobs()[from:] {
		out = append(out, len(j.Data))
	}
	return out
}

// BenchmarkRingUpPrinterSim rings up 2,000 sales through the local HTTP API,
// each printed on the printer simulator over a pseudo-terminal before the
// answer. The serial device paces the line to its baud rate (4 Mbaud here,
// the fastest it takes); nowire-* subtract each job's theoretical transfer
// time (bytes × 10 / baud), the part a faster link would not pay.
func BenchmarkRingUpPrinterSim(b *testing.B) {
	e := startPrintE2E(b, e2eOptions{}, false)
	benchRingUp(b, e.e2e, simJobs{e.sim}, 4_000_000)
}

// BenchmarkAnswerAt9600 is the answer time of a sale with its proof on the
// printer simulator at 9600 baud, the commonest serial setting: after_print
// answers once the proof is on paper, after_commit once the sale is stored
// (the proof printing in the background). Between rounds, untimed, every
// proof is let out on paper.
func BenchmarkAnswerAt9600(b *testing.B) {
	for _, mode := range []string{config.AnswerAfterPrint, config.AnswerAfterCommit} {
		b.Run(mode, func(b *testing.B) {
			var sim *printersim.Sim
			e := startE2E(b, e2eOptions{makePrinter: func(t testing.TB, dir string, log *slog.Logger, kit agent.ProofKit) agent.Printer {
				var err error
				sim, err = printersim.Start(printersim.Options{Dir: filepath.Join(dir, "receipts"), Baud: 9600, NoPNG: true, Logger: log})
				require.NoError(t, err)
				t.Cleanup(func() { sim.Close() })
				dev, err := printer.NewDevice(printer.DeviceConfig{Address: "serial:" + sim.Path(), Baud: 9600,
					BufferSize: kit.Profile.BufferSize, Logger: log})
				require.NoError(t, err)
				t.Cleanup(func() { dev.Close() })
				return agent.DevicePrinter{D: dev}
			}})
			client := &http.Client{Timeout: time.Minute}
			const sales = 6
			var lat []time.Duration
			round := 0
			for b.Loop() {
				b.StopTimer()
				e.leaseNumbers(sales)
				before := len(sim.Jobs())
				b.StartTimer()
				for i := range sales {
					body := fmt.Sprintf(`{"sale_id":"answer-%s-%d-%d","print_mode":%q,"items":[{"name":"拿鐵","quantity":1,"unit":"杯","unit_price":65},{"name":"可頌","quantity":2,"unit_price":45}]}`,
						mode, round, i, mode)
					lat = append(lat, postSale(b, client, e.base, body))
				}
				b.StopTimer()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				_, err := sim.WaitJobs(ctx, before+sales)
				cancel()
				if err != nil {
					b.Fatalf("the proofs did not all print: %v", err)
				}
				round++
				b.StartTimer()
			}
			b.ReportMetric(float64(percentile(lat, 0.5).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
			b.ReportMetric(0, "ns/op")
		})
	}
}

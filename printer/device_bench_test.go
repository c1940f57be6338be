package printer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/printersim"
)

// BenchmarkTimeToPaper prints the rendered MOF example of every profile
// through the simulator at 9600 and 115200 baud: from Print to the printer's
// answer to the completion marker, status handshake included. It reports the
// measured time next to the wire's theoretical bytes × 10 / baud.
func BenchmarkTimeToPaper(b *testing.B) {
	for _, baud := range []int{9600, 115200, 4_000_000} {
		for _, profile := range printer.ProfileNames() {
			path := filepath.Join("..", "testdata", "receipts", "mof-example."+profile+".bin")
			job, err := os.ReadFile(path)
			if err != nil {
				b.Fatalf("rendered example for %s: %v", profile, err)
			}
			b.Run(fmt.Sprintf("%s/%dB/%dbaud", profile, len(job), baud), func(b *testing.B) {
				sim, err := printersim.Start(printersim.Options{Baud: baud, NoPNG: true, Link: filepath.Join(b.TempDir(), "printer")})
				if err != nil {
					b.Fatal(err)
				}
				defer sim.Close()
				dev, err := printer.NewDevice(printer.DeviceConfig{Address: sim.Path(), Baud: baud, CompletionTimeout: 30 * time.Second})
				if err != nil {
					b.Fatal(err)
				}
				defer dev.Close()
				ctx := b.Context()
				// No warm-up job: opening a pseudo-terminal costs well under a
				// millisecond, and a 9600-baud job costs seconds.
				var total time.Duration
				b.ResetTimer()
				for b.Loop() {
					out := dev.Print(ctx, job)
					if !out.Printed {
						b.Fatal(out)
					}
					total += out.Elapsed
				}
				wire := len(job) + 3 // the job and its GS r marker
				theory := float64(wire*10) / float64(baud) * 1000
				b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/job")
				b.ReportMetric(theory, "theory-ms/job")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

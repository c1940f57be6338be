package agent_test

import (
	"github.com/posagent/posagent/printer/printersim"
	"testing"
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

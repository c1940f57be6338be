package agent

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posagent/posagent"
)

// The metrics are few and written by hand in the Prometheus text format: no
// dependency, and nothing but counts, durations and states (never a secret,
// never an invoice's content).

type histogram struct {
	bounds []float64 // seconds
	counts []uint64  // per bound, not cumulative; last is +Inf
	sum    float64
	n      uint64
}

func newHistogram(bounds ...float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(h.bounds, s)
	h.counts[i]++
	h.sum += s
	h.n++
}

func (h *histogram) write(w io.Writer, name, labels string) {
	var cum uint64
	sep := ""
	if labels != "" {
		sep = ","
	}
	for i, b := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(w, "%s_bucket{%s%sle=\"%g\"} %d\n", name, labels, sep, b, cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(w, "%s_bucket{%s%sle=\"+Inf\"} %d\n", name, labels, sep, cum)
	if labels != "" {
		labels = "{" + labels + "}"
	}
	fmt.Fprintf(w, "%s_sum%s %g\n%s_count%s %d\n", name, labels, h.sum, name, labels, h.n)
}

type metrics struct {
	sales atomic.Int64

	mu       sync.Mutex
	saleTime *histogram
	upload   *histogram
	calls    map[[2]string]int64 // kind, result
	left     map[string]int      // period code → numbers left
}

func newMetrics() *metrics {
	return &metrics{
		saleTime: newHistogram(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
		upload:   newHistogram(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
		calls:    map[[2]string]int64{},
		left:     map[string]int{},
	}
}

func (m *metrics) observeSale(d time.Duration) {
	m.mu.Lock()
	m.saleTime.observe(d)
	m.mu.Unlock()
}

func (m *metrics) observeUpload(kind string, d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = string(posagent.ErrorKind(err))
	}
	m.mu.Lock()
	m.upload.observe(d)
	m.calls[[2]string{kind, result}]++
	m.mu.Unlock()
}

// observeWait counts a call the provider client held back, or the provider
// answered with a wait (a fresh invoice and its clock second): result "wait",
// not a failure, and no duration — no upload was made.
func (m *metrics) observeWait(kind string) {
	m.mu.Lock()
	m.calls[[2]string{kind, "wait"}]++
	m.mu.Unlock()
}

func (m *metrics) setNumbersLeft(p posagent.Period, left int) {
	m.mu.Lock()
	m.left[p.Code()] = left
	m.mu.Unlock()
}

// writeMetrics writes every metric; the queue, printer and provider gauges are
// read from the store and the loops at scrape time.
func (a *Agent) writeMetrics(ctx context.Context, w io.Writer) error {
	s, err := a.Status(ctx)
	if err != nil {
		return err
	}
	m := a.metrics
	var b strings.Builder
	help := func(name, typ, text string) { fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, typ) }

	help("posagent_sales_total", "counter", "Sales issued since the agent started.")
	fmt.Fprintf(&b, "posagent_sales_total %d\n", m.sales.Load())

	m.mu.Lock()
	help("posagent_sale_duration_seconds", "histogram", "Ring-up time from the store's issue to the answer, printing included.")
	m.saleTime.write(&b, "posagent_sale_duration_seconds", "")
	help("posagent_upload_duration_seconds", "histogram", "Duration of provider calls (uploads, voids, allowances).")
	m.upload.write(&b, "posagent_upload_duration_seconds", "")
	help("posagent_provider_calls_total", "counter", "Provider calls by job kind and result (ok, wait, or error kind).")
	keys := make([][2]string, 0, len(m.calls))
	for k := range m.calls {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		fmt.Fprintf(&b, "posagent_provider_calls_total{kind=%q,result=%q} %d\n", k[0], k[1], m.calls[k])
	}
	m.mu.Unlock()

	help("posagent_queue_jobs", "gauge", "Outbox jobs by state.")
	for _, st := range []struct {
		name string
		n    int
	}{{StatePending, s.Queue.Pending}, {StateClaimed, s.Queue.InFlight}, {StateDead, s.Queue.Dead}, {StateDone, s.Queue.Done}} {
		fmt.Fprintf(&b, "posagent_queue_jobs{state=%q} %d\n", st.name, st.n)
	}
	help("posagent_oldest_unsent_seconds", "gauge", "Age of the oldest invoice not yet uploaded (0 when none).")
	var age int64
	if s.Queue.OldestUnsent != nil {
		age = s.Queue.OldestUnsent.AgeSeconds
	}
	fmt.Fprintf(&b, "posagent_oldest_unsent_seconds %d\n", age)
	help("posagent_numbers_left", "gauge", "Invoice numbers left by period.")
	for _, n := range s.Numbers {
		fmt.Fprintf(&b, "posagent_numbers_left{period=%q} %d\n", n.Period, n.Left)
	}
	help("posagent_printer_ready", "gauge", "1 when the printer last reported ready.")
	fmt.Fprintf(&b, "posagent_printer_ready %d\n", boolInt(s.Printer.Ready))
	help("posagent_printer_state", "gauge", "The printer's last known state (1 for the current one).")
	state := "unknown"
	switch {
	case !s.Printer.Configured:
		state = "none"
	case s.Printer.Ready:
		state = "ready"
	case s.Printer.Known:
		state = metricLabel(s.Printer.Reason)
	}
	fmt.Fprintf(&b, "posagent_printer_state{state=%q} 1\n", state)
	help("posagent_prints_pending", "gauge", "Proofs waiting for the printer.")
	fmt.Fprintf(&b, "posagent_prints_pending %d\n", s.Printer.PrintsPending)
	help("posagent_provider_online", "gauge", "1 when the provider answered the last call.")
	fmt.Fprintf(&b, "posagent_provider_online{provider=%q} %d\n", s.Provider.Name, boolInt(s.Provider.Online))
	help("posagent_provider_paused", "gauge", "1 while uploads are paused after a configuration error.")
	fmt.Fprintf(&b, "posagent_provider_paused{provider=%q} %d\n", s.Provider.Name, boolInt(s.Provider.Paused))
	help("posagent_alarm_level", "gauge", "Highest alarm: 0 ok, 1 info, 2 warning, 3 critical.")
	fmt.Fprintf(&b, "posagent_alarm_level %d\n", levelRank[s.Level])
	_, err = io.WriteString(w, b.String())
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// metricLabel keeps a label value short and plain.
func metricLabel(s string) string {
	s = strings.ToLower(s)
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s) && len(out) < 32; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' {
			out = append(out, c)
		} else if c == ' ' || c == '-' {
			out = append(out, '_')
		}
	}
	if len(out) == 0 {
		return "error"
	}
	return string(out)
}

package agent

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// The metrics live in a prometheus/client_golang registry of the agent's own
// (not the global one: tests build many agents in one process), with the
// process and Go collectors an operator expects beside posagent's. Labels
// carry only job kinds, error kinds, states, period codes, the provider's
// name and the seller's 統一編號 (public: it is printed on every proof):
// never a secret, never an invoice's content. The series without a seller
// label are the till's (their provider and numbers the default seller's);
// the posagent_seller_* series break them down by seller.
type metrics struct {
	reg         *prometheus.Registry
	sales       prometheus.Counter
	sellerSales *prometheus.CounterVec // seller
	saleTime    prometheus.Histogram
	upload      prometheus.Histogram
	calls       *prometheus.CounterVec // kind, result
	sellerCalls *prometheus.CounterVec // seller, kind, result
	// The reconciliation's runs (by result: clean, findings, error) and the
	// documents it queued again.
	reconcileRuns   *prometheus.CounterVec
	reconcileMended prometheus.Counter
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		sales: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "posagent_sales_total", Help: "Sales issued since the agent started.",
		}),
		saleTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "posagent_sale_duration_seconds",
			Help:    "Ring-up time from the store's issue to the answer, printing included.",
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
		}),
		upload: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "posagent_upload_duration_seconds",
			Help:    "Duration of provider calls (uploads, voids, allowances).",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posagent_provider_calls_total", Help: "Provider calls by job kind and result (ok, wait, or error kind).",
		}, []string{"kind", "result"}),
		sellerSales: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posagent_seller_sales_total", Help: "Sales issued since the agent started, by seller.",
		}, []string{"seller"}),
		sellerCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posagent_seller_provider_calls_total", Help: "Provider calls by seller, job kind and result (ok, wait, or error kind).",
		}, []string{"seller", "kind", "result"}),
	}
	m.reconcileRuns = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "posagent_reconcile_runs_total", Help: "Reconciliation runs by result (clean, findings, error).",
	}, []string{"result"})
	m.reconcileMended = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "posagent_reconcile_mended_total", Help: "Documents the reconciliation queued again because the provider lacked them.",
	})
	m.reg.MustRegister(m.sales, m.saleTime, m.upload, m.calls, m.sellerSales, m.sellerCalls, m.reconcileRuns, m.reconcileMended,
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector())
	return m
}

func (m *metrics) observeSale(d time.Duration) { m.saleTime.Observe(d.Seconds()) }

func (m *metrics) observeReconcile(r queue.ReconcileRun, findings []queue.Finding) {
	result := "clean"
	switch {
	case r.Error != "":
		result = "error"
	case len(findings) > 0:
		result = "findings"
	}
	m.reconcileRuns.WithLabelValues(result).Inc()
	m.reconcileMended.Add(float64(r.Mended))
}

// sale counts a sale of seller.
func (m *metrics) sale(seller string) {
	m.sales.Inc()
	m.sellerSales.WithLabelValues(seller).Inc()
}

func (m *metrics) observeUpload(seller, kind string, d time.Duration, err error) {
	result := "ok"
	if err != nil {
		result = string(posagent.ErrorKind(err))
	}
	m.upload.Observe(d.Seconds())
	m.calls.WithLabelValues(kind, result).Inc()
	m.sellerCalls.WithLabelValues(seller, kind, result).Inc()
}

// observeWait counts a call the provider client held back, or the provider
// answered with a wait (a fresh invoice and its clock second): result "wait",
// not a failure, and no duration — no upload was made.
func (m *metrics) observeWait(seller, kind string) {
	m.calls.WithLabelValues(kind, "wait").Inc()
	m.sellerCalls.WithLabelValues(seller, kind, "wait").Inc()
}

// The gauges read at scrape time from the agent's status: the queue, the
// numbers left, the printer, the provider and the alarm level.
var (
	descQueueJobs      = prometheus.NewDesc("posagent_queue_jobs", "Outbox jobs by state.", []string{"state"}, nil)
	descOldestUnsent   = prometheus.NewDesc("posagent_oldest_unsent_seconds", "Age of the oldest invoice not yet uploaded (0 when none).", nil, nil)
	descNumbersLeft    = prometheus.NewDesc("posagent_numbers_left", "Invoice numbers left by period.", []string{"period"}, nil)
	descPrinterReady   = prometheus.NewDesc("posagent_printer_ready", "1 when the printer last reported ready.", nil, nil)
	descPrinterState   = prometheus.NewDesc("posagent_printer_state", "The printer's last known state (1 for the current one).", []string{"state"}, nil)
	descPrintsPending  = prometheus.NewDesc("posagent_prints_pending", "Proofs waiting for the printer.", nil, nil)
	descProviderOnline = prometheus.NewDesc("posagent_provider_online", "1 when the provider answered the last call.", []string{"provider"}, nil)
	descProviderPaused = prometheus.NewDesc("posagent_provider_paused", "1 while uploads are paused after a configuration error.", []string{"provider"}, nil)
	descOrdersOpen     = prometheus.NewDesc("posagent_orders_open", "Orders taken and not yet issued or cancelled.", nil, nil)
	descOrdersStale    = prometheus.NewDesc("posagent_orders_stale", "Open orders older than orders.stale_after.", nil, nil)
	descAlarmLevel     = prometheus.NewDesc("posagent_alarm_level", "Highest alarm: 0 ok, 1 info, 2 warning, 3 critical.", nil, nil)

	descSellerJobs    = prometheus.NewDesc("posagent_seller_queue_jobs", "Open outbox jobs by seller and state.", []string{"seller", "state"}, nil)
	descSellerOldest  = prometheus.NewDesc("posagent_seller_oldest_unsent_seconds", "Age of the seller's oldest invoice not yet uploaded (0 when none).", []string{"seller"}, nil)
	descSellerNumbers = prometheus.NewDesc("posagent_seller_numbers_left", "Invoice numbers left by seller and period.", []string{"seller", "period"}, nil)
	descSellerOnline  = prometheus.NewDesc("posagent_seller_provider_online", "1 when the seller's provider answered the last call.", []string{"seller", "provider"}, nil)
	descSellerPaused  = prometheus.NewDesc("posagent_seller_provider_paused", "1 while the seller's uploads are paused after a configuration error.", []string{"seller", "provider"}, nil)
	descSellerAlarm   = prometheus.NewDesc("posagent_seller_alarm_level", "The seller's highest alarm: 0 ok, 1 info, 2 warning, 3 critical.", []string{"seller"}, nil)

	descPTDocuments   = prometheus.NewDesc("posagent_pt_documents", "Portuguese documents by state (pending, draft, issued, held).", []string{"state"}, nil)
	descPTOldest      = prometheus.NewDesc("posagent_pt_oldest_pending_seconds", "Age of the oldest Portuguese sale not yet issued (0 when none).", nil, nil)
	descFindings      = prometheus.NewDesc("posagent_reconcile_findings", "Open reconciliation findings by kind (mended ones until a run sees them landed).", []string{"kind"}, nil)
	descLastReconcile = prometheus.NewDesc("posagent_reconcile_last_run_timestamp_seconds", "When the latest reconciliation finished (0 before the first).", nil, nil)
)

// statusCollector turns one status reading into the scrape-time gauges. The
// handler reads the status with the request's context first (a failure is an
// error answer like any other), then gathers this beside the registry.
type statusCollector struct{ s Status }

func (c statusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueueJobs, descOldestUnsent, descNumbersLeft, descPrinterReady,
		descPrinterState, descPrintsPending, descProviderOnline, descProviderPaused, descAlarmLevel, descOrdersOpen, descOrdersStale,
		descSellerJobs, descSellerOldest, descSellerNumbers, descSellerOnline, descSellerPaused, descSellerAlarm,
		descPTDocuments, descPTOldest, descFindings, descLastReconcile} {
		ch <- d
	}
}

func (c statusCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, st := range []struct {
		name string
		n    int
	}{{StatePending, s.Queue.Pending}, {StateClaimed, s.Queue.InFlight}, {StateDead, s.Queue.Dead}, {StateDone, s.Queue.Done}} {
		gauge(descQueueJobs, float64(st.n), st.name)
	}
	var age int64
	if s.Queue.OldestUnsent != nil {
		age = s.Queue.OldestUnsent.AgeSeconds
	}
	gauge(descOldestUnsent, float64(age))
	for _, n := range s.Numbers {
		gauge(descNumbersLeft, float64(n.Left), n.Period)
	}
	gauge(descPrinterReady, boolFloat(s.Printer.Ready))
	state := "unknown"
	switch {
	case !s.Printer.Configured:
		state = "none"
	case s.Printer.Ready:
		state = "ready"
	case s.Printer.Known:
		state = metricLabel(s.Printer.Reason)
	}
	gauge(descPrinterState, 1, state)
	gauge(descPrintsPending, float64(s.Printer.PrintsPending))
	gauge(descProviderOnline, boolFloat(s.Provider.Online), s.Provider.Name)
	gauge(descProviderPaused, boolFloat(s.Provider.Paused), s.Provider.Name)
	gauge(descAlarmLevel, float64(levelRank[s.Level]))
	if o := s.Orders; o != nil {
		gauge(descOrdersOpen, float64(o.Open))
		gauge(descOrdersStale, float64(o.Stale))
	}
	for _, sv := range s.Sellers {
		for _, st := range []struct {
			name string
			n    int
		}{{StatePending, sv.Queue.Pending}, {StateClaimed, sv.Queue.InFlight}, {StateDead, sv.Queue.Dead}} {
			gauge(descSellerJobs, float64(st.n), sv.TaxID, st.name)
		}
		var age int64
		if sv.Queue.OldestUnsent != nil {
			age = sv.Queue.OldestUnsent.AgeSeconds
		}
		gauge(descSellerOldest, float64(age), sv.TaxID)
		for _, n := range sv.Numbers {
			gauge(descSellerNumbers, float64(n.Left), sv.TaxID, n.Period)
		}
		gauge(descSellerOnline, boolFloat(sv.Provider.Online), sv.TaxID, sv.Provider.Name)
		gauge(descSellerPaused, boolFloat(sv.Provider.Paused), sv.TaxID, sv.Provider.Name)
		gauge(descSellerAlarm, float64(levelRank[sv.Level]), sv.TaxID)
	}
	if p := s.Portugal; p != nil {
		for state, n := range map[string]int{PTStatePending: p.Pending, PTStateDraft: p.Drafts, PTStateIssued: p.Issued, PTStateHeld: p.Held} {
			gauge(descPTDocuments, float64(n), state)
		}
		gauge(descPTOldest, float64(p.OldestPendingSeconds))
	}
	for kind, n := range reconcileMetricKinds(s.Reconcile) {
		gauge(descFindings, n, kind)
	}
	var last float64
	if s.Reconcile != nil && s.Reconcile.LastRun != nil {
		last = float64(s.Reconcile.LastRun.FinishedAt.Unix())
	}
	gauge(descLastReconcile, last)
}

func (a *Agent) handleMetrics(w http.ResponseWriter, r *http.Request) {
	s, err := a.Status(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	scrape := prometheus.NewRegistry()
	scrape.MustRegister(statusCollector{s})
	promhttp.HandlerFor(prometheus.Gatherers{a.metrics.reg, scrape}, promhttp.HandlerOpts{
		ErrorLog:      promErrorLog{a},
		ErrorHandling: promhttp.HTTPErrorOnError,
	}).ServeHTTP(w, r)
}

// promErrorLog sends promhttp's errors to the agent's log.
type promErrorLog struct{ a *Agent }

func (l promErrorLog) Println(v ...any) {
	l.a.log.Error("metrics", "err", fmt.Sprint(v...))
}

func boolFloat(b bool) float64 {
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

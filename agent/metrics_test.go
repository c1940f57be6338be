package agent

import (
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// /metrics is client_golang's exposition: every metric name posagent ever
// had, with its type, the process and Go collectors, and nothing of an
// invoice or a secret in it.
func TestMetricsExposition(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, func(o *Options) { o.PollInterval = 10 * time.Millisecond })
	stop := runSync(h)
	sales := []string{readTestdata(t, "../testdata/sales/business.json"), readTestdata(t, "../testdata/sales/mobile-carrier.json")}
	var numbers, randoms []string
	for _, body := range sales {
		code, ans := h.do(t, "POST", "/v1/sales", body)
		require.Equal(t, 201, code, "%v", ans)
		numbers = append(numbers, ans["number"].(string))
		randoms = append(randoms, ans["random_code"].(string))
	}
	require.Eventually(t, func() bool { return h.store.jobStates()[StateDone] == 2 }, 10*time.Second, 10*time.Millisecond)
	stop()

	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code, rec.Body.String())
	require.True(t, strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4"), rec.Header().Get("Content-Type"))
	text := rec.Body.String()

	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(text))
	require.NoError(t, err, "not valid Prometheus text")
	types := map[string]string{
		"posagent_sales_total":             "COUNTER",
		"posagent_sale_duration_seconds":   "HISTOGRAM",
		"posagent_upload_duration_seconds": "HISTOGRAM",
		"posagent_provider_calls_total":    "COUNTER",
		"posagent_queue_jobs":              "GAUGE",
		"posagent_oldest_unsent_seconds":   "GAUGE",
		"posagent_numbers_left":            "GAUGE",
		"posagent_printer_ready":           "GAUGE",
		"posagent_printer_state":           "GAUGE",
		"posagent_prints_pending":          "GAUGE",
		"posagent_provider_online":         "GAUGE",
		"posagent_provider_paused":         "GAUGE",
		"posagent_alarm_level":             "GAUGE",
		"go_goroutines":                    "GAUGE",
		"go_memstats_heap_alloc_bytes":     "GAUGE",
	}
	if runtime.GOOS == "linux" {
		types["process_cpu_seconds_total"] = "COUNTER"
		types["process_resident_memory_bytes"] = "GAUGE"
		types["process_open_fds"] = "GAUGE"
	}
	for name, typ := range types {
		f, ok := families[name]
		if !ok {
			t.Errorf("%s is missing", name)
			continue
		}
		require.Equal(t, typ, f.GetType().String(), name)
	}
	for _, want := range []string{
		"posagent_sales_total 2",
		`posagent_sale_duration_seconds_bucket{le="0.001"}`,
		"posagent_sale_duration_seconds_count 2",
		"posagent_upload_duration_seconds_count 2",
		`posagent_provider_calls_total{kind="upload",result="ok"} 2`,
		`posagent_queue_jobs{state="done"} 2`,
		`posagent_queue_jobs{state="pending"} 0`,
		`posagent_numbers_left{period="11410"} 98`,
		`posagent_provider_online{provider="fake"} 1`,
		`posagent_printer_state{state="ready"} 1`,
	} {
		require.Contains(t, text, want)
	}

	// No secret and nothing of an invoice: numbers, random codes, sale ids,
	// buyer, carrier, items.
	forbidden := []string{testToken, testQRKey, "53212539", "範例股份有限公司", "/ABC+123", "ABC+123",
		"pos1-20250914-0002", "pos1-20250914-0003", "會議餐盒", "Lunch box", "Water", "瓶裝水"}
	forbidden = append(forbidden, numbers...)
	for _, n := range numbers {
		forbidden = append(forbidden, n[2:]) // the digits without the track
	}
	for _, s := range forbidden {
		require.NotContains(t, text, s)
	}
	for _, r := range randoms {
		require.NotRegexp(t, `[{,]\w+="`+r+`"`, text, "a random code as a label value")
	}
}

package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/providers/amego/amegotest"
	"github.com/posagent/posagent/qr"
	"github.com/posagent/posagent/queue"
)

// End to end with Amego: the agent, its SQLite store and the real Amego
// client against the Amego stand-in.

// amegoRecorder logs every call Amego accepted, in order; the client's
// optional capabilities (leases, lookups, alarms) are promoted.
type amegoRecorder struct {
	*amego.Client
	mu       sync.Mutex
	accepted []string
}

func (r *amegoRecorder) note(err error, what string) error {
	if err == nil {
		r.mu.Lock()
		r.accepted = append(r.accepted, what)
		r.mu.Unlock()
	}
	return err
}

func (r *amegoRecorder) Upload(ctx context.Context, inv posagent.Invoice) error {
	return r.note(r.Client.Upload(ctx, inv), "upload "+string(inv.Number))
}

func (r *amegoRecorder) Void(ctx context.Context, inv posagent.Invoice, v posagent.Void) error {
	return r.note(r.Client.Void(ctx, inv, v), "void "+string(inv.Number))
}

func (r *amegoRecorder) Allow(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) error {
	return r.note(r.Client.Allow(ctx, inv, a), "allowance "+string(inv.Number))
}

func (r *amegoRecorder) calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.accepted...)
}

type amegoE2E struct {
	*e2e
	stand *amegotest.Server
	prov  *amegoRecorder
}

// startAmegoE2E runs an agent uploading to the Amego stand-in. amegoKey is
// the QR key the stand-in holds; the till prints with e2eQRKey.
func startAmegoE2E(t testing.TB, amegoKey qr.Key, concurrency int) *amegoE2E {
	t.Helper()
	e := &e2e{t: t, dir: t.TempDir(), logs: &lockedBuffer{}, client: &http.Client{Timeout: 30 * time.Second}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stand := amegotest.New(amegotest.Options{Seller: "24634102", QRKey: amegoKey, Logger: log})
	t.Cleanup(stand.Close)

	cfg := config.DefaultConfig()
	cfg.Terminal = config.Terminal{SellerTaxID: "24634102", SellerName: "端到端測試商店", MachineID: e2eMachine}
	cfg.QR.Key = e2eQRKey
	cfg.Provider.Name = "amego"
	cfg.Provider.Amego = config.Amego{AppKey: amego.TestAppKey, BaseURL: stand.URL(), Timeout: config.Duration{Duration: 2 * time.Second}}
	cfg.Printer.Profile = "58mm"
	cfg.Store.Path = filepath.Join(e.dir, "posagent.db")
	cfg.API.Token = e2eToken
	cfg.Sync.BackoffBase = config.Duration{Duration: 50 * time.Millisecond}
	cfg.Sync.BackoffCap = config.Duration{Duration: 500 * time.Millisecond}
	cfg.Sync.CallTimeout = config.Duration{Duration: 2 * time.Second}
	cfg.Sync.Concurrency = max(1, concurrency)
	cfg.Booklets.LowWater = 0
	cfg.Reconcile.Enabled = false // tests reconcile on demand, on the day they sold
	require.NoError(t, cfg.Validate())
	e.cfg = cfg

	kit, err := agent.NewProofKit(cfg, log)
	require.NoError(t, err)
	e.store, err = queue.Open(cfg.Store.Path, queue.Options{Logger: log})
	require.NoError(t, err)
	acfg := stand.Config()
	acfg.Seller, acfg.Logger, acfg.Timeout = "24634102", log, 2*time.Second
	acfg.QRKey, err = qr.ParseKey(e2eQRKey) // what the till prints with
	require.NoError(t, err)
	client, err := amego.New(acfg)
	require.NoError(t, err)
	prov := &amegoRecorder{Client: client}
	e.agent, err = agent.New(agent.Options{Config: cfg, Store: &agent.QueueStore{S: e.store}, Printer: discardPrinter{},
		Render: kit.Render, Coder: kit.Coder, Provider: prov, Logger: log, PollInterval: 20 * time.Millisecond,
		ShutdownGrace: 2 * time.Second})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	e.base = "http://" + ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- e.agent.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return &amegoE2E{e2e: e, stand: stand, prov: prov}
}

// lease puts n booklets leased from Amego into the store.
func (e *amegoE2E) lease(books int) {
	e.t.Helper()
	bs, err := e.prov.LeaseBooklets(context.Background(), posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now()), Booklets: books})
	require.NoError(e.t, err)
	for _, b := range bs {
		_, err := e.store.AddBooklet(context.Background(), b)
		require.NoError(e.t, err)
	}
}

func demoKey(t testing.TB) qr.Key {
	k, err := qr.ParseKey(e2eQRKey)
	require.NoError(t, err)
	return k
}

// TestAmegoOfflineThenRecovery: Amego is down for 500 sales (a void every
// 25th, an allowance every 50th); when it is back, every invoice is uploaded
// once, in number order, each void and allowance after its invoice.
func TestAmegoOfflineThenRecovery(t *testing.T) {
	t.Parallel()
	e := startAmegoE2E(t, demoKey(t), 1)
	e.lease(11)
	e.stand.Down()
	var numbers []string
	for i := range 500 {
		ans := e.sell(fmt.Sprintf("amego-off-%03d", i), 50+i%7)
		n := ans["number"].(string)
		numbers = append(numbers, n)
		switch {
		case i%25 == 0:
			code, body := e.call("POST", "/v1/invoices/"+n+"/void", `{"reason":"打錯"}`)
			require.Equal(t, 202, code, "%v", body)
		case i%50 == 7:
			code, body := e.call("POST", "/v1/invoices/"+n+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":20}],"reason":"少糖"}`)
			require.Equal(t, 201, code, "%v", body)
		}
	}
	require.Eventually(t, func() bool {
		_, st := e.call("GET", "/v1/status", "")
		return st["provider"].(map[string]any)["online"] == false
	}, 10*time.Second, 20*time.Millisecond, "the agent did not notice Amego is down")
	_, st := e.call("GET", "/v1/status", "")
	require.Equal(t, "amego", st["provider"].(map[string]any)["name"])
	require.Empty(t, e.stand.Invoices())

	e.stand.Up()
	e.waitUploaded(90 * time.Second)

	calls := e.prov.calls()
	pos := map[string]int{}
	var uploads []string
	for i, c := range calls {
		_, dup := pos[c]
		require.False(t, dup, "%s accepted twice", c)
		pos[c] = i
		if n, ok := strings.CutPrefix(c, "upload "); ok {
			uploads = append(uploads, n)
		}
	}
	require.Equal(t, numbers, uploads, "uploads out of order or missing")
	held := e.stand.Invoices()
	require.Len(t, held, 500)
	for i, inv := range held {
		require.Equal(t, numbers[i], inv.Number, "Amego accepted the invoices out of number order")
	}
	for i := 0; i < 500; i++ {
		n := numbers[i]
		inv, ok := e.stand.Invoice(n)
		require.True(t, ok)
		switch {
		case i%25 == 0:
			require.True(t, inv.Voided, n)
			require.Greater(t, inv.VoidSeq, inv.Seq, "void of %s before its invoice", n)
			require.Greater(t, pos["void "+n], pos["upload "+n])
		case i%50 == 7:
			require.Greater(t, pos["allowance "+n], pos["upload "+n])
		}
	}
	al := e.stand.Allowances()
	require.Len(t, al, 10)
	for _, a := range al {
		inv, _ := e.stand.Invoice(a.InvoiceNo)
		require.Greater(t, a.Seq, inv.Seq, "allowance %s before its invoice", a.Number)
		require.Equal(t, int64(20), a.Total+a.Tax)
	}
	// The provider is named in status and metrics.
	_, st = e.call("GET", "/v1/status", "")
	require.Equal(t, "ok", st["level"], "%v", st["alarms"])
	_, m := e.call("GET", "/metrics", "")
	require.Contains(t, m["text"], `posagent_provider_online{provider="amego"} 1`)
}

// TestAmegoLostAnswersAndFaults: the stand-in does the work and the answer is
// lost, or it answers 503, maintenance or garbage: each invoice is held once.
func TestAmegoLostAnswersAndFaults(t *testing.T) {
	t.Parallel()
	e := startAmegoE2E(t, demoKey(t), 1)
	e.lease(1)
	e.stand.Inject(amegotest.Fault{Kind: amegotest.FaultLoseAnswer, Endpoint: "f0401_custom"}, 3)
	e.stand.Inject(amegotest.Fault{Kind: amegotest.FaultStatus, Endpoint: "f0401_custom", Status: 503}, 1)
	e.stand.Inject(amegotest.Fault{Kind: amegotest.FaultCode, Endpoint: "f0401_custom", Code: 10, Msg: "系統維護中"}, 1)
	e.stand.Inject(amegotest.Fault{Kind: amegotest.FaultMalformed, Endpoint: "f0401_custom"}, 1)
	var numbers []string
	for i := range 8 {
		numbers = append(numbers, e.sell(fmt.Sprintf("amego-lost-%d", i), 70)["number"].(string))
	}
	e.waitUploaded(30 * time.Second)
	held := e.stand.Invoices()
	require.Len(t, held, 8)
	for i, inv := range held {
		require.Equal(t, numbers[i], inv.Number)
	}
	faults := 0
	for _, r := range e.stand.Requests() {
		if r.Fault != "" {
			faults++
		}
	}
	require.Equal(t, 6, faults, "the faults were not all exercised")
}

// TestAmegoQRKeyMismatchAlarm: Amego holds another QR key than the one the
// till prints with: uploads go on, and status, metrics and the log raise a
// critical alarm that says the printed proofs carry a wrong verification field.
func TestAmegoQRKeyMismatchAlarm(t *testing.T) {
	t.Parallel()
	e := startAmegoE2E(t, qr.DeriveKey("the seed Amego holds"), 1)
	e.lease(1)
	n1 := e.sell("amego-qr-1", 60)["number"].(string)
	n2 := e.sell("amego-qr-2", 60)["number"].(string)
	e.waitUploaded(10 * time.Second)
	require.Len(t, e.stand.Invoices(), 2, "uploads stopped")
	_, st := e.call("GET", "/v1/status", "")
	require.Equal(t, "critical", st["level"])
	var found map[string]any
	for _, a := range st["alarms"].([]any) {
		if a.(map[string]any)["code"] == "qr_key_mismatch" {
			found = a.(map[string]any)
		}
	}
	require.NotNil(t, found, "%v", st["alarms"])
	msg := found["message"].(string)
	require.Equal(t, "critical", found["level"])
	require.Contains(t, msg, "Amego")
	require.Contains(t, msg, "qr.key")
	require.Contains(t, msg, n1)
	require.Contains(t, msg, n2)
	require.NotContains(t, msg, e2eQRKey)
	_, m := e.call("GET", "/metrics", "")
	require.Contains(t, m["text"], "posagent_alarm_level 3")
	require.Eventually(t, func() bool { return strings.Contains(e.logs.String(), "code=qr_key_mismatch") },
		5*time.Second, 20*time.Millisecond, "the alarm was not logged")
	require.NotContains(t, e.logs.String(), e2eQRKey)
	require.NotContains(t, e.logs.String(), amego.TestAppKey)

	// With the key Amego holds, no alarm.
	ok := startAmegoE2E(t, demoKey(t), 1)
	ok.lease(1)
	ok.sell("amego-qr-ok", 60)
	ok.waitUploaded(10 * time.Second)
	_, st = ok.call("GET", "/v1/status", "")
	require.Equal(t, "ok", st["level"], "%v", st["alarms"])
}

// BenchmarkAmegoDrain queues invoices while the Amego stand-in is down, then
// brings it back with 20 ms of latency per call and measures how fast the
// sync loop drains the queue at Amego's default concurrency, 1: one call at a
// time keeps uploads reaching Amego in number order (it tracks the last
// number used per track) and spares its "too many users" limit (code 21),
// whose threshold is unpublished.
func BenchmarkAmegoDrain(b *testing.B) {
	const invoices, concurrency = 10000, 1
	b.Run(fmt.Sprintf("%d-invoices-concurrency-%d", invoices, concurrency), func(b *testing.B) {
		var rate float64
		for b.Loop() {
			b.StopTimer()
			e := startAmegoE2E(b, demoKey(b), concurrency)
			for left := invoices; left > 0; left -= 100 * posagent.BookletSize {
				e.lease(min(100, (left+posagent.BookletSize-1)/posagent.BookletSize))
			}
			e.stand.Down()
			ctx := context.Background()
			for i := range invoices {
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
			e.waitUploaded(20 * time.Minute)
			elapsed := time.Since(start)
			b.StopTimer()
			if got := len(e.stand.Invoices()); got != invoices {
				b.Fatalf("the stand-in holds %d invoices, want %d", got, invoices)
			}
			rate = float64(invoices) / elapsed.Seconds()
			b.ReportMetric(elapsed.Seconds(), "drain-s")
			b.StartTimer()
		}
		b.ReportMetric(rate, "invoices/s")
		b.ReportMetric(concurrency, "concurrency")
		b.ReportMetric(0, "ns/op")
	})
}

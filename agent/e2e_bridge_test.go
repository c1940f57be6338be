package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/bridge"
	"github.com/posagent/posagent/providers/bridge/bridgetest"
	"github.com/posagent/posagent/queue"
)

// End to end with the bridge provider: the local API, the SQLite store, the
// real bridge client over HTTP or running the reference relay program, and
// the reference receiver.

var (
	bridgeExecOnce sync.Once
	bridgeExecPath string
	bridgeExecErr  error
)

// bridgeExec builds the reference relay program once per test binary.
func bridgeExec(t testing.TB) string {
	t.Helper()
	bridgeExecOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bridgeexec-agent")
		if err != nil {
			bridgeExecErr = err
			return
		}
		bridgeExecPath, bridgeExecErr = bridgetest.Build(dir)
	})
	require.NoError(t, bridgeExecErr)
	return bridgeExecPath
}

// bridgePID is a Wixtar-like credential that must never reach a log, an event or the API.
const bridgePID = "PID-e2e-9f8c7b6a5d4e"

type bridgeE2E struct {
	e2e
	srv  *bridgetest.Server
	prov posagent.Provider
}

type bridgeOptions struct {
	transport    string
	secret       string   // the client's; default the receiver's
	command      []string // exec: replaces the relay
	receiverDown bool
	noStatus     bool // a receiver without the optional status call
}

func startBridgeE2E(t *testing.T, o bridgeOptions) *bridgeE2E {
	t.Helper()
	e := &bridgeE2E{e2e: e2e{t: t, dir: t.TempDir(), logs: &lockedBuffer{}, client: &http.Client{Timeout: 30 * time.Second}}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.srv = bridgetest.New(bridgetest.Options{Logger: log, PoolSize: 100, NoStatus: o.noStatus})
	t.Cleanup(e.srv.Close)

	cfg := config.DefaultConfig()
	cfg.Terminal = config.Terminal{SellerTaxID: "24634102", SellerName: "橋接測試商店", MachineID: e2eMachine}
	cfg.QR.Key = e2eQRKey
	cfg.Provider.Name = "bridge"
	secret := o.secret
	if secret == "" {
		secret = bridgetest.DemoSecret
	}
	b := config.Bridge{Transport: o.transport, Timeout: config.Duration{Duration: 2 * time.Second}, Lease: true,
		Credentials: map[string]config.Secret{"pid": bridgePID}}
	switch o.transport {
	case bridge.TransportHTTP:
		b.URL, b.Secret = e.srv.URL(), config.Secret(secret)
	case bridge.TransportExec:
		b.Command = o.command
		if b.Command == nil {
			b.Command = []string{bridgeExec(t), "-url", e.srv.URL(), "-timeout", "1s"}
		}
		b.Credentials["relay_secret"] = config.Secret(secret)
	}
	cfg.Provider.Bridge = b
	cfg.Printer.Profile = "58mm"
	cfg.Store.Path = filepath.Join(e.dir, "posagent.db")
	cfg.API.Token = e2eToken
	cfg.Sync.BackoffBase = config.Duration{Duration: 50 * time.Millisecond}
	cfg.Sync.BackoffCap = config.Duration{Duration: 500 * time.Millisecond}
	cfg.Sync.CallTimeout = config.Duration{Duration: 3 * time.Second}
	cfg.Booklets.LowWater = 0
	cfg.Reconcile.Enabled = false // tests reconcile on demand, on the day they sold
	require.NoError(t, cfg.Validate())
	e.cfg = cfg

	kit, err := agent.NewProofKit(cfg, log)
	require.NoError(t, err)
	e.prov, err = openBridge(cfg, kit, log)
	require.NoError(t, err)
	e.store, err = queue.Open(cfg.Store.Path, queue.Options{Logger: log})
	require.NoError(t, err)
	e.agent, err = agent.New(agent.Options{Config: cfg, Store: &agent.QueueStore{S: e.store}, Printer: discardPrinter{},
		Render: kit.Render, Coder: kit.Coder, Provider: e.prov, Logger: log, PollInterval: 20 * time.Millisecond,
		ShutdownGrace: 2 * time.Second,
		// A reload brings the receiver's own secret: the operator fixed the file.
		Reload: func(context.Context) (config.Config, agent.Providers, error) {
			next := cfg
			next.Provider.Bridge.Secret = bridgetest.DemoSecret
			next.Provider.Bridge.Credentials = map[string]config.Secret{"pid": bridgePID, "relay_secret": bridgetest.DemoSecret}
			p, err := openBridge(next, kit, log)
			return next, agent.Providers{next.Terminal.SellerTaxID: p}, err
		}})
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
		// Promise 6: the credential never reached a log line.
		require.NotContains(t, e.logs.String(), bridgePID)
	})
	return e
}

// openBridge opens the bridge of cfg as cmd/posagent does.
func openBridge(cfg config.Config, kit agent.ProofKit, log *slog.Logger) (posagent.Provider, error) {
	b := cfg.Provider.Bridge
	creds := map[string]string{}
	for k, v := range b.Credentials {
		creds[k] = v.Reveal()
	}
	return bridge.Open(bridge.Config{Transport: b.Transport, URL: b.URL, Secret: b.Secret.Reveal(), Command: b.Command,
		Timeout: b.Timeout.Duration, SellerTaxID: cfg.Terminal.SellerTaxID, MachineID: cfg.Terminal.MachineID,
		Credentials: creds, Lease: b.Lease, Redact: []string{e2eQRKey}, Logger: log,
		Texts: func(inv posagent.Invoice) (bridge.Texts, error) {
			p, err := kit.Coder(inv)
			return bridge.Texts{Barcode: p.Barcode, QRLeft: p.QRLeft, QRRight: p.QRRight}, err
		}})
}

// lease adds n booklets leased from the receiver through the bridge.
func (e *bridgeE2E) lease(n int) {
	e.t.Helper()
	ctx := context.Background()
	bs, err := e.prov.(posagent.BookletSource).LeaseBooklets(ctx, posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now()), MachineID: e2eMachine, Booklets: n})
	require.NoError(e.t, err)
	for _, b := range bs {
		_, err := e.store.AddBooklet(ctx, b)
		require.NoError(e.t, err)
	}
}

// TestBridgeOfflineThenRecovery: the receiver is down for 500 sales (and a
// void every 25th); when it is back, the queue drains in order, every
// document once, each void after its invoice — over HTTP, and through the
// relay program with 100 sales (each hand-over starts a process: ~70 ms on a
// busy machine).
func TestBridgeOfflineThenRecovery(t *testing.T) {
	for tr, sales := range map[string]int{bridge.TransportHTTP: 500, bridge.TransportExec: 100} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			e := startBridgeE2E(t, bridgeOptions{transport: tr})
			e.lease(sales / 50)
			e.srv.Down()
			var numbers []string
			for i := range sales {
				ans := e.sell(fmt.Sprintf("br-%03d", i), 50+i%7)
				numbers = append(numbers, ans["number"].(string))
				if i%25 == 0 {
					code, body := e.call("POST", "/v1/invoices/"+ans["number"].(string)+"/void", `{"reason":"打錯"}`)
					require.Equal(t, 202, code, "%v", body)
				}
			}
			require.Eventually(t, func() bool {
				_, st := e.call("GET", "/v1/status", "")
				return st["provider"].(map[string]any)["online"] == false
			}, 10*time.Second, 20*time.Millisecond, "the agent did not notice the receiver is down")
			for _, d := range e.srv.Documents() {
				require.Equal(t, bridge.KindLease, d.Kind, "a document arrived while the receiver was down")
			}

			e.srv.Up()
			e.waitUploaded(90 * time.Second)

			var uploads []string
			pos := map[string]int{}
			for i, d := range e.srv.Documents() {
				require.Equal(t, 1, e.srv.Count(d.Key), d.Key)
				pos[d.Key] = i
				if d.Kind == bridge.KindInvoice {
					uploads = append(uploads, string(d.Doc.Invoice.Number))
				}
			}
			require.Equal(t, numbers, uploads, "invoices out of order or missing")
			require.Empty(t, e.srv.Violations())
			p := posagent.PeriodOf(time.Now()).Code()
			for i := 0; i < sales; i += 25 {
				v, ok := pos["void:24634102:"+p+":"+numbers[i]]
				require.True(t, ok, "void of %s missing", numbers[i])
				require.Greater(t, v, pos["invoice:24634102:"+p+":"+numbers[i]], "void before its invoice")
			}
			var voids int
			for _, d := range e.srv.Documents() {
				if d.Kind == bridge.KindVoid {
					voids++
				}
			}
			require.Equal(t, sales/25, voids)
		})
	}
}

// addBooklet gives the till one booklet by hand (no lease needed).
func (e *bridgeE2E) addBooklet() {
	e.t.Helper()
	p := posagent.PeriodOf(time.Now())
	_, err := e.store.AddBooklet(context.Background(), posagent.Booklet{Track: "ZZ", First: 10000000, Last: 10000049, Period: p, Source: "manual"})
	require.NoError(e.t, err)
}

// TestBridgeWrongSecretPauses: a receiver that refuses the signature pauses
// uploads with a critical alarm; sales go on, nothing reaches the receiver;
// a reload with the right secret resumes at once and the queue drains.
func TestBridgeWrongSecretPauses(t *testing.T) {
	for _, tr := range []string{bridge.TransportHTTP, bridge.TransportExec} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			e := startBridgeE2E(t, bridgeOptions{transport: tr, secret: "not-the-receivers-secret-0123456789abcdef"})
			e.addBooklet()
			require.NotEmpty(t, e.sell("wrong-1", 60)["number"])
			require.Eventually(t, func() bool {
				_, st := e.call("GET", "/v1/status", "")
				if st["provider"].(map[string]any)["paused"] != true {
					return false
				}
				for _, al := range st["alarms"].([]any) {
					a := al.(map[string]any)
					if a["code"] == "provider_config" && a["level"] == "critical" {
						return strings.Contains(a["message"].(string), "bridge")
					}
				}
				return false
			}, 15*time.Second, 20*time.Millisecond, "no pause with a provider_config alarm")
			require.NotEmpty(t, e.sell("wrong-2", 61)["number"], "sales stop while paused")
			require.Empty(t, e.srv.Documents())
			res, err := e.agent.Reload(context.Background())
			require.NoError(t, err)
			require.True(t, res.Resumed)
			e.waitUploaded(15 * time.Second)
			require.Len(t, e.srv.Documents(), 2)
		})
	}
}

// TestBridgeStderrSecretStaysOut: a relay that prints its credentials to
// standard error: the job's history keeps the message with the values
// replaced; no event, API answer or log line holds them.
func TestBridgeStderrSecretStaysOut(t *testing.T) {
	t.Parallel()
	e := startBridgeE2E(t, bridgeOptions{transport: bridge.TransportExec, command: []string{bridgeExec(t), "-leak"}})
	e.addBooklet()
	n := e.sell("leak-1", 70)["number"].(string)
	var record string
	require.Eventually(t, func() bool {
		code, body := e.call("GET", "/v1/invoices/"+n, "")
		require.Equal(t, 200, code)
		b, _ := json.Marshal(body)
		record = string(b)
		return strings.Contains(record, "the relay is busy")
	}, 15*time.Second, 20*time.Millisecond, "the relay's standard error did not reach the job")
	require.Contains(t, record, "credential pid=[redacted]")
	require.NotContains(t, record, bridgePID)
	_, jobs := e.call("GET", "/v1/jobs", "")
	b, _ := json.Marshal(jobs)
	require.NotContains(t, string(b), bridgePID)
	events, err := e.store.Events(context.Background(), posagent.InvoiceNumber(n))
	require.NoError(t, err)
	for _, ev := range events {
		require.NotContains(t, ev.Detail, bridgePID)
	}
	require.Contains(t, e.logs.String(), "the relay is busy", "the failure was not logged: the scan would prove nothing")
	// The cleanup scans the log for the credential.
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
	"github.com/posagent/posagent/queue"
)

// The `posagent run` binary, built once for the tests that run it as a child.
var (
	buildOnce sync.Once
	agentBin  string
	buildErr  error
)

func agentBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "posagent-bin-")
		if err != nil {
			buildErr = err
			return
		}
		agentBin = filepath.Join(dir, "posagent")
		out, err := exec.Command("go", "build", "-o", agentBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return agentBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if agentBin != "" {
		os.RemoveAll(filepath.Dir(agentBin))
	}
	os.Exit(code)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

const childToken = "child-token-8c1d0e7f6a5b4c3d"

// writeChildConfig is a real configuration file for `posagent run`, pointing
// at a stand-in that lives in the test process (it must outlive the kills).
func writeChildConfig(t testing.TB, dir, addr, providerURL string, extra string) string {
	t.Helper()
	doc := fmt.Sprintf(`
[terminal]
seller_tax_id = "24634102"
seller_name = "當機測試商店"
machine_id = "POS01"
[qr]
key = "F1A618ED8685B1A3B81E6CB6884617F4"
[provider]
name = "ecpay"
[provider.ecpay]
merchant_id = %q
hash_key = "${T_CHILD_HASH_KEY}"
hash_iv = %q
base_url = %q
timeout = "2s"
[printer]
device = "none"
[store]
path = %q
[api]
address = %q
token = %q
[sync]
backoff_base = "50ms"
backoff_cap = "500ms"
call_timeout = "2s"
[booklets]
low_water = 100
lease = 4
[log]
level = "debug"
%s`, ecpaytest.StageMerchantID, ecpaytest.StageHashIV, providerURL, filepath.Join(dir, "posagent.db"), addr, childToken, extra)
	path := filepath.Join(dir, "posagent.toml")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	return path
}

type child struct {
	cmd  *exec.Cmd
	logs *os.File
}

func startChild(t testing.TB, cfgPath, logPath, addr string) *child {
	t.Helper()
	logs, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	require.NoError(t, err)
	cmd := exec.Command(agentBinary(t), "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "T_CHILD_HASH_KEY="+ecpaytest.StageHashKey, "POSAGENT_CONFIG=", "LOG_LEVEL=")
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, logs: logs}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return c
			}
		}
		if time.Now().After(deadline) {
			c.kill()
			data, _ := os.ReadFile(logPath)
			t.Fatalf("the agent did not come up: %v\n%s", err, tail(string(data), 3000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
	c.logs.Close()
}

func (c *child) stop(t testing.TB) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "the agent did not stop cleanly")
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		t.Fatal("the agent did not stop within 20 s of SIGTERM")
	}
	c.logs.Close()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

type apiAnswer struct {
	status int
	body   map[string]any
}

func apiCall(client *http.Client, addr, method, path, body string) (apiAnswer, error) {
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		return apiAnswer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+childToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return apiAnswer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return apiAnswer{}, err
	}
	a := apiAnswer{status: resp.StatusCode, body: map[string]any{}}
	if err := json.Unmarshal(data, &a.body); err != nil {
		return apiAnswer{}, fmt.Errorf("answer %d is not JSON: %q", resp.StatusCode, data)
	}
	return a, nil
}

func crashSale(id string) string {
	return fmt.Sprintf(`{"sale_id":%q,"items":[{"name":"當機測試","quantity":1,"unit_price":%d}]}`, id, 10+len(id)%50)
}

// TestCrash kills `posagent run` with SIGKILL at random moments while a client
// rings up sales (and voids some) and the sync uploads, eleven times. In the
// end every sale the client got an answer for exists with the number it was
// told, no number is used twice, and the stand-in holds every invoice exactly
// once, voids included (promises 1, 2, 3).
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: builds and kills the agent binary")
	}
	stand := ecpaytest.New(ecpaytest.Options{})
	defer stand.Close()
	stand.SetLatency(2 * time.Millisecond)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfgPath := writeChildConfig(t, dir, addr, stand.URL(), "")
	logPath := filepath.Join(dir, "agent.log")

	answered := map[string]string{} // sale id → invoice number
	voided := map[string]bool{}     // invoice number
	var mu sync.Mutex
	client := &http.Client{Timeout: 5 * time.Second}
	const rounds = 11
	for round := range rounds {
		c := startChild(t, cfgPath, logPath, addr)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := range 2 {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("crash-%d-%d-%d", round, w, i)
					a, err := apiCall(client, addr, "POST", "/v1/sales", crashSale(id))
					if err != nil {
						return // killed mid-request: no answer, no promise
					}
					if a.status != http.StatusCreated {
						if a.status == http.StatusServiceUnavailable {
							time.Sleep(20 * time.Millisecond)
							continue
						}
						t.Errorf("sale %s: %d %v", id, a.status, a.body)
						return
					}
					n := a.body["number"].(string)
					mu.Lock()
					answered[id] = n
					mu.Unlock()
					if i%7 == 3 {
						v, err := apiCall(client, addr, "POST", "/v1/invoices/"+n+"/void", `{"reason":"當機測試"}`)
						if err != nil {
							return
						}
						if v.status == http.StatusAccepted {
							mu.Lock()
							voided[n] = true
							mu.Unlock()
						}
					}
				}
			})
		}
		time.Sleep(time.Duration(150+rand.IntN(400)) * time.Millisecond)
		c.kill()
		close(stop)
		wg.Wait()
	}

	// Once more, to the end: every answered sale is there and everything goes out.
	c := startChild(t, cfgPath, logPath, addr)
	require.Eventually(t, func() bool {
		a, err := apiCall(client, addr, "GET", "/v1/status", "")
		if err != nil || a.status != 200 {
			return false
		}
		q := a.body["queue"].(map[string]any)
		return q["pending"].(float64) == 0 && q["in_flight"].(float64) == 0 && q["dead"].(float64) == 0
	}, 60*time.Second, 50*time.Millisecond, "the queue did not drain after the crashes")

	require.NotEmpty(t, answered)
	seen := map[string]string{}
	for id, n := range answered {
		if other, dup := seen[n]; dup {
			t.Fatalf("number %s answered for sales %s and %s", n, other, id)
		}
		seen[n] = id
		a, err := apiCall(client, addr, "POST", "/v1/sales", crashSale(id))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, a.status, "sale %s answered before the crash is gone: %v", id, a.body)
		require.Equal(t, n, a.body["number"], "sale %s changed its number", id)
	}
	c.stop(t)

	st, err := queue.Open(filepath.Join(dir, "posagent.db"), queue.Options{})
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Check(context.Background()))
	periods, err := st.NumbersLeft(context.Background())
	require.NoError(t, err)
	issued := 0
	for _, p := range periods {
		issued += p.Issued
	}
	held := stand.Invoices()
	require.Len(t, held, issued, "the stand-in does not hold exactly the invoices issued")
	for _, inv := range held {
		require.Equal(t, 1, stand.Count(inv.Number), "invoice %s uploaded %d times", inv.Number, stand.Count(inv.Number))
		rec, err := st.Invoice(context.Background(), posagent.InvoiceNumber(inv.Number))
		require.NoError(t, err, "the stand-in holds %s, the store does not", inv.Number)
		require.Equal(t, rec.Void != nil, inv.Voided, "invoice %s voided locally %v, at the stand-in %v", inv.Number, rec.Void != nil, inv.Voided)
	}
	for n := range voided {
		inv, ok := stand.Invoice(n)
		require.True(t, ok)
		require.True(t, inv.Voided, "void of %s answered but not at the stand-in", n)
	}
	logs, err := os.ReadFile(logPath)
	require.NoError(t, err)
	for _, secret := range []string{childToken, ecpaytest.StageHashKey, ecpaytest.StageHashIV, "F1A618ED8685B1A3B81E6CB6884617F4"} {
		require.NotContains(t, string(logs), secret, "a secret reached the daemon's log")
	}
	t.Logf("%d rounds: %d sales answered, %d invoices issued, %d voids answered", rounds, len(answered), issued, len(voided))
}

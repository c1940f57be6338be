package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/invoicexpress/invoicexpresstest"
	"github.com/posagent/posagent/queue"
)

// The Portuguese regime under SIGKILL: `posagent run` on a Portuguese
// config, killed while InvoiceXpress holds its create or its finalize, the
// held request then landing after the till died; restarted, the till finds
// what landed by reference and the stand-in holds exactly one final
// document per sale.

func writePTChildConfig(t testing.TB, dir, addr, ixURL string) string {
	t.Helper()
	doc := fmt.Sprintf(`
[terminal]
regime = "pt"
machine_id = "CAIXA1"
[portugal]
certification = "Processado por programa certificado n.º 0000/AT"
[portugal.seller]
name = "Loja do Teste de Queda"
nif = %q
address = "Rua da Queda 1, Lisboa"
[portugal.invoicexpress]
api_key = "${T_CHILD_IX_KEY}"
base_url = %q
timeout = "2s"
[printer]
device = "none"
profile = "pt-58mm"
[console]
enabled = false
[store]
path = %q
[api]
address = %q
token = %q
[sync]
backoff_base = "20ms"
backoff_cap = "200ms"
call_timeout = "2s"
[log]
level = "debug"
`, invoicexpresstest.DemoSellerNIF, ixURL, filepath.Join(dir, "posagent.db"), addr, childToken)
	path := filepath.Join(dir, "posagent.toml")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	return path
}

func ptCrashSale(id string) string {
	return fmt.Sprintf(`{"sale_id":%q,"items":[{"sku":"CAFE","name":"Café","quantity":1,"unit_price":"0.65","vat_rate":23}]}`, id)
}

// startPTChild starts the agent and waits until it has the account's taxes
// (read at start; a till that never had them refuses sales, 503).
func startPTChild(t *testing.T, cfgPath, logPath, addr string) *child {
	t.Helper()
	t.Setenv("T_CHILD_IX_KEY", invoicexpresstest.DemoAPIKey)
	c := startChild(t, cfgPath, logPath, addr)
	client := &http.Client{Timeout: 5 * time.Second}
	require.Eventually(t, func() bool {
		a, err := apiCall(client, addr, "GET", "/v1/pt/taxes", "")
		taxes, _ := a.body["taxes"].([]any)
		return err == nil && len(taxes) > 0
	}, 30*time.Second, 10*time.Millisecond, "the agent did not read the taxes")
	return c
}

func waitPTIssued(t *testing.T, client *http.Client, addr, id string) map[string]any {
	t.Helper()
	var last map[string]any
	require.Eventually(t, func() bool {
		a, err := apiCall(client, addr, "GET", "/v1/sales/"+id, "")
		if err != nil || a.status != http.StatusOK {
			return false
		}
		last = a.body
		return a.body["state"] == "issued"
	}, 60*time.Second, 20*time.Millisecond, "sale %s was not issued after the restart", id)
	return last
}

func TestPTCrashBetweenCreateAndFinalize(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: builds and kills the agent binary")
	}
	for _, op := range []invoicexpresstest.Op{invoicexpresstest.OpCreate, invoicexpresstest.OpFinalize} {
		t.Run("killed while "+string(op)+" is held", func(t *testing.T) {
			ix := invoicexpresstest.New(invoicexpresstest.Options{})
			defer ix.Close()
			dir := t.TempDir()
			addr := freeAddr(t)
			cfgPath := writePTChildConfig(t, dir, addr, ix.URL())
			logPath := filepath.Join(dir, "agent.log")
			client := &http.Client{Timeout: 5 * time.Second}

			c := startPTChild(t, cfgPath, logPath, addr)
			ix.Inject(invoicexpresstest.Fault{Kind: invoicexpresstest.FaultHold, Op: op}, 1)
			a, err := apiCall(client, addr, "POST", "/v1/sales", ptCrashSale("K-1"))
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, a.status, "%v", a.body)
			ix.WaitHeld(1)
			c.kill()     // SIGKILL with the request in InvoiceXpress's hands
			ix.Release() // it lands after the till died

			if op == invoicexpresstest.OpFinalize {
				require.Equal(t, 1, ix.Finals(posagent.PTInvoiceReceipt, "K-1"), "the held finalize landed")
			} else {
				require.Equal(t, 1, ix.Drafts(posagent.PTInvoiceReceipt, "K-1"), "the held create landed")
			}
			c = startPTChild(t, cfgPath, logPath, addr)
			doc := waitPTIssued(t, client, addr, "K-1")["document"].(map[string]any)
			require.NotEmpty(t, doc["atcud"])
			require.NotEmpty(t, doc["qr_text"])
			// A second sale after the restart is issued as usual, numbered after.
			a, err = apiCall(client, addr, "POST", "/v1/sales", ptCrashSale("K-2"))
			require.NoError(t, err)
			require.Equal(t, http.StatusCreated, a.status)
			waitPTIssued(t, client, addr, "K-2")
			c.stop(t)

			for _, ref := range []string{"K-1", "K-2"} {
				require.Equal(t, 1, ix.Finals(posagent.PTInvoiceReceipt, ref), "%s: exactly one final document", ref)
				require.Equal(t, 0, ix.Drafts(posagent.PTInvoiceReceipt, ref), "%s: no draft left", ref)
			}
			logs, err := os.ReadFile(logPath)
			require.NoError(t, err)
			require.NotContains(t, string(logs), invoicexpresstest.DemoAPIKey, "the API key reached the log")
			require.NotContains(t, string(logs), childToken)
		})
	}
}

// TestPTCrashRandom kills the Portuguese agent at random moments while sales
// flow and the loop issues them; in the end every answered sale has exactly
// one final document, numbered in sale order.
func TestPTCrashRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: builds and kills the agent binary")
	}
	ix := invoicexpresstest.New(invoicexpresstest.Options{})
	defer ix.Close()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfgPath := writePTChildConfig(t, dir, addr, ix.URL())
	logPath := filepath.Join(dir, "agent.log")
	client := &http.Client{Timeout: 5 * time.Second}
	var answered []string
	var mu sync.Mutex
	const rounds = 6
	for round := range rounds {
		c := startPTChild(t, cfgPath, logPath, addr)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("R-%d-%03d", round, i)
				a, err := apiCall(client, addr, "POST", "/v1/sales", ptCrashSale(id))
				if err != nil {
					return // killed mid-request
				}
				if a.status != http.StatusCreated {
					t.Errorf("sale %s: %d %v", id, a.status, a.body)
					return
				}
				mu.Lock()
				answered = append(answered, id)
				mu.Unlock()
			}
		})
		time.Sleep(time.Duration(100+rand.IntN(300)) * time.Millisecond) // a random moment to kill, not a wait for a result
		c.kill()
		close(stop)
		wg.Wait()
	}
	c := startPTChild(t, cfgPath, logPath, addr)
	require.NotEmpty(t, answered)
	prev := 0
	for _, id := range answered {
		doc := waitPTIssued(t, client, addr, id)["document"].(map[string]any)
		require.Equal(t, 1, ix.Finals(posagent.PTInvoiceReceipt, id), "%s: exactly one final document", id)
		seq, err := strconv.Atoi(strings.SplitN(doc["sequence_number"].(string), "/", 2)[0])
		require.NoError(t, err)
		require.Greater(t, seq, prev, "%s numbered in sale order", id)
		prev = seq
	}
	c.stop(t)
	// A sale stored by a run killed before it answered is issued too (the
	// POS sends it again and gets it): every document at the stand-in is a
	// stored sale's, one final each.
	st, err := queue.Open(filepath.Join(dir, "posagent.db"), queue.Options{})
	require.NoError(t, err)
	defer st.Close()
	stored, err := st.PTList(context.Background(), "", 100000)
	require.NoError(t, err)
	finals := map[string]int{}
	for _, d := range ix.Documents() {
		if d.Status == "settled" || d.Status == "final" {
			finals[d.Reference]++
		}
	}
	require.Len(t, finals, len(stored), "one final document per stored sale")
	for _, e := range stored {
		require.Equal(t, queue.PTIssued, e.State, e.Ref)
		require.Equal(t, 1, finals[e.Ref], "%s: exactly one final document", e.Ref)
	}
	t.Logf("%d rounds: %d sales answered, %d stored, each issued once", rounds, len(answered), len(stored))
}

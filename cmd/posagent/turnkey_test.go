package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/testmysql"
	"github.com/posagent/posagent/internal/testxml"
	"github.com/posagent/posagent/providers/turnkey/turnkeytest"
	"github.com/stretchr/testify/require"
)

// TestRunWithTurnkey: `posagent run` with [provider] name = "turnkey" against
// the Turnkey stand-in on the machine's MariaDB: sales and a void go from SRC
// to C, the void after its invoice; a sale Turnkey would refuse is refused at
// the till and spends no number; the database password reaches no log.
func TestRunWithTurnkey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the agent binary")
	}
	testxml.Require(t)
	stand, err := turnkeytest.New(context.Background(), turnkeytest.Options{
		Root: t.TempDir(), AdminDSN: testmysql.DSN(t), Interval: 20 * time.Millisecond,
		SendDelay: 50 * time.Millisecond, AnswerDelay: 100 * time.Millisecond, RequireXSD: true,
	})
	require.NoError(t, err)
	defer stand.Close()
	dir := t.TempDir()
	addr := freeAddr(t)
	doc := fmt.Sprintf(`
[terminal]
seller_tax_id = "24634102"
seller_name = "好日子雜貨店"
seller_address = "臺北市中正區重慶南路一段2號"
machine_id = "POS01"
[qr]
key = "F1A618ED8685B1A3B81E6CB6884617F4"
[provider]
name = "turnkey"
[provider.turnkey]
b2s_root = %q
b2p_root = %q
unpack_root = %q
temp_dir = %q
dsn = "${T_TURNKEY_DSN}"
[printer]
device = "none"
[store]
path = %q
[api]
address = %q
token = %q
[sync]
backoff_base = "50ms"
backoff_cap = "300ms"
call_timeout = "5s"
[log]
level = "debug"
`, stand.B2SRoot(), stand.B2PRoot(), stand.UnpackRoot(), filepath.Join(filepath.Dir(stand.B2SRoot()), "..", "tmp"),
		filepath.Join(dir, "posagent.db"), addr, childToken)
	cfgPath := filepath.Join(dir, "posagent.toml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(doc), 0o600))
	t.Setenv("T_TURNKEY_DSN", stand.DSN())
	logPath := filepath.Join(dir, "agent.log")
	c := startChild(t, cfgPath, logPath, addr)
	defer func() {
		if c != nil {
			c.kill()
		}
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	period := posagent.PeriodOf(time.Now()).Code()
	a, err := apiCall(client, addr, "POST", "/v1/booklets", fmt.Sprintf(`{"range":"AB11223300-AB11223349","period":%q}`, period))
	require.NoError(t, err)
	require.Less(t, a.status, 300, "%v", a.body)

	var numbers []string
	for i := range 3 {
		a, err := apiCall(client, addr, "POST", "/v1/sales", fmt.Sprintf(`{"sale_id":"tk-%d","items":[{"name":"美式咖啡","quantity":1,"unit_price":65}]}`, i))
		require.NoError(t, err)
		require.Equal(t, 201, a.status, "%v", a.body)
		numbers = append(numbers, a.body["number"].(string))
		if i == 0 {
			// A member carrier without the platform's code: Turnkey would refuse
			// the file, so the till refuses the sale, before any number.
			a, err := apiCall(client, addr, "POST", "/v1/sales",
				`{"sale_id":"tk-member","carrier":{"type":"member","id":"M0001"},"items":[{"name":"可頌","quantity":1,"unit_price":45}]}`)
			require.NoError(t, err)
			require.Equal(t, 422, a.status, "%v", a.body)
			require.Contains(t, fmt.Sprint(a.body), "carrier.type")
		}
	}
	require.Equal(t, []string{"AB11223300", "AB11223301", "AB11223302"}, numbers, "the refused sale spent no number")
	a, err = apiCall(client, addr, "POST", "/v1/invoices/"+numbers[1]+"/void", `{"reason":"顧客退貨"}`)
	require.NoError(t, err)
	require.Less(t, a.status, 300, "%v", a.body)

	deadline := time.Now().Add(60 * time.Second)
	for {
		counts := stand.Counts()
		st, err := apiCall(client, addr, "GET", "/v1/status", "")
		require.NoError(t, err)
		queue, _ := st.body["queue"].(map[string]any)
		if counts["C"] == 4 && queue["pending"] == float64(0) {
			break
		}
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(logPath)
			t.Fatalf("not all C: rows %v, queue %v\n%s", counts, queue, tail(string(data), 4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Zero(t, stand.Counts()["E"], "no message was refused (no void before its invoice)")
	require.Len(t, stand.Files("F0401_"), 3)
	require.Len(t, stand.Files("F0501_"+numbers[1]), 1)
	for _, f := range append(stand.Files("F0401_"), stand.Files("F0501_")...) {
		require.Contains(t, f, string(filepath.Separator)+"BAK"+string(filepath.Separator))
	}

	// The daily reconciliation through `posagent reconcile` against the
	// running agent: a clean day; then Turnkey loses an invoice's rows and
	// the platform's day summary counts one F0401 too many. The lost invoice
	// is filed again (once), the summary is an alarm.
	issued, err := apiCall(client, addr, "GET", "/v1/invoices/"+numbers[2], "")
	require.NoError(t, err)
	at, err := time.Parse(time.RFC3339Nano, issued.body["invoice"].(map[string]any)["issued_at"].(string))
	require.NoError(t, err)
	day := at.In(posagent.Taipei).Format(time.DateOnly)
	reconcile := func() (int, string) {
		var out, errOut strings.Builder
		code := run(context.Background(), []string{"reconcile", "--config", cfgPath, "--date", day}, stdio{in: strings.NewReader(""), out: &out, err: &errOut})
		return code, out.String() + errOut.String()
	}
	code, out := reconcile()
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "clean: the provider holds what posagent sent")
	require.Contains(t, out, "reconciled "+day+" with turnkey: 4 documents, 4 asked, 0 queued again")

	stand.MiscountSummary("F0401", 1)
	_, err = stand.WriteSummaryResult(at)
	require.NoError(t, err)
	gone, err := stand.Forget(context.Background(), "F0401"+numbers[2]+at.In(posagent.Taipei).Format("20060102"))
	require.NoError(t, err)
	require.Positive(t, gone)
	code, out = reconcile()
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "[mended]   "+day+" missing "+numbers[2]+": not at Turnkey: upload queued again")
	require.Contains(t, out, "summary_differs (F0401): the platform counts 4 F0401 for the day, posagent sent 3")
	require.Contains(t, out, "report     "+filepath.Join(dir, "reports", "reconcile-"+day+".csv"))
	deadline = time.Now().Add(60 * time.Second)
	for { // its rows were forgotten: 3 C, and 4 again once filed again and done
		st, err := apiCall(client, addr, "GET", "/v1/status", "")
		require.NoError(t, err)
		queue, _ := st.body["queue"].(map[string]any)
		if stand.Counts()["C"] == 4 && queue["pending"] == float64(0) && queue["in_flight"] == float64(0) {
			break
		}
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(logPath)
			t.Fatalf("the invoice filed again did not reach C: %v\n%s", stand.Counts(), tail(string(data), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Len(t, stand.Files("F0401_"+numbers[2]), 2, "filed again once")
	require.Zero(t, stand.Counts()["E"], "the platform refused the invoice filed again")
	code, out = reconcile()
	require.Equal(t, 1, code, out)
	require.NotContains(t, out, day+" missing")
	require.Contains(t, out, "summary_differs (F0401): the platform counts 4 F0401 for the day, posagent sent 3")
	st, err := apiCall(client, addr, "GET", "/v1/status", "")
	require.NoError(t, err)
	require.Contains(t, fmt.Sprint(st.body["alarms"]), "reconcile_summary_differs")
	c.stop(t)
	c = nil
	logs, err := os.ReadFile(logPath)
	require.NoError(t, err)
	require.NotContains(t, string(logs), stand.Password())
	require.True(t, strings.Contains(string(logs), "turnkey: accepted"), "the log tells of acceptances")
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/agent"
)

// fakeAgentAPI answers the operator commands like a running agent would and
// records what it was asked.
type fakeAgentAPI struct {
	mu    sync.Mutex
	token string
	got   []string // "METHOD path body"
}

func (f *fakeAgentAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.got = append(f.got, r.Method+" "+r.URL.RequestURI()+" "+string(body))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		w.WriteHeader(401)
		io.WriteString(w, `{"code":"unauthorized","message":"the bearer token is wrong"}`)
		return
	}
	switch r.Method + " " + r.URL.Path {
	case "GET /v1/status":
		io.WriteString(w, `{"time":"2025-09-14T13:03:00+08:00","terminal":{"machine_id":"POS01","seller_tax_id":"24634102","seller_name":"範例商店"},
			"level":"warning","alarms":[{"level":"warning","code":"upload_deadline","message":"invoice AB12345600 is not uploaded 25h0m0s after it was made"}],
			"provider":{"name":"ecpay","online":false,"paused":false,"last_error":"connection refused"},
			"queue":{"pending":3,"in_flight":0,"dead":1,"done":7,"oldest_unsent":{"number":"AB12345600","kind":"upload","issued_at":"2025-09-13T12:00:00+08:00","age":"25h0m0s","age_seconds":90000,"deadline":"2025-09-15T12:00:00+08:00"}},
			"numbers":[{"period":"11410","label":"114年09-10月","left":42},{"period":"11412","label":"114年11-12月","left":0}],
			"printer":{"configured":true,"known":true,"ready":false,"reason":"paper out","message":"印表機缺紙 / printer is out of paper","prints_pending":2}}`)
	case "POST /v1/sales":
		if strings.Contains(string(body), `"bad"`) {
			w.WriteHeader(422)
			io.WriteString(w, `{"code":"invalid","field":"buyer.tax_id","message":"\"12345678\" is not a valid 統一編號"}`)
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"number":"AB12345601","random_code":"1234","period":"11410","period_label":"114年09-10月","total":155,"replayed":false,
			"print":{"required":true,"printed":false,"reason":"paper out","message":"印表機缺紙 / printer is out of paper","will_retry":true}}`)
	case "POST /v1/invoices/AB12345601/void":
		w.WriteHeader(202)
		io.WriteString(w, `{"number":"AB12345601","reason":"打錯"}`)
	case "POST /v1/invoices/AB12345601/reprint":
		io.WriteString(w, `{"required":true,"printed":true,"reprint":true}`)
	case "POST /v1/invoices/AB12345601/allowances":
		w.WriteHeader(201)
		io.WriteString(w, `{"number":"AB12345601-01","invoice_number":"AB12345601","total":65,"tax_amount":3}`)
	case "POST /v1/invoices/AB12345601/allowances/AB12345601-01/void":
		w.WriteHeader(202)
		io.WriteString(w, `{"number":"AB12345601-01","invoice_number":"AB12345601","total":65,"provider_number":"2026112100000001","state":"voiding","upload":{"state":"done"},"void":{"reason":"開錯","upload":{"state":"pending"}}}`)
	case "POST /v1/invoices/AB12345601/allowances/nope/void":
		w.WriteHeader(404)
		io.WriteString(w, `{"code":"not_found","field":"allowance","message":"invoice AB12345601 has no allowance \"nope\""}`)
	case "GET /v1/jobs":
		io.WriteString(w, `{"state":"dead","jobs":[{"id":9,"kind":"upload","invoice_number":"AB12345600","state":"dead","attempts":1,"last_error":"ItemName too long"}]}`)
	case "POST /v1/jobs/9/resolve":
		io.WriteString(w, `{"id":9,"state":"done"}`)
	case "POST /v1/jobs/9/revive":
		io.WriteString(w, `{"id":9,"state":"pending"}`)
	case "GET /v1/booklets":
		io.WriteString(w, `{"booklets":[{"track":"AB","first":12345600,"last":12345699,"period":"11410","source":"ecpay","left":42,"unused":42,"retired":false}]}`)
	case "POST /v1/booklets":
		w.WriteHeader(201)
		io.WriteString(w, `{"track":"CD","first":0,"last":49,"period":"11410","source":"manual"}`)
	case "POST /v1/reconcile":
		if strings.Contains(string(body), `"2026-12-02"`) {
			io.WriteString(w, `{"run":{"id":1,"date":"2026-12-02","trigger":"demand","provider":"ecpay","documents":12,"asked":12,"mended":0,"findings":0,"clean":true},"findings":[],"report":"/var/lib/posagent/reports/reconcile-2026-12-02.csv"}`)
			return
		}
		io.WriteString(w, `{"run":{"id":2,"date":"2026-12-03","trigger":"demand","provider":"ecpay","documents":9,"asked":9,"mended":1,"findings":2,"clean":false},
			"findings":[{"date":"2026-12-03","kind":"missing","level":"info","invoice":"AB12345601","document":"invoice","difference":"not at ECPay: upload queued again","fix":"none","mended":true},
			{"date":"2026-12-03","kind":"rejected","level":"critical","invoice":"AB12345602","document":"invoice","difference":"the platform rejected the invoice","fix":"read the platform's reason","mended":false}],
			"report":"/var/lib/posagent/reports/reconcile-2026-12-03.csv"}`)
	case "GET /v1/reconcile":
		io.WriteString(w, `{"runs":[],"open_findings":[{"date":"2026-12-03","kind":"skipped_number","level":"critical","invoice":"AB12345604","document":"numbers AB12345603","difference":"AB12345603 never issued","fix":"find out why"}]}`)
	case "POST /v1/config/reload":
		io.WriteString(w, `{"changed":["provider"],"resumed":true,"provider":"ecpay"}`)
	case "POST /v1/provider/resume":
		io.WriteString(w, `{"provider":"ecpay","was_paused":true}`)
	case "POST /v1/demo/provider/down":
		io.WriteString(w, `{"provider_down":true}`)
	default:
		w.WriteHeader(404)
		io.WriteString(w, `{"code":"not_found","message":"no such endpoint"}`)
	}
}

func runOperator(t *testing.T, stdin string, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, stdio{in: strings.NewReader(stdin), out: &o, err: &e})
	return code, o.String(), e.String()
}

func startFakeAgent(t *testing.T) (*fakeAgentAPI, string) {
	t.Helper()
	f := &fakeAgentAPI{token: "cli-token-0123456789"}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	t.Setenv("POSAGENT_ADDR", strings.TrimPrefix(srv.URL, "http://"))
	t.Setenv("POSAGENT_TOKEN", f.token)
	t.Setenv("POSAGENT_CONFIG", "")
	return f, srv.URL
}

func TestOperatorCommandsReadable(t *testing.T) {
	f, _ := startFakeAgent(t)
	dir := t.TempDir()
	sale := filepath.Join(dir, "sale.json")
	require.NoError(t, os.WriteFile(sale, []byte(`{"sale_id":"x","items":[]}`), 0o600))
	allowance := filepath.Join(dir, "al.json")
	require.NoError(t, os.WriteFile(allowance, []byte(`{"items":[]}`), 0o600))

	cases := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"status"}, 0, []string{"WARNING", "[warning] invoice AB12345600 is not uploaded", "ecpay: offline",
			"3 waiting, 0 sending, 1 dead, 7 done", "114年09-10月 (11410): 42 left", "印表機缺紙 / printer is out of paper; 2 proofs waiting",
			"upload deadline 2025-09-15 12:00"}},
		{[]string{"sell", sale}, 0, []string{"invoice AB-12345601  random code 1234  114年09-10月  NT$155",
			"proof: NOT printed — 印表機缺紙 / printer is out of paper; it prints by itself when the printer is back"}},
		{[]string{"void", "AB-12345601", "--reason", "打錯"}, 0, []string{"invoice AB-12345601 voided (打錯)"}},
		{[]string{"reprint", "AB12345601"}, 0, []string{"proof: printed (補印)"}},
		{[]string{"allow", "AB12345601", allowance}, 0, []string{"allowance AB12345601-01 on invoice AB-12345601: NT$65 (tax 3)"}},
		{[]string{"allow", "void", "AB-12345601", "AB12345601-01", "--reason", "開錯"}, 0, []string{"allowance AB12345601-01 on invoice AB-12345601 voided (開錯)"}},
		{[]string{"reconcile", "--date", "2026-12-02"}, 0, []string{"reconciled 2026-12-02 with ecpay: 12 documents, 12 asked, 0 queued again",
			"clean: the provider holds what posagent sent", "report     /var/lib/posagent/reports/reconcile-2026-12-02.csv"}},
		{[]string{"reconcile"}, 1, []string{"[mended]   2026-12-03 missing AB12345601: not at ECPay: upload queued again",
			"[critical] 2026-12-03 rejected AB12345602: the platform rejected the invoice", "fix: read the platform's reason"}},
		{[]string{"reconcile", "open"}, 1, []string{"[critical] 2026-12-03 skipped_number AB12345604 (numbers AB12345603): AB12345603 never issued"}},
		{[]string{"jobs", "--dead"}, 0, []string{"9  upload", "AB12345600", "ItemName too long"}},
		{[]string{"jobs", "revive", "9"}, 0, []string{"job 9 revived"}},
		{[]string{"jobs", "resolve", "9", "--note", "voided in the ECPay back office"}, 0, []string{"job 9 resolved by hand"}},
		{[]string{"booklets"}, 0, []string{"11410  AB12345600-AB12345699  ecpay    42 left"}},
		{[]string{"booklets", "add", "CD00000000-CD00000049", "--period", "11410"}, 0, []string{"booklet CD00000000-CD00000049 added for period 11410"}},
		{[]string{"demo", "provider", "down"}, 0, []string{"stand-in is down"}},
		{[]string{"reload"}, 0, []string{"configuration reloaded (changed: provider); provider ecpay resumed"}},
		{[]string{"resume"}, 0, []string{"provider ecpay resumed: the queue drains now"}},
	}
	for _, tc := range cases {
		code, out, errOut := runOperator(t, "", tc.args...)
		require.Equal(t, tc.code, code, "%v: %s %s", tc.args, out, errOut)
		for _, w := range tc.want {
			require.Contains(t, out, w, "%v", tc.args)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	require.Contains(t, f.got, `POST /v1/invoices/AB12345601/void {"reason":"打錯"}`)
	require.Contains(t, f.got, `GET /v1/jobs?state=dead `)
	require.Contains(t, f.got, `POST /v1/invoices/AB12345601/allowances/AB12345601-01/void {"reason":"開錯"}`)
	require.Contains(t, f.got, `POST /v1/jobs/9/resolve {"note":"voided in the ECPay back office"}`)
	require.Contains(t, f.got, `POST /v1/booklets {"period":"11410","range":"CD00000000-CD00000049","source":""}`)
}

func TestOperatorCommandsJSONAndStdin(t *testing.T) {
	startFakeAgent(t)
	code, out, _ := runOperator(t, `{"sale_id":"x","items":[]}`, "sell", "-", "--json")
	require.Equal(t, 0, code)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &v))
	require.Equal(t, "AB12345601", v["number"])
}

func TestOperatorCommandErrors(t *testing.T) {
	startFakeAgent(t)
	code, _, errOut := runOperator(t, `{"sale_id":"bad"}`, "sell", "-")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, `buyer.tax_id: "12345678" is not a valid 統一編號 (422 invalid)`)

	code, _, errOut = runOperator(t, "", "void", "AB12345601")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--reason is required")

	code, _, errOut = runOperator(t, "", "void", "nonsense", "--reason", "x")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "not an invoice number")

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"allow", "void", "AB12345601", "AB12345601-01"}, 2, "--reason is required"},
		{[]string{"jobs", "resolve", "9"}, 2, "--note is required"},
		{[]string{"jobs", "forget", "9"}, 2, "`revive ID` or `resolve ID --note N`"},
		{[]string{"allow", "void", "AB12345601", "--reason", "x"}, 2, "allow void needs an invoice number and the allowance's number"},
		{[]string{"allow", "void", "nonsense", "AB12345601-01", "--reason", "x"}, 2, "not an invoice number"},
		{[]string{"allow", "AB12345601", "-", "--reason", "x"}, 2, "--reason belongs to `allow void"},
		{[]string{"allow", "void", "AB12345601", "nope", "--reason", "x"}, 1, `allowance: invoice AB12345601 has no allowance "nope" (404 not_found)`},
	} {
		code, _, errOut := runOperator(t, "", tc.args...)
		require.Equal(t, tc.code, code, "%v: %s", tc.args, errOut)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
	}

	code, _, errOut = runOperator(t, "", "status", "--token", "wrong-token-0000000")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "the bearer token is wrong (401 unauthorized)")
	require.NotContains(t, errOut, "wrong-token")

	t.Setenv("POSAGENT_ADDR", "127.0.0.1:1")
	code, _, errOut = runOperator(t, "", "status")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "is `posagent run` running?")
}

func TestOperatorCommandsReadTheConfigFile(t *testing.T) {
	f, url := startFakeAgent(t)
	t.Setenv("POSAGENT_ADDR", "")
	t.Setenv("POSAGENT_TOKEN", "")
	path := filepath.Join(t.TempDir(), "agent.toml")
	require.NoError(t, os.WriteFile(path, []byte("[api]\naddress = \""+strings.TrimPrefix(url, "http://")+"\"\ntoken = \"${T_CLI_TOKEN}\"\n[terminal]\nseller_tax_id = \"x\"\n"), 0o600))
	t.Setenv("T_CLI_TOKEN", f.token)
	code, out, errOut := runOperator(t, "", "status", "--config", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "posagent on POS01")
}

func TestInitWritesAConfigOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posagent.toml")
	code, out, errOut := runOperator(t, "", "init", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "wrote "+path)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	code, _, errOut = runOperator(t, "", "init", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "already exists")
}

// posagent receipt and qr encode take what the flags leave out from the
// agent's config file, so they print what the agent prints.
func TestToolsTakeDefaultsFromTheConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "agent.toml")
	require.NoError(t, os.WriteFile(path, []byte("[qr]\nkey = \"F1A618ED8685B1A3B81E6CB6884617F4\"\n[printer]\nprofile = \"80mm\"\nfooter = [\"config footer line\"]\n"), 0o600))
	t.Setenv("POSAGENT_CONFIG", path)
	t.Setenv("POSAGENT_QR_KEY", "")
	inv := filepath.Join("..", "..", "testdata", "invoices", "consumer.json")

	code, fromConfig, errOut := runOperator(t, "", "qr", "encode", inv)
	require.Equal(t, 0, code, errOut)
	code, explicit, errOut := runOperator(t, "", "qr", "encode", "--key", "F1A618ED8685B1A3B81E6CB6884617F4", "--max-version", "10", inv)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, explicit, fromConfig)

	code, receipt, errOut := runOperator(t, "", "receipt", inv)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, receipt, "config footer line")
	code, other, errOut := runOperator(t, "", "receipt", "--profile", "58mm", "--footer", "flag footer", inv)
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, other, "config footer line", "a flag given must win over the config")
	require.NotEqual(t, receipt, other)
}

// posagent printer status finds the printer in the agent's config file.
func TestPrinterCommandTakesTheDeviceFromTheConfig(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "jobs.bin")
	path := filepath.Join(dir, "agent.toml")
	require.NoError(t, os.WriteFile(path, []byte("[printer]\ndevice = \"file:"+out+"\"\n"), 0o600))
	t.Setenv("POSAGENT_CONFIG", path)
	t.Setenv("POSAGENT_PRINTER", "")
	job := filepath.Join(dir, "job.bin")
	require.NoError(t, os.WriteFile(job, []byte{0x1b, 0x40, 'h', 'i', '\n'}, 0o600))
	code, stdout, errOut := runOperator(t, "", "printer", "print", job)
	require.Equal(t, 0, code, "%s %s", stdout, errOut)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Contains(t, string(data), "hi")
}

func TestRunRefusesABadConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("POSAGENT_CONFIG", "")
	code, _, errOut := runOperator(t, "", "run")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "posagent init")

	path := filepath.Join(dir, "posagent.toml")
	require.NoError(t, os.WriteFile(path, []byte("[terminal]\nseller_tax_id = \"24634102\"\nseller_name = \"x\"\nmachine_id = \"POS01\"\n[printer]\nbaud = 9601\n"), 0o600))
	code, _, errOut = runOperator(t, "", "run", "--config", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "qr.key: is required")

	require.NoError(t, os.WriteFile(path, []byte("[api]\nadress = \"x\"\n"), 0o600))
	code, _, errOut = runOperator(t, "", "run", "--config", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "api.adress: unknown key")
}

// A paused provider reads as such in status: since when, why, and what to do.
func TestStatusShowsThePause(t *testing.T) {
	var b bytes.Buffer
	since := time.Date(2025, 9, 14, 5, 0, 0, 0, time.UTC)
	writeStatus(&b, agent.Status{Level: agent.LevelCritical, Provider: agent.HealthView{Name: "ecpay", Online: true, Paused: true,
		PauseKind: "auth", PausedSince: since, NextProbe: since.Add(5 * time.Minute),
		PauseReason: "ecpay OfflineIssue: TransCode 110: The parameter [Data] decrypt fail.",
		PauseAction: "fix the credentials in the config file and run `posagent reload` (or send SIGHUP)"}})
	out := b.String()
	for _, w := range []string{"PAUSED (credentials rejected since 2025-09-14 13:00:00; uploads queue up)", "TransCode 110",
		"posagent reload", "tries again by itself at 13:05:00"} {
		require.Contains(t, out, w)
	}
}

// `posagent run` on the file `posagent init` wrote, with only the secrets
// filled in, refuses to start as the example shop, names every field to edit,
// and creates no store.
func TestRunRefusesTheUneditedExample(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "posagent.toml")
	code, _, errOut := runOperator(t, "", "init", path)
	require.Equal(t, 0, code, errOut)
	t.Setenv("POSAGENT_QR_KEY", "F1A618ED8685B1A3B81E6CB6884617F4")
	t.Setenv("ECPAY_HASH_KEY", "ejCk326UnaZWKisg")
	t.Setenv("ECPAY_HASH_IV", "q9jcZX8Ib9LM8wYk")
	// The store path points into the test's directory, to see nothing is made.
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	store := filepath.Join(dir, "state", "posagent.db")
	data = []byte(strings.Replace(string(data), "/var/lib/posagent/posagent.db", store, 1))
	require.NoError(t, os.WriteFile(path, data, 0o600))

	code, _, errOut = runOperator(t, "", "run", "--config", path)
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "example")
	require.Contains(t, errOut, "terminal.seller_name")
	require.Contains(t, errOut, "terminal.seller_tax_id")
	require.NotContains(t, errOut, "ejCk326UnaZWKisg")
	_, err = os.Stat(filepath.Dir(store))
	require.ErrorIs(t, err, os.ErrNotExist, "a refused start made the store's directory")
}

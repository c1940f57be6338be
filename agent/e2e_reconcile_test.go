package agent_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
)

// The daily reconciliation against the ECPay stand-in, end to end through
// the API: a clean day is clean and writes nothing at ECPay; each kind of
// difference ECPay can show is found and mended or alarmed.

// writeEndpoints are ECPay's calls that change what it holds.
var writeEndpoints = map[string]bool{"OfflineIssue": true, "Issue": true, "Invalid": true, "OfflineInvalid": true,
	"Allowance": true, "AllowanceInvalid": true}

func (e *e2e) ecpayWrites() int {
	n := 0
	for _, r := range e.stand.Requests() {
		if writeEndpoints[r.Endpoint] {
			n++
		}
	}
	return n
}

func (e *e2e) ecpayCalls(endpoint string) int {
	n := 0
	for _, r := range e.stand.Requests() {
		if r.Endpoint == endpoint {
			n++
		}
	}
	return n
}

// reconcile runs POST /v1/reconcile for a day and returns the answer.
func (e *e2e) reconcile(day string) (run map[string]any, findings []map[string]any) {
	e.t.Helper()
	code, body := e.call("POST", "/v1/reconcile", fmt.Sprintf(`{"date":%q}`, day))
	require.Equal(e.t, http.StatusOK, code, "%v", body)
	run = body["run"].(map[string]any)
	fs, _ := body["findings"].([]any)
	for _, f := range fs {
		findings = append(findings, f.(map[string]any))
	}
	return run, findings
}

// byKind indexes findings by kind and invoice: "missing AB12345678".
func byKind(fs []map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, f := range fs {
		inv, _ := f["invoice"].(string)
		out[f["kind"].(string)+" "+inv] = f
	}
	return out
}

func saleDay(t *testing.T, sale map[string]any) string {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, sale["issued_at"].(string))
	require.NoError(t, err)
	return at.In(posagent.Taipei).Format(time.DateOnly)
}

func TestReconcileECPayCleanDayWritesNothing(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	first := e.sell("rc-clean-1", 120)
	n2 := e.sell("rc-clean-2", 80)["number"].(string)
	n3 := e.sell("rc-clean-3", 200)["number"].(string)
	e.waitUploaded(10 * time.Second)
	code, v := e.call("POST", "/v1/invoices/"+n2+"/void", `{"reason":"客訴"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	code, al := e.call("POST", "/v1/invoices/"+n3+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":50}],"reason":"少糖"}`)
	require.Equal(t, http.StatusCreated, code, "%v", al)
	e.waitUploaded(10 * time.Second)

	writes, gets := e.ecpayWrites(), e.ecpayCalls("GetIssue")
	day := saleDay(t, first)
	run, findings := e.reconcile(day)
	require.Equal(t, true, run["clean"], "%v %v", run, findings)
	require.Empty(t, findings)
	require.EqualValues(t, 5, run["documents"], "3 invoices, a void and an allowance")
	require.EqualValues(t, 5, run["asked"])
	require.Equal(t, writes, e.ecpayWrites(), "a clean day made provider writes")
	require.Equal(t, gets+3, e.ecpayCalls("GetIssue"), "one GetIssue per invoice, shared by its void and allowance")

	// The report is on disk and over the API: a clean day is the header alone.
	data, err := os.ReadFile(e.dir + "/reports/reconcile-" + day + ".csv")
	require.NoError(t, err)
	rows := readReport(t, data)
	require.Len(t, rows, 1)
	require.Equal(t, []string{"date", "kind", "level", "invoice", "document", "difference", "fix", "status", "first_seen", "last_seen"}, rows[0])
	code, body := e.call("GET", "/v1/reconcile/"+day+"/report.csv", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, string(data), body["text"])

	for _, c := range e.alarmCodes() {
		require.False(t, strings.HasPrefix(c, "reconcile_"), "a clean day raised %s", c)
	}
	require.Contains(t, e.metricsText(), `posagent_reconcile_runs_total{result="clean"} 1`)
}

func readReport(t *testing.T, data []byte) [][]string {
	t.Helper()
	require.True(t, bytes.HasPrefix(data, []byte("\uFEFF")), "no byte order mark for Excel")
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF")))).ReadAll()
	require.NoError(t, err)
	return rows
}

func TestReconcileECPayDifferences(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})

	// An invoice ECPay answers OK for and then does not keep.
	e.stand.DropUploads(1)
	dropped := e.sell("rc-diff-dropped", 100)
	e.waitUploaded(10 * time.Second)
	require.Equal(t, 0, e.stand.Count(dropped["number"].(string)))
	// A void ECPay answers OK for and does not apply.
	voided := e.sell("rc-diff-void", 110)["number"].(string)
	e.waitUploaded(10 * time.Second)
	e.stand.LoseVoids(1)
	code, v := e.call("POST", "/v1/invoices/"+voided+"/void", `{"reason":"客訴"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	// An allowance ECPay answers with a number and does not keep.
	allowed := e.sell("rc-diff-allow", 300)["number"].(string)
	e.waitUploaded(10 * time.Second)
	e.stand.DropAllowances(1)
	code, al := e.call("POST", "/v1/invoices/"+allowed+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":50}]}`)
	require.Equal(t, http.StatusCreated, code, "%v", al)
	// The platform's verdicts: E (rejected) and P (in progress).
	rejected := e.sell("rc-diff-rejected", 120)["number"].(string)
	pending := e.sell("rc-diff-pending", 130)["number"].(string)
	e.waitUploaded(10 * time.Second)
	require.True(t, e.stand.SetTurnkeyStatus(rejected, "E"))
	require.True(t, e.stand.SetTurnkeyStatus(pending, "P"))

	day := saleDay(t, dropped)
	writes := e.ecpayWrites()
	run, findings := e.reconcile(day)
	require.Equal(t, false, run["clean"])
	require.EqualValues(t, 3, run["mended"], "%v", findings)
	f := byKind(findings)
	require.Len(t, findings, 5, "%v", findings)
	for key, mended := range map[string]bool{
		"missing " + dropped["number"].(string): true, "void_missing " + voided: true, "allowance_missing " + allowed: true,
		"rejected " + rejected: false, "not_accepted " + pending: false,
	} {
		require.Contains(t, f, key, "%v", findings)
		require.Equal(t, mended, f[key]["mended"], key)
	}
	require.Equal(t, "critical", f["rejected "+rejected]["level"])
	require.Contains(t, f["rejected "+rejected]["difference"], "IIS_Turnkey_Status=E")

	// The mends go out through the queue, once each.
	e.waitUploaded(10 * time.Second)
	require.Equal(t, 1, e.stand.Count(dropped["number"].(string)))
	held, ok := e.stand.Invoice(voided)
	require.True(t, ok)
	require.True(t, held.Voided, "the void was not resent")
	require.Len(t, e.stand.Allowances(), 1, "the allowance was not resent")
	require.Equal(t, writes+3, e.ecpayWrites(), "each mend is one write, nothing more")
	code, inv := e.call("GET", "/v1/invoices/"+dropped["number"].(string), "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, fmt.Sprint(inv["events"]), "reconcile "+day+": not at ECPay, upload queued again")
	require.Equal(t, "done", inv["upload"].(map[string]any)["state"], "the record shows the latest upload job: %v", inv["upload"])

	// What needs a person is an alarm in status, a metric and a report line.
	codes := e.alarmCodes()
	require.Contains(t, codes, "reconcile_rejected")
	metrics := e.metricsText()
	require.Contains(t, metrics, `posagent_reconcile_findings{kind="rejected"} 1`)
	require.Contains(t, metrics, `posagent_reconcile_findings{kind="not_accepted"} 1`)
	require.Contains(t, metrics, `posagent_reconcile_mended_total 3`)
	data, err := os.ReadFile(e.dir + "/reports/reconcile-" + day + ".csv")
	require.NoError(t, err)
	rows := readReport(t, data)
	require.Len(t, rows, 6)
	var rejectedRow []string
	for _, r := range rows[1:] {
		if r[1] == "rejected" {
			rejectedRow = r
		}
	}
	require.Equal(t, []string{day, "rejected", "critical", rejected, "invoice"}, rejectedRow[:5])
	require.Contains(t, rejectedRow[6], "back office")
	require.Equal(t, "open", rejectedRow[7])

	// The next run sees the mends landed: they clear; the verdicts stay
	// until the platform changes its mind.
	e.stand.SetTurnkeyStatus(pending, "C")
	writes = e.ecpayWrites()
	run, findings = e.reconcile(day)
	require.Len(t, findings, 1, "%v", findings)
	require.Equal(t, "rejected", findings[0]["kind"])
	require.EqualValues(t, 0, run["mended"])
	require.Equal(t, writes, e.ecpayWrites(), "reconciliation uploaded twice what ECPay holds")
	code, list := e.call("GET", "/v1/reconcile", "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, list["open_findings"], 1, "%v", list["open_findings"])
	require.Len(t, list["runs"], 2)
}

// ECPay's answer without IIS_Turnkey_Status says nothing of the platform:
// no finding, and no acceptance alarm.
func TestReconcileECPayWithoutTurnkeyStatus(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	e.stand.SetDefaultTurnkeyStatus("")
	sale := e.sell("rc-unknown-1", 100)
	e.waitUploaded(10 * time.Second)
	run, findings := e.reconcile(saleDay(t, sale))
	require.Equal(t, true, run["clean"], "%v", findings)
}

// The API's refusals: a malformed or future day, a day never reconciled.
func TestReconcileAPIRefusals(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	for _, c := range []struct {
		method, path, body string
		status             int
		field              string
	}{
		{"POST", "/v1/reconcile", `{"date":"2026-13-01"}`, http.StatusUnprocessableEntity, "date"},
		{"POST", "/v1/reconcile?date=tomorrow", "", http.StatusUnprocessableEntity, "date"},
		{"POST", "/v1/reconcile", `{"date":"` + time.Now().AddDate(0, 0, 3).Format(time.DateOnly) + `"}`, http.StatusUnprocessableEntity, "date"},
		{"POST", "/v1/reconcile", `{"day":"2026-12-01"}`, http.StatusBadRequest, "day"},
		{"GET", "/v1/reconcile/2020-01-01", "", http.StatusNotFound, "date"},
		{"GET", "/v1/reconcile/2020-01-01/report.csv", "", http.StatusNotFound, "date"},
		{"GET", "/v1/reconcile?limit=0", "", http.StatusBadRequest, "limit"},
	} {
		code, body := e.call(c.method, c.path, c.body)
		require.Equal(t, c.status, code, "%s %s: %v", c.method, c.path, body)
		require.Equal(t, c.field, body["field"], "%s %s: %v", c.method, c.path, body)
	}
	// No body and no date: yesterday.
	code, body := e.call("POST", "/v1/reconcile", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, time.Now().In(posagent.Taipei).AddDate(0, 0, -1).Format(time.DateOnly), body["run"].(map[string]any)["date"])
}

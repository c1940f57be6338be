package agent_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/bridge"
)

// The daily reconciliation end to end with Amego and the bridge: the real
// clients against their stand-ins, through the API. (Turnkey, with its day
// summary, is end to end in cmd/posagent's TestRunWithTurnkey.)

// reconcileFindings runs POST /v1/reconcile for day and indexes the
// findings by kind and invoice.
func (e *e2e) reconcileFindings(day string) (map[string]any, map[string]map[string]any) {
	e.t.Helper()
	run, fs := e.reconcile(day)
	return run, byKind(fs)
}

func TestReconcileAmego(t *testing.T) {
	t.Parallel()
	e := startAmegoE2E(t, demoKey(t), 1)
	e.lease(1)
	sales := make([]map[string]any, 4)
	for i := range sales {
		sales[i] = e.sell(fmt.Sprintf("rc-amego-%d", i), 100+i)
	}
	n := func(i int) string { return sales[i]["number"].(string) }
	e.waitUploaded(10 * time.Second)
	code, v := e.call("POST", "/v1/invoices/"+n(1)+"/void", `{"reason":"客訴"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	e.waitUploaded(10 * time.Second)
	day := saleDay(t, sales[0])

	uploads := e.stand.Count("f0401")
	run, _ := e.reconcileFindings(day)
	require.Equal(t, true, run["clean"], "%v", run)
	require.Equal(t, uploads, e.stand.Count("f0401"), "a clean day uploaded again")

	// Amego lost an upload and a void after answering OK; the platform
	// refused one invoice (91 錯誤) and has not judged another (3 已上傳).
	require.True(t, e.stand.DropInvoice(n(0)))
	require.True(t, e.stand.LoseVoid(n(1)))
	require.True(t, e.stand.SetStatus(n(2), 91))
	require.True(t, e.stand.SetStatus(n(3), 3))
	run, f := e.reconcileFindings(day)
	require.EqualValues(t, 2, run["mended"], "%v", f)
	require.Equal(t, true, f["missing "+n(0)]["mended"], "%v", f)
	require.Equal(t, true, f["void_missing "+n(1)]["mended"], "%v", f)
	require.Equal(t, "critical", f["rejected "+n(2)]["level"], "%v", f)
	require.Contains(t, f, "not_accepted "+n(3))
	e.waitUploaded(10 * time.Second)
	held, ok := e.stand.Invoice(n(0))
	require.True(t, ok, "the upload was not sent again")
	require.Equal(t, n(0), held.Number)
	held, _ = e.stand.Invoice(n(1))
	require.True(t, held.Voided, "the void was not sent again")

	e.stand.SetStatus(n(3), 99)
	uploads = e.stand.Count("f0401")
	_, f = e.reconcileFindings(day)
	require.Len(t, f, 1, "%v", f)
	require.Contains(t, f, "rejected "+n(2))
	require.Equal(t, uploads, e.stand.Count("f0401"), "reconciliation uploaded twice what Amego holds")
}

func TestReconcileBridge(t *testing.T) {
	t.Parallel()
	e := startBridgeE2E(t, bridgeOptions{transport: bridge.TransportHTTP})
	e.lease(1)
	sales := make([]map[string]any, 3)
	for i := range sales {
		sales[i] = e.sell(fmt.Sprintf("rc-bridge-%d", i), 100+i)
	}
	n := func(i int) string { return sales[i]["number"].(string) }
	e.waitUploaded(10 * time.Second)
	day := saleDay(t, sales[0])
	key := func(kind bridge.Kind, number string) string {
		for _, d := range e.srv.Documents() {
			if d.Kind == kind && d.Doc.Invoice != nil && string(d.Doc.Invoice.Number) == number {
				return d.Key
			}
		}
		t.Fatalf("the receiver holds no %s of %s", kind, number)
		return ""
	}

	run, _ := e.reconcileFindings(day)
	require.Equal(t, true, run["clean"], "%v", run)

	require.True(t, e.srv.Forget(key(bridge.KindInvoice, n(0))))
	require.True(t, e.srv.SetAcceptance(key(bridge.KindInvoice, n(1)), posagent.AcceptRejected, "E0103 發票明細加總與總金額不符"))
	invoices := e.srv.Count(key(bridge.KindInvoice, n(2)))
	run, f := e.reconcileFindings(day)
	require.EqualValues(t, 1, run["mended"], "%v", f)
	require.Equal(t, true, f["missing "+n(0)]["mended"], "%v", f)
	require.Contains(t, f["rejected "+n(1)]["difference"], "E0103")
	require.Len(t, f, 2, "%v", f)
	e.waitUploaded(10 * time.Second)
	_ = key(bridge.KindInvoice, n(0)) // held again
	require.Equal(t, invoices, e.srv.Count(key(bridge.KindInvoice, n(2))), "a held invoice was sent again")
}

// A receiver without the optional status call: the run says the bridge
// cannot be asked and does the local checks; no failure, no alarm.
func TestReconcileBridgeWithoutStatus(t *testing.T) {
	t.Parallel()
	e := startBridgeE2E(t, bridgeOptions{transport: bridge.TransportHTTP, noStatus: true})
	e.lease(1)
	sale := e.sell("rc-nostatus-0", 100)
	e.waitUploaded(10 * time.Second)
	run, f := e.reconcileFindings(saleDay(t, sale))
	require.Empty(t, f)
	require.Empty(t, run["error"])
	require.Contains(t, run["summary"], "cannot be asked what it holds")
	for _, c := range e.alarmCodes() {
		require.NotEqual(t, "reconcile_failed", c)
	}
}

// Two sellers on one till: the run asks each seller's provider about that
// seller's documents alone, and a document one provider lost is queued again
// to that provider.
func TestReconcileTwoSellers(t *testing.T) {
	t.Parallel()
	e := startSellersE2E(t)
	cafe := e.sellFor("rc-cafe-1", "")
	e.sellFor("rc-cafe-2", cafeTaxID)
	e.stands[bakeryTaxID].DropUploads(1)
	bread := e.sellFor("rc-bakery-1", bakeryTaxID)["number"].(string)
	e.waitUploaded(10 * time.Second)
	asked := func(tax string) int {
		n := 0
		for _, r := range e.stands[tax].Requests() {
			if r.Endpoint == "GetIssue" {
				n++
			}
		}
		return n
	}
	cafeBefore, bakeryBefore := asked(cafeTaxID), asked(bakeryTaxID)
	run, f := e.reconcileFindings(saleDay(t, cafe))
	require.Len(t, f, 1, "%v", f)
	require.Equal(t, true, f["missing "+bread]["mended"], "%v", f)
	require.Equal(t, "ecpay,ecpay", run["provider"])
	require.Equal(t, cafeBefore+2, asked(cafeTaxID), "the café's ECPay was asked about other documents")
	require.Equal(t, bakeryBefore+1, asked(bakeryTaxID))
	e.waitUploaded(10 * time.Second)
	require.Equal(t, 1, e.stands[bakeryTaxID].Count(bread))
	require.Equal(t, 0, e.stands[cafeTaxID].Count(bread), "the bakery's invoice went to the café's ECPay")
}

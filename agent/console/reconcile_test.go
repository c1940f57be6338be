package console_test

import (
	"context"
	"encoding/csv"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
)

// The Reconciliation page: a clean day, then a day with a lost upload (mended)
// and a rejection (alarmed), each with the invoice, the difference and the
// fix; the day's CSV; a bad date names its field.
func TestReconcilePage(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := r.sell("rec-1", 100)
	b := r.sell("rec-2", 120)
	waitFor(t, "both uploads", func() bool {
		_, okA := r.prov.Invoice(a.Number)
		_, okB := r.prov.Invoice(b.Number)
		return okA && okB
	})
	day := a.IssuedAt.In(posagent.Taipei).Format(time.DateOnly)
	r.signIn(r.client, testToken)

	page := r.get("/reconcile")
	wantStatus(t, page, http.StatusOK)
	mustContain(t, page, "對帳", "沒有待處理的差異", `id="reconcile-now"`)
	res := r.post("/reconcile", url.Values{"date": {day}})
	wantStatus(t, res, http.StatusSeeOther)
	page = r.get("/reconcile")
	mustContain(t, page, day+" 對帳完成：無差異", "無差異", "/reconcile/"+day+".csv")

	// The provider lost one upload; the platform rejected the other.
	if !r.prov.Forget(a.Number) {
		t.Fatal("the fake did not hold the invoice")
	}
	r.prov.SetAcceptance(b.Number, posagent.AcceptRejected)
	res = r.post("/reconcile", url.Values{"date": {day}})
	wantStatus(t, res, http.StatusSeeOther)
	page = r.get("/reconcile")
	mustContain(t, page, day+" 對帳完成：2 項差異，1 筆已自動補傳", "加值中心沒有這張發票", "已自動補傳",
		"平台退件 (E)", string(a.Number), string(b.Number), html.EscapeString("read the platform's reason"), "2 項差異")
	waitFor(t, "the upload queued again", func() bool { _, ok := r.prov.Invoice(a.Number); return ok })
	mustContain(t, r.get("/invoices/"+string(a.Number)), "reconcile "+day+": not at fake, upload queued again")

	c := r.get("/reconcile/" + day + ".csv")
	wantStatus(t, c, http.StatusOK)
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(c.body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[1][1] != "missing" && rows[2][1] != "missing" {
		t.Fatalf("CSV rows %q", rows)
	}
	// The rejection is an alarm in status (and so on the overview).
	st, err := r.agent.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, al := range st.Alarms {
		found = found || al.Code == "reconcile_rejected"
	}
	if !found {
		t.Fatalf("no alarm for the rejection: %+v", st.Alarms)
	}
	wantStatus(t, r.post("/reconcile", url.Values{"date": {"2026-02-30"}}), http.StatusUnprocessableEntity)
	wantStatus(t, r.get("/reconcile/2020-01-01.csv"), http.StatusNotFound)
	wantStatus(t, r.get("/reconcile/nonsense"), http.StatusNotFound)
}

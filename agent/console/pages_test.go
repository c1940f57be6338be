package console_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/providers/fake"
)

// Every page answers in Chinese, and in English after the switch.
func TestPages(t *testing.T) {
	r := newRig(t)
	inv := r.sell("page-1", 160)
	r.signIn(r.client, testToken)
	n := string(inv.Number)
	today := time.Now().In(posagent.Taipei).Format("2006-01-02")
	cases := []struct {
		path   string
		zh, en []string
	}{
		{"/", []string{"總覽", "剩餘發票號碼", "印表機", "電子發票加值中心", `http-equiv="refresh"`}, []string{"Overview", "Invoice numbers left", "Printer"}},
		{"/invoices", []string{"今天的發票", n[:2] + "-" + n[2:], "NT$160", "page-1"}, []string{"Today&#39;s invoices", "Invoice number or sale id"}},
		{"/invoices?date=" + today, []string{n[:2] + "-" + n[2:]}, []string{"Today&#39;s invoices"}},
		{"/invoices/" + n, []string{"發票", "拿鐵", "補印", "作廢", "開立折讓", "歷程", "/invoices/" + n + "/proof.png"}, []string{"Reprint (補印)", "Void", "History"}},
		{"/jobs", []string{"沒有失敗的工作"}, []string{"No failed jobs"}},
		{"/booklets", []string{"持有的號碼", "ZZ", "若現在結束"}, []string{"Ranges held", "if the period ended now"}},
		{"/summary", []string{"日報表", "NT$160", "下載 CSV"}, []string{"Daily summary", "Save as CSV"}},
	}
	for _, lang := range []string{"zh", "en"} {
		if lang == "en" {
			a := r.get("/lang/en?back=/jobs")
			if a.status != http.StatusSeeOther || a.header.Get("Location") != "/jobs" {
				t.Fatalf("language switch: %d %q", a.status, a.header.Get("Location"))
			}
		}
		for _, tc := range cases {
			a := r.get(tc.path)
			wantStatus(t, a, http.StatusOK)
			want := tc.zh
			if lang == "en" {
				want = tc.en
			}
			mustContain(t, a, want...)
			if a.header.Get("Cache-Control") != "no-store" || !strings.Contains(a.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Fatalf("%s: headers %v", tc.path, a.header)
			}
		}
	}
	// The switch comes back to the page it was clicked on.
	mustContain(t, r.get("/invoices?date="+today), `href="/lang/zh?back=%2finvoices%3fdate%3d`+today+`"`)
	a := r.get("/lang/en?back=" + url.QueryEscape("/invoices?date="+today))
	if a.header.Get("Location") != "/invoices?date="+today {
		t.Fatalf("the switch went to %q", a.header.Get("Location"))
	}
	r.get("/lang/zh?back=/")
	// Back to Chinese; a redirect never leaves the site.
	for _, back := range []string{"//evil.example/", "https://evil.example/", "/\\evil"} {
		a := r.get("/lang/zh?back=" + url.QueryEscape(back))
		if a.header.Get("Location") != "/" {
			t.Fatalf("back=%s went to %q", back, a.header.Get("Location"))
		}
	}
	wantStatus(t, r.get("/no-such-page"), http.StatusNotFound)
}

// The API keeps its own answers beside the console: JSON, bearer token.
func TestAPIUntouched(t *testing.T) {
	r := newRig(t)
	r.signIn(r.client, testToken)
	a := r.get("/v1/status") // a console session is not an API token
	wantStatus(t, a, http.StatusUnauthorized)
	mustContain(t, a, `"code":"unauthorized"`)
	a = r.do(r.client, http.MethodGet, "/v1/nope", nil, "Authorization", "Bearer "+testToken)
	wantStatus(t, a, http.StatusNotFound)
	mustContain(t, a, `"code":"not_found"`)
	wantStatus(t, r.do(r.client, http.MethodGet, "/v1/status", nil, "Authorization", "Bearer "+testToken), http.StatusOK)
	wantStatus(t, r.get("/healthz"), http.StatusOK)
}

// Search finds an invoice by number as people type it and by sale id;
// what is not there is said so; a bad date names the field.
func TestSearch(t *testing.T) {
	r := newRig(t)
	inv := r.sell("sale-find.me_1", 120)
	r.signIn(r.client, testToken)
	n := string(inv.Number)
	for _, q := range []string{n, strings.ToLower(n), n[:2] + "-" + n[2:], "sale-find.me_1"} {
		a := r.get("/invoices?q=" + url.QueryEscape(q))
		if a.status != http.StatusSeeOther || a.header.Get("Location") != "/invoices/"+n {
			t.Fatalf("q=%s: %d %q", q, a.status, a.header.Get("Location"))
		}
	}
	a := r.get("/invoices?q=nobody")
	wantStatus(t, a, http.StatusNotFound)
	mustContain(t, a, "找不到「nobody」的發票")
	a = r.get("/invoices?q=ZZ99999999")
	wantStatus(t, a, http.StatusNotFound)
	a = r.get("/invoices?date=2025-13-01")
	wantStatus(t, a, http.StatusUnprocessableEntity)
	mustContain(t, a, "date: ")
	a = r.get("/invoices?date=2020-01-01")
	wantStatus(t, a, http.StatusOK)
	mustContain(t, a, "這一天沒有發票")
	wantStatus(t, r.get("/invoices/NOTANUMBER"), http.StatusBadRequest)
	wantStatus(t, r.get("/invoices/ZZ99999999"), http.StatusNotFound)
}

// The proof picture is the emulator's drawing of the proof's bytes, as wide
// as the paper.
func TestProofPicture(t *testing.T) {
	r := newRig(t)
	inv := r.sell("proof-1", 90)
	r.signIn(r.client, testToken)
	a := r.get("/invoices/" + string(inv.Number) + "/proof.png")
	wantStatus(t, a, http.StatusOK)
	if a.header.Get("Content-Type") != "image/png" {
		t.Fatalf("content type %q", a.header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader([]byte(a.body)))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 384 || b.Dy() < 400 {
		t.Fatalf("proof is %v, want 384 dots wide and a receipt long", b)
	}
	wantStatus(t, r.get("/invoices/ZZ99999999/proof.png"), http.StatusNotFound)
}

// Reprint, void and allowance each ask to confirm first, then act through
// the agent: the reprint prints 補印, the void and allowance are queued.
func TestInvoiceActions(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	inv := r.sell("act-1", 300)
	n := string(inv.Number)
	r.signIn(r.client, testToken)
	waitFor(t, "the original print", func() bool { return r.printer.count() == 1 })

	// Reprint: a confirmation page, then 補印 on paper and on the page.
	a := r.post("/invoices/"+n+"/reprint", nil)
	wantStatus(t, a, http.StatusOK)
	mustContain(t, a, "補印發票", `name="confirm" value="yes"`)
	if r.printer.count() != 1 {
		t.Fatal("the reprint printed before it was confirmed")
	}
	a = r.post("/invoices/"+n+"/reprint", url.Values{"confirm": {"yes"}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/invoices/"+n {
		t.Fatalf("reprint: %d %q", a.status, a.header.Get("Location"))
	}
	if r.printer.count() != 2 {
		t.Fatalf("printed %d jobs, want the original and the reprint", r.printer.count())
	}
	page := r.get("/invoices/" + n)
	mustContain(t, page, "已補印發票", "（證明聯印有「補印」）", "再印即為補印")
	if strings.Contains(r.get("/invoices/"+n).body, "已補印發票") {
		t.Fatal("the flash message shows twice")
	}

	// Allowance: amount rules first, then confirm.
	for _, bad := range []url.Values{{"item": {"退"}, "amount": {"0"}}, {"item": {"退"}, "amount": {"1.5"}}, {"item": {""}, "amount": {"10"}}} {
		a = r.post("/invoices/"+n+"/allowance", bad)
		wantStatus(t, a, http.StatusUnprocessableEntity)
	}
	a = r.post("/invoices/"+n+"/allowance", url.Values{"item": {"退一杯"}, "amount": {"400"}, "confirm": {"yes"}})
	wantStatus(t, a, http.StatusUnprocessableEntity) // more than the invoice
	a = r.post("/invoices/"+n+"/allowance", url.Values{"item": {"退一杯"}, "amount": {"100"}, "reason": {"少一杯"}})
	wantStatus(t, a, http.StatusOK)
	mustContain(t, a, "開立折讓「退一杯」NT$100", `name="item" value="退一杯"`)
	a = r.post("/invoices/"+n+"/allowance", url.Values{"item": {"退一杯"}, "amount": {"100"}, "reason": {"少一杯"}, "confirm": {"yes"}})
	wantStatus(t, a, http.StatusSeeOther)
	rec, err := r.agent.Invoice(ctx, inv.Number)
	if err != nil || len(rec.Allowances) != 1 || rec.Remaining != 200 {
		t.Fatalf("after the allowance: %+v, %v", rec.Allowances, err)
	}
	al := rec.Allowances[0].Number
	page = r.get("/invoices/" + n)
	mustContain(t, page, "已開立折讓 "+al, "折讓後餘額", "NT$200")

	// The invoice cannot be voided while its allowance stands.
	a = r.post("/invoices/"+n+"/void", url.Values{"reason": {"打錯"}, "confirm": {"yes"}})
	wantStatus(t, a, http.StatusConflict)
	mustContain(t, a, "has allowances")
	a = r.post("/invoices/"+n+"/allowances/"+al+"/void", url.Values{"reason": {""}, "confirm": {"yes"}})
	wantStatus(t, a, http.StatusUnprocessableEntity)
	a = r.post("/invoices/"+n+"/allowances/"+al+"/void", url.Values{"reason": {"打錯"}, "confirm": {"yes"}})
	wantStatus(t, a, http.StatusSeeOther)

	// Void: a reason, then confirm.
	a = r.post("/invoices/"+n+"/void", url.Values{"reason": {"  "}})
	wantStatus(t, a, http.StatusUnprocessableEntity)
	mustContain(t, a, "reason: 必填")
	a = r.post("/invoices/"+n+"/void", url.Values{"reason": {"客人取消"}})
	wantStatus(t, a, http.StatusOK)
	mustContain(t, a, "作廢發票", "客人取消", "無法復原")
	if rec, _ := r.agent.Invoice(ctx, inv.Number); rec.Void != nil {
		t.Fatal("voided before confirming")
	}
	a = r.post("/invoices/"+n+"/void", url.Values{"reason": {"客人取消"}, "confirm": {"yes"}})
	wantStatus(t, a, http.StatusSeeOther)
	page = r.get("/invoices/" + n)
	mustContain(t, page, `id="voided-tag"`, "客人取消", "這張發票沒有可做的操作")
	rec, _ = r.agent.Invoice(ctx, inv.Number)
	if rec.Void == nil || rec.Void.Reason != "客人取消" {
		t.Fatalf("void %+v", rec.Void)
	}
	// Nothing more can be done to a voided invoice.
	wantStatus(t, r.post("/invoices/"+n+"/void", url.Values{"reason": {"again"}, "confirm": {"yes"}}), http.StatusConflict)
	wantStatus(t, r.post("/invoices/"+n+"/reprint", url.Values{"confirm": {"yes"}}), http.StatusConflict)
	wantStatus(t, r.post("/invoices/ZZ99999999/reprint", url.Values{"confirm": {"yes"}}), http.StatusNotFound)
}

// Dead jobs are listed with their reason in words; revive puts one back,
// resolve closes one with a note; both confirm first.
func TestJobs(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.prov.FailNext(fake.Upload, 2, posagent.KindInvalid)
	a1 := r.sell("job-1", 100)
	a2 := r.sell("job-2", 100)
	waitFor(t, "two dead jobs", func() bool { jobs, _ := r.agent.Jobs(ctx, agent.StateDead, 10); return len(jobs) == 2 })
	jobs, _ := r.agent.Jobs(ctx, agent.StateDead, 10)
	r.signIn(r.client, testToken)
	page := r.get("/jobs")
	mustContain(t, page, "失敗、需要人處理 (2)", "加值中心拒收這份資料", string(a1.Number), string(a2.Number), "重新送出", "已人工處理")

	id1, id2 := itoa(jobs[0].ID), itoa(jobs[1].ID)
	a := r.post("/jobs/"+id1+"/revive", nil)
	wantStatus(t, a, http.StatusOK)
	mustContain(t, a, "把工作 #"+id1+" 放回上傳佇列")
	a = r.post("/jobs/"+id1+"/revive", url.Values{"confirm": {"yes"}})
	wantStatus(t, a, http.StatusSeeOther)
	waitFor(t, "the revived upload", func() bool { _, ok := r.prov.Invoice(a1.Number); return ok })

	a = r.post("/jobs/"+id2+"/resolve", url.Values{"note": {""}, "confirm": {"yes"}})
	wantStatus(t, a, http.StatusUnprocessableEntity)
	mustContain(t, a, "note: 必填")
	a = r.post("/jobs/"+id2+"/resolve", url.Values{"note": {"已在平台上傳 — 小王"}, "confirm": {"yes"}})
	wantStatus(t, a, http.StatusSeeOther)
	page = r.get("/jobs")
	mustContain(t, page, "工作 #"+id2+" 已標示為人工處理", "沒有失敗的工作")
	mustContain(t, r.get("/invoices/"+string(a2.Number)), "人工處理", "已在平台上傳 — 小王")

	// A job that is not dead, or not there.
	wantStatus(t, r.post("/jobs/"+id2+"/revive", url.Values{"confirm": {"yes"}}), http.StatusConflict)
	wantStatus(t, r.post("/jobs/999999/revive", url.Values{"confirm": {"yes"}}), http.StatusNotFound)
	wantStatus(t, r.post("/jobs/abc/revive", url.Values{"confirm": {"yes"}}), http.StatusBadRequest)
}

// A range added from the page is held; a bad one names its field.
func TestBooklets(t *testing.T) {
	r := newRig(t)
	r.signIn(r.client, testToken)
	period := posagent.PeriodOf(time.Now()).Code()
	cases := []struct {
		name, rng, period string
		status            int
		shows             string
	}{
		{"not a range", "AB123", "", http.StatusUnprocessableEntity, "range: "},
		{"not whole booklets", "AB12345601-AB12345649", "", http.StatusUnprocessableEntity, "first: "},
		{"bad period", "AB12345600-AB12345649", "11413", http.StatusUnprocessableEntity, "period"},
		{"good", "AB12345600-AB12345649", "", http.StatusSeeOther, ""},
		{"same again", "AB12345600-AB12345649", period, http.StatusSeeOther, ""},
		{"overlapping", "AB12345600-AB12345699", period, http.StatusConflict, "AB12345600"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := r.post("/booklets", url.Values{"range": {tc.rng}, "period": {tc.period}})
			wantStatus(t, a, tc.status)
			mustContain(t, a, tc.shows)
			if tc.status == http.StatusSeeOther {
				mustContain(t, r.get(a.header.Get("Location")), "已加入號碼 AB12345600-AB12345649（期別 "+period+"）",
					"<td>AB12345600-AB12345649</td>", "<td>console</td>")
			}
		})
	}
}

// The day's summary counts and totals what was issued, voided and allowed,
// on the page and as CSV.
func TestSummary(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := r.sell("sum-1", 1200)
	b := r.sell("sum-2", 80)
	r.sell("sum-3", 45)
	if _, err := r.agent.VoidInvoice(ctx, b.Number, "打錯"); err != nil {
		t.Fatal(err)
	}
	d := posagent.DecimalFromInt(200)
	if _, err := r.agent.AllowInvoice(ctx, posagent.Allowance{InvoiceNumber: a.Number, Total: 200,
		Items: []posagent.Item{{Name: "=1+1 折扣", Quantity: posagent.DecimalFromInt(1), UnitPrice: d, Amount: d}}, Reason: "=cmd"}); err != nil {
		t.Fatal(err)
	}
	r.signIn(r.client, testToken)
	page := r.get("/summary")
	mustContain(t, page, "3 / NT$1,325", "1 / NT$80", "1 / NT$200", "NT$1,045")
	c := r.get("/summary.csv")
	wantStatus(t, c, http.StatusOK)
	if !strings.HasPrefix(c.header.Get("Content-Disposition"), `attachment; filename="posagent-summary-`) {
		t.Fatalf("disposition %q", c.header.Get("Content-Disposition"))
	}
	if !strings.HasPrefix(c.body, "\uFEFF") {
		t.Fatal("the CSV has no byte-order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(c.body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	p := posagent.PeriodOf(time.Now()).Code()
	if len(rows) != 3 || rows[1][1] != p || strings.Join(rows[2][1:], ",") != "total,3,1325,1,80,1,200,0,0,1045" {
		t.Fatalf("CSV rows %q", rows)
	}
	c = r.get("/summary.csv?detail=1")
	rows, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(c.body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 || rows[5][1] != "allowance" || rows[5][6] != "'=cmd" {
		t.Fatalf("detail rows %q", rows)
	}
	wantStatus(t, r.get("/summary?date=yesterday"), http.StatusUnprocessableEntity)
	mustContain(t, r.get("/summary?date=2020-01-01"), "這一天沒有交易")
}

// In the demo the overview switches the provider stand-in off and on; the
// alarm follows. Outside the demo there is no switch.
func TestDemoSwitch(t *testing.T) {
	r := newRig(t)
	r.signIn(r.client, testToken)
	if strings.Contains(r.get("/").body, `id="demo"`) {
		t.Fatal("a switch outside the demo")
	}
	wantStatus(t, r.post("/demo/provider/down", nil), http.StatusNotFound)

	r = newRig(t, true)
	r.signIn(r.client, testToken)
	mustContain(t, r.get("/"), `action="/demo/provider/down"`, "關閉加值中心")
	wantStatus(t, r.post("/demo/provider/sideways", nil), http.StatusNotFound)
	a := r.post("/demo/provider/down", nil)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/" {
		t.Fatalf("switch off: %d %q", a.status, a.header.Get("Location"))
	}
	r.sell("demo-1", 100)
	waitFor(t, "the offline alarm", func() bool { return strings.Contains(r.get("/").body, `data-code="provider_offline"`) })
	mustContain(t, r.get("/"), `action="/demo/provider/up"`, "恢復加值中心")
	wantStatus(t, r.post("/demo/provider/up", nil), http.StatusSeeOther)
	waitFor(t, "the queue to drain", func() bool { return strings.Contains(r.get("/").body, "全部已上傳") })
}

// A provider that refuses the credentials pauses; the overview says so, since
// when and what to do, and offers resume and reload, both confirmed first.
func TestProviderPauseResume(t *testing.T) {
	r := newRig(t)
	r.prov.FailNext(fake.Upload, 1, posagent.KindAuth)
	inv := r.sell("pause-1", 100)
	waitFor(t, "the pause", func() bool {
		s, err := r.agent.Status(context.Background())
		return err == nil && s.Provider.Paused
	})
	r.signIn(r.client, testToken)
	page := r.get("/")
	mustContain(t, page, "已暫停（金鑰或帳號被拒）", "暫停自", "恢復上傳", "重新讀取設定")
	a := r.post("/provider/resume", nil)
	wantStatus(t, a, http.StatusOK)
	mustContain(t, a, "恢復上傳？")
	a = r.post("/provider/resume", url.Values{"confirm": {"yes"}})
	wantStatus(t, a, http.StatusSeeOther)
	waitFor(t, "the upload after resume", func() bool { _, ok := r.prov.Invoice(inv.Number); return ok })
	mustContain(t, r.get("/"), "佇列開始送出")
	a = r.post("/provider/resume", url.Values{"confirm": {"yes"}})
	wantStatus(t, a, http.StatusSeeOther)
	mustContain(t, r.get("/"), "沒有暫停")
	// This agent was not started from a file: reload is refused, nothing changes.
	wantStatus(t, r.post("/config/reload", url.Values{"confirm": {"yes"}}), http.StatusConflict)
}

// A till with two sellers: the overview lists each with its provider, queue
// and numbers; a till with one shows no such table.
func TestOverviewListsSellers(t *testing.T) {
	r := newRig(t)
	r.signIn(r.client, testToken)
	if strings.Contains(r.get("/").body, `id="sellers"`) {
		t.Fatal("a sellers table on a single-seller till")
	}
	r = newRigOf(t, false, true)
	r.signIn(r.client, testToken)
	page := r.get("/")
	mustContain(t, page, `id="sellers"`, `data-seller="24634102"`, `data-seller="53212539"`, "測試麵包", "(預設)", "各營業人")
}

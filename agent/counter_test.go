package agent

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/queue"
)

// counterHarness is an agent on the real SQLite store (reissue and orders
// are the queue's), with the fake provider and printer, and one clock for
// both.
type counterHarness struct {
	*harness
	q     *queue.Store
	clock *clock
}

func newCounterHarness(t *testing.T, at time.Time, periods []posagent.Period, edit func(*Options)) *counterHarness {
	t.Helper()
	c := &clock{t: at}
	s, err := queue.Open(filepath.Join(t.TempDir(), "agent.db"), queue.Options{Now: c.Now})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	for i, p := range periods {
		_, err := s.AddBooklet(context.Background(), posagent.Booklet{Track: []string{"AB", "CD", "EF"}[i], First: 100, Last: 149, Period: p, Source: "test"})
		require.NoError(t, err)
	}
	prov := newFakeProvider(c.Now)
	pr := &fakePrinter{status: PrinterStatus{Ready: true}}
	logs := &syncBuffer{}
	opt := Options{
		Config: testConfig(), Store: &QueueStore{S: s}, Printer: pr, Render: fakeRender, Coder: fakeCoder, Provider: prov,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:    c.Now, Jitter: func() float64 { return 1 }, PollInterval: 10 * time.Millisecond,
	}
	if edit != nil {
		edit(&opt)
	}
	a, err := New(opt)
	require.NoError(t, err)
	return &counterHarness{harness: &harness{agent: a, provider: prov, printer: pr, logs: logs, handler: a.Handler()}, q: s, clock: c}
}

// pump runs the outbox the way the sync loop does (the provider's gate
// first: offline, one probe on the backoff schedule), one job at a time,
// until nothing is due or the gate is shut.
func (h *counterHarness) pump(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for range 50 {
		s := h.agent.defaultSeller()
		n, _ := h.agent.gate(s, h.agent.now(), 10, 0)
		if n == 0 {
			return
		}
		jobs, err := h.agent.store.Claim(ctx, h.agent.claimKeys(s), n, time.Minute)
		require.NoError(t, err)
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			h.agent.runJob(ctx, s, j)
		}
	}
	t.Fatalf("the outbox never ran dry: calls %+v", h.provider.callList())
}

func (h *counterHarness) left(t *testing.T, p posagent.Period) int {
	t.Helper()
	n, err := h.q.PeriodLeft(context.Background(), p)
	require.NoError(t, err)
	return n
}

// callsFrom lists the provider calls from the i-th on, as "kind number".
func (h *counterHarness) callsFrom(i int) []string {
	var out []string
	for _, c := range h.provider.callList()[i:] {
		out = append(out, c.Kind+" "+string(c.Number))
	}
	return out
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

var counterNow = time.Date(2025, 9, 14, 13, 3, 0, 0, posagent.Taipei)

func TestReissueThroughTheAPI(t *testing.T) {
	p := posagent.PeriodOf(counterNow)
	h := newCounterHarness(t, counterNow, []posagent.Period{p}, nil)
	code, sale := h.do(t, "POST", "/v1/sales", saleJSON("s-1", 150))
	require.Equal(t, http.StatusCreated, code, sale)
	old := sale["number"].(string)

	h.clock.Add(2 * time.Minute)
	body := `{"sale_id":"s-1b","reason":"買方要統編","buyer":{"tax_id":"24634102","name":"買方公司"},"items":[{"name":"拿鐵","quantity":1,"unit_price":150}]}`
	code, re := h.do(t, "POST", "/v1/invoices/"+old+"/reissue", body)
	require.Equal(t, http.StatusCreated, code, re)
	require.Equal(t, old, re["voided"])
	require.Equal(t, "AB00000101", re["number"])
	require.Equal(t, false, re["replayed"])
	require.Equal(t, "買方要統編", re["void"].(map[string]any)["reason"])
	newInv := re["reissued"].(map[string]any)
	require.Equal(t, "s-1b", newInv["sale_id"])
	require.Equal(t, true, newInv["print"].(map[string]any)["printed"])
	require.Equal(t, []string{"ORIGINAL " + old, "ORIGINAL AB00000101"}, h.printer.jobs())

	// Both invoices point at each other, in their answers and events.
	_, oldView := h.do(t, "GET", "/v1/invoices/"+old, "")
	require.Equal(t, "AB00000101", oldView["replaced_by"])
	require.NotNil(t, oldView["void"])
	require.Contains(t, toJSON(t, oldView["events"]), "replaced by AB00000101")
	_, newView := h.do(t, "GET", "/v1/invoices/AB00000101", "")
	require.Equal(t, old, newView["replaces"])
	require.Contains(t, toJSON(t, newView["events"]), "replaces "+old)
	require.Equal(t, "24634102", newView["invoice"].(map[string]any)["buyer"].(map[string]any)["tax_id"])

	// A retried request answers the same and voids or issues nothing more.
	h.clock.Add(time.Second)
	code, again := h.do(t, "POST", "/v1/invoices/"+old+"/reissue", body)
	require.Equal(t, http.StatusOK, code, again)
	require.Equal(t, true, again["replayed"])
	require.Equal(t, "AB00000101", again["number"])
	require.Equal(t, re["void"], again["void"])
	require.Equal(t, 48, h.left(t, p))
	require.Len(t, h.printer.jobs(), 2, "a retried reissue printed again")

	// The same new sale id with another basket is a conflict.
	code, conflict := h.do(t, "POST", "/v1/invoices/"+old+"/reissue",
		`{"sale_id":"s-1b","reason":"買方要統編","items":[{"name":"拿鐵","quantity":2,"unit_price":150}]}`)
	require.Equal(t, http.StatusConflict, code, conflict)

	h.pump(t)
	require.Equal(t, []string{"upload " + old, "void " + old, "upload AB00000101"}, h.callsFrom(0))
}

func TestReissueRefusedThroughTheAPI(t *testing.T) {
	p := posagent.PeriodOf(counterNow)
	h := newCounterHarness(t, counterNow, []posagent.Period{p}, func(o *Options) {
		o.Config.Guard.ConfirmAbove = 10000
	})
	sell := func(id string) string {
		code, a := h.do(t, "POST", "/v1/sales", saleJSON(id, 300))
		require.Equal(t, http.StatusCreated, code, a)
		return a["number"].(string)
	}
	allowed := sell("r-allow")
	code, al := h.do(t, "POST", "/v1/invoices/"+allowed+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":10}]}`)
	require.Equal(t, http.StatusCreated, code, al)
	plain := sell("r-plain")
	spent := 48 - h.left(t, p)

	fixed := func(id string, price int, extra string) string {
		return fmt.Sprintf(`{"sale_id":%q,"reason":"改正"%s,"items":[{"name":"拿鐵","quantity":1,"unit_price":%d}]}`, id, extra, price)
	}
	for _, tc := range []struct {
		name   string
		number string
		body   string
		status int
		code   string
		want   string
	}{
		{"allowance", allowed, fixed("n-1", 250, ""), 409, "conflict", "use an allowance"},
		{"no reason", plain, `{"sale_id":"n-2","items":[{"name":"拿鐵","quantity":1,"unit_price":250}]}`, 422, "invalid", ""},
		{"invalid sale", plain, fixed("n-3", 250, `,"buyer":{"tax_id":"12345678"}`), 422, "invalid", "buyer.tax_id"},
		{"same sale id", plain, fixed("r-plain", 250, ""), 422, "invalid", "sale id of its own"},
		{"unconfirmed large total", plain, fixed("n-4", 15000, ""), 409, CodeNeedsConfirmation, "NT$15000"},
		{"confirmed not a bool", plain, fixed("n-5", 250, `,"confirmed":"yes"`), 400, codeMalformed, "confirmed"},
		{"print mode", plain, fixed("n-6", 250, `,"print_mode":"soon"`), 422, "invalid", "print_mode"},
		{"unknown key", plain, fixed("n-7", 250, `,"colour":"red"`), 400, codeMalformed, "colour"},
		{"unknown invoice", "ZZ99999999", fixed("n-8", 250, ""), 404, "not_found", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, ans := h.do(t, "POST", "/v1/invoices/"+tc.number+"/reissue", tc.body)
			require.Equal(t, tc.status, code, ans)
			require.Equal(t, tc.code, ans["code"], ans)
			require.Contains(t, fmt.Sprint(ans["field"], ": ", ans["message"]), tc.want)
		})
	}
	require.Equal(t, spent, 48-h.left(t, p), "a refused reissue spent a number")
	for _, n := range []string{allowed, plain} {
		_, v := h.do(t, "GET", "/v1/invoices/"+n, "")
		require.Nil(t, v["void"], "%s was voided by a refused reissue", n)
	}

	// Past the period's void deadline (after 23:59:59 on 11/13 for 09–10).
	h.clock.set(p.VoidDeadline().Add(time.Minute))
	_, err := h.q.AddBooklet(context.Background(), posagent.Booklet{Track: "CD", First: 0, Last: 49, Period: posagent.PeriodOf(h.clock.Now()), Source: "test"})
	require.NoError(t, err)
	code, late := h.do(t, "POST", "/v1/invoices/"+plain+"/reissue", fixed("n-9", 250, ""))
	require.Equal(t, http.StatusConflict, code, late)
	require.Contains(t, late["message"], "void deadline passed at 2025-11-13 23:59:59; use an allowance")
	code, late = h.do(t, "POST", "/v1/invoices/"+plain+"/void", `{"reason":"錯誤"}`)
	require.Equal(t, http.StatusConflict, code, late)
	require.Contains(t, late["message"], "use an allowance")
}

// The printer runs out of paper during the reissue: the void and the new
// invoice stand, the proof waits and prints once paper is back.
func TestReissueOutOfPaper(t *testing.T) {
	p := posagent.PeriodOf(counterNow)
	h := newCounterHarness(t, counterNow, []posagent.Period{p}, nil)
	code, sale := h.do(t, "POST", "/v1/sales", saleJSON("p-1", 80))
	require.Equal(t, http.StatusCreated, code, sale)
	old := sale["number"].(string)
	h.printer.set(PrinterStatus{Ready: false, Reason: "paper_out"})
	code, re := h.do(t, "POST", "/v1/invoices/"+old+"/reissue", `{"sale_id":"p-2","reason":"品項錯誤","items":[{"name":"美式","quantity":1,"unit_price":70}]}`)
	require.Equal(t, http.StatusCreated, code, re)
	pr := re["reissued"].(map[string]any)["print"].(map[string]any)
	require.Equal(t, false, pr["printed"])
	require.Equal(t, true, pr["will_retry"])
	require.Contains(t, pr["message"], "缺紙")
	n := re["number"].(string)
	_, v := h.do(t, "GET", "/v1/invoices/"+old, "")
	require.NotNil(t, v["void"], "the void must stand whatever the printer does")

	h.printer.set(PrinterStatus{Ready: true})
	h.agent.printPending(context.Background())
	_, v = h.do(t, "GET", "/v1/invoices/"+n, "")
	require.Equal(t, "printed", v["print"].(map[string]any)["state"])
	require.Equal(t, "ORIGINAL "+n, h.printer.jobs()[len(h.printer.jobs())-1])
}

// The provider is down during the reissue: everything queues, and goes out
// in order when it is back: invoice, its void, the new invoice.
func TestReissueProviderDown(t *testing.T) {
	p := posagent.PeriodOf(counterNow)
	h := newCounterHarness(t, counterNow, []posagent.Period{p}, nil)
	var down sync.Mutex
	isDown := true
	h.provider.fn = func(c call) error {
		down.Lock()
		defer down.Unlock()
		if isDown {
			return posagent.Errorf(posagent.KindTransient, "connection refused")
		}
		return nil
	}
	code, sale := h.do(t, "POST", "/v1/sales", saleJSON("d-1", 500))
	require.Equal(t, http.StatusCreated, code, sale)
	old := sale["number"].(string)
	code, re := h.do(t, "POST", "/v1/invoices/"+old+"/reissue", `{"sale_id":"d-2","reason":"載具錯誤","items":[{"name":"拿鐵","quantity":1,"unit_price":500}]}`)
	require.Equal(t, http.StatusCreated, code, re)
	h.pump(t)
	calls := h.provider.callList()
	require.Len(t, calls, 1, "only the first upload may be tried while it is not at the provider")
	require.Equal(t, JobUpload, calls[0].Kind)

	down.Lock()
	isDown = false
	down.Unlock()
	h.clock.Add(time.Hour)
	h.pump(t)
	require.Equal(t, []string{"upload " + old, "void " + old, "upload " + re["number"].(string)}, h.callsFrom(1))
}

// blockingPrinter holds every job until released, and says when one started.
type blockingPrinter struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (p *blockingPrinter) Print(ctx context.Context, job []byte) PrintOutcome {
	p.once.Do(func() { close(p.started) })
	<-p.release
	return PrintOutcome{Printed: true}
}

func (p *blockingPrinter) Status(ctx context.Context) PrinterStatus {
	return PrinterStatus{Ready: true}
}

func TestAnswerBeforeThePaper(t *testing.T) {
	p := posagent.PeriodOf(counterNow)
	bp := &blockingPrinter{started: make(chan struct{}), release: make(chan struct{})}
	h := newCounterHarness(t, counterNow, []posagent.Period{p}, func(o *Options) { o.Printer = bp })
	type answer struct {
		code int
		body map[string]any
	}
	got := make(chan answer, 1)
	go func() {
		code, body := h.do(t, "POST", "/v1/sales", `{"sale_id":"b-1","print_mode":"after_commit","items":[{"name":"拿鐵","quantity":1,"unit_price":90}]}`)
		got <- answer{code, body}
	}()
	var ans answer
	select {
	case ans = <-got:
	case <-time.After(time.Minute):
		close(bp.release)
		t.Fatal("the sale was not answered while the printer was still printing")
	}
	require.Equal(t, http.StatusCreated, ans.code, ans.body)
	pr := ans.body["print"].(map[string]any)
	require.Equal(t, true, pr["background"])
	require.Equal(t, false, pr["printed"])
	require.Equal(t, ReasonPrinting, pr["reason"])
	n := ans.body["number"].(string)
	<-bp.started
	_, v := h.do(t, "GET", "/v1/invoices/"+n, "")
	require.Equal(t, "printing", v["print"].(map[string]any)["state"], "the proof is on its way to the printer")

	close(bp.release)
	h.agent.prints.Wait()
	_, v = h.do(t, "GET", "/v1/invoices/"+n, "")
	require.Equal(t, "printed", v["print"].(map[string]any)["state"])
	require.Equal(t, true, v["print"].(map[string]any)["original_printed"])

	// The config default: printer.answer = after_commit; a request may
	// still ask to wait for the paper.
	h.agent.cfg.Load().Printer.Answer = "after_commit"
	code, body := h.do(t, "POST", "/v1/sales", `{"sale_id":"b-2","print_mode":"after_print","items":[{"name":"拿鐵","quantity":1,"unit_price":90}]}`)
	require.Equal(t, http.StatusCreated, code, body)
	require.Equal(t, true, body["print"].(map[string]any)["printed"])
	code, body = h.do(t, "POST", "/v1/sales", saleJSON("b-3", 90))
	require.Equal(t, http.StatusCreated, code, body)
	require.Equal(t, true, body["print"].(map[string]any)["background"])
	h.agent.prints.Wait()
}

func TestGuardRails(t *testing.T) {
	p := posagent.PeriodOf(counterNow)
	h := newCounterHarness(t, counterNow, []posagent.Period{p}, func(o *Options) {
		o.Config.Guard.ConfirmAbove, o.Config.Guard.RefuseAbove = 10000, 100000
	})
	big := func(id string, price int, extra string) string {
		return fmt.Sprintf(`{"sale_id":%q%s,"items":[{"name":"咖啡機","quantity":1,"unit_price":%d}]}`, id, extra, price)
	}
	for _, tc := range []struct {
		name   string
		body   string
		status int
		code   string
		want   string
	}{
		{"typo", big("g-1", 15000, ""), 409, CodeNeedsConfirmation, "total NT$15000 is above NT$10000"},
		{"not confirmed", big("g-2", 15000, `,"confirmed":false`), 409, CodeNeedsConfirmation, `"confirmed": true`},
		{"over the limit", big("g-3", 150000, `,"confirmed":true`), 422, CodeOverLimit, "above the limit of NT$100000"},
		{"at the threshold", big("g-4", 10000, ""), 201, "", ""},
		{"confirmed", big("g-5", 15000, `,"confirmed":true`), 201, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.left(t, p)
			code, ans := h.do(t, "POST", "/v1/sales", tc.body)
			require.Equal(t, tc.status, code, ans)
			if tc.code == "" {
				require.Equal(t, before-1, h.left(t, p))
				return
			}
			require.Equal(t, tc.code, ans["code"])
			require.Equal(t, "total", ans["field"])
			require.Contains(t, ans["message"], tc.want)
			require.Equal(t, before, h.left(t, p), "a refused sale spent a number")
		})
	}
	code, ans := h.do(t, "POST", "/v1/orders", big("g-o", 20000, ""))
	require.Equal(t, http.StatusConflict, code, ans)
	require.Equal(t, CodeNeedsConfirmation, ans["code"])
	code, ans = h.do(t, "POST", "/v1/orders", big("g-o", 20000, `,"confirmed":true`))
	require.Equal(t, http.StatusCreated, code, ans)
}

func TestNoProofSaysWhy(t *testing.T) {
	p := posagent.PeriodOf(counterNow)
	h := newCounterHarness(t, counterNow, []posagent.Period{p}, nil)
	for _, tc := range []struct{ body, reason string }{
		{`{"sale_id":"c-1","carrier":{"type":"mobile","id":"/ABC+123"},"items":[{"name":"a","quantity":1,"unit_price":5}]}`, ReasonCarrier},
		{`{"sale_id":"c-2","love_code":"168001","items":[{"name":"a","quantity":1,"unit_price":5}]}`, ReasonDonated},
	} {
		for range 2 { // the replay says the same
			code, ans := h.do(t, "POST", "/v1/sales", tc.body)
			require.Less(t, code, 300, ans)
			pr := ans["print"].(map[string]any)
			require.Equal(t, false, pr["required"])
			require.Equal(t, tc.reason, pr["reason"])
			require.Contains(t, pr["message"], "no paper proof")
		}
	}
	require.Empty(t, h.printer.jobs())
}

func TestOrdersThroughTheAPI(t *testing.T) {
	nov := posagent.Period{Year: 114, EvenMonth: 12}
	jan := posagent.Period{Year: 115, EvenMonth: 2}
	taken := time.Date(2025, 12, 30, 18, 0, 0, 0, posagent.Taipei)
	h := newCounterHarness(t, taken, []posagent.Period{nov, jan}, nil)
	order := `{"sale_id":"pre-1","items":[{"name":"年菜","quantity":1,"unit_price":2880}]}`
	code, o := h.do(t, "POST", "/v1/orders", order)
	require.Equal(t, http.StatusCreated, code, o)
	require.Equal(t, "open", o["state"])
	require.Equal(t, 50, h.left(t, nov), "an order spent a number")
	h.clock.Add(time.Minute)
	code, again := h.do(t, "POST", "/v1/orders", order)
	require.Equal(t, http.StatusOK, code, again)
	require.Equal(t, o["created_at"], again["created_at"])
	code, conflict := h.do(t, "POST", "/v1/orders", `{"sale_id":"pre-1","items":[{"name":"年菜","quantity":2,"unit_price":2880}]}`)
	require.Equal(t, http.StatusConflict, code, conflict)
	code, bad := h.do(t, "POST", "/v1/orders", `{"sale_id":"pre-x","items":[{"name":"年菜","quantity":1,"unit_price":0}]}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, bad)
	code, _ = h.do(t, "POST", "/v1/orders", `{"sale_id":"pre-2","items":[{"name":"蛋糕","quantity":1,"unit_price":600}]}`)
	require.Equal(t, http.StatusCreated, code)

	// Four days later both are stale.
	h.clock.set(time.Date(2026, 1, 3, 10, 0, 0, 0, posagent.Taipei))
	_, st := h.do(t, "GET", "/v1/status", "")
	orders := st["orders"].(map[string]any)
	require.EqualValues(t, 2, orders["open"])
	require.EqualValues(t, 2, orders["stale"])
	require.Contains(t, toJSON(t, st["alarms"]), "stale_orders")
	metrics := h.metricsText(t)
	require.Contains(t, metrics, "posagent_orders_stale 2")
	require.Contains(t, metrics, "posagent_orders_open 2")

	// Picked up in January: a number of 01–02, dated now, printed now.
	code, inv := h.do(t, "POST", "/v1/orders/pre-1/issue", "")
	require.Equal(t, http.StatusCreated, code, inv)
	require.Equal(t, "CD00000100", inv["number"])
	require.Equal(t, jan.Code(), inv["period"])
	require.Equal(t, "2026-01-03T10:00:00+08:00", inv["issued_at"])
	require.Equal(t, true, inv["print"].(map[string]any)["printed"])
	code, again = h.do(t, "POST", "/v1/orders/pre-1/issue", `{}`)
	require.Equal(t, http.StatusOK, code, again)
	require.Equal(t, "CD00000100", again["number"])
	require.Equal(t, true, again["replayed"])
	_, view := h.do(t, "GET", "/v1/invoices/CD00000100", "")
	require.Equal(t, "pre-1", view["order"])

	code, c := h.do(t, "POST", "/v1/orders/pre-2/cancel", `{"reason":"客人不要了"}`)
	require.Equal(t, http.StatusOK, code, c)
	require.Equal(t, "cancelled", c["state"])
	code, c = h.do(t, "POST", "/v1/orders/pre-2/issue", "")
	require.Equal(t, http.StatusConflict, code, c)
	code, c = h.do(t, "POST", "/v1/orders/pre-1/cancel", `{"reason":"x"}`)
	require.Equal(t, http.StatusConflict, code, c)
	code, c = h.do(t, "POST", "/v1/orders/nope/issue", "")
	require.Equal(t, http.StatusNotFound, code, c)

	for state, want := range map[string][]string{"": {"pre-1", "pre-2"}, "open": nil, "issued": {"pre-1"}, "cancelled": {"pre-2"}} {
		code, list := h.do(t, "GET", "/v1/orders?state="+state, "")
		require.Equal(t, http.StatusOK, code, list)
		var ids []string
		for _, o := range list["orders"].([]any) {
			ids = append(ids, o.(map[string]any)["id"].(string))
		}
		require.Equal(t, want, ids, "state %q", state)
	}
	code, _ = h.do(t, "GET", "/v1/orders?state=lost", "")
	require.Equal(t, http.StatusBadRequest, code)
	_, st = h.do(t, "GET", "/v1/status", "")
	require.EqualValues(t, 0, st["orders"].(map[string]any)["stale"])
	require.Equal(t, 50, h.left(t, nov))
	require.Equal(t, 49, h.left(t, jan))
}

func (h *harness) metricsText(t *testing.T) string {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	b, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(b)
}

func TestSplitRequest(t *testing.T) {
	for _, tc := range []struct {
		in, rest string
		extras   map[string]string
	}{
		{`{"a":1,"confirmed":true}`, `{"a":1}`, map[string]string{"confirmed": "true"}},
		{` {"print_mode":"after_commit", "items":[1,2]} `, `{"items":[1,2]}`, map[string]string{"print_mode": `"after_commit"`}},
		{`{"confirmed":true,"confirmed":false}`, `{"confirmed":true,"confirmed":false}`, nil},
		{`{"Confirmed":true}`, `{"Confirmed":true}`, map[string]string{}},
		{`[1]`, `[1]`, nil},
		{`{"a":1} x`, `{"a":1} x`, nil},
		{`{"a":`, `{"a":`, nil},
		{"{\"a\":\"\xff\"}", "{\"a\":\"\xff\"}", nil},
	} {
		rest, extras := splitRequest([]byte(tc.in), keyConfirmed, keyPrintMode)
		require.Equal(t, tc.rest, string(rest), "in %s", tc.in)
		if tc.extras == nil {
			require.Nil(t, extras, "in %s", tc.in)
			continue
		}
		got := map[string]string{}
		for k, v := range extras {
			got[k] = string(v)
		}
		require.Equal(t, tc.extras, got, "in %s", tc.in)
	}
}

// FuzzSplitRequest: whatever the body, the split never loses a key: the
// rest and the extras together hold every top-level key once, and the rest
// is what the body was when nothing was taken.
func FuzzSplitRequest(f *testing.F) {
	for _, s := range []string{`{"sale_id":"a","confirmed":true,"items":[]}`, `{"print_mode":"after_commit"}`, `{}`, `[]`, `{"a":1}{}`,
		`{"confirmed":true,"confirmed":true}`, `{"reason":"\u0000"}`, "{\"a\":\"\xff\"}", `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rest, extras := splitRequest(body, keyConfirmed, keyPrintMode, keyReason)
		if extras == nil {
			if string(rest) != string(body) {
				t.Fatalf("nothing taken but the body changed: %q → %q", body, rest)
			}
			return
		}
		var v map[string]any
		if err := posagent.DecodeJSON(rest, &v); err != nil {
			t.Fatalf("the rest of %q is not an object: %q: %v", body, rest, err)
		}
		for k := range extras {
			if _, dup := v[k]; dup {
				t.Fatalf("key %q both taken and left in %q", k, rest)
			}
			if !extras[k].IsValid() {
				t.Fatalf("key %q of %q taken with an invalid value %q", k, body, extras[k])
			}
		}
	})
}

// The guard rails are read at each sale: a reload changes them at once.
func TestGuardReload(t *testing.T) {
	p := posagent.PeriodOf(counterNow)
	h := newCounterHarness(t, counterNow, []posagent.Period{p}, func(o *Options) {
		o.Reload = func(ctx context.Context) (config.Config, Providers, error) {
			cfg := testConfig()
			cfg.Guard.ConfirmAbove = 1000
			cfg.Orders.StaleAfter = config.Duration{Duration: time.Hour}
			return cfg, Providers{testSeller: newFakeProvider(time.Now)}, nil
		}
	})
	code, ans := h.do(t, "POST", "/v1/sales", saleJSON("gr-1", 5000))
	require.Equal(t, http.StatusCreated, code, ans)
	code, ans = h.do(t, "POST", "/v1/config/reload", "")
	require.Equal(t, http.StatusOK, code, ans)
	require.Equal(t, []any{"guard", "orders"}, ans["changed"])
	code, ans = h.do(t, "POST", "/v1/sales", saleJSON("gr-2", 5000))
	require.Equal(t, http.StatusConflict, code, ans)
	require.Equal(t, CodeNeedsConfirmation, ans["code"])
}

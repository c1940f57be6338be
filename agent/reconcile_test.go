package agent

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// The reconciliation on an injected clock: the local number checks (a row
// put straight into the store), the schedule, the acceptance deadline, the
// platform's day summary, a lost allowance number and the close-out list.

// holdingProvider is a fake provider that says what it holds: everything it
// accepted, less what a test made it forget, with the verdicts a test set.
type holdingProvider struct {
	*fakeProvider
	mu      sync.Mutex
	forget  map[posagent.InvoiceNumber]bool
	verdict map[posagent.InvoiceNumber]posagent.Acceptance
	summary *posagent.DaySummary
	asked   int
	// loseNumbers: allowances come back without the provider's number.
	loseNumbers bool
}

func (p *holdingProvider) Holdings(ctx context.Context, refs []posagent.DocRef) ([]posagent.Holding, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked += len(refs)
	out := make([]posagent.Holding, len(refs))
	for i, r := range refs {
		out[i] = posagent.Holding{Ref: r, Found: !p.forget[r.Number], Amount: r.Amount, HasAmount: r.Kind == posagent.DocInvoice,
			Acceptance: p.verdict[r.Number]}
	}
	return out, nil
}

func (p *holdingProvider) DaySummary(ctx context.Context, day time.Time) (posagent.DaySummary, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.summary == nil {
		return posagent.DaySummary{}, false, nil
	}
	return *p.summary, true, nil
}

// AllowNumbered makes the provider one that numbers allowances; with
// loseNumbers its answer carries none, as after a lost answer.
func (p *holdingProvider) AllowNumbered(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) (string, error) {
	p.mu.Lock()
	lose := p.loseNumbers
	p.mu.Unlock()
	if lose {
		return "", p.Allow(ctx, inv, a)
	}
	return "P-" + a.Number, p.Allow(ctx, inv, a)
}

type reconcileHarness struct {
	*harness
	clock *clock
	qs    *queue.Store
	db    *sql.DB
	prov  *holdingProvider
	dir   string
}

func newReconcileHarness(t testing.TB, start time.Time) *reconcileHarness {
	t.Helper()
	c := &clock{t: start}
	dir := t.TempDir()
	qs, err := queue.Open(filepath.Join(dir, "posagent.db"), queue.Options{Now: c.Now})
	require.NoError(t, err)
	t.Cleanup(func() { qs.Close() })
	_, err = qs.AddBooklet(context.Background(), posagent.Booklet{Track: "AA", First: 0, Last: 49, Period: posagent.PeriodOf(start)})
	require.NoError(t, err)
	db, err := sql.Open("sqlite3", filepath.Join(dir, "posagent.db")+"?_busy_timeout=5000")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	prov := &holdingProvider{fakeProvider: newFakeProvider(c.Now), forget: map[posagent.InvoiceNumber]bool{},
		verdict: map[posagent.InvoiceNumber]posagent.Acceptance{}}
	h := newHarness(t, c.Now, func(o *Options) {
		o.Store, o.Provider = &QueueStore{S: qs}, prov
		o.Config.Store.Path = filepath.Join(dir, "posagent.db")
	})
	return &reconcileHarness{harness: h, clock: c, qs: qs, db: db, prov: prov, dir: dir}
}

func (h *reconcileHarness) sell(t testing.TB, id string, price int) posagent.InvoiceNumber {
	t.Helper()
	code, body := h.do(t, "POST", "/v1/sales", saleJSON(id, price))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	return posagent.InvoiceNumber(body["number"].(string))
}

// drain sends every due job to the provider.
func (h *reconcileHarness) drain(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for range 100 {
		jobs, err := h.agent.store.Claim(ctx, nil, 100, time.Minute)
		require.NoError(t, err)
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			h.agent.runJob(ctx, h.agent.defaultSeller(), j)
		}
	}
	t.Fatal("the queue did not drain")
}

// insert puts an invoice straight into the store, as a bug or a second
// writer would: number n issued at at, copied from invoice like, with an
// upload job done (or none).
func (h *reconcileHarness) insert(t *testing.T, like, n posagent.InvoiceNumber, at time.Time, withJob bool) {
	t.Helper()
	sale := "direct-" + string(n)
	_, err := h.db.Exec(`INSERT INTO invoices (sale_id, number, period, booklet_id, random_code, issued_at, total, doc, derived, created_at)
		SELECT ?1, ?2, period, booklet_id, random_code, ?3, total,
			replace(replace(doc, number, ?2), sale_id, ?1), derived, created_at FROM invoices WHERE number = ?4`,
		sale, string(n), at.UnixNano(), string(like))
	require.NoError(t, err)
	_, err = h.db.Exec(`UPDATE booklets SET next = max(next, ?) WHERE track = ?`, n.Seq()+1, n.Track())
	require.NoError(t, err)
	if withJob {
		_, err = h.db.Exec(`INSERT INTO jobs (kind, invoice_id, state, next_at, created_at, updated_at, done_at)
			SELECT 'upload', id, 'done', ?1, ?1, ?1, ?1 FROM invoices WHERE number = ?2`, at.UnixNano(), string(n))
		require.NoError(t, err)
	}
}

// soldAndSent is a harness with one sale of 2026-12-03 sent to the provider,
// the platform's verdict on it set, and the clock at the next morning.
func soldAndSent(t *testing.T, id string, verdict posagent.Acceptance, morning string) (*reconcileHarness, posagent.InvoiceNumber) {
	t.Helper()
	h := newReconcileHarness(t, taipei("2026-12-03 10:00"))
	n := h.sell(t, id, 100)
	h.drain(t)
	h.prov.verdict[n] = verdict
	h.clock.set(taipei(morning))
	return h, n
}

func findingsByKey(fs []FindingView) map[string]FindingView {
	out := map[string]FindingView{}
	for _, f := range fs {
		out[f.Kind+" "+f.Number] = f
	}
	return out
}

func taipei(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, posagent.Taipei)
	if err != nil {
		panic(err)
	}
	return t
}

func TestReconcileLocalChecks(t *testing.T) {
	t.Parallel()
	h := newReconcileHarness(t, taipei("2026-12-03 10:00"))
	ctx := context.Background()
	n0 := h.sell(t, "local-0", 100) // AA00000000
	h.clock.Add(time.Minute)
	h.sell(t, "local-1", 100)
	h.sell(t, "local-2", 100)
	h.drain(t)
	// AA00000003 is skipped; 04 is put in with no upload job; 10 then 08
	// (out of order, skipping 05–07 and 09); 11 is dated the day before,
	// against the number order (E0209).
	h.insert(t, n0, "AA00000004", taipei("2026-12-03 10:05"), false)
	h.insert(t, n0, "AA00000010", taipei("2026-12-03 10:06"), true)
	h.insert(t, n0, "AA00000008", taipei("2026-12-03 10:07"), true)
	h.insert(t, n0, "AA00000011", taipei("2026-12-02 18:00"), true)
	h.prov.forget["AA00000004"] = true

	h.clock.set(taipei("2026-12-04 04:00"))
	res, err := h.agent.Reconcile(ctx, taipei("2026-12-03 00:00"), TriggerDemand)
	require.NoError(t, err)
	require.False(t, res.Run.Clean)
	f := findingsByKey(res.Findings)
	require.Contains(t, f, "skipped_number AA00000004", "%v", res.Findings)
	require.Contains(t, f["skipped_number AA00000004"].Difference, "AA00000003 never issued")
	require.Contains(t, f, "skipped_number AA00000008")
	require.Contains(t, f["skipped_number AA00000008"].Difference, "AA00000005–AA00000007 (3 numbers)")
	require.Contains(t, f, "skipped_number AA00000010")
	require.Contains(t, f["skipped_number AA00000010"].Difference, "AA00000009 never issued")
	require.Contains(t, f, "out_of_order AA00000008")
	require.Contains(t, f, "no_job AA00000004")
	require.True(t, f["no_job AA00000004"].Mended, "a document without a job the provider lacks is queued")
	require.NotContains(t, f, "date_order AA00000011", "the date finding belongs to the day of the earlier date")
	require.Len(t, res.Findings, 5, "%v", res.Findings)
	// The skipped number's tail is not a gap: 12–49 were never issued and
	// are not reported.
	for _, x := range res.Findings {
		require.NotContains(t, x.Difference, "AA00000012")
	}
	// The document without a job went to the provider once, the others never.
	h.drain(t)
	require.Equal(t, 1, h.prov.accepted["upload/AA00000004"])
	require.Zero(t, h.prov.accepted["upload/AA00000008"])

	res, err = h.agent.Reconcile(ctx, taipei("2026-12-02 00:00"), TriggerDemand)
	require.NoError(t, err)
	f = findingsByKey(res.Findings)
	require.Contains(t, f, "date_order AA00000011", "%v", res.Findings)
	require.Contains(t, f["date_order AA00000011"].Difference, "E0209")
	require.Equal(t, LevelCritical, f["date_order AA00000011"].Level)

	st, err := h.agent.Status(ctx)
	require.NoError(t, err)
	codes := map[string]string{}
	for _, al := range st.Alarms {
		codes[al.Code] = al.Level
	}
	require.Equal(t, LevelCritical, codes["reconcile_skipped_number"], "%v", st.Alarms)
	require.Equal(t, LevelWarning, codes["reconcile_out_of_order"])
	require.Equal(t, LevelCritical, codes["reconcile_date_order"])
	require.NotContains(t, codes, "reconcile_no_job", "a mended finding is no alarm")
	require.Equal(t, 3, st.Reconcile.ByKind[FindSkipped])
}

func TestReconcileScheduleFiresAtTheConfiguredHour(t *testing.T) {
	t.Parallel()
	h := newReconcileHarness(t, taipei("2026-12-03 10:00"))
	ctx := context.Background()
	h.sell(t, "sched-0", 100)
	h.drain(t)
	cfg := *h.agent.conf()
	cfg.Reconcile.At = "04:15"
	h.agent.cfg.Store(&cfg)

	h.clock.set(taipei("2026-12-04 04:14"))
	require.False(t, h.agent.reconcileTick(ctx), "ran before the hour")
	h.clock.set(taipei("2026-12-04 04:15"))
	require.True(t, h.agent.reconcileTick(ctx), "did not run at the hour")
	require.False(t, h.agent.reconcileTick(ctx), "ran twice for one day")
	runs, err := h.agent.ReconcileRuns(ctx, 10)
	require.NoError(t, err)
	require.Len(t, runs, 1)
	require.Equal(t, "2026-12-03", runs[0].Day)
	require.Equal(t, TriggerSchedule, runs[0].Trigger)
	require.True(t, runs[0].Clean, "%+v", runs[0])
	require.Equal(t, 1, h.prov.asked)

	// A till off at the hour catches up when it next looks; a run on demand
	// does not stand in for the scheduled one.
	_, err = h.agent.Reconcile(ctx, taipei("2026-12-04 00:00"), TriggerDemand)
	require.NoError(t, err)
	h.clock.set(taipei("2026-12-05 11:00"))
	require.True(t, h.agent.reconcileTick(ctx))
	runs, err = h.agent.ReconcileRuns(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, "2026-12-04", runs[0].Day)

	// Off in the config: never.
	cfg.Reconcile.Enabled = false
	h.agent.cfg.Store(&cfg)
	h.clock.set(taipei("2026-12-06 11:00"))
	require.False(t, h.agent.reconcileTick(ctx))
}

func TestReconcileAcceptanceDeadlineAlarm(t *testing.T) {
	t.Parallel()
	h, n := soldAndSent(t, "late-0", posagent.AcceptPending, "2026-12-04 03:30")
	ctx := context.Background()
	res, err := h.agent.Reconcile(ctx, taipei("2026-12-03 00:00"), TriggerDemand)
	require.NoError(t, err)
	require.Len(t, res.Findings, 1)
	require.Equal(t, FindNotAccepted, res.Findings[0].Kind)

	level := func() string {
		st, err := h.agent.Status(ctx)
		require.NoError(t, err)
		for _, al := range st.Alarms {
			if al.Code == "acceptance_deadline" {
				return al.Level
			}
		}
		return ""
	}
	require.Equal(t, "", level(), "17h after issue is no alarm yet")
	h.clock.set(taipei("2026-12-04 11:00")) // 25h: past upload_warning (24h)
	require.Equal(t, LevelWarning, level())
	h.clock.set(taipei("2026-12-05 03:00")) // 41h: past upload_critical (40h)
	require.Equal(t, LevelCritical, level())

	// A day waiting for a verdict is asked again hourly, not only daily:
	// accepted, the finding and the alarm go.
	h.prov.verdict[n] = posagent.AcceptAccepted
	require.True(t, h.agent.reconcileTick(ctx), "the pending day was not asked again")
	require.False(t, h.agent.reconcileTick(ctx), "asked again within the hour")
	open, err := h.agent.OpenFindings(ctx)
	require.NoError(t, err)
	require.Empty(t, open)
	require.Equal(t, "", level())
}

func TestReconcileDaySummaryAndLostAnswer(t *testing.T) {
	t.Parallel()
	h := newReconcileHarness(t, taipei("2026-12-03 10:00"))
	ctx := context.Background()
	n := h.sell(t, "sum-0", 300)
	h.sell(t, "sum-1", 100)
	h.drain(t)
	h.prov.loseNumbers = true
	code, body := h.do(t, "POST", "/v1/invoices/"+string(n)+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":50}]}`)
	require.Equal(t, http.StatusCreated, code, "%v", body)
	h.drain(t)
	h.prov.summary = &posagent.DaySummary{Messages: map[string]posagent.MessageCount{
		"F0401": {Total: 2, Good: 2}, "G0401": {Total: 1, Good: 0, Failed: 1}}}

	h.clock.set(taipei("2026-12-04 04:00"))
	res, err := h.agent.Reconcile(ctx, taipei("2026-12-03 00:00"), TriggerDemand)
	require.NoError(t, err)
	f := findingsByKey(res.Findings)
	require.Contains(t, f, "answer_lost "+string(n), "%v", res.Findings)
	require.Contains(t, f, "summary_differs ", "%v", res.Findings)
	require.Contains(t, f["summary_differs "].Difference, "1 of 1 G0401 of the day as failed")
	require.Contains(t, res.Run.Summary, "F0401 2/2")
	require.Len(t, res.Findings, 2)

	h.prov.summary.Messages["F0401"] = posagent.MessageCount{Total: 3, Good: 3}
	res, err = h.agent.Reconcile(ctx, taipei("2026-12-03 00:00"), TriggerDemand)
	require.NoError(t, err)
	var summaries []string
	for _, x := range res.Findings {
		if x.Kind == FindSummary {
			summaries = append(summaries, x.Difference)
		}
	}
	require.Len(t, summaries, 2, "%v", summaries)
	require.Contains(t, strings.Join(summaries, "|"), "the platform counts 3 F0401 for the day, posagent sent 2")
}

func TestReconcileProviderErrorKeepsFindings(t *testing.T) {
	t.Parallel()
	h, _ := soldAndSent(t, "err-0", posagent.AcceptRejected, "2026-12-04 04:00")
	ctx := context.Background()
	day := taipei("2026-12-03 00:00")
	res, err := h.agent.Reconcile(ctx, day, TriggerDemand)
	require.NoError(t, err)
	require.Len(t, res.Findings, 1)

	// The provider cannot answer: nothing is concluded, the rejection stays.
	var failing posagent.Provider = failingReconciler{h.prov.fakeProvider}
	sl := h.agent.defaultSeller()
	sl.provMu.Lock()
	sl.provider = failing
	sl.provMu.Unlock()
	res, err = h.agent.Reconcile(ctx, day, TriggerDemand)
	require.NoError(t, err)
	require.Contains(t, res.Run.Error, "timeout")
	require.False(t, res.Run.Clean)
	open, err := h.agent.OpenFindings(ctx)
	require.NoError(t, err)
	kinds := map[string]bool{}
	for _, f := range open {
		kinds[f.Kind] = true
	}
	require.True(t, kinds[FindRejected], "%v", open)
	require.True(t, kinds[FindProviderNotAsked], "%v", open)
	st, err := h.agent.Status(ctx)
	require.NoError(t, err)
	found := false
	for _, al := range st.Alarms {
		found = found || al.Code == "reconcile_failed"
	}
	require.True(t, found, "%v", st.Alarms)
}

type failingReconciler struct{ *fakeProvider }

func (failingReconciler) Holdings(context.Context, []posagent.DocRef) ([]posagent.Holding, error) {
	return nil, posagent.Errorf(posagent.KindTransient, "timeout")
}

func TestCloseOutChecklist(t *testing.T) {
	t.Parallel()
	h := newReconcileHarness(t, taipei("2026-12-03 10:00"))
	ctx := context.Background()
	h.sell(t, "close-0", 100)
	h.sell(t, "close-1", 100)

	// Before the last days of the period: no checklist.
	st, err := h.agent.Status(ctx)
	require.NoError(t, err)
	require.Empty(t, st.CloseOut)

	// Five days before the end it shows, with what is left.
	h.clock.set(taipei("2026-12-27 09:00"))
	h.agent.reconcile.closeOut = nil
	st, err = h.agent.Status(ctx)
	require.NoError(t, err)
	require.Len(t, st.CloseOut, 1, "%+v", st.CloseOut)
	c := st.CloseOut[0]
	require.Equal(t, "11512", c.Period)
	require.False(t, c.Complete)
	items := map[string]CloseOutItem{}
	for _, it := range c.Items {
		items[it.Name] = it
	}
	require.Equal(t, "todo", items["invoices_accepted"].State)
	require.Contains(t, items["invoices_accepted"].Detail, "2 invoices still to upload")
	require.Equal(t, "todo", items["blank_numbers"].State)
	require.Equal(t, "2027-01-10", items["blank_numbers"].Deadline)
	require.Equal(t, "check", items["head_office_numbers"].State)

	// After the period: uploaded, reconciled, booklets retired and the
	// blank numbers reported: complete, and gone from status.
	h.drain(t)
	h.clock.set(taipei("2027-01-01 04:00"))
	_, err = h.agent.Reconcile(ctx, taipei("2026-12-31 00:00"), TriggerDemand)
	require.NoError(t, err)
	c, err = h.agent.CloseOut(ctx, posagent.Period{Year: 115, EvenMonth: 12})
	require.NoError(t, err)
	items = map[string]CloseOutItem{}
	for _, it := range c.Items {
		items[it.Name] = it
	}
	require.Equal(t, "done", items["invoices_accepted"].State, "%+v", items)
	require.Equal(t, "todo", items["blank_numbers"].State, "%+v", items)
	_, err = h.qs.RetirePeriod(ctx, posagent.Period{Year: 115, EvenMonth: 12})
	require.NoError(t, err)
	h.prov.fakeProvider.fn = nil
	blankDone := false
	jobs, err := h.agent.store.Claim(ctx, nil, 10, time.Minute)
	require.NoError(t, err)
	for _, j := range jobs {
		if j.Kind == JobBlank {
			require.NoError(t, h.agent.store.Done(ctx, j)) // reported on the platform
			blankDone = true
		}
	}
	require.True(t, blankDone)
	c, err = h.agent.CloseOut(ctx, posagent.Period{Year: 115, EvenMonth: 12})
	require.NoError(t, err)
	require.True(t, c.Complete, "%+v", c.Items)
	h.agent.reconcile.closeOut = nil
	st, err = h.agent.Status(ctx)
	require.NoError(t, err)
	require.Empty(t, st.CloseOut, "a complete period stays listed: %+v", st.CloseOut)
}

// BenchmarkReconcileDay is one run over a day of 300 invoices, 10 voids and
// 10 allowances at a provider that answers at once: the store's reads, the
// number checks, the findings and the CSV, without the network.
func BenchmarkReconcileDay(b *testing.B) {
	h := newReconcileHarness(b, taipei("2026-12-03 08:00"))
	ctx := context.Background()
	_, err := h.qs.AddBooklet(ctx, posagent.Booklet{Track: "AA", First: 50, Last: 349, Period: posagent.PeriodOf(h.clock.Now())})
	require.NoError(b, err)
	for i := range 300 {
		n := h.sell(b, fmt.Sprintf("bench-%d", i), 100+i)
		switch {
		case i%30 == 1:
			_, err := h.agent.VoidInvoice(ctx, n, "bench")
			require.NoError(b, err)
		case i%30 == 2:
			code, body := h.do(b, "POST", "/v1/invoices/"+string(n)+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":50}]}`)
			require.Equal(b, http.StatusCreated, code, "%v", body)
		}
		h.clock.Add(time.Second)
	}
	h.drain(b)
	h.clock.set(taipei("2026-12-04 03:30"))
	day := taipei("2026-12-03 00:00")
	b.ResetTimer()
	for b.Loop() {
		res, err := h.agent.Reconcile(ctx, day, TriggerDemand)
		if err != nil || !res.Run.Clean || res.Run.Documents != 320 {
			b.Fatalf("%+v %v %+v", res.Run, err, res.Findings)
		}
	}
}

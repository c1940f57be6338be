package agent

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
)

// LegalUploadLimit is the MOF limit from issue to upload for B2C invoices.
const LegalUploadLimit = 48 * time.Hour

// Alarm levels, in rising order.
const (
	LevelOK       = "ok"
	LevelInfo     = "info"
	LevelWarning  = "warning"
	LevelCritical = "critical"
)

var levelRank = map[string]int{LevelOK: 0, LevelInfo: 1, LevelWarning: 2, LevelCritical: 3}

// Alarm is one thing a person should know about.
type Alarm struct {
	Level   string `json:"level"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Seller is the seller the alarm concerns, on a till with several.
	Seller string `json:"seller,omitempty"`
}

// Status is the terminal's state as GET /v1/status and `posagent status` show it.
type Status struct {
	Time     time.Time     `json:"time"`
	Terminal TerminalView  `json:"terminal"`
	Level    string        `json:"level"`
	Alarms   []Alarm       `json:"alarms"`
	Provider HealthView    `json:"provider"`
	Queue    QueueView     `json:"queue"`
	Numbers  []NumbersView `json:"numbers"`
	Printer  PrinterView   `json:"printer"`
	Blank    []BlankView   `json:"blank_numbers,omitempty"`
	// Orders are the orders taken and not yet issued (nil: the store keeps none).
	Orders *OrdersView `json:"orders,omitempty"`
	// Reconcile is the daily reconciliation: its latest run and the open
	// findings; CloseOut the period close-out checklists on show.
	Reconcile *ReconcileView `json:"reconcile,omitempty"`
	CloseOut  []CloseOutView `json:"close_out,omitempty"`
	Demo      map[string]any `json:"demo,omitempty"`
	// Sellers breaks the state down by seller, the default first (one on a
	// single-seller till). Provider and Numbers above are the default's.
	Sellers []SellerView `json:"sellers"`
	// Portugal is a Portuguese terminal's queue of documents (regime "pt").
	Portugal *PTStatusView `json:"portugal,omitempty"`
}

// SellerView is one seller's part of the status.
type SellerView struct {
	TaxID   string `json:"tax_id"`
	Name    string `json:"name"`
	Default bool   `json:"default"`
	// Level is the highest of the seller's alarms.
	Level    string          `json:"level"`
	Provider HealthView      `json:"provider"`
	Queue    SellerQueueView `json:"queue"`
	Numbers  []NumbersView   `json:"numbers"`
}

// SellerQueueView is the open part of a seller's outbox.
type SellerQueueView struct {
	Pending      int         `json:"pending"`
	InFlight     int         `json:"in_flight"`
	Dead         int         `json:"dead"`
	OldestUnsent *UnsentView `json:"oldest_unsent,omitempty"`
}

// TerminalView names the till.
type TerminalView struct {
	MachineID   string `json:"machine_id"`
	SellerTaxID string `json:"seller_tax_id"`
	SellerName  string `json:"seller_name"`
}

// QueueView is the outbox.
type QueueView struct {
	Pending      int         `json:"pending"`
	InFlight     int         `json:"in_flight"`
	Dead         int         `json:"dead"`
	Done         int         `json:"done"`
	OldestUnsent *UnsentView `json:"oldest_unsent,omitempty"`
	LastUpload   time.Time   `json:"last_upload,omitzero"`
}

// UnsentView is the oldest invoice not yet at the provider and its deadline.
type UnsentView struct {
	Number     string    `json:"number"`
	Kind       string    `json:"kind"`
	IssuedAt   time.Time `json:"issued_at"`
	Age        string    `json:"age"`
	AgeSeconds int64     `json:"age_seconds"`
	Deadline   time.Time `json:"deadline"`
}

// NumbersView is what is left of a period's numbers.
type NumbersView struct {
	Period string `json:"period"`
	Label  string `json:"label"`
	Left   int    `json:"left"`
}

// PrinterView is the printer's state.
type PrinterView struct {
	Configured    bool   `json:"configured"`
	Known         bool   `json:"known"`
	Ready         bool   `json:"ready"`
	Reason        string `json:"reason,omitempty"`
	Message       string `json:"message,omitempty"`
	PrintsPending int    `json:"prints_pending"`
}

// BlankView is a retired range with unused numbers (E0402 data).
type BlankView struct {
	Period   string `json:"period"`
	Range    string `json:"range"`
	Unused   int    `json:"unused"`
	Deadline string `json:"report_by"`
	// Seller whose report it is, on a till with several.
	Seller string `json:"seller,omitempty"`
}

// alarmState remembers what was last logged, so that alarms are logged when
// they change and then now and then, not on every status call.
type alarmState struct {
	mu       sync.Mutex
	last     map[string]string // code → message
	loggedAt map[string]time.Time
}

// Status gathers the terminal's state and its alarms, each seller's apart.
func (a *Agent) Status(ctx context.Context) (Status, error) {
	now := a.now()
	if a.pt != nil {
		return a.ptStatus(ctx, now)
	}
	st, err := a.store.Stats(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("status: %w", err)
	}
	s := Status{
		Time:     now.In(posagent.Taipei),
		Terminal: a.Terminal(),
		Queue: QueueView{Pending: st.Jobs[StatePending], InFlight: st.Jobs[StateClaimed], Dead: st.Jobs[StateDead],
			Done: st.Jobs[StateDone], LastUpload: st.LastUpload, OldestUnsent: unsentView(st.OldestUnsent, st.OldestKind, st.OldestIssuedAt, now)},
		Alarms:  []Alarm{},
		Sellers: []SellerView{},
	}
	several := len(a.sellers) > 1
	open := 0
	for _, sl := range a.sellers {
		sv, alarms, err := a.sellerStatus(ctx, sl, now)
		if err != nil {
			return Status{}, fmt.Errorf("status: %w", err)
		}
		open += sv.Queue.Pending + sv.Queue.InFlight + sv.Queue.Dead
		if several {
			for i := range alarms {
				alarms[i].Seller = sl.taxID
				alarms[i].Message = "seller " + sl.taxID + " (" + sv.Name + "): " + alarms[i].Message
			}
		}
		s.Alarms = append(s.Alarms, alarms...)
		s.Sellers = append(s.Sellers, sv)
	}
	// The till's fields keep their single-seller meaning: the default seller's.
	s.Provider, s.Numbers = s.Sellers[0].Provider, s.Sellers[0].Numbers
	if s.Queue.Dead > 0 {
		s.alarm(LevelWarning, "dead_jobs", "%d jobs failed for good and need a person: posagent jobs --dead", s.Queue.Dead)
	}
	if orphans := s.Queue.Pending + s.Queue.InFlight + s.Queue.Dead - open; several && orphans > 0 {
		// Jobs of a seller taken out of the config are never claimed.
		s.alarm(LevelCritical, "seller_unknown", "%d jobs belong to a seller this till no longer lists; put the seller back in [[sellers]] so that they are uploaded before the deadline", orphans)
	}

	a.printerView(&s, st.PrintsPending, "proofs")

	// Blank numbers of recently closed periods stay listed until a month after
	// their report date; their report is a job like any other (dead jobs alarm).
	// Only the periods still inside that window are read (the current one and
	// the last): a till's booklets of past years are never walked here.
	p := posagent.PeriodOf(now)
	var booklets []BookletInfo
	for q := p; q == p || !now.After(q.BlankReportDeadline().AddDate(0, 1, 0)); q = q.Prev() {
		bs, err := a.store.BlankBooklets(ctx, q)
		if err != nil {
			return Status{}, fmt.Errorf("status: %w", err)
		}
		booklets = append(booklets, bs...)
	}
	for _, b := range booklets {
		deadline := b.Period.BlankReportDeadline()
		if !b.Retired || b.Unused == 0 || now.After(deadline.AddDate(0, 1, 0)) {
			continue
		}
		bv := BlankView{Period: b.Period.Code(), Range: b.String(), Unused: b.Unused, Deadline: lastDay(deadline)}
		if several {
			bv.Seller = b.Seller
		}
		s.Blank = append(s.Blank, bv)
	}
	if s.Orders, err = a.ordersStatus(ctx, now); err != nil {
		return Status{}, fmt.Errorf("status: %w", err)
	}
	if o := s.Orders; o != nil && o.Stale > 0 {
		s.alarm(LevelWarning, "stale_orders", "%d orders open longer than %s (the oldest taken %s): issue or cancel them (posagent order list)",
			o.Stale, o.StaleAfter, o.Oldest.Format("2006-01-02 15:04"))
	}
	if err := a.reconcileStatus(ctx, &s, now); err != nil {
		return Status{}, fmt.Errorf("status: %w", err)
	}
	a.settleStatus(&s)
	return s, nil
}

// printerView fills the printer's part of the status; what names the
// documents waiting for it ("proofs", "receipts").
func (a *Agent) printerView(s *Status, pending int, what string) {
	s.Printer = PrinterView{Configured: a.printer != nil, PrintsPending: pending}
	if ps, ok := a.printerStatus.get(); ok {
		s.Printer.Known, s.Printer.Ready, s.Printer.Reason = true, ps.Ready, ps.Reason
		if !ps.Ready {
			s.Printer.Message = cashierMessage(ps.Reason)
			s.alarm(LevelWarning, "printer", "%s; %d %s wait to print", s.Printer.Message, pending, what)
		}
	}
}

// settleStatus adds the demo's state, then sets the level from the alarms
// and puts the worst first.
func (a *Agent) settleStatus(s *Status) {
	if a.demo != nil {
		s.Demo = map[string]any{"provider_down": a.demo.ProviderDown()}
	}
	s.Level = topLevel(s.Alarms)
	sort.SliceStable(s.Alarms, func(i, j int) bool { return levelRank[s.Alarms[i].Level] > levelRank[s.Alarms[j].Level] })
}

// sellerStatus is one seller's provider, outbox and numbers, with the
// alarms that concern it alone: its upload deadline, its provider, its numbers.
func (a *Agent) sellerStatus(ctx context.Context, sl *seller, now time.Time) (SellerView, []Alarm, error) {
	c := a.sellerConf(sl)
	st, err := a.store.SellerStats(ctx, a.claimKeys(sl))
	if err != nil {
		return SellerView{}, nil, err
	}
	sv := SellerView{TaxID: sl.taxID, Name: c.Name, Default: sl == a.defaultSeller(), Provider: a.healthView(sl, now),
		Queue: SellerQueueView{Pending: st.Jobs[StatePending], InFlight: st.Jobs[StateClaimed], Dead: st.Jobs[StateDead],
			OldestUnsent: unsentView(st.OldestUnsent, st.OldestKind, st.OldestIssuedAt, now)}}
	s := Status{} // collects the seller's alarms
	if u := sv.Queue.OldestUnsent; u != nil && u.Kind != JobBlank {
		age := now.Sub(st.OldestIssuedAt)
		what := "invoice " + u.Number
		if u.Kind != "" && u.Kind != JobUpload {
			what = "the " + strings.ReplaceAll(u.Kind, "_", " ") + " of invoice " + u.Number
		}
		switch {
		case age >= a.conf().Alarms.UploadCritical.Duration:
			s.alarm(LevelCritical, "upload_deadline", "%s is not uploaded %s after it was made; the legal limit is 48h (deadline %s)",
				what, age.Round(time.Minute), u.Deadline.Format("2006-01-02 15:04"))
		case age >= a.conf().Alarms.UploadWarning.Duration:
			s.alarm(LevelWarning, "upload_deadline", "%s is not uploaded %s after it was made (deadline %s)",
				what, age.Round(time.Minute), u.Deadline.Format("2006-01-02 15:04"))
		}
	}
	pv := sv.Provider
	switch {
	case pv.Paused:
		what := "the set-up"
		if pv.PauseKind == string(posagent.KindAuth) {
			what = "the credentials"
		}
		s.alarm(LevelCritical, "provider_config", "%s rejected %s; uploads are paused and queued, sales go on: %s; %s",
			pv.Name, what, pv.PauseReason, pv.PauseAction)
	case !pv.Online:
		s.alarm(LevelInfo, "provider_offline", "%s is unreachable; sales go on and are queued", pv.Name)
	}
	if a.conf().ForSeller(c).OnTestPlatform() {
		s.alarm(LevelWarning, "test_platform", "invoices go to ECPay's test platform (%s): they are not legal invoices; for real sales use %s with your merchant's id and keys",
			config.ECPayStageHost, config.ECPayProductionHost)
	}
	if pv.ClockSkew != "" {
		s.alarm(LevelCritical, "clock", "this terminal's clock is off by %s from %s; fix the time", pv.ClockSkew, pv.Name)
	}
	if ar, ok := sl.prov().(posagent.AlarmReporter); ok {
		// Alarms only the provider can see (Amego: the QR key it holds is not
		// the till's), shown and logged like the agent's own.
		for _, al := range ar.ProviderAlarms() {
			level := al.Level
			if _, known := levelRank[level]; !known {
				level = LevelCritical
			}
			s.alarm(level, al.Code, "%s: %s", providerTitle(pv.Name), al.Message)
		}
	}

	p := posagent.PeriodOf(now)
	for _, q := range []posagent.Period{p, p.Next()} {
		left, err := a.store.NumbersLeft(ctx, a.owner(sl), q)
		if err != nil {
			return SellerView{}, nil, err
		}
		sv.Numbers = append(sv.Numbers, NumbersView{Period: q.Code(), Label: q.Label(), Left: left})
	}
	sl.booklets.mu.Lock()
	lowAlarm := sl.booklets.lowAlarm
	sl.booklets.mu.Unlock()
	switch {
	case sv.Numbers[0].Left == 0:
		s.alarm(LevelCritical, "numbers_exhausted", "no invoice numbers left for %s: sales are refused until booklets are added", p.Label())
	case lowAlarm != "":
		s.alarm(LevelWarning, "numbers_low", "%s", lowAlarm)
	}
	sv.Level = topLevel(s.Alarms)
	return sv, s.Alarms, nil
}

// unsentView describes the oldest unsent job and its legal deadline (nil for none).
func unsentView(n posagent.InvoiceNumber, kind string, since, now time.Time) *UnsentView {
	if since.IsZero() || kind == JobBlank {
		return nil
	}
	age := now.Sub(since)
	return &UnsentView{Number: string(n), Kind: kind, IssuedAt: since.In(posagent.Taipei),
		Age: age.Round(time.Second).String(), AgeSeconds: int64(age.Seconds()),
		Deadline: since.Add(LegalUploadLimit).In(posagent.Taipei)}
}

// topLevel is the highest level of alarms (ok when none).
func topLevel(alarms []Alarm) string {
	level := LevelOK
	for _, al := range alarms {
		if levelRank[al.Level] > levelRank[level] {
			level = al.Level
		}
	}
	return level
}

func (s *Status) alarm(level, code, format string, args ...any) {
	s.Alarms = append(s.Alarms, Alarm{Level: level, Code: code, Message: fmt.Sprintf(format, args...)})
}

// alarmLoop logs warnings and critical alarms when they appear or change, and
// repeats them every ten minutes while they last.
func (a *Agent) alarmLoop(ctx context.Context) {
	t := time.NewTicker(10 * a.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s, err := a.Status(ctx)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Error("status for alarms", "err", err)
			}
			continue
		}
		a.logAlarms(s)
	}
}

func (a *Agent) logAlarms(s Status) {
	as := &a.alarms
	as.mu.Lock()
	defer as.mu.Unlock()
	if as.last == nil {
		as.last, as.loggedAt = map[string]string{}, map[string]time.Time{}
	}
	seen := map[string]bool{}
	for _, al := range s.Alarms {
		if levelRank[al.Level] < levelRank[LevelWarning] {
			continue
		}
		id := al.Code
		if al.Seller != "" {
			id += " " + al.Seller // the same alarm of two sellers is two alarms
		}
		seen[id] = true
		key := al.Level + " " + al.Message
		if as.last[id] == key && s.Time.Sub(as.loggedAt[id]) < 10*time.Minute {
			continue
		}
		as.last[id], as.loggedAt[id] = key, s.Time
		if al.Level == LevelCritical {
			a.log.Error("ALARM", "code", al.Code, "message", al.Message)
		} else {
			a.log.Warn("alarm", "code", al.Code, "message", al.Message)
		}
	}
	for code := range as.last {
		if !seen[code] {
			a.log.Info("alarm cleared", "code", code)
			delete(as.last, code)
			delete(as.loggedAt, code)
		}
	}
}

// lastDay names the last day before a deadline instant: a report due "by the
// 10th" has its deadline at the 11th, 00:00.
func lastDay(deadline time.Time) string {
	return deadline.In(posagent.Taipei).Add(-time.Nanosecond).Format("2006-01-02")
}

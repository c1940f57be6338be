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
}

// alarmState remembers what was last logged, so that alarms are logged when
// they change and then now and then, not on every status call.
type alarmState struct {
	mu       sync.Mutex
	last     map[string]string // code → message
	loggedAt map[string]time.Time
}

// Status gathers the terminal's state and its alarms.
func (a *Agent) Status(ctx context.Context) (Status, error) {
	now := a.now()
	st, err := a.store.Stats(ctx)
	if err != nil {
		return Status{}, fmt.Errorf("status: %w", err)
	}
	s := Status{
		Time: now.In(posagent.Taipei),
		Terminal: TerminalView{MachineID: a.conf().Terminal.MachineID, SellerTaxID: a.conf().Terminal.SellerTaxID,
			SellerName: a.conf().Terminal.SellerName},
		Provider: a.healthView(now),
		Queue: QueueView{Pending: st.Jobs[StatePending], InFlight: st.Jobs[StateClaimed], Dead: st.Jobs[StateDead],
			Done: st.Jobs[StateDone], LastUpload: st.LastUpload},
		Alarms: []Alarm{},
	}
	if !st.OldestIssuedAt.IsZero() && st.OldestKind != JobBlank {
		age := now.Sub(st.OldestIssuedAt)
		what := "invoice " + string(st.OldestUnsent)
		if st.OldestKind != "" && st.OldestKind != JobUpload {
			what = "the " + strings.ReplaceAll(st.OldestKind, "_", " ") + " of invoice " + string(st.OldestUnsent)
		}
		s.Queue.OldestUnsent = &UnsentView{Number: string(st.OldestUnsent), Kind: st.OldestKind, IssuedAt: st.OldestIssuedAt.In(posagent.Taipei),
			Age: age.Round(time.Second).String(), AgeSeconds: int64(age.Seconds()),
			Deadline: st.OldestIssuedAt.Add(LegalUploadLimit).In(posagent.Taipei)}
		switch {
		case age >= a.conf().Alarms.UploadCritical.Duration:
			s.alarm(LevelCritical, "upload_deadline", "%s is not uploaded %s after it was made; the legal limit is 48h (deadline %s)",
				what, age.Round(time.Minute), s.Queue.OldestUnsent.Deadline.Format("2006-01-02 15:04"))
		case age >= a.conf().Alarms.UploadWarning.Duration:
			s.alarm(LevelWarning, "upload_deadline", "%s is not uploaded %s after it was made (deadline %s)",
				what, age.Round(time.Minute), s.Queue.OldestUnsent.Deadline.Format("2006-01-02 15:04"))
		}
	}
	if s.Queue.Dead > 0 {
		s.alarm(LevelWarning, "dead_jobs", "%d jobs failed for good and need a person: posagent jobs --dead", s.Queue.Dead)
	}
	pv := s.Provider
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
	if a.conf().OnTestPlatform() {
		s.alarm(LevelWarning, "test_platform", "invoices go to ECPay's test platform (%s): they are not legal invoices; for real sales use %s with your merchant's id and keys",
			config.ECPayStageHost, config.ECPayProductionHost)
	}
	if pv.ClockSkew != "" {
		s.alarm(LevelCritical, "clock", "this terminal's clock is off by %s from %s; fix the time", pv.ClockSkew, pv.Name)
	}
	if ar, ok := a.prov().(posagent.AlarmReporter); ok {
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
		left, err := a.store.NumbersLeft(ctx, q)
		if err != nil {
			return Status{}, fmt.Errorf("status: %w", err)
		}
		s.Numbers = append(s.Numbers, NumbersView{Period: q.Code(), Label: q.Label(), Left: left})
	}
	a.booklets.mu.Lock()
	lowAlarm := a.booklets.lowAlarm
	a.booklets.mu.Unlock()
	switch {
	case s.Numbers[0].Left == 0:
		s.alarm(LevelCritical, "numbers_exhausted", "no invoice numbers left for %s: sales are refused until booklets are added", p.Label())
	case lowAlarm != "":
		s.alarm(LevelWarning, "numbers_low", "%s", lowAlarm)
	}

	s.Printer = PrinterView{Configured: a.printer != nil, PrintsPending: st.PrintsPending}
	if ps, ok := a.printerStatus.get(); ok {
		s.Printer.Known, s.Printer.Ready, s.Printer.Reason = true, ps.Ready, ps.Reason
		if !ps.Ready {
			s.Printer.Message = cashierMessage(ps.Reason)
			s.alarm(LevelWarning, "printer", "%s; %d proofs wait to print", s.Printer.Message, st.PrintsPending)
		}
	}

	// Blank numbers of recently closed periods stay listed until a month after
	// their report date; their report is a job like any other (dead jobs alarm).
	// Only the periods still inside that window are read (the current one and
	// the last): a till's booklets of past years are never walked here.
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
		s.Blank = append(s.Blank, BlankView{Period: b.Period.Code(), Range: b.String(), Unused: b.Unused,
			Deadline: lastDay(deadline)})
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
	if a.demo != nil {
		s.Demo = map[string]any{"provider_down": a.demo.ProviderDown()}
	}
	s.Level = LevelOK
	for _, al := range s.Alarms {
		if levelRank[al.Level] > levelRank[s.Level] {
			s.Level = al.Level
		}
	}
	sort.SliceStable(s.Alarms, func(i, j int) bool { return levelRank[s.Alarms[i].Level] > levelRank[s.Alarms[j].Level] })
	return s, nil
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
		seen[al.Code] = true
		key := al.Level + " " + al.Message
		if as.last[al.Code] == key && s.Time.Sub(as.loggedAt[al.Code]) < 10*time.Minute {
			continue
		}
		as.last[al.Code], as.loggedAt[al.Code] = key, s.Time
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

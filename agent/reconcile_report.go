package agent

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// The reconciliation's outputs beyond the run itself: the day's CSV report,
// the alarms and figures in status, and the period close-out checklist.

// reportColumns are the CSV report's header.
var reportColumns = []string{"date", "kind", "level", "invoice", "document", "difference", "fix", "status", "first_seen", "last_seen"}

// ReportCSV writes the findings of a day's run as CSV: UTF-8 with a byte
// order mark (so that Excel, which most shops open it with, reads the
// Chinese), one header line, one line per finding. A clean day is the
// header alone.
func ReportCSV(findings []FindingView) []byte {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	w := csv.NewWriter(&b)
	_ = w.Write(reportColumns)
	for _, f := range findings {
		status := "open"
		if f.Mended {
			status = "mended"
		}
		_ = w.Write([]string{f.Day, f.Kind, f.Level, f.Number, f.Document, CSVSafe(f.Difference), CSVSafe(f.Fix), status,
			f.FirstSeen.In(posagent.Taipei).Format(time.DateTime), f.LastSeen.In(posagent.Taipei).Format(time.DateTime)})
	}
	w.Flush()
	return b.Bytes()
}

// CSVSafe keeps a spreadsheet from taking a cell for a formula: text that
// begins with = + - @ (or a tab or carriage return) gets a leading quote. A
// provider's words and a cashier's reasons go through it.
func CSVSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// reportPath is where the day's report is written: reports/ beside the store.
func (a *Agent) reportPath(day string) string {
	return filepath.Join(filepath.Dir(a.conf().Store.Path), "reports", "reconcile-"+day+".csv")
}

// writeReport writes the day's report whole or not at all (a temporary file
// renamed over the last one).
func (a *Agent) writeReport(day string, findings []queue.Finding) (string, error) {
	path := a.reportPath(day)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", fmt.Errorf("reconciliation report: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".reconcile-*.csv")
	if err != nil {
		return "", fmt.Errorf("reconciliation report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(ReportCSV(findingViews(findings))); err != nil {
		tmp.Close()
		return "", fmt.Errorf("reconciliation report %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", fmt.Errorf("reconciliation report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("reconciliation report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("reconciliation report %s: %w", path, err)
	}
	return path, nil
}

// ReconcileView is the reconciliation's part of the status.
type ReconcileView struct {
	// Enabled and At are the daily schedule.
	Enabled bool   `json:"enabled"`
	At      string `json:"at"`
	// LastRun is the latest run, nil before the first.
	LastRun *RunView `json:"last_run,omitempty"`
	// Open counts the findings no later run cleared, mended ones included.
	Open int `json:"open"`
	// Findings are the open findings that need a person.
	Findings []FindingView `json:"findings,omitempty"`
	// ByKind counts the open findings by kind, for the metrics.
	ByKind map[string]int `json:"by_kind,omitempty"`
}

// maxStatusFindings bounds the findings status lists (the console lists all).
const maxStatusFindings = 20

// reconcileStatus adds the reconciliation's view and alarms to a status.
func (a *Agent) reconcileStatus(ctx context.Context, s *Status, now time.Time) error {
	rs, err := a.reconcileStore()
	if err != nil {
		return nil // a store without reconciliations (tests' memory store)
	}
	cfg := a.conf().Reconcile
	v := &ReconcileView{Enabled: cfg.Enabled, At: cfg.At, ByKind: map[string]int{}}
	runs, err := rs.ReconcileRuns(ctx, 1)
	if err != nil {
		return err
	}
	if len(runs) > 0 {
		fs, err := rs.RunFindings(ctx, runs[0].ID)
		if err != nil {
			return err
		}
		rv := runView(runs[0], fs)
		v.LastRun = &rv
		if rv.Error != "" {
			s.alarm(LevelWarning, "reconcile_failed", "the reconciliation of %s could not ask the provider: %s; run posagent reconcile --date %s again",
				rv.Day, rv.Error, rv.Day)
		}
	}
	open, err := rs.OpenFindings(ctx)
	if err != nil {
		return err
	}
	v.Open = len(open)
	byKind := map[string][]queue.Finding{}
	for _, f := range open {
		v.ByKind[f.Kind]++
		if f.Mended {
			continue
		}
		if f.Kind == FindNotAccepted {
			// The deadline counts to acceptance where the provider tells it:
			// a document still without the platform's verdict raises the
			// upload deadline's alarms.
			age := now.Sub(f.IssuedAt)
			deadline := f.IssuedAt.Add(LegalUploadLimit).In(posagent.Taipei).Format("2006-01-02 15:04")
			switch {
			case f.IssuedAt.IsZero():
			case age >= a.conf().Alarms.UploadCritical.Duration:
				s.alarm(LevelCritical, "acceptance_deadline", "the %s of invoice %s is not accepted by the platform %s after it was made; the legal limit is 48h (deadline %s)",
					f.Document, f.Number, age.Round(time.Minute), deadline)
			case age >= a.conf().Alarms.UploadWarning.Duration:
				s.alarm(LevelWarning, "acceptance_deadline", "the %s of invoice %s is not accepted by the platform %s after it was made (deadline %s)",
					f.Document, f.Number, age.Round(time.Minute), deadline)
			}
		}
		if f.Level == LevelInfo {
			continue
		}
		byKind[f.Kind] = append(byKind[f.Kind], f)
		if len(v.Findings) < maxStatusFindings {
			v.Findings = append(v.Findings, findingView(f))
		}
	}
	for _, kind := range findingKinds {
		fs := byKind[kind]
		if len(fs) == 0 {
			continue
		}
		level := LevelWarning
		for _, f := range fs {
			if f.Level == LevelCritical {
				level = LevelCritical
			}
		}
		first := fs[0]
		what := first.Difference
		if first.Number != "" {
			what = string(first.Number) + ": " + what
		}
		more := ""
		if len(fs) > 1 {
			more = fmt.Sprintf(" (and %d more)", len(fs)-1)
		}
		s.alarm(level, "reconcile_"+kind, "reconciliation of %s: %s%s; fix: %s", first.Day, what, more, first.Fix)
	}
	s.Reconcile = v
	return a.closeOutStatus(ctx, rs, s, now)
}

// CloseOutView is a period's close-out checklist.
type CloseOutView struct {
	Period   string         `json:"period"`
	Label    string         `json:"label"`
	LastDay  string         `json:"last_day"`
	Complete bool           `json:"complete"`
	Items    []CloseOutItem `json:"items"`
}

// CloseOutItem is one line of the checklist. State is "done", "todo" (posagent
// or a person still has to do it; Deadline says by when) or "check" (posagent
// cannot tell: the detail says what a person should look at).
type CloseOutItem struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Detail   string `json:"detail"`
	Deadline string `json:"deadline,omitempty"`
}

// UnleasedLister is a booklet source that knows the numbers it was given for
// the period and handed to no till (the head office: hq.Source).
type UnleasedLister interface {
	Unleased(ctx context.Context, p posagent.Period) ([]posagent.Booklet, error)
}

// closeOutStatus shows the checklist of the current period from its last
// days (reconcile.close_out_days) and of the period before until complete.
func (a *Agent) closeOutStatus(ctx context.Context, rs ReconcileStore, s *Status, now time.Time) error {
	p := posagent.PeriodOf(now)
	days := a.conf().Reconcile.CloseOutDays
	var periods []posagent.Period
	// The period before stays listed until complete, and at most until its
	// blank-number report date has passed by a month.
	if prev := p.Prev(); !now.After(prev.BlankReportDeadline().AddDate(0, 1, 0)) {
		periods = append(periods, prev)
	}
	if days > 0 && !now.Before(p.End().AddDate(0, 0, -days)) {
		periods = append(periods, p)
	}
	for _, q := range periods {
		c, err := a.cachedCloseOut(ctx, q, now)
		if err != nil {
			return err
		}
		if q != p && c.Complete {
			continue
		}
		s.CloseOut = append(s.CloseOut, c)
		if !c.Complete {
			var todo []string
			for _, it := range c.Items {
				if it.State == "todo" {
					todo = append(todo, it.Detail)
				}
			}
			level := LevelInfo
			if now.After(q.End()) {
				level = LevelWarning
			}
			s.alarm(level, "close_out", "close-out of %s: %d things left: %s", q.Label(), len(todo), strings.Join(todo, "; "))
		}
	}
	return nil
}

// closeOutTTL is how long status reuses a checklist: status is read every
// few seconds (console, metrics, alarms), the checklist may ask the head
// office, and nothing in it changes by the second.
const closeOutTTL = time.Minute

func (a *Agent) cachedCloseOut(ctx context.Context, p posagent.Period, now time.Time) (CloseOutView, error) {
	st := &a.reconcile
	st.guard.Lock()
	c, ok := st.closeOut[p]
	st.guard.Unlock()
	if ok && now.Sub(c.at) >= 0 && now.Sub(c.at) < closeOutTTL {
		return c.view, nil
	}
	v, err := a.CloseOut(ctx, p)
	if err != nil {
		return CloseOutView{}, err
	}
	st.guard.Lock()
	if st.closeOut == nil {
		st.closeOut = map[posagent.Period]cachedCloseOut{}
	}
	st.closeOut[p] = cachedCloseOut{at: now, view: v}
	st.guard.Unlock()
	return v, nil
}

type cachedCloseOut struct {
	at   time.Time
	view CloseOutView
}

// CloseOut builds a period's checklist: every invoice uploaded and accepted,
// every void and allowance likewise, the blank numbers reported, and the head
// office's numbers no till holds accounted for.
func (a *Agent) CloseOut(ctx context.Context, p posagent.Period) (CloseOutView, error) {
	rs, err := a.reconcileStore()
	if err != nil {
		return CloseOutView{}, err
	}
	now := a.now()
	finalDay := p.End().AddDate(0, 0, -1)
	c := CloseOutView{Period: p.Code(), Label: p.Label(), LastDay: finalDay.Format(time.DateOnly)}
	open, err := rs.PeriodOpenJobs(ctx, p)
	if err != nil {
		return CloseOutView{}, err
	}
	findings, err := rs.PeriodFindings(ctx, p)
	if err != nil {
		return CloseOutView{}, err
	}
	count := func(kinds ...string) (n int, example string) {
		for _, f := range findings {
			if containsString(kinds, f.Kind) {
				if n == 0 {
					example = string(f.Number) + " " + f.Difference
				}
				n++
			}
		}
		return n, example
	}
	tellsAcceptance, silent := true, ""
	for _, sl := range a.sellers {
		if _, ok := sl.prov().(posagent.Reconciler); !ok {
			tellsAcceptance, silent = false, providerTitle(sl.prov().Name())
		}
	}
	lastRun, reconciled, err := rs.LatestRun(ctx, c.LastDay, "")
	if err != nil {
		return CloseOutView{}, err
	}
	ended := !now.Before(p.End())
	issued, err := rs.PeriodIssued(ctx, p)
	if err != nil {
		return CloseOutView{}, err
	}
	deadline := finalDay.AddDate(0, 0, 2).Format(time.DateOnly) // 48 h after the last sale

	item := func(name string, openJobs int, kinds []string, what string) CloseOutItem {
		it := CloseOutItem{Name: name, Deadline: deadline}
		n, example := count(kinds...)
		switch {
		case openJobs > 0:
			it.State, it.Detail = "todo", fmt.Sprintf("%d %s still to upload (posagent status, posagent jobs)", openJobs, what)
		case n > 0:
			it.State, it.Detail = "todo", fmt.Sprintf("%d %s with a reconciliation finding, e.g. %s", n, what, example)
		case !ended:
			it.State, it.Detail = "todo", "the period has not ended"
		case !issued:
			it.State, it.Detail, it.Deadline = "done", "this till issued no invoice in the period", ""
		case !reconciled || lastRun.Error != "":
			it.State, it.Detail = "todo", fmt.Sprintf("the period's last day is not reconciled yet (posagent reconcile --date %s)", c.LastDay)
		case !tellsAcceptance:
			it.State, it.Detail = "check", fmt.Sprintf("all %s uploaded; %s does not report the platform's verdict: check acceptance on the platform", what, silent)
		default:
			it.State, it.Detail, it.Deadline = "done", fmt.Sprintf("all %s uploaded and none differs at the provider", what), ""
		}
		return it
	}
	c.Items = append(c.Items,
		item("invoices_accepted", open[queue.JobUpload], []string{FindMissing, FindNoJob, FindAmount, FindRejected, FindNotAccepted, FindSkipped, FindDateOrder, FindOutOfOrder, FindSummary}, "invoices"),
		item("voids_accepted", open[queue.JobVoid]+open[queue.JobAllowance]+open[queue.JobAllowanceVoid],
			[]string{FindVoidMissing, FindAllowanceMissing, FindAllowanceVoid, FindRemaining, FindAnswerLost}, "voids and allowances"))

	blank := CloseOutItem{Name: "blank_numbers", Deadline: lastDay(p.BlankReportDeadline())}
	report, err := rs.PeriodBlankReport(ctx, p)
	if err != nil {
		return CloseOutView{}, err
	}
	booklets, err := rs.Booklets(ctx, p)
	if err != nil {
		return CloseOutView{}, err
	}
	retired, unused := true, 0
	for _, b := range booklets {
		retired = retired && b.Retired()
		unused += b.Unused
	}
	switch {
	case !ended:
		blank.State, blank.Detail = "todo", "after the period ends posagent reports its unused numbers blank (E0402)"
	case !retired:
		blank.State, blank.Detail = "todo", "the period's booklets are not retired yet: posagent retires them after the period ends"
	case report.Queued && report.State == queue.JobDone:
		blank.State, blank.Detail, blank.Deadline = "done", fmt.Sprintf("the %d blank numbers were reported", unused), ""
	case report.Queued && report.State == queue.JobDead:
		blank.State, blank.Detail = "todo", "the blank-number report failed and needs a person: "+report.Error
	case report.Queued:
		blank.State, blank.Detail = "todo", fmt.Sprintf("the report of %d blank numbers is queued", unused)
	case unused == 0:
		blank.State, blank.Detail, blank.Deadline = "done", "no number was left unused", ""
	default:
		blank.State, blank.Detail = "todo", fmt.Sprintf("%d numbers were left unused and no report is queued: report them blank (E0402) on the platform", unused)
	}
	c.Items = append(c.Items, blank)

	hq := CloseOutItem{Name: "head_office_numbers", Deadline: lastDay(p.BlankReportDeadline())}
	var bs []posagent.Booklet
	var hqErr error
	asked := false
	for _, sl := range a.sellers {
		if ul, ok := sl.leaseSource().(UnleasedLister); ok {
			asked = true
			got, err := ul.Unleased(ctx, p)
			if err != nil {
				hqErr = err
			}
			bs = append(bs, got...)
		}
	}
	switch {
	case !asked:
		hq.State, hq.Detail = "check", "numbers are not leased from a head office here; if the seller's other tills or head office hold unused numbers of the period, they report them blank"
	case hqErr != nil:
		hq.State, hq.Detail = "check", "the head office could not be asked which numbers no till holds: "+messageOf(hqErr)
	case len(bs) == 0:
		hq.State, hq.Detail, hq.Deadline = "done", "the head office holds no number that no till took", ""
	default:
		var ranges []string
		n := 0
		for _, b := range bs {
			ranges = append(ranges, b.String())
			n += b.Last - b.First + 1
		}
		sort.Strings(ranges)
		hq.State, hq.Detail = "check", fmt.Sprintf("the head office holds %d numbers no till took (%s): report them blank (E0402) on the platform if not done", n, strings.Join(ranges, ", "))
	}
	c.Items = append(c.Items, hq)
	c.Complete = true
	for _, it := range c.Items {
		if it.State == "todo" {
			c.Complete = false
		}
	}
	return c, nil
}

// reconcileMetricKinds is the kinds label of posagent_reconcile_findings.
func reconcileMetricKinds(v *ReconcileView) map[string]float64 {
	out := map[string]float64{}
	for _, k := range findingKinds {
		out[k] = 0
	}
	if v != nil {
		for k, n := range v.ByKind {
			out[k] = float64(n)
		}
	}
	return out
}

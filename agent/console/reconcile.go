package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
)

// The Reconciliation page: the latest runs, the findings no later run has
// cleared with the invoice, the difference and the fix, the period close-out
// checklist, a form to check a day now, and each day's CSV report.

type reconcileView struct {
	Enabled   bool
	At        string
	Yesterday string
	Runs      []agent.RunView
	Open      []agent.FindingView
	CloseOut  []agent.CloseOutView
}

func (c *Console) reconcilePage(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	st, err := c.a.Status(ctx)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	runs, err := c.a.ReconcileRuns(ctx, 30)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	open, err := c.a.OpenFindings(ctx)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	v := reconcileView{Runs: runs, Open: open, CloseOut: st.CloseOut,
		Yesterday: c.clock().In(posagent.Taipei).AddDate(0, 0, -1).Format(time.DateOnly)}
	if st.Reconcile != nil {
		v.Enabled, v.At = st.Reconcile.Enabled, st.Reconcile.At
	}
	c.render(w, req, http.StatusOK, "reconcile", "reconcile", v)
}

func (c *Console) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// reconcileNow checks a day now (as `posagent reconcile --date`).
func (c *Console) reconcileNow(w http.ResponseWriter, r *http.Request, req *request) {
	day, err := agent.ParseDay(strings.TrimSpace(r.PostFormValue("date")))
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	res, err := c.a.Reconcile(r.Context(), day, agent.TriggerDemand)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	msg := tf(req.lang, "flash.reconciled", res.Run.Day, res.Run.Findings, res.Run.Mended)
	if res.Run.Clean {
		msg = tf(req.lang, "flash.reconciledClean", res.Run.Day)
	}
	c.done(w, r, req, "/reconcile", msg)
}

// reconcileCSV downloads a day's report, /reconcile/2026-12-03.csv.
func (c *Console) reconcileCSV(w http.ResponseWriter, r *http.Request, req *request) {
	name := r.PathValue("file")
	day, err := agent.ParseDay(strings.TrimSuffix(name, ".csv"))
	if err != nil || !strings.HasSuffix(name, ".csv") {
		c.fail(w, r, req, http.StatusNotFound, req.T("err.notfound"))
		return
	}
	res, err := c.a.ReconcileDay(r.Context(), day)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="reconcile-%s.csv"`, res.Run.Day))
	_, _ = w.Write(agent.ReportCSV(res.Findings))
}

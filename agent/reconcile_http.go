package agent

import (
	"net/http"
	"strconv"
)

// handleReconcile runs a reconciliation now (POST /v1/reconcile): the day is
// the body's {"date": "YYYY-MM-DD"} or the query's ?date=, yesterday when
// neither is given.
func (a *Agent) handleReconcile(w http.ResponseWriter, r *http.Request) {
	day := r.URL.Query().Get("date")
	if r.ContentLength != 0 { // a body is optional here
		body, ok := readBody(w, r, maxSmallBody)
		if !ok {
			return
		}
		var req struct {
			Date string `json:"date"`
		}
		if err := decodeStrict(body, &req); err != nil {
			malformed(w, err)
			return
		}
		if req.Date != "" {
			day = req.Date
		}
	}
	d := dayOf(a.now()).AddDate(0, 0, -1)
	if day != "" {
		var err error
		if d, err = ParseDay(day); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	res, err := a.Reconcile(r.Context(), d, TriggerDemand)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// handleReconcileList shows the latest runs and the open findings
// (GET /v1/reconcile?limit=N, default 30).
func (a *Agent) handleReconcileList(w http.ResponseWriter, r *http.Request) {
	limit := 30
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, APIError{Code: codeMalformed, Field: "limit", Message: "must be 1 to 1000"})
			return
		}
		limit = n
	}
	runs, err := a.ReconcileRuns(r.Context(), limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	open, err := a.OpenFindings(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": runs, "open_findings": open})
}

// dayResult is the latest run of the path's {date}, or the error answered.
func (a *Agent) dayResult(w http.ResponseWriter, r *http.Request) (ReconcileResult, bool) {
	d, err := ParseDay(r.PathValue("date"))
	if err != nil {
		a.fail(w, r, err)
		return ReconcileResult{}, false
	}
	res, err := a.ReconcileDay(r.Context(), d)
	if err != nil {
		a.fail(w, r, err)
		return ReconcileResult{}, false
	}
	return res, true
}

// handleReconcileDay is a day's latest run (GET /v1/reconcile/{date}).
func (a *Agent) handleReconcileDay(w http.ResponseWriter, r *http.Request) {
	if res, ok := a.dayResult(w, r); ok {
		writeJSON(w, http.StatusOK, res)
	}
}

// handleReconcileCSV is a day's report (GET /v1/reconcile/{date}/report.csv),
// made from the stored findings of the day's latest run.
func (a *Agent) handleReconcileCSV(w http.ResponseWriter, r *http.Request) {
	res, ok := a.dayResult(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="reconcile-`+res.Run.Day+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(ReportCSV(res.Findings))
}

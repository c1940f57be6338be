package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/posagent/posagent/agent"
)

// runReconcile: posagent reconcile [--date YYYY-MM-DD] | reconcile open
func runReconcile(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	fs := newFlags("reconcile", std, `reconcile [--date YYYY-MM-DD] [--json]   check a day (default yesterday) with the provider now
       reconcile open [--json]                  list the findings no later run has cleared`)
	cf.register(fs)
	date := fs.String("date", "", "the day to check, Asia/Taipei (default yesterday)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 1 && rest[0] == "open":
		if *date != "" {
			return usagef("reconcile open lists every open finding: it takes no --date")
		}
		var out struct {
			Open []agent.FindingView `json:"open_findings"`
		}
		if printed, err := cf.call(ctx, std, "GET", "/v1/reconcile?limit=1", nil, &out); printed || err != nil {
			return err
		}
		if len(out.Open) == 0 {
			fmt.Fprintln(std.out, "no open findings")
			return nil
		}
		writeFindings(std.out, out.Open)
		return exitError{1}
	case len(rest) > 0:
		return usagef("reconcile takes no arguments but `open`")
	}
	var body []byte
	if *date != "" {
		if _, err := agent.ParseDay(*date); err != nil {
			return usagef("--date %q is not a day YYYY-MM-DD", *date)
		}
		body, _ = json.Marshal(map[string]string{"date": *date})
	}
	var res agent.ReconcileResult
	if printed, err := cf.call(ctx, std, "POST", "/v1/reconcile", body, &res); printed || err != nil {
		return err
	}
	r := res.Run
	fmt.Fprintf(std.out, "reconciled %s with %s: %d documents, %d asked, %d queued again\n", r.Day, r.Provider, r.Documents, r.Asked, r.Mended)
	if r.Summary != "" {
		fmt.Fprintf(std.out, "summary    %s\n", r.Summary)
	}
	if r.Error != "" {
		fmt.Fprintf(std.out, "NOT ASKED  %s\n", r.Error)
	}
	if r.Clean {
		fmt.Fprintln(std.out, "clean: the provider holds what posagent sent, and the numbers are in order")
	} else {
		writeFindings(std.out, res.Findings)
	}
	if res.Report != "" {
		fmt.Fprintf(std.out, "report     %s\n", res.Report)
	}
	if !r.Clean {
		return exitError{1}
	}
	return nil
}

func writeFindings(w io.Writer, fs []agent.FindingView) {
	for _, f := range fs {
		state := "[" + f.Level + "]"
		if f.Mended {
			state = "[mended]"
		}
		fmt.Fprintf(w, "%-10s %s %s", state, f.Day, f.Kind)
		if f.Number != "" {
			fmt.Fprintf(w, " %s", f.Number)
		}
		if f.Document != "" && f.Document != "invoice" {
			fmt.Fprintf(w, " (%s)", f.Document)
		}
		fmt.Fprintf(w, ": %s\n           fix: %s\n", f.Difference, f.Fix)
	}
}

// writeReconcileStatus adds the reconciliation and the close-out checklist
// to `posagent status`.
func writeReconcileStatus(w io.Writer, s agent.Status) {
	if rv := s.Reconcile; rv != nil {
		line := "not run yet"
		if r := rv.LastRun; r != nil {
			line = fmt.Sprintf("last %s (%s): ", r.Day, r.Trigger)
			if r.Clean {
				line += "clean"
			} else {
				line += fmt.Sprintf("%d findings", r.Findings)
			}
		}
		sched := "daily at " + rv.At
		if !rv.Enabled {
			sched = "on demand only"
		}
		fmt.Fprintf(w, "reconcile  %s; %d open; %s\n", line, rv.Open, sched)
	}
	for _, c := range s.CloseOut {
		state := "open"
		if c.Complete {
			state = "complete"
		}
		fmt.Fprintf(w, "close-out  %s (%s, last day %s): %s\n", c.Label, c.Period, c.LastDay, state)
		for _, it := range c.Items {
			by := ""
			if it.Deadline != "" && it.State != "done" {
				by = " (by " + it.Deadline + ")"
			}
			fmt.Fprintf(w, "           [%s] %s: %s%s\n", it.State, it.Name, it.Detail, by)
		}
	}
}

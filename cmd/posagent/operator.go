package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
)

// runStatus: posagent status [--json]
func runStatus(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	fs := newFlags("status", std, "status [--json] [--config PATH | --addr HOST:PORT --token T]")
	cf.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("status takes no arguments")
	}
	var s agent.Status
	if printed, err := cf.call(ctx, std, "GET", "/v1/status", nil, &s); printed || err != nil {
		return err
	}
	writeStatus(std.out, s)
	if s.Level == agent.LevelCritical {
		return exitError{3}
	}
	return nil
}

func writeStatus(w io.Writer, s agent.Status) {
	zone := posagent.Taipei
	if s.Portugal != nil {
		zone = posagent.Lisbon
	}
	fmt.Fprintf(w, "posagent on %s for %s %s — %s\n", s.Terminal.MachineID, s.Terminal.SellerTaxID, s.Terminal.SellerName,
		strings.ToUpper(s.Level))
	for _, a := range s.Alarms {
		fmt.Fprintf(w, "  [%s] %s\n", a.Level, a.Message)
	}
	p := s.Provider
	state := "online"
	switch {
	case p.Paused:
		what := "set-up"
		if p.PauseKind == string(posagent.KindAuth) {
			what = "credentials"
		}
		state = "PAUSED (" + what + " rejected"
		if !p.PausedSince.IsZero() {
			state += " since " + p.PausedSince.In(zone).Format("2006-01-02 15:04:05")
		}
		state += "; uploads queue up): " + p.PauseReason
		if p.PauseAction != "" {
			state += "; " + p.PauseAction
		}
		if !p.NextProbe.IsZero() {
			state += "; it tries again by itself at " + p.NextProbe.In(zone).Format("15:04:05")
		}
	case !p.Online:
		state = "offline"
	}
	fmt.Fprintf(w, "provider   %s: %s", p.Name, state)
	if !p.LastSuccess.IsZero() {
		fmt.Fprintf(w, ", last success %s", p.LastSuccess.In(zone).Format("2006-01-02 15:04:05"))
	}
	if !p.HeldUntil.IsZero() {
		fmt.Fprintf(w, ", calls held until %s (%s)", p.HeldUntil.In(zone).Format("15:04:05"), p.HoldReason)
	}
	if !p.NextAttempt.IsZero() {
		fmt.Fprintf(w, ", next try %s", p.NextAttempt.In(zone).Format("15:04:05"))
	}
	if p.LastError != "" && !p.Online {
		fmt.Fprintf(w, ", last error: %s", p.LastError)
	}
	fmt.Fprintln(w)
	if s.Portugal == nil { // Taiwan: the outbox and the invoice numbers
		q := s.Queue
		fmt.Fprintf(w, "queue      %d waiting, %d sending, %d dead, %d done\n", q.Pending, q.InFlight, q.Dead, q.Done)
		if u := q.OldestUnsent; u != nil {
			fmt.Fprintf(w, "oldest     %s issued %s (%s ago), upload deadline %s\n", u.Number,
				u.IssuedAt.Format("2006-01-02 15:04"), u.Age, u.Deadline.Format("2006-01-02 15:04"))
		}
		for _, n := range s.Numbers {
			fmt.Fprintf(w, "numbers    %s (%s): %d left\n", n.Label, n.Period, n.Left)
		}
	}
	pr := s.Printer
	paper := "proofs"
	if s.Portugal != nil {
		paper = "receipts"
	}
	switch {
	case !pr.Configured:
		fmt.Fprintln(w, "printer    none configured")
	case !pr.Known:
		fmt.Fprintf(w, "printer    not asked yet; %d %s waiting\n", pr.PrintsPending, paper)
	case pr.Ready:
		fmt.Fprintf(w, "printer    ready; %d %s waiting\n", pr.PrintsPending, paper)
	default:
		fmt.Fprintf(w, "printer    %s; %d %s waiting\n", pr.Message, pr.PrintsPending, paper)
	}
	if o := s.Orders; o != nil && o.Open > 0 {
		fmt.Fprintf(w, "orders     %d open, %d open longer than %s (posagent order list)\n", o.Open, o.Stale, o.StaleAfter)
	}
	for _, b := range s.Blank {
		fmt.Fprintf(w, "blank      %s %s: %d unused, report by %s\n", b.Period, b.Range, b.Unused, b.Deadline)
	}
	if s.Portugal != nil {
		writePTStatus(w, s.Portugal)
	}
	if len(s.Sellers) > 1 {
		for _, sv := range s.Sellers {
			writeSeller(w, sv)
		}
	}
	writeReconcileStatus(w, s)
	if down, ok := s.Demo["provider_down"].(bool); ok {
		fmt.Fprintf(w, "demo       provider stand-in down: %v\n", down)
	}
}

// writeSeller is one seller's line of a till with several.
func writeSeller(w io.Writer, sv agent.SellerView) {
	def := ""
	if sv.Default {
		def = " (default)"
	}
	p := sv.Provider
	state := "online"
	switch {
	case p.Paused:
		state = "PAUSED"
	case !p.Online:
		state = "offline"
	}
	fmt.Fprintf(w, "seller     %s %s%s — %s: provider %s %s, %d waiting, %d sending, %d dead", sv.TaxID, sv.Name, def,
		strings.ToUpper(sv.Level), p.Name, state, sv.Queue.Pending, sv.Queue.InFlight, sv.Queue.Dead)
	for _, n := range sv.Numbers {
		fmt.Fprintf(w, ", %s: %d left", n.Period, n.Left)
	}
	fmt.Fprintln(w)
}

// runSell: posagent sell FILE|-
func runSell(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	var sf saleFlags
	fs := newFlags("sell", std, "sell FILE|- [--seller TAXID] [--confirmed] [--background] [--json]   (a sale: the invoice JSON without number and random code)")
	cf.register(fs)
	sf.register(fs)
	sellerID := fs.String("seller", "", "the 統一編號 of the seller to sell for, on a till with several (default: the sale's seller, else the default seller)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("sell needs one sale file, or - for standard input")
	}
	body, err := readSaleWith(std, rest[0], sf)
	if err != nil {
		return err
	}
	if *sellerID != "" {
		if body, err = withSeller(body, *sellerID); err != nil {
			return err
		}
	}
	var raw json.RawMessage
	if printed, err := cf.call(ctx, std, "POST", "/v1/sales", body, &raw); printed || err != nil {
		return err
	}
	var pt struct {
		Sale     *agent.PTSaleView `json:"sale"`
		Replayed bool              `json:"replayed"`
	}
	if json.Unmarshal(raw, &pt) == nil && pt.Sale != nil {
		// A Portuguese terminal: accepted at once, issued by InvoiceXpress.
		if pt.Replayed {
			fmt.Fprintln(std.out, "(this sale was accepted before; the same sale)")
		}
		writePTSale(std.out, *pt.Sale)
		return nil
	}
	var a agent.SaleAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		return fmt.Errorf("read the agent's answer: %w", err)
	}
	again := ""
	if a.Replayed {
		again = " (this sale was issued before; same invoice)"
	}
	fmt.Fprintf(std.out, "invoice %s  random code %s  %s  NT$%d  seller %s%s\n", posagent.InvoiceNumber(a.Number).Printed(),
		a.RandomCode, a.PeriodLabel, a.Total, a.Invoice.Seller.TaxID, again)
	writePrint(std.out, a.Print)
	return nil
}

// withSeller names the seller of a sale document: {"seller":{"tax_id":…}},
// the agent filling in its registered name and address. A document that
// names another seller is refused rather than silently changed.
func withSeller(body []byte, taxID string) ([]byte, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("the sale is not a JSON object: %w", err)
	}
	if raw, ok := doc["seller"]; ok {
		var s struct {
			TaxID string `json:"tax_id"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("the sale's seller: %w", err)
		}
		switch s.TaxID {
		case taxID:
			return body, nil
		case "":
		default:
			return nil, usagef("--seller %s: the sale names seller %s", taxID, s.TaxID)
		}
	}
	seller, err := json.Marshal(map[string]string{"tax_id": taxID})
	if err != nil {
		return nil, err
	}
	doc["seller"] = seller
	return json.Marshal(doc)
}

func writePrint(w io.Writer, p agent.PrintReport) {
	switch {
	case !p.Required && p.Message != "":
		fmt.Fprintln(w, "proof: not printed — "+p.Message)
	case !p.Required:
		fmt.Fprintln(w, "proof: not printed (carrier or donation)")
	case p.Background:
		fmt.Fprintln(w, "proof: printing in the background (`posagent` answered once the sale was stored)")
	case p.Printed && p.Reprint:
		fmt.Fprintln(w, "proof: printed (補印)")
	case p.Printed:
		fmt.Fprintln(w, "proof: printed")
	default:
		fmt.Fprintf(w, "proof: NOT printed — %s", p.Message)
		if p.WillRetry {
			fmt.Fprint(w, "; it prints by itself when the printer is back")
		}
		fmt.Fprintln(w)
	}
}

func readDoc(std stdio, name string) ([]byte, error) {
	f, err := openInput(std, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, posagent.MaxInvoiceJSON+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return data, nil
}

func parseNumberArg(s string) (posagent.InvoiceNumber, error) {
	n, err := posagent.ParseInvoiceNumber(s)
	if err != nil {
		return "", usagef("%v", err)
	}
	return n, nil
}

// runVoid: posagent void NUMBER --reason R
func runVoid(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	fs := newFlags("void", std, "void NUMBER --reason R [--json]")
	cf.register(fs)
	reason := fs.String("reason", "", "why the invoice is voided (≤ 20 characters; required)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("void needs one invoice number")
	}
	if *reason == "" {
		return usagef("--reason is required")
	}
	n, err := parseNumberArg(rest[0])
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"reason": *reason})
	if printed, err := cf.call(ctx, std, "POST", "/v1/invoices/"+string(n)+"/void", body, nil); printed || err != nil {
		return err
	}
	fmt.Fprintf(std.out, "invoice %s voided (%s); the void is uploaded after the invoice\n", n.Printed(), *reason)
	return nil
}

// runAllow: posagent allow NUMBER FILE|-  |  allow void NUMBER ALLOWANCE --reason R
func runAllow(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	fs := newFlags("allow", std, `allow NUMBER FILE|- [--json]   (an allowance: {"items":[…],"reason":"…"})
       allow void NUMBER ALLOWANCE --reason R [--json]   (void an allowance of the invoice)`)
	cf.register(fs)
	reason := fs.String("reason", "", "allow void: why the allowance is voided (≤ 20 characters; required)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 && rest[0] == "void" {
		return runAllowVoid(ctx, std, cf, rest[1:], *reason)
	}
	if *reason != "" {
		return usagef("--reason belongs to `allow void NUMBER ALLOWANCE`; an allowance's own reason is in its file")
	}
	if len(rest) != 2 {
		return usagef("allow needs an invoice number and an allowance file (or -)")
	}
	n, err := parseNumberArg(rest[0])
	if err != nil {
		return err
	}
	body, err := readDoc(std, rest[1])
	if err != nil {
		return err
	}
	var al posagent.Allowance
	if printed, err := cf.call(ctx, std, "POST", "/v1/invoices/"+string(n)+"/allowances", body, &al); printed || err != nil {
		return err
	}
	fmt.Fprintf(std.out, "allowance %s on invoice %s: NT$%d (tax %d)\n", al.Number, n.Printed(), al.Total, al.TaxAmount)
	return nil
}

// runAllowVoid voids an allowance: posagent allow void NUMBER ALLOWANCE --reason R.
func runAllowVoid(ctx context.Context, std stdio, cf clientFlags, rest []string, reason string) error {
	if len(rest) != 2 {
		return usagef("allow void needs an invoice number and the allowance's number (as `posagent allow` printed it)")
	}
	if reason == "" {
		return usagef("--reason is required")
	}
	n, err := parseNumberArg(rest[0])
	if err != nil {
		return err
	}
	allowance := rest[1]
	body, _ := json.Marshal(map[string]string{"reason": reason})
	var al agent.AllowanceView
	path := "/v1/invoices/" + string(n) + "/allowances/" + url.PathEscape(allowance) + "/void"
	if printed, err := cf.call(ctx, std, "POST", path, body, &al); printed || err != nil {
		return err
	}
	fmt.Fprintf(std.out, "allowance %s on invoice %s voided (%s); the void is uploaded after the allowance\n", al.Number, n.Printed(), reason)
	if al.Upload.State != agent.StateDone {
		fmt.Fprintf(std.out, "the allowance itself is not at the provider yet (%s)\n", al.State)
	}
	return nil
}

// runReprint: posagent reprint NUMBER
func runReprint(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	fs := newFlags("reprint", std, "reprint NUMBER [--json]   (prints the proof again, marked 補印)")
	cf.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("reprint needs one invoice number")
	}
	n, err := parseNumberArg(rest[0])
	if err != nil {
		return err
	}
	var p agent.PrintReport
	if printed, err := cf.call(ctx, std, "POST", "/v1/invoices/"+string(n)+"/reprint", nil, &p); printed || err != nil {
		return err
	}
	writePrint(std.out, p)
	if !p.Printed {
		return exitError{1}
	}
	return nil
}

// runJobs: posagent jobs [--dead | --state S] | jobs revive ID | jobs resolve ID --note N
func runJobs(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	fs := newFlags("jobs", std, `jobs [--dead | --state pending|claimed|dead|done] [--json]  |  jobs revive ID
       jobs resolve ID --note N   (a dead job settled outside posagent, e.g. in the provider's back office)`)
	cf.register(fs)
	dead := fs.Bool("dead", false, "list the dead jobs (those that need a person)")
	state := fs.String("state", "", "list the jobs in this state")
	note := fs.String("note", "", "jobs resolve: what was done instead, and by whom (required)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		if (rest[0] != "revive" && rest[0] != "resolve") || len(rest) != 2 {
			return usagef("jobs takes no arguments but `revive ID` or `resolve ID --note N`")
		}
		id, err := strconv.ParseInt(rest[1], 10, 64)
		if err != nil || id <= 0 {
			return usagef("%q is not a job id", rest[1])
		}
		var body []byte
		if rest[0] == "resolve" {
			if *note == "" {
				return usagef("--note is required: say what was done instead, and by whom")
			}
			body, _ = json.Marshal(map[string]string{"note": *note})
		}
		if printed, err := cf.call(ctx, std, "POST", fmt.Sprintf("/v1/jobs/%d/%s", id, rest[0]), body, nil); printed || err != nil {
			return err
		}
		if rest[0] == "resolve" {
			fmt.Fprintf(std.out, "job %d resolved by hand: it will not be sent; the invoice's later jobs go on\n", id)
			return nil
		}
		fmt.Fprintf(std.out, "job %d revived: it is retried now\n", id)
		return nil
	}
	s := *state
	switch {
	case *dead && s != "" && s != "dead":
		return usagef("--dead and --state %s contradict each other", s)
	case *dead:
		s = "dead"
	case s == "":
		s = "pending"
	}
	var out struct {
		Jobs []agent.Job `json:"jobs"`
	}
	if printed, err := cf.call(ctx, std, "GET", "/v1/jobs?state="+url.QueryEscape(s), nil, &out); printed || err != nil {
		return err
	}
	if len(out.Jobs) == 0 {
		fmt.Fprintf(std.out, "no %s jobs\n", s)
		return nil
	}
	for _, j := range out.Jobs {
		what := j.Number
		if j.Kind == agent.JobBlank {
			what = "period " + j.Period.Code()
		}
		fmt.Fprintf(std.out, "%6d  %-14s %-12s attempts %d", j.ID, j.Kind, what, j.Attempts)
		// A job held back with its provider keeps its place in the queue (a due
		// time in the past); only a job of its own waiting has a time to show.
		if j.NextTry.After(time.Now()) && s == "pending" {
			fmt.Fprintf(std.out, "  next %s", j.NextTry.In(posagent.Taipei).Format("15:04:05"))
		}
		if j.LastError != "" {
			fmt.Fprintf(std.out, "  — %s", j.LastError)
		}
		fmt.Fprintln(std.out)
	}
	return nil
}

// runBooklets: posagent booklets | booklets add RANGE --period P
func runBooklets(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	fs := newFlags("booklets", std, "booklets [--json]  |  booklets add AB12345600-AB12345649 --period 11410 [--seller TAXID]")
	cf.register(fs)
	period := fs.String("period", "", "the period of the range to add, e.g. 11410")
	sellerID := fs.String("seller", "", "the seller whose range it is, on a till with several (default: the default seller)")
	source := fs.String("source", "", "where the range came from (default manual)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		if rest[0] != "add" || len(rest) != 2 {
			return usagef("booklets takes no arguments but `add RANGE --period P`")
		}
		if *period == "" {
			return usagef("--period is required, e.g. --period 11410")
		}
		req := map[string]string{"range": rest[1], "period": *period, "source": *source}
		if *sellerID != "" {
			req["seller"] = *sellerID
		}
		body, _ := json.Marshal(req)
		var added posagent.Booklet
		if printed, err := cf.call(ctx, std, "POST", "/v1/booklets", body, &added); printed || err != nil {
			return err
		}
		fmt.Fprintf(std.out, "booklet %s added for period %s, seller %s\n", rest[1], *period, added.Seller)
		return nil
	}
	var out struct {
		Booklets []agent.BookletInfo `json:"booklets"`
	}
	if printed, err := cf.call(ctx, std, "GET", "/v1/booklets", nil, &out); printed || err != nil {
		return err
	}
	if len(out.Booklets) == 0 {
		fmt.Fprintln(std.out, "no booklets: add one with `posagent booklets add RANGE --period P`")
		return nil
	}
	for _, b := range out.Booklets {
		state := fmt.Sprintf("%d left", b.Left)
		if b.Retired {
			state = fmt.Sprintf("retired, %d unused", b.Unused)
		}
		if b.Seller != "" {
			state += "  seller " + b.Seller
		}
		fmt.Fprintf(std.out, "%s  %s  %-8s %s\n", b.Period.Code(), b.String(), b.Source, state)
	}
	return nil
}

// runDemo: posagent demo provider down|up (only against `posagent run --demo`)
func runDemo(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	fs := newFlags("demo", std, "demo provider down|up   (switch the demo's provider stand-in off and on)")
	cf.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 || rest[0] != "provider" || (rest[1] != "down" && rest[1] != "up") {
		return usagef("usage: posagent demo provider down|up")
	}
	if printed, err := cf.call(ctx, std, "POST", "/v1/demo/provider/"+rest[1], nil, nil); printed || err != nil {
		return err
	}
	if rest[1] == "down" {
		fmt.Fprintln(std.out, "the provider stand-in is down: sales go on and queue up (watch `posagent status`)")
	} else {
		fmt.Fprintln(std.out, "the provider stand-in is up: the queue drains now")
	}
	return nil
}

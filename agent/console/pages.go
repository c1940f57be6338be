package console

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/printer/emulator"
)

// errorStatus maps an agent error's kind to a status and its message.
func errorStatus(err error) (int, string) {
	msg := err.Error()
	var pe *posagent.Error
	if errors.As(err, &pe) {
		msg = pe.Message
		if pe.Field != "" {
			msg = pe.Field + ": " + msg
		}
		if pe.Err != nil && pe.Kind != posagent.KindInternal {
			msg += ": " + pe.Err.Error()
		}
	}
	switch posagent.ErrorKind(err) {
	case posagent.KindInvalid:
		return http.StatusUnprocessableEntity, msg
	case posagent.KindNotFound:
		return http.StatusNotFound, msg
	case posagent.KindConflict, posagent.KindDuplicate:
		return http.StatusConflict, msg
	case posagent.KindExhausted:
		return http.StatusServiceUnavailable, msg
	}
	return http.StatusInternalServerError, msg
}

// ---- overview

type alarmView struct {
	Level, Code, Message string
}

type overviewView struct {
	S      agent.Status
	Alarms []alarmView
	// Left is the time left to the oldest unsent document's deadline.
	Left    time.Duration
	Overdue bool
	// Demo: the demo's provider stand-in can be switched from the page.
	Demo, DemoDown bool
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, req *request) {
	s, err := c.a.Status(r.Context())
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	v := overviewView{S: s}
	v.DemoDown, v.Demo = c.a.DemoProvider()
	for _, al := range s.Alarms {
		v.Alarms = append(v.Alarms, alarmView{Level: al.Level, Code: al.Code, Message: al.Message})
	}
	if u := s.Queue.OldestUnsent; u != nil {
		v.Left = u.Deadline.Sub(s.Time)
		v.Overdue = v.Left <= 0
	}
	c.render(w, req, http.StatusOK, "overview", "overview", v)
}

// demoProvider switches the demo's provider stand-in (make run only).
func (c *Console) demoProvider(w http.ResponseWriter, r *http.Request, req *request) {
	state := r.PathValue("state")
	if state != "down" && state != "up" {
		c.fail(w, r, req, http.StatusNotFound, req.T("err.notfound"))
		return
	}
	if !c.a.SetDemoProvider(state == "down") {
		c.fail(w, r, req, http.StatusNotFound, req.T("err.notfound"))
		return
	}
	msg := req.T("flash.demo.up")
	if state == "down" {
		msg = req.T("flash.demo.down")
	}
	c.done(w, r, req, "/", msg)
}

// ---- invoices

type invoicesView struct {
	Date, Prev, Next, Query, NotFound string
	Today                             bool
	Rows                              []agent.Record
}

// day reads a YYYY-MM-DD date (Asia/Taipei) from the query; empty is today.
func (c *Console) day(r *http.Request) (time.Time, error) {
	s := strings.TrimSpace(r.URL.Query().Get("date"))
	if s == "" {
		n := c.now().In(posagent.Taipei)
		return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, posagent.Taipei), nil
	}
	d, err := time.ParseInLocation("2006-01-02", s, posagent.Taipei)
	if err != nil {
		return time.Time{}, posagent.Invalid("date", "%q is not a date such as 2025-09-14", s)
	}
	return d, nil
}

// normalNumber reads an invoice number as people type it: AB-12345678, ab12345678.
func normalNumber(q string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(q))
}

func (c *Console) invoices(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	d, err := c.day(r)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	v := invoicesView{Date: d.Format("2006-01-02"), Prev: d.AddDate(0, 0, -1).Format("2006-01-02"),
		Next: d.AddDate(0, 0, 1).Format("2006-01-02"), Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	v.Today = v.Date == c.now().In(posagent.Taipei).Format("2006-01-02")
	status := http.StatusOK
	if v.Query != "" {
		if n, err := posagent.ParseInvoiceNumber(normalNumber(v.Query)); err == nil {
			if _, err := c.a.Invoice(ctx, n); err == nil {
				http.Redirect(w, r, "/invoices/"+string(n), http.StatusSeeOther)
				return
			} else if !posagent.IsKind(err, posagent.KindNotFound) {
				c.failErr(w, r, req, err)
				return
			}
		}
		rec, err := c.a.InvoiceBySale(ctx, v.Query)
		switch {
		case err == nil:
			http.Redirect(w, r, "/invoices/"+string(rec.Invoice.Number), http.StatusSeeOther)
			return
		case !posagent.IsKind(err, posagent.KindNotFound):
			c.failErr(w, r, req, err)
			return
		}
		v.NotFound, status = v.Query, http.StatusNotFound
	}
	recs, err := c.a.Activity(ctx, d, d.AddDate(0, 0, 1))
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	// Newest first: the last sale is what a cashier looks for.
	for i := len(recs) - 1; i >= 0; i-- {
		v.Rows = append(v.Rows, recs[i])
	}
	c.render(w, req, status, "invoices", "invoices", v)
}

type invoiceView struct {
	R                             agent.Record
	Number, Period                string
	CanReprint, CanVoid, CanAllow bool
	Proof                         bool
	Events                        []agent.Event
}

func (c *Console) pathNumber(w http.ResponseWriter, r *http.Request, req *request) (posagent.InvoiceNumber, bool) {
	n, err := posagent.ParseInvoiceNumber(r.PathValue("number"))
	if err != nil {
		c.fail(w, r, req, http.StatusBadRequest, "number: "+err.Error())
		return "", false
	}
	return n, true
}

func (c *Console) invoice(w http.ResponseWriter, r *http.Request, req *request) {
	n, ok := c.pathNumber(w, r, req)
	if !ok {
		return
	}
	rec, err := c.a.Invoice(r.Context(), n)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	v := invoiceView{R: rec, Number: string(n), Period: rec.Invoice.Period().Label(), Proof: rec.Invoice.Print, Events: rec.Events}
	v.CanReprint = rec.Invoice.Print && rec.Void == nil
	v.CanVoid = rec.Void == nil
	for _, al := range rec.Allowances {
		if !al.Voided() {
			v.CanVoid = false
		}
	}
	v.CanAllow = rec.Void == nil && rec.Remaining > 0
	c.render(w, req, http.StatusOK, "invoice", "invoices", v)
}

// proof draws the invoice's proof with the emulator from the bytes the
// printer would get for it now.
func (c *Console) proof(w http.ResponseWriter, r *http.Request, req *request) {
	n, ok := c.pathNumber(w, r, req)
	if !ok {
		return
	}
	data, err := c.a.ProofBytes(r.Context(), n)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	res, err := emulator.Render(data, emulator.Options{Width: c.width})
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	var b bytes.Buffer
	if err := res.WritePNG(&b); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(b.Bytes())
}

// ---- confirmation

type field struct{ Name, Value string }

type confirmView struct {
	Title, What, Action, Back string
	Fields                    []field
	Danger                    bool
}

// confirmed says whether the form was confirmed; if not, it shows the
// confirmation page, which posts the same form again with confirm=yes.
func (c *Console) confirmed(w http.ResponseWriter, r *http.Request, req *request, v confirmView, names ...string) bool {
	if r.PostFormValue("confirm") == "yes" {
		return true
	}
	for _, n := range names {
		v.Fields = append(v.Fields, field{Name: n, Value: r.PostFormValue(n)})
	}
	c.render(w, req, http.StatusOK, "confirm", "", v)
	return false
}

func (c *Console) done(w http.ResponseWriter, r *http.Request, req *request, to, msg string) {
	c.setFlash(req.sid, msg)
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func required(req *request, name, value string) error {
	if strings.TrimSpace(value) == "" {
		return posagent.Invalid(name, "%s", req.T("err.required"))
	}
	return nil
}

func (c *Console) reprint(w http.ResponseWriter, r *http.Request, req *request) {
	n, ok := c.pathNumber(w, r, req)
	if !ok {
		return
	}
	back := "/invoices/" + string(n)
	if !c.confirmed(w, r, req, confirmView{Title: req.T("act.reprint"), What: tf(req.lang, "confirm.reprint", n.Printed()),
		Action: back + "/reprint", Back: back}) {
		return
	}
	rep, err := c.a.Reprint(r.Context(), n)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	msg := tf(req.lang, "flash.reprinted", n.Printed())
	if !rep.Printed {
		msg = tf(req.lang, "flash.reprintPending", n.Printed(), rep.Message)
	}
	c.done(w, r, req, back, msg)
}

func (c *Console) void(w http.ResponseWriter, r *http.Request, req *request) {
	n, ok := c.pathNumber(w, r, req)
	if !ok {
		return
	}
	back := "/invoices/" + string(n)
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if err := required(req, "reason", reason); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	if !c.confirmed(w, r, req, confirmView{Title: req.T("act.void"), What: tf(req.lang, "confirm.void", n.Printed(), reason),
		Action: back + "/void", Back: back, Danger: true}, "reason") {
		return
	}
	if _, err := c.a.VoidInvoice(r.Context(), n, reason); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	c.done(w, r, req, back, tf(req.lang, "flash.voided", n.Printed()))
}

func (c *Console) allowance(w http.ResponseWriter, r *http.Request, req *request) {
	n, ok := c.pathNumber(w, r, req)
	if !ok {
		return
	}
	back := "/invoices/" + string(n)
	item, reason := strings.TrimSpace(r.PostFormValue("item")), strings.TrimSpace(r.PostFormValue("reason"))
	amountText := strings.TrimSpace(r.PostFormValue("amount"))
	if err := required(req, "item", item); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	amount, err := strconv.ParseInt(amountText, 10, 64)
	if err != nil || amount <= 0 {
		c.failErr(w, r, req, posagent.Invalid("amount", "%s", req.T("err.amount")))
		return
	}
	if !c.confirmed(w, r, req, confirmView{Title: req.T("act.allowance"),
		What:   tf(req.lang, "confirm.allowance", n.Printed(), item, money(amount)),
		Action: back + "/allowance", Back: back, Danger: true}, "item", "amount", "reason") {
		return
	}
	d := posagent.DecimalFromInt(amount)
	al := posagent.Allowance{InvoiceNumber: n, Reason: reason, Total: amount,
		Items: []posagent.Item{{Name: item, Quantity: posagent.DecimalFromInt(1), UnitPrice: d, Amount: d}}}
	al, err = c.a.AllowInvoice(r.Context(), al)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	c.done(w, r, req, back, tf(req.lang, "flash.allowance", al.Number, money(al.Total)))
}

func (c *Console) voidAllowance(w http.ResponseWriter, r *http.Request, req *request) {
	n, ok := c.pathNumber(w, r, req)
	if !ok {
		return
	}
	back := "/invoices/" + string(n)
	number := r.PathValue("allowance")
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if err := required(req, "reason", reason); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	if !c.confirmed(w, r, req, confirmView{Title: req.T("act.voidAllowance"), What: tf(req.lang, "confirm.voidAllowance", number, reason),
		Action: back + "/allowances/" + url.PathEscape(number) + "/void", Back: back, Danger: true}, "reason") {
		return
	}
	if _, err := c.a.VoidAllowance(r.Context(), n, number, reason); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	c.done(w, r, req, back, tf(req.lang, "flash.allowanceVoided", number))
}

// ---- jobs

type jobsView struct {
	Waiting, Dead []agent.Job
}

func (c *Console) jobs(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	var v jobsView
	for _, st := range []string{agent.StateClaimed, agent.StatePending} {
		js, err := c.a.Jobs(ctx, st, 200)
		if err != nil {
			c.failErr(w, r, req, err)
			return
		}
		v.Waiting = append(v.Waiting, js...)
	}
	sort.Slice(v.Waiting, func(i, j int) bool { return v.Waiting[i].ID < v.Waiting[j].ID })
	dead, err := c.a.Jobs(ctx, agent.StateDead, 200)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	v.Dead = dead
	c.render(w, req, http.StatusOK, "jobs", "jobs", v)
}

func (c *Console) pathJob(w http.ResponseWriter, r *http.Request, req *request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, req, http.StatusBadRequest, "id: "+req.T("err.jobid"))
		return 0, false
	}
	return id, true
}

func (c *Console) revive(w http.ResponseWriter, r *http.Request, req *request) {
	id, ok := c.pathJob(w, r, req)
	if !ok {
		return
	}
	if !c.confirmed(w, r, req, confirmView{Title: req.T("act.revive"), What: tf(req.lang, "confirm.revive", id),
		Action: "/jobs/" + strconv.FormatInt(id, 10) + "/revive", Back: "/jobs"}) {
		return
	}
	if err := c.a.ReviveJob(r.Context(), id); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	c.done(w, r, req, "/jobs", tf(req.lang, "flash.revived", id))
}

func (c *Console) resolve(w http.ResponseWriter, r *http.Request, req *request) {
	id, ok := c.pathJob(w, r, req)
	if !ok {
		return
	}
	note := strings.TrimSpace(r.PostFormValue("note"))
	if err := required(req, "note", note); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	if !c.confirmed(w, r, req, confirmView{Title: req.T("act.resolve"), What: tf(req.lang, "confirm.resolve", id, note),
		Action: "/jobs/" + strconv.FormatInt(id, 10) + "/resolve", Back: "/jobs", Danger: true}, "note") {
		return
	}
	if err := c.a.ResolveJob(r.Context(), id, note); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	c.done(w, r, req, "/jobs", tf(req.lang, "flash.resolved", id))
}

// ---- booklets

type periodLeft struct {
	Period, Label, ReportBy string
	Left                    int
}

type bookletsView struct {
	Booklets []agent.BookletInfo
	Numbers  []agent.NumbersView
	// AtEnd is what each open period would report blank if it ended now.
	AtEnd   []periodLeft
	Blank   []agent.BlankView
	Current string
}

func (c *Console) booklets(w http.ResponseWriter, r *http.Request, req *request) {
	ctx := r.Context()
	bs, err := c.a.Booklets(ctx)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	s, err := c.a.Status(ctx)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	v := bookletsView{Booklets: bs, Numbers: s.Numbers, Blank: s.Blank, Current: posagent.PeriodOf(c.now()).Code()}
	left := map[posagent.Period]int{}
	var periods []posagent.Period
	for _, b := range bs {
		if b.Retired {
			continue
		}
		if _, seen := left[b.Period]; !seen {
			periods = append(periods, b.Period)
		}
		left[b.Period] += b.Left
	}
	sort.Slice(periods, func(i, j int) bool { return periods[i].Code() < periods[j].Code() })
	for _, p := range periods {
		v.AtEnd = append(v.AtEnd, periodLeft{Period: p.Code(), Label: p.Label(), Left: left[p],
			ReportBy: p.BlankReportDeadline().Add(-time.Nanosecond).Format("2006-01-02")})
	}
	c.render(w, req, http.StatusOK, "booklets", "booklets", v)
}

func (c *Console) addBooklet(w http.ResponseWriter, r *http.Request, req *request) {
	b, err := posagent.ParseRange(strings.TrimSpace(r.PostFormValue("range")))
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	period := strings.TrimSpace(r.PostFormValue("period"))
	if period == "" {
		period = posagent.PeriodOf(c.now()).Code()
	}
	if b.Period, err = posagent.ParsePeriod(period); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	b.Source = "console"
	if err := c.a.AddBooklet(r.Context(), b); err != nil {
		c.failErr(w, r, req, err)
		return
	}
	c.done(w, r, req, "/booklets", tf(req.lang, "flash.booklet", b.String(), b.Period.Code()))
}

// resumeProvider ends a paused provider's pause (as `posagent resume`), once
// fixed at the provider.
func (c *Console) resumeProvider(w http.ResponseWriter, r *http.Request, req *request) {
	if !c.confirmed(w, r, req, confirmView{Title: req.T("act.resume"), What: req.T("confirm.resume"),
		Action: "/provider/resume", Back: "/"}) {
		return
	}
	res := c.a.Resume()
	msg := tf(req.lang, "flash.resumed", res.Provider)
	if !res.WasPaused {
		msg = tf(req.lang, "flash.notPaused", res.Provider)
	}
	c.done(w, r, req, "/", msg)
}

// reloadConfig reads the config file again (as `posagent reload`); a file
// that is not usable changes nothing and its error names the field.
func (c *Console) reloadConfig(w http.ResponseWriter, r *http.Request, req *request) {
	if !c.confirmed(w, r, req, confirmView{Title: req.T("act.reload"), What: req.T("confirm.reload"),
		Action: "/config/reload", Back: "/"}) {
		return
	}
	res, err := c.a.Reload(r.Context())
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	changed := strings.Join(res.Changed, ", ")
	if changed == "" {
		changed = "—"
	}
	c.done(w, r, req, "/", tf(req.lang, "flash.reloaded", changed))
}

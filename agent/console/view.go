package console

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
)

// view is what every page's template gets: the page's data and the
// request's language, CSRF token and flash.
type view struct {
	req      *request
	Nav      string
	Data     any
	Terminal agent.TerminalView
	Refresh  int
	// RefreshURL is the page the refresh loads ("" is the overview).
	RefreshURL string
}

func (v *view) T(key string) string { return v.req.T(key) }

// Tf translates a key with a format and arguments.
func (v *view) Tf(key string, args ...any) string { return tf(v.req.lang, key, args...) }
func (v *view) Lang() string                      { return v.req.lang }
func (v *view) CSRF() string                      { return v.req.csrf }
func (v *view) Flash() string                     { return v.req.flash }
func (v *view) Here() string                      { return v.req.here }
func (v *view) SignedIn() bool                    { return v.req.sid != "" }

// HTMLLang is the lang attribute of the page.
func (v *view) HTMLLang() string {
	if v.req.lang == "en" {
		return "en"
	}
	return "zh-Hant-TW"
}

// State names a job or print state in words.
func (v *view) State(s string) string {
	if s == "" {
		return "—"
	}
	return v.tOr("state."+s, s)
}

// Kind names a job kind in words.
func (v *view) Kind(s string) string { return v.tOr("kind."+s, s) }

// Event names an event kind in words.
func (v *view) Event(s string) string { return v.tOr("event."+s, s) }

// AlarmTitle names an alarm by its code.
func (v *view) AlarmTitle(code string) string { return v.tOr("alarm."+code, code) }

// Reason says in words why a dead job stopped and what a person can do.
func (v *view) Reason(j agent.Job) string {
	e := j.LastError
	switch {
	case strings.Contains(e, "did not return the allowance number"):
		return v.T("why.noAllowanceNumber")
	case strings.HasPrefix(e, "gave up after"):
		return v.Tf("why.gaveUp", j.Attempts)
	case j.Kind == agent.JobBlank:
		return v.T("why.blank")
	}
	return v.T("why.refused")
}

func (v *view) tOr(key, fallback string) string {
	if s, ok := lookup(v.req.lang, key); ok {
		return s
	}
	return fallback
}

var funcs = template.FuncMap{
	"money": money,
	"when":  when,
	"day":   func(t time.Time) string { return dayOf(t) },
	"left": func(d time.Duration) string {
		if d < 0 {
			d = -d
		}
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	},
	"printed": func(n posagent.InvoiceNumber) string { return n.Printed() },
	"dec":     func(d posagent.Decimal) string { return d.String() },
	"sub":     func(a, b int) int { return a - b },
}

// money writes whole NT$ with thousands separators.
func money(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-NT$" + b.String()
	}
	return "NT$" + b.String()
}

func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(posagent.Taipei).Format("2006-01-02 15:04:05")
}

func dayOf(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(posagent.Taipei).Format("15:04:05")
}

var pageNames = []string{"login", "error", "confirm", "overview", "invoices", "invoice", "jobs", "booklets", "summary", "reconcile"}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

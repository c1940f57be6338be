package console

import (
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
)

// Every message has both languages, and every key the templates and code
// use exists.
func TestMessagesComplete(t *testing.T) {
	for k, m := range messages {
		if m[0] == "" || m[1] == "" {
			t.Errorf("message %q lacks a language: %q", k, m)
		}
		if strings.Count(m[0], "%") != strings.Count(m[1], "%") {
			t.Errorf("message %q: the languages take different arguments: %q", k, m)
		}
	}
	used := regexp.MustCompile(`(?:\.T|\.Tf|req\.T\(|tf\(req\.lang,) ?"([a-zA-Z]+\.[a-zA-Z_.]+|back)"`)
	var src strings.Builder
	for _, dir := range []string{"templates", "."} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".html") || (strings.HasSuffix(e.Name(), ".go") && !strings.HasSuffix(e.Name(), "_test.go")) {
				b, err := os.ReadFile(dir + "/" + e.Name())
				if err != nil {
					t.Fatal(err)
				}
				src.Write(b)
			}
		}
	}
	found := used.FindAllStringSubmatch(src.String(), -1)
	if len(found) < 100 {
		t.Fatalf("found only %d message uses: the pattern is stale", len(found))
	}
	for _, m := range found {
		if _, ok := messages[m[1]]; !ok {
			t.Errorf("message %q is used but not defined", m[1])
		}
	}
	// Kinds, states, events and alarms are looked up by a prefix and a value.
	for _, k := range []string{agent.JobUpload, agent.JobVoid, agent.JobAllowance, agent.JobVoidAllowance, agent.JobBlank} {
		if _, ok := messages["kind."+k]; !ok {
			t.Errorf("job kind %q has no words", k)
		}
	}
	// Every alarm the agent raises has a title: read from the agent's source,
	// so that a new alarm without one fails here.
	status, err := os.ReadFile("../status.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := regexp.MustCompile(`alarm\(Level[A-Za-z]+, "([a-z_]+)"`).FindAllStringSubmatch(string(status), -1)
	if len(codes) < 8 {
		t.Fatalf("found %d alarms in agent/status.go: the pattern is stale", len(codes))
	}
	for _, code := range codes {
		if _, ok := messages["alarm."+code[1]]; !ok {
			t.Errorf("alarm %q has no title", code[1])
		}
	}
}

func TestMoney(t *testing.T) {
	for n, want := range map[int64]string{0: "NT$0", 5: "NT$5", 999: "NT$999", 1000: "NT$1,000", 1234567: "NT$1,234,567", -45: "-NT$45",
		-1000: "-NT$1,000", math.MaxInt64: "NT$9,223,372,036,854,775,807"} {
		if got := money(n); got != want {
			t.Errorf("money(%d) = %q, want %q", n, got, want)
		}
	}
}

func rec(n string, issued time.Time, total int64) agent.Record {
	return agent.Record{Invoice: posagent.Invoice{Number: posagent.InvoiceNumber(n), IssuedAt: issued, Total: total, SaleID: "s-" + n}, Remaining: total}
}

// Each document counts on the day it was made, by its invoice's period.
func TestSummarize(t *testing.T) {
	day := time.Date(2025, 11, 1, 0, 0, 0, 0, posagent.Taipei) // the first day of 11411–11412
	next := day.AddDate(0, 0, 1)
	prevDay := day.AddDate(0, 0, -1) // the last day of 11409–11410
	late := rec("AB00000001", prevDay.Add(23*time.Hour), 500)
	late.Void = &posagent.Void{VoidedAt: day.Add(9 * time.Hour), Reason: "打錯"}
	today := rec("CD00000001", day.Add(10*time.Hour), 300)
	today.Allowances = []agent.AllowanceRecord{
		{Allowance: posagent.Allowance{Number: "CD00000001-01", IssuedAt: day.Add(11 * time.Hour), Total: 50}},
		{Allowance: posagent.Allowance{Number: "CD00000001-02", IssuedAt: day.Add(12 * time.Hour), Total: 20}, VoidedAt: day.Add(13 * time.Hour)},
	}
	tomorrow := rec("CD00000002", next.Add(time.Hour), 999) // outside the window
	s, err := summarize([]agent.Record{late, today, tomorrow}, day, next)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rows) != 2 || s.Rows[0].Period != "11410" || s.Rows[1].Period != "11412" {
		t.Fatalf("rows %+v", s.Rows)
	}
	old, cur := s.Rows[0], s.Rows[1]
	if old.Issued != (Tally{}) || old.Voided != (Tally{1, 500}) || old.Net != -500 {
		t.Fatalf("the earlier period's row %+v", old)
	}
	if cur.Issued != (Tally{1, 300}) || cur.Allowances != (Tally{2, 70}) || cur.AllowanceVoids != (Tally{1, 20}) || cur.Net != 250 {
		t.Fatalf("this period's row %+v", cur)
	}
	if s.Total.Net != -250 || s.Total.Issued != (Tally{1, 300}) || len(s.Lines) != 5 {
		t.Fatalf("total %+v, %d lines", s.Total, len(s.Lines))
	}
	for i := 1; i < len(s.Lines); i++ {
		if s.Lines[i].At.Before(s.Lines[i-1].At) {
			t.Fatalf("lines out of order: %+v", s.Lines)
		}
	}
	// Totals that would overflow are an error, not a wrong number.
	big := []agent.Record{rec("AB00000001", day, math.MaxInt64), rec("AB00000002", day, 1)}
	if _, err := summarize(big, day, next); err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("overflow: %v", err)
	}
	s, err = summarize(nil, day, next)
	if err != nil || len(s.Rows) != 0 || s.Total.Net != 0 {
		t.Fatalf("empty day: %+v %v", s, err)
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{"": "", "ok": "ok", "=1+1": "'=1+1", "+886": "'+886", "-x": "'-x", "@sum": "'@sum", "a=b": "a=b"} {
		if got := agent.CSVSafe(in); got != want {
			t.Errorf("agent.CSVSafe(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{"/jobs": "/jobs", "/invoices?q=1": "/invoices?q=1", "": "/", "//evil": "/",
		"https://evil": "/", "/\\evil": "/", "/login?next=/": "/", "jobs": "/"} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// Whatever comes after sign-in or a language switch, the redirect stays on
// this site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/jobs", "//evil", "/\\evil", "https://x", "/login", "\t/x", "/%2F%2Fevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.HasPrefix(got, "/\\") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
	})
}

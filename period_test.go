package posagent_test

import (
	"testing"
	"time"

	"github.com/posagent/posagent"
)

func TestPeriodOf(t *testing.T) {
	utc := time.UTC
	tests := []struct {
		at    time.Time
		code  string
		label string
	}{
		{time.Date(2015, 4, 17, 13, 3, 0, 0, posagent.Taipei), "10404", "104年03-04月"},
		{time.Date(2013, 5, 23, 0, 0, 0, 0, posagent.Taipei), "10206", "102年05-06月"},
		{time.Date(2025, 9, 1, 0, 0, 0, 0, posagent.Taipei), "11410", "114年09-10月"},
		{time.Date(2025, 12, 31, 23, 59, 59, 0, posagent.Taipei), "11412", "114年11-12月"},
		{time.Date(2026, 1, 1, 0, 0, 0, 0, posagent.Taipei), "11502", "115年01-02月"},
		// 2025-12-31 16:30 UTC is already 2026-01-01 00:30 in Taipei: the period follows Taipei.
		{time.Date(2025, 12, 31, 16, 30, 0, 0, utc), "11502", "115年01-02月"},
		{time.Date(2025, 12, 31, 15, 59, 59, 0, utc), "11412", "114年11-12月"},
		{time.Date(2011, 1, 1, 12, 0, 0, 0, posagent.Taipei), "10002", "100年01-02月"},
	}
	for _, tt := range tests {
		p := posagent.PeriodOf(tt.at)
		if got := p.Code(); got != tt.code {
			t.Errorf("PeriodOf(%v).Code() = %q, want %q", tt.at, got, tt.code)
		}
		if got := p.Label(); got != tt.label {
			t.Errorf("PeriodOf(%v).Label() = %q, want %q", tt.at, got, tt.label)
		}
	}
}

func TestPeriodIgnoresMachineZone(t *testing.T) {
	// The same instant seen from a machine in New York belongs to the Taipei period.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 10, 31, 12, 30, 0, 0, ny) // 2025-11-01 00:30 in Taipei
	if got, want := posagent.PeriodOf(at).Code(), "11412"; got != want {
		t.Fatalf("PeriodOf(%v) = %s, want %s", at, got, want)
	}
}

func TestPeriodNavigation(t *testing.T) {
	p, err := posagent.ParsePeriod("11412")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.Next().Code(), "11502"; got != want {
		t.Errorf("Next = %s, want %s", got, want)
	}
	if got, want := p.Prev().Code(), "11410"; got != want {
		t.Errorf("Prev = %s, want %s", got, want)
	}
	if got, want := p.Start(), time.Date(2025, 11, 1, 0, 0, 0, 0, posagent.Taipei); !got.Equal(want) {
		t.Errorf("Start = %v, want %v", got, want)
	}
	if got, want := p.End(), time.Date(2026, 1, 1, 0, 0, 0, 0, posagent.Taipei); !got.Equal(want) {
		t.Errorf("End = %v, want %v", got, want)
	}
	if got, want := p.Term(), 6; got != want {
		t.Errorf("Term = %d, want %d", got, want)
	}
	if got, want := p.BlankReportDeadline(), time.Date(2026, 1, 11, 0, 0, 0, 0, posagent.Taipei); !got.Equal(want) {
		t.Errorf("BlankReportDeadline = %v, want %v", got, want)
	}
	if got, want := p.VoidDeadline(), time.Date(2026, 1, 14, 0, 0, 0, 0, posagent.Taipei); !got.Equal(want) {
		t.Errorf("VoidDeadline = %v, want %v (after 23:59:59 on the 13th of the next odd month)", got, want)
	}
	if !p.Contains(time.Date(2025, 11, 1, 0, 0, 0, 0, posagent.Taipei)) || p.Contains(p.End()) {
		t.Error("Contains does not match [Start, End)")
	}
}

func TestParsePeriodRejects(t *testing.T) {
	for _, code := range []string{"", "1141", "11409", "11400", "11414", "114-10", "00002", "ab410", "114100"} {
		if _, err := posagent.ParsePeriod(code); err == nil {
			t.Errorf("ParsePeriod(%q) succeeded, want an error", code)
		} else if got := posagent.ErrorField(err); got != "period" {
			t.Errorf("ParsePeriod(%q) field = %q, want period", code, got)
		}
	}
}

func TestPeriodText(t *testing.T) {
	var p posagent.Period
	if err := p.UnmarshalText([]byte("11410")); err != nil {
		t.Fatal(err)
	}
	b, _ := p.MarshalText()
	if string(b) != "11410" {
		t.Fatalf("round trip gave %q", b)
	}
}

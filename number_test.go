package posagent_test

import (
	"testing"

	"github.com/posagent/posagent"
)

func TestParseInvoiceNumber(t *testing.T) {
	for in, want := range map[string]posagent.InvoiceNumber{
		"AB12345678":  "AB12345678",
		"AB-12345678": "AB12345678",
		"UZ17690872":  "UZ17690872",
	} {
		got, err := posagent.ParseInvoiceNumber(in)
		if err != nil || got != want {
			t.Errorf("ParseInvoiceNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ab12345678", "AB1234567", "AB123456789", "A112345678", "AB-1234567", "AB 12345678", "ＡB12345678"} {
		if _, err := posagent.ParseInvoiceNumber(in); err == nil {
			t.Errorf("ParseInvoiceNumber(%q) succeeded", in)
		}
	}
	n := posagent.InvoiceNumber("AB00000042")
	if n.Track() != "AB" || n.Seq() != 42 || n.Printed() != "AB-00000042" {
		t.Errorf("Track/Seq/Printed = %s %d %s", n.Track(), n.Seq(), n.Printed())
	}
}

func TestBookletRules(t *testing.T) {
	p, _ := posagent.ParsePeriod("11410")
	tests := []struct {
		name  string
		b     posagent.Booklet
		field string // "" = valid
	}{
		{"one booklet", posagent.Booklet{Track: "AB", First: 12345600, Last: 12345649, Period: p}, ""},
		{"two booklets from 50", posagent.Booklet{Track: "AB", First: 50, Last: 149, Period: p}, ""},
		{"first not 00/50", posagent.Booklet{Track: "AB", First: 12345601, Last: 12345649, Period: p}, "first"},
		{"last not 49/99", posagent.Booklet{Track: "AB", First: 12345600, Last: 12345648, Period: p}, "last"},
		{"reversed", posagent.Booklet{Track: "AB", First: 100, Last: 49, Period: p}, "range"},
		{"bad track", posagent.Booklet{Track: "A1", First: 0, Last: 49, Period: p}, "track"},
		{"nine digits", posagent.Booklet{Track: "AB", First: 99999950, Last: 100000049, Period: p}, "range"},
		{"no period", posagent.Booklet{Track: "AB", First: 0, Last: 49}, "period"},
	}
	for _, tt := range tests {
		err := tt.b.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if got := posagent.ErrorField(err); got != tt.field || !posagent.IsKind(err, posagent.KindInvalid) {
			t.Errorf("%s: err = %v (field %q), want invalid %q", tt.name, err, got, tt.field)
		}
	}
}

func TestBookletNumbers(t *testing.T) {
	b, err := posagent.ParseRange("AB12345600-AB12345699")
	if err != nil {
		t.Fatal(err)
	}
	if b.Count() != 100 || b.Booklets() != 2 {
		t.Fatalf("Count %d Booklets %d", b.Count(), b.Booklets())
	}
	if got := b.Number(0); got != "AB12345600" {
		t.Errorf("Number(0) = %s", got)
	}
	if got := b.Number(99); got != "AB12345699" {
		t.Errorf("Number(99) = %s", got)
	}
	if !b.Contains("AB12345650") || b.Contains("AB12345700") || b.Contains("AC12345650") {
		t.Error("Contains is wrong")
	}
	if got := b.String(); got != "AB12345600-AB12345699" {
		t.Errorf("String = %s", got)
	}
	for _, bad := range []string{"AB12345600", "AB12345600-AC12345649", "AB12345601-AB12345649", "AB-12345600-AB-12345649", "AB12345600-AB1234564X"} {
		if _, err := posagent.ParseRange(bad); err == nil {
			t.Errorf("ParseRange(%q) succeeded", bad)
		}
	}
}

func TestBookletOverlaps(t *testing.T) {
	p, _ := posagent.ParsePeriod("11410")
	q := p.Next()
	a := posagent.Booklet{Track: "AB", First: 0, Last: 99, Period: p}
	for _, tt := range []struct {
		b    posagent.Booklet
		want bool
	}{
		{posagent.Booklet{Track: "AB", First: 50, Last: 149, Period: p}, true},
		{posagent.Booklet{Track: "AB", First: 100, Last: 149, Period: p}, false},
		{posagent.Booklet{Track: "AC", First: 0, Last: 99, Period: p}, false},
		{posagent.Booklet{Track: "AB", First: 0, Last: 99, Period: q}, false},
	} {
		if got := a.Overlaps(tt.b); got != tt.want {
			t.Errorf("Overlaps(%v) = %v, want %v", tt.b, got, tt.want)
		}
	}
}

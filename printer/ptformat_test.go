package printer

import (
	"testing"
	"time"

	"github.com/posagent/posagent"
)

func TestPTFormats(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"2", "2"}, {"1.5", "1,5"}, {"12345.5", "12345,5"}, {"-0.05", "-0,05"},
	} {
		if got := ptNumber(posagent.MustDecimal(tc.in), 0); got != tc.want {
			t.Errorf("ptNumber(%s, 0) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"2", "2,00"}, {"0.8", "0,80"}, {"1234.5678", "1234,5678"},
	} {
		if got := ptNumber(posagent.MustDecimal(tc.in), 2); got != tc.want {
			t.Errorf("ptNumber(%s, 2) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in   string
		want int64
	}{{"0", 0}, {"0.05", 5}, {"1.5", 150}, {"-12.34", -1234}, {"9999999999999.99", 999999999999999}} {
		got, err := toCents("x", posagent.MustDecimal(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("toCents(%s) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if back := ptCents(got); tc.in != "0" && back != ptNumber(posagent.MustDecimal(tc.in), 2) {
			t.Errorf("ptCents(%d) = %q", got, back)
		}
	}
	for _, bad := range []string{"0.001", "10000000000000"} {
		if _, err := toCents("doc.total", posagent.MustDecimal(bad)); posagent.ErrorKind(err) != posagent.KindInvalid {
			t.Errorf("toCents(%s): %v, want invalid", bad, err)
		}
	}
	for _, tc := range []struct {
		base int64
		rate string
		want int64
	}{{162, "23", 37}, {81, "23", 19}, {315, "13", 41}, {250, "6", 15}, {-81, "23", -19}, {1000, "6.5", 65}, {5, "10", 1}, {4, "10", 0}} {
		if got := vatCents(tc.base, posagent.MustDecimal(tc.rate)); got != tc.want {
			t.Errorf("vatCents(%d, %s) = %d, want %d", tc.base, tc.rate, got, tc.want)
		}
	}
}

// Dates are Lisbon's, summer time included; the time shows only when it is
// known and on the document's date.
func TestPTWhen(t *testing.T) {
	midnight := time.Date(2026, 7, 1, 0, 0, 0, 0, posagent.Lisbon)
	for _, tc := range []struct {
		date, sale time.Time
		want       string
	}{
		{midnight, time.Time{}, "01/07/2026"},
		{midnight, time.Date(2026, 7, 1, 13, 5, 0, 0, time.UTC), "01/07/2026 14:05"}, // WEST, UTC+1
		{midnight, time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC), "01/07/2026 00:30"},
		{midnight, time.Date(2026, 6, 30, 22, 30, 0, 0, time.UTC), "01/07/2026"}, // sold the day before, issued later
		{time.Date(2026, 7, 1, 23, 30, 0, 0, time.UTC), time.Time{}, "02/07/2026 00:30"},
		{time.Date(2026, 12, 4, 9, 30, 0, 0, time.UTC), time.Time{}, "04/12/2026 09:30"}, // WET, UTC+0
	} {
		if got := ptWhen(tc.date, tc.sale); got != tc.want {
			t.Errorf("ptWhen(%v, %v) = %q, want %q", tc.date, tc.sale, got, tc.want)
		}
	}
}

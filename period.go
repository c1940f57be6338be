package posagent

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
	_ "time/tzdata" // Invoice dates are Taipei time on any machine, with or without zoneinfo.
)

// Taipei is the zone of every invoice date, period and deadline, whatever the
// machine's own zone. Taiwan has kept UTC+8 without daylight saving since 1980.
var Taipei = mustLoadLocation("Asia/Taipei")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("posagent: embedded zone data lacks %s: %v", name, err))
	}
	return loc
}

// ROCYear is the Republic of China (Minguo) year: Gregorian year − 1911.
func ROCYear(t time.Time) int { return t.In(Taipei).Year() - 1911 }

// Period is an MOF bimonthly invoice period (期別): Jan–Feb, Mar–Apr, … Nov–Dec.
// It is named by its ROC year and its even month.
type Period struct {
	Year      int // ROC year, e.g. 114 for 2025
	EvenMonth int // 2, 4, 6, 8, 10 or 12
}

// PeriodOf returns the period containing t in Taipei time.
func PeriodOf(t time.Time) Period {
	t = t.In(Taipei)
	m := int(t.Month())
	return Period{Year: t.Year() - 1911, EvenMonth: m + m%2}
}

var periodCode = regexp.MustCompile(`^[0-9]{3}(0[2468]|1[02])$`)

// ParsePeriod reads a period code such as "11410".
func ParsePeriod(code string) (Period, error) {
	if !periodCode.MatchString(code) {
		return Period{}, Invalid("period", "%q is not a period code: 3-digit ROC year and an even month, e.g. 11410", code)
	}
	y, _ := strconv.Atoi(code[:3])
	m, _ := strconv.Atoi(code[3:])
	if y < 1 {
		return Period{}, Invalid("period", "%q has ROC year 000", code)
	}
	return Period{Year: y, EvenMonth: m}, nil
}

// Code is the 5-digit period code: ROC year and even month, "11410".
func (p Period) Code() string { return fmt.Sprintf("%03d%02d", p.Year, p.EvenMonth) }

// Label is the printed period, "114年09-10月".
func (p Period) Label() string {
	return fmt.Sprintf("%d年%02d-%02d月", p.Year, p.EvenMonth-1, p.EvenMonth)
}

func (p Period) String() string { return p.Code() }

// IsZero reports whether p is the zero Period.
func (p Period) IsZero() bool { return p == Period{} }

// Start is the first instant of the period in Taipei time.
func (p Period) Start() time.Time {
	return time.Date(p.Year+1911, time.Month(p.EvenMonth-1), 1, 0, 0, 0, 0, Taipei)
}

// End is the first instant after the period.
func (p Period) End() time.Time { return p.Start().AddDate(0, 2, 0) }

// Next is the period after p.
func (p Period) Next() Period { return PeriodOf(p.End()) }

// Prev is the period before p.
func (p Period) Prev() Period { return PeriodOf(p.Start().Add(-time.Nanosecond)) }

// Contains reports whether t (any zone) falls within p.
func (p Period) Contains(t time.Time) bool { return PeriodOf(t) == p }

// Term is the 1-based index of the period in its year (1 = Jan–Feb … 6 = Nov–Dec),
// as ECPay's InvoiceTerm counts.
func (p Period) Term() int { return p.EvenMonth / 2 }

// BlankReportDeadline is the end of the day by which numbers left unused in p must
// be reported blank (E0402): the 10th day of the next period [S: mof-einvoice.md §8].
func (p Period) BlankReportDeadline() time.Time { return p.End().AddDate(0, 0, 10) }

// VoidDeadline is the first instant at which an invoice of p can no longer be
// voided: the 14th day of the month after the period (00:00 Taipei), that is
// after 23:59:59 on the 13th of the next odd month [C: ecpay.md §7.2, §10;
// Amego refuses past its "modification deadline", 3050126, providers.md §1.5].
// Turnkey's guide says "void within the period" [3P, turnkey.md]; the ECPay
// rule is the one confirmed, so it is the one kept here (README, assumed).
// After it, a correction is an allowance (折讓).
func (p Period) VoidDeadline() time.Time { return p.End().AddDate(0, 0, 13) }

// MarshalText writes the period code.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.Code()), nil }

// UnmarshalText reads a period code.
func (p *Period) UnmarshalText(b []byte) error {
	q, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

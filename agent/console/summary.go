package console

import (
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
)

// Tally is a count and a sum of whole NT$.
type Tally struct {
	Count int
	Total int64
}

func (t *Tally) add(amount int64) error {
	if (amount > 0 && t.Total > math.MaxInt64-amount) || (amount < 0 && t.Total < math.MinInt64-amount) {
		return posagent.Errorf(posagent.KindInternal, "the day's totals overflow")
	}
	t.Count++
	t.Total += amount
	return nil
}

// SummaryRow is one period's day: what was issued, voided, allowed and the
// allowances voided, and what is left of the sales.
type SummaryRow struct {
	Period, Label  string
	Issued, Voided Tally
	Allowances     Tally
	AllowanceVoids Tally
	Net            int64
}

// Line is one document of the day, for the detail list and CSV.
type Line struct {
	At     time.Time
	Kind   string // issued, voided, allowance, allowance_voided
	Number string // the invoice
	Ref    string // the allowance number, the sale id
	Period string
	Amount int64
	Reason string
}

// Summary is a day's book.
type Summary struct {
	Date  string
	Rows  []SummaryRow
	Total SummaryRow
	Lines []Line
}

// summarize books the records of a day [from, to): each document counts on
// the day it was made, by its invoice's period. Net is issued less voided
// less allowances plus voided allowances.
func summarize(recs []agent.Record, from, to time.Time) (Summary, error) {
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	rows := map[string]*SummaryRow{}
	row := func(p posagent.Period) *SummaryRow {
		r := rows[p.Code()]
		if r == nil {
			r = &SummaryRow{Period: p.Code(), Label: p.Label()}
			rows[p.Code()] = r
		}
		return r
	}
	s := Summary{Date: from.In(posagent.Taipei).Format("2006-01-02")}
	for _, rec := range recs {
		inv := rec.Invoice
		p := inv.Period()
		if in(inv.IssuedAt) {
			if err := row(p).Issued.add(inv.Total); err != nil {
				return Summary{}, err
			}
			s.Lines = append(s.Lines, Line{At: inv.IssuedAt, Kind: "issued", Number: string(inv.Number), Ref: inv.SaleID, Period: p.Code(), Amount: inv.Total})
		}
		if v := rec.Void; v != nil && in(v.VoidedAt) {
			if err := row(p).Voided.add(inv.Total); err != nil {
				return Summary{}, err
			}
			s.Lines = append(s.Lines, Line{At: v.VoidedAt, Kind: "voided", Number: string(inv.Number), Period: p.Code(), Amount: inv.Total, Reason: v.Reason})
		}
		for _, al := range rec.Allowances {
			if in(al.IssuedAt) {
				if err := row(p).Allowances.add(al.Total); err != nil {
					return Summary{}, err
				}
				s.Lines = append(s.Lines, Line{At: al.IssuedAt, Kind: "allowance", Number: string(inv.Number), Ref: al.Number, Period: p.Code(), Amount: al.Total, Reason: al.Reason})
			}
			if al.Voided() && in(al.VoidedAt) {
				if err := row(p).AllowanceVoids.add(al.Total); err != nil {
					return Summary{}, err
				}
				s.Lines = append(s.Lines, Line{At: al.VoidedAt, Kind: "allowance_voided", Number: string(inv.Number), Ref: al.Number, Period: p.Code(), Amount: al.Total, Reason: al.VoidReason})
			}
		}
	}
	codes := make([]string, 0, len(rows))
	for c := range rows {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	s.Total.Period, s.Total.Label = "total", "total"
	for _, code := range codes {
		r := rows[code]
		net, err := netOf(*r)
		if err != nil {
			return Summary{}, err
		}
		r.Net = net
		for _, pair := range []struct{ dst, src *Tally }{{&s.Total.Issued, &r.Issued}, {&s.Total.Voided, &r.Voided},
			{&s.Total.Allowances, &r.Allowances}, {&s.Total.AllowanceVoids, &r.AllowanceVoids}} {
			if pair.dst.Total, err = addChecked(pair.dst.Total, pair.src.Total); err != nil {
				return Summary{}, err
			}
			pair.dst.Count += pair.src.Count
		}
		s.Rows = append(s.Rows, *r)
	}
	net, err := netOf(s.Total)
	if err != nil {
		return Summary{}, err
	}
	s.Total.Net = net
	sort.SliceStable(s.Lines, func(i, j int) bool { return s.Lines[i].At.Before(s.Lines[j].At) })
	return s, nil
}

func addChecked(a, b int64) (int64, error) {
	if (b > 0 && a > math.MaxInt64-b) || (b < 0 && a < math.MinInt64-b) {
		return 0, posagent.Errorf(posagent.KindInternal, "the day's totals overflow")
	}
	return a + b, nil
}

func netOf(r SummaryRow) (int64, error) {
	n, err := addChecked(r.Issued.Total, -r.Voided.Total)
	if err != nil {
		return 0, err
	}
	if n, err = addChecked(n, -r.Allowances.Total); err != nil {
		return 0, err
	}
	return addChecked(n, r.AllowanceVoids.Total)
}

func (c *Console) daySummary(r *http.Request) (Summary, error) {
	d, err := c.day(r)
	if err != nil {
		return Summary{}, err
	}
	to := d.AddDate(0, 0, 1)
	recs, err := c.a.Activity(r.Context(), d, to)
	if err != nil {
		return Summary{}, err
	}
	return summarize(recs, d, to)
}

type summaryView struct {
	Summary
	Prev, Next string
}

func (c *Console) summary(w http.ResponseWriter, r *http.Request, req *request) {
	s, err := c.daySummary(r)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	d, _ := time.ParseInLocation("2006-01-02", s.Date, posagent.Taipei)
	c.render(w, req, http.StatusOK, "summary", "summary", summaryView{Summary: s,
		Prev: d.AddDate(0, 0, -1).Format("2006-01-02"), Next: d.AddDate(0, 0, 1).Format("2006-01-02")})
}

// summaryCSV writes the day's summary by period, or with detail=1 one line
// per document. UTF-8 with a byte-order mark, so that Excel on a Taiwanese
// Windows reads the Chinese right.
func (c *Console) summaryCSV(w http.ResponseWriter, r *http.Request, req *request) {
	s, err := c.daySummary(r)
	if err != nil {
		c.failErr(w, r, req, err)
		return
	}
	detail := r.URL.Query().Get("detail") == "1"
	name := "posagent-summary-" + s.Date
	if detail {
		name = "posagent-documents-" + s.Date
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
	_, _ = w.Write([]byte("\uFEFF"))
	cw := csv.NewWriter(w)
	i64 := func(n int64) string { return strconv.FormatInt(n, 10) }
	if detail {
		_ = cw.Write([]string{"time", "kind", "invoice", "reference", "period", "amount", "reason"})
		for _, l := range s.Lines {
			_ = cw.Write([]string{l.At.In(posagent.Taipei).Format(time.RFC3339), l.Kind, l.Number, agent.CSVSafe(l.Ref), l.Period, i64(l.Amount), agent.CSVSafe(l.Reason)})
		}
	} else {
		_ = cw.Write([]string{"date", "period", "issued_count", "issued_total", "voided_count", "voided_total",
			"allowance_count", "allowance_total", "allowance_void_count", "allowance_void_total", "net_total"})
		for _, row := range append(s.Rows, s.Total) {
			_ = cw.Write([]string{s.Date, row.Period, strconv.Itoa(row.Issued.Count), i64(row.Issued.Total),
				strconv.Itoa(row.Voided.Count), i64(row.Voided.Total), strconv.Itoa(row.Allowances.Count), i64(row.Allowances.Total),
				strconv.Itoa(row.AllowanceVoids.Count), i64(row.AllowanceVoids.Total), i64(row.Net)})
		}
	}
	cw.Flush()
}

package mig

import (
	"encoding/xml"
	"fmt"
	"sort"

	"github.com/posagent/posagent"
)

// e0402 is the BranchTrackBlank message. The XSD spells the second Main
// element " BranchBan" (a stray leading space, see xsd/README.md); Turnkey's
// Java validator reads a plain <BranchBan>, which is what is written.
type e0402 struct {
	XMLName xml.Name    `xml:"urn:GEINV:eInvoiceMessage:E0402:4.1 BranchTrackBlank"`
	Main    e0402Main   `xml:"Main"`
	Details []blankItem `xml:"Details>BranchTrackBlankItem"`
}

type e0402Main struct {
	HeadBan      string `xml:"HeadBan"`
	BranchBan    string `xml:"BranchBan"`
	InvoiceType  string `xml:"InvoiceType"`
	YearMonth    string `xml:"YearMonth"`
	InvoiceTrack string `xml:"InvoiceTrack"`
}

type blankItem struct {
	InvoiceBeginNo string `xml:"InvoiceBeginNo"`
	InvoiceEndNo   string `xml:"InvoiceEndNo"`
}

// Range is a run of unused numbers in one track, both ends included.
type Range struct {
	First, Last int
}

// Blank is one E0402: the unused numbers of one track, one period, one
// branch. HeadBan is the head office's 統編 and equals BranchBan for a
// single business.
type Blank struct {
	HeadBan   string
	BranchBan string
	Period    posagent.Period
	Track     string
	Ranges    []Range
}

// MaxBlankItems is the most BranchTrackBlankItem one E0402 may hold.
const MaxBlankItems = 10000

// BlankReports groups unused ranges (any booklets of the period, any tracks)
// into one Blank per track, ranges sorted and joined where they touch or
// overlap, tracks in order. Ranges of another period are refused.
func BlankReports(headBan, branchBan string, p posagent.Period, unused []posagent.Booklet) ([]Blank, error) {
	byTrack := map[string][]Range{}
	for i, b := range unused {
		switch {
		case b.Period != p:
			return nil, posagent.Invalid(fmt.Sprintf("blank[%d].period", i), "%s is not the period %s being reported", b.Period, p)
		case !numberText.MatchString(b.Number(0).String()) || b.Last > 99999999 || b.Last < b.First:
			return nil, posagent.Invalid(fmt.Sprintf("blank[%d]", i), "%q is not a range of numbers in one track", b.String())
		}
		byTrack[b.Track] = append(byTrack[b.Track], Range{First: b.First, Last: b.Last})
	}
	tracks := make([]string, 0, len(byTrack))
	for t := range byTrack {
		tracks = append(tracks, t)
	}
	sort.Strings(tracks)
	out := make([]Blank, 0, len(tracks))
	for _, t := range tracks {
		out = append(out, Blank{HeadBan: headBan, BranchBan: branchBan, Period: p, Track: t, Ranges: mergeRanges(byTrack[t])})
	}
	return out, nil
}

func mergeRanges(rs []Range) []Range {
	sort.Slice(rs, func(i, j int) bool { return rs[i].First < rs[j].First })
	var out []Range
	for _, r := range rs {
		if n := len(out); n > 0 && r.First <= out[n-1].Last+1 {
			if r.Last > out[n-1].Last {
				out[n-1].Last = r.Last
			}
			continue
		}
		out = append(out, r)
	}
	return out
}

// Identifier is what Turnkey files an E0402 under: BranchBan-TrackType.
func (b Blank) Identifier() string { return b.BranchBan + "-" + b.Track + "07" }

// E0402 writes a blank-number report.
func E0402(b Blank) (Message, error) {
	switch {
	case !posagent.ValidTaxID(b.HeadBan):
		return Message{}, posagent.Invalid("head_ban", "%q is not a valid 統一編號", b.HeadBan)
	case !posagent.ValidTaxID(b.BranchBan):
		return Message{}, posagent.Invalid("branch_ban", "%q is not a valid 統一編號", b.BranchBan)
	case b.Period.IsZero():
		return Message{}, posagent.Invalid("period", "is required")
	case len(b.Ranges) == 0:
		return Message{}, posagent.Invalid("ranges", "a blank report needs at least one range")
	case len(b.Ranges) > MaxBlankItems:
		return Message{}, posagent.Invalid("ranges", "%d ranges is more than the %d one E0402 holds", len(b.Ranges), MaxBlankItems)
	}
	doc := e0402{Main: e0402Main{HeadBan: b.HeadBan, BranchBan: b.BranchBan, InvoiceType: "07",
		YearMonth: b.Period.Code(), InvoiceTrack: b.Track}}
	for _, r := range b.Ranges {
		doc.Details = append(doc.Details, blankItem{InvoiceBeginNo: fmt.Sprintf("%08d", r.First), InvoiceEndNo: fmt.Sprintf("%08d", r.Last)})
	}
	if err := doc.check(); err != nil {
		return Message{}, fmt.Errorf("mig: E0402 %s: %w", b.Identifier(), err)
	}
	data, err := marshal(doc)
	if err != nil {
		return Message{}, err
	}
	return Message{Type: TypeE0402, Identifier: b.Identifier(), XML: data}, nil
}

func (d *e0402) check() error {
	m := d.Main
	switch {
	case !banText.MatchString(m.HeadBan):
		return ruleErr("Main/HeadBan", "%q is not an 8-digit 統一編號", m.HeadBan)
	case !banText.MatchString(m.BranchBan):
		return ruleErr("Main/BranchBan", "%q is not an 8-digit 統一編號", m.BranchBan)
	case m.InvoiceType != "07" && m.InvoiceType != "08":
		return ruleErr("Main/InvoiceType", "%q is not 07 or 08", m.InvoiceType)
	case !trackText.MatchString(m.InvoiceTrack):
		return ruleErr("Main/InvoiceTrack", "%q is not two uppercase letters", m.InvoiceTrack)
	}
	if _, err := posagent.ParsePeriod(m.YearMonth); err != nil {
		return ruleErr("Main/YearMonth", "%q is not an ROC year and even month such as 11404", m.YearMonth)
	}
	if len(d.Details) == 0 || len(d.Details) > MaxBlankItems {
		return ruleErr("Details", "a blank report has 1 to %d items, not %d", MaxBlankItems, len(d.Details))
	}
	prevEnd := -1
	for i, it := range d.Details {
		field := "Details/BranchTrackBlankItem[" + itoa(i+1) + "]"
		if !eightDigits.MatchString(it.InvoiceBeginNo) {
			return ruleErr(field+"/InvoiceBeginNo", "%q is not 8 digits", it.InvoiceBeginNo)
		}
		if !eightDigits.MatchString(it.InvoiceEndNo) {
			return ruleErr(field+"/InvoiceEndNo", "%q is not 8 digits", it.InvoiceEndNo)
		}
		if it.InvoiceEndNo < it.InvoiceBeginNo {
			return ruleErr(field+"/InvoiceEndNo", "%s comes before InvoiceBeginNo %s", it.InvoiceEndNo, it.InvoiceBeginNo)
		}
		if begin := atoi(it.InvoiceBeginNo); begin <= prevEnd {
			return ruleErr(field+"/InvoiceBeginNo", "%s overlaps the range before it", it.InvoiceBeginNo)
		}
		prevEnd = atoi(it.InvoiceEndNo)
	}
	return nil
}

package turnkey

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// The platform's daily report (EI 日報表), SummaryResult, as Turnkey keeps it
// under <Unpack>/BAK/SummaryResult/yyyyMMdd/HH/ (turnkey.md §1.1, §2.3):
//
//	SummaryResult
//	  RoutingInfo/From/PartyId
//	  DetailList/Message[]
//	    Info{Id "v41-F0401-20251103-090000123-<uuid>", MessageType …}
//	    Result{Total, Good, Failed}, each {Count, Invoices/Invocie[]{ReferenceNumber, InvoiceDate}}
//
// one Message per pack posagent's messages went out in, dated by its Id.
// The XSD spells the item Invocie; a reader of real files (ho600's
// turnkey_wrapper) finds Invoice, and the counts under
// ResultType/Total/ResultDetailType/Count [3P]. Neither is confirmed against
// a live platform [U], so the parser takes any of them: Result or ResultType,
// a count in Count, in ResultDetailType/Count, as the element's own text, or
// else the number of Invoice/Invocie items.

// SummaryResult is one SummaryResult file.
type SummaryResult struct {
	// PartyID is RoutingInfo/From/PartyId: the 送方 the report is for.
	PartyID  string
	Messages []SummaryMessage
}

// SummaryMessage is one pack's line of a SummaryResult.
type SummaryMessage struct {
	ID   string // Info/Id, the pack's name
	Type string // Info/MessageType ("F0401"), else from the Id
	// Day is the pack's date from its Id (Taipei midnight); zero when the Id has none.
	Day                 time.Time
	Total, Good, Failed SummaryCount
}

// SummaryCount is one of Total, Good, Failed.
type SummaryCount struct {
	Count    int
	Invoices []SummaryInvoice
}

// SummaryInvoice is one document a count lists.
type SummaryInvoice struct {
	ReferenceNumber, InvoiceDate string
}

// ErrNotSummaryResult: the file is XML of another kind (Turnkey's folder may
// hold other replies).
var ErrNotSummaryResult = errors.New("not a SummaryResult")

// maxSummaryFile bounds what is read of one file: a day's report of a till
// is a few kilobytes; a report listing 10,000 invoices about a megabyte.
const maxSummaryFile = 32 << 20

// xmlNode is an element with its local name (namespaces ignored: the parser
// is lenient), its text and its children.
type xmlNode struct {
	name string
	text strings.Builder
	kids []*xmlNode
}

func (n *xmlNode) child(names ...string) *xmlNode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		for _, name := range names {
			if strings.EqualFold(k.name, name) {
				return k
			}
		}
	}
	return nil
}

func (n *xmlNode) value() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.text.String())
}

// descendants calls f for every element below n named one of names.
func (n *xmlNode) descendants(f func(*xmlNode), names ...string) {
	for _, k := range n.kids {
		for _, name := range names {
			if strings.EqualFold(k.name, name) {
				f(k)
			}
		}
		k.descendants(f, names...)
	}
}

// parseTree reads an XML document into nodes, bounded in depth and size.
func parseTree(data []byte) (*xmlNode, error) {
	if len(data) > maxSummaryFile {
		return nil, fmt.Errorf("the file is larger than %d bytes", maxSummaryFile)
	}
	dec := xml.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))))
	dec.Strict = true
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "utf-8") || strings.EqualFold(label, "utf8") {
			return r, nil
		}
		return nil, fmt.Errorf("encoding %q is not UTF-8", label)
	}
	var root *xmlNode
	var stack []*xmlNode
	elements := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= 32 {
				return nil, errors.New("elements nested deeper than 32")
			}
			if elements++; elements > 1_000_000 {
				return nil, errors.New("more than a million elements")
			}
			n := &xmlNode{name: t.Name.Local}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("more than one root element")
				}
				root = n
			} else {
				top := stack[len(stack)-1]
				top.kids = append(top.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

var (
	idDate    = regexp.MustCompile(`(?:^|-)([0-9]{8})(?:-|$)`)
	idMsgType = regexp.MustCompile(`(?:^|-)([A-Z][0-9]{4})(?:-|$)`)
)

// ParseSummaryResult reads one SummaryResult file (UTF-8, a BOM tolerated).
// Another root element is ErrNotSummaryResult; a count that is not a whole
// number from 0 to 10,000,000, or a Message without Info/Id, is an error
// naming it.
func ParseSummaryResult(data []byte) (SummaryResult, error) {
	root, err := parseTree(data)
	if err != nil {
		return SummaryResult{}, fmt.Errorf("SummaryResult: %w", err)
	}
	if root.name != "SummaryResult" {
		return SummaryResult{}, fmt.Errorf("%w: the root element is %s", ErrNotSummaryResult, root.name)
	}
	out := SummaryResult{PartyID: root.child("RoutingInfo").child("From").child("PartyId").value()}
	list := root.child("DetailList")
	if list == nil {
		return out, nil // a report of nothing
	}
	for i, m := range list.kids {
		if m.name != "Message" {
			continue
		}
		at := fmt.Sprintf("DetailList/Message[%d]", i)
		info := m.child("Info")
		msg := SummaryMessage{ID: info.child("Id").value(), Type: info.child("MessageType").value()}
		if msg.ID == "" {
			return SummaryResult{}, fmt.Errorf("SummaryResult %s: Info/Id is missing", at)
		}
		if msg.Type == "" {
			if t := idMsgType.FindStringSubmatch(msg.ID); t != nil {
				msg.Type = t[1]
			}
		}
		if d := idDate.FindStringSubmatch(msg.ID); d != nil {
			if day, err := time.ParseInLocation("20060102", d[1], posagent.Taipei); err == nil {
				msg.Day = day
			}
		}
		result := m.child("Result", "ResultType")
		for _, c := range []struct {
			name string
			into *SummaryCount
		}{{"Total", &msg.Total}, {"Good", &msg.Good}, {"Failed", &msg.Failed}} {
			if *c.into, err = summaryCount(result.child(c.name)); err != nil {
				return SummaryResult{}, fmt.Errorf("SummaryResult %s/Result/%s: %w", at, c.name, err)
			}
		}
		out.Messages = append(out.Messages, msg)
	}
	return out, nil
}

func summaryCount(n *xmlNode) (SummaryCount, error) {
	var c SummaryCount
	if n == nil {
		return c, nil
	}
	n.descendants(func(item *xmlNode) {
		c.Invoices = append(c.Invoices, SummaryInvoice{ReferenceNumber: item.child("ReferenceNumber").value(),
			InvoiceDate: item.child("InvoiceDate").value()})
	}, "Invoice", "Invocie")
	text := n.child("Count").value()
	if text == "" {
		text = n.child("ResultDetailType").child("Count").value()
	}
	if text == "" && len(n.kids) == 0 {
		text = n.value()
	}
	if text == "" {
		c.Count = len(c.Invoices)
		return c, nil
	}
	v, err := strconv.Atoi(text)
	if err != nil || v < 0 || v > 10_000_000 {
		return c, fmt.Errorf("count %q is not a whole number from 0 to 10000000", text)
	}
	c.Count = v
	return c, nil
}

// summaryLookahead is how many days after a day its report is looked for:
// the platform sends a day's report the next day [U: when exactly], and
// Turnkey files it by its own clock when it downloads it.
const summaryLookahead = 7

// DaySummary implements posagent.DaySummarizer from the SummaryResult files
// Turnkey downloaded: every Message whose pack is dated day, summed by message
// type, each pack counted once however many files list it (the latest file
// wins). ok is false while no pack of the day is reported. Reports addressed
// to another 送方 than the seller (or its head office) are left out [U: that
// PartyId is the 送方's 統編].
func (p *Provider) DaySummary(ctx context.Context, day time.Time) (posagent.DaySummary, bool, error) {
	if p.cfg.UnpackRoot == "" {
		return posagent.DaySummary{}, false, &posagent.Error{Kind: posagent.KindConfig, Err: posagent.ErrNotReconcilable,
			Message: "turnkey: the platform's day summary is read from Turnkey's Unpack folder: set provider.turnkey.unpack_root"}
	}
	day = day.In(posagent.Taipei)
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, posagent.Taipei)
	base := filepath.Join(p.cfg.UnpackRoot, "BAK", "SummaryResult")
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	for d := -1; d <= summaryLookahead; d++ {
		dir := filepath.Join(base, day.AddDate(0, 0, d).Format("20060102"))
		err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if e.IsDir() {
				return nil
			}
			info, err := e.Info()
			if err != nil {
				return nil // gone meanwhile
			}
			files = append(files, file{path, info.ModTime()})
			return nil
		})
		if err != nil {
			return posagent.DaySummary{}, false, &posagent.Error{Kind: posagent.KindTransient, Message: "turnkey: read " + dir, Err: err}
		}
	}
	// Oldest first — by Turnkey's yyyyMMdd/HH folders, then by when the file
	// was written — so that the latest report of a pack wins.
	sort.Slice(files, func(i, j int) bool {
		di, dj := filepath.Dir(files[i].path), filepath.Dir(files[j].path)
		if di != dj {
			return di < dj
		}
		if !files[i].mod.Equal(files[j].mod) {
			return files[i].mod.Before(files[j].mod)
		}
		return files[i].path < files[j].path
	})
	packs := map[string]SummaryMessage{}
	for _, ff := range files {
		f := ff.path
		if err := ctx.Err(); err != nil {
			return posagent.DaySummary{}, false, &posagent.Error{Kind: posagent.KindTransient, Message: "turnkey: day summary", Err: err}
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return posagent.DaySummary{}, false, &posagent.Error{Kind: posagent.KindTransient, Message: "turnkey: read " + f, Err: err}
		}
		sr, err := ParseSummaryResult(data)
		if errors.Is(err, ErrNotSummaryResult) {
			continue
		}
		if err != nil {
			return posagent.DaySummary{}, false, &posagent.Error{Kind: posagent.KindInternal, Message: "turnkey: " + f, Err: err}
		}
		if sr.PartyID != "" && sr.PartyID != p.cfg.Seller.TaxID && sr.PartyID != p.cfg.HeadBan {
			continue
		}
		for _, m := range sr.Messages {
			packs[m.ID] = m
		}
	}
	out := posagent.DaySummary{Day: day, Messages: map[string]posagent.MessageCount{}}
	for _, m := range packs {
		if m.Day.IsZero() {
			// Counting it on no day would make every day's count look short.
			return posagent.DaySummary{}, false, posagent.Errorf(posagent.KindInternal,
				"turnkey: a SummaryResult pack %q carries no date in its Id: its day cannot be told", m.ID)
		}
		if !m.Day.Equal(day) {
			continue
		}
		c := out.Messages[m.Type]
		c.Total += m.Total.Count
		c.Good += m.Good.Count
		c.Failed += m.Failed.Count
		out.Messages[m.Type] = c
	}
	if len(out.Messages) == 0 {
		return posagent.DaySummary{}, false, nil
	}
	return out, true, nil
}

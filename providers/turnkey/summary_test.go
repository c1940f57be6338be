package turnkey_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/turnkey"
)

func TestParseSummaryResult(t *testing.T) {
	tests := []struct {
		file                string
		party               string
		ids, types          []string
		total, good, failed []int
		items               []int // of Total
	}{
		// The XSD's shape and spelling (Result, Count, Invoices/Invocie).
		{"xsd.xml", "24634102", []string{"v41-F0401-20251103-090000123-3f2a1c9e8b7d4e6f", "v41-F0501-20251103-101500000-aa00bb11cc22dd33"},
			[]string{"F0401", "F0501"}, []int{3, 1}, []int{2, 1}, []int{1, 0}, []int{3, 0}},
		// What a reader of real files finds (ResultType/Total/ResultDetailType/Count, Invoice).
		{"ho600.xml", "24634102", []string{"v41-F0401-20251103-130000000-0123456789abcdef"},
			[]string{"F0401"}, []int{2}, []int{2}, []int{0}, []int{2}},
		// No Count: the items are counted; a bare number; an empty element; no
		// MessageType: taken from the Id; no namespace.
		{"items-only.xml", "", []string{"v41-G0401-20251104-080000000-feedfacefeedface"},
			[]string{"G0401"}, []int{1}, []int{1}, []int{0}, []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "summary", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			sr, err := turnkey.ParseSummaryResult(data)
			if err != nil {
				t.Fatal(err)
			}
			if sr.PartyID != tt.party || len(sr.Messages) != len(tt.ids) {
				t.Fatalf("party %q, %d messages", sr.PartyID, len(sr.Messages))
			}
			for i, m := range sr.Messages {
				if m.ID != tt.ids[i] || m.Type != tt.types[i] || m.Total.Count != tt.total[i] || m.Good.Count != tt.good[i] ||
					m.Failed.Count != tt.failed[i] || len(m.Total.Invoices) != tt.items[i] {
					t.Errorf("message %d: %+v", i, m)
				}
				if m.Day.IsZero() || m.Day.Location() != posagent.Taipei {
					t.Errorf("message %d: day %v", i, m.Day)
				}
			}
		})
	}
	t.Run("items", func(t *testing.T) {
		data, _ := os.ReadFile(filepath.Join("testdata", "summary", "xsd.xml"))
		sr, _ := turnkey.ParseSummaryResult(data)
		if f := sr.Messages[0].Failed.Invoices; len(f) != 1 || f[0].ReferenceNumber != "AB11223303" || f[0].InvoiceDate != "20251103" {
			t.Fatalf("failed items %+v", f)
		}
	})
}

func TestParseSummaryResultRefuses(t *testing.T) {
	const head = `<SummaryResult><DetailList><Message><Info><Id>v41-F0401-20251103-1-x</Id></Info><Result>`
	tests := []struct {
		name, xml, words string
		notSummary       bool
	}{
		{"another reply", `<ProcessResult xmlns="urn:GEINV:ProcessResult:4.0"/>`, "root element is ProcessResult", true},
		{"not XML", `SummaryResult`, "SummaryResult", false},
		{"cut off", `<SummaryResult><DetailList>`, "SummaryResult", false},
		{"two roots", `<SummaryResult/><SummaryResult/>`, "more than one root", false},
		{"no Id", `<SummaryResult><DetailList><Message><Info/></Message></DetailList></SummaryResult>`, "Info/Id is missing", false},
		{"count not a number", head + `<Total><Count>three</Count></Total></Result></Message></DetailList></SummaryResult>`, "Result/Total", false},
		{"negative count", head + `<Good><Count>-1</Count></Good></Result></Message></DetailList></SummaryResult>`, "Result/Good", false},
		{"huge count", head + `<Failed>99999999999</Failed></Result></Message></DetailList></SummaryResult>`, "Result/Failed", false},
		{"Big5", `<?xml version="1.0" encoding="Big5"?><SummaryResult/>`, "not UTF-8", false},
		{"deep", strings.Repeat("<a>", 40) + strings.Repeat("</a>", 40), "deeper", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := turnkey.ParseSummaryResult([]byte(tt.xml))
			if err == nil || !strings.Contains(err.Error(), tt.words) || errors.Is(err, turnkey.ErrNotSummaryResult) != tt.notSummary {
				t.Fatalf("error %v", err)
			}
		})
	}
}

// folderProvider is a provider without a database, its Unpack root in a temp dir.
func folderProvider(t *testing.T, unpack string) *turnkey.Provider {
	t.Helper()
	root := t.TempDir()
	p, err := turnkey.New(context.Background(), turnkey.Config{B2SRoot: filepath.Join(root, "B2S"), B2PRoot: filepath.Join(root, "B2P"),
		UnpackRoot: unpack, TempDir: filepath.Join(root, "tmp"), StateDir: filepath.Join(root, "state"), Seller: seller})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func putSummary(t *testing.T, unpack, folderDay, hour, name, content string) {
	t.Helper()
	dir := filepath.Join(unpack, "BAK", "SummaryResult", folderDay, hour)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func message(id, typ string, total, good, failed int) string {
	c := func(n int) string { return "<Count>" + strconv.Itoa(n) + "</Count>" }
	return `<Message><Info><Id>` + id + `</Id><MessageType>` + typ + `</MessageType></Info><Result><Total>` + c(total) +
		`</Total><Good>` + c(good) + `</Good><Failed>` + c(failed) + `</Failed></Result></Message>`
}

func summaryFile(party string, messages ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><SummaryResult xmlns="urn:GEINV:SummaryResult:4.0"><RoutingInfo><From><PartyId>` +
		party + `</PartyId></From></RoutingInfo><DetailList>` + strings.Join(messages, "") + `</DetailList></SummaryResult>`
}

func TestDaySummaryFromFiles(t *testing.T) {
	unpack := t.TempDir()
	p := folderProvider(t, unpack)
	day := time.Date(2025, 11, 3, 0, 0, 0, 0, posagent.Taipei)
	ctx := context.Background()

	if _, ok, err := p.DaySummary(ctx, day); ok || err != nil {
		t.Fatalf("before any report: ok %v, %v", ok, err)
	}
	// The report of the 3rd arrives on the 4th; a later report repeats one
	// pack with corrected counts (the later file wins), lists a pack of the
	// 4th (another day) and one of another seller (left out); ProcessResult
	// files beside it are skipped.
	putSummary(t, unpack, "20251104", "02", "a.xml", summaryFile(seller.TaxID,
		message("v41-F0401-20251103-090000000-p1", "F0401", 3, 3, 0),
		message("v41-F0401-20251103-150000000-p2", "F0401", 2, 1, 1),
		message("v41-F0501-20251103-160000000-p3", "F0501", 1, 1, 0)))
	putSummary(t, unpack, "20251105", "02", "b.xml", summaryFile(seller.TaxID,
		message("v41-F0401-20251103-150000000-p2", "F0401", 2, 2, 0),
		message("v41-F0401-20251104-090000000-p4", "F0401", 7, 7, 0)))
	putSummary(t, unpack, "20251104", "03", "other.xml", summaryFile("22099131",
		message("v41-F0401-20251103-090000000-q1", "F0401", 50, 50, 0)))
	putSummary(t, unpack, "20251104", "02", "pr.xml", `<ProcessResult xmlns="urn:GEINV:ProcessResult:4.0"/>`)
	// Outside the window: a report filed ten days later is not read.
	putSummary(t, unpack, "20251113", "02", "late.xml", summaryFile(seller.TaxID,
		message("v41-F0401-20251103-220000000-p9", "F0401", 9, 9, 0)))

	s, ok, err := p.DaySummary(ctx, day.Add(13*time.Hour))
	if err != nil || !ok {
		t.Fatalf("ok %v, %v", ok, err)
	}
	if !s.Day.Equal(day) {
		t.Fatalf("day %v", s.Day)
	}
	want := map[string]posagent.MessageCount{"F0401": {Total: 5, Good: 5}, "F0501": {Total: 1, Good: 1}}
	if len(s.Messages) != len(want) {
		t.Fatalf("messages %+v", s.Messages)
	}
	for k, w := range want {
		if s.Messages[k] != w {
			t.Errorf("%s: %+v, want %+v", k, s.Messages[k], w)
		}
	}
	if s4, ok, _ := p.DaySummary(ctx, day.AddDate(0, 0, 1)); !ok || s4.Messages["F0401"].Total != 7 {
		t.Fatalf("the 4th: %+v %v", s4, ok)
	}

	// A damaged report is an error naming the file, not a day of zeros.
	putSummary(t, unpack, "20251104", "04", "bad.xml", `<SummaryResult><DetailList><Message><Info><Id>x</Id></Info><Result><Total>x</Total></Result></Message></DetailList></SummaryResult>`)
	if _, _, err := p.DaySummary(ctx, day); err == nil || !strings.Contains(err.Error(), "bad.xml") {
		t.Fatalf("damaged: %v", err)
	}
	os.Remove(filepath.Join(unpack, "BAK", "SummaryResult", "20251104", "04", "bad.xml"))
	putSummary(t, unpack, "20251104", "04", "nodate.xml", summaryFile(seller.TaxID, message("pack-without-a-date", "F0401", 1, 1, 0)))
	if _, _, err := p.DaySummary(ctx, day); err == nil || !strings.Contains(err.Error(), "no date") {
		t.Fatalf("no date: %v", err)
	}
}

func TestDaySummaryNeedsUnpackRoot(t *testing.T) {
	p := folderProvider(t, "")
	_, ok, err := p.DaySummary(context.Background(), time.Now())
	if ok || !posagent.IsKind(err, posagent.KindConfig) || !errors.Is(err, posagent.ErrNotReconcilable) {
		t.Fatalf("ok %v, %v", ok, err)
	}
	// Without a database nothing can be asked either.
	_, err = p.Holdings(context.Background(), []posagent.DocRef{{Kind: posagent.DocInvoice, Number: "AB11223301"}})
	if !posagent.IsKind(err, posagent.KindConfig) || !errors.Is(err, posagent.ErrNotReconcilable) {
		t.Fatalf("holdings without a database: %v", err)
	}
}

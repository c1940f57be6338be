package escpos_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/posagent/posagent/printer/escpos"
)

func TestAppendBig5(t *testing.T) {
	tests := []struct {
		in       string
		want     string
		replaced []rune
	}{
		{"電子發票證明聯", "B971 A46C B56F B2BC C3D2 A9FA C170", nil},
		{"臺台", "BB4F A578", nil},
		{"AB-12345678", "41422D3132333435363738", nil},
		{"？", "A148", nil},
		{"兀", "A461", nil}, // duplicated in Big5 (A461, C94A): the frequent-Hanzi code
		// HKSCS, ETEN extensions, the euro sign, emoji, a katakana middle dot:
		// each becomes ？ (A1 48), never SUB (1A) and never an unsafe code.
		{"汉", "A148", []rune{'汉'}},
		{"堃喆", "A148A148", []rune{'堃', '喆'}},
		{"碁恒", "A148A148", []rune{'碁', '恒'}},
		{"€5", "A14835", []rune{'€'}},
		{"咖啡😀", "A940 B0D8 A148", []rune{'😀'}},
		{"・", "A148", []rune{'・'}},
		{"a\tb\n", "61A14862A148", []rune{'\t', '\n'}},
		{"é", "A148", []rune{'é'}},
		{"\xff", "A148", []rune{utf8.RuneError}},
	}
	for _, tt := range tests {
		got, rep := escpos.AppendBig5(nil, tt.in)
		if want := unhex(t, tt.want); !bytes.Equal(got, want) {
			t.Errorf("AppendBig5(%q) = % X, want % X", tt.in, got, want)
		}
		if !slices.Equal(rep, tt.replaced) {
			t.Errorf("AppendBig5(%q) replaced %q, want %q", tt.in, rep, tt.replaced)
		}
		if bytes.IndexByte(got, 0x1A) >= 0 {
			t.Errorf("AppendBig5(%q) wrote SUB", tt.in)
		}
	}
}

func TestBuilderTextReportsReplacements(t *testing.T) {
	var b escpos.Builder
	b.Text("牛奶🥛")
	b.Line(" 汉堡")
	if got, want := b.Replaced(), []rune{'🥛', '汉'}; !slices.Equal(got, want) {
		t.Fatalf("Replaced() = %q, want %q", got, want)
	}
	if want := unhex(t, "A4FB A5A4 A148 20 A148 B3F9 0A"); !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("bytes % X, want % X", b.Bytes(), want)
	}
}

func TestColumns(t *testing.T) {
	for _, tt := range []struct {
		s    string
		cols int
	}{{"", 0}, {"AB-1", 4}, {"乾電池", 6}, {"影印紙 A4", 9}, {"😀x", 3}} {
		enc, _ := escpos.AppendBig5(nil, tt.s)
		if got := escpos.Columns(enc); got != tt.cols {
			t.Errorf("Columns(%q) = %d, want %d", tt.s, got, tt.cols)
		}
		if got := escpos.ColumnsOf(tt.s); got != tt.cols {
			t.Errorf("ColumnsOf(%q) = %d, want %d", tt.s, got, tt.cols)
		}
	}
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in   string
		cols int
		want []string
	}{
		{"乾電池", 32, []string{"乾電池"}},
		// 17 Hanzi in 32 columns: 16 on the first line, never half a glyph.
		{strings.Repeat("茶", 17), 32, []string{strings.Repeat("茶", 16), "茶"}},
		// An odd column count leaves a column empty rather than split a pair.
		{"ab乾電池", 5, []string{"ab乾", "電池"}},
		// ASCII words move to the next line at a space in the line's second half.
		{"Premium A4 copy paper", 12, []string{"Premium A4", "copy paper"}},
		// A break exactly at a space drops the space.
		{"abcd efgh", 4, []string{"abcd", "efgh"}},
		// No space to use: a hard break.
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"", 10, nil},
	}
	for _, tt := range tests {
		enc, _ := escpos.AppendBig5(nil, tt.in)
		var got []string
		for _, line := range escpos.Wrap(enc, tt.cols) {
			if escpos.Columns(line) > tt.cols {
				t.Errorf("Wrap(%q, %d): line %q is %d columns", tt.in, tt.cols, line, escpos.Columns(line))
			}
			got = append(got, decodeBig5(t, line))
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tt.in, tt.cols, got, tt.want)
		}
	}
}

func decodeBig5(t *testing.T, p []byte) string {
	t.Helper()
	cmds := escpos.Disassemble(append([]byte{escpos.FS, '&'}, p...))
	var sb strings.Builder
	for _, c := range cmds[1:] {
		if c.Name != "TEXT" {
			t.Fatalf("%q is not plain text: %v", p, c)
		}
		sb.WriteString(strings.Trim(c.Detail, `"`))
	}
	return sb.String()
}

func TestEncodedRejectsBrokenText(t *testing.T) {
	good, _ := escpos.AppendBig5(nil, "牛奶 25")
	var b escpos.Builder
	if err := b.Encoded(good); err != nil {
		t.Fatalf("good text: %v", err)
	}
	for name, p := range map[string][]byte{
		"lone lead byte": good[:1],
		"split pair":     good[1:],
		"control byte":   {'a', 0x1B, '@'},
		"SUB":            {0x1A},
		"HKSCS pair":     {0xFA, 0xE4},
		"euro":           {0xA3, 0xE1},
	} {
		var b escpos.Builder
		if err := b.Encoded(p); err == nil {
			t.Errorf("%s accepted", name)
		}
		if b.Len() != 0 {
			t.Errorf("%s written", name)
		}
	}
}

// FuzzText checks the promises of the text path on any input: only printable
// ASCII and safe pairs come out, every replacement is reported, and wrapped
// lines are within width and never split a pair.
func FuzzText(f *testing.F) {
	for _, s := range []string{"電子發票證明聯", "a😀b", "汉€\x00\x1b@", "影印紙 A4 Premium", "\xff\xfe"} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, cols int) {
		enc, rep := escpos.AppendBig5(nil, s)
		var b escpos.Builder
		if err := b.Encoded(enc); err != nil {
			t.Fatalf("AppendBig5(%q) produced unsendable text: %v", s, err)
		}
		if got := bytes.Count(enc, escpos.Replacement[:]); got < len(rep) {
			t.Fatalf("%d replacements reported, %d written", len(rep), got)
		}
		if escpos.Columns(enc) != escpos.ColumnsOf(s) {
			t.Fatalf("Columns %d != ColumnsOf %d", escpos.Columns(enc), escpos.ColumnsOf(s))
		}
		cols = cols%40 + 2
		if cols < 2 {
			cols += 40
		}
		var joined int
		for _, line := range escpos.Wrap(enc, cols) {
			if escpos.Columns(line) > cols {
				t.Fatalf("line of %d columns > %d", escpos.Columns(line), cols)
			}
			if err := b.Encoded(line); err != nil {
				t.Fatalf("Wrap split a pair: %v", err)
			}
			joined += len(line)
		}
		if joined > len(enc) || joined < len(enc)-bytes.Count(enc, []byte{' '}) {
			t.Fatalf("Wrap lost text: %d of %d bytes", joined, len(enc))
		}
	})
}

func TestDisassemble(t *testing.T) {
	var b escpos.Builder
	b.Initialize()
	b.CodeTable(0)
	b.KanjiOn()
	b.Size(2, 2)
	b.Line("電子發票 AB")
	_ = b.QR([]byte("1234"), 4, escpos.QRLevelL)
	_ = b.Code39("ABC")
	m := escpos.NewBitmap(16, 2)
	_ = b.Raster(m, escpos.RasterQuadruple)
	b.PageMode()
	b.PageArea(0, 0, 384, 160)
	b.PrintPage()
	b.FeedAndCut(escpos.CutPartial, 0)
	b.Raw(0x1B, 0x99)
	var names []string
	for _, c := range escpos.Disassemble(b.Bytes()) {
		names = append(names, c.Name)
	}
	want := []string{"ESC @", "ESC t", "FS &", "GS !", "TEXT", "LF",
		"GS ( k 165", "GS ( k 167", "GS ( k 169", "GS ( k 180", "GS ( k 181", "GS k", "GS v 0",
		"ESC L", "ESC W", "FF", "GS V", "?", "?"}
	if !slices.Equal(names, want) {
		t.Fatalf("Disassemble names\n got %q\nwant %q", names, want)
	}
	listing := escpos.Listing(b.Bytes())
	for _, s := range []string{`"電子發票 AB"`, `4 bytes "1234"`, "m=3 16×2 dots, 4 bytes", `m=69 "ABC"`} {
		if !strings.Contains(listing, s) {
			t.Errorf("listing lacks %s:\n%s", s, listing)
		}
	}
}

// FuzzDisassemble: any byte stream splits into commands that cover it exactly,
// in order, without a panic.
func FuzzDisassemble(f *testing.F) {
	var b escpos.Builder
	b.Initialize()
	b.KanjiOn()
	b.Line("電子發票")
	_ = b.QR([]byte("1234"), 3, escpos.QRLevelL)
	_ = b.Code39("AB12")
	_ = b.Raster(escpos.NewBitmap(16, 2), escpos.RasterNormal)
	b.PageArea(0, 0, 384, 160)
	b.FeedAndCut(escpos.CutPartial, 0)
	f.Add(b.Bytes())
	f.Add([]byte{0x1D, 0x76, 0x30, 0x00, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Add([]byte{0x1D, 0x28, 0x6B, 0xFF, 0xFF})
	f.Add([]byte{0x1D, 0x6B, 0x04, 'A'})
	f.Fuzz(func(t *testing.T, p []byte) {
		next := 0
		for _, c := range escpos.Disassemble(p) {
			if c.Offset != next || len(c.Raw) == 0 || !bytes.Equal(c.Raw, p[c.Offset:c.Offset+len(c.Raw)]) {
				t.Fatalf("command %q at %d does not continue at %d", c.Name, c.Offset, next)
			}
			next += len(c.Raw)
		}
		if next != len(p) {
			t.Fatalf("commands cover %d of %d bytes", next, len(p))
		}
	})
}

func BenchmarkAppendBig5(b *testing.B) {
	s := "台灣高山烏龍茶葉禮盒精裝版 Premium A4 copy paper 80gsm"
	buf := make([]byte, 0, 256)
	escpos.AppendBig5(nil, s) // build the table outside the timing
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf, _ = escpos.AppendBig5(buf[:0], s)
	}
}

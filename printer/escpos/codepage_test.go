package escpos_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/posagent/posagent/printer/escpos"
)

// Every Portuguese letter, in both code pages, at the byte of IBM's tables
// (PC860: Portuguese; PC858: PC850 with € at D5).
func TestAppendCodePagePortuguese(t *testing.T) {
	letters := []struct {
		r            rune
		cp860, cp858 byte
	}{
		{'ç', 0x87, 0x87}, {'Ç', 0x80, 0x80},
		{'ã', 0x84, 0xC6}, {'Ã', 0x8E, 0xC7},
		{'õ', 0x94, 0xE4}, {'Õ', 0x99, 0xE5},
		{'á', 0xA0, 0xA0}, {'Á', 0x86, 0xB5},
		{'é', 0x82, 0x82}, {'É', 0x90, 0x90},
		{'í', 0xA1, 0xA1}, {'Í', 0x8B, 0xD6},
		{'ó', 0xA2, 0xA2}, {'Ó', 0x9F, 0xE0},
		{'ú', 0xA3, 0xA3}, {'Ú', 0x96, 0xE9},
		{'â', 0x83, 0x83}, {'Â', 0x8F, 0xB6},
		{'ê', 0x88, 0x88}, {'Ê', 0x89, 0xD2},
		{'ô', 0x93, 0x93}, {'Ô', 0x8C, 0xE2},
		{'à', 0x85, 0x85}, {'À', 0x91, 0xB7},
		{'º', 0xA7, 0xA7}, {'ª', 0xA6, 0xA6},
	}
	for _, l := range letters {
		for _, tc := range []struct {
			cp   escpos.CodePage
			want byte
		}{{escpos.CP860, l.cp860}, {escpos.CP858, l.cp858}} {
			got, rep := escpos.AppendCodePage(nil, string(l.r), tc.cp)
			if !bytes.Equal(got, []byte{tc.want}) || rep != nil {
				t.Errorf("%s %q = % X (replaced %q), want %02X", tc.cp, l.r, got, rep, tc.want)
			}
			if back := escpos.DecodeCodePage(got, tc.cp); back != string(l.r) {
				t.Errorf("%s: % X decodes to %q, want %q", tc.cp, got, back, l.r)
			}
		}
	}
}

func TestAppendCodePage(t *testing.T) {
	tests := []struct {
		cp       escpos.CodePage
		in, want string
		replaced []rune
	}{
		{escpos.CP860, "Pão de forma 2,50", "P\x84o de forma 2,50", nil},
		// € has no byte in PC860: the currency is written out, never lost.
		{escpos.CP860, "Vale 5€", "Vale 5EUR", nil},
		{escpos.CP858, "Vale 5€", "Vale 5\xD5", nil},
		// What neither page holds is a visible ?, reported.
		{escpos.CP860, "Caffè — ok", "Caff\x8A ? ok", []rune{'—'}},
		{escpos.CP858, "咖啡😀", "???", []rune{'咖', '啡', '😀'}},
		{escpos.CP858, "Łódź", "?\xA2d?", []rune{'Ł', 'ź'}},
		// Control characters never reach the printer as such.
		{escpos.CP860, "a\tb\n\x1b@\x7f", "a?b??@?", []rune{'\t', '\n', 0x1b, 0x7f}},
		{escpos.CP860, "\xff", "?", []rune{utf8.RuneError}},
		// C1 controls and the no-break space are not sent either.
		{escpos.CP858, "a\u0085b\u00a0c", "a?b\xFFc", []rune{0x85}},
		// An unknown page keeps ASCII only.
		{"cp999", "Café", "Caf?", []rune{'é'}},
	}
	for _, tt := range tests {
		got, rep := escpos.AppendCodePage([]byte("x"), tt.in, tt.cp)
		if want := "x" + tt.want; string(got) != want {
			t.Errorf("%s %q = %q, want %q", tt.cp, tt.in, got, want)
		}
		if !slices.Equal(rep, tt.replaced) {
			t.Errorf("%s %q replaced %q, want %q", tt.cp, tt.in, rep, tt.replaced)
		}
	}
}

func TestCodePageTables(t *testing.T) {
	for _, tc := range []struct {
		cp    escpos.CodePage
		table byte
	}{{escpos.CP860, 3}, {escpos.CP858, 19}} {
		if !tc.cp.Valid() || tc.cp.Table() != tc.table {
			t.Errorf("%s: valid %v, table %d; want ESC t %d", tc.cp, tc.cp.Valid(), tc.cp.Table(), tc.table)
		}
		if cp, ok := escpos.CodePageByTable(tc.table); !ok || cp != tc.cp {
			t.Errorf("table %d = %q, %v", tc.table, cp, ok)
		}
	}
	if escpos.CodePage("big5").Valid() {
		t.Error("big5 is a code page")
	}
	if _, ok := escpos.CodePageByTable(0); ok {
		t.Error("table 0 (PC437) is a Portuguese code page")
	}
}

func TestWrapSingle(t *testing.T) {
	text, _ := escpos.AppendCodePage(nil, "Caneta esferográfica azul de ponta média", escpos.CP860)
	lines := escpos.WrapSingle(text, 20)
	var got []string
	for _, l := range lines {
		if len(l) > 20 {
			t.Errorf("line of %d columns: %q", len(l), l)
		}
		got = append(got, escpos.DecodeCodePage(l, escpos.CP860))
	}
	// One column a byte: "esferográfica" is 13 columns (Wrap would count the
	// ó as half a Big5 pair).
	if want := []string{"Caneta esferográfica", "azul de ponta média"}; !slices.Equal(got, want) {
		t.Errorf("WrapSingle = %q, want %q", got, want)
	}
}

// The disassembler decodes single-byte text by the code table ESC t chose.
func TestDisassembleCodePage(t *testing.T) {
	text860, _ := escpos.AppendCodePage(nil, "Pão", escpos.CP860)
	text858, _ := escpos.AppendCodePage(nil, "Pão 5€", escpos.CP858)
	stream := slices.Concat([]byte("\x1b@\x1bt\x03"), text860, []byte("\n\x1bt\x13"), text858, []byte("\n"))
	listing := escpos.Listing(stream)
	for _, want := range []string{`TEXT         "Pão"`, `TEXT         "Pão 5€"`} {
		if !strings.Contains(listing, want) {
			t.Errorf("no %s in\n%s", want, listing)
		}
	}
	if strings.Contains(listing, "?") {
		t.Errorf("unknown bytes in\n%s", listing)
	}
}

// FuzzAppendCodePage: whatever the text, the output has no control byte,
// decodes back to the input with each replaced rune as '?' (and € as EUR
// where the page lacks it), and one rune is one column or the three of EUR.
func FuzzAppendCodePage(f *testing.F) {
	for _, s := range []string{"", "Pão de forma", "Vale 5€", "咖啡😀", "a\tb\x1b@", "\xff\xfe", "Łódź ÇÃÕ ºª"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, cp := range []escpos.CodePage{escpos.CP860, escpos.CP858} {
			out, rep := escpos.AppendCodePage(nil, s, cp)
			for i, c := range out {
				if c < 0x20 || c == 0x7F {
					t.Fatalf("%s %q: control byte %02X at %d", cp, s, c, i)
				}
			}
			var want strings.Builder
			var wantRep []rune
			for _, r := range s {
				switch {
				case r == '€' && cp == escpos.CP860:
					want.WriteString("EUR")
				case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || r == utf8.RuneError:
					want.WriteByte('?')
					wantRep = append(wantRep, r)
				default:
					// Either the rune itself comes back, or a reported '?'.
					if _, rr := escpos.AppendCodePage(nil, string(r), cp); len(rr) > 0 {
						want.WriteByte('?')
						wantRep = append(wantRep, r)
					} else {
						want.WriteRune(r)
					}
				}
			}
			if got := escpos.DecodeCodePage(out, cp); got != want.String() {
				t.Fatalf("%s %q decodes to %q, want %q", cp, s, got, want.String())
			}
			if !slices.Equal(rep, wantRep) {
				t.Fatalf("%s %q replaced %q, want %q", cp, s, rep, wantRep)
			}
		}
	})
}

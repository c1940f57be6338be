package escpos

import "golang.org/x/text/encoding/charmap"

// CodePage is a single-byte character table of the printer (ESC t n outside
// Kanji mode): the text encoding of a European receipt. Portuguese needs
// ç ã õ á é í ó ú â ê ô à º ª and their capitals, which PC437 (table 0) lacks.
type CodePage string

const (
	// CP860 is PC860 (Portuguese): every Portuguese letter, no euro sign. It
	// is Epson's table 3, a number the clones we know of keep too, and the
	// table a Portuguese printer is most likely to hold.
	CP860 CodePage = "cp860"
	// CP858 is PC858 (PC850 with € at D5): every Portuguese letter and the
	// euro sign. Epson's table 19; clones number their extra tables
	// differently or lack it [U], so a profile selects it only after a test
	// print shows the €.
	CP858 CodePage = "cp858"
)

// codePages are the tables known here: the charmap that encodes them and the
// ESC t number Epson gives them (a profile may override the number).
var codePages = map[CodePage]struct {
	cm    *charmap.Charmap
	table byte
}{
	CP860: {charmap.CodePage860, 3},
	CP858: {charmap.CodePage858, 19},
}

// Valid reports whether c is a code page this package encodes.
func (c CodePage) Valid() bool { _, ok := codePages[c]; return ok }

// Table is Epson's ESC t number for the code page (3 for CP860, 19 for
// CP858); 0 for an unknown page.
func (c CodePage) Table() byte { return codePages[c].table }

// euroFallback is what a code page without € prints for it: the currency's
// ISO code, which every reader understands (a ? would hide the currency).
const euroFallback = "EUR"

// AppendCodePage appends s to dst as single-byte text in code page c:
// printable ASCII as it is, other characters by the page's byte where it has
// one, € as "EUR" where it has none, and anything else (emoji, Chinese,
// control characters, letters the page lacks) as '?'. It returns the
// extended slice and the runes it replaced with '?', in order. It never
// writes a byte below 0x20 or 0x7F, so nothing it writes can start a
// command; one byte is one column. An unknown code page encodes ASCII only.
func AppendCodePage(dst []byte, s string, c CodePage) (out []byte, replaced []rune) {
	cm := codePages[c].cm
	for _, r := range s {
		if r >= 0x20 && r < 0x7F {
			dst = append(dst, byte(r))
			continue
		}
		if r >= 0xA0 && cm != nil {
			if b, ok := cm.EncodeRune(r); ok && b >= 0x80 {
				dst = append(dst, b)
				continue
			}
		}
		if r == '€' {
			dst = append(dst, euroFallback...)
			continue
		}
		dst = append(dst, '?')
		replaced = append(replaced, r)
	}
	return dst, replaced
}

// DecodeCodePage turns single-byte printer text in code page c back into a
// string (for disassembly and tests); bytes of an unknown page are kept as
// Latin-1.
func DecodeCodePage(p []byte, c CodePage) string {
	cm := codePages[c].cm
	out := make([]rune, 0, len(p))
	for _, b := range p {
		if cm != nil {
			out = append(out, cm.DecodeByte(b))
		} else {
			out = append(out, rune(b))
		}
	}
	return string(out)
}

// CodePageByTable is the code page ESC t n selects on an Epson-numbered
// printer, if it is one this package knows.
func CodePageByTable(n byte) (CodePage, bool) {
	for c, t := range codePages {
		if t.table == n {
			return c, true
		}
	}
	return "", false
}

// WrapSingle is Wrap for single-byte text (from AppendCodePage): every byte
// is one column, so a line breaks anywhere, preferably at a space.
func WrapSingle(p []byte, cols int) [][]byte { return wrap(p, cols, false) }

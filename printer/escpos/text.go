package escpos

import (
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/traditionalchinese"
)

// Replacement is what Text prints for a character it cannot print: the
// full-width question mark ？ in Big5.
var Replacement = [2]byte{0xA1, 0x48}

// safeBig5 reports whether the Big5 code lead<<8|trail is in the classic
// ranges every Traditional-Chinese ROM font is assumed to hold (escpos.md §2):
// symbols A140–A3BF, frequent Hanzi A440–C67E, other Hanzi C940–F9D5. The ETEN
// and HKSCS extensions, the euro sign and the user-defined areas are left out:
// a clone printer prints them as garbage or not at all.
func safeBig5(code uint16) bool {
	trail := byte(code)
	if !(trail >= 0x40 && trail <= 0x7E || trail >= 0xA1 && trail <= 0xFE) {
		return false
	}
	return code >= 0xA140 && code <= 0xA3BF ||
		code >= 0xA440 && code <= 0xC67E ||
		code >= 0xC940 && code <= 0xF9D5
}

// big5Table maps a BMP rune to its classic Big5 code, 0 when there is none.
// It is built once from golang.org/x/text's decoder: every safe code is
// decoded and the first (lowest) code of a rune wins, so the two duplicated
// Hanzi (兀, 嗀) take their frequent-Hanzi code.
var big5Table = sync.OnceValue(func() *[0x10000]uint16 {
	var t [0x10000]uint16
	dec := traditionalchinese.Big5.NewDecoder()
	var src [2]byte
	var dst [8]byte
	for lead := 0xA1; lead <= 0xF9; lead++ {
		for trail := 0x40; trail <= 0xFE; trail++ {
			code := uint16(lead<<8 | trail)
			if !safeBig5(code) {
				continue
			}
			src[0], src[1] = byte(lead), byte(trail)
			n, _, err := dec.Transform(dst[:], src[:], true)
			dec.Reset()
			if err != nil {
				continue
			}
			r, size := utf8.DecodeRune(dst[:n])
			if r == utf8.RuneError || size != n || r >= 0x10000 {
				continue
			}
			if t[r] == 0 {
				t[r] = code
			}
		}
	}
	return &t
})

// AppendBig5 appends s to dst as the printer's text: printable ASCII as it is,
// every other character as a safe classic Big5 pair, or, where there is none
// (emoji, ETEN/HKSCS extensions, €, control characters), as the full-width ？
// (A1 48). It returns the extended slice and the runes it replaced, in order.
// It never writes a byte below 0x20 or a lone lead byte.
func AppendBig5(dst []byte, s string) (out []byte, replaced []rune) {
	t := big5Table()
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7F:
			dst = append(dst, byte(r))
			continue
		case r < 0x10000 && r != utf8.RuneError:
			if code := t[r]; code != 0 {
				dst = append(dst, byte(code>>8), byte(code))
				continue
			}
		}
		dst = append(dst, Replacement[0], Replacement[1])
		replaced = append(replaced, r)
	}
	return dst, replaced
}

// Columns is the display width of printer text produced by AppendBig5: one
// column for an ASCII byte, two for a Big5 pair (a 24-dot glyph in Font A).
func Columns(p []byte) int {
	cols := 0
	for i := 0; i < len(p); i++ {
		if p[i] >= 0x80 {
			i++
			cols += 2
		} else {
			cols++
		}
	}
	return cols
}

// ColumnsOf is the display width s will have once encoded by AppendBig5.
func ColumnsOf(s string) int {
	cols := 0
	for _, r := range s {
		if r >= 0x20 && r < 0x7F {
			cols++
		} else {
			cols += 2
		}
	}
	return cols
}

// Wrap splits printer text (from AppendBig5) into lines of at most cols
// display columns, never between the two bytes of a pair. Where a line break
// would fall inside a run of ASCII it moves back to the last space on the
// line, if there is one in the line's second half, so "A4 paper" does not
// become "A4 pa" / "per"; the space is dropped. A cols below 2 is treated as 2
// so that a pair always fits.
func Wrap(p []byte, cols int) [][]byte { return wrap(p, cols, true) }

// wrap is Wrap for Big5 text (pairs) or single-byte text.
func wrap(p []byte, cols int, pairs bool) [][]byte {
	if cols < 2 {
		cols = 2
	}
	var lines [][]byte
	for len(p) > 0 {
		end, width, lastSpace := 0, 0, -1
		for end < len(p) {
			w, n := 1, 1
			if pairs && p[end] >= 0x80 {
				w, n = 2, 2
			}
			if width+w > cols {
				break
			}
			if p[end] == ' ' {
				lastSpace = end
			}
			width += w
			end += n
		}
		if end == len(p) {
			lines = append(lines, p)
			break
		}
		cut, next := end, end
		if wordByte(p[end], pairs) && p[end] != ' ' && end > 0 && wordByte(p[end-1], pairs) && lastSpace > 0 && columns(p[:lastSpace], pairs) >= cols/2 {
			cut, next = lastSpace, lastSpace+1
		}
		if p[next] == ' ' && next == end {
			next++ // a break exactly at a space: do not start the next line with it
		}
		lines = append(lines, p[:cut])
		p = p[next:]
	}
	return lines
}

// wordByte reports whether c is a one-column character inside a word that a
// break should not split: any single-byte character, or ASCII in Big5 text
// (a Big5 line may break between any two Hanzi).
func wordByte(c byte, pairs bool) bool { return !pairs || c < 0x80 }

func columns(p []byte, pairs bool) int {
	if pairs {
		return Columns(p)
	}
	return len(p)
}

// Text appends s in printer encoding (see AppendBig5) without a line feed,
// and records the runes it replaced (see Replaced). The printer must be in
// Kanji mode (KanjiOn) for the pairs to print as Chinese.
func (b *Builder) Text(s string) {
	var rep []rune
	b.buf, rep = AppendBig5(b.buf, s)
	b.replaced = append(b.replaced, rep...)
}

// Line is Text followed by LF.
func (b *Builder) Line(s string) {
	b.Text(s)
	b.buf = append(b.buf, LF)
}

// Encoded appends text that AppendBig5 produced earlier (for instance one of
// the lines Wrap returned). It checks that p is well formed printer text, so a
// caller's slicing mistake cannot send a lone lead byte or a control byte.
func (b *Builder) Encoded(p []byte) error {
	if i := invalidText(p); i >= 0 {
		return errInvalidText(i, p[i])
	}
	b.buf = append(b.buf, p...)
	return nil
}

// invalidText returns the offset of the first byte that makes p unfit to send
// as text (a control byte, a lone or unsafe lead byte), or -1.
func invalidText(p []byte) int {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 0x20 && c < 0x7F:
		case c >= 0x80 && i+1 < len(p) && safeBig5(uint16(c)<<8|uint16(p[i+1])):
			i++
		default:
			return i
		}
	}
	return -1
}

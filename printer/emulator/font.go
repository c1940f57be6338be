package emulator

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/traditionalchinese"
)

// unifontSubset holds the GNU Unifont glyphs of ASCII, the upper halves of
// the code tables in codeTables and classic Big5 in Unifont's .hex line format, gzip-compressed; see
// font/LICENSE and internal/mkfont, which cuts it from unifont.hex.
//
//go:embed font/unifont-big5.hex.gz
var unifontSubset []byte

// glyph is one Unifont bitmap: 16 rows, 8 or 16 dots wide, bit 15 of each
// row is the leftmost dot.
type glyph struct {
	width int
	rows  [16]uint16
}

func (g *glyph) dot(x, y int) bool {
	return x >= 0 && x < g.width && y >= 0 && y < 16 && g.rows[y]&(0x8000>>uint(x)) != 0
}

type fontData struct {
	byRune map[rune]*glyph
	// big5 maps a classic Big5 code (lead<<8 | trail) to its rune; 0 where
	// the code is unassigned.
	big5 map[uint16]rune
	err  error
}

var (
	fontOnce   sync.Once
	loadedFont *fontData
)

// font parses the embedded subset once; a broken embed is a build defect,
// reported by Render as an error rather than a panic.
func font() *fontData {
	fontOnce.Do(func() { loadedFont = parseFont(unifontSubset) })
	return loadedFont
}

func parseFont(gz []byte) *fontData {
	f := &fontData{byRune: make(map[rune]*glyph, 14000), big5: make(map[uint16]rune, 14000)}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		f.err = fmt.Errorf("embedded font: %w", err)
		return f
	}
	sc := bufio.NewScanner(zr)
	line := 0
	for sc.Scan() {
		line++
		code, bits, ok := strings.Cut(sc.Text(), ":")
		r, err := strconv.ParseUint(code, 16, 32)
		if !ok || err != nil || (len(bits) != 32 && len(bits) != 64) {
			f.err = fmt.Errorf("embedded font: line %d is not CODE:BITMAP", line)
			return f
		}
		g := &glyph{width: len(bits) / 4}
		step := len(bits) / 16
		for y := range 16 {
			v, err := strconv.ParseUint(bits[y*step:(y+1)*step], 16, 16)
			if err != nil {
				f.err = fmt.Errorf("embedded font: line %d: %w", line, err)
				return f
			}
			if step == 2 {
				v <<= 8
			}
			g.rows[y] = uint16(v)
		}
		f.byRune[rune(r)] = g
	}
	if err := sc.Err(); err != nil {
		f.err = fmt.Errorf("embedded font: %w", err)
		return f
	}
	dec := traditionalchinese.Big5.NewDecoder()
	var pair [2]byte
	for lead := 0xA1; lead <= 0xF9; lead++ {
		for trail := 0x40; trail <= 0xFE; trail++ {
			code := uint16(lead<<8 | trail)
			if !classicBig5(code) {
				continue
			}
			pair[0], pair[1] = byte(lead), byte(trail)
			s, err := dec.Bytes(pair[:])
			if err != nil {
				continue
			}
			if r, n := utf8.DecodeRune(s); r != utf8.RuneError && n == len(s) {
				f.big5[code] = r
			}
		}
	}
	return f
}

// classicBig5 reports whether a two-byte code lies in the ranges a
// Taiwanese printer's ROM is assumed to hold (escpos.md §2 [U]): symbols
// A140–A3BF, frequent Hanzi A440–C67E, other Hanzi C940–F9D5, with a valid
// trail byte.
func classicBig5(code uint16) bool {
	trail := code & 0xFF
	if !(trail >= 0x40 && trail <= 0x7E) && !(trail >= 0xA1 && trail <= 0xFE) {
		return false
	}
	return (code >= 0xA140 && code <= 0xA3BF) || (code >= 0xA440 && code <= 0xC67E) || (code >= 0xC940 && code <= 0xF9D5)
}

// codeTables are the single-byte tables ESC t n selects, by Epson's
// numbers: PC437 (the power-on table), and the Western European tables of a
// Portuguese receipt. The embedded font holds every glyph of their upper halves.
var codeTables = map[byte]struct {
	name string
	cm   *charmap.Charmap
}{
	0:  {"PC437", charmap.CodePage437},
	2:  {"PC850", charmap.CodePage850},
	3:  {"PC860", charmap.CodePage860},
	16: {"WPC1252", charmap.Windows1252},
	19: {"PC858", charmap.CodePage858},
}

// codeTableList names the emulated tables for a problem message.
func codeTableList() string {
	ns := make([]int, 0, len(codeTables))
	for n := range codeTables {
		ns = append(ns, int(n))
	}
	slices.Sort(ns)
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprintf("%d %s", n, codeTables[byte(n)].name)
	}
	return strings.Join(parts, ", ")
}

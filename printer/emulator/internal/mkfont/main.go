// Command mkfont cuts the emulator's embedded font out of GNU Unifont: the
// glyphs of printable ASCII, the upper halves of code pages 437, 850, 860,
// 858 and Windows-1252 and every character of classic Big5, written as a
// gzip-compressed .hex subset (Unifont's own "CODE:BITMAP" line format,
// sorted by code point).
//
//	go run ./printer/emulator/internal/mkfont -hex /usr/share/unifont/unifont.hex \
//	    -o printer/emulator/font/unifont-big5.hex.gz
//
// The unifont.hex source comes with Debian's "unifont" package (or from
// unifoundry.com); Unifont ≥ 13.0.04 is dual-licensed OFL 1.1 / GPLv2+ with
// the font embedding exception, and the subset keeps that licence.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/traditionalchinese"
)

func main() {
	hexPath := flag.String("hex", "/usr/share/unifont/unifont.hex", "Unifont .hex source")
	out := flag.String("o", "unifont-big5.hex.gz", "output file")
	flag.Parse()
	if err := run(*hexPath, *out); err != nil {
		log.Fatal(err)
	}
}

func run(hexPath, out string) error {
	want := wantedRunes()
	f, err := os.Open(hexPath)
	if err != nil {
		return err
	}
	defer f.Close()
	lines := map[rune]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		code, bitmap, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		r, err := strconv.ParseUint(code, 16, 32)
		if err != nil {
			return fmt.Errorf("%s: bad code %q", hexPath, code)
		}
		if want[rune(r)] && (len(bitmap) == 32 || len(bitmap) == 64) {
			lines[rune(r)] = strings.ToUpper(code) + ":" + bitmap
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	var missing []string
	for r := range want {
		if _, ok := lines[r]; !ok {
			missing = append(missing, fmt.Sprintf("U+%04X", r))
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		log.Printf("%d wanted characters have no Unifont glyph: %s", len(missing), strings.Join(missing, " "))
	}
	runes := make([]rune, 0, len(lines))
	for r := range lines {
		runes = append(runes, r)
	}
	slices.Sort(runes)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	for _, r := range runes {
		fmt.Fprintln(zw, lines[r])
	}
	if err := zw.Close(); err != nil {
		return err
	}
	log.Printf("%d glyphs, %d bytes compressed", len(runes), buf.Len())
	return os.WriteFile(out, buf.Bytes(), 0o644)
}

// wantedRunes lists what the emulated printer's ROM holds: ASCII, the upper
// halves of the single-byte code tables (ESC t outside Kanji mode) and classic Big5 (symbols
// A140–A3BF, frequent Hanzi A440–C67E, other Hanzi C940–F9D5).
func wantedRunes() map[rune]bool {
	want := map[rune]bool{}
	for r := rune(0x20); r < 0x7F; r++ {
		want[r] = true
	}
	// The single-byte tables the emulator selects with ESC t (its
	// codeTables): PC437, and PC850, PC860, WPC1252 and PC858 for Portugal.
	for _, cm := range []*charmap.Charmap{charmap.CodePage437, charmap.CodePage850, charmap.CodePage860, charmap.Windows1252, charmap.CodePage858} {
		for b := 0x80; b <= 0xFF; b++ {
			if r := cm.DecodeByte(byte(b)); r != utf8.RuneError {
				want[r] = true
			}
		}
	}
	dec := traditionalchinese.Big5.NewDecoder()
	for lead := 0xA1; lead <= 0xF9; lead++ {
		for trail := 0x40; trail <= 0xFE; trail++ {
			if trail > 0x7E && trail < 0xA1 {
				continue
			}
			code := lead<<8 | trail
			if !ClassicBig5(code) {
				continue
			}
			s, err := dec.Bytes([]byte{byte(lead), byte(trail)})
			if err != nil {
				continue
			}
			r, n := utf8.DecodeRune(s)
			if r != utf8.RuneError && n == len(s) {
				want[r] = true
			}
		}
	}
	return want
}

// ClassicBig5 mirrors emulator.classicBig5 (escpos.md §2).
func ClassicBig5(code int) bool {
	return (code >= 0xA140 && code <= 0xA3BF) || (code >= 0xA440 && code <= 0xC67E) || (code >= 0xC940 && code <= 0xF9D5)
}

package code39_test

import (
	"strings"
	"testing"

	"github.com/posagent/posagent/printer/internal/code39"
)

// The elements of each character against the CODE39 table as printers'
// manuals give it (bar, space, bar, …; 1 = wide), so that a change in the
// library cannot move a bar unnoticed.
func TestElementsMatchTheSymbology(t *testing.T) {
	table := map[byte]string{
		'0': "000110100", '1': "100100001", '2': "001100001", '3': "101100000",
		'4': "000110001", '5': "100110000", '6': "001110000", '7': "000100101",
		'8': "100100100", '9': "001100100", 'A': "100001001", 'B': "001001001",
		'C': "101001000", 'D': "000011001", 'E': "100011000", 'F': "001011000",
		'G': "000001101", 'H': "100001100", 'I': "001001100", 'J': "000011100",
		'K': "100000011", 'L': "001000011", 'M': "101000010", 'N': "000010011",
		'O': "100010010", 'P': "001010010", 'Q': "000000111", 'R': "100000110",
		'S': "001000110", 'T': "000010110", 'U': "110000001", 'V': "011000001",
		'W': "111000000", 'X': "010010001", 'Y': "110010000", 'Z': "011010000",
		'-': "010000101", '.': "110000100", ' ': "011000100", '*': "010010100",
		'$': "010101000", '/': "010100010", '+': "010001010", '%': "000101010",
	}
	pattern := func(c byte) string { return table[c] }
	for c := range table {
		if c == '*' {
			continue
		}
		els, err := code39.Elements(string(c))
		if err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		want := pattern('*') + "0" + pattern(c) + "0" + pattern('*')
		var got strings.Builder
		for _, e := range els {
			if e {
				got.WriteByte('1')
			} else {
				got.WriteByte('0')
			}
		}
		if got.String() != want {
			t.Errorf("%q: elements %s, want %s", c, got.String(), want)
		}
	}
}

func TestElementsRefuse(t *testing.T) {
	for _, data := range []string{"", "a", "AB*C", "é", "11410AB12345678\x001234"} {
		if _, err := code39.Elements(data); err == nil {
			t.Errorf("%q: no error", data)
		}
	}
}

// The MOF barcode: 19 characters, at narrow 1 and wide 3 dots.
func TestWidthAndDraw(t *testing.T) {
	els, err := code39.Elements("11410AB123456780123")
	if err != nil {
		t.Fatal(err)
	}
	chars := 19 + 2
	if got, want := code39.Width(els, 1, 3), chars*(3*3+6*1)+(chars-1)*1; got != want {
		t.Fatalf("width %d, want %d", got, want)
	}
	bars, last := 0, 0
	code39.Draw(els, 1, 3, func(x0, x1 int) {
		if x0 < last || x1-x0 != 1 && x1-x0 != 3 {
			t.Fatalf("bar %d–%d after %d", x0, x1, last)
		}
		bars++
		last = x1
	})
	if bars != chars*5 || last != code39.Width(els, 1, 3) {
		t.Fatalf("%d bars ending at %d", bars, last)
	}
}

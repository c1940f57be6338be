package emulator_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/traditionalchinese"
)

// Every classic Big5 character prints from the embedded font: no code the
// layout may send is drawn as an empty box.
func TestEmbeddedFontCoversClassicBig5(t *testing.T) {
	dec := traditionalchinese.Big5.NewDecoder()
	var s bytes.Buffer
	s.WriteString(escInit + kanjiOn)
	n := 0
	for _, r := range [][2]int{{0xA140, 0xA3BF}, {0xA440, 0xC67E}, {0xC940, 0xF9D5}} {
		for code := r[0]; code <= r[1]; code++ {
			trail := code & 0xFF
			if !(trail >= 0x40 && trail <= 0x7E) && !(trail >= 0xA1 && trail <= 0xFE) {
				continue
			}
			pair := []byte{byte(code >> 8), byte(code)}
			if _, err := dec.Bytes(pair); err != nil {
				continue // unassigned in Big5
			}
			s.Write(pair)
			n++
		}
	}
	s.WriteString("\n")
	require.Greater(t, n, 13000)
	r := renderClean(t, 384, s.Bytes())
	require.Equal(t, (n+15)/16*30, r.Image.Bounds().Dy(), "16 Hanzi per 384-dot line")
}

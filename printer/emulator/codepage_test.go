package emulator_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"

	"github.com/posagent/posagent/printer/emulator"
)

// TestCodeTables: ESC t selects the table a high byte is read in. Every
// Portuguese letter and € draws the same glyph whichever table holds it, with
// no problem, and differently from what the same byte is in PC437.
func TestCodeTables(t *testing.T) {
	tables := []struct {
		n  byte
		cm *charmap.Charmap
	}{{2, charmap.CodePage850}, {3, charmap.CodePage860}, {16, charmap.Windows1252}, {19, charmap.CodePage858}}
	for _, r := range []rune("çÇãÃõÕáÁéÉíÍóÓúÚâÂêÊôÔàÀºª€") {
		var want *emulator.Result
		for _, tc := range tables {
			b, ok := tc.cm.EncodeRune(r)
			if !ok {
				continue // € is only in PC858 and WPC1252
			}
			got := renderClean(t, 384, escInit, "\x1bt", tc.n, b, "\n")
			if want == nil {
				want = got
				// The byte in PC437 draws that table's character.
				pc437 := render(t, 384, escInit, b, "\n")
				same := charmap.CodePage437.DecodeByte(b) == r
				require.Equal(t, same, bytes.Equal(pc437.Image.Pix, got.Image.Pix), "%q in table %d and %02X in PC437", r, tc.n, b)
				continue
			}
			require.True(t, bytes.Equal(want.Image.Pix, got.Image.Pix), "%q draws differently in table %d", r, tc.n)
		}
		require.NotNil(t, want, "%q is in no table", r)
	}
	// ESC @ goes back to PC437.
	r := render(t, 384, escInit, "\x1bt\x13", escInit, byte(0xD5), "\n")
	euro := renderClean(t, 384, escInit, "\x1bt\x13", byte(0xD5), "\n")
	require.NotEqual(t, euro.Image.Pix, r.Image.Pix)
}

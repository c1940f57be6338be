package printer

import (
	"bytes"
	"fmt"
	"image"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// decodeQR reads one QR symbol from a picture with gozxing.
func decodeQR(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("bitmap: %v", err)
	}
	hints := map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_TRY_HARDER:    true,
		gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

func decodeCode39(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("bitmap: %v", err)
	}
	res, err := oned.NewCode39Reader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("decode Code 39: %v", err)
	}
	return res.GetText()
}

func TestEncodeQRDecodesAtEveryVersion(t *testing.T) {
	for v := 1; v <= maxMatrixVersion; v++ {
		p, err := planFor(v)
		if err != nil {
			t.Fatal(err)
		}
		// The largest byte-mode payload the version holds at level L.
		count := 8
		if v > 9 {
			count = 16
		}
		n := (p.dataBytes*8 - 4 - count) / 8
		payload := bytes.Repeat([]byte("乾電池:1:105:"), n/16+1)[:0]
		for len(payload) < n {
			payload = append(payload, byte('A'+len(payload)%26))
		}
		payload = append([]byte("牛奶:"), payload[:n-len("牛奶:")]...)
		m, err := encodeQR(payload, v)
		if err != nil {
			t.Fatalf("version %d, %d bytes: %v", v, len(payload), err)
		}
		if m.size != 17+4*v {
			t.Fatalf("version %d: size %d", v, m.size)
		}
		band := qrBand(3, qrQuietDots, m, m)
		left := band.Image(1, 1).SubImage(image.Rect(0, 0, qrQuietDots*2+m.size*3, band.Height))
		if got := decodeQR(t, left); got != string(payload) {
			t.Fatalf("version %d: decoded %q, want %q", v, got, payload)
		}
		if _, err := encodeQR(append(payload, 'x'), v); err == nil {
			t.Errorf("version %d: a payload one byte too long was accepted", v)
		}
	}
	if _, err := encodeQR([]byte("x"), maxMatrixVersion+1); err == nil {
		t.Error("version beyond the encoder accepted")
	}
}

func TestCode39RasterDecodes(t *testing.T) {
	row, err := code39Row("10404UZ176908720122")
	if err != nil {
		t.Fatal(err)
	}
	if row.Width != 355 {
		t.Errorf("width %d, want 355 (335 + two 10-dot quiet zones)", row.Width)
	}
	img := repeatRows(row, code39Height).Image(1, 1)
	if got := decodeCode39(t, img); got != "10404UZ176908720122" {
		t.Fatalf("decoded %q", got)
	}
	if _, err := code39Row("abc"); err == nil {
		t.Error("lower case accepted")
	}
}

func BenchmarkEncodeQR(b *testing.B) {
	payload := []byte(fmt.Sprintf("%0130d", 7))
	for b.Loop() {
		if _, err := encodeQR(payload, 6); err != nil {
			b.Fatal(err)
		}
	}
}

// naivePenalty is the ISO 18004 mask penalty written module by module, to
// check the bitset version.
func naivePenalty(g [][]bool) int {
	n := len(g)
	at := func(x, y int, byCol bool) bool {
		if byCol {
			return g[x][y]
		}
		return g[y][x]
	}
	score := 0
	for _, byCol := range []bool{false, true} {
		for y := 0; y < n; y++ {
			run := 1
			for x := 1; x <= n; x++ {
				if x < n && at(x, y, byCol) == at(x-1, y, byCol) {
					run++
					continue
				}
				if run >= 5 {
					score += 3 + run - 5
				}
				run = 1
			}
			for x := 0; x+11 <= n; x++ {
				var s [11]bool
				for k := range s {
					s[k] = at(x+k, y, byCol)
				}
				core := func(o int) bool {
					return s[o] && !s[o+1] && s[o+2] && s[o+3] && s[o+4] && !s[o+5] && s[o+6]
				}
				light := func(o int) bool { return !s[o] && !s[o+1] && !s[o+2] && !s[o+3] }
				if core(0) && light(7) {
					score += 40
				}
				if light(0) && core(4) {
					score += 40
				}
			}
		}
	}
	dark := 0
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if g[y][x] {
				dark++
			}
			if x+1 < n && y+1 < n && g[y][x] == g[y][x+1] && g[y][x] == g[y+1][x] && g[y][x] == g[y+1][x+1] {
				score += 3
			}
		}
	}
	dev := dark*100/(n*n) - 50
	if dev < 0 {
		dev = -dev
	}
	return score + 10*(dev/5)
}

func TestPenaltyMatchesNaive(t *testing.T) {
	seed := uint64(1)
	for trial := 0; trial < 200; trial++ {
		n := 21 + 4*(trial%11)
		g := make([][]bool, n)
		rows, cols := make([]uint64, n), make([]uint64, n)
		density := uint64(trial%5 + 1)
		for y := range g {
			g[y] = make([]bool, n)
			for x := range g[y] {
				seed = seed*6364136223846793005 + 1442695040888963407
				if (seed>>33)%6 < density {
					g[y][x] = true
					rows[y] |= 1 << uint(x)
					cols[x] |= 1 << uint(y)
				}
			}
		}
		if trial%7 == 0 { // plant finder-like patterns
			for k, dark := range []bool{false, false, false, false, true, false, true, true, true, false, true} {
				g[3][k] = dark
				if dark {
					rows[3] |= 1 << uint(k)
					cols[k] |= 1 << 3
				} else {
					rows[3] &^= 1 << uint(k)
					cols[k] &^= 1 << 3
				}
			}
		}
		if got, want := qrPenalty(rows, cols, n), naivePenalty(g); got != want {
			t.Fatalf("trial %d (n=%d): bitset penalty %d, naive %d", trial, n, got, want)
		}
	}
}

package emulator_test

import (
	"bytes"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/posagent/posagent/printer/emulator"
)

func big5(t testing.TB, s string) string {
	t.Helper()
	b, err := traditionalchinese.Big5.NewEncoder().String(s)
	require.NoError(t, err)
	return b
}

func TestRenderRejectsUnusableWidth(t *testing.T) {
	for _, w := range []int{0, -1, 7, emulator.MaxWidth + 1} {
		_, err := emulator.Render([]byte("A\n"), emulator.Options{Width: w})
		require.Error(t, err, "width %d", w)
		require.Contains(t, err.Error(), "width")
	}
}

func TestRasterLandsExactly(t *testing.T) {
	// 16 × 3 dots: row 0 = 1000 0000 0000 0001, row 1 = 0101…, row 2 all black.
	data := "\x80\x01\x55\x55\xff\xff"
	r := renderClean(t, 384, escInit, "\x1dv0\x00", u16(2), u16(3), data)
	img := r.Image
	require.Equal(t, 3, img.Bounds().Dy(), "the paper feeds exactly the raster's height")
	want := [3]uint16{0x8001, 0x5555, 0xFFFF}
	for y := range 3 {
		for x := range img.Bounds().Dx() {
			on := x < 16 && want[y]&(0x8000>>uint(x)) != 0
			require.Equal(t, on, black(img, x, y), "dot (%d,%d)", x, y)
		}
	}

	t.Run("double width and height", func(t *testing.T) {
		r := renderClean(t, 384, escInit, "\x1dv0\x03", u16(1), u16(1), "\x81")
		img := r.Image
		require.Equal(t, 2, img.Bounds().Dy())
		require.Equal(t, image.Rect(0, 0, 2, 2), blackBox(img, image.Rect(0, 0, 8, 2)))
		require.Equal(t, image.Rect(14, 0, 16, 2), blackBox(img, image.Rect(8, 0, 384, 2)))
	})
	t.Run("centred by ESC a", func(t *testing.T) {
		r := renderClean(t, 384, escInit, "\x1ba\x01\x1dv0\x00", u16(2), u16(1), "\x80\x01")
		require.True(t, black(r.Image, 184, 0))
		require.True(t, black(r.Image, 199, 0))
		require.Equal(t, 2, countBlack(r.Image, r.Image.Bounds()))
	})
	t.Run("right-aligned within GS L margin and GS W width", func(t *testing.T) {
		r := renderClean(t, 384, escInit, "\x1dL", u16(40), "\x1dW", u16(200), "\x1ba\x02\x1dv0\x00", u16(1), u16(1), "\x01")
		require.Equal(t, image.Rect(239, 0, 240, 1), blackBox(r.Image, r.Image.Bounds()))
	})
}

func TestTextGeometry(t *testing.T) {
	t.Run("font A cell is 12x24 and a line feeds 30 dots", func(t *testing.T) {
		r := renderClean(t, 384, escInit, "HH\n")
		require.Equal(t, 30, r.Image.Bounds().Dy())
		box := blackBox(r.Image, r.Image.Bounds())
		require.LessOrEqual(t, box.Max.Y, 24)
		require.Less(t, box.Max.X, 24)
		// The second H is the first moved one cell right.
		require.Equal(t, blackBox(r.Image, image.Rect(0, 0, 12, 24)).Add(image.Pt(12, 0)), blackBox(r.Image, image.Rect(12, 0, 24, 24)))
	})
	t.Run("GS ! 0x11 text is 48 dots tall", func(t *testing.T) {
		title := big5(t, "電子發票證明聯")
		r := renderClean(t, 384, escInit, kanjiOn, "\x1d!\x11", title, "\n")
		require.Equal(t, 48, r.Image.Bounds().Dy(), "a 48-dot line feeds 48 dots, more than the 30-dot spacing")
		box := blackBox(r.Image, r.Image.Bounds())
		require.Greater(t, box.Dy(), 40, "glyphs fill most of the 48-dot cell")
		require.LessOrEqual(t, box.Max.X, 7*48)
		require.Greater(t, box.Max.X, 6*48, "7 Hanzi at double width span 336 dots")
	})
	t.Run("ESC 3 sets the line spacing", func(t *testing.T) {
		r := renderClean(t, 384, escInit, "\x1b3\x40A\nB\n")
		require.Equal(t, 128, r.Image.Bounds().Dy())
		require.Greater(t, countBlack(r.Image, image.Rect(0, 64, 12, 88)), 0)
	})
	t.Run("ESC d and ESC J feed", func(t *testing.T) {
		r := renderClean(t, 384, escInit, "\x1bd\x03\x1bJ\x07")
		require.Equal(t, 97, r.Image.Bounds().Dy())
	})
	t.Run("mixed sizes share a baseline", func(t *testing.T) {
		r := renderClean(t, 384, escInit, "\x1d!\x01A\x1d!\x00A\n")
		big := blackBox(r.Image, image.Rect(0, 0, 12, 48))
		small := blackBox(r.Image, image.Rect(12, 0, 24, 48))
		// Cells stand on one baseline; the glyph's descent space scales
		// with its height.
		require.Equal(t, big.Max.Y/2, small.Max.Y-24)
		require.Greater(t, small.Min.Y, 24)
	})
	t.Run("a full line wraps", func(t *testing.T) {
		r := renderClean(t, 384, escInit, strings.Repeat("M", 33), "\n")
		require.Equal(t, 60, r.Image.Bounds().Dy())
		require.Equal(t, blackBox(r.Image, image.Rect(0, 0, 12, 30)), blackBox(r.Image, image.Rect(0, 30, 12, 60)).Sub(image.Pt(0, 30)))
	})
	t.Run("Kanji glyph fills a 24x24 cell, two columns", func(t *testing.T) {
		r := renderClean(t, 384, escInit, kanjiOn, big5(t, "國A"), "\n")
		box := blackBox(r.Image, image.Rect(0, 0, 24, 24))
		require.Greater(t, box.Dx(), 18)
		require.Greater(t, box.Dy(), 18)
		require.NotEmpty(t, blackBox(r.Image, image.Rect(24, 0, 36, 24)), "A follows in the next 12 dots")
	})
}

func TestAlignment(t *testing.T) {
	left := renderClean(t, 384, escInit, "AB\n").Image
	l := blackBox(left, left.Bounds())
	for _, tc := range []struct {
		cmd   string
		shift int
	}{{"\x1ba\x01", (384 - 24) / 2}, {"\x1ba1", (384 - 24) / 2}, {"\x1ba\x02", 384 - 24}, {"\x1ba\x00", 0}} {
		img := renderClean(t, 384, escInit, tc.cmd, "AB\n").Image
		require.Equal(t, l.Add(image.Pt(tc.shift, 0)), blackBox(img, img.Bounds()), "%q", tc.cmd)
	}
	t.Run("ESC a mid-line is ignored and reported", func(t *testing.T) {
		r := render(t, 384, escInit, "A\x1ba\x01B\n")
		require.Equal(t, []emulator.Problem{{Offset: 3, Message: "ESC a 1 not at the start of a line: ignored by the printer"}}, r.Problems)
		require.Equal(t, l, blackBox(r.Image, r.Image.Bounds()).Intersect(l))
		require.Less(t, blackBox(r.Image, r.Image.Bounds()).Max.X, 30)
	})
	t.Run("GS L moves the left margin", func(t *testing.T) {
		img := renderClean(t, 384, escInit, "\x1dL", u16(48), "AB\n").Image
		require.Equal(t, l.Add(image.Pt(48, 0)), blackBox(img, img.Bounds()))
	})
	t.Run("ESC $ sets the position in the line", func(t *testing.T) {
		img := renderClean(t, 384, escInit, "\x1b$", u16(100), "AB\n").Image
		require.Equal(t, l.Add(image.Pt(100, 0)), blackBox(img, img.Bounds()))
	})
	t.Run("HT goes to the next 8-column stop", func(t *testing.T) {
		img := renderClean(t, 384, escInit, "\tAB\n").Image
		require.Equal(t, l.Add(image.Pt(96, 0)), blackBox(img, img.Bounds()))
	})
}

func TestEmphasisUnderlineReverse(t *testing.T) {
	plain := renderClean(t, 384, escInit, "I\n").Image
	bold := renderClean(t, 384, escInit, "\x1bE\x01I\n").Image
	pb, bb := blackBox(plain, plain.Bounds()), blackBox(bold, bold.Bounds())
	require.Equal(t, pb.Dx()+1, bb.Dx(), "emphasis doubles each dot one dot right")
	require.Greater(t, countBlack(bold, bold.Bounds()), countBlack(plain, plain.Bounds()))
	// ESC ! bit 3 is emphasis too.
	require.Equal(t, bold.Pix, renderClean(t, 384, escInit, "\x1b!\x08I\n").Image.Pix)

	ul := renderClean(t, 384, escInit, "\x1b-\x02 \n").Image
	require.Equal(t, image.Rect(0, 22, 12, 24), blackBox(ul, ul.Bounds()), "2-dot underline under a space")

	rev := renderClean(t, 384, escInit, "\x1dB\x01 \n").Image
	require.Equal(t, 12*24, countBlack(rev, rev.Bounds()), "a reversed space is a black cell")
}

func TestBig5(t *testing.T) {
	t.Run("the same glyph wherever Kanji mode prints it", func(t *testing.T) {
		a := renderClean(t, 384, escInit, kanjiOn, big5(t, "臺"), "\n").Image
		b := renderClean(t, 384, escInit, kanjiOn, "\x1ba\x02", big5(t, "臺"), "\n").Image
		require.Equal(t, blackBox(a, a.Bounds()).Add(image.Pt(384-24, 0)), blackBox(b, b.Bounds()))
	})
	t.Run("without FS & the bytes print as two PC437 characters", func(t *testing.T) {
		r := renderClean(t, 384, escInit, kanjiOn, escInit, big5(t, "臺"), "\n")
		box := blackBox(r.Image, r.Image.Bounds())
		require.Greater(t, box.Max.X, 12, "two 12-dot cells")
		require.NotEqual(t, renderClean(t, 384, escInit, kanjiOn, big5(t, "臺"), "\n").Image.Pix, r.Image.Pix)
	})
	t.Run("FS . leaves Kanji mode", func(t *testing.T) {
		r := renderClean(t, 384, escInit, kanjiOn, kanjiOff, "\xb0\n")
		require.NotEmpty(t, blackBox(r.Image, image.Rect(0, 0, 12, 24)), "PC437 0xB0 is a shade block")
		require.Empty(t, blackBox(r.Image, image.Rect(12, 0, 384, 24)))
	})
	t.Run("FS ! double width for Kanji only", func(t *testing.T) {
		r := renderClean(t, 384, escInit, kanjiOn, "\x1c!\x04", big5(t, "國"), "A\n")
		require.NotEmpty(t, blackBox(r.Image, image.Rect(24, 0, 48, 24)), "the Hanzi is 48 dots wide")
		require.NotEmpty(t, blackBox(r.Image, image.Rect(48, 0, 60, 24)), "A stays 12 wide")
		require.Equal(t, 30, r.Image.Bounds().Dy())
	})
	for _, tc := range []struct {
		name, text string
		problem    string
		offset     int
	}{
		{"ETEN extension", "\xf9\xd6\n", "Big5 code F9D6 is outside classic Big5 (ETEN/HKSCS/€ range): the printer's ROM may not have it", 7},
		{"euro sign", "A\xa3\xe1\n", "Big5 code A3E1 is outside classic Big5 (ETEN/HKSCS/€ range): the printer's ROM may not have it", 8},
		{"user-defined area", "\xfa\x40\n", "Big5 code FA40 is in the user-defined area: the printer has no glyph for it", 7},
		{"stray lead byte eats ESC", "\xb9\x1b@\n", "Big5 lead byte 0xB9 is followed by 0x1B, not a trail byte: the printer takes both as one character", 7},
		{"lead byte at the end", "A\xb9", "Big5 lead byte 0xB9 at the end of the stream, without its trail byte", 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, 384, escInit, kanjiOn, "\x1b3\x18", tc.text)
			require.NotEmpty(t, r.Problems)
			require.Equal(t, emulator.Problem{Offset: tc.offset, Message: tc.problem}, r.Problems[0])
		})
	}
	t.Run("an unprintable code draws a box, not nothing", func(t *testing.T) {
		r := render(t, 384, escInit, kanjiOn, "\xf9\xd6\n")
		require.Greater(t, countBlack(r.Image, image.Rect(0, 0, 24, 24)), 40)
	})
}

func TestCode39(t *testing.T) {
	const text = "10404UZ176908720122"
	code39 := func(w byte, h byte) string {
		return escInit + "\x1dh" + string([]byte{h}) + "\x1dw" + string([]byte{w}) + "\x1dH\x00\x1dk\x45" + string([]byte{byte(len(text))}) + text
	}
	t.Run("GS w 1: bars of 1 and 3 dots, 335 dots wide, scans", func(t *testing.T) {
		r := renderClean(t, 384, code39(1, 64))
		img := r.Image
		require.Equal(t, 64, img.Bounds().Dy())
		box := blackBox(img, img.Bounds())
		require.Equal(t, 335, box.Dx(), "21 characters × 16 dots − 1 trailing gap")
		runs := runLengths(img, 32)
		for _, n := range runs {
			require.Contains(t, []int{1, 3}, n)
		}
		require.Len(t, runs, 21*9+20)
		got, err := decodeCode39(t, crop(img, box, 20))
		require.NoError(t, err)
		require.Equal(t, text, got)
	})
	t.Run("GS w 2: 2 and 5 dots, centred", func(t *testing.T) {
		r := renderClean(t, 576, escInit, "\x1ba\x01\x1dh\x28\x1dw\x02\x1dk\x45\x05AB-12")
		runs := runLengths(r.Image, 20)
		for _, n := range runs {
			require.Contains(t, []int{2, 5}, n)
		}
		box := blackBox(r.Image, r.Image.Bounds())
		require.Equal(t, 7*29-2, box.Dx())
		require.Equal(t, (576-box.Dx())/2, box.Min.X)
		got, err := decodeCode39(t, crop(r.Image, box, 20))
		require.NoError(t, err)
		require.Equal(t, "AB-12", got)
	})
	t.Run("GS w 3 is too wide for 58 mm and is not printed", func(t *testing.T) {
		r := render(t, 384, code39(3, 40))
		require.Equal(t, []emulator.Problem{{Offset: 11, Message: `GS k CODE39 "10404UZ176908720122": 942 dots wide at GS w 3, wider than the print area (384 dots): not printed`}}, r.Problems)
		require.Zero(t, countBlack(r.Image, r.Image.Bounds()))
	})
	t.Run("form A with HRI below", func(t *testing.T) {
		r := renderClean(t, 384, escInit, "\x1dh\x20\x1dw\x01\x1dH\x02\x1dk\x04AB-1\x00")
		require.Equal(t, 32+24, r.Image.Bounds().Dy())
		require.NotEmpty(t, blackBox(r.Image, image.Rect(0, 32, 384, 56)), "HRI text under the bars")
		got, err := decodeCode39(t, crop(r.Image, image.Rect(0, 0, 384, 32), 20))
		require.NoError(t, err)
		require.Equal(t, "AB-1", got)
	})
	t.Run("invalid character", func(t *testing.T) {
		r := render(t, 384, escInit, "\x1dk\x04ab\x00")
		require.Equal(t, []emulator.Problem{{Offset: 2, Message: `GS k CODE39: byte 0x61 ('a') at data position 0 is not a CODE39 character; barcode not drawn`}}, r.Problems)
	})
}

// runLengths measures the black and white runs of row y between the first
// and last black dot.
func runLengths(img *image.Gray, y int) []int {
	box := blackBox(img, image.Rect(0, y, img.Bounds().Dx(), y+1))
	var runs []int
	n, cur := 0, true
	for x := box.Min.X; x < box.Max.X; x++ {
		if black(img, x, y) != cur {
			runs = append(runs, n)
			n, cur = 0, !cur
		}
		n++
	}
	return append(runs, n)
}

func TestQRStandardMode(t *testing.T) {
	// 120 bytes in byte mode: version 6 at ECC L (V5-L holds 106 bytes,
	// V6-L 134), version 7 at ECC M (V6-M 106, V7-M 122).
	payload := []byte(strings.Repeat("posagent-", 14)[:120])
	r := renderClean(t, 384, escInit, "\x1ba\x01", qrModule(3), qrECC('0'), qrStore(payload), qrPrint)
	img := r.Image
	box := blackBox(img, img.Bounds())
	// Version 6 is 41 modules = 123 dots.
	require.Equal(t, 123, box.Dx())
	require.Equal(t, 123, box.Dy())
	require.Equal(t, 123, img.Bounds().Dy(), "the paper feeds the symbol's height, no quiet zone added")
	require.Equal(t, (384-123)/2, box.Min.X, "centred by ESC a 1")
	got, err := decodeQR(t, crop(img, box, 16))
	require.NoError(t, err)
	require.Equal(t, string(payload), got)

	t.Run("module size and ECC change the symbol", func(t *testing.T) {
		r := renderClean(t, 576, escInit, qrModule(4), qrECC('1'), qrStore(payload), qrPrint)
		box := blackBox(r.Image, r.Image.Bounds())
		require.Equal(t, 45*4, box.Dx(), "version 7 at 4 dots per module")
		got, err := decodeQR(t, crop(r.Image, box, 16))
		require.NoError(t, err)
		require.Equal(t, string(payload), got)
	})
	t.Run("Big5 payload bytes survive", func(t *testing.T) {
		data := []byte(big5(t, "電子發票") + ":1:100")
		r := renderClean(t, 384, escInit, qrStore(data), qrPrint)
		got, err := decodeQRBytes(t, crop(r.Image, blackBox(r.Image, r.Image.Bounds()), 12))
		require.NoError(t, err)
		require.Equal(t, data, got)
	})
	t.Run("too wide is not printed", func(t *testing.T) {
		r := render(t, 384, escInit, qrModule(16), qrStore(payload), qrPrint)
		require.Len(t, r.Problems, 1)
		require.Equal(t, 2+8+8+len(payload), r.Problems[0].Offset)
		require.Contains(t, r.Problems[0].Message, "version 6 at 16 dots/module is 656 dots, wider than the 384 dots left: not printed")
		require.Zero(t, countBlack(r.Image, r.Image.Bounds()))
	})
	t.Run("print without data", func(t *testing.T) {
		r := render(t, 384, escInit, qrStore(payload), escInit, qrPrint)
		require.Equal(t, []emulator.Problem{{Offset: 2 + 8 + len(payload) + 2, Message: "GS ( k QR print: no data stored (fn 180 missing, or cleared by ESC @)"}}, r.Problems)
	})
}

// pageTwoQRs is escpos.md §7's sketch: two symbols side by side in a
// 384 × 160 page area, lower-left corners on the baseline y = 139.
func pageTwoQRs(left, right []byte) []any {
	return []any{
		escInit, qrModule(3), qrECC('0'),
		"\x1bL", "\x1bW", u16(0), u16(0), u16(384), u16(160), "\x1bT\x00",
		"\x1b$", u16(16), "\x1d$", u16(139), qrStore(left), qrPrint,
		"\x1b$", u16(200), "\x1d$", u16(139), qrStore(right), qrPrint,
		"\x0c",
	}
}

func TestQRPageModeSideBySide(t *testing.T) {
	left := []byte(strings.Repeat("posagent-", 14)[:120])
	right := []byte("**" + strings.Repeat("咖啡:1:50:", 9)) // 110 bytes: version 6 too
	r := renderClean(t, 384, pageTwoQRs(left, right)...)
	img := r.Image
	require.Equal(t, 160, img.Bounds().Dy(), "FF prints the whole 160-dot area")
	boxes, texts := qrSymbols(t, img)
	require.Len(t, boxes, 2)
	require.Equal(t, image.Rect(16, 139-123, 16+123, 139), boxes[0], "lower-left corner on the baseline")
	require.Equal(t, image.Rect(200, 139-123, 200+123, 139), boxes[1])
	require.Equal(t, boxes[0].Min.Y, boxes[1].Min.Y, "top edges aligned")
	require.Equal(t, []string{string(left), string(right)}, texts)

	t.Run("GS v 0 is refused in page mode", func(t *testing.T) {
		r := render(t, 384, escInit, "\x1bL\x1dv0\x00", u16(1), u16(1), "\xff\x0c")
		require.Equal(t, []emulator.Problem{{Offset: 4, Message: "GS v 0 is not available in page mode: 1 bytes ignored by the printer"}}, r.Problems)
	})
	t.Run("a symbol above the area top is reported", func(t *testing.T) {
		r := render(t, 384, escInit, "\x1bL\x1bW", u16(0), u16(0), u16(384), u16(160), "\x1d$", u16(50), qrStore(left), qrPrint, "\x0c")
		require.Len(t, r.Problems, 1)
		require.Contains(t, r.Problems[0].Message, "the top is cut off")
	})
	t.Run("a baseline on the bottom edge of the area is drawn but warned about", func(t *testing.T) {
		r := render(t, 384, escInit, "\x1bL\x1bW", u16(0), u16(0), u16(384), u16(123), "\x1d$", u16(123), qrStore(left), qrPrint, "\x0c")
		require.Equal(t, []emulator.Problem{{Offset: 14, Message: "GS $ 123 is the bottom edge of the page area (123 dots tall): a printer that takes it as outside the area ignores it; keep it below 123"}}, r.Problems)
		require.Equal(t, image.Rect(0, 0, 123, 123), blackBox(r.Image, r.Image.Bounds()))
		r = render(t, 384, escInit, "\x1bL\x1bW", u16(0), u16(0), u16(384), u16(123), "\x1d$", u16(124), "\x0c")
		require.Equal(t, []emulator.Problem{{Offset: 14, Message: "GS $ 124 lies outside the page area (123 dots tall): ignored"}}, r.Problems)
	})
	t.Run("text sits inside the area, CAN discards, ESC S leaves", func(t *testing.T) {
		r := renderClean(t, 384, escInit, "\x1bL\x1bW", u16(100), u16(10), u16(200), u16(50), "AB\x0c")
		require.Equal(t, 60, r.Image.Bounds().Dy())
		box := blackBox(r.Image, r.Image.Bounds())
		require.GreaterOrEqual(t, box.Min.X, 100)
		require.GreaterOrEqual(t, box.Min.Y, 10)
		require.LessOrEqual(t, box.Max.Y, 34)
		r = renderClean(t, 384, escInit, "\x1bLAB\x18\x1bW", u16(0), u16(0), u16(384), u16(30), "\x0c")
		require.Zero(t, countBlack(r.Image, r.Image.Bounds()))
		r = renderClean(t, 384, escInit, "\x1bLAB\x1bSCD\n")
		require.Equal(t, 30, r.Image.Bounds().Dy())
	})
}

func TestCutAndStatus(t *testing.T) {
	r := renderClean(t, 384, escInit, "A\n", "\x10\x04\x01\x10\x04\x04\x1dr\x01\x1da\xff\x10\x05\x02", "\x1dVB\x10")
	img := r.Image
	// 30 (line) + 16 (feed) + 9 (cut band); the cut is a dashed line.
	require.Equal(t, 55, img.Bounds().Dy())
	runs := runLengths(img, 30+16+4)
	require.Greater(t, len(runs), 40)
	require.Equal(t, 4, runs[1], "partial cut: short dashes")

	r = render(t, 384, escInit, "A\x1dV\x00\n")
	require.Equal(t, []emulator.Problem{{Offset: 3, Message: "GS V not at the start of a line (1 characters wait in the buffer): ignored by the printer"}}, r.Problems)
}

func TestProblemsAtTheirOffsets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stream string
		want   []emulator.Problem
	}{
		{"unknown ESC", "\x1b@A\x1b\x01B\n", []emulator.Problem{{3, "unknown command ESC 0x01"}}},
		{"unknown GS", "AB\x1dZ\n", []emulator.Problem{{2, "unknown command GS Z"}}},
		{"unknown FS", "\x1c\x7f\n", []emulator.Problem{{0, "unknown command FS 0x7F"}}},
		{"unknown control byte", "A\x07\n", []emulator.Problem{{1, "unknown control byte 0x07"}}},
		{"truncated ESC !", "A\n\x1b!", []emulator.Problem{{2, "ESC ! truncated: needs 1 parameter bytes, the stream has 0 left"}}},
		{"truncated ESC W", "\x1bW\x00\x00", []emulator.Problem{{0, "ESC W truncated: needs 8 parameter bytes, the stream has 2 left"}}},
		{"lone ESC", "\n\x1b", []emulator.Problem{{1, "ESC truncated: needs 1 parameter bytes, the stream has 0 left"}}},
		{"raster count past the end", "\n\x1dv0\x00\xff\xff\xff\xff\x00", []emulator.Problem{{1, "GS v 0: 65535×65535 bytes of raster need 4294836225 data bytes, the stream has 1 left"}}},
		{"raster wider than the paper", "\x1dv0\x00\x32\x00\x01\x00" + strings.Repeat("\xff", 50), []emulator.Problem{{0, "GS v 0: 400 dots wide, wider than the print area (384 dots): the right part is lost"}}},
		{"raster mid-line", "A\x1dv0\x00\x01\x00\x01\x00\xff\n", []emulator.Problem{{1, "GS v 0 not at the start of a line (1 characters wait in the buffer): ignored by the printer"}}},
		{"GS ( k length past the end", "\x1d(k\x10\x001P0ab", []emulator.Problem{{0, "GS ( k: pL pH = 16 runs past the end of the stream (5 bytes left)"}}},
		{"QR module size out of range", "\x1d(k\x03\x001C\x11", []emulator.Problem{{0, "GS ( k QR module size 17: must be 1–16 dots"}}},
		{"QR fn with wrong length", "\x1d(k\x04\x001C\x03\x00", []emulator.Problem{{0, "GS ( k QR fn 167: pL pH must be 3, got 4"}}},
		{"PDF417 not emulated", "\x1d(k\x03\x000A\x00", []emulator.Problem{{0, "GS ( k cn=48: only QR Code (cn 49) is emulated; 3 bytes skipped"}}},
		{"CODE39 form A without NUL", "\x1dk\x04ABC", []emulator.Problem{{0, "GS k 4: no NUL ends the barcode data before the end of the stream"}}},
		{"CODE39 form B count past the end", "\x1dk\x45\x13ABC", []emulator.Problem{{0, "GS k truncated: needs 19 parameter bytes, the stream has 3 left"}}},
		{"EAN13 not emulated", "\x1dk\x43\x0c490123456789", []emulator.Problem{{0, "GS k 67: only CODE39 (4 and 69) is emulated; barcode not drawn"}}},
		{"GS w out of range", "\x1dw\x07", []emulator.Problem{{0, "GS w 7: module width must be 1–6 dots"}}},
		{"FF outside page mode", "\x0c", []emulator.Problem{{0, "FF outside page mode is ignored by the printer"}}},
		{"GS $ outside page mode", "\x1d$\x10\x00", []emulator.Problem{{0, "GS $ outside page mode is ignored by the printer"}}},
		{"text never fed", "\x1b@AB", []emulator.Problem{{4, "the stream ends with 2 characters in the line buffer that never print (no LF)"}}},
		{"page never printed", "\x1bLAB", []emulator.Problem{{4, "the stream ends in page mode; the page never prints (no FF)"}}},
		{"ESC @ discards the line", "AB\x1b@", []emulator.Problem{{2, "ESC @ discards 2 characters waiting in the line buffer"}}},
		{"ESC @ discards the page", "\x1bLAB\x1b@", []emulator.Problem{{4, "ESC @ discards the page-mode buffer before it was printed (no FF)"}}},
		{"bit image of unknown mode", "\x1b*\x05\x01\x00\xff\n", []emulator.Problem{{0, "ESC * 5: mode must be 0, 1, 32 or 33; the rest of the stream cannot be parsed safely"}}},
		{"ESC W zero area", "\x1bW\x00\x00\x00\x00\x00\x00\x10\x00", []emulator.Problem{{0, "ESC W 0 0 0 16: width and height must not be 0: ignored"}}},
		{"code table", "\x1bt\x05", []emulator.Problem{{0, "ESC t 5: code table not emulated (only 0 PC437, 2 PC850, 3 PC860, 16 WPC1252, 19 PC858); PC437 kept"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := render(t, 384, tc.stream)
			require.Equal(t, tc.want, r.Problems)
		})
	}
}

func TestRenderingContinuesAfterAProblem(t *testing.T) {
	clean := renderClean(t, 384, escInit, "AB\n")
	r := render(t, 384, escInit, "\x1b\x01AB\n")
	require.Len(t, r.Problems, 1)
	// ESC 0x01 takes no parameter the emulator knows of: "AB" still prints.
	require.Equal(t, clean.Image.Pix, r.Image.Pix)
}

func TestBitImage(t *testing.T) {
	// ESC * 33: 24-dot double density, 2 columns: column 0 has the top
	// dot, column 1 the bottom dot; it sits in the line like a character.
	r := renderClean(t, 384, escInit, "\x1b*\x21\x02\x00", "\x80\x00\x00", "\x00\x00\x01", "A\n")
	require.True(t, black(r.Image, 0, 0))
	require.True(t, black(r.Image, 1, 23))
	require.Equal(t, 2, countBlack(r.Image, image.Rect(0, 0, 2, 30)))
	require.NotEmpty(t, blackBox(r.Image, image.Rect(2, 0, 14, 24)), "A follows the image")
	// ESC * 0: 8-dot single density, each dot 2 wide and 3 tall.
	r = renderClean(t, 384, escInit, "\x1b*\x00\x01\x00\x80\n")
	require.Equal(t, image.Rect(0, 0, 2, 3), blackBox(r.Image, r.Image.Bounds()))
}

func TestPaperLengthIsCapped(t *testing.T) {
	feed := strings.Repeat("\x1bJ\xff", emulator.MaxPaperLength/255+5)
	r := render(t, 384, "A\n", feed, "B\n")
	require.Equal(t, emulator.MaxPaperLength, r.Image.Bounds().Dy())
	require.Len(t, r.Problems, 1)
	require.Contains(t, r.Problems[0].Message, "the paper passes 40000 dots")

	// A raster claiming the maximum size with its data present is drawn
	// only up to the cap.
	raster := stream("\x1dv0\x00", u16(1), u16(65535), bytes.Repeat([]byte{0x80}, 65535))
	res, err := emulator.Render(raster, emulator.Options{Width: 384})
	require.NoError(t, err)
	require.Equal(t, emulator.MaxPaperLength, res.Image.Bounds().Dy())
	require.Len(t, res.Problems, 1)
}

func TestProblemListIsCapped(t *testing.T) {
	r := render(t, 384, strings.Repeat("\x07", 2000))
	require.Len(t, r.Problems, 501)
	require.Equal(t, "1500 more problems not listed", r.Problems[500].Message)
}

func TestWritePNGIsOneBit(t *testing.T) {
	r := renderClean(t, 384, escInit, "AB\n", "\x1dv0\x00", u16(1), u16(2), "\xf0\x0f")
	var buf bytes.Buffer
	require.NoError(t, r.WritePNG(&buf))
	// IHDR: bit depth 1, colour type 3 (palette).
	require.Equal(t, byte(1), buf.Bytes()[24])
	require.Equal(t, byte(3), buf.Bytes()[25])
	img := decodePNG(t, buf.Bytes())
	require.Equal(t, r.Image.Bounds(), img.Bounds())
	for y := range img.Bounds().Dy() {
		for x := range img.Bounds().Dx() {
			g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
			require.Equal(t, r.Image.GrayAt(x, y), g)
		}
	}
	var empty *emulator.Result
	require.Error(t, empty.WritePNG(&buf))
}

func TestImageIsOnlyBlackAndWhite(t *testing.T) {
	r := renderClean(t, 384, escInit, kanjiOn, "\x1d!\x11", big5(t, "電子發票"), "\n", qrStore([]byte("x")), qrPrint)
	for _, v := range r.Image.Pix {
		require.True(t, v == 0 || v == 0xFF)
	}
}

package emulator_test

import (
	"strings"
	"testing"

	"github.com/posagent/posagent/printer/emulator"
)

func FuzzRender(f *testing.F) {
	for _, s := range [][]byte{
		[]byte("\x1b@\x1bt\x00\x1c&\x1b2\x1ba\x01\x1d!\x11\xb9\x71\xa4\x6c\n\x1d!\x00AB-12345678\n"),
		stream(pageTwoQRs([]byte("left"), []byte("right"))...),
		stream("\x1dh\x40\x1dw\x01\x1dk\x45\x1310404UZ176908720122\x1dVB\x10"),
		stream("\x1dv0\x00\xff\xff\xff\xff\x00"),                          // raster claiming 65535×65535
		stream("\x1dv0\x03", u16(48), u16(2), strings.Repeat("\xaa", 96)), // double-size raster
		stream("\x1bL\x1bW\xff\xff\xff\xff\xff\xff\xff\xff\x0c"),
		stream("\x1d(k\xff\xff1P0"),
		stream("\x1b*\x21\xff\x07"),
		stream("\x1d8L\xff\xff\xff\x7f0p"),
		stream("\x1b&\x03\x20\x7e\x0c"),
		stream("\x1d!\x77\x1b \xff", strings.Repeat("W", 40), "\n"),
		stream("\x1c&\xb9\x1b\xfa\x40\xf9\xd6\xa3\xe1\x80\xff\xb9"),
		stream("\x1bD\x01\x02\x00\t\t\t\x1b$\xff\x7fX\x1b\\\x00\x80Y\n"),
	} {
		f.Add(s, uint16(384))
	}
	f.Fuzz(func(t *testing.T, data []byte, width uint16) {
		w := 8 + int(width)%(emulator.MaxWidth-7)
		r, err := emulator.Render(data, emulator.Options{Width: w})
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		b := r.Image.Bounds()
		if b.Dx() != w || b.Dy() < 1 || b.Dy() > emulator.MaxPaperLength {
			t.Fatalf("image %v for width %d", b, w)
		}
		for _, v := range r.Image.Pix {
			if v != 0 && v != 0xFF {
				t.Fatalf("pixel value %#x", v)
			}
		}
		if len(r.Problems) > 501 {
			t.Fatalf("%d problems", len(r.Problems))
		}
		for _, p := range r.Problems {
			if p.Offset < 0 || p.Offset > len(data) || p.Message == "" {
				t.Fatalf("problem %+v for %d bytes", p, len(data))
			}
		}
	})
}

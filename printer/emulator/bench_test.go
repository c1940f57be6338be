package emulator_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/posagent/posagent/printer/emulator"
)

// typicalReceipt is the shape of a 58-mm proof with details: seller,
// title, period, number, date, random code and total, tax ids, CODE39,
// the two QR codes (as one raster band, or native in page mode), ten
// item lines, a cut.
func typicalReceipt(tb testing.TB, pageMode bool) []byte {
	enc := traditionalchinese.Big5.NewEncoder()
	b5 := func(s string) string {
		out, err := enc.String(s)
		if err != nil {
			tb.Fatal(err)
		}
		return out
	}
	left := strings.Repeat("AB1122334410205231999000001440000015400000000012345670ydXZt4LAN1UHN/j1juVcRA==:**********:3:3:1:", 2)[:150]
	right := "**" + b5("咖啡:1:50:") + strings.Repeat(" ", 100)
	var s bytes.Buffer
	s.WriteString("\x1b@\x1bt\x00\x1c&\x1b3\x1e\x1ba\x01")
	s.WriteString("\x1d!\x01" + b5("好吃咖啡股份有限公司") + "\n")
	s.WriteString("\x1d!\x11" + b5("電子發票證明聯") + "\n")
	s.WriteString("\x1bE\x01" + b5("114年09-10月") + "\nAB-12345678\n\x1bE\x00\x1d!\x00")
	s.WriteString("\x1ba\x002025-09-21 14:03:27\n" + b5("隨機碼") + " 1234    " + b5("總計") + " 150\n" + b5("賣方") + " 24634102\n")
	s.WriteString("\x1ba\x01\x1dh\x40\x1dw\x01\x1dH\x00\x1dk\x45\x1311410AB123456781234\n")
	if pageMode {
		s.WriteString("\x1bL\x1bW\x00\x00\x00\x00\x80\x01\xa0\x00\x1bT\x00\x1d(k\x03\x001C\x03\x1d(k\x03\x001E0")
		for i, d := range []string{left, right} {
			n := len(d) + 3
			s.WriteString("\x1b$" + string([]byte{byte(16 + i*184), 0}) + "\x1d$\x8b\x00")
			s.Write([]byte{0x1d, '(', 'k', byte(n), byte(n >> 8), '1', 'P', '0'})
			s.WriteString(d + "\x1d(k\x03\x001Q0")
		}
		s.WriteString("\x0c")
	} else {
		band := qrBand(tb, left, right)
		s.WriteString("\x1dv0\x00\x30\x00" + string([]byte{byte(len(band) / 48), byte(len(band) / 48 >> 8)}))
		s.Write(band)
	}
	s.WriteString("\x1ba\x00")
	for i := range 10 {
		s.WriteString(b5("拿鐵咖啡") + " x" + string(rune('1'+i%9)) + "      50\n")
	}
	s.WriteString(b5("合計") + "  500\n\x1dVB\x10")
	return s.Bytes()
}

// qrBand draws two symbols side by side at 3 dots per module into a
// 384-dot raster band, the way a host-raster profile sends them.
func qrBand(tb testing.TB, left, right string) []byte {
	const rowBytes = 48
	var syms [2][][]bool
	for i, d := range []string{left, right} {
		q, err := qrcode.NewWithForcedVersion(d, 7, qrcode.Low)
		if err != nil {
			tb.Fatal(err)
		}
		q.DisableBorder = true
		syms[i] = q.Bitmap()
	}
	size := len(syms[0]) * 3
	band := make([]byte, rowBytes*(size+32))
	for i, bits := range syms {
		x0 := 16 + i*(size+16)
		for y, row := range bits {
			for x, on := range row {
				if !on {
					continue
				}
				for dy := range 3 {
					for dx := range 3 {
						px, py := x0+x*3+dx, 16+y*3+dy
						band[py*rowBytes+px/8] |= 0x80 >> uint(px%8)
					}
				}
			}
		}
	}
	return band
}

// BenchmarkRender draws the MOF three-item example as the print layout
// sends it to each profile's printer, and a synthetic proof with ten
// detail lines.
func BenchmarkRender(b *testing.B) {
	type bench struct {
		name   string
		stream []byte
		width  int
	}
	var benches []bench
	for _, g := range []struct {
		profile string
		width   int
	}{{"58mm", 384}, {"58mm-page", 384}, {"80mm", 576}} {
		s, err := os.ReadFile(filepath.Join(receiptsDir, "mof-example."+g.profile+".bin"))
		if err != nil {
			b.Fatal(err)
		}
		benches = append(benches, bench{"mof-example." + g.profile, s, g.width})
	}
	benches = append(benches,
		bench{"details-raster-qr", typicalReceipt(b, false), 384},
		bench{"details-page-qr", typicalReceipt(b, true), 384})
	for _, tc := range benches {
		if _, err := emulator.Render(tc.stream, emulator.Options{Width: tc.width}); err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.stream)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := emulator.Render(tc.stream, emulator.Options{Width: tc.width}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestTypicalReceiptScans(t *testing.T) {
	for _, page := range []bool{false, true} {
		r := renderClean(t, 384, typicalReceipt(t, page))
		boxes, texts := qrSymbols(t, r.Image)
		if *writePNG {
			savePNG(t, r, t.Name()+map[bool]string{false: "-raster", true: "-page"}[page])
		}
		if len(boxes) != 2 {
			t.Fatalf("page=%v: %d QR symbols found", page, len(boxes))
		}
		if boxes[0].Min.Y != boxes[1].Min.Y || boxes[0].Dx() != boxes[1].Dx() {
			t.Fatalf("page=%v: symbols %v and %v not top-aligned and equal", page, boxes[0], boxes[1])
		}
		if !strings.HasPrefix(texts[0], "AB1122334410205231999") {
			t.Fatalf("left text %q", texts[0])
		}
		got, err := decodeCode39(t, r.Image)
		if err != nil || got != "11410AB123456781234" {
			t.Fatalf("CODE39: %q, %v", got, err)
		}
	}
}

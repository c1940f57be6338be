package escpos_test

import (
	"bytes"
	"encoding/hex"
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/posagent/posagent/printer/escpos"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func TestCommandBytes(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *escpos.Builder)
		want  string
	}{
		{"ESC @", func(b *escpos.Builder) { b.Initialize() }, "1B40"},
		{"ESC t 0", func(b *escpos.Builder) { b.CodeTable(0) }, "1B7400"},
		{"FS &", func(b *escpos.Builder) { b.KanjiOn() }, "1C26"},
		{"FS .", func(b *escpos.Builder) { b.KanjiOff() }, "1C2E"},
		{"GS ! double both", func(b *escpos.Builder) { b.Size(2, 2) }, "1D2111"},
		{"GS ! double height", func(b *escpos.Builder) { b.Size(1, 2) }, "1D2101"},
		{"GS ! normal", func(b *escpos.Builder) { b.Size(1, 1) }, "1D2100"},
		{"GS ! 8x8", func(b *escpos.Builder) { b.Size(8, 8) }, "1D2177"},
		{"ESC E on", func(b *escpos.Builder) { b.Bold(true) }, "1B4501"},
		{"ESC E off", func(b *escpos.Builder) { b.Bold(false) }, "1B4500"},
		{"ESC - 2", func(b *escpos.Builder) { b.Underline(2) }, "1B2D02"},
		{"ESC a 1", func(b *escpos.Builder) { b.Align(escpos.AlignCenter) }, "1B6101"},
		{"ESC a 2", func(b *escpos.Builder) { b.Align(escpos.AlignRight) }, "1B6102"},
		{"ESC 3 30", func(b *escpos.Builder) { b.LineSpacing(30) }, "1B331E"},
		{"ESC 2", func(b *escpos.Builder) { b.DefaultLineSpacing() }, "1B32"},
		{"LF", func(b *escpos.Builder) { b.LineFeed() }, "0A"},
		{"ESC d 3", func(b *escpos.Builder) { b.FeedLines(3) }, "1B6403"},
		{"ESC J 16", func(b *escpos.Builder) { b.FeedDots(16) }, "1B4A10"},
		{"GS V 0", func(b *escpos.Builder) { b.Cut(escpos.CutFull) }, "1D5600"},
		{"GS V 1", func(b *escpos.Builder) { b.Cut(escpos.CutPartial) }, "1D5601"},
		{"GS V 66 0", func(b *escpos.Builder) { b.FeedAndCut(escpos.CutPartial, 0) }, "1D564200"},
		{"GS V 65 3", func(b *escpos.Builder) { b.FeedAndCut(escpos.CutFull, 3) }, "1D564103"},
		{"QR model 2", func(b *escpos.Builder) { b.QRModel() }, "1D286B040031413200"},
		{"QR size 3", func(b *escpos.Builder) { b.QRModuleSize(3) }, "1D286B0300314303"},
		{"QR level L", func(b *escpos.Builder) { b.QRErrorLevel(escpos.QRLevelL) }, "1D286B0300314530"},
		{"QR level H", func(b *escpos.Builder) { b.QRErrorLevel(escpos.QRLevelH) }, "1D286B0300314533"},
		{"QR print", func(b *escpos.Builder) { b.QRPrint() }, "1D286B0300315130"},
		{"GS h 64", func(b *escpos.Builder) { b.BarcodeHeight(64) }, "1D6840"},
		{"GS w 1", func(b *escpos.Builder) { b.BarcodeModule(1) }, "1D7701"},
		{"GS H 0", func(b *escpos.Builder) { b.BarcodeHRI(escpos.HRINone) }, "1D4800"},
		{"GS H 2", func(b *escpos.Builder) { b.BarcodeHRI(escpos.HRIBelow) }, "1D4802"},
		{"ESC L", func(b *escpos.Builder) { b.PageMode() }, "1B4C"},
		{"ESC S", func(b *escpos.Builder) { b.StandardMode() }, "1B53"},
		// escpos.md §7 sketch: a 384 × 160 area at the origin.
		{"ESC W", func(b *escpos.Builder) { b.PageArea(0, 0, 384, 160) }, "1B570000000080 01A000"},
		{"ESC T 0", func(b *escpos.Builder) { b.PageDirection(0) }, "1B5400"},
		{"ESC $ 16", func(b *escpos.Builder) { b.AbsoluteX(16) }, "1B241000"},
		{"ESC $ 200", func(b *escpos.Builder) { b.AbsoluteX(200) }, "1B24C800"},
		{"GS $ 139", func(b *escpos.Builder) { b.AbsoluteY(139) }, "1D248B00"},
		{"GS $ 300", func(b *escpos.Builder) { b.AbsoluteY(300) }, "1D242C01"},
		{"FF", func(b *escpos.Builder) { b.PrintPage() }, "0C"},
		{"CAN", func(b *escpos.Builder) { b.CancelPage() }, "18"},
		{"DLE EOT 1", func(b *escpos.Builder) { b.RealTimeStatus(escpos.StatusPrinter) }, "100401"},
		{"DLE EOT 4", func(b *escpos.Builder) { b.RealTimeStatus(escpos.StatusPaper) }, "100404"},
		{"GS r 1", func(b *escpos.Builder) { b.TransmitStatus(escpos.TransmitPaper) }, "1D7201"},
		{"GS r 2", func(b *escpos.Builder) { b.TransmitStatus(escpos.TransmitDrawer) }, "1D7202"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b escpos.Builder
			tt.build(&b)
			if got, want := b.Bytes(), unhex(t, tt.want); !bytes.Equal(got, want) {
				t.Fatalf("got % X, want % X", got, want)
			}
		})
	}
}

// The python-escpos and escpos-php golden for qr("1234") with the defaults
// (model 2, size 3, level L), escpos.md §4.
func TestQRGoldenPythonEscpos(t *testing.T) {
	var b escpos.Builder
	if err := b.QR([]byte("1234"), 3, escpos.QRLevelL); err != nil {
		t.Fatal(err)
	}
	want := unhex(t, "1D286B040031413200 1D286B0300314303 1D286B0300314530 1D286B070031503031323334 1D286B0300315130")
	if !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("got  % X\nwant % X", b.Bytes(), want)
	}
}

// The store length counts payload bytes, not runes: escpos.md §4 examples.
func TestQRStoreLength(t *testing.T) {
	for _, tt := range []struct {
		payload []byte
		pLpH    string
	}{
		{[]byte("1234"), "0700"},
		{bytes.Repeat([]byte("a"), 134), "8900"},
		{bytes.Repeat([]byte("a"), 300), "2F01"},
		{[]byte("乾電池"), "0C00"}, // 9 UTF-8 bytes, 3 runes
	} {
		var b escpos.Builder
		if err := b.QRStore(tt.payload); err != nil {
			t.Fatal(err)
		}
		got := b.Bytes()
		if want := unhex(t, "1D286B"+tt.pLpH+"315030"); !bytes.Equal(got[:8], want) {
			t.Errorf("%d bytes: header % X, want % X", len(tt.payload), got[:8], want)
		}
		if !bytes.Equal(got[8:], tt.payload) {
			t.Errorf("payload changed")
		}
	}
}

func TestQRStoreRejects(t *testing.T) {
	var b escpos.Builder
	if err := b.QRStore(nil); err == nil {
		t.Error("empty payload accepted")
	}
	if err := b.QRStore(make([]byte, escpos.MaxQRData+1)); err == nil {
		t.Error("oversized payload accepted")
	}
	if err := b.QR(nil, 3, escpos.QRLevelL); err == nil {
		t.Error("QR with empty payload accepted")
	}
	if b.Len() != 0 {
		t.Errorf("a rejected command wrote % X", b.Bytes())
	}
	if err := b.QRStore(make([]byte, escpos.MaxQRData)); err != nil {
		t.Errorf("largest payload: %v", err)
	}
}

func TestCode39(t *testing.T) {
	var b escpos.Builder
	if err := b.Code39("10404UZ176908720122"); err != nil {
		t.Fatal(err)
	}
	want := append(unhex(t, "1D6B4513"), "10404UZ176908720122"...)
	if !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("got % X, want % X", b.Bytes(), want)
	}
	for _, bad := range []string{"", "abc", "A*B", strings.Repeat("1", 256), "乾"} {
		var b escpos.Builder
		if err := b.Code39(bad); err == nil {
			t.Errorf("Code39(%q) accepted", bad)
		}
		if b.Len() != 0 {
			t.Errorf("Code39(%q) wrote % X", bad, b.Bytes())
		}
	}
	if err := escpos.ValidCode39(" -.$/+%AZ09"); err != nil {
		t.Errorf("all special characters: %v", err)
	}
}

func TestRaster(t *testing.T) {
	// escpos.md §6: a 1×1 black dot.
	m := escpos.NewBitmap(1, 1)
	m.Set(0, 0)
	var b escpos.Builder
	if err := b.Raster(m, escpos.RasterNormal); err != nil {
		t.Fatal(err)
	}
	if want := unhex(t, "1D76300001000100 80"); !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("got % X, want % X", b.Bytes(), want)
	}

	// 384 dots wide = 48 bytes a row (30 00); 300 rows = 2C 01; double both.
	m = escpos.NewBitmap(384, 300)
	m.FillRow(0, 0, 384)
	m.FillRow(299, 3, 13)
	b = escpos.Builder{}
	if err := b.Raster(m, escpos.RasterQuadruple); err != nil {
		t.Fatal(err)
	}
	got := b.Bytes()
	if want := unhex(t, "1D763003 3000 2C01"); !bytes.Equal(got[:8], want) {
		t.Fatalf("header % X, want % X", got[:8], want)
	}
	if len(got) != 8+48*300 {
		t.Fatalf("%d bytes", len(got))
	}
	if !bytes.Equal(got[8:8+48], bytes.Repeat([]byte{0xFF}, 48)) {
		t.Errorf("first row % X", got[8:8+48])
	}
	last := got[8+48*299:]
	if want := []byte{0x1F, 0xF8, 0}; !bytes.Equal(last[:3], want) {
		t.Errorf("dots 3–12 of the last row: % X, want % X", last[:3], want)
	}
}

func TestRasterRejects(t *testing.T) {
	for name, m := range map[string]*escpos.Bitmap{
		"nil":       nil,
		"too wide":  escpos.NewBitmap(escpos.MaxRasterStride*8+1, 1),
		"too tall":  escpos.NewBitmap(8, escpos.MaxRasterRows+1),
		"corrupted": {Width: 8, Height: 2, Stride: 1, Bits: []byte{1}},
	} {
		var b escpos.Builder
		if err := b.Raster(m, escpos.RasterNormal); err == nil {
			t.Errorf("%s accepted", name)
		}
		if b.Len() != 0 {
			t.Errorf("%s wrote % X", name, b.Bytes())
		}
	}
	var b escpos.Builder
	if err := b.Raster(escpos.NewBitmap(8, 1), 4); err == nil {
		t.Error("raster mode 4 accepted")
	}
}

func TestBitmapFromImage(t *testing.T) {
	img := image.NewNRGBA(image.Rect(10, 10, 20, 12))
	for x := 10; x < 20; x++ {
		img.Set(x, 10, color.White)
		img.Set(x, 11, color.Black)
	}
	img.Set(12, 10, color.NRGBA{0x30, 0x30, 0x30, 0xFF}) // dark grey → black
	img.Set(13, 11, color.NRGBA{0, 0, 0, 0x10})          // nearly transparent → white
	m := escpos.BitmapFromImage(img)
	if m.Width != 10 || m.Height != 2 || m.Stride != 2 {
		t.Fatalf("bitmap %d×%d stride %d", m.Width, m.Height, m.Stride)
	}
	if want := []byte{0x20, 0x00, 0xEF, 0xC0}; !bytes.Equal(m.Bits, want) {
		t.Fatalf("bits % X, want % X", m.Bits, want)
	}
	g := m.Image(2, 1)
	if g.Bounds().Dx() != 20 || g.GrayAt(4, 0).Y != 0 || g.GrayAt(6, 0).Y != 0xFF {
		t.Errorf("Image scaling wrong")
	}
}

func TestPanicsOnImpossibleArguments(t *testing.T) {
	for name, f := range map[string]func(b *escpos.Builder){
		"size 0":       func(b *escpos.Builder) { b.Size(0, 1) },
		"size 9":       func(b *escpos.Builder) { b.Size(1, 9) },
		"underline 3":  func(b *escpos.Builder) { b.Underline(3) },
		"feed 256":     func(b *escpos.Builder) { b.FeedDots(256) },
		"qr module 17": func(b *escpos.Builder) { b.QRModuleSize(17) },
		"module 0":     func(b *escpos.Builder) { b.BarcodeModule(0) },
		"DLE EOT 5":    func(b *escpos.Builder) { b.RealTimeStatus(5) },
		"page area 0":  func(b *escpos.Builder) { b.PageArea(0, 0, 0, 10) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f(&escpos.Builder{})
		})
	}
}

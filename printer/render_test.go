package printer_test

import (
	"bytes"
	"errors"
	"image"
	"image/draw"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/escpos"
	"github.com/posagent/posagent/qr"
)

func renderCase(t *testing.T, c receiptCase, p printer.Profile) printer.Receipt {
	t.Helper()
	r, err := printer.RenderReceipt(c.inv, p, c.opt)
	if err != nil {
		t.Fatalf("%s on %s: %v", c.name, p.Name, err)
	}
	return r
}

// TestProfilesNeverSendWhatTheyCannot scans every golden receipt for commands
// its profile says the printer lacks, and for anything the disassembler does
// not recognise.
func TestProfilesNeverSendWhatTheyCannot(t *testing.T) {
	for _, c := range loadCases(t) {
		for _, p := range profiles(t) {
			r := renderCase(t, c, p)
			inPage := false
			for _, cmd := range escpos.Disassemble(r.Bytes) {
				fail := func(why string) {
					t.Errorf("%s on %s: %s at %#x: %s %s", c.name, p.Name, why, cmd.Offset, cmd.Name, cmd.Detail)
				}
				switch cmd.Name {
				case "?":
					fail("unknown bytes")
				case "ESC L":
					inPage = true
					if !p.PageMode {
						fail("page mode on a printer without it")
					}
				case "FF", "ESC S":
					inPage = false
					if !p.PageMode {
						fail("page mode command on a printer without it")
					}
				case "ESC W", "ESC T", "ESC $", "GS $", "CAN":
					if !p.PageMode {
						fail("page mode command on a printer without it")
					}
				case "GS k", "GS w", "GS h", "GS H":
					if p.Code39 != printer.Code39Native {
						fail("native barcode on a raster-barcode profile")
					}
					if cmd.Name == "GS w" && cmd.Raw[2] == 1 && !p.Code39Module1 {
						fail("GS w 1 on a printer without 1-dot bars")
					}
				case "GS v 0":
					if inPage {
						fail("GS v 0 does not exist in page mode")
					}
					if cmd.Raw[3] != 0 && !p.RasterScaling {
						fail("scaled raster on a printer without it")
					}
					x := int(cmd.Raw[4]) | int(cmd.Raw[5])<<8
					sx, _ := escpos.RasterMode(cmd.Raw[3]).Scale()
					if x*8*sx > p.Dots+7*sx {
						fail("raster wider than the paper")
					}
					if len(cmd.Raw) > p.BufferSize/2+8 {
						fail("raster command larger than half the buffer")
					}
				case "GS V":
					if p.Cutter == printer.CutterNone {
						fail("cut on a printer without a cutter")
					}
				case "ESC a":
					if inPage {
						fail("ESC a is ignored in page mode")
					}
				}
				if strings.HasPrefix(cmd.Name, "GS ( k") && !p.NativeQR {
					fail("native QR on a printer without it")
				}
			}
			if inPage {
				t.Errorf("%s on %s: page mode left open", c.name, p.Name)
			}
			if bytes.IndexByte(r.Bytes, 0x1A) >= 0 && !bytes.Contains(r.Bytes, []byte{0x1D, 0x76, 0x30}) {
				t.Errorf("%s on %s: SUB byte in a stream without images", c.name, p.Name)
			}
			last := escpos.Disassemble(r.Bytes)
			end := last[len(last)-1]
			switch p.Cutter {
			case printer.CutterNone:
				if end.Name != "ESC d" {
					t.Errorf("%s on %s ends with %s, want a feed to the tear bar", c.name, p.Name, end.Name)
				}
			default:
				if end.Name != "GS V" {
					t.Errorf("%s on %s ends with %s, want a cut", c.name, p.Name, end.Name)
				}
			}
		}
	}
}

// band is a run of GS v 0 commands with nothing between them: one picture.
type band struct {
	offset int
	img    *image.Gray // at the printer's width, white where nothing printed
	before escpos.Command
	after  escpos.Command
}

// rasterBands rebuilds the pictures a stream prints with GS v 0, placed as
// ESC a places them on paper of p.Dots.
func rasterBands(t *testing.T, stream []byte, dots int) []band {
	t.Helper()
	cmds := escpos.Disassemble(stream)
	var bands []band
	align := escpos.AlignLeft
	for i := 0; i < len(cmds); i++ {
		if cmds[i].Name == "ESC a" {
			align = escpos.Align(cmds[i].Raw[2])
		}
		if cmds[i].Name != "GS v 0" {
			continue
		}
		var parts []*image.Gray
		height := 0
		j := i
		for ; j < len(cmds) && cmds[j].Name == "GS v 0"; j++ {
			raw := cmds[j].Raw
			mode := escpos.RasterMode(raw[3])
			stride := int(raw[4]) | int(raw[5])<<8
			rows := int(raw[6]) | int(raw[7])<<8
			m := &escpos.Bitmap{Width: stride * 8, Height: rows, Stride: stride, Bits: raw[8:]}
			sx, sy := mode.Scale()
			parts = append(parts, m.Image(sx, sy))
			height += rows * sy
		}
		img := image.NewGray(image.Rect(0, 0, dots, height))
		draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
		y := 0
		for _, part := range parts {
			x := 0
			switch align {
			case escpos.AlignCenter:
				x = (dots - part.Bounds().Dx()) / 2
			case escpos.AlignRight:
				x = dots - part.Bounds().Dx()
			}
			if x < 0 {
				t.Fatalf("raster of %d dots on %d-dot paper", part.Bounds().Dx(), dots)
			}
			draw.Draw(img, part.Bounds().Add(image.Pt(x, y)), part, image.Point{}, draw.Src)
			y += part.Bounds().Dy()
		}
		b := band{offset: cmds[i].Offset, img: img}
		if i > 0 {
			b.before = cmds[i-1]
		}
		if j < len(cmds) {
			b.after = cmds[j]
		}
		bands = append(bands, b)
		i = j - 1
	}
	return bands
}

// blackBounds is the bounding box of the black pixels of img within r.
func blackBounds(img *image.Gray, r image.Rectangle) image.Rectangle {
	var box image.Rectangle
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if img.GrayAt(x, y).Y == 0 {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	return box
}

// isolate copies r of img onto a white canvas with a margin around it.
func isolate(img *image.Gray, r image.Rectangle, margin int) *image.Gray {
	out := image.NewGray(image.Rect(0, 0, r.Dx()+2*margin, r.Dy()+2*margin))
	draw.Draw(out, out.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(out, r.Sub(r.Min).Add(image.Pt(margin, margin)), img, r.Min, draw.Src)
	return out
}

func decodeQRImage(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_PURE_BARCODE:  true,
		gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	})
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

// TestRasterCodesScan decodes the QR codes and the barcode straight from the
// raster bytes of every golden case on the raster profiles, and measures the
// symbols against the MOF rules: same size, top-aligned, ≥ 15 mm, ≥ 3 dots a
// module, ≥ 16-dot quiet zones, the left at version ≥ 6.
func TestRasterCodesScan(t *testing.T) {
	for _, c := range loadCases(t) {
		for _, p := range profiles(t) {
			if !c.inv.Print {
				continue
			}
			t.Run(c.name+"."+p.Name, func(t *testing.T) {
				r := renderCase(t, c, p)
				bands := rasterBands(t, r.Bytes, p.Dots)
				if c.opt.Logo != nil {
					bands = bands[1:]
				}
				if p.Code39 == printer.Code39Raster {
					if len(bands) == 0 {
						t.Fatal("no barcode raster")
					}
					checkBarcode(t, bands[0], r.Codes.Barcode)
					bands = bands[1:]
				}
				if r.QR != p.QR && !(p.QR == printer.QRPage && r.QR == printer.QRRaster) {
					t.Fatalf("QR codes printed as %q on a %q profile", r.QR, p.QR)
				}
				if r.QR == printer.QRPage {
					if len(bands) != 0 {
						t.Fatalf("%d rasters after the barcode with native QR codes", len(bands))
					}
					return
				}
				if len(bands) != 1 {
					t.Fatalf("%d rasters after the barcode, want the one QR band", len(bands))
				}
				checkQRBand(t, bands[0], p, r.Codes)
			})
		}
	}
}

func checkBarcode(t *testing.T, b band, want string) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(b.img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := oned.NewCode39Reader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("barcode: %v", err)
	}
	if res.GetText() != want {
		t.Errorf("barcode reads %q, want %q", res.GetText(), want)
	}
	if len(want) != 19 {
		t.Errorf("barcode text %q is not 19 characters", want)
	}
	box := blackBounds(b.img, b.img.Bounds())
	if box.Dy() < 64 {
		t.Errorf("bars %d dots tall, want 64", box.Dy())
	}
	if box.Min.X < 10 || b.img.Bounds().Dx()-box.Max.X < 10 {
		t.Errorf("barcode quiet zones %d and %d dots, want ≥ 10", box.Min.X, b.img.Bounds().Dx()-box.Max.X)
	}
	// Narrow bars are 1 dot: the first bar of the * start character is narrow.
	y := box.Min.Y
	x := box.Min.X
	run := 0
	for b.img.GrayAt(x+run, y).Y == 0 {
		run++
	}
	if run != 1 {
		t.Errorf("first bar %d dots wide, want 1", run)
	}
}

func checkQRBand(t *testing.T, b band, p printer.Profile, codes qr.Codes) {
	t.Helper()
	if b.before.Name != "ESC J" || b.before.Raw[2] < 16 {
		t.Errorf("no 16-dot feed above the QR codes: %s %s", b.before.Name, b.before.Detail)
	}
	if b.after.Name != "ESC J" || b.after.Raw[2] < 16 {
		t.Errorf("no 16-dot feed below the QR codes: %s %s", b.after.Name, b.after.Detail)
	}
	mid := p.Dots / 2
	h := b.img.Bounds().Dy()
	left := blackBounds(b.img, image.Rect(0, 0, mid, h))
	right := blackBounds(b.img, image.Rect(mid, 0, p.Dots, h))
	if left.Dx() != right.Dx() || left.Dy() != right.Dy() || left.Dx() != left.Dy() {
		t.Errorf("symbols %v and %v are not the same square size", left.Size(), right.Size())
	}
	if left.Min.Y != right.Min.Y {
		t.Errorf("symbols not top-aligned: %d and %d", left.Min.Y, right.Min.Y)
	}
	if left.Dx() < 120 {
		t.Errorf("symbols %d dots wide, want ≥ 120 (15 mm)", left.Dx())
	}
	modules := 17 + 4*codes.Version
	if codes.Version < 6 || left.Dx()%modules != 0 || left.Dx()/modules < 3 {
		t.Errorf("symbols %d dots at version %d: not ≥ 3 whole dots a module", left.Dx(), codes.Version)
	}
	if left.Min.X < 16 || right.Min.X-left.Max.X < 16 || p.Dots-right.Max.X < 16 {
		t.Errorf("quiet zones %d, %d, %d dots, want ≥ 16", left.Min.X, right.Min.X-left.Max.X, p.Dots-right.Max.X)
	}
	if got := decodeQRImage(t, isolate(b.img, left, 16)); got != codes.Left {
		t.Errorf("left QR reads %q, want %q", got, codes.Left)
	}
	if got := decodeQRImage(t, isolate(b.img, right, 16)); got != codes.Right {
		t.Errorf("right QR reads %q, want %q", got, codes.Right)
	}
}

// TestPageModeQR checks the native symbols of the page-mode profile: the
// payloads are the qr texts' bytes, the right padded to the left's version,
// and the two are placed side by side on one baseline inside the paper.
func TestPageModeQR(t *testing.T) {
	p, err := printer.LookupProfile("58mm-page")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range loadCases(t) {
		if !c.inv.Print {
			continue
		}
		r := renderCase(t, c, p)
		if r.QR != printer.QRPage {
			continue // TestNativeQRSameVersion checks the choice
		}
		var payloads [][]byte
		var xs, ys []int
		module := 0
		for _, cmd := range escpos.Disassemble(r.Bytes) {
			switch cmd.Name {
			case "ESC $":
				xs = append(xs, int(cmd.Raw[2])|int(cmd.Raw[3])<<8)
			case "GS $":
				ys = append(ys, int(cmd.Raw[2])|int(cmd.Raw[3])<<8)
			case "GS ( k 167":
				module = int(cmd.Raw[7])
			case "GS ( k 180":
				payloads = append(payloads, cmd.Raw[8:])
			}
		}
		if len(payloads) != 2 || !bytes.Equal(payloads[0], r.Codes.LeftBytes()) || !bytes.Equal(payloads[1], r.Codes.RightBytes()) {
			t.Errorf("%s: stored payloads %q, want the left and right texts", c.name, payloads)
			continue
		}
		if qr.VersionBytes(payloads[1]) != r.Codes.Version || qr.VersionBytes(payloads[0]) != r.Codes.Version {
			t.Errorf("%s: payloads of %d and %d bytes do not both pick version %d", c.name, len(payloads[0]), len(payloads[1]), r.Codes.Version)
		}
		size := (17 + 4*r.Codes.Version) * module
		if module < 3 || size < 120 {
			t.Errorf("%s: %d dots a module, symbols of %d dots", c.name, module, size)
		}
		if len(xs) != 2 || len(ys) != 2 || ys[0] != ys[1] || ys[0] != size {
			t.Errorf("%s: positions x %v y %v, want two on the baseline %d", c.name, xs, ys, size)
			continue
		}
		if xs[0] < 16 || xs[1]-(xs[0]+size) < 16 || p.Dots-(xs[1]+size) < 16 {
			t.Errorf("%s: quiet zones around symbols at %v of %d dots too small", c.name, xs, size)
		}
	}
}

// TestGoals holds the receipts to their byte budgets: the MOF example within
// 4,500 bytes on every profile, and a proof with native QR codes within
// 1,000 (about a second at 9600 baud).
func TestGoals(t *testing.T) {
	var mof receiptCase
	for _, c := range loadCases(t) {
		if c.name == "mof-example" {
			mof = c
		}
	}
	for _, name := range []string{"58mm", "58mm-page", "80mm"} {
		p, _ := printer.LookupProfile(name)
		r := renderCase(t, mof, p)
		if len(r.Bytes) > 4500 {
			t.Errorf("MOF example on %s: %d bytes, goal ≤ 4500", name, len(r.Bytes))
		}
	}
	p, _ := printer.LookupProfile("58mm-page")
	native := 0
	for _, c := range loadCases(t) {
		if !c.inv.Print || c.opt.Logo != nil {
			continue
		}
		c.opt.Details, c.opt.Footer = false, nil // the proof alone
		if c.inv.Buyer.IsBusiness() {
			continue // its details are always printed
		}
		r := renderCase(t, c, p)
		if r.QR != printer.QRPage {
			continue
		}
		native++
		if len(r.Bytes) > 1000 {
			t.Errorf("%s on %s with native QR codes: %d bytes, goal ≤ 1000", c.name, p.Name, len(r.Bytes))
		}
	}
	if native == 0 {
		t.Error("no golden case prints native QR codes on 58mm-page")
	}
}

func TestTitleFitsThePaper(t *testing.T) {
	var c receiptCase
	for _, cc := range loadCases(t) {
		if cc.name == "reprint" {
			c = cc
		}
	}
	for name, size := range map[string]byte{"58mm": 0x01, "58mm-page": 0x01, "80mm": 0x11} {
		p, _ := printer.LookupProfile(name)
		cmds := escpos.Disassemble(renderCase(t, c, p).Bytes)
		i := slices.IndexFunc(cmds, func(cmd escpos.Command) bool { return strings.Contains(cmd.Detail, "電子發票證明聯補印") })
		if i < 0 {
			t.Fatalf("%s: no reprint title", name)
		}
		var last byte
		for _, cmd := range cmds[:i] {
			if cmd.Name == "GS !" {
				last = cmd.Raw[2]
			}
		}
		if last != size {
			t.Errorf("%s: reprint title at GS ! %02x, want %02x", name, last, size)
		}
	}
}

func TestManyItemsOverflowTheQR(t *testing.T) {
	for _, c := range loadCases(t) {
		if c.name != "many-items" {
			continue
		}
		for _, p := range profiles(t) {
			r := renderCase(t, c, p)
			if r.Codes.ItemsRecorded >= len(c.inv.Items) || r.Codes.ItemsRecorded == 0 {
				t.Errorf("%s: %d of %d items recorded", p.Name, r.Codes.ItemsRecorded, len(c.inv.Items))
			}
			if r.Codes.Version != p.MaxQRVersion {
				t.Errorf("%s: version %d, want the profile's largest %d", p.Name, r.Codes.Version, p.MaxQRVersion)
			}
		}
		return
	}
	t.Fatal("no many-items case")
}

// TestReplacementsReported: characters outside classic Big5 are printed as ？,
// reported by field, and logged by Render; the QR codes keep the originals.
func TestReplacementsReported(t *testing.T) {
	var c receiptCase
	for _, cc := range loadCases(t) {
		if cc.name == "long-names" {
			c = cc
		}
	}
	p, _ := printer.LookupProfile("58mm")
	r := renderCase(t, c, p)
	want := []printer.Replacement{
		{Field: "items[2].name", Runes: []rune("🍓")},
		{Field: "items[3].name", Runes: []rune("汉")},
		{Field: "items[4].name", Runes: []rune("堃喆碁恒")},
		{Field: "items[5].name", Runes: []rune("€")},
	}
	if !slices.EqualFunc(r.Replaced, want, func(a, b printer.Replacement) bool {
		return a.Field == b.Field && slices.Equal(a.Runes, b.Runes)
	}) {
		t.Errorf("Replaced = %v, want %v", r.Replaced, want)
	}
	if !strings.Contains(r.Codes.Left+r.Codes.Right, "🍓") && r.Codes.ItemsRecorded > 2 {
		t.Errorf("the QR codes lost the original name")
	}

	var logs bytes.Buffer
	opt := c.opt
	opt.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	out, err := printer.Render(c.inv, p, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, r.Bytes) {
		t.Error("Render and RenderReceipt differ")
	}
	for _, s := range []string{"items[3].name", "汉", "AB11223355", "level=WARN"} {
		if !strings.Contains(logs.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, logs.String())
		}
	}
	if strings.Contains(strings.ToUpper(logs.String()), testKey) {
		t.Error("the QR key reached the log")
	}
}

func TestRenderRejects(t *testing.T) {
	cases := map[string]receiptCase{}
	for _, c := range loadCases(t) {
		cases[c.name] = c
	}
	p, _ := printer.LookupProfile("58mm")
	consumer := cases["consumer"]

	unissued := consumer.inv
	unissued.RandomCode = ""
	carrierReprint := cases["carrier-mobile"]
	carrierReprint.opt.Reprint = true
	bigLogo := consumer
	bigLogo.opt.Logo = escpos.NewBitmap(400, 10)
	tallLogo := consumer
	tallLogo.opt.Logo = escpos.NewBitmap(100, printer.MaxLogoHeight+1)
	badProfile := p
	badProfile.QR = printer.QRPage // without page mode
	noKey := consumer
	noKey.opt.Key = qr.Key{}
	brokenLogo := consumer
	brokenLogo.opt.Logo = &escpos.Bitmap{Width: 16, Height: 2, Stride: 2, Bits: []byte{1}}
	badQR := consumer
	badQR.opt.QR = &qr.Options{Encoding: qr.UTF8, SellerArea: "short"}

	for name, tc := range map[string]struct {
		c     receiptCase
		p     printer.Profile
		kind  posagent.Kind
		field string
	}{
		"not issued":           {c: receiptCase{inv: unissued, opt: consumer.opt}, p: p, kind: posagent.KindInvalid, field: "random_code"},
		"reprint of a carrier": {c: carrierReprint, p: p, kind: posagent.KindInvalid, field: "reprint"},
		"logo too wide":        {c: bigLogo, p: p, kind: posagent.KindConfig},
		"logo too tall":        {c: tallLogo, p: p, kind: posagent.KindConfig},
		"inconsistent profile": {c: consumer, p: badProfile, kind: posagent.KindConfig},
		"bad QR options":       {c: badQR, p: p, kind: posagent.KindInvalid, field: "seller_area"},
		"no key":               {c: noKey, p: p, kind: posagent.KindConfig},
		"broken logo":          {c: brokenLogo, p: p, kind: posagent.KindConfig},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := printer.Render(tc.c.inv, tc.p, tc.c.opt)
			if err == nil {
				t.Fatalf("rendered %d bytes", len(out))
			}
			if out != nil {
				t.Error("bytes returned with an error")
			}
			if got := posagent.ErrorKind(err); got != tc.kind {
				t.Errorf("kind %v, want %v: %v", got, tc.kind, err)
			}
			if tc.field != "" && posagent.ErrorField(err) != tc.field {
				t.Errorf("field %q, want %q: %v", posagent.ErrorField(err), tc.field, err)
			}
			if strings.Contains(strings.ToUpper(err.Error()), testKey) {
				t.Error("the key is in the error")
			}
		})
	}
}

func TestLookupProfile(t *testing.T) {
	for _, name := range []string{"58mm", "58mm-page", "80mm"} {
		p, err := printer.LookupProfile(name)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != name {
			t.Errorf("LookupProfile(%q).Name = %q", name, p.Name)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if p, err := printer.LookupProfile(""); err != nil || p.Name != printer.DefaultProfile {
		t.Errorf(`LookupProfile("") = %q, %v; want the default`, p.Name, err)
	}
	_, err := printer.LookupProfile("epson")
	if posagent.ErrorKind(err) != posagent.KindConfig || !strings.Contains(err.Error(), "58mm-page") {
		t.Errorf("unknown profile: %v", err)
	}
	base, _ := printer.LookupProfile("58mm")
	for name, mutate := range map[string]func(p *printer.Profile){
		"narrow paper":         func(p *printer.Profile) { p.Dots = 360 },
		"GB18030":              func(p *printer.Profile) { p.Encoding = "gb18030" },
		"page QR without page": func(p *printer.Profile) { p.QR = printer.QRPage; p.NativeQR = true },
		"native 39 without w1": func(p *printer.Profile) { p.Code39 = printer.Code39Native },
		"tiny buffer":          func(p *printer.Profile) { p.BufferSize = 512 },
		"version 12":           func(p *printer.Profile) { p.MaxQRVersion = 12 },
		"version 10 on 58mm":   func(p *printer.Profile) { p.MaxQRVersion = 10 },
		"2-dot modules":        func(p *printer.Profile) { p.MaxQRModule = 2 },
		"cutter":               func(p *printer.Profile) { p.Cutter = "laser" },
	} {
		p := base
		mutate(&p)
		err := p.Validate()
		var perr *posagent.Error
		if !errors.As(err, &perr) || perr.Kind != posagent.KindConfig {
			t.Errorf("%s: Validate() = %v, want a config error", name, err)
		}
	}
}

// TestBig5QRCodes: with the QR texts in Big5 (MOF encoding 0) the symbols hold
// Big5 bytes, and a reader told so gets the texts back.
func TestBig5QRCodes(t *testing.T) {
	var c receiptCase
	for _, cc := range loadCases(t) {
		if cc.name == "mof-example" {
			c = cc
		}
	}
	c.opt.QR = &qr.Options{Encoding: qr.Big5}
	p, _ := printer.LookupProfile("58mm")
	r := renderCase(t, c, p)
	if !strings.Contains(r.Codes.Left, ":0:乾電池:") {
		t.Fatalf("left text %q is not in Big5 mode", r.Codes.Left)
	}
	bands := rasterBands(t, r.Bytes, p.Dots)
	qrBand := bands[len(bands)-1]
	left := blackBounds(qrBand.img, image.Rect(0, 0, p.Dots/2, qrBand.img.Bounds().Dy()))
	bmp, err := gozxing.NewBinaryBitmapFromImage(isolate(qrBand.img, left, 16))
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_PURE_BARCODE:  true,
		gozxing.DecodeHintType_CHARACTER_SET: "Big5",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.GetText() != r.Codes.Left {
		t.Errorf("left QR reads %q, want %q", res.GetText(), r.Codes.Left)
	}
	// The same symbol read as UTF-8 is garbage: the bytes really are Big5.
	if got := decodeQRImage(t, isolate(qrBand.img, left, 16)); got == r.Codes.Left {
		t.Error("the Big5 symbol reads the same as UTF-8")
	}
}

// textWidths checks that no line of text in a stream is wider than the paper,
// at the character width GS ! sets, and returns the text printed.
func textWidths(t *testing.T, name string, stream []byte, dots int) string {
	t.Helper()
	var all strings.Builder
	width := 1
	for _, cmd := range escpos.Disassemble(stream) {
		switch cmd.Name {
		case "GS !":
			width = int(cmd.Raw[2]>>4) + 1
		case "TEXT":
			text := strings.Trim(cmd.Detail, `"`)
			if w := escpos.ColumnsOf(text) * 12 * width; w > dots {
				t.Errorf("%s: %q is %d dots wide on %d-dot paper", name, text, w, dots)
			}
			all.WriteString(text)
			all.WriteByte('\n')
		}
	}
	return all.String()
}

func TestNoLineWiderThanThePaper(t *testing.T) {
	for _, c := range loadCases(t) {
		for _, p := range profiles(t) {
			textWidths(t, c.name+"."+p.Name, renderCase(t, c, p).Bytes, p.Dots)
		}
	}
}

func TestLongFieldsWrap(t *testing.T) {
	var c receiptCase
	for _, cc := range loadCases(t) {
		if cc.name == "carrier-mobile" {
			c = cc
		}
	}
	id := strings.Repeat("M", 30) + "-" + strings.Repeat("9", 33)
	c.inv.Carrier = posagent.Carrier{Type: posagent.CarrierMember, ID: id}
	c.inv.Seller.Name = "好日子雜貨店股份有限公司臺北市中正區重慶南路一段分公司"
	c.inv.Remark = strings.Repeat("備註文字", 12)
	if err := c.inv.ValidateIssued(); err != nil {
		t.Fatal(err)
	}
	p, _ := printer.LookupProfile("58mm")
	text := textWidths(t, "long fields", renderCase(t, c, p).Bytes, p.Dots)
	joined := strings.NewReplacer("\n", "", " ", "").Replace(text)
	for _, want := range []string{id, strings.Repeat("備註文字", 12), "好日子雜貨店股份有限公司臺北市中正區重慶南路一段分公司", "會員載具"} {
		if !strings.Contains(joined, want) {
			t.Errorf("%q lost in the wrapping:\n%s", want, text)
		}
	}
}

// TestRenderConcurrently: Render shares only read-only tables (Big5, QR plans),
// so receipts rendered at once are the same as one at a time (run with -race).
func TestRenderConcurrently(t *testing.T) {
	cases := loadCases(t)
	p, _ := printer.LookupProfile("58mm")
	want := make([][]byte, len(cases))
	for i, c := range cases {
		want[i] = renderCase(t, c, p).Bytes
	}
	errs := make(chan error, len(cases))
	for i, c := range cases {
		go func() {
			got, err := printer.Render(c.inv, p, c.opt)
			if err == nil && !bytes.Equal(got, want[i]) {
				err = errors.New(c.name + ": differs when rendered concurrently")
			}
			errs <- err
		}()
	}
	for range cases {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

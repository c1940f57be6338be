package printer_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/draw"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/emulator"
	"github.com/posagent/posagent/printer/escpos"
)

// ptDir holds the Portuguese golden cases: <case>.json is a PTReceipt, and
// <case>.<profile>.bin the job RenderPT makes of it on that profile
// (pending.<profile>.bin: the RenderPTPending slip).
const ptDir = "testdata/pt"

type ptCase struct {
	name string
	r    printer.PTReceipt
}

func loadPTCases(t testing.TB) []ptCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(ptDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var cases []ptCase
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var r printer.PTReceipt
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		r.Logger = slog.New(slog.DiscardHandler)
		cases = append(cases, ptCase{name: strings.TrimSuffix(filepath.Base(file), ".json"), r: r})
	}
	if len(cases) < 5 {
		t.Fatalf("only %d cases in %s", len(cases), ptDir)
	}
	return cases
}

func ptProfiles(t testing.TB) []printer.Profile {
	t.Helper()
	var out []printer.Profile
	for _, name := range printer.PTProfileNames() {
		p, err := printer.LookupPTProfile(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	if len(out) != 4 {
		t.Fatalf("%d Portuguese profiles, want 58 and 80 mm × raster and native", len(out))
	}
	return out
}

// ptCaseNamed is one case of loadPTCases.
func ptCaseNamed(t testing.TB, name string) ptCase {
	t.Helper()
	for _, c := range loadPTCases(t) {
		if c.name == name {
			return c
		}
	}
	t.Fatalf("no case %s in %s", name, ptDir)
	return ptCase{}
}

var pendingAt = time.Date(2026, 12, 4, 14, 5, 9, 0, posagent.Lisbon)

func renderPending(t testing.TB, p printer.Profile) []byte {
	t.Helper()
	job, err := printer.RenderPTPending("POS1-000124", posagent.MustDecimal("12.3"), pendingAt, p)
	if err != nil {
		t.Fatal(err)
	}
	return job
}

// TestPTGoldenReceipts pins every Portuguese case and the pending slip on
// every Portuguese profile (58/80 mm × raster/native QR).
func TestPTGoldenReceipts(t *testing.T) {
	for _, p := range ptProfiles(t) {
		for _, c := range loadPTCases(t) {
			t.Run(c.name+"."+p.Name, func(t *testing.T) {
				got, err := printer.RenderPT(c.r, p)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, ptDir, c.name+"."+p.Name, got)
			})
		}
		t.Run("pending."+p.Name, func(t *testing.T) {
			checkGolden(t, ptDir, "pending."+p.Name, renderPending(t, p))
		})
	}
}

// texts is the decoded text of a job, one string per text run.
func texts(job []byte) []string {
	var out []string
	for _, c := range escpos.Disassemble(job) {
		if c.Name == "TEXT" {
			var s string
			if err := json.Unmarshal([]byte(c.Detail), &s); err == nil {
				out = append(out, s)
			}
		}
	}
	return out
}

// emulate draws a job and requires that the emulator found nothing wrong.
func emulate(t *testing.T, job []byte, p printer.Profile) *image.Gray {
	t.Helper()
	res, err := emulator.Render(job, emulator.Options{Width: p.Dots})
	if err != nil {
		t.Fatal(err)
	}
	for _, prob := range res.Problems {
		t.Errorf("emulator: %s", prob)
	}
	return res.Image
}

// findQR decodes the one QR code on a printed receipt and returns its text
// and its bounding box on the paper.
func findQR(t *testing.T, img *image.Gray) (string, image.Rectangle) {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_TRY_HARDER:    true,
		gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	})
	if err != nil {
		t.Fatalf("decode the QR code on the receipt: %v", err)
	}
	if level := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; level != "M" {
		t.Errorf("QR error correction %v, want M", level)
	}
	// The symbol is alone on its rows: grow from the finder patterns' centres
	// to the white rows of its quiet zone.
	minY, maxY := img.Bounds().Max.Y, 0
	for _, pt := range res.GetResultPoints() {
		minY = min(minY, int(pt.GetY()))
		maxY = max(maxY, int(pt.GetY()))
	}
	white := func(y int) bool {
		return blackBounds(img, image.Rect(0, y, img.Bounds().Dx(), y+1)).Empty()
	}
	for minY > 0 && !white(minY-1) {
		minY--
	}
	for maxY < img.Bounds().Dy()-1 && !white(maxY+1) {
		maxY++
	}
	return res.GetText(), blackBounds(img, image.Rect(0, minY, img.Bounds().Dx(), maxY+1))
}

// TestPTQRScans prints every case on every profile through the emulator,
// decodes the QR code from the picture and gets exactly Doc.QRText back; the
// symbol is square, at least 30 mm (240 dots) wide and within the paper, and
// the stream prints it right after the ATCUD line, natively as model 2 at
// level M (never micro QR) or as a raster.
func TestPTQRScans(t *testing.T) {
	for _, p := range ptProfiles(t) {
		for _, c := range loadPTCases(t) {
			t.Run(c.name+"."+p.Name, func(t *testing.T) {
				out, err := printer.RenderPTReceipt(c.r, p)
				if err != nil {
					t.Fatal(err)
				}
				if out.QR != p.QR {
					t.Errorf("QR printed %s on a %s profile", out.QR, p.QR)
				}
				text, box := findQR(t, emulate(t, out.Bytes, p))
				if text != c.r.Doc.QRText {
					t.Fatalf("QR decodes to %q, want %q", text, c.r.Doc.QRText)
				}
				if box.Dx() < 240 || box.Dx() != box.Dy() || box.Max.X > p.Dots {
					t.Errorf("QR code %v: want a square ≥ 240 dots (30 mm) on %d-dot paper", box, p.Dots)
				}
				checkQRBelowATCUD(t, out.Bytes, c.r.Doc.ATCUD, p)
			})
		}
	}
}

// checkQRBelowATCUD: the command after the "ATCUD:…" line (and the quiet
// feed) is the QR code, natively model 2 level M, or the raster.
func checkQRBelowATCUD(t *testing.T, job []byte, atcud string, p printer.Profile) {
	t.Helper()
	cmds := escpos.Disassemble(job)
	for i, c := range cmds {
		if c.Name != "TEXT" || !strings.Contains(c.Detail, "ATCUD:"+atcud) {
			continue
		}
		var next []escpos.Command
		for _, n := range cmds[i+1:] {
			if n.Name == "LF" || n.Name == "ESC J" || n.Name == "ESC a" {
				continue
			}
			next = append(next, n)
			if len(next) == 4 {
				break
			}
		}
		if p.QR == printer.QRNative {
			if len(next) < 4 || !bytes.Equal(next[0].Raw, []byte("\x1d(k\x04\x001A2\x00")) || !bytes.HasPrefix(next[1].Raw, []byte("\x1d(k\x03\x001C")) ||
				!bytes.Equal(next[2].Raw, []byte("\x1d(k\x03\x001E1")) || !strings.HasPrefix(next[3].Name, "GS ( k 180") {
				t.Fatalf("after the ATCUD line: %v, want GS ( k model 2, module size, level M", next)
			}
			return
		}
		if next[0].Name != "GS v 0" {
			t.Fatalf("after the ATCUD line: %s, want the QR raster", next[0].Name)
		}
		return
	}
	t.Fatalf("no ATCUD:%s line", atcud)
}

// TestPTReceiptContent reads the printed text back: seller, NIF, the type
// label and number, ATCUD, buyer or Consumidor Final, the credit note's
// original, VAT per rate, the total, the certification and the copy mark,
// with the accents in the code page and no '?' the labels made.
func TestPTReceiptContent(t *testing.T) {
	p, err := printer.LookupPTProfile("pt-80mm")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"fr-consumer": {"Pastelaria Açoriana", "NIF: 123456789", "Rua da Conceição 12, 1100-152 Lisboa", "Fatura-Recibo FR 6/G", "Original",
			"Data: 04/12/2026 14:05", "Cliente: Consumidor Final", "Pão de forma", "Água das Pedras 25cl", "  3 x 1,05",
			"  2 x 0,81                         23%      1,62",
			"Taxa             Incidência                  IVA\n6%                     2,50                 0,15\n" +
				"13%                    3,15                 0,41\n23%                    2,82                 0,65",
			"Total sem IVA                               8,47\nTotal IVA                                   1,21\nTotal EUR                                   9,68",
			"ATCUD:JFM3XR7K-6", "Processado por programa certificado n.º 2400/AT"},
		"fs-buyer":  {"Fatura Simplificada FS 118/A", "NIF do cliente: 500000000", "Cliente: Conceição & Irmãos, Lda.", "Data: 04/12/2026"},
		"nc-credit": {"Nota de Crédito NC 3/G", "Referente a: FR 6/G", "Data: 04/12/2026 18:40"},
		"fr-copy":   {"2ª via", "Vale de oferta 5EUR ?", "Bolo-rei (fatia) ? 1ª escolha", "Isenção de IVA: M99"},
		"ft-exempt": {"Fatura FT 21/F", "Cliente: Escola Básica n.º 1 de Óbidos", "Isenção de IVA: M07", "Data: 04/12/2026 09:30", "0%                    12,40                 0,00"},
	}
	for _, c := range loadPTCases(t) {
		out, err := printer.RenderPTReceipt(c.r, p)
		if err != nil {
			t.Fatal(err)
		}
		got := texts(out.Bytes)
		all := strings.Join(got, "\n")
		for _, w := range want[c.name] {
			if !strings.Contains(all, w) {
				t.Errorf("%s: no %q in\n%s", c.name, w, all)
			}
		}
		if strings.Contains(all, "?") != (c.name == "fr-copy") {
			t.Errorf("%s: replaced characters %v in\n%s", c.name, out.Replaced, all)
		}
		if strings.Contains(all, "Original") == c.r.Copy || strings.Contains(all, "2ª via") != c.r.Copy {
			t.Errorf("%s: copy %v, printed %q", c.name, c.r.Copy, all)
		}
	}
}

// TestPTReplacementsReported: what the code page cannot print is a '?'
// reported by field (and € is EUR on PC860, € on PC858).
func TestPTReplacementsReported(t *testing.T) {
	c := ptCaseNamed(t, "fr-copy")
	for _, tc := range []struct {
		profile string
		euro    string
	}{{"pt-58mm", "5EUR"}, {"pt-58mm-native", "5€"}} {
		p, _ := printer.LookupPTProfile(tc.profile)
		out, err := printer.RenderPTReceipt(c.r, p)
		if err != nil {
			t.Fatal(err)
		}
		want := []printer.Replacement{{Field: "doc.lines[0].description", Runes: []rune{'—'}}, {Field: "doc.lines[1].description", Runes: []rune{'🎁'}}}
		if len(out.Replaced) != 2 || out.Replaced[0].Field != want[0].Field || string(out.Replaced[0].Runes) != "—" ||
			out.Replaced[1].Field != want[1].Field || string(out.Replaced[1].Runes) != "🎁" {
			t.Errorf("%s: replaced %+v, want %+v", tc.profile, out.Replaced, want)
		}
		if all := strings.Join(texts(out.Bytes), "\n"); !strings.Contains(all, "Vale de oferta "+tc.euro+" ?") {
			t.Errorf("%s: the voucher line is not %q in\n%s", tc.profile, tc.euro, all)
		}
	}
	// RenderPT logs them.
	var logged bytes.Buffer
	c.r.Logger = slog.New(slog.NewTextHandler(&logged, nil))
	p, _ := printer.LookupPTProfile("pt-58mm")
	if _, err := printer.RenderPT(c.r, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "field=doc.lines[1].description") || !strings.Contains(logged.String(), "document=\"FR 7/G\"") {
		t.Errorf("log: %s", logged.String())
	}
}

// TestPTPendingSlip: the slip says it is not an invoice, names the sale,
// amount and time, and has nothing of a fiscal document.
func TestPTPendingSlip(t *testing.T) {
	for _, p := range ptProfiles(t) {
		job := renderPending(t, p)
		emulate(t, job, p)
		all := strings.Join(texts(job), " ")
		for _, w := range []string{"Este documento", "não serve de", "fatura", "POS1-000124", "12,30 EUR", "04/12/2026 14:05", "A fatura será emitida assim que possível"} {
			if !strings.Contains(all, w) {
				t.Errorf("%s: no %q in %q", p.Name, w, all)
			}
		}
		for _, w := range []string{"ATCUD", "Fatura", "NIF", "IVA", "Recibo"} {
			if strings.Contains(all, w) {
				t.Errorf("%s: the slip says %q: %q", p.Name, w, all)
			}
		}
		for _, c := range escpos.Disassemble(job) {
			if c.Name == "GS ( k" || c.Name == "GS v 0" || c.Name == "?" {
				t.Errorf("%s: the slip has %s", p.Name, c.Name)
			}
		}
	}
	p, _ := printer.LookupPTProfile("")
	for _, tc := range []struct {
		name  string
		sale  string
		total string
		at    time.Time
		field string
	}{
		{"no sale id", " ", "1", pendingAt, "sale_id"},
		{"control in sale id", "POS1\n2", "1", pendingAt, "sale_id"},
		{"no time", "POS1-1", "1", time.Time{}, "at"},
		{"fractions of a cent", "POS1-1", "1.005", pendingAt, "total"},
	} {
		_, err := printer.RenderPTPending(tc.sale, posagent.MustDecimal(tc.total), tc.at, p)
		var perr *posagent.Error
		if !errors.As(err, &perr) || perr.Kind != posagent.KindInvalid || perr.Field != tc.field {
			t.Errorf("%s: %v, want an invalid %s", tc.name, err, tc.field)
		}
	}
	mof, _ := printer.LookupProfile("58mm")
	if _, err := printer.RenderPTPending("POS1-1", posagent.MustDecimal("1"), pendingAt, mof); posagent.ErrorKind(err) != posagent.KindConfig {
		t.Errorf("on a Big5 profile: %v, want a config error", err)
	}
}

func TestPTDocLabel(t *testing.T) {
	for _, tc := range []struct {
		t          posagent.PTDocType
		name, code string
	}{
		{posagent.PTInvoiceReceipt, "Fatura-Recibo", "FR"},
		{posagent.PTSimplifiedInvoice, "Fatura Simplificada", "FS"},
		{posagent.PTInvoice, "Fatura", "FT"},
		{posagent.PTCreditNote, "Nota de Crédito", "NC"},
	} {
		name, code, ok := printer.PTDocLabel(tc.t)
		if !ok || name != tc.name || code != tc.code {
			t.Errorf("PTDocLabel(%s) = %q, %q, %v; want %q, %q", tc.t, name, code, ok, tc.name, tc.code)
		}
		if got := printer.PTDocNumber(posagent.PTDocument{Type: tc.t, SequenceNumber: "6/G"}); got != tc.code+" 6/G" {
			t.Errorf("PTDocNumber(%s) = %q", tc.t, got)
		}
	}
	if _, _, ok := printer.PTDocLabel("debit_notes"); ok {
		t.Error("debit notes have a label")
	}
}

// TestRenderPTRejects: what would make a misleading paper is refused with
// the field named, and a Big5 profile cannot print a Portuguese receipt (nor
// a Portuguese profile a MOF proof).
func TestRenderPTRejects(t *testing.T) {
	base := ptCaseNamed(t, "fr-consumer")
	p, _ := printer.LookupPTProfile("pt-58mm")
	for _, tc := range []struct {
		name   string
		mutate func(r *printer.PTReceipt)
		kind   posagent.Kind
		field  string
	}{
		{"draft", func(r *printer.PTReceipt) { r.Doc.State = "draft" }, posagent.KindInvalid, "doc.state"},
		{"canceled", func(r *printer.PTReceipt) { r.Doc.State = "canceled" }, posagent.KindInvalid, "doc.state"},
		{"unknown type", func(r *printer.PTReceipt) { r.Doc.Type = "debit_notes" }, posagent.KindInvalid, "doc.type"},
		{"no number", func(r *printer.PTReceipt) { r.Doc.SequenceNumber = "" }, posagent.KindInvalid, "doc.sequence_number"},
		{"no ATCUD", func(r *printer.PTReceipt) { r.Doc.ATCUD = " " }, posagent.KindInvalid, "doc.atcud"},
		{"no date", func(r *printer.PTReceipt) { r.Doc.Date = time.Time{} }, posagent.KindInvalid, "doc.date"},
		{"no lines", func(r *printer.PTReceipt) { r.Doc.Lines = nil }, posagent.KindInvalid, "doc.lines"},
		{"no QR text", func(r *printer.PTReceipt) { r.Doc.QRText = "" }, posagent.KindInvalid, "doc.qr_text"},
		{"QR text not ASCII", func(r *printer.PTReceipt) { r.Doc.QRText += "*S:Café" }, posagent.KindInvalid, "doc.qr_text"},
		{"QR text too long", func(r *printer.PTReceipt) { r.Doc.QRText += "*S:" + strings.Repeat("x", 200) }, posagent.KindInvalid, "doc.qr_text"},
		{"bad buyer NIF", func(r *printer.PTReceipt) { r.Doc.BuyerNIF = "123456780" }, posagent.KindInvalid, "doc.buyer_nif"},
		{"credit note without original", func(r *printer.PTReceipt) { r.Doc.Type = posagent.PTCreditNote }, posagent.KindInvalid, "original"},
		{"net not the lines", func(r *printer.PTReceipt) { r.Doc.Net = posagent.MustDecimal("8.48") }, posagent.KindInvalid, "doc.net"},
		{"total not net + VAT", func(r *printer.PTReceipt) { r.Doc.Total = posagent.MustDecimal("9.69") }, posagent.KindInvalid, "doc.total"},
		{"fractions of a cent", func(r *printer.PTReceipt) { r.Doc.Lines[0].Net = posagent.MustDecimal("1.625") }, posagent.KindInvalid, "doc.lines[0].net"},
		{"rate over 100", func(r *printer.PTReceipt) { r.Doc.Lines[0].VATRate = posagent.MustDecimal("123") }, posagent.KindInvalid, "doc.lines[0].vat_rate"},
		{"bad seller NIF", func(r *printer.PTReceipt) { r.Seller.NIF = "123456780" }, posagent.KindConfig, ""},
		{"no seller name", func(r *printer.PTReceipt) { r.Seller.Name = "" }, posagent.KindConfig, ""},
		{"no certification", func(r *printer.PTReceipt) { r.Certification = "" }, posagent.KindConfig, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base.r
			r.Doc.Lines = append([]posagent.PTLine(nil), base.r.Doc.Lines...)
			tc.mutate(&r)
			job, err := printer.RenderPT(r, p)
			var perr *posagent.Error
			if !errors.As(err, &perr) || perr.Kind != tc.kind || perr.Field != tc.field {
				t.Fatalf("err = %v, want %s %q", err, tc.kind, tc.field)
			}
			if job != nil {
				t.Error("a job came back with the error")
			}
		})
	}
	mof, _ := printer.LookupProfile("80mm")
	if _, err := printer.RenderPT(base.r, mof); posagent.ErrorKind(err) != posagent.KindConfig {
		t.Errorf("on a Big5 profile: %v, want a config error", err)
	}
	for _, c := range loadCases(t) {
		if _, err := printer.RenderReceipt(c.inv, p, c.opt); posagent.ErrorKind(err) != posagent.KindConfig {
			t.Errorf("MOF proof on %s: %v, want a config error", p.Name, err)
		}
		break
	}
}

// TestPTVATPerRateOnlyWhenItAddsUp: when the VAT computed per rate does not
// add up to the issuer's VAT, the summary leaves the per-rate VAT out rather
// than contradict the total, and still prints the bases and the issuer's totals.
func TestPTVATPerRateOnlyWhenItAddsUp(t *testing.T) {
	c := ptCaseNamed(t, "fr-consumer")
	c.r.Doc.VAT = posagent.MustDecimal("1.22") // the rates give 1.21
	c.r.Doc.Total = posagent.MustDecimal("9.69")
	p, _ := printer.LookupPTProfile("pt-80mm")
	job, err := printer.RenderPT(c.r, p)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(texts(job), "\n")
	for _, w := range []string{"23%                    2,82\n", "Total IVA                                   1,22", "Total EUR                                   9,69"} {
		if !strings.Contains(all, w) {
			t.Errorf("no %q in\n%s", w, all)
		}
	}
	if strings.Contains(all, "0,65") {
		t.Errorf("per-rate VAT printed although it does not add up:\n%s", all)
	}
}

// TestPTNativeFallsBackToRaster: a text whose symbol a printer might draw at
// sizes that cannot all be ≥ 30 mm and fit the paper is drawn on the host.
func TestPTNativeFallsBackToRaster(t *testing.T) {
	c := ptCaseNamed(t, "fr-consumer")
	// Digits go numeric on a good encoder (a small symbol, needing big
	// modules) and bytes on a simple one (a large symbol): no module suits both.
	c.r.Doc.QRText = "A:" + strings.Repeat("1234567890", 24)
	p, _ := printer.LookupPTProfile("pt-58mm-native")
	out, err := printer.RenderPTReceipt(c.r, p)
	if err != nil {
		t.Fatal(err)
	}
	if out.QR != printer.QRRaster {
		t.Fatalf("QR printed %s, want the raster fallback", out.QR)
	}
	text, box := findQR(t, emulate(t, out.Bytes, p))
	if text != c.r.Doc.QRText || box.Dx() < 240 {
		t.Fatalf("decoded %q in %v", text, box)
	}
	for _, cmd := range escpos.Disassemble(out.Bytes) {
		if cmd.Name == "GS ( k" {
			t.Fatal("native QR commands sent with the raster fallback")
		}
	}
}

func TestLookupPTProfile(t *testing.T) {
	for _, p := range ptProfiles(t) {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
		if _, err := printer.LookupProfile(p.Name); err == nil {
			t.Errorf("%s is a MOF profile too", p.Name)
		}
	}
	if p, err := printer.LookupPTProfile(""); err != nil || p.Name != printer.DefaultPTProfile {
		t.Errorf(`LookupPTProfile("") = %q, %v`, p.Name, err)
	}
	if _, err := printer.LookupPTProfile("58mm"); posagent.ErrorKind(err) != posagent.KindConfig || !strings.Contains(err.Error(), "pt-80mm-native") {
		t.Errorf("a MOF profile as Portuguese: %v", err)
	}
	base, _ := printer.LookupPTProfile("pt-58mm")
	for name, mutate := range map[string]func(p *printer.Profile){
		"PC437":               func(p *printer.Profile) { p.CodeTable = 0 },
		"page QR":             func(p *printer.Profile) { p.QR = printer.QRPage; p.PageMode, p.NativeQR = true, true },
		"native without GS(k": func(p *printer.Profile) { p.QR = printer.QRNative },
		"version 12":          func(p *printer.Profile) { p.MaxQRVersion = 12 },
		"unknown code page":   func(p *printer.Profile) { p.Encoding = "cp1253" },
		"tiny buffer":         func(p *printer.Profile) { p.BufferSize = 100 },
		"cutter":              func(p *printer.Profile) { p.Cutter = "laser" },
		"narrow paper":        func(p *printer.Profile) { p.Dots = 200 },
		"native QR on the MOF": func(p *printer.Profile) {
			p.Encoding = printer.Big5
			p.CodeTable = 0
			p.QR = printer.QRNative
			p.NativeQR = true
		},
	} {
		p := base
		mutate(&p)
		if err := p.Validate(); posagent.ErrorKind(err) != posagent.KindConfig {
			t.Errorf("%s: Validate() = %v, want a config error", name, err)
		}
	}
}

// TestPreviewPNG: the preview of a Portuguese receipt is a picture of the
// paper's width, with nothing wrong in the stream, whose QR code scans.
func TestPreviewPNG(t *testing.T) {
	c := loadPTCases(t)[0]
	for _, p := range ptProfiles(t) {
		job, err := printer.RenderPT(c.r, p)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		problems, err := printer.PreviewPNG(&buf, job, p)
		if err != nil || len(problems) > 0 {
			t.Fatalf("%s: %v %v", p.Name, problems, err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatal(err)
		}
		gray := image.NewGray(img.Bounds())
		draw.Draw(gray, gray.Bounds(), img, image.Point{}, draw.Src)
		if gray.Bounds().Dx() != p.Dots {
			t.Errorf("%s: picture %d dots wide", p.Name, gray.Bounds().Dx())
		}
		if text, _ := findQR(t, gray); text != c.r.Doc.QRText {
			t.Errorf("%s: the preview's QR reads %q", p.Name, text)
		}
	}
	// A stream with a command the printer lacks: reported, picture still drawn.
	p, _ := printer.LookupPTProfile("")
	var buf bytes.Buffer
	problems, err := printer.PreviewPNG(&buf, []byte("\x1b\x01A\n"), p)
	if err != nil || len(problems) != 1 || buf.Len() == 0 {
		t.Errorf("problems %q, err %v, %d bytes", problems, err, buf.Len())
	}
}

// TestPTProfilesNeverSendWhatTheyCannot: a Portuguese job never enters Kanji
// or page mode, sends GS ( k only on a native-QR profile, cuts only with a
// cutter, selects the profile's code table, and every byte disassembles.
func TestPTProfilesNeverSendWhatTheyCannot(t *testing.T) {
	for _, p := range ptProfiles(t) {
		jobs := map[string][]byte{"pending": renderPending(t, p)}
		for _, c := range loadPTCases(t) {
			job, err := printer.RenderPT(c.r, p)
			if err != nil {
				t.Fatal(err)
			}
			jobs[c.name] = job
		}
		for name, job := range jobs {
			fail := func(cmd escpos.Command, why string) {
				t.Errorf("%s on %s: %s at %#x: %s %s", name, p.Name, why, cmd.Offset, cmd.Name, cmd.Detail)
			}
			tables := 0
			for _, cmd := range escpos.Disassemble(job) {
				switch {
				case cmd.Name == "?":
					fail(cmd, "unknown bytes")
				case cmd.Name == "FS &" || cmd.Name == "FS .":
					fail(cmd, "Kanji mode on a code-page printer")
				case cmd.Name == "ESC L" || cmd.Name == "FF" || cmd.Name == "ESC W":
					fail(cmd, "page mode")
				case strings.HasPrefix(cmd.Name, "GS ( k") && p.QR != printer.QRNative:
					fail(cmd, "native QR on a raster profile")
				case strings.HasPrefix(cmd.Name, "GS V") && p.Cutter == printer.CutterNone:
					fail(cmd, "cut without a cutter")
				case cmd.Name == "ESC t":
					tables++
					if cmd.Raw[2] != p.CodeTable {
						fail(cmd, "another code table than the profile's")
					}
				case cmd.Name == "GS v 0" && len(cmd.Raw) > p.BufferSize/2+8:
					fail(cmd, "a raster over half the buffer")
				}
			}
			if tables != 1 {
				t.Errorf("%s on %s: %d ESC t, want the one after ESC @", name, p.Name, tables)
			}
		}
	}
}

// TestPTLongFieldsWrap: long names, addresses and descriptions wrap within
// the paper and lose nothing.
func TestPTLongFieldsWrap(t *testing.T) {
	c := loadPTCases(t)[0]
	c.r.Seller.Name = "Pastelaria e Confeitaria Açoriana do Largo da Graça, Lda."
	c.r.Seller.Address = "Travessa da Conceição da Glória 12, 3.º Esquerdo, 1100-152 Lisboa, Portugal"
	c.r.Doc.Lines = append([]posagent.PTLine(nil), c.r.Doc.Lines...)
	c.r.Doc.Lines[0].Description = "Café expresso duplo com leite de aveia e canela em pó (chávena grande)"
	c.r.Doc.Lines[0].Quantity = posagent.MustDecimal("12345.5")
	c.r.Doc.Lines[0].UnitPrice = posagent.MustDecimal("1234.5678")
	for _, p := range ptProfiles(t) {
		// The line's Net no longer matches: keep the document consistent.
		r := c.r
		job, err := printer.RenderPT(fixTotals(t, r), p)
		if err != nil {
			t.Fatal(err)
		}
		var text strings.Builder
		width := 1
		for _, cmd := range escpos.Disassemble(job) {
			switch cmd.Name {
			case "GS !":
				width = int(cmd.Raw[2]>>4) + 1
			case "TEXT":
				var s string
				if err := json.Unmarshal([]byte(cmd.Detail), &s); err != nil {
					t.Fatal(err)
				}
				if w := len([]rune(s)) * 12 * width; w > p.Dots {
					t.Errorf("%s: %q is %d dots wide on %d-dot paper", p.Name, s, w, p.Dots)
				}
				text.WriteString(s + " ")
			}
		}
		joined := strings.Join(strings.Fields(text.String()), " ")
		for _, want := range []string{c.r.Seller.Name, c.r.Seller.Address, c.r.Doc.Lines[0].Description, "12345,5 x 1234,5678"} {
			if !strings.Contains(joined, want) {
				t.Errorf("%s: %q lost in the wrapping:\n%s", p.Name, want, joined)
			}
		}
	}
}

// fixTotals recomputes the line nets (quantity × unit price, to the cent)
// and the document's totals the way the golden cases were made.
func fixTotals(t *testing.T, r printer.PTReceipt) printer.PTReceipt {
	t.Helper()
	r.Doc.Lines = append([]posagent.PTLine(nil), r.Doc.Lines...)
	net, vat := posagent.MustDecimal("0"), posagent.MustDecimal("0")
	base := map[string]posagent.Decimal{}
	for i, l := range r.Doc.Lines {
		r.Doc.Lines[i].Net = roundCents(t, l.Quantity.Mul(l.UnitPrice))
		net = net.Add(r.Doc.Lines[i].Net)
		b, ok := base[l.VATRate.String()]
		if !ok {
			b = posagent.MustDecimal("0")
		}
		base[l.VATRate.String()] = b.Add(r.Doc.Lines[i].Net)
	}
	for rate, b := range base {
		vat = vat.Add(roundCents(t, b.Mul(posagent.MustDecimal(rate)).Mul(posagent.MustDecimal("0.01"))))
	}
	r.Doc.Net, r.Doc.VAT, r.Doc.Total = net, vat, net.Add(vat)
	return r
}

// roundCents rounds a non-negative decimal half up to the cent, in text.
func roundCents(t *testing.T, d posagent.Decimal) posagent.Decimal {
	t.Helper()
	whole, frac, _ := strings.Cut(d.String(), ".")
	frac += "000"
	cents := posagent.MustDecimal(whole + "." + frac[:2])
	if frac[2] >= '5' {
		cents = cents.Add(posagent.MustDecimal("0.01"))
	}
	return cents
}

// TestPTVATPerLineRounding: an issuer that rounds each line's VAT (0.81 at
// 23 % is 0.19, twice 0.38, where the rate's base gives 0.37) still gets its
// VAT per rate printed, as the sum of its lines.
func TestPTVATPerLineRounding(t *testing.T) {
	c := ptCaseNamed(t, "nc-credit")
	c.r.Doc.Lines = append(c.r.Doc.Lines, c.r.Doc.Lines[0])
	c.r.Doc.Net, c.r.Doc.VAT, c.r.Doc.Total = posagent.MustDecimal("1.62"), posagent.MustDecimal("0.38"), posagent.MustDecimal("2")
	p, _ := printer.LookupPTProfile("pt-80mm")
	job, err := printer.RenderPT(c.r, p)
	if err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(texts(job), "\n"); !strings.Contains(all, "23%                    1,62                 0,38") {
		t.Errorf("VAT per rate not the lines' sum:\n%s", all)
	}
	c.r.Doc.VAT, c.r.Doc.Total = posagent.MustDecimal("0.37"), posagent.MustDecimal("1.99")
	job, err = printer.RenderPT(c.r, p)
	if err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(texts(job), "\n"); !strings.Contains(all, "23%                    1,62                 0,37") {
		t.Errorf("VAT per rate not on the rate's base:\n%s", all)
	}
}

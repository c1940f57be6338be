// Package printer turns an issued invoice into the ESC/POS job that prints its
// MOF proof (電子發票證明聯) and details on a receipt printer described by a
// Profile. The commands themselves come from printer/escpos.
package printer

import (
	"bytes"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer/escpos"
	"github.com/posagent/posagent/qr"
)

// RenderOptions are what a receipt needs beyond the invoice and the printer.
type RenderOptions struct {
	// Key is the shop's QR AES key (for the verification field of the left QR).
	Key qr.Key
	// QR sets the QR text encoding and field 9; nil means qr.DefaultOptions()
	// (UTF-8). MaxVersion and PadRight are the profile's.
	QR *qr.Options
	// Reprint prints 補印 in the title: every print after the first original.
	Reprint bool
	// Details prints the 交易明細 for a consumer too; it is always printed for
	// a business buyer and for an invoice kept in a carrier or donated (where it
	// is all there is to print).
	Details bool
	// Logo replaces the seller's name at the top: a 1-bit image at most the
	// profile's width and MaxLogoHeight rows.
	Logo *escpos.Bitmap
	// Footer lines are printed centred at the end (wrapped to the paper).
	Footer []string
	// Logger receives, from Render, a warning for each text field that had
	// characters the printer cannot print. Nil: slog.Default().
	Logger *slog.Logger
}

// MaxLogoHeight is the tallest logo in dots (16 mm): the proof, logo
// included, must stay within its 9 cm.
const MaxLogoHeight = 128

// Replacement reports characters of one text field that were printed as ？.
type Replacement struct {
	Field string // "seller.name", "items[2].name", "footer[0]", …
	Runes []rune
}

// Receipt is a rendered print job and what went into it.
type Receipt struct {
	Bytes []byte
	// Proof says whether the 電子發票證明聯 is part of it; an invoice kept in a
	// carrier or donated gets the details slip only.
	Proof bool
	// Codes are the barcode and QR texts printed (zero without a proof).
	Codes qr.Codes
	// QR is how the QR codes were printed: the profile's mode, except that a
	// page-mode profile falls back to the raster band for codes the printer
	// cannot be trusted to draw at one version (qr.Codes.NativeSafe). Empty
	// without a proof.
	QR QRMode
	// Replaced lists the characters printed as ？, by field. The QR codes still
	// carry the original text.
	Replaced []Replacement
}

// LogReplacements writes one warning per field with replaced characters.
func (r Receipt) LogReplacements(log *slog.Logger, number posagent.InvoiceNumber) {
	if log == nil {
		log = slog.Default()
	}
	for _, rep := range r.Replaced {
		log.Warn("printer: characters outside classic Big5 printed as ？",
			"invoice", string(number), "field", rep.Field, "characters", string(rep.Runes))
	}
}

// Render returns the ESC/POS job for an invoice on a printer: the MOF proof
// (電子發票證明聯) when the invoice is printed, the details when they are due,
// then the cut. Characters the printer cannot print are logged to
// opt.Logger; RenderReceipt returns them instead.
func Render(inv posagent.Invoice, p Profile, opt RenderOptions) ([]byte, error) {
	r, err := RenderReceipt(inv, p, opt)
	if err != nil {
		return nil, err
	}
	r.LogReplacements(opt.Logger, inv.Number)
	return r.Bytes, nil
}

// Line heights: a 24-dot line with 6 dots between lines, and a double-height
// (48-dot) line with 8.
const (
	normalLine = fontHeight + 6
	bigLine    = 2*fontHeight + 8
	// proofCols is the width of the proof's text block in Font A columns: the
	// 48 mm (384-dot) print area of 57 mm paper.
	proofCols = 32
	// proofHeight is the proof section's length: 9 cm.
	proofHeight = 720
)

// RenderReceipt is Render returning the replaced characters and the QR texts.
func RenderReceipt(inv posagent.Invoice, p Profile, opt RenderOptions) (Receipt, error) {
	if err := p.Validate(); err != nil {
		return Receipt{}, err
	}
	if p.Encoding != Big5 {
		return Receipt{}, posagent.Errorf(posagent.KindConfig, "printer profile %q prints %s: the MOF proof needs a Big5 printer", p.Name, p.Encoding)
	}
	if err := inv.ValidateIssued(); err != nil {
		return Receipt{}, fmt.Errorf("render invoice: %w", err)
	}
	if opt.Reprint && !inv.Print {
		return Receipt{}, posagent.Invalid("reprint", "invoice %s is kept in a carrier or donated: it has no proof to reprint", inv.Number)
	}
	if inv.Print && opt.Key.IsZero() {
		// An all-zero key makes QR codes whose verification field no reader accepts.
		return Receipt{}, posagent.Errorf(posagent.KindConfig, "no QR AES key configured: the proof's QR codes need the shop's key")
	}
	if logo := opt.Logo; logo != nil {
		switch {
		case logo.Width < 1 || logo.Height < 1 || logo.Stride != (logo.Width+7)/8 || len(logo.Bits) != logo.Stride*logo.Height:
			return Receipt{}, posagent.Errorf(posagent.KindConfig, "logo: not a well-formed %d×%d bitmap", logo.Width, logo.Height)
		case logo.Width > p.Dots || logo.Height > MaxLogoHeight:
			return Receipt{}, posagent.Errorf(posagent.KindConfig, "logo of %d×%d dots: at most %d×%d for printer profile %q",
				logo.Width, logo.Height, p.Dots, MaxLogoHeight, p.Name)
		}
	}
	r := &renderer{job: newJob(p, 6144), inv: &inv, opt: &opt}

	var receipt Receipt
	if inv.Print {
		qopt := qr.DefaultOptions()
		if opt.QR != nil {
			qopt = *opt.QR
		}
		// Both are properties of the printer, not of the shop's configuration.
		qopt.MaxVersion = p.MaxQRVersion
		qopt.PadRight = p.QR == QRPage
		codes, err := qr.Encode(inv, opt.Key, qopt)
		if err != nil {
			return Receipt{}, fmt.Errorf("render invoice %s: QR codes: %w", inv.Number, err)
		}
		r.qrMode = p.QR
		if p.QR == QRPage && !codes.NativeSafe() {
			// The printer would pick the versions itself, and some encoder
			// would draw the left below version 6 or the two at different
			// sizes (which one the firmware has is [U]): the host draws them,
			// unpadded, exactly as the raster profiles do.
			r.qrMode = QRRaster
			qopt.PadRight = false
			if codes, err = qr.Encode(inv, opt.Key, qopt); err != nil {
				return Receipt{}, fmt.Errorf("render invoice %s: QR codes: %w", inv.Number, err)
			}
		}
		if err := r.proof(codes); err != nil {
			return Receipt{}, fmt.Errorf("render invoice %s: %w", inv.Number, err)
		}
		receipt.Proof, receipt.Codes, receipt.QR = true, codes, r.qrMode
	} else {
		r.header()
	}
	if !inv.Print || inv.Buyer.IsBusiness() || opt.Details {
		if err := r.details(); err != nil {
			return Receipt{}, fmt.Errorf("render invoice %s: %w", inv.Number, err)
		}
	}
	r.footer()
	r.finish()
	receipt.Bytes, receipt.Replaced = r.b.Bytes(), r.replaced
	return receipt, nil
}

// renderer lays out the MOF proof and details of one invoice.
type renderer struct {
	job
	inv    *posagent.Invoice
	opt    *RenderOptions
	qrMode QRMode // how this receipt's QR codes are printed
}

// job is a print job being built for a profile, whatever the receipt: the
// printer's modes as last set, so that each is sent only when it changes (ESC
// @ leaves size 1×1, bold off, flush left), and the text layout of the
// profile's encoding.
type job struct {
	b        escpos.Builder
	p        Profile
	replaced []Replacement
	y        int // dots printed since the start of the proof
	width    int
	height   int
	spacing  int
	// alignment and emphasis as last sent.
	alignment escpos.Align
	emphasis  bool
}

// newJob starts a job: ESC @, the character table of the profile's encoding
// (Kanji mode for Big5, ESC t for a code page) and the normal line spacing.
func newJob(p Profile, capacity int) job {
	j := job{p: p, width: 1, height: 1, alignment: escpos.AlignLeft}
	j.b = *escpos.NewBuilder(make([]byte, 0, capacity))
	j.b.Initialize()
	if p.Encoding == Big5 {
		j.b.CodeTable(0)
		j.b.KanjiOn()
	} else {
		j.b.CodeTable(p.CodeTable)
	}
	j.lineSpacing(normalLine)
	return j
}

// columns is the width of printer text in Font A columns.
func (r *job) columns(p []byte) int {
	if r.p.Encoding == Big5 {
		return escpos.Columns(p)
	}
	return len(p)
}

// wrap splits printer text into lines of at most cols columns.
func (r *job) wrap(p []byte, cols int) [][]byte {
	if r.p.Encoding == Big5 {
		return escpos.Wrap(p, cols)
	}
	return escpos.WrapSingle(p, cols)
}

func (r *job) size(w, h int) {
	if w != r.width || h != r.height {
		r.b.Size(w, h)
		r.width, r.height = w, h
	}
}

func (r *job) lineSpacing(dots int) {
	if dots != r.spacing {
		r.b.LineSpacing(dots)
		r.spacing = dots
	}
}

func (r *job) align(a escpos.Align) {
	if a != r.alignment {
		r.b.Align(a)
		r.alignment = a
	}
}

func (r *job) bold(on bool) {
	if on != r.emphasis {
		r.b.Bold(on)
		r.emphasis = on
	}
}

// encode turns a field's text into printer text, noting what it replaced.
func (r *renderer) encode(field, s string) []byte {
	enc, rep := escpos.AppendBig5(nil, s)
	if len(rep) > 0 {
		r.replaced = append(r.replaced, Replacement{Field: field, Runes: rep})
	}
	return enc
}

// emit appends printer text from encode or Wrap and ends the line.
func (r *job) emit(p []byte) {
	// p comes from AppendBig5 (possibly cut by Wrap), which writes only
	// printable ASCII and whole safe pairs: Raw cannot send a stray byte here.
	r.b.Raw(p...)
	r.b.LineFeed()
	r.y += r.spacing
}

// fixed is encode for text the renderer makes itself from digits, letters and
// its own Chinese labels; nothing in it can need replacing.
func fixed(s string) []byte {
	enc, _ := escpos.AppendBig5(nil, s)
	return enc
}

// spread puts left at the start and right at column at (or, when left is too
// long, one space after it), padded to width columns when pad is set.
func (r *job) spread(left []byte, at int, right []byte, width int, pad bool) []byte {
	out := append([]byte(nil), left...)
	gap := at - r.columns(left)
	if gap < 1 {
		gap = 1
	}
	out = append(out, bytes.Repeat([]byte{' '}, gap)...)
	out = append(out, right...)
	return r.padTo(out, width, pad)
}

// padTo fills p with spaces to width columns when pad is set, so that centred
// lines of a block keep their left edges aligned.
func (r *job) padTo(p []byte, width int, pad bool) []byte {
	if n := width - r.columns(p); pad && n > 0 {
		p = append(p, bytes.Repeat([]byte{' '}, n)...)
	}
	return p
}

// rightAlign puts right flush with column width after left. When both do
// not fit on one line, left gets a line of its own and right (wrapped if it is
// longer than a line) follows flush right.
func (r *job) rightAlign(left, right []byte, width int) [][]byte {
	gap := width - r.columns(left) - r.columns(right)
	if gap >= 1 {
		line := append(append(append([]byte(nil), left...), bytes.Repeat([]byte{' '}, gap)...), right...)
		return [][]byte{line}
	}
	lines := [][]byte{left}
	for _, part := range r.wrap(right, width) {
		pad := bytes.Repeat([]byte{' '}, width-r.columns(part))
		lines = append(lines, append(pad, part...))
	}
	return lines
}

// emitAll emits lines one after the other.
func (r *job) emitAll(lines [][]byte) {
	for _, line := range lines {
		r.emit(line)
	}
}

// raster sends a bitmap in commands of at most half the printer's buffer.
func (r *job) raster(m *escpos.Bitmap, mode escpos.RasterMode) error {
	rows := max(1, min(r.p.BufferSize/2/m.Stride, escpos.MaxRasterRows))
	_, sy := mode.Scale()
	for y := 0; y < m.Height; y += rows {
		part := m.Rows(y, min(y+rows, m.Height))
		if err := r.b.Raster(part, mode); err != nil {
			return err
		}
	}
	r.y += m.Height * sy
	return nil
}

// feed advances the paper by dots motion units.
func (r *job) feed(dots int) {
	r.y += dots
	for dots > 0 {
		n := min(dots, 255)
		r.b.FeedDots(n)
		dots -= n
	}
}

// sellerName prints the seller's name centred (bigName).
func (r *renderer) sellerName() {
	r.bigName(r.encode("seller.name", r.inv.Seller.Name))
}

// bigName prints a name (printer text) centred: double size when it fits on
// one line, else double height wrapped.
func (r *job) bigName(name []byte) {
	width := r.columns(name) * fontWidth
	r.lineSpacing(bigLine)
	if 2*width <= r.p.Dots {
		r.size(2, 2)
		r.emit(name)
	} else {
		r.size(1, 2)
		for _, line := range r.wrap(name, r.p.Columns()) {
			r.emit(line)
		}
	}
}

// header tops a slip without a proof: logo or name, the title, the number
// and the date.
func (r *renderer) header() {
	r.align(escpos.AlignCenter)
	r.logoOrName()
}

func (r *renderer) logoOrName() {
	if r.opt.Logo != nil {
		// Checked in RenderReceipt: it fits the width and the raster limits.
		_ = r.raster(r.opt.Logo, escpos.RasterNormal)
		r.feed(8)
		return
	}
	r.sellerName()
}

// proof draws the 電子發票證明聯 in the MOF order (mof-einvoice.md §2.2).
func (r *renderer) proof(codes qr.Codes) error {
	inv, p := r.inv, r.p
	r.align(escpos.AlignCenter)
	r.logoOrName()

	// Title, period and number at least 5 mm (40 dots) tall: double height.
	title := "電子發票證明聯"
	if r.opt.Reprint {
		title += "補印"
	}
	r.lineSpacing(bigLine)
	if 2*escpos.ColumnsOf(title)*fontWidth <= p.Dots {
		r.size(2, 2)
	} else {
		// 電子發票證明聯補印 at double width is 432 dots: keep the height only.
		r.size(1, 2)
	}
	r.emit(fixed(title))
	r.size(2, 2)
	r.bold(true)
	r.emit(fixed(inv.Period().Label()))
	r.emit(fixed(inv.Number.Printed()))
	r.bold(false)
	r.size(1, 1)
	r.lineSpacing(normalLine)

	// Lines 5–7 as one 32-column block: flush left on 58 mm paper, centred on
	// wider paper.
	pad := p.Dots > proofCols*fontWidth
	if !pad {
		r.align(escpos.AlignLeft)
	}
	half := proofCols / 2
	when := inv.IssuedAt.In(posagent.Taipei).Format("2006-01-02 15:04:05")
	if inv.Buyer.IsBusiness() {
		when += "  格式 25"
	}
	r.emit(r.padTo(fixed(when), proofCols, pad))
	r.emit(r.spread(fixed("隨機碼 "+inv.RandomCode), half, fixed("總計 "+strconv.FormatInt(inv.Total, 10)), proofCols, pad))
	seller := fixed("賣方 " + inv.Seller.TaxID)
	if inv.Buyer.IsBusiness() {
		r.emit(r.spread(seller, half, fixed("買方 "+inv.Buyer.TaxID), proofCols, pad))
	} else {
		r.emit(r.padTo(seller, proofCols, pad))
	}
	r.align(escpos.AlignCenter)
	r.feed(8)

	if err := r.barcode(codes.Barcode); err != nil {
		return err
	}
	r.feed(qrQuietDots)
	if err := r.qrCodes(codes); err != nil {
		return err
	}
	// The quiet zone under the codes (for page mode, inside the page), and on
	// to the proof's 9 cm.
	if r.qrMode == QRPage {
		r.feed(max(0, proofHeight-r.y))
	} else {
		r.feed(max(qrQuietDots, proofHeight-r.y))
	}
	return nil
}

// barcode prints the 19-character Code 39 (mof-einvoice.md §3).
func (r *renderer) barcode(text string) error {
	if r.p.Code39 == Code39Native {
		r.b.BarcodeHeight(code39Height)
		r.b.BarcodeModule(code39Narrow)
		r.b.BarcodeHRI(escpos.HRINone)
		if err := r.b.Code39(text); err != nil {
			return fmt.Errorf("barcode: %w", err)
		}
		r.y += code39Height
		return nil
	}
	row, err := code39Row(text)
	if err != nil {
		return fmt.Errorf("barcode: %w", err)
	}
	if r.p.RasterScaling {
		return r.raster(repeatRows(row, code39Height/2), escpos.RasterDoubleHeight)
	}
	return r.raster(repeatRows(row, code39Height), escpos.RasterNormal)
}

// qrCodes prints the two QR codes side by side, top-aligned, at one version.
func (r *renderer) qrCodes(codes qr.Codes) error {
	module, err := r.p.qrModule(codes.Version)
	if err != nil {
		return err
	}
	if r.qrMode == QRPage {
		r.pageQR(codes, module)
		return nil
	}
	left, err := encodeQR(codes.LeftBytes(), codes.Version)
	if err != nil {
		return fmt.Errorf("left QR: %w", err)
	}
	right, err := encodeQR(codes.RightBytes(), codes.Version)
	if err != nil {
		return fmt.Errorf("right QR: %w", err)
	}
	if module%2 == 0 && r.p.RasterScaling {
		// Half the dots, printed double width and height: a quarter of the bytes.
		return r.raster(qrBand(module/2, qrQuietDots/2, left, right), escpos.RasterQuadruple)
	}
	return r.raster(qrBand(module, qrQuietDots, left, right), escpos.RasterNormal)
}

// pageQR places the two native symbols in page mode. The printer chooses the
// version from the data; the right text is padded (qr.Options.PadRight) so
// that it chooses the left's, and RenderReceipt comes here only when every
// encoder model agrees on that version for both (qr.Codes.NativeSafe).
func (r *renderer) pageQR(codes qr.Codes, module int) {
	b := &r.b
	size := (17 + 4*codes.Version) * module
	free := r.p.Dots - 2*size
	gap := free / 3
	x := (free - gap) / 2
	b.PageMode()
	// The area reaches 16 dots below the symbols: their quiet zone, and a
	// baseline (GS $) well inside the area on every reading of its bounds.
	b.PageArea(0, 0, r.p.Dots, size+qrQuietDots)
	b.PageDirection(0)
	b.QRModel()
	b.QRModuleSize(module)
	b.QRErrorLevel(escpos.QRLevelL)
	for _, data := range [2][]byte{codes.LeftBytes(), codes.RightBytes()} {
		b.AbsoluteX(x)
		b.AbsoluteY(size)   // the symbol's lower-left corner sits on this baseline
		_ = b.QRStore(data) // qr keeps both texts far below MaxQRData
		b.QRPrint()
		x += size + gap
	}
	b.PrintPage()
	r.y += size + qrQuietDots
}

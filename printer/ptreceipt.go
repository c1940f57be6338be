package printer

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer/escpos"
)

// PTReceipt is a Portuguese fiscal document as the till prints it. Every
// figure comes from Doc, the document InvoiceXpress finalized (its totals are
// the legal ones), never from the sale. Its JSON is what "posagent
// pt-receipt" reads (printer/testdata/pt holds examples).
type PTReceipt struct {
	// Doc is final (or settled), with its sequence number, ATCUD, lines, VAT
	// rates, totals and the AT QR text.
	Doc    posagent.PTDocument `json:"doc"`
	Seller posagent.PTSeller   `json:"seller"`
	// Certification is the software certification line ("Processado por
	// programa certificado n.º …/AT"), printed as given: the certified
	// program is InvoiceXpress, whose number the API does not give, so it is
	// configured.
	Certification string `json:"certification"`
	// Copy marks a reprint "2ª via" instead of "Original".
	Copy bool `json:"copy,omitempty"`
	// Original names the document a credit note corrects ("FR 5/G", see
	// PTDocNumber): required for a credit note, ignored otherwise.
	Original string `json:"original,omitempty"`
	// Time is when the sale was made; it is printed after the date when it
	// falls on the document's date (Lisbon). Zero: the date alone, unless
	// Doc.Date itself carries a time of day.
	Time time.Time `json:"time,omitzero"`
	// Logger receives from RenderPT a warning for each text field that had
	// characters the printer cannot print. Nil: slog.Default().
	Logger *slog.Logger `json:"-"`
}

// PTRendered is a rendered Portuguese receipt and what went into it.
type PTRendered struct {
	Bytes []byte
	// QR is how the AT code was printed: QRNative, or QRRaster (the
	// profile's mode, or the raster fallback of a native profile).
	QR QRMode
	// Replaced lists the characters printed as '?', by field.
	Replaced []Replacement
}

var ptDocLabels = map[posagent.PTDocType][2]string{
	posagent.PTInvoiceReceipt:    {"Fatura-Recibo", "FR"},
	posagent.PTSimplifiedInvoice: {"Fatura Simplificada", "FS"},
	posagent.PTInvoice:           {"Fatura", "FT"},
	posagent.PTCreditNote:        {"Nota de Crédito", "NC"},
}

// PTDocLabel is a document type's name as printed ("Fatura-Recibo") and its
// SAF-T code ("FR"); ok is false for a type the receipt does not print.
func PTDocLabel(t posagent.PTDocType) (name, code string, ok bool) {
	l, ok := ptDocLabels[t]
	return l[0], l[1], ok
}

// PTDocNumber is how a document is named on paper: its type's code and its
// sequence number ("FR 6/G"). A credit note's PTReceipt.Original is the
// PTDocNumber of the document it corrects.
func PTDocNumber(doc posagent.PTDocument) string {
	_, code, ok := PTDocLabel(doc.Type)
	if !ok {
		code = string(doc.Type)
	}
	return code + " " + doc.SequenceNumber
}

// RenderPT returns the ESC/POS job that prints a Portuguese document on a
// printer with a Portuguese profile (LookupPTProfile). Characters the code
// page lacks print as '?' and are logged to r.Logger; RenderPTReceipt
// returns them instead.
func RenderPT(r PTReceipt, p Profile) ([]byte, error) {
	out, err := RenderPTReceipt(r, p)
	if err != nil {
		return nil, err
	}
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	for _, rep := range out.Replaced {
		log.Warn("printer: characters outside the code page printed as ?",
			"document", PTDocNumber(r.Doc), "code_page", string(p.Encoding), "field", rep.Field, "characters", string(rep.Runes))
	}
	return out.Bytes, nil
}

// ptJob is a job on a code-page profile: text is encoded in the profile's
// code page.
type ptJob struct {
	job
	cp escpos.CodePage
}

func newPTJob(p Profile) (*ptJob, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cp := p.Encoding.codePage()
	if cp == "" {
		return nil, posagent.Errorf(posagent.KindConfig, "printer profile %q prints %s: a Portuguese receipt needs a code page with Portuguese letters (%s or %s; see LookupPTProfile)", p.Name, p.Encoding, CP860, CP858)
	}
	return &ptJob{job: newJob(p, 4096), cp: cp}, nil
}

// encode turns a field's text into printer text, noting what it replaced.
func (r *ptJob) encode(field, s string) []byte {
	enc, rep := escpos.AppendCodePage(nil, s, r.cp)
	if len(rep) > 0 {
		r.replaced = append(r.replaced, Replacement{Field: field, Runes: rep})
	}
	return enc
}

// label is encode for the receipt's own Portuguese words and figures, which
// both code pages hold (ptreceipt_test.go checks every label).
func (r *ptJob) label(s string) []byte {
	enc, _ := escpos.AppendCodePage(nil, s, r.cp)
	return enc
}

// centred prints text centred, wrapped to the paper.
func (r *ptJob) centred(p []byte) {
	r.align(escpos.AlignCenter)
	r.emitAll(r.wrap(p, r.p.Columns()/r.width))
}

// RenderPTReceipt is RenderPT returning the replaced characters and the QR
// mode instead of logging.
func RenderPTReceipt(in PTReceipt, p Profile) (PTRendered, error) {
	r, err := newPTJob(p)
	if err != nil {
		return PTRendered{}, err
	}
	doc := &in.Doc
	name, code, ok := PTDocLabel(doc.Type)
	if !ok {
		return PTRendered{}, posagent.Invalid("doc.type", "%q is not a document type the till prints (invoice_receipts, simplified_invoices, invoices, credit_notes)", doc.Type)
	}
	if err := checkPTReceipt(&in); err != nil {
		return PTRendered{}, err
	}
	sum, err := summarise(doc)
	if err != nil {
		return PTRendered{}, err
	}
	qr, err := p.planATQR(doc.QRText)
	if err != nil {
		return PTRendered{}, err
	}
	cols := p.Columns()

	// Seller.
	r.align(escpos.AlignCenter)
	r.bigName(r.encode("seller.name", in.Seller.Name))
	r.size(1, 1)
	r.lineSpacing(normalLine)
	r.centred(r.label("NIF: " + in.Seller.NIF))
	if in.Seller.Address != "" {
		r.centred(r.encode("seller.address", in.Seller.Address))
	}
	r.feed(8)

	// Document type and number, original or copy.
	r.bold(true)
	r.size(1, 2)
	r.lineSpacing(bigLine)
	r.centred(append(r.label(name+" "+code+" "), r.encode("doc.sequence_number", doc.SequenceNumber)...))
	r.size(1, 1)
	r.lineSpacing(normalLine)
	if in.Copy {
		r.centred(r.label("2ª via"))
	} else {
		r.centred(r.label("Original"))
	}
	r.bold(false)
	r.align(escpos.AlignLeft)
	r.emit(r.label("Data: " + ptWhen(doc.Date, in.Time)))
	if doc.BuyerNIF != "" && doc.BuyerNIF != posagent.FinalConsumerNIF {
		r.emit(r.label("NIF do cliente: " + doc.BuyerNIF))
		if doc.BuyerName != "" {
			r.emitAll(r.wrap(append(r.label("Cliente: "), r.encode("doc.buyer_name", doc.BuyerName)...), cols))
		}
	} else {
		r.emit(r.label("Cliente: Consumidor Final"))
	}
	if doc.Type == posagent.PTCreditNote {
		r.emitAll(r.wrap(append(r.label("Referente a: "), r.encode("original", in.Original)...), cols))
	}
	rule := bytes.Repeat([]byte{'-'}, cols)
	r.emit(rule)

	// Lines: description, then quantity × unit price, VAT rate, amount.
	for i, l := range doc.Lines {
		r.emitAll(r.wrap(r.encode(fmt.Sprintf("doc.lines[%d].description", i), l.Description), cols))
		left := r.label("  " + ptNumber(l.Quantity, 0) + " x " + ptNumber(l.UnitPrice, 2))
		right := r.label(fmt.Sprintf("%6s %9s", ptRate(l.VATRate), ptNumber(l.Net, 2)))
		r.emitAll(r.rightAlign(left, right, cols))
	}
	r.emit(rule)

	// VAT summary per rate (CIVA art. 36: the rates and the tax due).
	// When the VAT per rate does not add up to the issuer's, its column is
	// left out (see summarise).
	w := (cols - 6) / 2
	row := func(rate, base, vat string) {
		if !sum.vatPerRate {
			vat = ""
		}
		r.emit(r.label(strings.TrimRight(fmt.Sprintf("%-6s%*s%*s", rate, w, base, w, vat), " ")))
	}
	row("Taxa", "Incidência", "IVA")
	for _, g := range sum.rates {
		row(ptRate(g.rate), ptCents(g.base), ptCents(g.vat))
	}
	if len(sum.exemptions) > 0 {
		r.emitAll(r.wrap(r.encode("doc.lines.exemption", "Isenção de IVA: "+strings.Join(sum.exemptions, ", ")), cols))
	}
	r.emit(rule)
	r.emitAll(r.rightAlign(r.label("Total sem IVA"), r.label(ptNumber(doc.Net, 2)), cols))
	r.emitAll(r.rightAlign(r.label("Total IVA"), r.label(ptNumber(doc.VAT, 2)), cols))
	r.bold(true)
	r.size(1, 2)
	r.lineSpacing(bigLine)
	r.emitAll(r.rightAlign(r.label("Total EUR"), r.label(ptNumber(doc.Total, 2)), cols))
	r.size(1, 1)
	r.lineSpacing(normalLine)
	r.bold(false)
	r.feed(8)

	// ATCUD, and the QR code immediately below it (Portaria 195/2020).
	r.centred(append(r.label("ATCUD:"), r.encode("doc.atcud", doc.ATCUD)...))
	if err := r.atQRCode(qr, doc.QRText); err != nil {
		return PTRendered{}, fmt.Errorf("render %s: %w", PTDocNumber(*doc), err)
	}
	r.centred(r.encode("certification", in.Certification))
	r.finish()
	return PTRendered{Bytes: r.b.Bytes(), QR: qr.mode, Replaced: r.replaced}, nil
}

// checkPTReceipt refuses what would make a misleading or unlawful paper: a
// draft, a document without its number, ATCUD or QR text, a seller without a
// valid NIF, a credit note that names no original.
func checkPTReceipt(in *PTReceipt) error {
	doc := &in.Doc
	switch {
	case doc.State != "final" && doc.State != "settled":
		return posagent.Invalid("doc.state", "%q: only a final (or settled) document is a fiscal document to print", doc.State)
	case strings.TrimSpace(doc.SequenceNumber) == "":
		return posagent.Invalid("doc.sequence_number", "empty: a final document has its number")
	case strings.TrimSpace(doc.ATCUD) == "":
		return posagent.Invalid("doc.atcud", "empty: every Portuguese document prints its ATCUD")
	case doc.Date.IsZero():
		return posagent.Invalid("doc.date", "missing")
	case len(doc.Lines) == 0:
		return posagent.Invalid("doc.lines", "a document has at least one line")
	case !posagent.ValidNIF(in.Seller.NIF):
		return posagent.Errorf(posagent.KindConfig, "seller NIF %q: not a valid Portuguese NIF (9 digits, mod-11 check digit)", in.Seller.NIF)
	case strings.TrimSpace(in.Seller.Name) == "":
		return posagent.Errorf(posagent.KindConfig, "seller name: empty")
	case strings.TrimSpace(in.Certification) == "":
		return posagent.Errorf(posagent.KindConfig, "certification line: empty; configure the \"Processado por programa certificado n.º …\" text of the issuing program")
	case doc.BuyerNIF != "" && !posagent.ValidNIF(doc.BuyerNIF):
		return posagent.Invalid("doc.buyer_nif", "%q is not a valid Portuguese NIF", doc.BuyerNIF)
	case doc.Type == posagent.PTCreditNote && strings.TrimSpace(in.Original) == "":
		return posagent.Invalid("original", "a credit note names the document it corrects (PTDocNumber of it)")
	}
	return nil
}

// ptSummary is the VAT summary of a document.
type ptSummary struct {
	rates []rateGroup
	// vatPerRate is whether the VAT computed per rate adds up to the
	// document's VAT: only then is it printed per rate.
	vatPerRate bool
	exemptions []string // M01–M99 codes of the 0 % lines, sorted
}

type rateGroup struct {
	rate      posagent.Decimal
	base, vat int64 // cents
	// lineVAT is the VAT of the rate as the sum of each line's VAT rounded
	// on its own.
	lineVAT int64
}

// vatCents is base × rate, rounded half up (away from zero) to the cent:
// |base| ≤ maxPTCents, the rate ≤ 10⁴ basis points, so nothing overflows.
func vatCents(base int64, rate posagent.Decimal) int64 {
	v := base * rateBasisPoints(rate)
	if v >= 0 {
		return (v + 5000) / 10000
	}
	return -((-v + 5000) / 10000)
}

// maxPTCents bounds every sum the summary makes (10¹⁵ cents): far beyond any
// receipt, and far from int64 overflow even multiplied by a rate in basis points.
const maxPTCents = 1_000_000_000_000_000

// summarise groups the lines by VAT rate: the base is the sum of the lines'
// Net; the VAT of a rate is its base × rate, rounded half up to the cent (the
// per-rate rounding of a Portuguese invoice's summary), or, when that does
// not add up to the issuer's VAT but rounding each line does, the sum of the
// lines' VAT [U: InvoiceXpress's own rounding is not documented; our
// stand-in rounds each line]. When neither adds up the per-rate VAT is left
// out rather than printed in contradiction with the total: the issuer's
// figures are the legal ones. The bases must add up
// to the document's Net, and Net + VAT to its Total: a document that does not
// is refused, it cannot be printed truthfully.
func summarise(doc *posagent.PTDocument) (ptSummary, error) {
	var s ptSummary
	byRate := map[string]*rateGroup{}
	var net int64
	for i, l := range doc.Lines {
		field := fmt.Sprintf("doc.lines[%d]", i)
		cents, err := toCents(field+".net", l.Net)
		if err != nil {
			return s, err
		}
		if l.VATRate.Sign() < 0 || l.VATRate.Cmp(posagent.DecimalFromInt(100)) > 0 || l.VATRate.Places() > 2 {
			return s, posagent.Invalid(field+".vat_rate", "%s: a VAT rate is 0–100 with at most 2 decimals", l.VATRate)
		}
		if l.VATRate.IsZero() && l.Exemption != "" && !slices.Contains(s.exemptions, l.Exemption) {
			s.exemptions = append(s.exemptions, l.Exemption)
		}
		key := l.VATRate.String()
		g := byRate[key]
		if g == nil {
			g = &rateGroup{rate: l.VATRate}
			byRate[key] = g
		}
		g.lineVAT += vatCents(cents, l.VATRate)
		if g.base += cents; g.base > maxPTCents || g.base < -maxPTCents {
			return s, posagent.Invalid(field+".net", "the lines add up to more than %d cents", int64(maxPTCents))
		}
		net += cents
		if net > maxPTCents || net < -maxPTCents {
			return s, posagent.Invalid(field+".net", "the lines add up to more than %d cents", int64(maxPTCents))
		}
	}
	slices.Sort(s.exemptions)
	docNet, err := toCents("doc.net", doc.Net)
	if err != nil {
		return s, err
	}
	docVAT, err := toCents("doc.vat", doc.VAT)
	if err != nil {
		return s, err
	}
	total, err := toCents("doc.total", doc.Total)
	if err != nil {
		return s, err
	}
	if net != docNet {
		return s, posagent.Invalid("doc.net", "%s, but the lines add up to %s", ptCents(docNet), ptCents(net))
	}
	if docNet+docVAT != total {
		return s, posagent.Invalid("doc.total", "%s is not the net %s plus the VAT %s", ptCents(total), ptCents(docNet), ptCents(docVAT))
	}
	var byBase, byLine int64
	for _, g := range byRate {
		g.vat = vatCents(g.base, g.rate)
		byBase += g.vat
		byLine += g.lineVAT
	}
	s.vatPerRate = byBase == docVAT || byLine == docVAT
	for _, g := range byRate {
		if byBase != docVAT && byLine == docVAT {
			g.vat = g.lineVAT // the issuer rounds each line
		}
		s.rates = append(s.rates, *g)
	}
	slices.SortFunc(s.rates, func(a, b rateGroup) int { return a.rate.Cmp(b.rate) })
	return s, nil
}

// toCents is an amount in whole cents; more than 2 decimals is refused (EUR
// amounts on a document are cents).
func toCents(field string, d posagent.Decimal) (int64, error) {
	if d.Places() > 2 {
		return 0, posagent.Invalid(field, "%s has more than 2 decimals: EUR amounts are in cents", d)
	}
	if d.IntDigits() > 13 {
		return 0, posagent.Invalid(field, "%s has more than 13 digits before the point", d)
	}
	whole, frac, _ := strings.Cut(strings.TrimPrefix(d.String(), "-"), ".")
	frac = (frac + "00")[:2]
	c, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, posagent.Invalid(field, "%s: %v", d, err)
	}
	if d.Sign() < 0 {
		c = -c
	}
	return c, nil
}

// rateBasisPoints is a rate of 0–100 with at most 2 decimals in hundredths
// of a percent (summarise checked it).
func rateBasisPoints(rate posagent.Decimal) int64 {
	c, _ := toCents("vat_rate", rate)
	return c
}

// ptCents writes cents as a Portuguese amount: "1234,56", "-0,05".
func ptCents(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d,%02d", sign, c/100, c%100)
}

// ptNumber writes a decimal the Portuguese way, a comma before the fraction,
// with at least places decimals: "2", "1,5", "0,81".
func ptNumber(d posagent.Decimal, places int) string {
	whole, frac, _ := strings.Cut(d.String(), ".")
	for len(frac) < places {
		frac += "0"
	}
	if frac == "" {
		return whole
	}
	return whole + "," + frac
}

// ptRate writes a VAT rate: "23%", "6,5%".
func ptRate(rate posagent.Decimal) string { return ptNumber(rate, 0) + "%" }

// ptWhen is the document's date (dd/mm/yyyy, Lisbon) and, when known, the
// time of the sale (hh:mm) if it falls on that date.
func ptWhen(date, sale time.Time) string {
	d := date.In(posagent.Lisbon)
	s := d.Format("02/01/2006")
	at := sale
	if at.IsZero() && (d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0) {
		at = date
	}
	if !at.IsZero() {
		if t := at.In(posagent.Lisbon); t.Format("02/01/2006") == s {
			s += " " + t.Format("15:04")
		}
	}
	return s
}

// RenderPTPending returns the slip for a sale accepted but not yet issued as
// a fiscal document: large "Este documento não serve de fatura", the sale id,
// the amount and the time, and that the invoice follows. It carries nothing
// that looks like a fiscal document: no document type, number, ATCUD or QR
// code.
func RenderPTPending(saleID string, total posagent.Decimal, at time.Time, p Profile) ([]byte, error) {
	switch {
	case strings.TrimSpace(saleID) == "":
		return nil, posagent.Invalid("sale_id", "empty")
	case len(saleID) > 64 || strings.IndexFunc(saleID, func(c rune) bool { return c < 0x20 || c > 0x7E }) >= 0:
		return nil, posagent.Invalid("sale_id", "%q: at most 64 printable ASCII characters", saleID)
	case at.IsZero():
		return nil, posagent.Invalid("at", "the time of the sale is missing")
	}
	cents, err := toCents("total", total)
	if err != nil {
		return nil, err
	}
	r, err := newPTJob(p)
	if err != nil {
		return nil, err
	}
	cols := p.Columns()
	r.align(escpos.AlignCenter)
	r.bold(true)
	r.size(2, 2)
	r.lineSpacing(bigLine)
	r.emitAll(r.wrap(r.label("Este documento não serve de fatura"), cols/2))
	r.size(1, 1)
	r.lineSpacing(normalLine)
	r.bold(false)
	r.feed(8)
	r.align(escpos.AlignLeft)
	r.emitAll(r.rightAlign(r.label("Venda"), r.label(saleID), cols))
	r.emitAll(r.rightAlign(r.label("Valor"), r.label(ptCents(cents)+" EUR"), cols))
	r.emitAll(r.rightAlign(r.label("Hora"), r.label(at.In(posagent.Lisbon).Format("02/01/2006 15:04")), cols))
	r.feed(8)
	r.centred(r.label("A fatura será emitida assim que possível"))
	r.finish()
	return r.b.Bytes(), nil
}

package printer

import (
	"fmt"
	"sort"
	"strings"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer/escpos"
	"github.com/posagent/posagent/qr"
)

// QRMode is how a profile puts the two QR codes side by side.
type QRMode string

const (
	// QRRaster draws both symbols on the host into one GS v 0 band: the host
	// controls version, module size and quiet zones, and any raster printer
	// prints it. The default (escpos.md §7).
	QRRaster QRMode = "raster"
	// QRPage stores each symbol natively (GS ( k) and places them side by side
	// in page mode: far fewer bytes, but the printer picks the version from the
	// data, and how its firmware encodes is [U]. Simple firmware uses one
	// byte-mode segment; better firmware (like skip2/go-qrcode) mixes numeric
	// and alphanumeric segments and drew the MOF example's left code at version
	// 5, the space-padded right smaller still. So a receipt gets native codes
	// only when both encoder models put both symbols at one version ≥ 6
	// (qr.Codes.NativeSafe, the right padded by qr.Options.PadRight); otherwise
	// the safe choice, the QRRaster band, in standard mode, with the texts
	// unpadded. Most small invoices fall back. Page mode, and GS ( k in it,
	// differ between clones: enable this only after a test print shows two
	// equal symbols of at least 41 modules that a phone scans.
	QRPage QRMode = "page"
	// QRNative stores one symbol natively (GS ( k, model 2) and prints it in
	// standard mode: for the single AT QR code of a Portuguese receipt, on a
	// printer with NativeQR. The printer picks the version, so RenderPT uses
	// it only when every encoder model gives a symbol of at least 30 mm that
	// fits the paper, and draws a raster otherwise (as QRPage falls back).
	QRNative QRMode = "native"
)

// Code39Mode is how a profile prints the 19-character barcode.
type Code39Mode string

const (
	// Code39Raster draws the bars on the host: narrow 1 dot, wide 3.
	Code39Raster Code39Mode = "raster"
	// Code39Native sends GS k with GS w 1, for printers that accept a 1-dot
	// module (Epson documents 2–6; at 2 dots the symbol is 607 dots wide).
	Code39Native Code39Mode = "native"
)

// Cutter is what a printer can do at the end of a receipt.
type Cutter string

const (
	CutterNone    Cutter = "none"    // feed to the tear bar
	CutterPartial Cutter = "partial" // GS V 66 0
	CutterFull    Cutter = "full"    // GS V 65 0
)

// TextEncoding is the character set of the printer's text: Big5 in Kanji
// mode (Taiwan), or a single-byte code page selected with ESC t (Portugal).
type TextEncoding string

const (
	// Big5 is the only encoding Traditional-Chinese receipt printers share.
	Big5 TextEncoding = "big5"
	// CP860 (PC860 Portuguese) holds every Portuguese letter but not €,
	// which prints as "EUR". It is the safe choice for Portugal: the table
	// (ESC t 3) is in almost every ESC/POS printer's ROM, Epson's and the
	// clones' alike.
	CP860 TextEncoding = TextEncoding(escpos.CP860)
	// CP858 (PC850 with €) holds every Portuguese letter and €. Epson numbers
	// it 19; clones differ or lack it [U], so a profile uses it only after a
	// test print showed the € and the accents.
	CP858 TextEncoding = TextEncoding(escpos.CP858)
)

// codePage is the single-byte code page of a CP8xx encoding ("" for Big5).
func (e TextEncoding) codePage() escpos.CodePage {
	if c := escpos.CodePage(e); c.Valid() {
		return c
	}
	return ""
}

// Profile is what a printer model can do, as far as the proof needs to know.
// The renderer never sends a command a profile does not allow; a new model gets
// a profile after a self-test page and a test print of each mode.
type Profile struct {
	Name        string
	Description string
	// Dots is the printable width at 203 dpi: 384 on 58 mm paper, 576 on 80 mm.
	Dots     int
	Encoding TextEncoding
	// CodeTable is the ESC t number that selects Encoding's code page on this
	// model (Epson: 3 for CP860, 19 for CP858); 0 for Big5 (Kanji mode).
	CodeTable byte
	QR        QRMode
	Code39    Code39Mode
	// PageMode: ESC L, ESC W, ESC T, ESC $, GS $ and FF work.
	PageMode bool
	// NativeQR: GS ( k (QR model 2) works.
	NativeQR bool
	// Code39Module1: GS w 1 gives 1-dot bars. The wide bars the firmware then
	// draws (2 or 3 dots) are model-specific [U]: confirm with a phone scan.
	Code39Module1 bool
	// RasterScaling: GS v 0 accepts m = 1–3 (double width/height).
	RasterScaling bool
	Cutter        Cutter
	// BufferSize is the receive buffer in bytes. No single raster command is
	// larger than half of it, so the device can pace the job between commands.
	BufferSize int
	// MaxQRVersion is the largest QR version the printer prints legibly at the
	// width available: 6–11 here (qr.Options.MaxVersion); for a Portuguese
	// profile, the largest the host draws the AT code at (1–11).
	MaxQRVersion int
	// MaxQRModule caps the dots per module of the MOF codes: bigger symbols
	// scan more easily but cost paper and bytes. At least 3 (≥ 15 mm at
	// version 6). The AT code's module follows from its 30 mm instead.
	MaxQRModule int
}

// Columns is the number of Font A (12-dot) columns across the paper.
func (p Profile) Columns() int { return p.Dots / fontWidth }

const (
	fontWidth  = 12 // Font A: 12 × 24 dots; a Big5 glyph is 24 × 24
	fontHeight = 24
	minQRDots  = 120 // 15 mm at 203 dpi
	minModule  = 3
)

var profiles = map[string]Profile{
	"58mm": {
		Name:          "58mm",
		Description:   "generic 58 mm Big5 printer (ZJ-58/POS-5890 class): host raster QR band and Code 39, no cutter",
		Dots:          384,
		Encoding:      Big5,
		QR:            QRRaster,
		Code39:        Code39Raster,
		RasterScaling: true,
		Cutter:        CutterNone,
		BufferSize:    4096,
		MaxQRVersion:  9,
		MaxQRModule:   4,
	},
	"58mm-page": {
		Name:          "58mm-page",
		Description:   "58 mm Big5 printer with page mode, native QR and GS w 1 (Epson TM-T70II-CH class), partial cutter",
		Dots:          384,
		Encoding:      Big5,
		QR:            QRPage,
		Code39:        Code39Native,
		PageMode:      true,
		NativeQR:      true,
		Code39Module1: true,
		RasterScaling: true,
		Cutter:        CutterPartial,
		BufferSize:    4096,
		MaxQRVersion:  9,
		MaxQRModule:   4,
	},
	"80mm": {
		Name:          "80mm",
		Description:   "generic 80 mm Big5 printer: host raster QR band and Code 39, partial cutter",
		Dots:          576,
		Encoding:      Big5,
		QR:            QRRaster,
		Code39:        Code39Raster,
		RasterScaling: true,
		Cutter:        CutterPartial,
		BufferSize:    4096,
		MaxQRVersion:  10,
		MaxQRModule:   4,
	},
}

// DefaultProfile is the profile for a printer nobody has characterised: the
// generic 58 mm one, which needs nothing but text and GS v 0.
const DefaultProfile = "58mm"

// ptProfiles print the Portuguese receipt (RenderPT). They are kept apart
// from the MOF profiles: a Taiwanese terminal can never pick a printer
// without Big5, nor a Portuguese one a printer without ã and õ.
var ptProfiles = map[string]Profile{
	"pt-58mm": {
		Name:          "pt-58mm",
		Description:   "generic 58 mm printer for Portugal: PC860 (ESC t 3, € printed as EUR), host raster QR, no cutter",
		Dots:          384,
		Encoding:      CP860,
		CodeTable:     3,
		QR:            QRRaster,
		Code39:        Code39Raster,
		RasterScaling: true,
		Cutter:        CutterNone,
		BufferSize:    4096,
		MaxQRVersion:  maxMatrixVersion,
		MaxQRModule:   minModule,
	},
	"pt-58mm-native": {
		Name:          "pt-58mm-native",
		Description:   "58 mm Epson-class printer for Portugal (TM-T20/TM-m10 class): PC858 (ESC t 19) with €, native QR (GS ( k), partial cutter",
		Dots:          384,
		Encoding:      CP858,
		CodeTable:     19,
		QR:            QRNative,
		Code39:        Code39Raster,
		NativeQR:      true,
		RasterScaling: true,
		Cutter:        CutterPartial,
		BufferSize:    4096,
		MaxQRVersion:  maxMatrixVersion,
		MaxQRModule:   minModule,
	},
	"pt-80mm": {
		Name:          "pt-80mm",
		Description:   "generic 80 mm printer for Portugal: PC860 (ESC t 3, € printed as EUR), host raster QR, partial cutter",
		Dots:          576,
		Encoding:      CP860,
		CodeTable:     3,
		QR:            QRRaster,
		Code39:        Code39Raster,
		RasterScaling: true,
		Cutter:        CutterPartial,
		BufferSize:    4096,
		MaxQRVersion:  maxMatrixVersion,
		MaxQRModule:   minModule,
	},
	"pt-80mm-native": {
		Name:          "pt-80mm-native",
		Description:   "80 mm Epson-class printer for Portugal (TM-T20/TM-T88 class): PC858 (ESC t 19) with €, native QR (GS ( k), partial cutter",
		Dots:          576,
		Encoding:      CP858,
		CodeTable:     19,
		QR:            QRNative,
		Code39:        Code39Raster,
		NativeQR:      true,
		RasterScaling: true,
		Cutter:        CutterPartial,
		BufferSize:    4096,
		MaxQRVersion:  maxMatrixVersion,
		MaxQRModule:   minModule,
	},
}

// DefaultPTProfile is the Portuguese profile for a printer nobody has
// characterised: PC860 text and a raster QR, which every ESC/POS printer
// prints.
const DefaultPTProfile = "pt-58mm"

// LookupPTProfile returns the named Portuguese profile; "" is
// DefaultPTProfile. The error, of kind config, lists the names there are.
func LookupPTProfile(name string) (Profile, error) {
	return lookup(ptProfiles, name, DefaultPTProfile, "Portuguese printer profile")
}

// PTProfileNames lists the Portuguese profiles, sorted.
func PTProfileNames() []string { return names(ptProfiles) }

// LookupProfile returns the named profile; "" is DefaultProfile. The error,
// of kind config, lists the names there are.
func LookupProfile(name string) (Profile, error) {
	return lookup(profiles, name, DefaultProfile, "printer profile")
}

// lookup finds a profile of a set by name ("" is def).
func lookup(set map[string]Profile, name, def, what string) (Profile, error) {
	if name == "" {
		name = def
	}
	p, ok := set[name]
	if !ok {
		return Profile{}, posagent.Errorf(posagent.KindConfig, "%s %q does not exist; choose one of %s", what, name, strings.Join(names(set), ", "))
	}
	return p, nil
}

// WithCode39 is p printing its Code 39 the given way: "" keeps the
// profile's, raster draws the bars on the host (for a printer without GS k,
// or whose GS k cannot draw 1-dot bars), native sends GS k and needs a
// profile whose printer takes GS w 1. The error, of kind config, says why.
func (p Profile) WithCode39(mode Code39Mode) (Profile, error) {
	switch mode {
	case "":
		return p, nil
	case Code39Raster, Code39Native:
	default:
		return Profile{}, posagent.Errorf(posagent.KindConfig, "Code 39 mode %q: raster or native", mode)
	}
	p.Code39 = mode
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// ProfileNames lists the profiles, sorted.
func ProfileNames() []string { return names(profiles) }

func names(set map[string]Profile) []string {
	out := make([]string, 0, len(set))
	for name := range set {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Validate checks that a profile is consistent and that the proof can be laid
// out with it.
func (p Profile) Validate() error {
	fail := func(format string, args ...any) error {
		return posagent.Errorf(posagent.KindConfig, "printer profile %q: %s", p.Name, fmt.Sprintf(format, args...))
	}
	switch {
	case p.Dots < 384 || p.Dots > 1024 || p.Dots%8 != 0:
		return fail("%d dots: the proof needs 384–1024, a multiple of 8", p.Dots)
	case p.Encoding != Big5 && p.Encoding.codePage() == "":
		return fail("text encoding %q: %q (Taiwan), %q or %q (Portugal)", p.Encoding, Big5, CP860, CP858)
	case p.Encoding != Big5:
		return p.validatePT(fail)
	case p.QR != QRRaster && p.QR != QRPage:
		return fail("QR mode %q: raster or page", p.QR)
	case p.QR == QRPage && !(p.PageMode && p.NativeQR):
		return fail("QR mode page needs page mode and native QR")
	case p.Code39 != Code39Raster && p.Code39 != Code39Native:
		return fail("Code 39 mode %q: raster or native", p.Code39)
	case p.Code39 == Code39Native && !p.Code39Module1:
		return fail("native Code 39 needs GS w 1: at 2 dots the MOF barcode is 607 dots wide")
	case p.Cutter != CutterNone && p.Cutter != CutterPartial && p.Cutter != CutterFull:
		return fail("cutter %q: none, partial or full", p.Cutter)
	case p.BufferSize < 1024:
		return fail("buffer of %d bytes: at least 1024", p.BufferSize)
	case p.MaxQRVersion < qr.MinVersion || p.MaxQRVersion > maxMatrixVersion:
		return fail("largest QR version %d: %d–%d", p.MaxQRVersion, qr.MinVersion, maxMatrixVersion)
	case p.MaxQRModule < minModule || p.MaxQRModule > 16:
		return fail("QR module of up to %d dots: %d–16", p.MaxQRModule, minModule)
	}
	if _, err := p.qrModule(p.MaxQRVersion); err != nil {
		return fail("%v", err)
	}
	return nil
}

// validatePT checks a profile of a code-page encoding: it prints the
// Portuguese receipt (RenderPT), with its one AT QR code, never the MOF proof.
func (p Profile) validatePT(fail func(string, ...any) error) error {
	switch {
	case p.CodeTable == 0:
		return fail("code table 0 (PC437) has no ã or õ: set the ESC t number of %s on this printer (Epson: %d)", p.Encoding, p.Encoding.codePage().Table())
	case p.QR != QRRaster && p.QR != QRNative:
		return fail("QR mode %q: a Portuguese receipt's one QR code is raster or native", p.QR)
	case p.QR == QRNative && !p.NativeQR:
		return fail("QR mode native needs native QR (GS ( k)")
	case p.Cutter != CutterNone && p.Cutter != CutterPartial && p.Cutter != CutterFull:
		return fail("cutter %q: none, partial or full", p.Cutter)
	case p.BufferSize < 1024:
		return fail("buffer of %d bytes: at least 1024", p.BufferSize)
	case p.MaxQRVersion < 1 || p.MaxQRVersion > maxMatrixVersion:
		return fail("largest QR version %d: 1–%d", p.MaxQRVersion, maxMatrixVersion)
	}
	if _, err := p.atQRModule(p.MaxQRVersion); err != nil {
		return fail("%v", err)
	}
	return nil
}

// qrModule is the dots per module for two symbols of a version side by side
// with three 16-dot quiet zones: the largest up to MaxQRModule that fits.
func (p Profile) qrModule(version int) (int, error) {
	n := 17 + 4*version
	best := 0
	for s := minModule; s <= p.MaxQRModule; s++ {
		if 2*n*s+3*qrQuietDots <= p.Dots {
			best = s
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("two version-%d QR codes at %d dots a module do not fit %d dots", version, minModule, p.Dots)
	}
	return best, nil
}

package printer

import (
	"fmt"

	"rsc.io/qr/coding"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer/escpos"
	"github.com/posagent/posagent/qr"
)

// The AT QR code of a Portuguese document (providers.md §5.3): error
// correction M [3P: the at_qrcode builder], at least 30 mm wide (the size
// commonly required; the AT specification itself is not in our sources [U]),
// a model 2 symbol (never micro QR), printed immediately below the ATCUD line.
const (
	atQRMinDots      = 240 // 30 mm at 203 dpi
	atQRQuietModules = 4   // ISO/IEC 18004 quiet zone, each side
	atQRLevel        = 1   // index of M in qrLevels
)

// atQRModule is the dots per module that draws a version-v symbol at least
// 30 mm wide: the smallest that reaches it (more costs paper without helping
// a phone), and never under 3 dots. The symbol and its quiet zone must fit the
// paper, and GS ( k takes at most 16 dots.
func (p Profile) atQRModule(v int) (int, error) {
	n := 17 + 4*v
	s := max(minModule, (atQRMinDots+n-1)/n)
	if s > 16 || (n+2*atQRQuietModules)*s > p.Dots {
		return 0, fmt.Errorf("a version-%d QR code 30 mm wide (%d dots a module) and its quiet zone do not fit %d dots", v, s, p.Dots)
	}
	return s, nil
}

// atQR is how a receipt prints its AT QR code.
type atQR struct {
	mode   QRMode // QRNative or QRRaster
	module int    // dots per module
	// For the raster: the symbol the host drew.
	matrix *qrMatrix
}

// dataBitsM is the data capacity of a version-v symbol at level M, in bits.
func dataBitsM(v int) int { return coding.Version(v).DataBytes(coding.M) * 8 }

// planATQR decides how the profile prints text. Natively (QRNative) when a
// printer choosing the version itself, with the best or the simplest encoder
// (qr.FewestBits, one byte segment), draws a symbol of at least 30 mm that
// fits the paper at one module size; otherwise the host draws it at the
// smallest version that holds it (alphanumeric mode when the text allows,
// else bytes), up to the profile's MaxQRVersion.
func (p Profile) planATQR(text string) (atQR, error) {
	data := []byte(text)
	if len(data) == 0 {
		return atQR{}, posagent.Invalid("doc.qr_text", "empty: a final document's AT QR text is needed to print it")
	}
	for i, c := range data {
		if c < 0x20 || c > 0x7E {
			return atQR{}, posagent.Invalid("doc.qr_text", "byte %#02x at offset %d: the AT QR text is printable ASCII (A:…*B:…)", c, i)
		}
	}
	if p.QR == QRNative {
		if plan, ok := p.nativeATQR(data); ok {
			return plan, nil
		}
	}
	var payload coding.Encoding = coding.String(text)
	if coding.Alpha(text).Check() == nil {
		payload = coding.Alpha(text)
	}
	for v := 1; v <= p.MaxQRVersion; v++ {
		if payload.Bits(coding.Version(v)) > dataBitsM(v) {
			continue
		}
		module, err := p.atQRModule(v)
		if err != nil {
			return atQR{}, posagent.Errorf(posagent.KindConfig, "printer profile %q: AT QR code: %v", p.Name, err)
		}
		if n := 17 + 4*v; p.RasterScaling && module%2 == 1 && (n+2*atQRQuietModules)*(module+1) <= p.Dots {
			// One dot more a module, when the paper has room, lets the
			// raster go at half resolution, doubled by the printer
			// (atQRCode): a quarter of the bytes on the serial line.
			module++
		}
		plan, err := planAt(v, atQRLevel)
		if err != nil {
			return atQR{}, fmt.Errorf("AT QR code: %w", err)
		}
		m, err := plan.draw(payload)
		if err != nil {
			return atQR{}, fmt.Errorf("AT QR code: %w", err)
		}
		return atQR{mode: QRRaster, module: module, matrix: m}, nil
	}
	return atQR{}, posagent.Invalid("doc.qr_text", "%d characters do not fit a version-%d QR code at level M, the largest printer profile %q draws", len(data), p.MaxQRVersion, p.Name)
}

// nativeATQR is the native plan for data, when every encoder model agrees on
// a module size that keeps the symbol ≥ 30 mm and within the paper.
func (p Profile) nativeATQR(data []byte) (atQR, bool) {
	smallest, largest := 0, 0
	for v := 1; v <= qr.MaxQRVersion && largest == 0; v++ {
		if smallest == 0 && qr.FewestBits(data, v) <= dataBitsM(v) {
			smallest = v
		}
		if coding.String(data).Bits(coding.Version(v)) <= dataBitsM(v) {
			largest = v
		}
	}
	if smallest == 0 || largest == 0 {
		return atQR{}, false
	}
	n := 17 + 4*smallest
	s := max(minModule, (atQRMinDots+n-1)/n)
	if s > 16 || (17+4*largest+2*atQRQuietModules)*s > p.Dots {
		return atQR{}, false
	}
	return atQR{mode: QRNative, module: s}, true
}

// atQRCode prints the planned symbol centred, with its quiet zone above and
// below.
func (r *job) atQRCode(q atQR, text string) error {
	quiet := atQRQuietModules * q.module
	r.align(escpos.AlignCenter)
	r.feed(quiet)
	if q.mode == QRNative {
		r.b.QRModel()
		r.b.QRModuleSize(q.module)
		r.b.QRErrorLevel(escpos.QRLevelM)
		if err := r.b.QRStore([]byte(text)); err != nil {
			return fmt.Errorf("AT QR code: %w", err)
		}
		r.b.QRPrint()
		r.feed(quiet)
		return nil
	}
	if q.module%2 == 0 && r.p.RasterScaling {
		// Half the dots, printed double width and height: a quarter of the bytes.
		if err := r.raster(qrBand(q.module/2, quiet/2, q.matrix), escpos.RasterQuadruple); err != nil {
			return err
		}
	} else if err := r.raster(qrBand(q.module, quiet, q.matrix), escpos.RasterNormal); err != nil {
		return err
	}
	r.feed(quiet)
	return nil
}

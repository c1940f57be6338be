package escpos

import "fmt"

// QRLevel is a QR error correction level for GS ( k fn 169.
type QRLevel byte

const (
	QRLevelL QRLevel = '0' // 7 %
	QRLevelM QRLevel = '1' // 15 %
	QRLevelQ QRLevel = '2' // 25 %
	QRLevelH QRLevel = '3' // 30 %
)

// MaxQRData is the most payload bytes fn 180 accepts (pL pH = k + 3 ≤ 7092).
const MaxQRData = 7089

// QRModel is GS ( k fn 165: QR model 2, the only one a phone reads.
func (b *Builder) QRModel() {
	b.buf = append(b.buf, GS, '(', 'k', 4, 0, '1', 'A', '2', 0)
}

// QRModuleSize is GS ( k fn 167: dots per module. Epson-class printers take
// 1–16; some clones fewer (Metapace 1–7, Cino 2–5), which the caller's printer
// profile must know.
func (b *Builder) QRModuleSize(dots int) {
	if dots < 1 || dots > 16 {
		panic(fmt.Sprintf("escpos: QR module size %d outside 1–16", dots))
	}
	b.buf = append(b.buf, GS, '(', 'k', 3, 0, '1', 'C', byte(dots))
}

// QRErrorLevel is GS ( k fn 169.
func (b *Builder) QRErrorLevel(l QRLevel) {
	if l < QRLevelL || l > QRLevelH {
		panic(fmt.Sprintf("escpos: QR level %#x", byte(l)))
	}
	b.buf = append(b.buf, GS, '(', 'k', 3, 0, '1', 'E', byte(l))
}

// QRStore is GS ( k fn 180: store the payload. The length counts the payload's
// bytes as sent (UTF-8 or Big5 alike), plus the three bytes 31 50 30 — never
// runes, the mistake that truncates Chinese QR codes in other libraries.
func (b *Builder) QRStore(data []byte) error {
	if len(data) == 0 || len(data) > MaxQRData {
		return fmt.Errorf("escpos: QR payload of %d bytes: must be 1–%d", len(data), MaxQRData)
	}
	n := len(data) + 3
	b.buf = append(b.buf, GS, '(', 'k', byte(n), byte(n>>8), '1', 'P', '0')
	b.buf = append(b.buf, data...)
	return nil
}

// QRPrint is GS ( k fn 181: print the stored symbol. In standard mode it needs
// the start of a line. The printer draws no quiet zone: leave room around it.
func (b *Builder) QRPrint() { b.buf = append(b.buf, GS, '(', 'k', 3, 0, '1', 'Q', '0') }

// QR sends the whole native sequence: model 2, module size, level, store, print.
// The printer picks the symbol version from the data.
func (b *Builder) QR(data []byte, moduleDots int, level QRLevel) error {
	if len(data) == 0 || len(data) > MaxQRData {
		return fmt.Errorf("escpos: QR payload of %d bytes: must be 1–%d", len(data), MaxQRData)
	}
	b.QRModel()
	b.QRModuleSize(moduleDots)
	b.QRErrorLevel(level)
	_ = b.QRStore(data) // checked above
	b.QRPrint()
	return nil
}

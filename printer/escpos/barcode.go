package escpos

import "fmt"

// HRI is where GS H prints the human-readable text of a barcode.
type HRI byte

const (
	HRINone  HRI = 0
	HRIAbove HRI = 1
	HRIBelow HRI = 2
	HRIBoth  HRI = 3
)

// BarcodeHeight is GS h n: bar height in dots, 1–255.
func (b *Builder) BarcodeHeight(dots int) {
	if dots < 1 || dots > 255 {
		panic(fmt.Sprintf("escpos: barcode height %d outside 1–255", dots))
	}
	b.buf = append(b.buf, GS, 'h', byte(dots))
}

// BarcodeModule is GS w n: the narrow element width in dots. Epson documents
// 2–6; some models accept 1, the only width at which the 19-character MOF
// barcode fits 58 mm paper. The caller's profile decides.
func (b *Builder) BarcodeModule(dots int) {
	if dots < 1 || dots > 6 {
		panic(fmt.Sprintf("escpos: barcode module %d outside 1–6", dots))
	}
	b.buf = append(b.buf, GS, 'w', byte(dots))
}

// BarcodeHRI is GS H n.
func (b *Builder) BarcodeHRI(pos HRI) {
	if pos > HRIBoth {
		panic(fmt.Sprintf("escpos: HRI position %d", pos))
	}
	b.buf = append(b.buf, GS, 'H', byte(pos))
}

// Code39Chars are the characters CODE39 encodes (the start/stop * is added by
// the printer).
const Code39Chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -.$/+%"

// ValidCode39 reports whether data is 1–255 CODE39 characters without the
// start/stop character.
func ValidCode39(data string) error {
	if len(data) == 0 || len(data) > 255 {
		return fmt.Errorf("escpos: CODE39 data of %d characters: must be 1–255", len(data))
	}
	for i := 0; i < len(data); i++ {
		if code39Index(data[i]) < 0 {
			return fmt.Errorf("escpos: CODE39 cannot encode %q at position %d", data[i], i)
		}
	}
	return nil
}

func code39Index(c byte) int {
	for i := 0; i < len(Code39Chars); i++ {
		if Code39Chars[i] == c {
			return i
		}
	}
	return -1
}

// Code39 is GS k m=69 (form B, counted): print data as CODE39 at the current
// line with the height, module and HRI set before. Form B is used because its
// length byte cannot be confused with data; the printer adds the * start and
// stop characters and no check character.
func (b *Builder) Code39(data string) error {
	if err := ValidCode39(data); err != nil {
		return err
	}
	b.buf = append(b.buf, GS, 'k', 69, byte(len(data)))
	b.buf = append(b.buf, data...)
	return nil
}

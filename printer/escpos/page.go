package escpos

import "fmt"

// PageMode is ESC L: enter page mode. Commands then draw into a page buffer
// that FF prints. ESC a is ignored and GS v 0 is not available in page mode.
func (b *Builder) PageMode() { b.buf = append(b.buf, ESC, 'L') }

// StandardMode is ESC S: leave page mode without printing.
func (b *Builder) StandardMode() { b.buf = append(b.buf, ESC, 'S') }

// PageArea is ESC W: the printable area of the page, origin and size in motion
// units (dots at 203 dpi).
func (b *Builder) PageArea(x, y, width, height int) {
	for _, v := range [...]int{x, y} {
		if v < 0 || v > 0xFFFF {
			panic(fmt.Sprintf("escpos: page area origin %d outside 0–65535", v))
		}
	}
	for _, v := range [...]int{width, height} {
		if v < 1 || v > 0xFFFF {
			panic(fmt.Sprintf("escpos: page area size %d outside 1–65535", v))
		}
	}
	b.buf = append(b.buf, ESC, 'W',
		byte(x), byte(x>>8), byte(y), byte(y>>8),
		byte(width), byte(width>>8), byte(height), byte(height>>8))
}

// PageDirection is ESC T n: 0 = left to right from the top left corner.
func (b *Builder) PageDirection(n int) {
	if n < 0 || n > 3 {
		panic(fmt.Sprintf("escpos: page direction %d outside 0–3", n))
	}
	b.buf = append(b.buf, ESC, 'T', byte(n))
}

// AbsoluteX is ESC $: horizontal position in motion units from the line start.
func (b *Builder) AbsoluteX(dots int) {
	if dots < 0 || dots > 0xFFFF {
		panic(fmt.Sprintf("escpos: position %d outside 0–65535", dots))
	}
	b.buf = append(b.buf, ESC, '$', byte(dots), byte(dots>>8))
}

// AbsoluteY is GS $: vertical position in page mode. Bit images, barcodes (and,
// on the models checked, QR symbols) sit with their lower-left corner on this
// baseline, so pass the symbol's bottom edge.
func (b *Builder) AbsoluteY(dots int) {
	if dots < 0 || dots > 0xFFFF {
		panic(fmt.Sprintf("escpos: position %d outside 0–65535", dots))
	}
	b.buf = append(b.buf, GS, '$', byte(dots), byte(dots>>8))
}

// PrintPage is FF in page mode: print the page and return to standard mode.
func (b *Builder) PrintPage() { b.buf = append(b.buf, FF) }

// CancelPage is CAN: discard the page buffer's contents.
func (b *Builder) CancelPage() { b.buf = append(b.buf, CAN) }

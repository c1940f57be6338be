package emulator

import "strings"

// code39Alphabet and code39Patterns are the CODE39 symbology: each
// character is 9 elements (bar, space, bar, …), bit 8 first, 1 = wide.
const code39Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%*"

var code39Patterns = [...]uint16{
	0x034, 0x121, 0x061, 0x160, 0x031, 0x130, 0x070, 0x025, 0x124, 0x064, // 0-9
	0x109, 0x049, 0x148, 0x019, 0x118, 0x058, 0x00D, 0x10C, 0x04C, 0x01C, // A-J
	0x103, 0x043, 0x142, 0x013, 0x112, 0x052, 0x007, 0x106, 0x046, 0x016, // K-T
	0x181, 0x0C1, 0x1C0, 0x091, 0x190, 0x0D0, 0x085, 0x184, 0x0C4, // U-Z - . space
	0x0A8, 0x0A2, 0x08A, 0x02A, // $ / + %
	0x094, // * (start/stop)
}

// code39Wide is the wide element per GS w narrow width at 203 dpi:
// w1 → 3, w2 → 5, w3 → 8 (escpos.md §5, Sinocan P11); 4–6 follow the same
// 2.5:1 ratio [U: model-specific].
var code39Wide = [...]int{0, 3, 5, 8, 10, 13, 15}

// barcode is GS k m … in form A (m 0–6, NUL-terminated) or form B
// (m 65–79, with a length byte).
func (p *printer) barcode(name string) {
	m, ok := p.byte1(name)
	if !ok {
		return
	}
	var data []byte
	switch {
	case m <= 6:
		end := -1
		for i := p.pos; i < len(p.stream); i++ {
			if p.stream[i] == 0 {
				end = i
				break
			}
		}
		if end < 0 {
			p.problem("GS k %d: no NUL ends the barcode data before the end of the stream", m)
			p.pos = len(p.stream)
			return
		}
		data = p.stream[p.pos:end]
		p.pos = end + 1
	case m >= 65 && m <= 79:
		n, ok := p.byte1(name)
		if !ok {
			return
		}
		b, ok := p.params("GS k", int(n))
		if !ok {
			return
		}
		data = b
	default:
		p.problem("GS k %d: unknown barcode system; the rest of the stream cannot be parsed safely", m)
		p.pos = len(p.stream)
		return
	}
	if m != 4 && m != 69 {
		p.problem("GS k %d: only CODE39 (4 and 69) is emulated; barcode not drawn", m)
		return
	}
	if !p.startOfLine("GS k") {
		return
	}
	text := string(data)
	// The printer adds the start/stop characters; a '*' at either end is
	// taken as them (escpos.md §5).
	text = strings.TrimPrefix(text, "*")
	text = strings.TrimSuffix(text, "*")
	if text == "" {
		p.problem("GS k CODE39: no data")
		return
	}
	for i := 0; i < len(text); i++ {
		if c := strings.IndexByte(code39Alphabet, text[i]); c < 0 || text[i] == '*' {
			p.problem("GS k CODE39: byte 0x%02X (%q) at data position %d is not a CODE39 character; barcode not drawn", text[i], text[i], i)
			return
		}
	}
	narrow, wide := p.st.barModule, code39Wide[p.st.barModule]
	full := "*" + text + "*"
	w := 0
	for i := 0; i < len(full); i++ {
		pat := code39Patterns[strings.IndexByte(code39Alphabet, full[i])]
		for e := 8; e >= 0; e-- {
			if pat>>uint(e)&1 == 1 {
				w += wide
			} else {
				w += narrow
			}
		}
		if i < len(full)-1 {
			w += narrow // inter-character gap
		}
	}
	limit := p.width
	if p.page != nil {
		limit = p.st.pageArea.dx - p.page.x
	} else {
		_, limit = p.area()
	}
	if w > limit {
		p.problem("GS k CODE39 %q: %d dots wide at GS w %d, wider than the print area (%d dots): not printed", text, w, narrow, limit)
		return
	}
	hriH := fontACellH
	if p.st.hriFont == 1 {
		hriH = fontBCellH
	}
	above, below := 0, 0
	if p.st.hri&1 != 0 {
		above = hriH
	}
	if p.st.hri&2 != 0 {
		below = hriH
	}
	bh := p.st.barHeight
	c := newCanvas(w, above+bh+below)
	x := 0
	for i := 0; i < len(full); i++ {
		pat := code39Patterns[strings.IndexByte(code39Alphabet, full[i])]
		for e := 8; e >= 0; e-- {
			ew := narrow
			if pat>>uint(e)&1 == 1 {
				ew = wide
			}
			if (8-e)%2 == 0 { // bars on even elements
				c.fill(x, above, x+ew, above+bh, true)
			}
			x += ew
		}
		x += narrow
	}
	// HRI: the printer prints the text with its start/stop characters
	// [U: Epson shows them for CODE39], centred under or over the bars.
	if above > 0 {
		p.drawHRI(c, full, 0, w)
	}
	if below > 0 {
		p.drawHRI(c, full, above+bh, w)
	}
	c.grow(above + bh + below)
	if p.page != nil {
		// Bars on the baseline; HRI below hangs under it.
		pg := p.page
		saved := pg.y
		pg.y += below
		p.placeBlock(block{c: c, w: w, h: above + bh + below}, "GS k")
		pg.y = saved
		return
	}
	p.placeBlock(block{c: c, w: w, h: above + bh + below}, "GS k")
}

func (p *printer) drawHRI(c *canvas, s string, top, w int) {
	fontB := p.st.hriFont == 1
	cw := fontACellW
	if fontB {
		cw = fontBCellW
	}
	x := (w - cw*len(s)) / 2
	for i := 0; i < len(s); i++ {
		g := p.font.byRune[rune(s[i])]
		if g == nil {
			continue
		}
		it := item{w: cw, g: g, cell: ankShape(fontB, g), sx: 1, sy: 1}
		it.h = it.cell.h
		p.drawItem(c, &it, x+i*cw, top)
	}
}

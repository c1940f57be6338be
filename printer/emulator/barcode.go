package emulator

import (
	"strings"

	"github.com/posagent/posagent/printer/escpos"
	"github.com/posagent/posagent/printer/internal/code39"
)

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
		if strings.IndexByte(escpos.Code39Chars, text[i]) < 0 {
			p.problem("GS k CODE39: byte 0x%02X (%q) at data position %d is not a CODE39 character; barcode not drawn", text[i], text[i], i)
			return
		}
	}
	// The bars: boombuler/barcode's symbology, at the firmware's widths.
	els, err := code39.Elements(text)
	if err != nil {
		p.problem("GS k CODE39 %q: %v; barcode not drawn", text, err)
		return
	}
	full := "*" + text + "*"
	narrow, wide := p.st.barModule, code39Wide[p.st.barModule]
	w := code39.Width(els, narrow, wide)
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
	code39.Draw(els, narrow, wide, func(x0, x1 int) { c.fill(x0, above, x1, above+bh, true) })
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

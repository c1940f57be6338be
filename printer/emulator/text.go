package emulator

// Cell geometry of the printer's fonts at 203 dpi.
const (
	fontACellW, fontACellH = 12, 24
	fontBCellW, fontBCellH = 9, 17
	kanjiCell              = 24
)

// cellShape maps a cell dot to a Unifont glyph dot. Unifont is a 16-dot
// bitmap font (8×16 half width, 16×16 full width); the scaling rule is
// nearest-neighbour 3:2 in both directions, so 8×16 fills Font A's 12×24 and
// 16×16 fills the 24×24 Kanji cell exactly, and a half-width glyph in a
// Kanji cell (a Big5 symbol Unifont draws 8 wide) is centred, 12 dots wide.
// Font B (9×17) takes the 8×16 glyph 1:1 one dot down.
type cellShape struct {
	w, h       int // cell size in dots, before multipliers
	offX, offY int // glyph origin inside the cell
	xNum, xDen int // cell dot → glyph dot: gx = (dx − offX) · xNum / xDen
	yNum, yDen int
}

func (c cellShape) dot(g *glyph, dx, dy int) bool {
	dx -= c.offX
	dy -= c.offY
	if dx < 0 || dy < 0 {
		return false
	}
	return g.dot(dx*c.xNum/c.xDen, dy*c.yNum/c.yDen)
}

func ankShape(fontB bool, g *glyph) cellShape {
	// A full-width glyph in a half-width cell is squeezed to fit.
	if fontB {
		if g.width == 16 {
			return cellShape{w: fontBCellW, h: fontBCellH, offY: 1, xNum: 16, xDen: fontBCellW, yNum: 1, yDen: 1}
		}
		return cellShape{w: fontBCellW, h: fontBCellH, offY: 1, xNum: 1, xDen: 1, yNum: 1, yDen: 1}
	}
	return cellShape{w: fontACellW, h: fontACellH, xNum: g.width / 4, xDen: 3, yNum: 2, yDen: 3}
}

func kanjiShape(g *glyph) cellShape {
	if g.width == 8 {
		return cellShape{w: kanjiCell, h: kanjiCell, offX: 6, xNum: 2, xDen: 3, yNum: 2, yDen: 3}
	}
	return cellShape{w: kanjiCell, h: kanjiCell, xNum: 2, xDen: 3, yNum: 2, yDen: 3}
}

// tofu is drawn for a code the printer cannot print as meant (unassigned
// or outside classic Big5): a hollow box, so the gap shows on the preview.
var tofuWide, tofuHalf = makeTofu(16), makeTofu(8)

func makeTofu(w int) *glyph {
	g := &glyph{width: w}
	full := uint16(0xFFFF) << uint(16-w+1) // w−1 dots, leaving a gap
	side := uint16(0x8000) | uint16(0x8000)>>uint(w-2)
	g.rows[1] = full
	for y := 2; y < 14; y++ {
		g.rows[y] = side
	}
	g.rows[14] = full
	return g
}

// text handles a printable byte (≥ 0x20).
func (p *printer) text(b byte) {
	if p.st.kanji && b >= 0x80 {
		p.kanjiChar(b)
		return
	}
	r := rune(b)
	table := codeTables[p.st.codeTable]
	if b >= 0x80 {
		r = table.cm.DecodeByte(b)
	}
	g := p.font.byRune[r]
	if g == nil {
		p.problem("no glyph for byte 0x%02X (U+%04X) in code table %s", b, r, table.name)
		g = tofuHalf
	}
	p.ankGlyph(g)
}

func (p *printer) ankGlyph(g *glyph) {
	shape := ankShape(p.st.fontB, g)
	sx, sy := p.st.ankW, p.st.ankH
	p.addItem(item{
		w: (shape.w + p.st.ankSpace) * sx, h: shape.h * sy,
		g: g, cell: shape, sx: sx, sy: sy,
		bold: p.st.bold, ul: p.st.ankUL, rev: p.st.reverse,
	})
}

// kanjiChar reads a two-byte Big5 character starting with lead byte b.
func (p *printer) kanjiChar(lead byte) {
	if lead == 0x80 || lead == 0xFF {
		p.problem("byte 0x%02X in Kanji mode is neither ASCII nor a Big5 lead byte", lead)
		p.kanjiGlyph(tofuWide)
		return
	}
	if p.pos >= len(p.stream) {
		p.problem("Big5 lead byte 0x%02X at the end of the stream, without its trail byte", lead)
		return
	}
	trail := p.stream[p.pos]
	p.pos++
	code := uint16(lead)<<8 | uint16(trail)
	switch {
	case !(trail >= 0x40 && trail <= 0x7E) && !(trail >= 0xA1 && trail <= 0xFE):
		// A stray lead byte eats the next byte, even the ESC of a command.
		p.problem("Big5 lead byte 0x%02X is followed by 0x%02X, not a trail byte: the printer takes both as one character", lead, trail)
	case lead < 0xA1 || lead > 0xF9:
		p.problem("Big5 code %04X is in the user-defined area: the printer has no glyph for it", code)
	case !classicBig5(code):
		p.problem("Big5 code %04X is outside classic Big5 (ETEN/HKSCS/€ range): the printer's ROM may not have it", code)
	default:
		r := p.font.big5[code]
		if r == 0 {
			p.problem("Big5 code %04X is unassigned", code)
			break
		}
		g := p.font.byRune[r]
		if g == nil {
			p.problem("no glyph for Big5 code %04X (U+%04X)", code, r)
			break
		}
		p.kanjiGlyph(g)
		return
	}
	p.kanjiGlyph(tofuWide)
}

func (p *printer) kanjiGlyph(g *glyph) {
	shape := kanjiShape(g)
	sx, sy := p.st.kanjiW, p.st.kanjiH
	p.addItem(item{
		w: (p.st.kanjiLeft + shape.w + p.st.kanjiRight) * sx, h: shape.h * sy,
		g: g, cell: shape, glyphX: p.st.kanjiLeft, sx: sx, sy: sy,
		bold: p.st.bold, ul: p.st.kanjiUL, rev: p.st.reverse,
	})
}

// drawItem draws a cell or bit image with its top-left at (x, y).
func (p *printer) drawItem(c *canvas, it *item, x, y int) {
	if it.img != nil {
		c.blit(it.img, x, y, it.img.rows)
		return
	}
	ink := true
	if it.rev {
		c.fill(x, y, x+it.w, y+it.h, true)
		ink = false
	}
	gx := x + it.glyphX*it.sx
	cell := p.cellDots(it)
	for dy := 0; dy < it.cell.h; dy++ {
		row := cell[dy*it.cell.w : (dy+1)*it.cell.w]
		for dx, on := range row {
			if on {
				c.fill(gx+dx*it.sx, y+dy*it.sy, gx+(dx+1)*it.sx, y+(dy+1)*it.sy, ink)
			}
		}
	}
	if it.ul > 0 {
		c.fill(x, y+it.h-it.ul, x+it.w, y+it.h, ink)
	}
}

type cellKey struct {
	g     *glyph
	shape cellShape
	bold  bool
}

// cellDots returns the cell's dots row by row, computed once per glyph,
// shape and emphasis.
func (p *printer) cellDots(it *item) []bool {
	k := cellKey{it.g, it.cell, it.bold}
	if d, ok := p.cells[k]; ok {
		return d
	}
	d := make([]bool, it.cell.w*it.cell.h)
	for dy := 0; dy < it.cell.h; dy++ {
		for dx := 0; dx < it.cell.w; dx++ {
			// Emphasis prints each dot twice, the second one dot right.
			d[dy*it.cell.w+dx] = it.cell.dot(it.g, dx, dy) || (it.bold && it.cell.dot(it.g, dx-1, dy))
		}
	}
	if p.cells == nil {
		p.cells = make(map[cellKey][]bool)
	}
	p.cells[k] = d
	return d
}

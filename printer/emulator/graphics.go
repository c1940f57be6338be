package emulator

// block is a drawn rectangle of dots (a raster, barcode or QR symbol)
// waiting to be placed.
type block struct {
	c    *canvas
	w, h int
}

// placeBlock puts a block on the paper the way a printer does: in
// standard mode at the start of a line, aligned by ESC a, the paper
// advancing by its height; in page mode with its lower-left corner on the
// baseline at the print position (escpos.md §7), the position moving to
// its right edge.
func (p *printer) placeBlock(b block, name string) {
	if p.page != nil {
		pg := p.page
		a := p.st.pageArea
		top := pg.y - b.h
		if top < 0 {
			p.problem("%s: %d dots tall, but the baseline is %d dots below the top of the page area: the top is cut off", name, b.h, pg.y)
		}
		if pg.x+b.w > a.dx {
			p.problem("%s: %d dots wide at x = %d passes the page area's width (%d dots): clipped", name, b.w, pg.x, a.dx)
		}
		pg.c.blit(b.c, a.x+pg.x, a.y+top, b.h)
		p.markUsed()
		pg.x += b.w
		pg.lineBottom = max(pg.lineBottom, pg.y)
		return
	}
	p.paper.blit(b.c, p.alignedX(b.w), p.y, b.h)
	p.y += b.h
}

// startOfLine reports whether a start-of-line command may run; a printer
// ignores it mid-line.
func (p *printer) startOfLine(name string) bool {
	if p.page == nil && !p.atLineStart() {
		p.problem("%s not at the start of a line (%d characters wait in the buffer): ignored by the printer", name, len(p.items))
		return false
	}
	return true
}

// raster is GS v 0 m xL xH yL yH d1…dk.
func (p *printer) raster(name string) {
	b, ok := p.params(name, 6)
	if !ok {
		return
	}
	if b[0] != '0' {
		p.problem("unknown command %s 0x%02X", name, b[0])
		p.pos -= 5
		return
	}
	name = "GS v 0"
	m := b[1]
	xBytes := int(b[2]) | int(b[3])<<8
	rows := int(b[4]) | int(b[5])<<8
	k := xBytes * rows
	if k > len(p.stream)-p.pos {
		p.problem("%s: %d×%d bytes of raster need %d data bytes, the stream has %d left", name, xBytes, rows, k, len(p.stream)-p.pos)
		p.pos = len(p.stream)
		return
	}
	data := p.stream[p.pos : p.pos+k]
	p.pos += k
	if m > 3 && (m < '0' || m > '3') {
		p.problem("%s: mode %d must be 0–3", name, m)
		return
	}
	if k == 0 {
		p.problem("%s: empty raster (%d×%d bytes)", name, xBytes, rows)
		return
	}
	if p.page != nil {
		p.problem("%s is not available in page mode: %d bytes ignored by the printer", name, k)
		return
	}
	if !p.startOfLine(name) {
		return
	}
	sx, sy := 1+int(m&1), 1+int(m>>1&1)
	w, h := xBytes*8*sx, rows*sy
	left, aw := p.area()
	if w > aw {
		p.problem("%s: %d dots wide, wider than the print area (%d dots): the right part is lost", name, w, aw)
	}
	x0 := p.alignedX(min(w, aw))
	if w > aw {
		x0 = left
	}
	p.paper.grow(p.y + h)
	for r := 0; r < rows; r++ {
		line := data[r*xBytes : (r+1)*xBytes]
		for i, v := range line {
			if v == 0 {
				continue
			}
			for bit := 0; bit < 8; bit++ {
				if v&(0x80>>uint(bit)) != 0 {
					x := x0 + (i*8+bit)*sx
					if x >= left+aw {
						continue
					}
					p.paper.fill(x, p.y+r*sy, x+sx, p.y+(r+1)*sy, true)
				}
			}
		}
	}
	p.y += h
}

// bitImage is ESC * m nL nH d…: column-format image, one line tall (8 or
// 24 dots scaled to 24 dots at 203 dpi).
func (p *printer) bitImage(name string) {
	b, ok := p.params(name, 3)
	if !ok {
		return
	}
	m := b[0]
	cols := int(b[1]) | int(b[2])<<8
	var bytesPerCol, sx, sy int
	switch m {
	case 0:
		bytesPerCol, sx, sy = 1, 2, 3
	case 1:
		bytesPerCol, sx, sy = 1, 1, 3
	case 32:
		bytesPerCol, sx, sy = 3, 2, 1
	case 33:
		bytesPerCol, sx, sy = 3, 1, 1
	default:
		p.problem("%s %d: mode must be 0, 1, 32 or 33; the rest of the stream cannot be parsed safely", name, m)
		p.pos = len(p.stream)
		return
	}
	k := cols * bytesPerCol
	if k > len(p.stream)-p.pos {
		p.problem("%s: %d columns need %d data bytes, the stream has %d left", name, cols, k, len(p.stream)-p.pos)
		p.pos = len(p.stream)
		return
	}
	data := p.stream[p.pos : p.pos+k]
	p.pos += k
	if cols == 0 {
		return
	}
	w, h := cols*sx, 24
	if _, aw := p.area(); p.page == nil && w > aw {
		p.problem("%s: %d dots wide, wider than the print area (%d dots): the right part is lost", name, w, aw)
		w = aw
	}
	img := newCanvas(w, h)
	for col := 0; col < cols && col*sx < w; col++ {
		for by := 0; by < bytesPerCol; by++ {
			v := data[col*bytesPerCol+by]
			for bit := 0; bit < 8; bit++ {
				if v&(0x80>>uint(bit)) != 0 {
					y := (by*8 + bit) * sy
					img.fill(col*sx, y, (col+1)*sx, y+sy, true)
				}
			}
		}
	}
	img.grow(h)
	p.addItem(item{w: w, h: h, img: img})
}

// cutCommand is GS V m [n].
func (p *printer) cutCommand(name string) {
	m, ok := p.byte1(name)
	if !ok {
		return
	}
	feed := 0
	partial := false
	switch m {
	case 0, '0':
	case 1, '1':
		partial = true
	case 65, 66, 97, 98, 103, 104:
		n, ok := p.byte1(name)
		if !ok {
			return
		}
		feed = int(n)
		partial = m == 66 || m == 98 || m == 104
	default:
		p.problem("GS V %d: unknown cut mode", m)
		return
	}
	if p.page != nil {
		p.problem("GS V in page mode is ignored by the printer")
		return
	}
	if !p.startOfLine("GS V") {
		return
	}
	p.y += feed
	p.cut(partial)
}

// cut draws the cut as a dashed line across the paper (long dashes for a
// full cut, short for a partial one).
func (p *printer) cut(partial bool) {
	if p.page != nil {
		p.problem("cut in page mode is ignored by the printer")
		return
	}
	dash, gap := 8, 4
	if partial {
		dash, gap = 4, 4
	}
	y := p.y + 4
	for x := 0; x < p.width; x += dash + gap {
		p.paper.fill(x, y, x+dash, y+1, true)
	}
	p.y += 9
}

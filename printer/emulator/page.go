package emulator

// enterPage is ESC L: start page mode at the start of a line.
func (p *printer) enterPage() {
	if p.page != nil {
		return
	}
	if !p.startOfLine("ESC L") {
		return
	}
	p.page = &pageState{c: newCanvas(p.width, maxPageHeight)}
	p.applyArea()
}

// applyArea clips drawing to the ESC W area and puts the print position
// at its top left.
func (p *printer) applyArea() {
	a := p.st.pageArea
	pg := p.page
	pg.c.setClip(a.x, a.y, a.x+a.dx, a.y+a.dy)
	pg.x, pg.y, pg.lineBottom = 0, 0, 0
}

// markUsed remembers that the current area holds data: FF prints down to
// the lowest such area and at least the current one.
func (p *printer) markUsed() {
	a := p.st.pageArea
	p.page.bottom = max(p.page.bottom, a.y+a.dy)
}

// setPageArea is ESC W x y dx dy (motion units = dots).
func (p *printer) setPageArea(x, y, dx, dy int) {
	if dx == 0 || dy == 0 {
		p.problem("ESC W %d %d %d %d: width and height must not be 0: ignored", x, y, dx, dy)
		return
	}
	if x >= p.width {
		p.problem("ESC W: area starts at x = %d, beyond the paper (%d dots): ignored", x, p.width)
		return
	}
	if x+dx > p.width {
		p.problem("ESC W: area %d+%d dots passes the paper width (%d): cut to %d", x, dx, p.width, p.width-x)
		dx = p.width - x
	}
	if y+dy > maxPageHeight {
		p.problem("ESC W: area bottom %d passes the emulated page buffer (%d dots): cut", y+dy, maxPageHeight)
		dy = max(maxPageHeight-y, 0)
		if dy == 0 {
			return
		}
	}
	p.st.pageArea = rect{x, y, dx, dy}
	if p.page != nil {
		p.applyArea()
	}
}

// setY is GS $ n: the absolute vertical position (the baseline) in page
// mode; standard mode ignores it.
func (p *printer) setY(n int, name string) {
	if p.page == nil {
		p.problem("%s outside page mode is ignored by the printer", name)
		return
	}
	dy := p.st.pageArea.dy
	switch {
	case n < 0 || n > dy:
		p.problem("%s %d lies outside the page area (%d dots tall): ignored", name, n, dy)
		return
	case n == dy:
		// Manuals say a position "exceeding the printing area" is ignored;
		// whether the bottom edge itself exceeds it differs by reading and
		// by model [U]. Draw it (an image then ends on the last row) but
		// warn: a printer that ignores it prints the symbol cut off.
		p.problem("%s %d is the bottom edge of the page area (%d dots tall): a printer that takes it as outside the area ignores it; keep it below %d", name, n, dy, dy)
	}
	p.page.y = n
	p.page.lineBottom = 0
}

// pagePlace draws a character or bit image in page mode: its bottom on the
// baseline, the position moving right. On the first line of an area the
// baseline is pushed down so that the cell starts inside the area.
func (p *printer) pagePlace(it item) {
	pg := p.page
	a := p.st.pageArea
	if pg.x+it.w > a.dx && pg.x > 0 {
		p.lineFeed(p.st.lineSpacing)
	}
	base := pg.y
	if base < it.h {
		base = it.h
		if pg.y == 0 {
			pg.y = base
		}
	}
	p.drawItem(pg.c, &it, a.x+pg.x, a.y+base-it.h)
	p.markUsed()
	pg.x += it.w
	pg.lineBottom = max(pg.lineBottom, base)
}

// printPage prints the page buffer as one band (FF, ESC FF).
func (p *printer) printPage() {
	pg := p.page
	a := p.st.pageArea
	band := max(pg.bottom, a.y+a.dy)
	p.paper.blit(pg.c, 0, p.y, band)
	p.y += band
}

func (p *printer) clearPage() {
	p.page.c = newCanvas(p.width, maxPageHeight)
	p.page.bottom = 0
	p.applyArea()
}

// formFeed is FF: in page mode print the page and return to standard mode.
func (p *printer) formFeed() {
	if p.page == nil {
		p.problem("FF outside page mode is ignored by the printer")
		return
	}
	p.printPage()
	p.page = nil
}

package emulator

import "fmt"

// cmdName spells a command for a problem message: "ESC t", "GS 0x99".
func cmdName(prefix string, b byte) string {
	if b > 0x20 && b < 0x7F {
		return fmt.Sprintf("%s %c", prefix, b)
	}
	return fmt.Sprintf("%s 0x%02X", prefix, b)
}

// byte1 reads a command's single parameter byte.
func (p *printer) byte1(name string) (byte, bool) {
	b, ok := p.params(name, 1)
	if !ok {
		return 0, false
	}
	return b[0], true
}

func (p *printer) u16(name string) (int, bool) {
	b, ok := p.params(name, 2)
	if !ok {
		return 0, false
	}
	return int(b[0]) | int(b[1])<<8, true
}

// onOff reads n where bit 0 switches a mode (0/1 or '0'/'1').
func (p *printer) onOff(name string) (bool, bool) {
	n, ok := p.byte1(name)
	return n&1 == 1, ok
}

func (p *printer) esc() {
	c, ok := p.byte1("ESC")
	if !ok {
		return
	}
	name := cmdName("ESC", c)
	switch c {
	case '@':
		p.reset()
	case '!':
		if n, ok := p.byte1(name); ok {
			p.st.fontB = n&0x01 != 0
			p.st.bold = n&0x08 != 0
			p.st.ankH = 1 + int(n>>4&1)
			p.st.ankW = 1 + int(n>>5&1)
			p.st.ankUL = int(n >> 7)
		}
	case ' ':
		if n, ok := p.byte1(name); ok {
			p.st.ankSpace = int(n)
		}
	case '$':
		if n, ok := p.u16(name); ok {
			p.setX(n, name)
		}
	case '\\':
		if n, ok := p.u16(name); ok {
			p.relativeX(int(int16(n)), name)
		}
	case '-':
		if n, ok := p.byte1(name); ok {
			p.st.ankUL = p.underline(n, name, p.st.ankUL)
		}
	case '2':
		p.st.lineSpacing = defaultLineSpacing
	case '3':
		if n, ok := p.byte1(name); ok {
			p.st.lineSpacing = int(n)
		}
	case 'E', 'G':
		if on, ok := p.onOff(name); ok {
			p.st.bold = on
		}
	case 'M':
		if n, ok := p.byte1(name); ok {
			switch n {
			case 0, '0':
				p.st.fontB = false
			case 1, '1':
				p.st.fontB = true
			default:
				p.problem("ESC M %d: font not emulated, font A kept", n)
			}
		}
	case 'a':
		if n, ok := p.byte1(name); ok {
			p.setAlign(n)
		}
	case 'd':
		if n, ok := p.byte1(name); ok {
			p.lineFeed(int(n) * p.st.lineSpacing)
		}
	case 'J':
		if n, ok := p.byte1(name); ok {
			p.lineFeed(int(n))
		}
	case 't':
		if n, ok := p.byte1(name); ok {
			if _, known := codeTables[n]; known {
				p.st.codeTable = n
			} else {
				p.problem("ESC t %d: code table not emulated (only %s); PC437 kept", n, codeTableList())
				p.st.codeTable = 0
			}
		}
	case 'R':
		if n, ok := p.byte1(name); ok && n != 0 {
			p.problem("ESC R %d: only the USA international character set is emulated", n)
		}
	case 'D':
		p.setTabs()
	case 'L':
		p.enterPage()
	case 'S':
		if p.page != nil {
			p.page = nil
		}
	case 'W':
		if b, ok := p.params(name, 8); ok {
			p.setPageArea(int(b[0])|int(b[1])<<8, int(b[2])|int(b[3])<<8, int(b[4])|int(b[5])<<8, int(b[6])|int(b[7])<<8)
		}
	case 'T':
		if n, ok := p.byte1(name); ok {
			switch {
			case n <= 3 || (n >= '0' && n <= '3'):
				p.st.direction = int(n & 3)
				if p.st.direction != 0 {
					p.problem("ESC T %d: page-mode print direction not emulated; drawn left to right from the top", n&3)
				}
			default:
				p.problem("ESC T %d: direction must be 0–3", n)
			}
		}
	case 0x0C:
		if p.page == nil {
			p.problem("ESC FF outside page mode is ignored")
		} else {
			p.printPage()
		}
	case '*':
		p.bitImage(name)
	case '{', 'V':
		if n, ok := p.byte1(name); ok && n&1 != 0 {
			p.problem("%s %d: rotated/upside-down printing not emulated", name, n)
		}
	case 'p':
		p.params(name, 3) // drawer kick: no ink
	case 'v':
		// Paper sensor status (old models): an answer, no ink.
	case '=', 'c', 'u', 'U', 'r', '?', '%':
		// Peripheral select, panel keys, status of the old printers,
		// unidirectional printing, colour, user-defined character set
		// switch: no effect on the picture of a one-colour receipt.
		if c == 'c' {
			p.params(name, 2)
		} else {
			p.params(name, 1)
		}
	case '&':
		p.userChars()
	case 'i', 'm':
		p.cut(true)
	default:
		p.problem("unknown command %s", name)
	}
}

func (p *printer) underline(n byte, name string, old int) int {
	switch n {
	case 0, '0':
		return 0
	case 1, '1':
		return 1
	case 2, '2':
		return 2
	}
	p.problem("%s %d: underline must be 0–2", name, n)
	return old
}

func (p *printer) setAlign(n byte) {
	a := -1
	switch n {
	case 0, '0':
		a = 0
	case 1, '1':
		a = 1
	case 2, '2':
		a = 2
	}
	if a < 0 {
		p.problem("ESC a %d: alignment must be 0–2", n)
		return
	}
	if p.page == nil && !p.atLineStart() {
		p.problem("ESC a %d not at the start of a line: ignored by the printer", n)
		return
	}
	p.st.align = a
}

func (p *printer) setTabs() {
	var tabs []int
	unit := (fontACellW + p.st.ankSpace) * p.st.ankW
	if p.st.fontB {
		unit = (fontBCellW + p.st.ankSpace) * p.st.ankW
	}
	last := 0
	for {
		n, ok := p.byte1("ESC D")
		if !ok {
			return
		}
		if n == 0 {
			break
		}
		if int(n) <= last || len(tabs) == 32 {
			p.problem("ESC D: tab columns must rise and be at most 32 (got %d after %d)", n, last)
			continue
		}
		last = int(n)
		tabs = append(tabs, int(n)*unit)
	}
	p.st.tabs = tabs
}

func (p *printer) setX(n int, name string) {
	if p.page != nil {
		if n >= p.st.pageArea.dx {
			p.problem("%s %d lies outside the page area (%d dots wide): ignored", name, n, p.st.pageArea.dx)
			return
		}
		p.page.x = n
		return
	}
	if _, aw := p.area(); n >= aw {
		p.problem("%s %d lies outside the print area (%d dots): ignored", name, n, aw)
		return
	}
	p.lineX = n
}

func (p *printer) relativeX(d int, name string) {
	if p.page != nil {
		p.setX(p.page.x+d, name)
		return
	}
	p.setX(p.lineX+d, name)
}

func (p *printer) gs() {
	c, ok := p.byte1("GS")
	if !ok {
		return
	}
	name := cmdName("GS", c)
	switch c {
	case '!':
		if n, ok := p.byte1(name); ok {
			w, h := 1+int(n>>4&7), 1+int(n&7)
			if n&0x88 != 0 {
				p.problem("GS ! 0x%02X: bits 3 and 7 must be 0", n)
				return
			}
			p.st.ankW, p.st.ankH, p.st.kanjiW, p.st.kanjiH = w, h, w, h
		}
	case 'B':
		if on, ok := p.onOff(name); ok {
			p.st.reverse = on
		}
	case 'L':
		if n, ok := p.u16(name); ok {
			if p.page == nil && !p.atLineStart() {
				p.problem("GS L not at the start of a line: ignored by the printer")
				return
			}
			p.st.leftMargin = n
			if n >= p.width {
				p.problem("GS L %d: left margin beyond the paper (%d dots)", n, p.width)
			}
		}
	case 'W':
		if n, ok := p.u16(name); ok {
			if p.page == nil && !p.atLineStart() {
				p.problem("GS W not at the start of a line: ignored by the printer")
				return
			}
			if n == 0 {
				p.problem("GS W 0: print width must be at least 1 dot")
				return
			}
			p.st.areaWidth = n
		}
	case 'P':
		if b, ok := p.params(name, 2); ok {
			for _, u := range b {
				if u != 0 && u != 203 {
					p.problem("GS P %d %d: only a motion unit of 1 dot (203 dpi) is emulated", b[0], b[1])
					break
				}
			}
		}
	case '$':
		if n, ok := p.u16(name); ok {
			p.setY(n, name)
		}
	case '\\':
		if n, ok := p.u16(name); ok {
			if p.page == nil {
				p.problem("GS \\ outside page mode is ignored")
				return
			}
			p.setY(p.page.y+int(int16(n)), name)
		}
	case 'V':
		p.cutCommand(name)
	case 'v':
		p.raster(name)
	case 'k':
		p.barcode(name)
	case 'h':
		if n, ok := p.byte1(name); ok {
			if n == 0 {
				p.problem("GS h 0: bar height must be 1–255 dots")
				return
			}
			p.st.barHeight = int(n)
		}
	case 'w':
		if n, ok := p.byte1(name); ok {
			if n < 1 || n > 6 {
				p.problem("GS w %d: module width must be 1–6 dots", n)
				return
			}
			p.st.barModule = int(n)
		}
	case 'H':
		if n, ok := p.byte1(name); ok {
			if n > 3 && (n < '0' || n > '3') {
				p.problem("GS H %d: HRI position must be 0–3", n)
				return
			}
			p.st.hri = int(n & 3)
		}
	case 'f':
		if n, ok := p.byte1(name); ok {
			p.st.hriFont = int(n & 1)
		}
	case '(':
		p.gsParen()
	case 'r', 'a', 'I', 'b', 'g':
		// Status requests, automatic status back, printer ID, smoothing:
		// answers on the wire, no ink.
		p.params(name, 1)
	case '8':
		p.skipLong(name)
	case '*':
		if b, ok := p.params(name, 2); ok {
			n := int(b[0]) * int(b[1]) * 8
			p.problem("GS * (downloaded bit image) not emulated: %d data bytes skipped", n)
			p.skip(name, n)
		}
	case '/':
		p.params(name, 1)
		p.problem("GS / (print downloaded bit image) not emulated")
	case ':':
		p.problem("GS : (macro definition) not emulated")
	default:
		p.problem("unknown command %s", name)
	}
}

// skip passes over n data bytes, reporting a count that runs past the end.
func (p *printer) skip(name string, n int) bool {
	if n > len(p.stream)-p.pos {
		p.problem("%s claims %d data bytes, the stream has %d left", name, n, len(p.stream)-p.pos)
		p.pos = len(p.stream)
		return false
	}
	p.pos += n
	return true
}

// skipLong passes over GS 8 L: a four-byte length (graphics, page-mode
// images on newer models), which the emulator does not draw.
func (p *printer) skipLong(name string) {
	b, ok := p.params(name, 5)
	if !ok {
		return
	}
	if b[0] != 'L' {
		p.problem("unknown command %s 0x%02X", name, b[0])
		p.pos -= 4
		return
	}
	n := int(b[1]) | int(b[2])<<8 | int(b[3])<<16 | int(b[4])<<24
	p.problem("GS 8 L (graphics data) not emulated: %d bytes skipped", n)
	p.skip("GS 8 L", n)
}

// gsParen handles the GS ( X pL pH … family: QR codes are drawn, status
// requests are silent, the rest is skipped by its length and reported.
func (p *printer) gsParen() {
	b, ok := p.params("GS (", 3)
	if !ok {
		return
	}
	fn := b[0]
	name := cmdName("GS (", fn)
	n := int(b[1]) | int(b[2])<<8
	if n > len(p.stream)-p.pos {
		p.problem("%s: pL pH = %d runs past the end of the stream (%d bytes left)", name, n, len(p.stream)-p.pos)
		p.pos = len(p.stream)
		return
	}
	body := p.stream[p.pos : p.pos+n]
	p.pos += n
	switch fn {
	case 'k':
		p.symbol(body)
	case 'H':
		// Response/status requests: answers on the wire, no ink.
	default:
		p.problem("%s not emulated: %d bytes skipped", name, n)
	}
}

func (p *printer) fs() {
	c, ok := p.byte1("FS")
	if !ok {
		return
	}
	name := cmdName("FS", c)
	switch c {
	case '&':
		p.st.kanji = true
	case '.':
		p.st.kanji = false
	case '!':
		if n, ok := p.byte1(name); ok {
			p.st.kanjiW = 1 + int(n>>2&1)
			p.st.kanjiH = 1 + int(n>>3&1)
			p.st.kanjiUL = int(n >> 7)
		}
	case 'W':
		if on, ok := p.onOff(name); ok {
			if on {
				p.st.kanjiW, p.st.kanjiH = 2, 2
			} else {
				p.st.kanjiW, p.st.kanjiH = 1, 1
			}
		}
	case '-':
		if n, ok := p.byte1(name); ok {
			p.st.kanjiUL = p.underline(n, name, p.st.kanjiUL)
		}
	case 'S':
		if b, ok := p.params(name, 2); ok {
			p.st.kanjiLeft, p.st.kanjiRight = int(b[0]), int(b[1])
		}
	case 'C':
		p.params(name, 1) // Kanji code system (JIS/Shift JIS): Big5 models ignore it
	case '?':
		p.params(name, 2)
	case '2':
		if p.skip(name, 2+72) {
			p.problem("FS 2 (user-defined Kanji) not emulated")
		}
	case 'p':
		p.params(name, 2)
		p.problem("FS p (print NV bit image) not emulated")
	case '(':
		b, ok := p.params(name, 3)
		if !ok {
			return
		}
		n := int(b[1]) | int(b[2])<<8
		if p.skip(cmdName("FS (", b[0]), n) {
			p.problem("%s not emulated (text is still read as Big5/PC437): %d bytes skipped", cmdName("FS (", b[0]), n)
		}
	default:
		p.problem("unknown command %s", name)
	}
}

func (p *printer) dle() {
	c, ok := p.byte1("DLE")
	if !ok {
		return
	}
	name := cmdName("DLE", c)
	switch c {
	case 0x04: // DLE EOT n: real-time status
		if n, ok := p.byte1("DLE EOT"); ok && (n < 1 || n > 4) {
			p.problem("DLE EOT %d: status type must be 1–4", n)
		}
	case 0x05: // DLE ENQ n: recovery request
		if n, ok := p.byte1("DLE ENQ"); ok && n > 2 {
			p.problem("DLE ENQ %d: request must be 0–2", n)
		}
	case 0x14: // DLE DC4 fn …: real-time pulse, power off, buffer clear
		fn, ok := p.byte1("DLE DC4")
		if !ok {
			return
		}
		switch fn {
		case 1, 2:
			p.params("DLE DC4", 2)
		case 8:
			if _, ok := p.params("DLE DC4", 6); ok {
				p.items = p.items[:0]
				p.lineX = 0
			}
		default:
			p.problem("DLE DC4 %d: unknown function", fn)
		}
	default:
		p.problem("unknown command %s", name)
	}
}

// userChars passes over ESC & y c1 c2 [x d1…d(y·x)]…: user-defined
// characters are not emulated (the layout has no reason to send them).
func (p *printer) userChars() {
	b, ok := p.params("ESC &", 3)
	if !ok {
		return
	}
	y, c1, c2 := int(b[0]), int(b[1]), int(b[2])
	if c1 > c2 {
		p.problem("ESC & %d %d %d: first character after the last", y, c1, c2)
		return
	}
	for range c2 - c1 + 1 {
		x, ok := p.byte1("ESC &")
		if !ok {
			return
		}
		if !p.skip("ESC &", y*int(x)) {
			return
		}
	}
	p.problem("ESC & (user-defined characters) not emulated; the printer's own glyphs are drawn")
}

package emulator

import (
	"fmt"
	"image"

	qrcode "github.com/skip2/go-qrcode"
)

// Defaults of a 203-dpi printer after ESC @. The motion unit is taken as
// one dot (GS P 0 0 on 203-dpi models, escpos.md §3).
const (
	// defaultLineSpacing is ESC 2 "about 1/6 inch": Epson's 203-dpi models
	// use 30 dots (3.75 mm) [U: varies by model, 30–34].
	defaultLineSpacing = 30
	defaultBarHeight   = 162
	defaultBarModule   = 3
	defaultQRModule    = 3
	defaultTabColumns  = 8
	// defaultPageHeight is the page-mode area height when ESC W was never
	// sent [U: model-specific; Epson TM-T88 uses 1,662].
	defaultPageHeight = 1662
	// maxLineItems bounds one line's buffer (ESC $ can stack characters
	// on one spot forever).
	maxLineItems = 4096
)

// settings is everything ESC @ resets.
type settings struct {
	fontB          bool
	ankW, ankH     int // ANK character multipliers (GS !, ESC !)
	kanjiW, kanjiH int // Kanji multipliers (GS !, FS !, FS W)
	bold           bool
	ankUL, kanjiUL int // underline thickness in dots, 0 = off
	reverse        bool
	kanji          bool
	codeTable      byte // ESC t: the single-byte table outside Kanji mode
	ankSpace       int  // ESC SP: right spacing of ANK characters
	kanjiLeft      int  // FS S
	kanjiRight     int
	align          int // 0 left, 1 centre, 2 right
	lineSpacing    int
	leftMargin     int
	areaWidth      int
	tabs           []int // tab stops in dots from the left of the print area

	barHeight, barModule int
	hri, hriFont         int

	qrModel  byte
	qrModule int
	qrECC    qrcode.RecoveryLevel
	qrData   []byte

	pageArea  rect // ESC W
	direction int  // ESC T
}

type rect struct{ x, y, dx, dy int }

func defaultSettings(width int) settings {
	s := settings{
		ankW: 1, ankH: 1, kanjiW: 1, kanjiH: 1,
		lineSpacing: defaultLineSpacing,
		areaWidth:   width,
		barHeight:   defaultBarHeight, barModule: defaultBarModule,
		qrModel: '2', qrModule: defaultQRModule, qrECC: qrcode.Low,
		pageArea: rect{0, 0, width, defaultPageHeight},
	}
	for i := 1; i <= 32; i++ {
		s.tabs = append(s.tabs, i*defaultTabColumns*fontACellW)
	}
	return s
}

// item is one thing waiting in the line buffer: a character cell or a
// bit image.
type item struct {
	x, w, h int // position in the line and size in dots
	g       *glyph
	cell    cellShape
	glyphX  int // left spacing inside the cell, in cell dots
	sx, sy  int
	bold    bool
	ul      int
	rev     bool
	img     *canvas // ESC * bit image
}

// pageState is the page-mode buffer: one canvas the paper's width, areas
// (ESC W) clip into it.
type pageState struct {
	c          *canvas
	x, y       int // print position relative to the area; y is the baseline
	lineBottom int // lowest baseline used on the current line
	bottom     int // lowest area edge used: the band FF prints
}

type printer struct {
	stream []byte
	pos    int // next byte to read
	cmd    int // offset of the command being handled
	width  int
	font   *fontData

	paper *canvas
	y     int // top of the next standard-mode line on the paper

	st    settings
	items []item
	lineX int // next character position relative to the print area
	page  *pageState

	qrCache struct {
		data  string
		ecc   qrcode.RecoveryLevel
		bits  [][]bool
		err   error
		valid bool
	}

	// cells caches each character cell's dots (after scaling and
	// emphasis, before size multipliers) for this render.
	cells map[cellKey][]bool

	problems      []Problem
	dropped       int
	paperReported bool
	itemsReported bool
}

func newPrinter(stream []byte, width int, f *fontData) *printer {
	return &printer{
		stream: stream, width: width, font: f,
		paper: newCanvas(width, MaxPaperLength),
		st:    defaultSettings(width),
	}
}

func (p *printer) problem(format string, args ...any) {
	if len(p.problems) >= maxProblems {
		p.dropped++
		return
	}
	p.problems = append(p.problems, Problem{Offset: p.cmd, Message: fmt.Sprintf(format, args...)})
}

// params returns the next n parameter bytes of the command named name, or
// reports the truncation and ends the stream.
func (p *printer) params(name string, n int) ([]byte, bool) {
	if n <= len(p.stream)-p.pos {
		b := p.stream[p.pos : p.pos+n]
		p.pos += n
		return b, true
	}
	p.problem("%s truncated: needs %d parameter bytes, the stream has %d left", name, n, len(p.stream)-p.pos)
	p.pos = len(p.stream)
	return nil, false
}

func (p *printer) run() {
	for p.pos < len(p.stream) {
		p.cmd = p.pos
		b := p.stream[p.pos]
		p.pos++
		switch {
		case b == 0x1B:
			p.esc()
		case b == 0x1D:
			p.gs()
		case b == 0x1C:
			p.fs()
		case b == 0x10:
			p.dle()
		case b == '\n':
			p.lineFeed(p.st.lineSpacing)
		case b == '\r':
			// CR prints nothing while automatic line feed is off (the
			// serial default); LF does the work.
		case b == '\t':
			p.tab()
		case b == 0x0C:
			p.formFeed()
		case b == 0x18:
			if p.page != nil {
				p.clearPage()
			}
		case b == 0x00:
			// NUL is the padding hosts send to complete a half-sent
			// command (escpos.md §10).
		case b < 0x20 || b == 0x7F:
			p.problem("unknown control byte 0x%02X", b)
		default:
			p.text(b)
		}
		p.checkPaper()
	}
	p.cmd = len(p.stream)
	if len(p.items) > 0 {
		p.problem("the stream ends with %d characters in the line buffer that never print (no LF)", len(p.items))
	}
	if p.page != nil {
		p.problem("the stream ends in page mode; the page never prints (no FF)")
	}
}

func (p *printer) checkPaper() {
	if !p.paperReported && (p.paper.clipped || p.y > MaxPaperLength) {
		p.paperReported = true
		p.problem("the paper passes %d dots (%d m): the rest is not drawn", MaxPaperLength, MaxPaperLength/8000)
	}
}

func (p *printer) result() *Result {
	h := max(p.y, p.paper.rows)
	h = max(1, min(h, MaxPaperLength))
	img := image.NewGray(image.Rect(0, 0, p.width, h))
	n := min(len(img.Pix), len(p.paper.pix))
	for i, v := range p.paper.pix[:n] {
		img.Pix[i] = v - 1 // 1 (ink) → 0x00, 0 → 0xFF
	}
	for i := n; i < len(img.Pix); i++ {
		img.Pix[i] = 0xFF
	}
	probs := p.problems
	if p.dropped > 0 {
		probs = append(probs, Problem{Offset: len(p.stream), Message: fmt.Sprintf("%d more problems not listed", p.dropped)})
	}
	return &Result{Image: img, Problems: probs}
}

// reset is ESC @: modes back to power-on, the line buffer and page mode
// discarded; the paper stays.
func (p *printer) reset() {
	if len(p.items) > 0 {
		p.problem("ESC @ discards %d characters waiting in the line buffer", len(p.items))
	}
	if p.page != nil && p.page.bottom > 0 {
		p.problem("ESC @ discards the page-mode buffer before it was printed (no FF)")
	}
	p.items = p.items[:0]
	p.lineX = 0
	p.page = nil
	p.st = defaultSettings(p.width)
}

// area returns the standard-mode print area: left edge and width.
func (p *printer) area() (left, width int) {
	left = min(p.st.leftMargin, p.width)
	width = min(p.st.areaWidth, p.width-left)
	return left, max(width, 0)
}

func (p *printer) atLineStart() bool { return len(p.items) == 0 }

// alignedX is where a line or block of width w starts on the paper.
func (p *printer) alignedX(w int) int {
	left, aw := p.area()
	switch p.st.align {
	case 1:
		return left + max(aw-w, 0)/2
	case 2:
		return left + max(aw-w, 0)
	}
	return left
}

// addItem puts a character or bit image on the line, printing the line
// first when it would overflow the print area (automatic wrap).
func (p *printer) addItem(it item) {
	if p.page != nil {
		p.pagePlace(it)
		return
	}
	_, aw := p.area()
	if p.lineX+it.w > aw && len(p.items) > 0 {
		p.lineFeed(p.st.lineSpacing)
	}
	if len(p.items) >= maxLineItems {
		if !p.itemsReported {
			p.itemsReported = true
			p.problem("more than %d characters on one line: the rest are dropped", maxLineItems)
		}
		return
	}
	it.x = p.lineX
	p.lineX += it.w
	p.items = append(p.items, it)
}

// lineFeed prints the line buffer and feeds: the line's cells sit on a
// common baseline, and the paper moves by the line spacing or the tallest
// cell, whichever is more.
func (p *printer) lineFeed(feed int) {
	if p.page != nil {
		pg := p.page
		pg.x = 0
		pg.y = max(pg.y, pg.lineBottom) + feed
		pg.lineBottom = 0
		return
	}
	h, w := 0, 0
	for _, it := range p.items {
		h = max(h, it.h)
		w = max(w, it.x+it.w)
	}
	x0 := p.alignedX(w)
	for i := range p.items {
		it := &p.items[i]
		p.drawItem(p.paper, it, x0+it.x, p.y+h-it.h)
	}
	p.y += max(h, feed)
	p.items = p.items[:0]
	p.lineX = 0
}

func (p *printer) tab() {
	if p.page != nil {
		for _, t := range p.st.tabs {
			if t > p.page.x {
				p.page.x = t
				return
			}
		}
		return
	}
	for _, t := range p.st.tabs {
		if t > p.lineX {
			_, aw := p.area()
			if t <= aw {
				p.lineX = t
			}
			return
		}
	}
}

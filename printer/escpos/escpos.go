// Package escpos encodes ESC/POS printer commands into bytes. It knows nothing
// about invoices: a Builder appends commands to a byte slice, and the caller
// decides what goes on the paper.
//
// The commands and their byte forms are those of ../../shared/docs/escpos.md
// (Epson's reference, checked against python-escpos and escpos-php); where
// models differ the doc names the safe choice, which this package takes.
//
// Text goes in as UTF-8 and comes out as classic Big5 in Kanji mode (see Text),
// or, for a European receipt, as a single-byte code page (AppendCodePage).
// A Builder never writes a byte that could be mistaken for part of a command:
// characters outside the safe Big5 ranges become a full-width question mark and
// are reported, and a two-byte character is never split.
package escpos

import "fmt"

// Control bytes.
const (
	NUL = 0x00
	LF  = 0x0A
	FF  = 0x0C
	CAN = 0x18
	DLE = 0x10
	EOT = 0x04
	ESC = 0x1B
	FS  = 0x1C
	GS  = 0x1D
)

// Builder appends ESC/POS commands to a byte slice. The zero value is ready to
// use. Methods whose input comes from data (text, QR payloads, barcodes,
// images) check it and return an error; methods whose arguments are the
// programmer's constants panic on values no printer accepts.
type Builder struct {
	buf      []byte
	replaced []rune
}

// NewBuilder returns a Builder that appends to buf (which may be nil), so a
// caller can reuse a buffer of the right capacity.
func NewBuilder(buf []byte) *Builder { return &Builder{buf: buf[:0]} }

// Bytes returns the commands appended so far. The slice aliases the Builder's
// buffer until the next append.
func (b *Builder) Bytes() []byte { return b.buf }

// Len is the number of bytes appended so far.
func (b *Builder) Len() int { return len(b.buf) }

// Replaced lists, in order, every rune Text could not print and replaced with
// a full-width question mark. The caller logs it: a garbled item name on a
// legal proof is something an operator must hear about.
func (b *Builder) Replaced() []rune { return b.replaced }

// Raw appends bytes as they are. It is the escape hatch for commands this
// package does not model; the caller answers for what it sends.
func (b *Builder) Raw(p ...byte) { b.buf = append(b.buf, p...) }

// Initialize is ESC @: it clears the buffer and resets every mode, including
// Kanji mode, the code table and the QR settings, so send it only at the start
// of a job and re-select modes after it.
func (b *Builder) Initialize() { b.buf = append(b.buf, ESC, '@') }

// CodeTable is ESC t n: the single-byte code table (0 = PC437).
func (b *Builder) CodeTable(n byte) { b.buf = append(b.buf, ESC, 't', n) }

// KanjiOn is FS &: two-byte (Big5 on Traditional-Chinese models) mode.
func (b *Builder) KanjiOn() { b.buf = append(b.buf, FS, '&') }

// KanjiOff is FS .: back to single-byte characters.
func (b *Builder) KanjiOff() { b.buf = append(b.buf, FS, '.') }

// Size is GS ! n: character width and height multipliers, 1–8 each. It is the
// one size command that scales Chinese on every model (ESC ! may not).
func (b *Builder) Size(width, height int) {
	if width < 1 || width > 8 || height < 1 || height > 8 {
		panic(fmt.Sprintf("escpos: character size %d×%d outside 1–8", width, height))
	}
	b.buf = append(b.buf, GS, '!', byte((width-1)<<4|(height-1)))
}

// Bold is ESC E n: emphasis on or off.
func (b *Builder) Bold(on bool) { b.buf = append(b.buf, ESC, 'E', boolByte(on)) }

// Underline is ESC - n: 0 off, 1 one dot, 2 two dots.
func (b *Builder) Underline(dots int) {
	if dots < 0 || dots > 2 {
		panic(fmt.Sprintf("escpos: underline %d outside 0–2", dots))
	}
	b.buf = append(b.buf, ESC, '-', byte(dots))
}

// Align is a justification for ESC a.
type Align byte

const (
	AlignLeft   Align = 0
	AlignCenter Align = 1
	AlignRight  Align = 2
)

// Align is ESC a n. It takes effect at the start of a line, applies to raster
// images too, and is ignored in page mode.
func (b *Builder) Align(a Align) {
	if a > AlignRight {
		panic(fmt.Sprintf("escpos: alignment %d", a))
	}
	b.buf = append(b.buf, ESC, 'a', byte(a))
}

// LineSpacing is ESC 3 n: the line feed amount in motion units (dots at 203 dpi).
func (b *Builder) LineSpacing(dots int) {
	if dots < 0 || dots > 255 {
		panic(fmt.Sprintf("escpos: line spacing %d outside 0–255", dots))
	}
	b.buf = append(b.buf, ESC, '3', byte(dots))
}

// DefaultLineSpacing is ESC 2 (about 1/6 inch).
func (b *Builder) DefaultLineSpacing() { b.buf = append(b.buf, ESC, '2') }

// LineFeed is LF: print the line buffer and advance one line.
func (b *Builder) LineFeed() { b.buf = append(b.buf, LF) }

// FeedLines is ESC d n: print and feed n lines.
func (b *Builder) FeedLines(n int) {
	if n < 0 || n > 255 {
		panic(fmt.Sprintf("escpos: feed %d lines outside 0–255", n))
	}
	b.buf = append(b.buf, ESC, 'd', byte(n))
}

// FeedDots is ESC J n: print and feed n motion units.
func (b *Builder) FeedDots(n int) {
	if n < 0 || n > 255 {
		panic(fmt.Sprintf("escpos: feed %d dots outside 0–255", n))
	}
	b.buf = append(b.buf, ESC, 'J', byte(n))
}

// CutMode chooses a full or partial cut.
type CutMode byte

const (
	CutFull    CutMode = 0
	CutPartial CutMode = 1
)

// Cut is GS V m: cut at the current position (start of a line only).
func (b *Builder) Cut(m CutMode) { b.buf = append(b.buf, GS, 'V', byte(m)) }

// FeedAndCut is GS V 65/66 n: feed to the cutter plus n motion units, then cut.
func (b *Builder) FeedAndCut(m CutMode, n int) {
	if n < 0 || n > 255 {
		panic(fmt.Sprintf("escpos: cut feed %d outside 0–255", n))
	}
	b.buf = append(b.buf, GS, 'V', 65+byte(m), byte(n))
}

func boolByte(on bool) byte {
	if on {
		return 1
	}
	return 0
}

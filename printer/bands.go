package printer

import (
	"fmt"

	"github.com/posagent/posagent/printer/escpos"
	"github.com/posagent/posagent/printer/internal/code39"
)

// QR quiet zone: ≥ 2 mm (MOF, ±10 %) = 16 dots at 203 dpi, left, between and
// right of the two symbols.
const qrQuietDots = 16

// qrBand draws symbols of one size side by side, top-aligned, in one bitmap:
// a quiet zone, then each symbol followed by a quiet zone (the MOF's left,
// right; the AT code alone), each module scale × scale pixels.
func qrBand(scale, quiet int, symbols ...*qrMatrix) *escpos.Bitmap {
	n := symbols[0].size
	width := (len(symbols)+1)*quiet + len(symbols)*n*scale
	band := escpos.NewBitmap(width, n*scale)
	for y := 0; y < n; y++ {
		top := y * scale
		w := bitWriter{out: band.Bits[top*band.Stride : top*band.Stride]}
		w.zeros(quiet)
		for _, m := range symbols {
			w.modules(m.rows[y], n, scale)
			w.zeros(quiet)
		}
		w.flush()
		first := band.Bits[top*band.Stride : (top+1)*band.Stride]
		for k := 1; k < scale; k++ {
			copy(band.Bits[(top+k)*band.Stride:], first)
		}
	}
	return band
}

// spreadTable[s-1][b] is the byte b of modules (bit 0 the leftmost) drawn s dots a
// module, most significant bit first: 8·s bits.
var spreadTable = func() (t [4][256]uint32) {
	for s := 1; s <= 4; s++ {
		for b := 0; b < 256; b++ {
			var v uint32
			for k := 0; k < 8; k++ {
				v <<= uint(s)
				if b>>uint(k)&1 != 0 {
					v |= 1<<uint(s) - 1
				}
			}
			t[s-1][b] = v
		}
	}
	return t
}()

// bitWriter appends bits, most significant first, to a bitmap row.
type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

func (w *bitWriter) push(v uint64, n uint) {
	w.acc = w.acc<<n | v
	w.nbits += n
	for w.nbits >= 8 {
		w.nbits -= 8
		w.out = append(w.out, byte(w.acc>>w.nbits))
	}
}

func (w *bitWriter) zeros(n int) {
	for ; n > 0; n -= 32 {
		w.push(0, uint(min(n, 32)))
	}
}

// modules draws the n modules of a symbol row (bit x = module x), scale dots each.
func (w *bitWriter) modules(row uint64, n, scale int) {
	if scale > 4 {
		for x := 0; x < n; x++ {
			var v uint64
			if row>>uint(x)&1 != 0 {
				v = 1<<uint(scale) - 1
			}
			w.push(v, uint(scale))
		}
		return
	}
	table := &spreadTable[scale-1]
	for x := 0; x < n; x += 8 {
		k := min(8, n-x)
		v := uint64(table[byte(row>>uint(x))])
		// A last group of k < 8 modules keeps its first k·scale bits.
		w.push(v>>uint((8-k)*scale), uint(k*scale))
	}
}

func (w *bitWriter) flush() {
	if w.nbits > 0 {
		w.out = append(w.out, byte(w.acc<<(8-w.nbits)))
		w.nbits = 0
	}
}

// Code 39 as the MOF barcode wants it at 203 dpi: narrow 1 dot, wide 3, a
// 1-dot gap between characters, quiet zones of 10 narrow modules.
const (
	code39Narrow = 1
	code39Wide   = 3
	code39Quiet  = 10
	code39Height = 64 // 8 mm, as field receipts print it
)

// code39Width is the dots data takes as a symbol with start/stop and quiet zones.
func code39Width(data string) int {
	chars := len(data) + 2
	return 2*code39Quiet + chars*(3*code39Wide+6*code39Narrow) + (chars-1)*code39Narrow
}

// code39Row draws one row of the symbol for data (no check character: the
// MOF wants exactly the 19 characters back from a scan). The bars come from
// boombuler/barcode through printer/internal/code39, drawn at narrow 1 dot
// and wide 3.
func code39Row(data string) (*escpos.Bitmap, error) {
	if err := escpos.ValidCode39(data); err != nil {
		return nil, err
	}
	els, err := code39.Elements(data)
	if err != nil {
		return nil, err
	}
	if w := code39.Width(els, code39Narrow, code39Wide) + 2*code39Quiet; w != code39Width(data) {
		return nil, fmt.Errorf("code 39 layout: %d dots of %d", w, code39Width(data))
	}
	row := escpos.NewBitmap(code39Width(data), 1)
	code39.Draw(els, code39Narrow, code39Wide, func(x0, x1 int) {
		row.FillRow(0, code39Quiet+x0, code39Quiet+x1)
	})
	return row, nil
}

// repeatRows stacks one bitmap row height times.
func repeatRows(row *escpos.Bitmap, height int) *escpos.Bitmap {
	m := escpos.NewBitmap(row.Width, height)
	for y := 0; y < height; y++ {
		copy(m.Bits[y*m.Stride:], row.Bits[:row.Stride])
	}
	return m
}

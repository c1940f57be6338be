package printer

import (
	"fmt"
	"math/bits"
	"sync"

	"rsc.io/qr/coding"
)

// maxMatrixVersion is the largest QR version the host-side encoder draws: a
// row of its 61 modules fits one uint64. The MOF proof needs versions 6–9
// (10 on 80 mm paper); a profile may not ask for more.
const maxMatrixVersion = 11

// qrMatrix is a QR symbol's module grid, one bitset a row: bit x of rows[y]
// is the module at column x, 1 black. cols holds the same grid by column.
type qrMatrix struct {
	size int
	rows []uint64
	cols []uint64
}

func (m *qrMatrix) black(x, y int) bool { return m.rows[y]>>uint(x)&1 != 0 }

// qrPlan is what a version costs to lay out, computed once: for each of the 8
// masks, the grid with every function pattern, the format bits for that mask
// and the mask's inversion of the data area already applied; and where each
// codeword bit goes.
type qrPlan struct {
	version   coding.Version
	level     coding.Level
	size      int
	dataBytes int
	base      [8]qrMatrix
	// place[o] is the position of codeword bit o: y<<8 | x.
	place []uint16
}

// qrPlans caches the plans of levels L (the MOF codes) and M (the AT code).
var qrPlans [2][maxMatrixVersion + 1]struct {
	once sync.Once
	plan *qrPlan
	err  error
}

// qrLevels are the error correction levels the host encoder draws.
var qrLevels = [2]coding.Level{coding.L, coding.M}

// planFor returns the (cached) plan of a version at level L.
func planFor(version int) (*qrPlan, error) { return planAt(version, 0) }

// planAt returns the (cached) plan of a version at qrLevels[level].
func planAt(version, level int) (*qrPlan, error) {
	if version < 1 || version > maxMatrixVersion {
		return nil, fmt.Errorf("QR version %d: the receipt encoder draws versions 1–%d", version, maxMatrixVersion)
	}
	slot := &qrPlans[level][version]
	slot.once.Do(func() { slot.plan, slot.err = newQRPlan(coding.Version(version), qrLevels[level]) })
	return slot.plan, slot.err
}

func newQRPlan(v coding.Version, level coding.Level) (*qrPlan, error) {
	p := &qrPlan{version: v, level: level}
	for mask := 0; mask < 8; mask++ {
		cp, err := coding.NewPlan(v, level, coding.Mask(mask))
		if err != nil {
			return nil, fmt.Errorf("QR plan version %d mask %d: %w", v, mask, err)
		}
		n := len(cp.Pixel)
		p.size, p.dataBytes = n, cp.DataBytes
		base := qrMatrix{size: n, rows: make([]uint64, n), cols: make([]uint64, n)}
		if mask == 0 {
			p.place = make([]uint16, (cp.DataBytes+cp.CheckBytes)*8)
		}
		for y, row := range cp.Pixel {
			for x, pix := range row {
				if pix&coding.Black != 0 {
					base.rows[y] |= 1 << uint(x)
					base.cols[x] |= 1 << uint(y)
				}
				if r := pix.Role(); mask == 0 && (r == coding.Data || r == coding.Check) {
					p.place[pix.Offset()] = uint16(y<<8 | x)
				}
			}
		}
		p.base[mask] = base
	}
	return p, nil
}

// encodeQR draws data in byte mode at exactly the given version and level L,
// with the mask of lowest penalty (ISO/IEC 18004 §7.8.3). Drawing at a given
// version, rather than the smallest that fits, is what makes the two MOF
// symbols the same size.
func encodeQR(data []byte, version int) (*qrMatrix, error) {
	p, err := planFor(version)
	if err != nil {
		return nil, err
	}
	m, err := p.draw(coding.String(data))
	if err != nil {
		return nil, fmt.Errorf("QR payload of %d bytes: %w", len(data), err)
	}
	return m, nil
}

// draw encodes one segment at the plan's version and level, with the mask of
// lowest penalty.
func (p *qrPlan) draw(payload coding.Encoding) (*qrMatrix, error) {
	if need := payload.Bits(p.version); need > p.dataBytes*8 {
		return nil, fmt.Errorf("does not fit version %d-%s (%d bits of %d)", p.version, p.level, need, p.dataBytes*8)
	}
	var b coding.Bits
	payload.Encode(&b, p.version)
	b.AddCheckBytes(p.version, p.level)
	codewords := b.Bytes()

	n := p.size
	store := make([]uint64, 4*n)
	dataRows, dataCols := store[:n], store[n:2*n]
	for i, c := range codewords {
		for c != 0 {
			k := bits.LeadingZeros8(c)
			c &^= 0x80 >> uint(k)
			pos := p.place[i<<3|k]
			y, x := uint(pos>>8), uint(pos&0xFF)
			dataRows[y] |= 1 << x
			dataCols[x] |= 1 << y
		}
	}
	m := &qrMatrix{size: n, rows: store[2*n : 3*n], cols: store[3*n:]}
	best := -1
	var scratch [2 * 64]uint64
	rows, cols := scratch[:n], scratch[64:64+n]
	for mask := range p.base {
		base := &p.base[mask]
		for i := 0; i < n; i++ {
			rows[i] = base.rows[i] ^ dataRows[i]
			cols[i] = base.cols[i] ^ dataCols[i]
		}
		if score := qrPenalty(rows, cols, n); best < 0 || score < best {
			best = score
			copy(m.rows, rows)
			copy(m.cols, cols)
		}
	}
	return m, nil
}

// qrPenalty scores a masked symbol by the four ISO rules, on bitsets.
func qrPenalty(rows, cols []uint64, n int) int {
	full := uint64(1)<<uint(n) - 1
	score, dark := 0, 0
	for i, l := range rows {
		score += penaltyRuns(l, full) + penaltyFinder(l, n)
		if i+1 < n {
			// Rule 2: 2×2 blocks of one colour, 3 points each.
			vert := ^(l ^ rows[i+1]) & full
			horiz := ^(l ^ (l >> 1)) & (full >> 1)
			score += 3 * bits.OnesCount64(vert&(vert>>1)&horiz)
		}
		dark += bits.OnesCount64(l)
	}
	for _, l := range cols {
		score += penaltyRuns(l, full) + penaltyFinder(l, n)
	}
	// Rule 4: 10 points for each whole 5 % the dark share is away from 50 %.
	dev := dark*100/(n*n) - 50
	if dev < 0 {
		dev = -dev
	}
	return score + 10*(dev/5)
}

// penaltyRuns is rule 1 for one line: a run of k ≥ 5 modules of one colour
// costs 3 + (k − 5).
func penaltyRuns(l, full uint64) int {
	same := ^(l ^ (l >> 1)) & (full >> 1) // bit i: module i equals module i+1
	five := same & (same >> 1) & (same >> 2) & (same >> 3)
	starts := five &^ (five << 1)
	return bits.OnesCount64(five) + 2*bits.OnesCount64(starts)
}

// penaltyFinder is rule 3 for one line: 40 points for each 1:1:3:1:1 pattern
// (dark-light-dark×3-light-dark) with four light modules before or after it,
// inside the symbol.
func penaltyFinder(l uint64, n int) int {
	if n < 11 {
		return 0
	}
	d, w := l, ^l
	core := d & (w >> 1) & (d >> 2) & (d >> 3) & (d >> 4) & (w >> 5) & (d >> 6) // modules i…i+6
	if core == 0 {
		return 0
	}
	light4 := w & (w >> 1) & (w >> 2) & (w >> 3) // modules i…i+3 light
	valid := uint64(1)<<uint(n-10) - 1           // patterns of 11 modules starting at 0…n−11
	after := core & (light4 >> 7) & valid
	before := light4 & (core >> 4) & valid
	return 40 * (bits.OnesCount64(after) + bits.OnesCount64(before))
}

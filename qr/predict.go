package qr

// A printer that stores a QR symbol natively (ESC/POS GS ( k) chooses the
// version itself, from the data, and the host cannot force one (escpos.md §4).
// Which version it chooses depends on how its encoder splits the data into
// segments, which no printer documents [U]. Two models bound every sensible
// encoder at error correction L:
//
//   - Bytes: one byte-mode segment for everything, as simple firmware does.
//     No encoder needs more bits: the good ones fall back to it.
//   - Mixed: the fewest bits any split into numeric, alphanumeric and byte
//     segments can take (ISO/IEC 18004 annex J, solved exactly here). No
//     encoder of those three modes needs fewer. skip2/go-qrcode, a model of
//     better firmware and the engine of our emulator, lies between the two,
//     usually on Mixed.
//
// A version is monotonic in the bits, so when both models give a text the
// same version, every encoder in between draws it at that version too.
// Kanji mode is not modelled: it packs Shift JIS pairs, which Big5 and UTF-8
// Chinese bytes sometimes resemble, and a Japanese firmware that used it
// could go smaller still [U]; the test print a page-mode profile needs
// (printer.QRPage) covers that.

// Prediction is the version (level L) a printer picking it itself draws for a
// symbol's data, under the two encoder models.
type Prediction struct {
	Bytes int // one byte-mode segment: the largest version any encoder draws
	Mixed int // optimal numeric/alphanumeric/byte segments: the smallest
}

// Certain reports whether every encoder draws the same version: Bytes == Mixed.
func (p Prediction) Certain() bool { return p.Bytes == p.Mixed }

// Predict returns both models' versions for the bytes of a symbol; a model's
// version is 0 when the data does not fit version 40.
func Predict(data []byte) Prediction {
	return Prediction{Bytes: VersionBytes(data), Mixed: VersionMixed(data)}
}

// VersionBytes is the version an encoder that puts data in one byte-mode
// segment draws at level L: SmallestVersion(len(data)).
func VersionBytes(data []byte) int { return SmallestVersion(len(data)) }

// VersionMixed is the smallest version (level L) any encoder of numeric,
// alphanumeric and byte segments can draw data at: that of the split into
// segments with the fewest bits. 0 when even that does not fit version 40.
func VersionMixed(data []byte) int {
	// The character count fields widen at versions 10 and 27, so the best
	// split is found for each range of versions in turn.
	for _, g := range versionGroups {
		bits := g.fewestBits(data)
		for v := g.from; v <= g.to; v++ {
			if bits <= 8*dataCodewordsL[v] {
				return v
			}
		}
	}
	return 0
}

// dataCodewordsL is how many data codewords a version-v symbol has at level L
// (ISO/IEC 18004 table 7); dataCodewordsL[0] is unused. byteCapacity follows
// from it (capacity_test.go checks).
var dataCodewordsL = [41]int{0,
	19, 34, 55, 80, 108, 136, 156, 194, 232, 274,
	324, 370, 428, 461, 523, 589, 647, 721, 795, 861,
	932, 1006, 1094, 1174, 1276, 1370, 1468, 1531, 1631, 1735,
	1843, 1955, 2071, 2191, 2306, 2434, 2566, 2702, 2812, 2956,
}

// Segment modes, in the order of versionGroup.countBits.
const (
	modeNumeric = iota
	modeAlnum
	modeByte
	modes
)

// versionGroup is a range of versions sharing character count field widths.
type versionGroup struct {
	from, to  int
	countBits [modes]int
}

var versionGroups = [3]versionGroup{
	{1, 9, [modes]int{10, 9, 8}},
	{10, 26, [modes]int{12, 11, 16}},
	{27, 40, [modes]int{14, 13, 16}},
}

// Bits per character, in sixths of a bit: 10 per 3 digits, 11 per 2
// alphanumerics, 8 per byte. A segment's last group is short (4 bits for one
// digit, 7 for two, 6 for one alphanumeric): exactly the total rounded up to
// a whole bit.
var charSixths = [modes]int{20, 33, 48}

// alnumChars are the 45 characters of alphanumeric mode.
var alnumChars = func() (t [256]bool) {
	for _, c := range []byte("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:") {
		t[c] = true
	}
	return t
}()

func modeHolds(m int, c byte) bool {
	switch m {
	case modeNumeric:
		return c >= '0' && c <= '9'
	case modeAlnum:
		return alnumChars[c]
	}
	return true
}

// fewestBits is the length in bits of the shortest encoding of data as a run
// of segments, each a 4-bit mode indicator, a character count and the
// characters, with this group's count widths.
//
// Dynamic programming over the data (as Nayuki's QR generator does): cost[m]
// is the fewest sixths of a bit that encode the data so far with the last
// segment in mode m, its last group not yet rounded up. A segment may end
// after any character; ending it rounds its cost up to a whole bit.
func (g versionGroup) fewestBits(data []byte) int {
	if len(data) == 0 {
		return 0
	}
	const never = 1 << 40
	var header, cost [modes]int
	for m := range modes {
		header[m] = (4 + g.countBits[m]) * 6
		cost[m] = header[m]
	}
	for i, c := range data {
		for m := range modes {
			if modeHolds(m, c) {
				cost[m] += charSixths[m]
			} else {
				cost[m] = never
			}
		}
		if i == len(data)-1 {
			break
		}
		// A new segment may start before the next character.
		closed := never
		for m := range modes {
			closed = min(closed, roundUp6(cost[m]))
		}
		for m := range modes {
			cost[m] = min(cost[m], closed+header[m])
		}
	}
	best := never
	for m := range modes {
		best = min(best, roundUp6(cost[m]))
	}
	return best / 6
}

func roundUp6(sixths int) int { return (sixths + 5) / 6 * 6 }

// FewestBits is the length in bits of the shortest encoding of data as
// numeric, alphanumeric and byte segments at version v (1–40), whatever the
// error correction level: no encoder of those modes needs fewer. 0 for a
// version outside 1–40. The printer uses it to bound the version a printer
// picks itself for a symbol at another level than L (the AT code's M).
func FewestBits(data []byte, v int) int {
	for _, g := range versionGroups {
		if v >= g.from && v <= g.to {
			return g.fewestBits(data)
		}
	}
	return 0
}

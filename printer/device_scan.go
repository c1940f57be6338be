package printer

// Command-aware scanning of an ESC/POS stream. The device needs it to know
// where a job may be cut and how many bytes a half-sent command still waits
// for; the simulator needs it to find job boundaries and real-time requests
// without mistaking raster data (which may contain 10 04 or 1D 72) for
// commands.

const (
	esc = 0x1B
	gs  = 0x1D
	fs  = 0x1C
	dle = 0x10
)

// CommandLength tells how long the command that starts at p[0] is. It returns
// (n, true) as soon as the first bytes of p fix the length n (p may be shorter
// than n), and (0, false) when more bytes are needed to tell. A byte that
// starts no command (text, LF, NUL) is a command of length 1. Unknown ESC, GS
// FS and DLE commands count as two bytes: a guess, but the safe one for the
// commands a receipt uses, which are all known here.
func CommandLength(p []byte) (int, bool) {
	if len(p) == 0 {
		return 0, false
	}
	switch p[0] {
	case esc:
		return escLength(p)
	case gs:
		return gsLength(p)
	case fs:
		return fsLength(p)
	case dle:
		return dleLength(p)
	}
	return 1, true
}

// need returns (n, true) if p holds at least k bytes, where the length n is
// computed by f from those bytes.
func cmdNeed(p []byte, k int, f func() int) (int, bool) {
	if len(p) < k {
		return 0, false
	}
	return f(), true
}

func cmdFixed(n int) (int, bool) { return n, true }

func cmdLE16(lo, hi byte) int { return int(lo) | int(hi)<<8 }

// untilNUL is the length of a command whose data ends with a NUL, searching
// from index from.
func untilNUL(p []byte, from int) (int, bool) {
	for i := from; i < len(p); i++ {
		if p[i] == 0 {
			return i + 1, true
		}
	}
	return 0, false
}

func escLength(p []byte) (int, bool) {
	if len(p) < 2 {
		return 0, false
	}
	switch p[1] {
	case '@', '<', 'L', 'S', 0x0C, 'i', 'm', '2', 'j':
		return cmdFixed(2)
	case ' ', '!', '%', '-', '3', '=', '?', 'E', 'G', 'J', 'K', 'M', 'R', 'T', 'U', 'V', 'a', 'd', 'e', 'r', 't', 'u', 'v', '{', 'f', 'g', 'k':
		return cmdFixed(3)
	case '$', '\\', 'c':
		return cmdFixed(4)
	case 'p':
		return cmdFixed(5)
	case 'W':
		return cmdFixed(10)
	case 'B': // ESC B n t: beeper
		return cmdFixed(4)
	case 'D': // tab positions, a list ending with NUL
		return untilNUL(p, 2)
	case '(': // ESC ( A pL pH … and friends
		return cmdNeed(p, 5, func() int { return 5 + cmdLE16(p[3], p[4]) })
	case '*': // ESC * m nL nH d…: 8-dot modes one byte a column, 24-dot three
		return cmdNeed(p, 5, func() int {
			k := cmdLE16(p[3], p[4])
			if p[2] == 32 || p[2] == 33 {
				k *= 3
			}
			return 5 + k
		})
	case '&': // ESC & y c1 c2 [x d1…d(y×x)]…: user-defined characters
		return downloadedCharsLength(p)
	}
	return cmdFixed(2)
}

func downloadedCharsLength(p []byte) (int, bool) {
	if len(p) < 5 {
		return 0, false
	}
	y, c1, c2 := int(p[2]), int(p[3]), int(p[4])
	if c2 < c1 {
		return 5, true
	}
	i := 5
	for c := c1; c <= c2; c++ {
		if i >= len(p) {
			return 0, false
		}
		i += 1 + y*int(p[i])
	}
	return i, true
}

func gsLength(p []byte) (int, bool) {
	if len(p) < 2 {
		return 0, false
	}
	switch p[1] {
	case ':', 'c':
		return cmdFixed(2)
	case '!', '/', 'B', 'E', 'H', 'I', 'T', 'a', 'b', 'f', 'h', 'j', 'r', 'w', 'J', 'e':
		return cmdFixed(3)
	case '$', 'L', 'P', 'W', '\\':
		return cmdFixed(4)
	case '^':
		return cmdFixed(5)
	case 'g':
		return cmdFixed(6)
	case '(': // GS ( x pL pH …: every function of this family
		return cmdNeed(p, 5, func() int { return 5 + cmdLE16(p[3], p[4]) })
	case '*': // GS * x y d…: x×y×8 bytes
		return cmdNeed(p, 4, func() int { return 4 + int(p[2])*int(p[3])*8 })
	case 'V':
		return cmdNeed(p, 3, func() int {
			switch p[2] {
			case 0, 1, '0', '1':
				return 3
			}
			return 4 // GS V 65/66/97/98/103/104 n
		})
	case 'k':
		if len(p) < 3 {
			return 0, false
		}
		if p[2] <= 6 { // function A: data ends with NUL
			return untilNUL(p, 3)
		}
		return cmdNeed(p, 4, func() int { return 4 + int(p[3]) })
	case 'v', 'Q': // GS v 0 m xL xH yL yH d… / GS Q 0 (same shape): x×y bytes
		return cmdNeed(p, 8, func() int { return 8 + cmdLE16(p[4], p[5])*cmdLE16(p[6], p[7]) })
	case '8': // GS 8 L p1 p2 p3 p4 …: a 32-bit count
		return cmdNeed(p, 7, func() int {
			return 7 + (int(p[3]) | int(p[4])<<8 | int(p[5])<<16 | int(p[6])<<24)
		})
	case 'C': // counters: GS C 0 n m, GS C 1 aL aH bL bH n r, GS C 2 nL nH, GS C ; …
		return cmdNeed(p, 3, func() int {
			switch p[2] {
			case 0, '0':
				return 5
			case 1, '1':
				return 9
			case 2, '2':
				return 5
			}
			return 3
		})
	}
	return cmdFixed(2)
}

func fsLength(p []byte) (int, bool) {
	if len(p) < 2 {
		return 0, false
	}
	switch p[1] {
	case '&', '.':
		return cmdFixed(2)
	case '!', '-', 'W', 'C':
		return cmdFixed(3)
	case 'S', '?', 'p':
		return cmdFixed(4)
	case '2': // FS 2 c1 c2 + 72 bytes of a 24×24 glyph
		return cmdFixed(76)
	case '(':
		return cmdNeed(p, 5, func() int { return 5 + cmdLE16(p[3], p[4]) })
	case 'q': // FS q n [xL xH yL yH d…]×n: NV bit images
		return nvImagesLength(p)
	}
	return cmdFixed(2)
}

func nvImagesLength(p []byte) (int, bool) {
	if len(p) < 3 {
		return 0, false
	}
	i := 3
	for img := 0; img < int(p[2]); img++ {
		if i+4 > len(p) {
			return 0, false
		}
		i += 4 + cmdLE16(p[i], p[i+1])*cmdLE16(p[i+2], p[i+3])*8
	}
	return i, true
}

func dleLength(p []byte) (int, bool) {
	if len(p) < 2 {
		return 0, false
	}
	switch p[1] {
	case 0x04, 0x05: // DLE EOT n, DLE ENQ n
		return cmdFixed(3)
	case 0x14: // DLE DC4 fn …
		return cmdNeed(p, 3, func() int {
			switch p[2] {
			case 1, 2:
				return 5
			case 7:
				return 4
			case 8:
				return 10
			}
			return 3
		})
	}
	// No other DLE command exists; like unknown ESC, GS and FS commands it
	// takes its next byte (a length fixed by that byte alone could not be
	// found byte by byte).
	return cmdFixed(2)
}

// commandHeadMax is how many leading bytes of a command the scanner keeps once
// the command's length is known: enough to dispatch on, never the raster data.
const commandHeadMax = 16

// CommandScanner splits a stream fed one byte at a time into commands. It
// keeps only the head of a long command (raster data is counted, not
// stored), so it runs in constant memory over any stream. The zero value is
// ready to use.
type CommandScanner struct {
	cur  []byte // the command so far; only its head once need is known
	n    int    // bytes of the current command seen
	need int    // the command's length once known, else 0
	done bool
}

// Command is one complete command: its first bytes and its length.
type Command struct {
	Head []byte // up to 16 leading bytes; valid until the next Feed
	Len  int
}

// Is reports whether the command starts with prefix.
func (c Command) Is(prefix ...byte) bool {
	if len(c.Head) < len(prefix) {
		return false
	}
	for i, b := range prefix {
		if c.Head[i] != b {
			return false
		}
	}
	return true
}

// Feed adds one byte and returns the command it completes, if any.
func (s *CommandScanner) Feed(b byte) (Command, bool) {
	if s.done {
		s.cur, s.n, s.need, s.done = s.cur[:0], 0, 0, false
	}
	s.n++
	if s.need == 0 || len(s.cur) < commandHeadMax {
		s.cur = append(s.cur, b)
	}
	if s.need == 0 {
		if n, ok := CommandLength(s.cur); ok {
			s.need = n
		}
	}
	if s.need > 0 && s.n >= s.need {
		s.done = true
		head := s.cur
		if len(head) > commandHeadMax {
			head = head[:commandHeadMax]
		}
		return Command{Head: head, Len: s.n}, true
	}
	return Command{}, false
}

// InCommand reports whether the bytes fed so far end inside a command, i.e.
// the next byte is not the start of a new command.
func (s *CommandScanner) InCommand() bool { return !s.done && s.n > 0 }

// Remaining is how many more bytes the current command needs, when known;
// ok is false while the length is still unknown (a short header, a barcode
// waiting for its NUL).
func (s *CommandScanner) Remaining() (n int, ok bool) {
	if !s.InCommand() {
		return 0, true
	}
	if s.need == 0 {
		return 0, false
	}
	return s.need - s.n, true
}

// Reset forgets any partial command.
func (s *CommandScanner) Reset() { s.cur, s.n, s.need, s.done = s.cur[:0], 0, 0, false }

// SplitCommands returns the end offset of every complete command in job, and
// whether the job ends exactly at a command boundary.
func SplitCommands(job []byte) (ends []int, whole bool) {
	var sc CommandScanner
	for i, b := range job {
		if _, ok := sc.Feed(b); ok {
			ends = append(ends, i+1)
		}
	}
	return ends, !sc.InCommand()
}

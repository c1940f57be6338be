package qr

// byteCapacity is how many bytes a QR symbol of version 1–40 holds at error
// correction level L in byte mode (ISO/IEC 18004 table 7). byteCapacity[0] is unused.
//
// A QR library that mixes numeric and alphanumeric segments into the data
// (skip2/go-qrcode does) never needs more bits than one byte-mode segment: it
// falls back to that whenever its segmentation would be longer. So a text that
// fits here fits every encoder, and the capacity rule is never optimistic.
// capacity_test.go checks this table against go-qrcode itself.
var byteCapacity = [41]int{0,
	17, 32, 53, 78, 106, 134, 154, 192, 230, 271,
	321, 367, 425, 458, 520, 586, 644, 718, 792, 858,
	929, 1003, 1091, 1171, 1273, 1367, 1465, 1528, 1628, 1732,
	1840, 1952, 2068, 2188, 2303, 2431, 2563, 2699, 2809, 2953,
}

// Version limits: MOF requires version 6 or more for the left code; 9 is the
// largest a 58 mm printer draws at 3 dots a module with quiet zones (159 dots).
const (
	MinVersion        = 6
	DefaultMaxVersion = 9
	MaxQRVersion      = 40
)

// Capacity is how many bytes a version-v symbol holds at level L in byte mode,
// or 0 for a version outside 1–40.
func Capacity(v int) int {
	if v < 1 || v > MaxQRVersion {
		return 0
	}
	return byteCapacity[v]
}

// SmallestVersion is the smallest version (1–40) whose level-L byte-mode symbol
// holds n bytes: the version a printer choosing by itself would draw. It is 0
// when n is over the capacity of version 40.
func SmallestVersion(n int) int {
	for v := 1; v <= MaxQRVersion; v++ {
		if n <= byteCapacity[v] {
			return v
		}
	}
	return 0
}

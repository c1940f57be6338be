package printer

// Flow-control bytes a printer set to XON/XOFF sends (escpos.md §10).
const (
	XON  byte = 0x11
	XOFF byte = 0x13
)

// ByteKind is what one byte read from a printer means.
type ByteKind int

const (
	// ByteUnknown is a byte that fits no pattern (line noise, a wrong baud
	// rate); it is logged and ignored.
	ByteUnknown ByteKind = iota
	ByteXON
	ByteXOFF
	// ByteStatusReply answers a DLE EOT request (0xx1xx10).
	ByteStatusReply
	// ByteASBStart is the first of the four ASB bytes (0xx1xx00).
	ByteASBStart
	// ByteASB is the second, third or fourth ASB byte.
	ByteASB
	// ByteMarker answers GS r: the printer processed everything before it (0xx0xxxx).
	ByteMarker
)

func (k ByteKind) String() string {
	switch k {
	case ByteXON:
		return "XON"
	case ByteXOFF:
		return "XOFF"
	case ByteStatusReply:
		return "status reply"
	case ByteASBStart:
		return "ASB start"
	case ByteASB:
		return "ASB"
	case ByteMarker:
		return "GS r reply"
	}
	return "unknown"
}

// ByteClassifier tells incoming bytes apart by their fixed bits, as the
// Citizen identification table does (escpos.md §9). It keeps the one piece of
// state the bytes need: how many ASB bytes are still to come. A zero value is
// ready to use.
type ByteClassifier struct {
	asbLeft int
	asb     [4]byte
}

// Classify returns what b means. When it completes an ASB block, block is the
// four bytes and complete is true.
func (c *ByteClassifier) Classify(b byte) (kind ByteKind, block [4]byte, complete bool) {
	// XON/XOFF may come between ASB bytes; no ASB byte can equal them, since
	// ASB bytes 2-4 have bit 4 clear.
	switch b {
	case XON:
		return ByteXON, block, false
	case XOFF:
		return ByteXOFF, block, false
	}
	if c.asbLeft > 0 {
		if b&0x90 == 0 {
			c.asb[4-c.asbLeft] = b
			c.asbLeft--
			if c.asbLeft == 0 {
				return ByteASB, c.asb, true
			}
			return ByteASB, block, false
		}
		// A byte that cannot be an ASB tail byte: the block was cut short
		// (noise, or the printer reset). Drop it and classify afresh.
		c.asbLeft = 0
	}
	switch {
	case b&0x93 == 0x12:
		return ByteStatusReply, block, false
	case b&0x93 == 0x10:
		c.asb = [4]byte{b}
		c.asbLeft = 3
		return ByteASBStart, block, false
	case b&0x90 == 0:
		return ByteMarker, block, false
	}
	return ByteUnknown, block, false
}

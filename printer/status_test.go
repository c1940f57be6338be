package printer_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/printer"
)

func TestStatusRepliesFromTheManuals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies map[byte]byte // DLE EOT n → reply
		words   string
		ready   bool
	}{
		// 12 and 16 both mean online (drawer pin low/high).
		{"online, drawer pin low", map[byte]byte{1: 0x12, 2: 0x12, 4: 0x12}, "ready", true},
		{"online, drawer pin high", map[byte]byte{1: 0x16, 2: 0x12, 4: 0x12}, "ready", true},
		// receiptio: &0x97 == 0x16 cover open; &0xB3 == 0x32 paper end.
		{"cover open", map[byte]byte{1: 0x1A, 2: 0x16, 4: 0x12}, "cover open", false},
		{"paper end stop", map[byte]byte{1: 0x1A, 2: 0x32, 4: 0x72}, "paper out", false},
		{"paper near end", map[byte]byte{1: 0x12, 2: 0x12, 4: 0x1E}, "ready, paper near end", true},
		{"cutter error", map[byte]byte{1: 0x1A, 2: 0x52, 3: 0x1A, 4: 0x12}, "cutter error", false},
		{"unrecoverable", map[byte]byte{2: 0x52, 3: 0x32}, "unrecoverable error", false},
		{"head too hot", map[byte]byte{2: 0x52, 3: 0x52}, "auto-recoverable error", false},
		{"error, cause not asked", map[byte]byte{1: 0x1A, 2: 0x52}, "error", false},
		{"offline, no cause given", map[byte]byte{1: 0x1A, 2: 0x12, 4: 0x12}, "offline", false},
		{"feed pressed", map[byte]byte{1: 0x5A, 2: 0x1A, 4: 0x12}, "feed button pressed", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st printer.Status
			for _, n := range []byte{1, 2, 3, 4} {
				if b, ok := tc.replies[n]; ok {
					require.True(t, st.ApplyStatusReply(n, b), "n=%d reply %#02x", n, b)
				}
			}
			require.Equal(t, tc.words, st.String())
			require.Equal(t, tc.ready, st.Ready())
		})
	}
}

func TestStatusRejectsWhatIsNoReply(t *testing.T) {
	var st printer.Status
	for _, b := range []byte{0x00, 0x11, 0x13, 0x10, 0x93, 0xFF} {
		require.False(t, st.ApplyStatusReply(1, b), "%#02x", b)
	}
	require.False(t, st.ApplyStatusReply(5, 0x12), "no such n")
	require.Equal(t, "unknown", st.String())
	require.False(t, st.Ready(), "a printer that never answered is not ready")
}

func TestStatusEncodingRoundTrips(t *testing.T) {
	flags := []func(*printer.Status){
		func(s *printer.Status) { s.Offline = true },
		func(s *printer.Status) { s.CoverOpen = true; s.Offline = true },
		func(s *printer.Status) { s.PaperOut = true; s.Offline = true },
		func(s *printer.Status) { s.PaperNearEnd = true },
		func(s *printer.Status) { s.CutterError = true; s.ErrorOccurred = true },
		func(s *printer.Status) { s.Unrecoverable = true; s.ErrorOccurred = true },
		func(s *printer.Status) { s.AutoRecoverable = true; s.ErrorOccurred = true },
		func(s *printer.Status) { s.FeedPressed = true },
	}
	for mask := 0; mask < 1<<len(flags); mask++ {
		var want printer.Status
		for i, f := range flags {
			if mask&(1<<i) != 0 {
				f(&want)
			}
		}
		var got printer.Status
		for _, n := range []byte{1, 2, 3, 4} {
			b := want.StatusReplyByte(n)
			require.True(t, printer.ValidStatusReply(b), "%#02x", b)
			require.True(t, got.ApplyStatusReply(n, b))
		}
		want.Known = got.Known
		require.Equal(t, want, got, "DLE EOT mask %b", mask)

		asb := want.ASBBytes()
		fromASB := printer.StatusFromASB(asb)
		want.Known = printer.KnownASB
		want.WaitingRecovery = false // not in ASB
		require.Equal(t, want, fromASB, "ASB mask %b", mask)
		var cl printer.ByteClassifier
		for i, b := range asb {
			kind, block, complete := cl.Classify(b)
			if i == 0 {
				require.Equal(t, printer.ByteASBStart, kind)
			} else {
				require.Equal(t, printer.ByteASB, kind)
			}
			require.Equal(t, i == 3, complete)
			if complete {
				require.Equal(t, asb, block)
			}
		}
	}
}

func TestClassifierTellsBytesApart(t *testing.T) {
	// An ASB block with XOFF and XON inside it, then a GS r reply, a DLE EOT
	// reply, and noise.
	in := []byte{0x18, 0x13, 0x00, 0x11, 0x0C, 0x00, 0x00, 0x12, 0x1E, 0x80}
	want := []printer.ByteKind{
		printer.ByteASBStart, printer.ByteXOFF, printer.ByteASB, printer.ByteXON, printer.ByteASB, printer.ByteASB,
		printer.ByteMarker, printer.ByteStatusReply, printer.ByteStatusReply, printer.ByteUnknown,
	}
	var cl printer.ByteClassifier
	var got []printer.ByteKind
	var blocks [][4]byte
	for _, b := range in {
		kind, block, complete := cl.Classify(b)
		got = append(got, kind)
		if complete {
			blocks = append(blocks, block)
		}
	}
	require.Equal(t, want, got)
	require.Equal(t, [][4]byte{{0x18, 0x00, 0x0C, 0x00}}, blocks)
	st := printer.StatusFromASB(blocks[0])
	require.Equal(t, "paper out", st.String())

	// A block cut short by a byte that cannot be in it starts afresh.
	cl = printer.ByteClassifier{}
	cl.Classify(0x10)
	kind, _, _ := cl.Classify(0x12)
	require.Equal(t, printer.ByteStatusReply, kind)
	kind, _, _ = cl.Classify(0x00)
	require.Equal(t, printer.ByteMarker, kind)
}

func FuzzByteClassifier(f *testing.F) {
	f.Add([]byte{0x10, 0x00, 0x0C, 0x00, 0x12, 0x00, 0x13, 0x11})
	f.Add([]byte{0x18, 0x13, 0x00, 0x11, 0x0C, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		var cl printer.ByteClassifier
		tail := -1 // ASB tail bytes still expected, -1 outside a block
		for _, b := range data {
			kind, block, complete := cl.Classify(b)
			switch {
			case b == printer.XON || b == printer.XOFF:
				if kind != printer.ByteXON && kind != printer.ByteXOFF {
					t.Fatalf("%#02x is flow control, got %s", b, kind)
				}
				continue
			case kind == printer.ByteASBStart:
				tail = 3
			case kind == printer.ByteASB:
				if tail <= 0 {
					t.Fatalf("ASB byte %#02x outside a block", b)
				}
				tail--
				if complete != (tail == 0) {
					t.Fatalf("block complete=%v with %d bytes to go", complete, tail)
				}
				if complete && block[0]&0x93 != 0x10 {
					t.Fatalf("block % x does not start with an ASB header", block)
				}
			case kind == printer.ByteStatusReply:
				if !printer.ValidStatusReply(b) {
					t.Fatalf("%#02x is no status reply", b)
				}
				tail = -1
			default:
				tail = -1
			}
		}
	})
}

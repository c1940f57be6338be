package printer_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/printer"
)

func TestCommandLength(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		n    int
		ok   bool
	}{
		{"text", []byte("A"), 1, true},
		{"NUL", []byte{0}, 1, true},
		{"ESC @", []byte{0x1B, 0x40}, 2, true},
		{"ESC alone", []byte{0x1B}, 0, false},
		{"ESC a n", []byte{0x1B, 'a', 1}, 3, true},
		{"ESC $", []byte{0x1B, '$'}, 4, true},
		{"ESC W", []byte{0x1B, 'W'}, 10, true},
		{"ESC * 24-dot", []byte{0x1B, '*', 33, 10, 0}, 5 + 30, true},
		{"ESC * 8-dot", []byte{0x1B, '*', 0, 10, 0}, 5 + 10, true},
		{"ESC * short", []byte{0x1B, '*', 0, 10}, 0, false},
		{"ESC D tabs", []byte{0x1B, 'D', 8, 16, 0}, 5, true},
		{"ESC D open", []byte{0x1B, 'D', 8, 16}, 0, false},
		{"ESC & two chars", []byte{0x1B, '&', 3, 'A', 'B', 2, 1, 2, 3, 4, 5, 6, 1, 1, 2, 3}, 16, true},
		{"FS &", []byte{0x1C, '&'}, 2, true},
		{"FS ( A", []byte{0x1C, '(', 'A', 2, 0}, 7, true},
		{"FS 2", []byte{0x1C, '2'}, 76, true},
		{"FS q one image", []byte{0x1C, 'q', 1, 1, 0, 1, 0}, 3 + 4 + 8, true},
		{"GS v 0", []byte{0x1D, 'v', '0', 0, 48, 0, 180, 0}, 8 + 48*180, true},
		{"GS v 0 header cut", []byte{0x1D, 'v', '0', 0, 48, 0, 180}, 0, false},
		{"GS ( k", []byte{0x1D, '(', 'k', 0x03, 0x01}, 5 + 259, true},
		{"GS 8 L", []byte{0x1D, '8', 'L', 0x10, 0x00, 0x01, 0x00}, 7 + 0x10010, true},
		{"GS V 0", []byte{0x1D, 'V', 0}, 3, true},
		{"GS V 66 n", []byte{0x1D, 'V', 66}, 4, true},
		{"GS k A", []byte{0x1D, 'k', 4, '*', 'A', 0}, 6, true},
		{"GS k A open", []byte{0x1D, 'k', 4, '*', 'A'}, 0, false},
		{"GS k B", []byte{0x1D, 'k', 69, 3}, 7, true},
		{"GS r", []byte{0x1D, 'r', '1'}, 3, true},
		{"GS *", []byte{0x1D, '*', 2, 3}, 4 + 48, true},
		{"DLE EOT", []byte{0x10, 0x04, 1}, 3, true},
		{"DLE DC4 fn 8", []byte{0x10, 0x14, 8}, 10, true},
		{"unknown DLE", []byte{0x10, 'A'}, 2, true},
		{"unknown GS", []byte{0x1D, 0x7F}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, ok := printer.CommandLength(tc.in)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.n, n)
		})
	}
}

func TestScannerKeepsRasterAsData(t *testing.T) {
	// Inside the image: a DLE EOT, a GS r and an ESC @. None is a command.
	img := []byte{0x10, 0x04, 0x01, 0x1D, 0x72, 0x31, 0x1B, 0x40}
	stream := append([]byte{0x1B, 0x40, 0x1D, 'v', '0', 0, 8, 0, 1, 0}, img...)
	stream = append(stream, 0x1D, 'r', '1')
	var sc printer.CommandScanner
	var cmds []printer.Command
	var lens []int
	for _, b := range stream {
		if cmd, ok := sc.Feed(b); ok {
			cmds = append(cmds, printer.Command{Head: bytes.Clone(cmd.Head), Len: cmd.Len})
			lens = append(lens, cmd.Len)
		}
	}
	require.Equal(t, []int{2, 16, 3}, lens)
	require.True(t, cmds[1].Is(0x1D, 'v', '0'))
	require.True(t, cmds[2].Is(0x1D, 'r'))
	require.False(t, sc.InCommand())
}

func TestScannerRemaining(t *testing.T) {
	var sc printer.CommandScanner
	for _, b := range []byte{0x1D, 'v', '0', 0, 48, 0, 10, 0, 0xFF, 0xFF} {
		sc.Feed(b)
	}
	n, ok := sc.Remaining()
	require.True(t, ok)
	require.Equal(t, 480-2, n)
	sc.Reset()
	sc.Feed(0x1D)
	_, ok = sc.Remaining()
	require.False(t, ok, "GS alone: the length is not known yet")
}

// Every golden receipt the layout renders is whole commands: the device can
// cut it nowhere but between them, and the simulator finds its end.
func TestGoldenReceiptsAreWholeCommands(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "receipts", "*.bin"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		ends, whole := printer.SplitCommands(data)
		require.True(t, whole, f)
		require.Equal(t, len(data), ends[len(ends)-1], f)
	}
}

func FuzzCommandScanner(f *testing.F) {
	f.Add([]byte{0x1B, 0x40, 'A', 0x1D, 'v', '0', 0, 1, 0, 1, 0, 0x80, 0x1D, 'r', '1'})
	f.Add([]byte{0x1B, '&', 3, 'A', 'C', 1, 1, 2, 3})
	f.Add([]byte{0x1C, 'q', 2, 1, 0, 1, 0})
	f.Add([]byte{0x1D, 'k', 4, 'A', 'B'})
	f.Add([]byte{0x10, 0x04, 0x01, 0x10, 0x10})
	f.Fuzz(func(t *testing.T, data []byte) {
		// Streaming and whole-slice scanning agree on every boundary.
		var sc printer.CommandScanner
		at := 0
		for i, b := range data {
			cmd, ok := sc.Feed(b)
			if !ok {
				continue
			}
			n, known := printer.CommandLength(data[at : i+1])
			if !known || n != cmd.Len || n != i+1-at {
				t.Fatalf("command at %d: streamed %d bytes, CommandLength says %d (%v)", at, cmd.Len, n, known)
			}
			if len(cmd.Head) > 16 || !bytes.HasPrefix(data[at:], cmd.Head) {
				t.Fatalf("head % x is not the start of the command at %d", cmd.Head, at)
			}
			at = i + 1
		}
		ends, whole := printer.SplitCommands(data)
		if whole != !sc.InCommand() || (len(ends) > 0 && ends[len(ends)-1] != at) {
			t.Fatalf("SplitCommands disagrees with the scanner")
		}
	})
}

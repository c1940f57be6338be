package printer_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/escpos"
)

var update = flag.Bool("update", false, "rewrite the golden receipts in testdata/receipts (go test ./printer/ -update)")

// TestGoldenReceipts renders every case on every profile and compares the
// bytes with <case>.<profile>.bin (checkGolden).
func TestGoldenReceipts(t *testing.T) {
	for _, c := range loadCases(t) {
		for _, p := range profiles(t) {
			name := c.name + "." + p.Name
			t.Run(name, func(t *testing.T) {
				got, err := printer.Render(c.inv, p, c.opt)
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, receiptsDir, name, got)
			})
		}
	}
}

// checkGolden compares got with dir/name.bin, or rewrites that file with
// -update. On a mismatch it writes dir/name.got and shows the first
// differing command of both disassemblies and a hex dump around the first
// differing byte.
func checkGolden(t *testing.T, dir, name string, got []byte) {
	t.Helper()
	golden := filepath.Join(dir, name+".bin")
	gotFile := filepath.Join(dir, name+".got")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(gotFile)
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./printer/ -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		os.Remove(gotFile)
		return
	}
	if err := os.WriteFile(gotFile, got, 0o644); err != nil {
		t.Error(err)
	}
	t.Fatalf("%s differs from the golden file (%d bytes, want %d); wrote %s\n%s",
		name, len(got), len(want), gotFile, describeDiff(got, want))
}

// describeDiff shows where two ESC/POS streams part: the first differing
// command in both disassemblies with two commands of context, and a hex dump
// of the bytes around the first differing offset.
func describeDiff(got, want []byte) string {
	var sb strings.Builder
	g, w := escpos.Disassemble(got), escpos.Disassemble(want)
	i := 0
	for i < len(g) && i < len(w) && bytes.Equal(g[i].Raw, w[i].Raw) {
		i++
	}
	show := func(label string, cmds []escpos.Command) {
		fmt.Fprintf(&sb, "%s:\n", label)
		for k := max(0, i-2); k < min(len(cmds), i+3); k++ {
			mark := "  "
			if k == i {
				mark = "> "
			}
			fmt.Fprintf(&sb, "%s%06x  %-12s %s\n", mark, cmds[k].Offset, cmds[k].Name, cmds[k].Detail)
		}
	}
	show("got", g)
	show("want", w)
	off := 0
	for off < len(got) && off < len(want) && got[off] == want[off] {
		off++
	}
	from := off &^ 15
	if from >= 32 {
		from -= 32
	}
	fmt.Fprintf(&sb, "first differing byte at offset %#x\ngot:\n%swant:\n%s", off,
		dumpAt(got, from, 96), dumpAt(want, from, 96))
	return sb.String()
}

// dumpAt is hex.Dump of n bytes from offset from, with absolute offsets.
func dumpAt(p []byte, from, n int) string {
	if from >= len(p) {
		return "(end of stream)\n"
	}
	lines := strings.SplitAfter(hex.Dump(p[from:min(len(p), from+n)]), "\n")
	for i, line := range lines {
		if len(line) > 8 {
			lines[i] = fmt.Sprintf("%08x", from+16*i) + line[8:]
		}
	}
	return strings.Join(lines, "")
}

// Package code39 is the CODE39 symbology for the bars posagent draws on the
// host: the printer package's raster barcode (profiles without GS k) and the
// emulator's picture of a printer's GS k. The symbology itself (which bars
// and spaces encode which character, start/stop) comes from
// github.com/boombuler/barcode, the package the design card names; this
// package only reads its modules back as narrow and wide elements.
//
// Why not use boombuler's image as drawn: it lays a symbol out at a fixed
// wide:narrow ratio of 2:1 (a wide element is two modules). At 203 dpi the
// narrow element is one dot (0.125 mm), where ISO/IEC 16388 asks for a ratio
// of at least 2.2, and printers' own GS k draws 3:1 (escpos.md §5). So the
// caller chooses the dots of each element width.
package code39

import (
	"fmt"
	"image/color"

	"github.com/boombuler/barcode/code39"
)

// Elements returns the symbol for data, start and stop characters included,
// without a check character (the MOF barcode is read back as exactly its 19
// characters): the widths of its elements in order, bar first, bars and
// spaces alternating, the one-element gap between characters included; true
// marks a wide element. data must be CODE39 characters without '*'.
func Elements(data string) ([]bool, error) {
	if data == "" {
		return nil, fmt.Errorf("code39: no data")
	}
	bc, err := code39.Encode(data, false, false)
	if err != nil {
		return nil, fmt.Errorf("code39 %q: %w", data, err)
	}
	b := bc.Bounds()
	var out []bool
	run, bar := 0, true
	flush := func() error {
		switch run {
		case 1:
			out = append(out, false)
		case 2:
			out = append(out, true)
		default:
			return fmt.Errorf("code39 %q: an element of %d modules (want 1 or 2)", data, run)
		}
		return nil
	}
	for x := b.Min.X; x < b.Max.X; x++ {
		dark := isDark(bc.At(x, b.Min.Y))
		if x == b.Min.X && !dark {
			return nil, fmt.Errorf("code39 %q: the symbol does not start with a bar", data)
		}
		if dark != bar {
			if err := flush(); err != nil {
				return nil, err
			}
			run, bar = 0, dark
		}
		run++
	}
	if err := flush(); err != nil {
		return nil, err
	}
	// (len(data)+2) characters of 9 elements, with a gap between each two.
	if want := (len(data)+2)*10 - 1; len(out) != want || !bar {
		return nil, fmt.Errorf("code39 %q: %d elements, want %d ending with a bar", data, len(out), want)
	}
	return out, nil
}

// Width is the dots the elements take with narrow and wide dots each.
func Width(elements []bool, narrow, wide int) int {
	w := 0
	for _, e := range elements {
		if e {
			w += wide
		} else {
			w += narrow
		}
	}
	return w
}

// Draw calls bar for each bar of the symbol, with its first dot and the dot
// after its last, the narrow and wide elements being narrow and wide dots.
func Draw(elements []bool, narrow, wide int, bar func(x0, x1 int)) {
	x := 0
	for i, e := range elements {
		w := narrow
		if e {
			w = wide
		}
		if i%2 == 0 {
			bar(x, x+w)
		}
		x += w
	}
}

func isDark(c color.Color) bool {
	g := color.GrayModel.Convert(c).(color.Gray)
	return g.Y < 128
}

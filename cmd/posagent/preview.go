package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/emulator"
)

const previewUsage = "preview [--profile NAME | --width DOTS] [--strict] IN.bin|- -o OUT.png|-"

// runPreview draws an ESC/POS stream as the printer would print it. The
// problems the emulator finds are warnings on stderr; --strict makes them
// an exit status of 1 (the picture is still written, to look at).
func runPreview(_ context.Context, std stdio, args []string) error {
	fs := newFlags("preview", std, previewUsage)
	profile := fs.String("profile", "", "printer profile: "+strings.Join(printer.ProfileNames(), ", ")+" (default "+printer.DefaultProfile+")")
	width := fs.Int("width", 0, "printable width in dots (instead of --profile)")
	out := fs.String("o", "", "output PNG file, - for standard output (required)")
	strict := fs.Bool("strict", false, "exit 1 when the stream has problems")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one input file (- for standard input); usage: posagent %s", previewUsage)
	}
	if *out == "" {
		return usagef("-o OUT.png is required")
	}
	dots, err := previewWidth(*profile, *width)
	if err != nil {
		return err
	}
	in, err := openInput(std, pos[0])
	if err != nil {
		return err
	}
	data, err := io.ReadAll(in)
	in.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", pos[0], err)
	}
	res, err := emulator.Render(data, emulator.Options{Width: dots})
	if err != nil {
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintf(std.err, "posagent preview: %s: %s\n", inputName(pos[0]), p)
	}
	var png bytes.Buffer
	if err := res.WritePNG(&png); err != nil {
		return err
	}
	if err := writeOutput(std, *out, png.Bytes()); err != nil {
		return err
	}
	if *strict && len(res.Problems) > 0 {
		fmt.Fprintf(std.err, "posagent preview: %d problems (--strict)\n", len(res.Problems))
		return exitError{1}
	}
	return nil
}

// previewWidth is the paper width in dots: --width, or the profile's (a MOF
// or a Portuguese one).
func previewWidth(profile string, width int) (int, error) {
	switch {
	case profile != "" && width != 0:
		return 0, usagef("--profile and --width exclude each other")
	case width != 0:
		if width < 8 || width > emulator.MaxWidth {
			return 0, usagef("--width %d: must be 8 to %d dots", width, emulator.MaxWidth)
		}
		return width, nil
	}
	p, err := printer.LookupProfile(profile)
	if err != nil {
		// A Portuguese profile (pt-58mm, …) names a paper width just as well.
		pt, ptErr := printer.LookupPTProfile(profile)
		if ptErr != nil {
			return 0, usagef("--profile: %v", err)
		}
		p = pt
	}
	return p.Dots, nil
}

// Package emulator draws what a 203-dpi ESC/POS thermal printer would print
// for a byte stream: text in Font A (12×24) and Big5 in Kanji mode (24×24),
// sizes, emphasis, alignment, native QR codes and CODE39 drawn from their
// data, raster images, page mode and cuts. It is the preview behind
// "posagent preview" and the eye of the round-trip tests: the picture is
// decoded again to prove that what the layout sends scans.
//
// The emulator is strict where a printer is forgiving: every unknown or
// malformed command, truncated parameter, over-long count, over-wide image
// and unprintable character is reported as a Problem with its byte offset,
// and drawing continues where a printer would.
package emulator

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
)

// Options describe the printer.
type Options struct {
	// Width is the printable width in dots: 384 (58 mm) or 576 (80 mm).
	Width int
}

// Problem is an unknown or malformed command, or data the printer cannot
// print as meant, at byte Offset of the stream.
type Problem struct {
	Offset  int
	Message string
}

func (p Problem) String() string {
	return fmt.Sprintf("offset %d (0x%04X): %s", p.Offset, p.Offset, p.Message)
}

// Result is the printed paper.
type Result struct {
	// Image is Options.Width dots wide and as long as the paper fed; every
	// pixel is 0x00 (black) or 0xFF (white).
	Image    *image.Gray
	Problems []Problem
}

// Limits that keep a hostile stream from eating the machine.
const (
	// MaxPaperLength is the longest paper drawn: 40,000 dots = 5 m at
	// 8 dots/mm, far beyond a 200-item receipt.
	MaxPaperLength = 40000
	// MaxWidth is the widest printer emulated (a 112 mm head is 832 dots).
	MaxWidth = 1024
	// maxPageHeight bounds a page-mode area; real printers hold far less
	// (e.g. 1,662 dots on Epson TM-T88).
	maxPageHeight = 4096
	// maxProblems caps the report; the last entry says how many were left off.
	maxProblems = 500
)

// Render interprets stream and returns the paper. The error is for unusable
// options or a broken build (embedded font); everything wrong in the stream
// is a Problem.
func Render(stream []byte, opt Options) (*Result, error) {
	if opt.Width < 8 || opt.Width > MaxWidth {
		return nil, fmt.Errorf("emulator: width %d dots: must be 8 to %d", opt.Width, MaxWidth)
	}
	f := font()
	if f.err != nil {
		return nil, f.err
	}
	p := newPrinter(stream, opt.Width, f)
	p.run()
	return p.result(), nil
}

// WritePNG encodes the image as a 1-bit (two-colour palette) PNG.
func (r *Result) WritePNG(w io.Writer) error {
	if r == nil || r.Image == nil {
		return errors.New("emulator: no image")
	}
	b := r.Image.Bounds()
	pal := image.NewPaletted(b, color.Palette{color.Gray{Y: 0x00}, color.Gray{Y: 0xFF}})
	for y := b.Min.Y; y < b.Max.Y; y++ {
		src := r.Image.Pix[(y-b.Min.Y)*r.Image.Stride:]
		dst := pal.Pix[(y-b.Min.Y)*pal.Stride:]
		for x := 0; x < b.Dx(); x++ {
			if src[x] >= 0x80 {
				dst[x] = 1
			}
		}
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(w, pal); err != nil {
		return fmt.Errorf("emulator: encode png: %w", err)
	}
	return nil
}

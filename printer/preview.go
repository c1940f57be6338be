package printer

import (
	"fmt"
	"io"

	"github.com/posagent/posagent/printer/emulator"
)

// PreviewPNG draws a print job (from Render, RenderPT or RenderPTPending) as
// the profile's printer would print it, with the emulator of
// printer/emulator, and writes the paper to w as a 1-bit PNG: what "posagent
// preview" does for a job on a file. problems lists what the emulator found
// wrong in the stream (a command the printer would not take, a glyph it does
// not have); the picture is written all the same, to look at.
func PreviewPNG(w io.Writer, job []byte, p Profile) (problems []string, err error) {
	res, err := emulator.Render(job, emulator.Options{Width: p.Dots})
	if err != nil {
		return nil, fmt.Errorf("preview on %s: %w", p.Name, err)
	}
	for _, prob := range res.Problems {
		problems = append(problems, prob.String())
	}
	if err := res.WritePNG(w); err != nil {
		return problems, fmt.Errorf("preview on %s: %w", p.Name, err)
	}
	return problems, nil
}

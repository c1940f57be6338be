package printer_test

import (
	"testing"

	"github.com/posagent/posagent/printer"
)

// BenchmarkRender renders the MOF worked example's three-item proof on each
// profile. Besides the time it reports the bytes a receipt takes and what they
// cost on the serial line at 9600 and 115200 baud (8N1: 10 bits a byte).
func BenchmarkRender(b *testing.B) {
	var mof receiptCase
	for _, c := range loadCases(b) {
		if c.name == "mof-example" {
			mof = c
		}
	}
	for _, p := range profiles(b) {
		b.Run(p.Name, func(b *testing.B) {
			var n int
			for b.Loop() {
				out, err := printer.Render(mof.inv, p, mof.opt)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "bytes/receipt")
			b.ReportMetric(float64(n*10)/9600, "s@9600baud")
			b.ReportMetric(float64(n*10)/115200, "s@115200baud")
		})
	}
}

// BenchmarkRenderPT renders the Portuguese invoice-receipt (four lines, three
// VAT rates, the AT QR code) on each Portuguese profile, with the bytes it
// takes and their time on a 9600-baud line.
func BenchmarkRenderPT(b *testing.B) {
	fr := ptCaseNamed(b, "fr-consumer")
	for _, p := range ptProfiles(b) {
		b.Run(p.Name, func(b *testing.B) {
			var n int
			for b.Loop() {
				out, err := printer.RenderPT(fr.r, p)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "bytes/receipt")
			b.ReportMetric(float64(n*10)/9600, "s@9600baud")
		})
	}
}

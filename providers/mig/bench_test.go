package mig_test

import (
	"path/filepath"
	"testing"

	"github.com/posagent/posagent/providers/mig"
)

// BenchmarkF0401 writes the F0401 of the MOF worked example (three items)
// and of the 60-item receipt case: what the Turnkey provider does per sale.
func BenchmarkF0401(b *testing.B) {
	for _, name := range []string{"mof-example", "many-items"} {
		t := &testing.T{}
		inv := loadInvoice(t, filepath.Join("..", "..", "testdata", "receipts", name+".json"))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := mig.F0401(inv, mig.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkInspect reads a message back with the local rules, as the
// Turnkey stand-in does for every file.
func BenchmarkInspect(b *testing.B) {
	t := &testing.T{}
	inv := loadInvoice(t, filepath.Join("..", "..", "testdata", "receipts", "many-items.json"))
	msg, err := mig.F0401(inv, mig.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mig.Inspect(msg.XML); err != nil {
			b.Fatal(err)
		}
	}
}

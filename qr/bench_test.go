package qr_test

import (
	"testing"

	"github.com/posagent/posagent/qr"
)

// BenchmarkEncode: the MOF three-item example in UTF-8, as at every sale.
func BenchmarkEncode(b *testing.B) {
	key, inv, opt := mustKey(b, vectorKey), mofInvoice(), qr.DefaultOptions()
	for b.Loop() {
		if _, err := qr.Encode(inv, key, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeManyItems: 200 items, most of them dropped, in each encoding.
func BenchmarkEncodeManyItems(b *testing.B) {
	key, inv := mustKey(b, vectorKey), invoiceWith(manyItems(200, 8))
	for _, enc := range encodings {
		b.Run(enc.String(), func(b *testing.B) {
			opt := qr.DefaultOptions()
			opt.Encoding = enc
			for b.Loop() {
				if _, err := qr.Encode(inv, key, opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	key := mustKey(b, vectorKey)
	c, err := qr.Encode(mofInvoice(), key, qr.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	f, err := qr.Decode(c.Left, c.Right)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := f.Verify(key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	for b.Loop() {
		if _, err := qr.Decode(mofU8Left, mofRight); err != nil {
			b.Fatal(err)
		}
	}
}

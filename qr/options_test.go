package qr_test

import (
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/qr"
)

// The zero Options must mean the MOF's safe default, UTF-8 (field 12 = 1), not
// Big5, whose MOF digit happens to be 0.
func TestZeroOptionsAreUTF8(t *testing.T) {
	inv, err := posagent.DecodeInvoice([]byte(`{"number":"AB11223344","random_code":"9999",
		"issued_at":"2025-09-14T13:03:00+08:00","seller":{"tax_id":"24634102","name":"店"},
		"items":[{"name":"乾電池","quantity":1,"unit_price":105}]}`))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := qr.ParseKey("F1A618ED8685B1A3B81E6CB6884617F4")
	codes, err := qr.Encode(inv, key, qr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(codes.Left, ":**********:1:1:1:乾電池:1:105") {
		t.Fatalf("left = %q, want UTF-8 (field 12 = 1)", codes.Left)
	}
	for e, digit := range map[qr.Encoding]string{qr.Big5: "0", qr.UTF8: "1", qr.Base64: "2"} {
		if e.Digit() != digit {
			t.Errorf("%v.Digit() = %s, want %s", e, e.Digit(), digit)
		}
	}
}

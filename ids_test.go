package posagent_test

import (
	"testing"

	"github.com/posagent/posagent"
)

func TestValidTaxID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"04595257", true},  // divisible by 10: valid before and after 2023
		{"53212539", true},  // the usual example 統編
		{"24634102", true},  // Z = 25: valid only under the divide-by-5 rule of 2023
		{"10458575", true},  // 7th digit 7 (7 × 4 = 28 → 10), Z = 30
		{"10458574", true},  // 7th digit 7, Z = 29: valid because Z + 1 divides by 5
		{"10458573", false}, // 7th digit 7, Z = 28: neither Z nor Z + 1
		{"10458563", false}, // Z = 24: Z + 1 would divide, but the 7th digit is not 7
		{"01234567", false}, // the MOF example's seller: Z = 28
		{"12345678", false},
		{"1234567", false},
		{"123456789", false},
		{"1234567a", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := posagent.ValidTaxID(tt.id); got != tt.want {
			t.Errorf("ValidTaxID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// TestValidTaxIDAgainstDefinition checks every id in a range against the rule
// as the MOF notice states it, computed independently with the digit-sum table.
func TestValidTaxIDAgainstDefinition(t *testing.T) {
	weights := []int{1, 2, 1, 2, 1, 2, 4, 1}
	for n := 10450000; n < 10470000; n++ {
		id := []byte{byte('0' + n/10000000%10), byte('0' + n/1000000%10), byte('0' + n/100000%10), byte('0' + n/10000%10),
			byte('0' + n/1000%10), byte('0' + n/100%10), byte('0' + n/10%10), byte('0' + n%10)}
		z := 0
		for i, w := range weights {
			p := int(id[i]-'0') * w
			z += p/10 + p%10
		}
		want := z%5 == 0 || (id[6] == '7' && (z+1)%5 == 0)
		if got := posagent.ValidTaxID(string(id)); got != want {
			t.Fatalf("ValidTaxID(%s) = %v, want %v", id, got, want)
		}
	}
}

func TestCarrierAndCodeFormats(t *testing.T) {
	for _, s := range []string{"/ABC+123", "/1234567", "/A.B-C+D"} {
		if !posagent.ValidMobileBarcode(s) {
			t.Errorf("ValidMobileBarcode(%q) = false", s)
		}
	}
	for _, s := range []string{"ABC+123", "/abc+123", "/ABC+12", "/ABC+1234", "/ABC 123"} {
		if posagent.ValidMobileBarcode(s) {
			t.Errorf("ValidMobileBarcode(%q) = true", s)
		}
	}
	if !posagent.ValidCitizenCertificate("AB12345678901234") || posagent.ValidCitizenCertificate("ab12345678901234") || posagent.ValidCitizenCertificate("AB1234567890123") {
		t.Error("ValidCitizenCertificate is wrong")
	}
	for s, want := range map[string]bool{"123": true, "1234567": true, "12": false, "12345678": false, "12a": false} {
		if got := posagent.ValidLoveCode(s); got != want {
			t.Errorf("ValidLoveCode(%q) = %v", s, got)
		}
	}
	for s, want := range map[string]bool{"0000": true, "9999": true, "123": false, "12345": false, "12a4": false} {
		if got := posagent.ValidRandomCode(s); got != want {
			t.Errorf("ValidRandomCode(%q) = %v", s, got)
		}
	}
}

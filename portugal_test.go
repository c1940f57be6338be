package posagent

import "testing"

func TestValidNIF(t *testing.T) {
	for _, tc := range []struct {
		nif  string
		want bool
	}{
		{"999999990", true},  // Consumidor Final
		{"501442600", true},  // a published company NIF
		{"123456789", true},  // check digit 9
		{"123456780", false}, // wrong check digit
		{"501442601", false},
		{"012345678", false}, // leading zero
		{"12345678", false},  // eight digits
		{"1234567890", false},
		{"12345678a", false},
		{"", false},
		{"99999999O", false}, // letter O, not zero
	} {
		if got := ValidNIF(tc.nif); got != tc.want {
			t.Errorf("ValidNIF(%q) = %v, want %v", tc.nif, got, tc.want)
		}
	}
}

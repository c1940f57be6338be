package posagent

import "regexp"

// ConsumerTaxID stands for "no buyer tax id" in the QR code's buyer field.
const ConsumerTaxID = "00000000"

var (
	taxIDText        = regexp.MustCompile(`^[0-9]{8}$`)
	mobileBarcode    = regexp.MustCompile(`^/[0-9A-Z.+-]{7}$`)
	citizenCert      = regexp.MustCompile(`^[A-Z]{2}[0-9]{14}$`)
	loveCodeText     = regexp.MustCompile(`^[0-9]{3,7}$`)
	randomCodeText   = regexp.MustCompile(`^[0-9]{4}$`)
	saleIDText       = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	zeroTaxReasonTxt = regexp.MustCompile(`^7[1-9]$`)
)

// taxIDWeights are the MOF 統一編號 check weights.
var taxIDWeights = [8]int{1, 2, 1, 2, 1, 2, 4, 1}

// ValidTaxID reports whether id is an 8-digit 統一編號 with a valid check sum
// under the rule in force since 2023-04-01: add the tens and units digits of
// each digit × weight; the sum must divide by 5, or, when the 7th digit is 7,
// the sum + 1 may divide by 5 instead. Numbers valid under the old divide-by-10
// rule stay valid under this one.
func ValidTaxID(id string) bool {
	if !taxIDText.MatchString(id) {
		return false
	}
	z := 0
	for i, w := range taxIDWeights {
		p := int(id[i]-'0') * w
		z += p/10 + p%10
	}
	return z%5 == 0 || (id[6] == '7' && (z+1)%5 == 0)
}

// ValidLoveCode reports whether s is a 捐贈碼: 3 to 7 digits.
func ValidLoveCode(s string) bool { return loveCodeText.MatchString(s) }

// ValidRandomCode reports whether s is a 隨機碼: 4 digits.
func ValidRandomCode(s string) bool { return randomCodeText.MatchString(s) }

// ValidMobileBarcode reports whether s is a 手機條碼: "/" and 7 of 0-9 A-Z . + -.
func ValidMobileBarcode(s string) bool { return mobileBarcode.MatchString(s) }

// ValidCitizenCertificate reports whether s is a 自然人憑證 carrier id: two
// uppercase letters and 14 digits.
func ValidCitizenCertificate(s string) bool { return citizenCert.MatchString(s) }

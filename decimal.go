package posagent

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"
)

// Decimal is an exact decimal number for unit prices and quantities. Money
// totals are whole NT$ in int64; nothing in posagent uses floats for money.
//
// It wraps shopspring/decimal (arbitrary precision, exact) so that the rest of the
// code sees a small API and JSON that reads and writes plain numbers.
type Decimal struct{ d decimal.Decimal }

// decimalText is what we accept: an optional minus, digits, an optional
// fraction. No exponent, no plus sign, no leading dot: a POS sends prices as
// people write them, and anything else is more likely a bug than a price.
var decimalText = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// ParseDecimal parses s exactly.
func ParseDecimal(s string) (Decimal, error) {
	if !decimalText.MatchString(s) {
		return Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	return Decimal{d}, nil
}

// MustDecimal is ParseDecimal for constants in code and tests; it panics on bad input.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// DecimalFromInt returns i as a Decimal.
func DecimalFromInt(i int64) Decimal { return Decimal{decimal.NewFromInt(i)} }

func (a Decimal) Add(b Decimal) Decimal { return Decimal{a.d.Add(b.d)} }
func (a Decimal) Sub(b Decimal) Decimal { return Decimal{a.d.Sub(b.d)} }
func (a Decimal) Mul(b Decimal) Decimal { return Decimal{a.d.Mul(b.d)} }
func (a Decimal) Neg() Decimal          { return Decimal{a.d.Neg()} }
func (a Decimal) Cmp(b Decimal) int     { return a.d.Cmp(b.d) }
func (a Decimal) Equal(b Decimal) bool  { return a.d.Equal(b.d) }
func (a Decimal) Sign() int             { return a.d.Sign() }
func (a Decimal) IsZero() bool          { return a.d.IsZero() }

// Places is the number of fraction digits written, ignoring trailing zeros.
func (a Decimal) Places() int {
	s := a.String() // String drops trailing zeros: 1.50 has one place.
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// RoundNTD rounds half away from zero to whole dollars, the MOF rounding
// (四捨五入) for amounts. ok is false when the result does not fit an int64:
// the caller refuses the input then, never keeps a wrapped value.
func (a Decimal) RoundNTD() (ntd int64, ok bool) {
	r := a.d.Round(0)
	if !r.BigInt().IsInt64() {
		return 0, false
	}
	return r.IntPart(), true
}

// IntDigits is the number of digits before the point, ignoring leading zeros:
// 0 for 0.5, 3 for -123.45.
func (a Decimal) IntDigits() int {
	if a.d.IsZero() {
		return 0
	}
	return max(0, a.d.NumDigits()+int(a.d.Exponent()))
}

// IsInteger reports whether a has no fraction.
func (a Decimal) IsInteger() bool { return a.d.IsInteger() }

// String is the shortest exact form: "1", "0.5", "-12.25"; never an exponent.
func (a Decimal) String() string { return a.d.String() }

// MarshalJSON writes a JSON number.
func (a Decimal) MarshalJSON() ([]byte, error) { return []byte(a.d.String()), nil }

// UnmarshalJSON accepts a JSON number or a string holding one, read exactly
// (never through float64). Any other JSON value (true, an object…) is a wrong
// type, reported as malformed like every wrong type.
func (a *Decimal) UnmarshalJSON(b []byte) error {
	s := string(b)
	switch {
	case len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"':
		s = s[1 : len(s)-1]
	case len(s) == 0 || (s[0] != '-' && (s[0] < '0' || s[0] > '9')):
		return malformed("", "must be a decimal number (12.5 or \"12.5\"), not JSON %s", jsonKindOf(b))
	}
	d, err := ParseDecimal(s)
	if err != nil {
		return Invalid("", "%s is not a decimal number (write 12.5 or \"12.5\")", shorten(string(b)))
	}
	*a = d
	return nil
}

// RoundCents rounds half away from zero to two places, as InvoiceXpress
// rounds EUR amounts [U: half-up is the stand-in's reading].
func (a Decimal) RoundCents() Decimal { return Decimal{a.d.Round(2)} }

// Cents writes a with exactly two places ("17.60"), as money is shown.
func (a Decimal) Cents() string { return a.d.StringFixed(2) }

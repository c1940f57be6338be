package posagent

import (
	"fmt"
	"regexp"
	"strconv"
)

// InvoiceNumber is a 字軌號碼: two uppercase letters (the track) and eight digits,
// stored without the dash, "AB12345678".
type InvoiceNumber string

var invoiceNumberText = regexp.MustCompile(`^[A-Z]{2}[0-9]{8}$`)

// ParseInvoiceNumber accepts "AB12345678" or the printed "AB-12345678".
func ParseInvoiceNumber(s string) (InvoiceNumber, error) {
	if len(s) == 11 && s[2] == '-' {
		s = s[:2] + s[3:]
	}
	if !invoiceNumberText.MatchString(s) {
		return "", Invalid("number", "%q is not an invoice number: two uppercase letters and eight digits, e.g. AB12345678", s)
	}
	return InvoiceNumber(s), nil
}

// MakeInvoiceNumber joins a track and a sequence number.
func MakeInvoiceNumber(track string, seq int) InvoiceNumber {
	return InvoiceNumber(fmt.Sprintf("%s%08d", track, seq))
}

// Valid reports whether n has the 字軌號碼 form.
func (n InvoiceNumber) Valid() bool { return invoiceNumberText.MatchString(string(n)) }

// Track is the two-letter 字軌.
func (n InvoiceNumber) Track() string { return string(n[:2]) }

// Seq is the eight-digit number as an integer.
func (n InvoiceNumber) Seq() int {
	v, _ := strconv.Atoi(string(n[2:]))
	return v
}

// Printed is the form on the proof, "AB-12345678".
func (n InvoiceNumber) Printed() string {
	if !n.Valid() {
		return string(n)
	}
	return string(n[:2]) + "-" + string(n[2:])
}

func (n InvoiceNumber) String() string { return string(n) }

// BookletSize is how many numbers make one booklet (本): the MOF hands out
// ranges in booklets of 50, each starting at …00 or …50.
const BookletSize = 50

var trackText = regexp.MustCompile(`^[A-Z]{2}$`)

// Booklet is a range of invoice numbers leased to this terminal: one or more
// whole booklets of 50 in one track and one period. First ends in 00 or 50,
// Last in 49 or 99.
type Booklet struct {
	Track  string `json:"track"`
	First  int    `json:"first"`
	Last   int    `json:"last"`
	Period Period `json:"period"`
	// Source says where the range came from: "ecpay", "hq", "manual", ….
	Source string `json:"source,omitempty"`
	// Seller is the 統一編號 whose invoices take these numbers (a till may
	// sell for several); empty on a range not yet given to a seller.
	Seller string `json:"seller,omitempty"`
}

// ParseRange reads "AB12345600-AB12345649" into a Booklet without period or source.
func ParseRange(s string) (Booklet, error) {
	if len(s) != 21 || s[10] != '-' {
		return Booklet{}, Invalid("range", "%q is not a number range such as AB12345600-AB12345649", s)
	}
	first, err := ParseInvoiceNumber(s[:10])
	if err != nil {
		return Booklet{}, Invalid("range", "%q: the first number is not two letters and eight digits", s)
	}
	last, err := ParseInvoiceNumber(s[11:])
	if err != nil {
		return Booklet{}, Invalid("range", "%q: the last number is not two letters and eight digits", s)
	}
	if first.Track() != last.Track() {
		return Booklet{}, Invalid("range", "%q spans two tracks", s)
	}
	b := Booklet{Track: first.Track(), First: first.Seq(), Last: last.Seq()}
	return b, b.checkRange()
}

// Validate checks the booklet rules: a two-letter track, whole booklets of 50
// (first ends 00/50, last ends 49/99) and a period.
func (b Booklet) Validate() error {
	if err := b.checkRange(); err != nil {
		return err
	}
	if b.Period.IsZero() {
		return Invalid("period", "a booklet needs its period")
	}
	return nil
}

func (b Booklet) checkRange() error {
	switch {
	case !trackText.MatchString(b.Track):
		return Invalid("track", "%q is not a track: two uppercase letters", b.Track)
	case b.First < 0 || b.Last > 99999999:
		return Invalid("range", "numbers must have eight digits")
	case b.Last < b.First:
		return Invalid("range", "last number %08d comes before first %08d", b.Last, b.First)
	case b.First%BookletSize != 0:
		return Invalid("first", "%08d does not start a booklet: it must end in 00 or 50", b.First)
	case (b.Last+1)%BookletSize != 0:
		return Invalid("last", "%08d does not end a booklet: it must end in 49 or 99", b.Last)
	}
	return nil
}

// Count is how many numbers the range holds.
func (b Booklet) Count() int { return b.Last - b.First + 1 }

// Booklets is how many booklets of 50 the range holds.
func (b Booklet) Booklets() int { return b.Count() / BookletSize }

// Number returns the i-th number of the range (0-based).
func (b Booklet) Number(i int) InvoiceNumber { return MakeInvoiceNumber(b.Track, b.First+i) }

// Contains reports whether n lies in the range.
func (b Booklet) Contains(n InvoiceNumber) bool {
	return n.Valid() && n.Track() == b.Track && n.Seq() >= b.First && n.Seq() <= b.Last
}

// Overlaps reports whether two ranges share a number in the same period.
func (b Booklet) Overlaps(o Booklet) bool {
	return b.Track == o.Track && b.Period == o.Period && b.First <= o.Last && o.First <= b.Last
}

// String is "AB12345600-AB12345649".
func (b Booklet) String() string {
	return fmt.Sprintf("%s-%s", b.Number(0), MakeInvoiceNumber(b.Track, b.Last))
}

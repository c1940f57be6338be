package qr

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/posagent/posagent"
)

// Encoding is how the item text of the QR codes is encoded. Digit gives the
// MOF's field 12 value.
//
// The zero value is UTF-8, the MOF's safe default, so that Options{} never
// silently means Big5 (whose MOF digit is 0).
type Encoding int

const (
	UTF8   Encoding = iota // item names in UTF-8 (the default); MOF digit 1
	Big5                   // item names in Big5 bytes; MOF digit 0
	Base64                 // the whole item text as Base64 of its UTF-8; MOF digit 2
)

// Digit is the encoding's value in field 12 of the left QR text.
func (e Encoding) Digit() string {
	switch e {
	case Big5:
		return "0"
	case Base64:
		return "2"
	}
	return "1"
}

// String is the name used by the CLI and JSON: big5, utf8, base64.
func (e Encoding) String() string {
	switch e {
	case Big5:
		return "big5"
	case UTF8:
		return "utf8"
	case Base64:
		return "base64"
	}
	return fmt.Sprintf("Encoding(%d)", int(e))
}

// Valid reports whether e is one of the three MOF encodings.
func (e Encoding) Valid() bool { return e == Big5 || e == UTF8 || e == Base64 }

// ParseEncoding reads big5, utf8 (or utf-8) or base64, in any case, or the MOF
// digits 0, 1, 2.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(s) {
	case "big5", "0":
		return Big5, nil
	case "utf8", "utf-8", "1":
		return UTF8, nil
	case "base64", "2":
		return Base64, nil
	}
	return 0, posagent.Invalid("encoding", "%q is not an encoding: utf8, big5 or base64", s)
}

// MarshalText writes the name (utf8, big5, base64).
func (e Encoding) MarshalText() ([]byte, error) {
	if !e.Valid() {
		return nil, fmt.Errorf("qr: invalid encoding %d", int(e))
	}
	return []byte(e.String()), nil
}

// UnmarshalText reads what ParseEncoding reads.
func (e *Encoding) UnmarshalText(b []byte) error {
	p, err := ParseEncoding(string(b))
	if err != nil {
		return err
	}
	*e = p
	return nil
}

// big5Substitute replaces a character Big5 cannot carry. It is the fullwidth
// question mark (Big5 A148), so the loss is visible on a scan rather than a
// silent stray byte.
const big5Substitute = '？'

// inBig5 reports whether r survives a Big5 round trip unchanged. Some runes
// encode (the encoder folds compatibility characters) but decode to another
// rune; they count as missing, so that the text we report is exactly what a
// scanner reads back.
func inBig5(r rune) bool {
	if r < utf8.RuneSelf {
		return true
	}
	if r > 0xFFFF {
		return roundTripsBig5(r) // rare: not worth a cache entry
	}
	if known, ok := big5Runes.Load(r); ok {
		return known.(bool)
	}
	ok := roundTripsBig5(r)
	big5Runes.Store(r, ok)
	return ok
}

// big5Runes caches inBig5 for the Basic Multilingual Plane (at most 64k
// entries): a shop's item names use a few hundred characters, and a Big5
// round trip costs two transformers.
var big5Runes sync.Map // rune → bool

func roundTripsBig5(r rune) bool {
	var in [utf8.UTFMax]byte
	n := utf8.EncodeRune(in[:], r)
	enc, err := traditionalchinese.Big5.NewEncoder().Bytes(in[:n])
	if err != nil {
		return false
	}
	dec, err := traditionalchinese.Big5.NewDecoder().Bytes(enc)
	return err == nil && bytes.Equal(dec, in[:n])
}

// big5Safe replaces every rune Big5 cannot carry with the substitute.
func big5Safe(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if inBig5(r) {
			b.WriteRune(r)
		} else {
			b.WriteRune(big5Substitute)
		}
	}
	return b.String()
}

// big5Bytes encodes s in Big5, substituting what Big5 cannot carry.
func big5Bytes(s string) []byte {
	out, err := traditionalchinese.Big5.NewEncoder().Bytes([]byte(big5Safe(s)))
	if err != nil {
		// big5Safe left only runes that encode; this cannot happen.
		panic("qr: Big5 encoder rejected a checked text: " + err.Error())
	}
	return out
}

// big5Len is the length of s in Big5 bytes: one per ASCII rune, two per other
// rune (after substitution every non-ASCII rune is a two-byte Big5 character).
func big5Len(s string) int {
	n := 0
	for _, r := range s {
		if r < utf8.RuneSelf {
			n++
		} else {
			n += 2
		}
	}
	return n
}

// fromBig5 decodes Big5 bytes strictly: bytes that are not Big5 are an error.
func fromBig5(b []byte, field string) (string, error) {
	out, err := traditionalchinese.Big5.NewDecoder().Bytes(b)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) {
		return "", posagent.Invalid(field, "field 12 says Big5 but the bytes are not Big5")
	}
	return string(out), nil
}

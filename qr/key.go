package qr

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"

	"github.com/posagent/posagent"
)

// Key is a merchant's 128-bit QR AES key (QR 種子密碼 turned into a key by the
// MOF tool). It is a secret: every way fmt, slog and encoding/json print it
// says [redacted]. Only Hex writes the key itself, for the one place that must
// (showing the key the MOF tool would show).
//
// Reflection cannot be stopped: a Key held in an unexported struct field and
// printed with %v shows its bytes. Keep keys in exported fields or on their own.
type Key [16]byte

const redacted = "[redacted]"

// ParseKey reads the 32 hex characters (either case) the MOF key tool shows.
// Its errors never repeat the input.
func ParseKey(s string) (Key, error) {
	var k Key
	if len(s) != 2*len(k) {
		return Key{}, posagent.Invalid("key", "a QR key is 32 hex characters, not %d", len(s))
	}
	if _, err := hex.Decode(k[:], []byte(s)); err != nil {
		return Key{}, posagent.Invalid("key", "a QR key is 32 hex characters (0-9, A-F); this one has other characters")
	}
	return k, nil
}

// keySalt is the fixed salt of the MOF key tool (DistKMSService):
// Base64 Nd8NUYIxHIBxlzExqGM9gA==.
var keySalt = []byte{0x35, 0xDF, 0x0D, 0x51, 0x82, 0x31, 0x1C, 0x80, 0x71, 0x97, 0x31, 0x31, 0xA8, 0x63, 0x3D, 0x80}

// DeriveKey turns a QR seed password into the key the MOF tool derives from it.
// The tool seeds Java's SHA1PRNG with SHA1(seed ‖ salt) and draws 16 bytes from
// it for an AES KeyGenerator; SHA1PRNG's first output for a seed s is
// SHA1(SHA1(s)), so the key is the first 16 bytes of that.
//
// [U] The tool reads the seed in the JVM's default charset; the bytes here are
// the seed's UTF-8 bytes, which agree only for ASCII seeds. Prefer the 32-hex
// key the MOF tool shows.
func DeriveKey(seed string) Key {
	h := sha1.New()
	h.Write([]byte(seed))
	h.Write(keySalt)
	s := h.Sum(nil)
	first := sha1.Sum(s)
	out := sha1.Sum(first[:])
	var k Key
	copy(k[:], out[:])
	return k
}

// Hex is the key as the MOF tool shows it: 32 uppercase hex characters.
func (k Key) Hex() string { return strings.ToUpper(hex.EncodeToString(k[:])) }

// IsZero reports whether k is the zero key (no key configured).
func (k Key) IsZero() bool { return k == Key{} }

// String redacts the key.
func (k Key) String() string { return redacted }

// GoString redacts the key (%#v).
func (k Key) GoString() string { return redacted }

// Format redacts the key for every verb: %v %s %x %X %q %d all print [redacted].
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue redacts the key in log/slog output.
func (k Key) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalText redacts the key, so JSON, TOML or YAML output of a struct holding
// a Key never carries it. UnmarshalText still reads hex, so configuration can
// hold a key; nothing writes one back.
func (k Key) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// UnmarshalText reads 32 hex characters, as ParseKey.
func (k *Key) UnmarshalText(b []byte) error {
	p, err := ParseKey(string(b))
	if err != nil {
		return err
	}
	*k = p
	return nil
}

// verificationIV is the MOF's fixed CBC IV, Base64 Dt8lyToo17X/XkXaQvihuA==.
var verificationIV = []byte{0x0E, 0xDF, 0x25, 0xC9, 0x3A, 0x28, 0xD7, 0xB5, 0xFF, 0x5E, 0x45, 0xDA, 0x42, 0xF8, 0xA1, 0xB8}

// VerificationLen is the length of the verification field (加密驗證資訊).
const VerificationLen = 24

// Verification computes the 24-character verification field of an invoice:
// AES-128-CBC with the MOF's fixed IV over the 14 ASCII bytes of invoice number
// and random code, PKCS#7-padded to one block, in padded Base64.
func (k Key) Verification(number posagent.InvoiceNumber, randomCode string) (string, error) {
	if !number.Valid() {
		return "", posagent.Invalid("number", "%q is not two uppercase letters and eight digits", number)
	}
	if !posagent.ValidRandomCode(randomCode) {
		return "", posagent.Invalid("random_code", "%q is not 4 digits", randomCode)
	}
	return k.verification(string(number) + randomCode), nil
}

// verification encrypts a 14-byte plaintext; the caller has checked it.
func (k Key) verification(plain string) string {
	block, err := aes.NewCipher(k[:])
	if err != nil {
		panic("qr: AES-128 rejected a 16-byte key: " + err.Error())
	}
	var buf [aes.BlockSize]byte
	n := copy(buf[:], plain)
	pad := byte(aes.BlockSize - n)
	for i := n; i < len(buf); i++ {
		buf[i] = pad
	}
	cipher.NewCBCEncrypter(block, verificationIV).CryptBlocks(buf[:], buf[:])
	return base64.StdEncoding.EncodeToString(buf[:])
}

// equalVerification compares two verification fields in constant time.
func equalVerification(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

package ecpay_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/posagent/posagent/providers/ecpay"
)

// The documentation vector (ecpay.md §3, ECPay's example with the stage keys).
const (
	vectorKey     = "ejCk326UnaZWKisg"
	vectorIV      = "q9jcZX8Ib9LM8wYk"
	vectorJSON    = `{"Name":"Test","ID":"A123456789"}`
	vectorEncoded = `%7B%22Name%22%3A%22Test%22%2C%22ID%22%3A%22A123456789%22%7D`
	vectorData    = `uvI4yrErM37XNQkXGAgRgJAgHn2t72jahaMZzYhWL1HmvH4WV18VJDP2i9pTbC+tby5nxVExLLFyAkbjbS2Dvg==`
)

func TestDocumentationVector(t *testing.T) {
	c, err := ecpay.NewCipher(vectorKey, vectorIV)
	if err != nil {
		t.Fatal(err)
	}
	if got := ecpay.URLEncode(vectorJSON); got != vectorEncoded || len(got) != 59 {
		t.Fatalf("URLEncode = %s (%d bytes), want %s (59)", got, len(got), vectorEncoded)
	}
	if got := c.Encrypt([]byte(vectorJSON)); got != vectorData {
		t.Fatalf("Encrypt = %s, want %s", got, vectorData)
	}
	// Through the struct path too: field order as declared, no HTML escaping.
	got, err := c.EncryptJSON(struct{ Name, ID string }{"Test", "A123456789"})
	if err != nil || got != vectorData {
		t.Fatalf("EncryptJSON = %s, %v", got, err)
	}
	plain, err := c.Decrypt(vectorData)
	if err != nil || string(plain) != vectorJSON {
		t.Fatalf("Decrypt = %q, %v", plain, err)
	}
}

func TestURLEncodeIsPHP(t *testing.T) {
	for in, want := range map[string]string{
		"a b":       "a+b",
		"~!*'()":    "%7E%21%2A%27%28%29",
		"-_.":       "-_.",
		"咖啡":        "%E5%92%96%E5%95%A1",
		"<&>":       "%3C%26%3E",
		"/+=":       "%2F%2B%3D",
		"AZaz09":    "AZaz09",
		"100%":      "100%25",
		"\n\t":      "%0A%09",
		"{\"a\":1}": "%7B%22a%22%3A1%7D",
	} {
		if got := ecpay.URLEncode(in); got != want {
			t.Errorf("URLEncode(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestMarshalJSONKeepsHTMLAndNoNewline(t *testing.T) {
	b, err := ecpay.MarshalJSON(map[string]string{"n": "<a&b>"})
	if err != nil || string(b) != `{"n":"<a&b>"}` {
		t.Fatalf("MarshalJSON = %s, %v", b, err)
	}
}

func TestDecryptRefusesBadInput(t *testing.T) {
	c, _ := ecpay.NewCipher(vectorKey, vectorIV)
	wrong, _ := ecpay.NewCipher("0123456789abcdef", vectorIV)
	tests := []struct {
		name string
		c    *ecpay.Cipher
		data string
		want error
	}{
		{"not base64", c, "%%%", ecpay.ErrBase64},
		{"empty", c, "", ecpay.ErrBlocks},
		{"partial block", c, "AAAA", ecpay.ErrBlocks},
		{"wrong key", wrong, vectorData, ecpay.ErrPadding},
		{"pad byte out of range", c, padBlockCut(c), ecpay.ErrPadding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.c.Decrypt(tt.data)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decrypt error = %v, want %v", err, tt.want)
			}
			for _, secret := range []string{vectorKey, vectorIV} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q contains a key", err)
				}
			}
		})
	}
}

// padBlockCut encrypts 16 bytes (PKCS7 adds a whole block of 0x10) and drops
// the pad block: what remains decrypts to a block ending in '0' (0x30), which
// is not a pad length.
func padBlockCut(c *ecpay.Cipher) string {
	raw := mustB64(c.Encrypt([]byte("0000000000000000")))
	return b64(raw[:16])
}

func TestNewCipherChecksLengthsWithoutEchoingKeys(t *testing.T) {
	for _, kv := range [][2]string{{"short", vectorIV}, {vectorKey, "muchtoolongforaniv"}} {
		_, err := ecpay.NewCipher(kv[0], kv[1])
		if err == nil {
			t.Fatalf("NewCipher(%q, %q) accepted", kv[0], kv[1])
		}
		if strings.Contains(err.Error(), kv[0]) || strings.Contains(err.Error(), kv[1]) {
			t.Fatalf("error %q repeats a key", err)
		}
	}
	c, _ := ecpay.NewCipher(vectorKey, vectorIV)
	for _, s := range []string{c.String(), c.GoString()} {
		if strings.Contains(s, vectorKey) || strings.Contains(s, vectorIV) {
			t.Fatalf("Cipher prints its keys: %s", s)
		}
	}
}

func TestRelateNumber(t *testing.T) {
	tests := []struct{ id, want string }{
		{"S01260617000123", "S01260617000123"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZ012", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012"}, // 29: literal
	}
	for _, tt := range tests {
		if got := ecpay.RelateNumber(tt.id); got != tt.want {
			t.Errorf("RelateNumber(%q) = %q, want %q", tt.id, got, tt.want)
		}
	}
	seen := map[string]string{}
	for _, id := range []string{"s1", "S1x", "s-1", "s.1", "S_1", "pos01-000001", "POS01-000001",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", strings.Repeat("a", 64), strings.Repeat("A", 64), "S1"} {
		r := ecpay.RelateNumber(id)
		if r != ecpay.RelateNumber(id) {
			t.Fatalf("RelateNumber(%q) is not deterministic", id)
		}
		if len(r) < 1 || len(r) > 30 {
			t.Fatalf("RelateNumber(%q) = %q: %d characters", id, r, len(r))
		}
		for _, ch := range r {
			if !(ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
				t.Fatalf("RelateNumber(%q) = %q has %q", id, r, ch)
			}
		}
		// ECPay compares case-insensitively: distinct ids must stay distinct then.
		key := strings.ToUpper(r)
		if other, dup := seen[key]; dup {
			t.Fatalf("RelateNumber(%q) = RelateNumber(%q) = %q", id, other, r)
		}
		seen[key] = id
	}
	if got := ecpay.RelateNumber("pos01-000001"); !strings.HasPrefix(got, "POS0100000") || len(got) != 30 {
		t.Fatalf("hashed form %q lacks the readable prefix or is not 30 long", got)
	}
}

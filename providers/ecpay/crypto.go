package ecpay

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Cipher encrypts and decrypts the Data field of ECPay's e-invoice API (ecpay.md
// §3): compact JSON → PHP urlencode (uppercase hex) → AES-128-CBC with HashKey and
// HashIV, PKCS7 → Base64. It holds the merchant's secrets, so it never prints them.
type Cipher struct {
	block cipher.Block
	iv    [16]byte
}

// NewCipher checks that HashKey and HashIV are exactly 16 bytes each, as AES-128
// needs; the error never repeats them.
func NewCipher(hashKey, hashIV string) (*Cipher, error) {
	if len(hashKey) != 16 {
		return nil, fmt.Errorf("ecpay: HashKey must be 16 bytes, got %d", len(hashKey))
	}
	if len(hashIV) != 16 {
		return nil, fmt.Errorf("ecpay: HashIV must be 16 bytes, got %d", len(hashIV))
	}
	block, err := aes.NewCipher([]byte(hashKey))
	if err != nil {
		return nil, fmt.Errorf("ecpay: HashKey: %w", err)
	}
	c := &Cipher{block: block}
	copy(c.iv[:], hashIV)
	return c, nil
}

// String and GoString keep the keys out of any %v or %#v.
func (c *Cipher) String() string   { return "ecpay.Cipher{redacted}" }
func (c *Cipher) GoString() string { return c.String() }

// MarshalJSON writes the JSON of v as ECPay wants it: compact, no HTML escaping
// ("<" stays "<", so it matches what PHP's json_encode produces with the SDK's
// flags), without the encoder's trailing newline.
func MarshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// URLEncode is PHP's urlencode: A–Z a–z 0–9 - _ . literal, space as "+", every
// other byte %XX in uppercase hex. Go's QueryEscape differs only in leaving "~".
func URLEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "~", "%7E")
}

// EncryptJSON marshals v and encrypts it.
func (c *Cipher) EncryptJSON(v any) (string, error) {
	plain, err := MarshalJSON(v)
	if err != nil {
		return "", fmt.Errorf("ecpay: encode Data: %w", err)
	}
	return c.Encrypt(plain), nil
}

// Encrypt turns JSON text into the Data field.
func (c *Cipher) Encrypt(jsonText []byte) string {
	enc := []byte(URLEncode(string(jsonText)))
	pad := aes.BlockSize - len(enc)%aes.BlockSize
	enc = append(enc, bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, len(enc))
	cipher.NewCBCEncrypter(c.block, c.iv[:]).CryptBlocks(out, enc)
	return base64.StdEncoding.EncodeToString(out)
}

// Errors of Decrypt. They say what failed, never what the text was.
var (
	ErrBase64  = errors.New("ecpay: Data is not Base64")
	ErrBlocks  = errors.New("ecpay: Data is not whole AES blocks")
	ErrPadding = errors.New("ecpay: Data has bad PKCS7 padding (wrong HashKey/HashIV?)")
	ErrURL     = errors.New("ecpay: decrypted Data is not URL-encoded text")
)

// Decrypt turns a Data field back into JSON text: Base64 → AES-128-CBC →
// strict PKCS7 → form-style URL decoding ("+" is a space, hex in either case).
func (c *Cipher) Decrypt(data string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
	if err != nil {
		return nil, ErrBase64
	}
	if len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return nil, ErrBlocks
	}
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(c.block, c.iv[:]).CryptBlocks(plain, raw)
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > aes.BlockSize {
		return nil, ErrPadding
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, ErrPadding
		}
	}
	text, err := url.QueryUnescape(string(plain[:len(plain)-pad]))
	if err != nil {
		return nil, ErrURL
	}
	return []byte(text), nil
}

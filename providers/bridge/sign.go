package bridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// The HTTP headers of the contract (README "Bridge contract").
const (
	// HeaderKey carries the idempotency key: the same for every attempt at one
	// document, different for every document.
	HeaderKey = "Idempotency-Key"
	// HeaderTimestamp is the send time in Unix seconds, taken at each attempt.
	HeaderTimestamp = "X-Posagent-Timestamp"
	// HeaderSignature is "sha256=" and the lowercase hex HMAC-SHA256, keyed
	// with the shared secret, of the timestamp, a full stop and the body bytes.
	HeaderSignature = "X-Posagent-Signature"
)

// Window is how far the timestamp of a request may be from the receiver's
// clock, either way. The reference receiver refuses requests outside it with
// 401; the client then compares the answer's Date header with its own clock
// and reports a clock error when they differ by more than Window.
const Window = 5 * time.Minute

// MinSecretLen is the shortest shared secret the client accepts: 32 bytes,
// as many as the HMAC-SHA256 output, so a short password cannot weaken it.
const MinSecretLen = 32

// Sign returns the value of HeaderSignature for a request sent at timestamp
// (Unix seconds) with body.
func Sign(secret []byte, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(timestamp, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header value in constant time.
func Verify(secret []byte, timestamp int64, body []byte, signature string) bool {
	want := Sign(secret, timestamp, body)
	return hmac.Equal([]byte(want), []byte(strings.TrimSpace(signature)))
}

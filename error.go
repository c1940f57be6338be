package posagent

import (
	"errors"
	"fmt"
	"time"
)

// Kind says what should happen after an error. The agent decides between
// answering 4xx, retrying, pausing a provider or raising an alarm by kind alone.
type Kind string

const (
	// KindInvalid: the input is wrong. Nothing is stored and no number is spent;
	// a queued job with this error needs a person.
	KindInvalid Kind = "invalid"
	// KindDuplicate: the provider already holds this document. Look it up and adopt it.
	KindDuplicate Kind = "duplicate"
	// KindTransient: network, timeout, 5xx, provider busy. Retry with backoff;
	// with RetryAfter set, the client knows when the call can succeed (e.g. a
	// fresh invoice waiting for the provider's clock): retry then, no backoff.
	KindTransient Kind = "transient"
	// KindRateLimited: the provider asked us to slow down. Retry after RetryAfter.
	KindRateLimited Kind = "rate_limited"
	// KindConfig: credentials or set-up are wrong. Stop syncing that provider, alarm, keep queueing.
	KindConfig Kind = "config"
	// KindAuth: the provider refused the credentials themselves (keys that do
	// not decrypt, a merchant not enabled for the service). Like KindConfig it
	// pauses the provider and keeps queueing; the alarm tells the operator to
	// fix the keys and reload the configuration.
	KindAuth Kind = "auth"
	// KindClock: the local clock is too far off the provider's. Alarm with Skew.
	KindClock Kind = "clock"
	// KindExhausted: no invoice numbers left for the period.
	KindExhausted Kind = "exhausted"
	// KindNotFound: the thing asked for does not exist.
	KindNotFound Kind = "not_found"
	// KindConflict: the request contradicts what is stored (e.g. a sale id reused
	// with different content, a void of a voided invoice).
	KindConflict Kind = "conflict"
	// KindStorageFull: the disk holding the store is full. Nothing was
	// written and no number spent; the sale can be rung up again once space
	// is freed. A person must free it: alarm, do not retry blindly.
	KindStorageFull Kind = "storage_full"
	// KindInternal: anything else; a bug or an unexpected failure.
	KindInternal Kind = "internal"
)

// Error is the one error type of posagent. Field names the offending input in
// JSON path form ("items[2].unit_price") when there is one.
type Error struct {
	Kind    Kind
	Field   string
	Message string
	// RetryAfter is the delay the provider asked for (KindRateLimited), or the
	// wait after which a KindTransient call can succeed, if known.
	RetryAfter time.Duration
	// Skew is the measured local clock minus the provider's (KindClock), if known.
	Skew time.Duration
	// Err is the underlying cause, if any. It must never carry a secret.
	Err error

	// malformed marks a KindInvalid error about the document's shape rather
	// than a rule: not JSON, a duplicate or unknown key, a wrong type, text
	// that is not UTF-8. The API answers those 400 malformed (IsMalformed).
	malformed bool
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		if msg == "" {
			return e.Err.Error()
		}
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns a KindInvalid error naming the field and the rule it breaks.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// malformed returns a KindInvalid error about the document's shape, naming the field.
func malformed(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Message: fmt.Sprintf(format, args...), malformed: true}
}

// IsMalformed reports whether err says the document is not the expected JSON
// (syntax, duplicate or unknown key, wrong type, invalid UTF-8, an empty or
// zero time) rather than that it breaks a rule.
func IsMalformed(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == KindInvalid && e.malformed
}

// ErrorKind returns the kind of the first *Error in err's chain, KindInternal for
// any other error, and "" for nil.
func ErrorKind(err error) Kind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// ErrorField returns the field named by the first *Error in err's chain, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// IsKind reports whether err carries the given kind.
func IsKind(err error, kind Kind) bool { return ErrorKind(err) == kind }

// prefixField puts a parent path in front of the field of an *Error, so that
// item rules can be checked without knowing where the item sits.
func prefixField(prefix string, err error) error {
	var e *Error
	if errors.As(err, &e) {
		c := *e
		if c.Field == "" {
			c.Field = prefix
		} else {
			c.Field = prefix + "." + c.Field
		}
		return &c
	}
	return err
}

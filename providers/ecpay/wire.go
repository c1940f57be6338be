package ecpay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// requestEnvelope is the outer JSON of every call (ecpay.md §2).
type requestEnvelope struct {
	MerchantID string   `json:"MerchantID"`
	RqHeader   rqHeader `json:"RqHeader"`
	Data       string   `json:"Data"`
}

type rqHeader struct {
	Timestamp int64  `json:"Timestamp"`
	Revision  string `json:"Revision,omitempty"`
}

// responseEnvelope is the outer JSON of every answer. Numbers may come as
// strings [3P], and Data may be a string, null, "null" or absent.
type responseEnvelope struct {
	MerchantID Str `json:"MerchantID"`
	RpHeader   struct {
		Timestamp Int `json:"Timestamp"`
	} `json:"RpHeader"`
	TransCode *Int `json:"TransCode"`
	TransMsg  Str  `json:"TransMsg"`
	Data      *Str `json:"Data"`
}

// Result is the part of every decrypted answer that says how it went.
type Result struct {
	RtnCode Int `json:"RtnCode"`
	RtnMsg  Str `json:"RtnMsg"`
}

func (r *Result) result() *Result { return r }

// resulter is every decrypted answer type: each embeds Result.
type resulter interface{ result() *Result }

// Int is an integer ECPay may send as a JSON number or as a string ("1", "");
// an empty string or null reads as 0.
type Int int64

func (n *Int) UnmarshalJSON(b []byte) error {
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		*n = 0
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = strings.TrimSpace(str)
		if s == "" {
			*n = 0
			return nil
		}
	}
	// Amounts have been seen as "100.0": a whole number written as a decimal
	// is taken, exactly (never through a float, whose conversion to int64
	// saturates or wraps by platform for values beyond it).
	if whole, frac, ok := strings.Cut(s, "."); ok && frac != "" && strings.Trim(frac, "0") == "" {
		s = whole
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not an integer that fits 64 bits", s)
	}
	*n = Int(v)
	return nil
}

// Str is a string ECPay may send as a JSON number; null reads as "".
type Str string

func (s *Str) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = Str(v)
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*s = Str(b)
	default:
		return fmt.Errorf("%s is not a string", b)
	}
	return nil
}

func (s Str) String() string { return string(s) }

// List is a JSON array ECPay may also send as a string holding the array
// (seen on the offline InvoiceInfo lists [U]); "", null and absent are empty.
type List[T any] []T

func (l *List[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*l = nil
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var inner string
		if err := json.Unmarshal(b, &inner); err != nil {
			return err
		}
		inner = strings.TrimSpace(inner)
		if inner == "" || inner == "null" {
			*l = nil
			return nil
		}
		b = []byte(inner)
	}
	var v []T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = v
	return nil
}

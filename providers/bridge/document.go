package bridge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode"

	"github.com/posagent/posagent"
)

// Kind is the kind of a document, and the last segment of its URL.
type Kind string

// The document kinds of the contract.
const (
	KindInvoice       Kind = "invoice"
	KindVoid          Kind = "void"
	KindAllowance     Kind = "allowance"
	KindAllowanceVoid Kind = "allowance-void"
	KindBlank         Kind = "blank"
	KindLease         Kind = "lease"
	// KindStatus is the optional status call: a question about documents
	// sent before, not a document; see StatusQuery.
	KindStatus Kind = "status"
)

// Kinds lists every kind in the contract's order.
var Kinds = []Kind{KindInvoice, KindVoid, KindAllowance, KindAllowanceVoid, KindBlank, KindLease, KindStatus}

// Version is the contract version carried in every document.
const Version = 1

// Document is the JSON body of every request, and what an exec program reads
// on standard input. Which fields are present depends on Kind (README "Bridge
// contract"). The client writes it once per attempt with the same bytes for
// the same document, so a receiver may compare a repeated key's content.
type Document struct {
	Version     int    `json:"version"`
	Kind        Kind   `json:"kind"`
	Key         string `json:"key"`
	SellerTaxID string `json:"seller_tax_id"`
	MachineID   string `json:"machine_id"`
	// Invoice is the invoice concerned (invoice, void, allowance, allowance-void),
	// in posagent's invoice JSON, its time in Asia/Taipei.
	Invoice *posagent.Invoice `json:"invoice,omitempty"`
	// MOF is what the terminal printed: the texts of the barcode and QR codes.
	MOF       *MOF                `json:"mof,omitempty"`
	Void      *posagent.Void      `json:"void,omitempty"`
	Allowance *posagent.Allowance `json:"allowance,omitempty"`
	// Reason is why an allowance is voided (allowance-void).
	Reason string `json:"reason,omitempty"`
	Blank  *Blank `json:"blank,omitempty"`
	Lease  *Lease `json:"lease,omitempty"`
	// Status asks what the receiver holds of documents sent before (status).
	Status *StatusQuery `json:"status,omitempty"`
	// MIG holds the document's MOF MIG 4.1 messages when the client is set up
	// with MIG: F0401, F0501, G0401 or the E0402s (one per track).
	MIG []MIGMessage `json:"mig,omitempty"`
	// Credentials are the values of [provider.bridge.credentials], passed
	// through for the receiver (a Wixtar shop's store code, POS code, PID …).
	Credentials map[string]string `json:"credentials,omitempty"`
}

// MIGMessage is one MIG 4.1 message: its type ("F0401"), the identifier
// Turnkey would file it under, and the XML document.
type MIGMessage struct {
	Type       string `json:"type"`
	Identifier string `json:"identifier"`
	XML        string `json:"xml"`
}

// MOF holds an invoice's MOF texts as printed on its proof.
type MOF struct {
	Number     string `json:"number"`
	RandomCode string `json:"random_code"`
	Period     string `json:"period"` // ROC year and even month: "11506"
	Barcode    string `json:"barcode"`
	QRLeft     string `json:"qr_left"`
	QRRight    string `json:"qr_right"`
}

// Texts are the barcode and QR texts of an issued invoice.
type Texts struct {
	Barcode, QRLeft, QRRight string
}

// Blank is a report of numbers left unused in a period (E0402).
type Blank struct {
	Period string  `json:"period"`
	Ranges []Range `json:"ranges"`
}

// Lease asks for booklets of 50 numbers for this terminal.
type Lease struct {
	Period   string `json:"period"`
	Booklets int    `json:"booklets"`
}

// Range is a range of invoice numbers: track and first and last sequence
// numbers, both included.
type Range struct {
	Track string `json:"track"`
	First int    `json:"first"`
	Last  int    `json:"last"`
}

// Answer is what a receiver may send back: the body of an HTTP answer or an
// exec program's standard output. Every field is optional; an empty body is
// an empty answer.
type Answer struct {
	// Message explains a refusal (kept in the job's history) or anything else.
	Message string `json:"message,omitempty"`
	// ProviderNumber is the receiver's own number for the document (an
	// allowance's, when provider.bridge.numbered_allowances is set).
	ProviderNumber string `json:"provider_number,omitempty"`
	// Booklets answers a lease.
	Booklets []Range `json:"booklets,omitempty"`
	// RetryAfter is, for an exec program exiting 75, the seconds to wait
	// before trying again (HTTP uses the Retry-After header).
	RetryAfter int `json:"retry_after,omitempty"`
	// Documents answers a status call: one line per document asked.
	Documents []DocumentStatus `json:"documents,omitempty"`
}

// StatusQuery is the body of the optional status call: the documents asked
// about, at most MaxStatusBatch.
type StatusQuery struct {
	Documents []StatusRef `json:"documents"`
}

// StatusRef names one document asked about: by the idempotency key it was
// sent under and, for a receiver that keeps documents otherwise (or an
// allowance whose key names another period), by kind and numbers.
type StatusRef struct {
	Key             string `json:"key"`
	Kind            Kind   `json:"kind"`
	Number          string `json:"number"`
	AllowanceNumber string `json:"allowance_number,omitempty"`
	ProviderNumber  string `json:"provider_number,omitempty"`
}

// DocumentStatus is what the receiver holds of one document asked about.
type DocumentStatus struct {
	// Key is the StatusRef's key, as asked.
	Key string `json:"key"`
	// Found: the receiver holds the document. For a void or an allowance
	// void: the invoice or allowance is voided there.
	Found bool `json:"found"`
	// Voided: an invoice or allowance is held voided.
	Voided bool `json:"voided,omitempty"`
	// Amount is the total as held (invoice, allowance; tax included, NT$).
	Amount *int64 `json:"amount,omitempty"`
	// Acceptance is the platform's verdict as far as the receiver knows:
	// "accepted", "rejected", "pending", or absent when it cannot tell.
	Acceptance string `json:"acceptance,omitempty"`
	// Detail is the receiver's own words and codes (at most MaxDetail bytes).
	Detail string `json:"detail,omitempty"`
}

// MaxStatusBatch is how many documents one status call asks about.
const MaxStatusBatch = 100

// MaxDetail is the longest detail of one document's status, in bytes.
const MaxDetail = 200

var acceptances = map[string]bool{"": true, "accepted": true, "rejected": true, "pending": true}

// MaxAnswer is the largest answer read, in bytes; a longer one is garbage.
const MaxAnswer = 64 << 10

// MaxMessage is how much of a receiver's message or a program's standard
// error is kept, in bytes.
const MaxMessage = 2048

var providerNumberText = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,64}$`)

// DecodeAnswer reads an answer strictly: one JSON object with only the
// fields of Answer, or nothing at all. It is exported for receivers written
// in Go and for the fuzz target.
func DecodeAnswer(data []byte) (Answer, error) {
	var a Answer
	if len(bytes.TrimSpace(data)) == 0 {
		return a, nil
	}
	if len(data) > MaxAnswer {
		return a, fmt.Errorf("the answer is longer than %d bytes", MaxAnswer)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return Answer{}, fmt.Errorf("the answer is not the contract's JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Answer{}, fmt.Errorf("the answer has data after its JSON object")
	}
	if a.ProviderNumber != "" && !providerNumberText.MatchString(a.ProviderNumber) {
		return Answer{}, fmt.Errorf("provider_number must be 1 to 64 of A-Z a-z 0-9 . _ : / -")
	}
	if a.RetryAfter < 0 {
		return Answer{}, fmt.Errorf("retry_after must not be negative")
	}
	if len(a.Booklets) > 100 {
		return Answer{}, fmt.Errorf("%d booklet ranges is more than 100", len(a.Booklets))
	}
	if len(a.Documents) > MaxStatusBatch {
		return Answer{}, fmt.Errorf("%d document statuses is more than %d", len(a.Documents), MaxStatusBatch)
	}
	for i, d := range a.Documents {
		switch {
		case d.Key == "":
			return Answer{}, fmt.Errorf("documents[%d].key is required", i)
		case !acceptances[d.Acceptance]:
			return Answer{}, fmt.Errorf("documents[%d].acceptance %q is not accepted, rejected or pending", i, d.Acceptance)
		case d.Amount != nil && (*d.Amount < 0 || *d.Amount > posagent.MaxTotal):
			return Answer{}, fmt.Errorf("documents[%d].amount %d is not 0 to %d", i, *d.Amount, int64(posagent.MaxTotal))
		case len(d.Detail) > MaxDetail:
			return Answer{}, fmt.Errorf("documents[%d].detail is longer than %d bytes", i, MaxDetail)
		}
	}
	return a, nil
}

// cleanText makes a receiver's or program's text safe to keep: secrets
// replaced, control characters turned into spaces, invalid UTF-8 dropped,
// and cut to MaxMessage bytes. Secrets are replaced before the cut, so a cut
// never leaves half a secret.
func cleanText(s string, secrets []string) string {
	s = redact(s, secrets)
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > MaxMessage {
		cut := MaxMessage
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + fmt.Sprintf(" … (%d bytes more)", len(s)-cut)
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// redact replaces every occurrence of each secret in s, longest first so
// that a secret containing another is replaced whole.
func redact(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

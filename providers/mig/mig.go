// Package mig writes the MOF's MIG 4.1 e-invoice messages from the domain
// types: F0401 (issue), F0501 (void), F0701 (註銷), G0401 (allowance), G0501
// (allowance void) and E0402 (blank numbers). It is used by the Turnkey
// provider, which drops these files into Turnkey's folders, and by anything
// else that needs MIG XML (the bridge provider's documents, integrators'
// tools through `posagent mig`).
//
// Every builder checks, before it returns a byte, the rules Turnkey applies
// locally and would otherwise answer with a file in ERR (turnkey.md §3), and
// names the offending field. The XSDs are embedded (xsd/) and ValidateXSD
// checks a message against them with xmllint.
//
// Elements are written in the order the XSDs list them (several are xsd:all,
// where any order validates, but XSD order is what every reader expects).
package mig

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/posagent/posagent"
	"github.com/shopspring/decimal"
)

// The message types this package writes.
const (
	TypeF0401 = "F0401" // 開立發票: issue an invoice
	TypeF0501 = "F0501" // 作廢發票: void an invoice
	TypeF0701 = "F0701" // 註銷發票: cancel an invoice before re-issuing its number
	TypeG0401 = "G0401" // 開立折讓證明單: allowance
	TypeG0501 = "G0501" // 作廢折讓證明單: void an allowance
	TypeE0402 = "E0402" // 空白未使用字軌: numbers left unused at period end
)

// Types lists every message type in the order a newcomer meets them.
var Types = []string{TypeF0401, TypeF0501, TypeF0701, TypeG0401, TypeG0501, TypeE0402}

// Namespace is the root element's namespace of a message type.
func Namespace(msgType string) string { return "urn:GEINV:eInvoiceMessage:" + msgType + ":4.1" }

// ConsumerID is the Buyer/Identifier (and BuyerId) of a consumer: ten zeros.
const ConsumerID = "0000000000"

// consumerName is written when a consumer gave no name. Turnkey refuses the
// names "0" to "0000" for a consumer (turnkey.md §3.1 rule 3); the validated
// examples use 消費者.
const consumerName = "消費者"

// Options carry what the domain invoice does not say but a message needs.
type Options struct {
	// MemberCarrierType is the CarrierType code (≤ 6 characters) the platform
	// assigned to the seller's own member carrier. Without it an invoice kept
	// in a member carrier cannot be written.
	MemberCarrierType string
	// CustomsClearanceMark for zero-rated sales: "1" not through customs (the
	// default) or "2" through customs. [U] The domain does not record how the
	// goods left; a POS selling zero-rated goods over the counter (e.g. to
	// bonded areas, reason 71–79) mostly sells them without customs clearance.
	CustomsClearanceMark string
}

func (o Options) customsMark() string {
	if o.CustomsClearanceMark == "" {
		return "1"
	}
	return o.CustomsClearanceMark
}

// Check validates the options themselves: a config error at start.
func (o Options) Check() error {
	if o.MemberCarrierType != "" && (len(o.MemberCarrierType) > 6 || strings.TrimSpace(o.MemberCarrierType) != o.MemberCarrierType) {
		return posagent.Invalid("member_carrier_type", "%q is not a carrier type code: up to 6 characters, no spaces", o.MemberCarrierType)
	}
	switch o.CustomsClearanceMark {
	case "", "1", "2":
	default:
		return posagent.Invalid("customs_clearance_mark", "%q is not 1 (not through customs) or 2 (through customs)", o.CustomsClearanceMark)
	}
	return nil
}

// Message is one MIG message: its type, the identifier Turnkey files it
// under (TURNKEY_MESSAGE_LOG.INVOICE_IDENTIFIER, turnkey.md §2.1) and the XML.
type Message struct {
	Type       string
	Identifier string
	XML        []byte
}

// CheckSeller checks what Turnkey needs of the seller on every F0401 and
// G0401: a valid 統一編號, a name, and an address (the XSD makes the address
// optional, Turnkey's program does not: turnkey.md §3.1 rule 1). Call it at
// start so that a missing address is a config error, not a file in ERR.
func CheckSeller(s posagent.Seller) error {
	switch {
	case !posagent.ValidTaxID(s.TaxID):
		return posagent.Invalid("seller.tax_id", "%q is not a valid 統一編號", s.TaxID)
	case blank(s.Name):
		return posagent.Invalid("seller.name", "is required")
	case len([]rune(s.Name)) > 60:
		return posagent.Invalid("seller.name", "is longer than 60 characters (MIG Seller/Name)")
	case blank(s.Address):
		return posagent.Invalid("seller.address", "is required by Turnkey (Seller/Address must not be blank): set the shop's registered address")
	case len([]rune(s.Address)) > 100:
		return posagent.Invalid("seller.address", "is longer than 100 characters (MIG Seller/Address)")
	}
	return nil
}

// blank reports whether s is empty or only half- and full-width spaces.
func blank(s string) bool { return strings.TrimFunc(s, unicode.IsSpace) == "" }

// padded reports whether s starts or ends with a half- or full-width space
// (Turnkey refuses carrier ids so written).
func padded(s string) bool { return strings.TrimFunc(s, unicode.IsSpace) != s }

// taipei formats t as MIG date (yyyyMMdd) and time (HH:mm:ss) in Taipei time.
func taipei(t time.Time) (date, clock string) {
	t = t.In(posagent.Taipei)
	return t.Format("20060102"), t.Format("15:04:05")
}

// marshal writes a message with the XML declaration, indented for people.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header[:len(xml.Header)-1]) // without the trailing newline
	buf.WriteByte('\n')
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("mig: encode: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// dec converts a domain decimal to shopspring's for division and rounding.
func dec(d posagent.Decimal) decimal.Decimal { return decimal.RequireFromString(d.String()) }

// num writes a decimal as the XSD wants it: at most 7 fraction digits, no exponent.
func num(d decimal.Decimal) string { return d.Round(7).String() }

// rateText writes basis points as a MIG TaxRate ("0.05").
func rateText(bp int) string { return decimal.New(int64(bp), -4).String() }

// allocate divides total over weights in proportion, each share rounded to
// places digits, so that the shares add up to total exactly: share i is the
// rounded cumulative amount up to i minus the rounded cumulative amount before
// it. With weights summing to zero every weight gets total/len.
func allocate(weights []decimal.Decimal, total decimal.Decimal, places int32) []decimal.Decimal {
	out := make([]decimal.Decimal, len(weights))
	if len(weights) == 0 {
		return out
	}
	sum := decimal.Zero
	for _, w := range weights {
		sum = sum.Add(w)
	}
	prev, cum := decimal.Zero, decimal.Zero
	n := decimal.NewFromInt(int64(len(weights)))
	for i, w := range weights {
		var upTo decimal.Decimal
		if sum.IsZero() {
			upTo = total.Mul(decimal.NewFromInt(int64(i+1))).DivRound(n, 20).Round(places)
		} else {
			cum = cum.Add(w)
			upTo = total.Mul(cum).DivRound(sum, 20).Round(places)
		}
		if i == len(weights)-1 {
			upTo = total
		}
		out[i] = upTo.Sub(prev)
		prev = upTo
	}
	return out
}

// party is the MIG RoleDescriptionType, fields in XSD sequence order.
type party struct {
	Identifier string `xml:"Identifier"`
	Name       string `xml:"Name"`
	Address    string `xml:"Address,omitempty"`
}

func sellerParty(s posagent.Seller) party {
	return party{Identifier: s.TaxID, Name: s.Name, Address: s.Address}
}

// buyerParty is the MIG buyer: ten zeros for a consumer, whose name is
// 消費者 unless the POS gave one; a business buyer's 統編, named by the POS
// or, when it gave no name, by the 統編 itself. [U] The platform is not known
// to check the name against the business register; the XSD needs 1–60 characters.
func buyerParty(b posagent.Buyer) party {
	if !b.IsBusiness() {
		name := b.Name
		if blank(name) {
			name = consumerName
		}
		return party{Identifier: ConsumerID, Name: name}
	}
	name := b.Name
	if blank(name) {
		name = b.TaxID
	}
	return party{Identifier: b.TaxID, Name: name}
}

// buyerID is the flat messages' BuyerId.
func buyerID(b posagent.Buyer) string {
	if b.IsBusiness() {
		return b.TaxID
	}
	return ConsumerID
}

// taxCode is the MIG TaxType of a domain tax type.
func taxCode(t posagent.TaxType) string {
	switch t {
	case posagent.TaxZero:
		return "2"
	case posagent.TaxExempt:
		return "3"
	case posagent.TaxSpecial:
		return "4"
	case posagent.TaxMixed:
		return "9"
	}
	return "1"
}

package mig

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/posagent/posagent"
)

// Info is what Inspect reads from a message: enough to file it as Turnkey
// does and to order it against the documents it refers to.
type Info struct {
	Type       string
	Identifier string // TURNKEY_MESSAGE_LOG.INVOICE_IDENTIFIER
	SellerID   string // the 送方 (FROM_PARTY_ID)
	// Invoice is the invoice number the message is about (F0401, F0501,
	// F0701, and the refunded invoice of a G0401); Allowance the allowance
	// number (G0401, G0501).
	Invoice   string
	Allowance string
	// Consumer reports a consumer buyer (F0401).
	Consumer bool
}

// Inspect parses one message (UTF-8, a BOM tolerated), checks it against the
// rules Turnkey applies after the XSD (see rules.go) and returns what it
// files the message by. It does not check the XSD itself: see ValidateXSD.
func Inspect(data []byte) (Info, error) {
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	root, err := rootName(data)
	if err != nil {
		return Info{}, err
	}
	msgType := strings.TrimSuffix(strings.TrimPrefix(root.Space, "urn:GEINV:eInvoiceMessage:"), ":4.1")
	if Namespace(msgType) != root.Space {
		return Info{}, posagent.Invalid("", "root namespace %q is not a MIG 4.1 message", root.Space)
	}
	decode := func(v interface{ check() error }) error {
		if err := xml.Unmarshal(data, v); err != nil {
			return posagent.Invalid("", "%s: %v", msgType, err)
		}
		return v.check()
	}
	switch msgType {
	case TypeF0401:
		var d f0401
		if err := decode(&d); err != nil {
			return Info{}, err
		}
		return Info{Type: msgType, Identifier: msgType + d.Main.InvoiceNumber + d.Main.InvoiceDate, SellerID: d.Main.Seller.Identifier,
			Invoice: d.Main.InvoiceNumber, Consumer: allZeroText.MatchString(d.Main.Buyer.Identifier)}, nil
	case TypeF0501:
		var d f0501
		if err := decode(&d); err != nil {
			return Info{}, err
		}
		return Info{Type: msgType, Identifier: msgType + d.CancelInvoiceNumber + d.CancelDate, SellerID: d.SellerID,
			Invoice: d.CancelInvoiceNumber}, nil
	case TypeF0701:
		var d f0701
		if err := decode(&d); err != nil {
			return Info{}, err
		}
		return Info{Type: msgType, Identifier: msgType + d.VoidInvoiceNumber + d.VoidDate, SellerID: d.SellerID,
			Invoice: d.VoidInvoiceNumber}, nil
	case TypeG0401:
		var d g0401
		if err := decode(&d); err != nil {
			return Info{}, err
		}
		return Info{Type: msgType, Identifier: msgType + d.Main.AllowanceNumber + d.Main.AllowanceDate, SellerID: d.Main.Seller.Identifier,
			Invoice: d.Details[0].OriginalInvoiceNumber, Allowance: d.Main.AllowanceNumber}, nil
	case TypeG0501:
		var d g0501
		if err := decode(&d); err != nil {
			return Info{}, err
		}
		return Info{Type: msgType, Identifier: msgType + d.CancelAllowanceNumber + d.CancelDate, SellerID: d.SellerID,
			Allowance: d.CancelAllowanceNumber}, nil
	case TypeE0402:
		var d e0402
		if err := decode(&d); err != nil {
			return Info{}, err
		}
		return Info{Type: msgType, Identifier: d.Main.BranchBan + "-" + d.Main.InvoiceTrack + d.Main.InvoiceType, SellerID: d.Main.BranchBan}, nil
	}
	return Info{}, posagent.Invalid("", "%q is not a message type this agent knows (%s)", msgType, strings.Join(Types, ", "))
}

// rootName reads the name of the first element.
func rootName(data []byte) (xml.Name, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return xml.Name{}, posagent.Invalid("", "no root element")
		}
		if err != nil {
			return xml.Name{}, posagent.Invalid("", "not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name, nil
		}
	}
}

// String names the message for logs.
func (i Info) String() string { return fmt.Sprintf("%s %s", i.Type, i.Identifier) }

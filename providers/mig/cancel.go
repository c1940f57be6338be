package mig

import (
	"encoding/xml"
	"fmt"
	"time"

	"github.com/posagent/posagent"
)

// The flat messages: F0501 void, F0701 註銷, G0501 allowance void.

type f0501 struct {
	XMLName             xml.Name `xml:"urn:GEINV:eInvoiceMessage:F0501:4.1 CancelInvoice"`
	CancelInvoiceNumber string   `xml:"CancelInvoiceNumber"`
	InvoiceDate         string   `xml:"InvoiceDate"`
	BuyerID             string   `xml:"BuyerId"`
	SellerID            string   `xml:"SellerId"`
	CancelDate          string   `xml:"CancelDate"`
	CancelTime          string   `xml:"CancelTime"`
	CancelReason        string   `xml:"CancelReason"`
}

type f0701 struct {
	XMLName           xml.Name `xml:"urn:GEINV:eInvoiceMessage:F0701:4.1 VoidInvoice"`
	VoidInvoiceNumber string   `xml:"VoidInvoiceNumber"`
	InvoiceDate       string   `xml:"InvoiceDate"`
	BuyerID           string   `xml:"BuyerId"`
	SellerID          string   `xml:"SellerId"`
	VoidDate          string   `xml:"VoidDate"`
	VoidTime          string   `xml:"VoidTime"`
	VoidReason        string   `xml:"VoidReason"`
}

type g0501 struct {
	XMLName               xml.Name `xml:"urn:GEINV:eInvoiceMessage:G0501:4.1 CancelAllowance"`
	CancelAllowanceNumber string   `xml:"CancelAllowanceNumber"`
	AllowanceType         string   `xml:"AllowanceType"`
	AllowanceDate         string   `xml:"AllowanceDate"`
	BuyerID               string   `xml:"BuyerId"`
	SellerID              string   `xml:"SellerId"`
	CancelDate            string   `xml:"CancelDate"`
	CancelTime            string   `xml:"CancelTime"`
	CancelReason          string   `xml:"CancelReason"`
}

// checkFlat holds the rules shared by the flat messages.
func checkFlat(number, numberField, invDate, buyer, seller, date, dateField, clock, clockField, reason, reasonField string) error {
	if !numberText.MatchString(number) {
		return ruleErr(numberField, "%q is not two letters and eight digits", number)
	}
	return checkFlatParts(invDate, buyer, seller, date, dateField, clock, clockField, reason, reasonField)
}

func checkFlatParts(invDate, buyer, seller, date, dateField, clock, clockField, reason, reasonField string) error {
	if err := checkDate("InvoiceDate", invDate); err != nil {
		return err
	}
	if !digitsText.MatchString(buyer) || !(allZeroText.MatchString(buyer) && len(buyer) == 10 || banText.MatchString(buyer)) {
		return ruleErr("BuyerId", "%q is neither 0000000000 (consumer) nor an 8-digit 統一編號", buyer)
	}
	if !banText.MatchString(seller) {
		return ruleErr("SellerId", "%q is not an 8-digit 統一編號", seller)
	}
	if err := checkDate(dateField, date); err != nil {
		return err
	}
	if err := checkClock(clockField, clock); err != nil {
		return err
	}
	if date < invDate {
		return ruleErr(dateField, "%s is before the document's date %s", date, invDate)
	}
	return checkLen(reasonField, reason, 1, 20)
}

func (d *f0501) check() error {
	return checkFlat(d.CancelInvoiceNumber, "CancelInvoiceNumber", d.InvoiceDate, d.BuyerID, d.SellerID,
		d.CancelDate, "CancelDate", d.CancelTime, "CancelTime", d.CancelReason, "CancelReason")
}

func (d *f0701) check() error {
	return checkFlat(d.VoidInvoiceNumber, "VoidInvoiceNumber", d.InvoiceDate, d.BuyerID, d.SellerID,
		d.VoidDate, "VoidDate", d.VoidTime, "VoidTime", d.VoidReason, "VoidReason")
}

func (d *g0501) check() error {
	if err := checkLen("CancelAllowanceNumber", d.CancelAllowanceNumber, 1, 16); err != nil {
		return err
	}
	if d.AllowanceType != "2" {
		return ruleErr("AllowanceType", "%q is not 2 (seller-issued allowance)", d.AllowanceType)
	}
	return checkFlatParts(d.AllowanceDate, d.BuyerID, d.SellerID, d.CancelDate, "CancelDate", d.CancelTime, "CancelTime",
		d.CancelReason, "CancelReason")
}

// reasonOf checks a reason the way the MIG wants it: 1 to 20 characters.
func reasonOf(field, reason string) error {
	if blank(reason) {
		return posagent.Invalid(field, "is required: 1 to 20 characters")
	}
	if n := len([]rune(reason)); n > 20 {
		return posagent.Invalid(field, "is %d characters, more than the 20 the MIG allows", n)
	}
	return nil
}

func checkInvoiceRef(inv posagent.Invoice) error {
	switch {
	case !inv.Number.Valid():
		return posagent.Invalid("number", "%q is not an invoice number", inv.Number)
	case inv.IssuedAt.IsZero():
		return posagent.Invalid("issued_at", "the invoice's issue time is required")
	case !posagent.ValidTaxID(inv.Seller.TaxID):
		return posagent.Invalid("seller.tax_id", "%q is not a valid 統一編號", inv.Seller.TaxID)
	}
	return nil
}

// F0501 writes the void (作廢) of an issued invoice.
func F0501(inv posagent.Invoice, v posagent.Void) (Message, error) {
	if err := checkInvoiceRef(inv); err != nil {
		return Message{}, err
	}
	if err := v.Validate(); err != nil {
		return Message{}, err
	}
	if v.Number != inv.Number {
		return Message{}, posagent.Invalid("number", "the void is for %s, not the invoice %s", v.Number, inv.Number)
	}
	if err := reasonOf("reason", v.Reason); err != nil {
		return Message{}, err
	}
	invDate, _ := taipei(inv.IssuedAt)
	date, clock := taipei(v.VoidedAt)
	doc := f0501{CancelInvoiceNumber: string(inv.Number), InvoiceDate: invDate, BuyerID: buyerID(inv.Buyer),
		SellerID: inv.Seller.TaxID, CancelDate: date, CancelTime: clock, CancelReason: v.Reason}
	if err := doc.check(); err != nil {
		return Message{}, fmt.Errorf("mig: F0501 %s: %w", inv.Number, err)
	}
	data, err := marshal(doc)
	if err != nil {
		return Message{}, err
	}
	return Message{Type: TypeF0501, Identifier: TypeF0501 + doc.CancelInvoiceNumber + doc.CancelDate, XML: data}, nil
}

// F0701 writes the 註銷 of an issued invoice: the platform forgets it, and a
// new F0401 with the same number and corrected data must follow.
func F0701(inv posagent.Invoice, at time.Time, reason string) (Message, error) {
	if err := checkInvoiceRef(inv); err != nil {
		return Message{}, err
	}
	if at.IsZero() {
		return Message{}, posagent.Invalid("voided_at", "is required")
	}
	if err := reasonOf("reason", reason); err != nil {
		return Message{}, err
	}
	invDate, _ := taipei(inv.IssuedAt)
	date, clock := taipei(at)
	doc := f0701{VoidInvoiceNumber: string(inv.Number), InvoiceDate: invDate, BuyerID: buyerID(inv.Buyer),
		SellerID: inv.Seller.TaxID, VoidDate: date, VoidTime: clock, VoidReason: reason}
	if err := doc.check(); err != nil {
		return Message{}, fmt.Errorf("mig: F0701 %s: %w", inv.Number, err)
	}
	data, err := marshal(doc)
	if err != nil {
		return Message{}, err
	}
	return Message{Type: TypeF0701, Identifier: TypeF0701 + doc.VoidInvoiceNumber + doc.VoidDate, XML: data}, nil
}

// G0501 writes the void of an allowance, at the given time.
func G0501(inv posagent.Invoice, a posagent.Allowance, at time.Time, reason string) (Message, error) {
	if err := checkInvoiceRef(inv); err != nil {
		return Message{}, err
	}
	switch {
	case a.Number == "" || len(a.Number) > posagent.MaxAllowanceNumber:
		return Message{}, posagent.Invalid("allowance.number", "%q is not an allowance number of 1 to 16 characters", a.Number)
	case a.IssuedAt.IsZero():
		return Message{}, posagent.Invalid("allowance.issued_at", "is required")
	case at.IsZero():
		return Message{}, posagent.Invalid("voided_at", "is required")
	}
	if err := reasonOf("reason", reason); err != nil {
		return Message{}, err
	}
	alDate, _ := taipei(a.IssuedAt)
	date, clock := taipei(at)
	doc := g0501{CancelAllowanceNumber: a.Number, AllowanceType: "2", AllowanceDate: alDate, BuyerID: buyerID(inv.Buyer),
		SellerID: inv.Seller.TaxID, CancelDate: date, CancelTime: clock, CancelReason: reason}
	if err := doc.check(); err != nil {
		return Message{}, fmt.Errorf("mig: G0501 %s: %w", a.Number, err)
	}
	data, err := marshal(doc)
	if err != nil {
		return Message{}, err
	}
	return Message{Type: TypeG0501, Identifier: TypeG0501 + doc.CancelAllowanceNumber + doc.CancelDate, XML: data}, nil
}

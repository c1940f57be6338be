package ecpay

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

var (
	machineIDText     = regexp.MustCompile(`^[A-Za-z0-9]{1,10}$`)
	relateLiteralText = regexp.MustCompile(`^[A-Z0-9]{1,29}$`)
	nonAlnum          = regexp.MustCompile(`[^A-Z0-9]`)
)

// RelateNumber maps a posagent sale id (1–64 of A-Z a-z 0-9 . _ -) onto
// ECPay's RelateNumber (≤ 30 alphanumerics, unique per merchant and compared
// case-insensitively). Deterministic, so every retry sends the same value:
//
//   - an id of 1–29 uppercase letters and digits is used as it is;
//   - any other id becomes exactly 30 characters: up to 10 of its letters and
//     digits, uppercased, for people reading the back office, then the SHA-256 of
//     the id in base32 (A–Z, 2–7) to fill 30.
//
// The two forms never meet (≤ 29 against exactly 30 characters), and the hash
// keeps ids that differ only in case or punctuation apart ("s-1", "S1", "s.1").
func RelateNumber(saleID string) string {
	if relateLiteralText.MatchString(saleID) {
		return saleID
	}
	prefix := nonAlnum.ReplaceAllString(strings.ToUpper(saleID), "")
	if len(prefix) > 10 {
		prefix = prefix[:10]
	}
	sum := sha256.Sum256([]byte(saleID))
	h := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])
	return prefix + h[:30-len(prefix)]
}

// Date layouts of ECPay fields (§4); always Taipei time.
const (
	dateTimeLayout = "2006-01-02 15:04:05"
	dateLayout     = "2006-01-02"
)

func dateTime(t time.Time) string { return t.In(posagent.Taipei).Format(dateTimeLayout) }
func date(t time.Time) string     { return t.In(posagent.Taipei).Format(dateLayout) }

// parseDateTime reads ECPay's dates: "yyyy-MM-dd HH:mm:ss", with "/" or
// without seconds as some endpoints send them.
func parseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "/", "-"))
	for _, layout := range []string{dateTimeLayout, "2006-01-02 15:04", dateLayout, "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, posagent.Taipei); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ECPay date", s)
}

// InvoiceYear is ECPay's ROC year string ("115" for 2026).
func InvoiceYear(p posagent.Period) string { return strconv.Itoa(p.Year) }

func taxTypeCode(t posagent.TaxType) string {
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

// invType is 07 (general) except for special-rate sales, which ECPay books
// under 08 (§7.1: 08 → TaxType 3/4).
func invType(inv posagent.Invoice) string {
	if inv.TaxType == posagent.TaxSpecial {
		return "08"
	}
	return "07"
}

// specialTaxType is the SpecialTaxType rule of §5.5: 0 for TaxType 1/2/9, 8
// for exempt, the invoice's code for special rates.
func specialTaxType(inv posagent.Invoice) int {
	switch inv.TaxType {
	case posagent.TaxExempt:
		return 8
	case posagent.TaxSpecial:
		return inv.SpecialTaxType
	}
	return 0
}

func hasZeroRated(inv posagent.Invoice) bool {
	if inv.TaxType == posagent.TaxZero {
		return true
	}
	if inv.TaxType == posagent.TaxMixed {
		for _, it := range inv.Items {
			if it.TaxType == posagent.TaxZero {
				return true
			}
		}
	}
	return false
}

func flag01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// carrier maps the domain carrier onto CarrierType/CarrierNum (§5.5): 1 the
// provider's member carrier (CarrierNum empty: ECPay keys it by the buyer's
// e-mail or phone, see memberContact), 2 citizen certificate, 3 mobile barcode.
func carrier(c posagent.Carrier) (typ, num string) {
	switch c.Type {
	case posagent.CarrierMember:
		return "1", ""
	case posagent.CarrierCitizen:
		return "2", c.ID
	case posagent.CarrierMobile:
		return "3", c.ID
	}
	return "", ""
}

// The buyer's contact a member carrier is keyed by.
var (
	memberEmail = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	memberPhone = regexp.MustCompile(`^[0-9]{8,20}$`)
)

// memberContact maps a member carrier's id onto what ECPay keys its member
// carrier by: the buyer's e-mail (CustomerEmail, ≤ 80) or phone
// (CustomerPhone, digits, ≤ 20) — i301 §13, ecpay.md §12 (medium confidence).
// An id that is neither is refused: ECPay would refuse the invoice, or file
// it under nobody.
func memberContact(c posagent.Carrier) (email, phone string, err error) {
	id := c.ID
	switch {
	case len(id) <= 80 && memberEmail.MatchString(id):
		return id, "", nil
	case memberPhone.MatchString(id):
		return "", id, nil
	case id == "":
		return "", "", posagent.Invalid("carrier.id", "ECPay keeps a member carrier under the buyer's e-mail or mobile phone: give one of them as the carrier id")
	}
	return "", "", posagent.Invalid("carrier.id", "ECPay keeps a member carrier under the buyer's e-mail (up to 80 characters) or phone (8 to 20 digits); %q is neither", id)
}

// CheckSale refuses, before the agent spends an invoice number, a sale ECPay
// would refuse for what only ECPay requires (posagent.SaleChecker): a member
// carrier whose id is not the buyer's e-mail or phone.
func (c *Client) CheckSale(inv posagent.Invoice) error {
	if inv.Carrier.Type == posagent.CarrierMember {
		if _, _, err := memberContact(inv.Carrier); err != nil {
			return err
		}
	}
	return nil
}

// Item is one line of Issue, OfflineIssue and Allowance.
type Item struct {
	ItemSeq     int              `json:"ItemSeq"`
	ItemName    string           `json:"ItemName"`
	ItemCount   posagent.Decimal `json:"ItemCount"`
	ItemWord    string           `json:"ItemWord"`
	ItemPrice   posagent.Decimal `json:"ItemPrice"`
	ItemTaxType string           `json:"ItemTaxType,omitempty"`
	ItemAmount  posagent.Decimal `json:"ItemAmount"`
	ItemRemark  string           `json:"ItemRemark,omitempty"`
}

func (c *Client) items(inv posagent.Invoice, lines []posagent.Item) []Item {
	out := make([]Item, len(lines))
	for i, it := range lines {
		unit := it.Unit
		if unit == "" {
			unit = c.cfg.DefaultUnit
		}
		tt := it.TaxType
		if tt == "" {
			tt = inv.TaxType
		}
		out[i] = Item{
			ItemSeq: i + 1, ItemName: it.Name, ItemCount: it.Quantity, ItemWord: unit,
			ItemPrice: it.UnitPrice, ItemAmount: it.Amount, ItemRemark: it.Remark,
		}
		// ItemTaxType is needed on mixed invoices (1/2/3); on others it repeats
		// the invoice's own type, as ECPay's examples do.
		if inv.TaxType == posagent.TaxMixed || tt == posagent.TaxTaxable || tt == posagent.TaxZero || tt == posagent.TaxExempt {
			out[i].ItemTaxType = taxTypeCode(tt)
		}
	}
	return out
}

// invoiceFields are the fields OfflineIssue and Issue share.
type invoiceFields struct {
	MerchantID         string `json:"MerchantID"`
	RelateNumber       string `json:"RelateNumber"`
	CustomerIdentifier string `json:"CustomerIdentifier,omitempty"`
	CustomerName       string `json:"CustomerName,omitempty"`
	CustomerAddr       string `json:"CustomerAddr,omitempty"`
	CustomerPhone      string `json:"CustomerPhone,omitempty"`
	CustomerEmail      string `json:"CustomerEmail,omitempty"`
	ClearanceMark      string `json:"ClearanceMark,omitempty"`
	Print              string `json:"Print"`
	Donation           string `json:"Donation"`
	LoveCode           string `json:"LoveCode,omitempty"`
	CarrierType        string `json:"CarrierType"`
	CarrierNum         string `json:"CarrierNum"`
	TaxType            string `json:"TaxType"`
	ZeroTaxRateReason  string `json:"ZeroTaxRateReason,omitempty"`
	SalesAmount        int64  `json:"SalesAmount"`
	TaxAmount          *int64 `json:"TaxAmount,omitempty"`
	InvoiceRemark      string `json:"InvoiceRemark,omitempty"`
	InvType            string `json:"InvType"`
	Vat                string `json:"vat"`
	Items              []Item `json:"Items"`
}

func (c *Client) invoiceFields(inv posagent.Invoice) invoiceFields {
	ct, cn := carrier(inv.Carrier)
	f := invoiceFields{
		MerchantID:         c.cfg.MerchantID,
		RelateNumber:       RelateNumber(inv.SaleID),
		CustomerIdentifier: inv.Buyer.TaxID,
		CustomerName:       inv.Buyer.Name,
		Print:              flag01(inv.Print),
		Donation:           flag01(inv.IsDonated()),
		LoveCode:           inv.LoveCode,
		CarrierType:        ct,
		CarrierNum:         cn,
		TaxType:            taxTypeCode(inv.TaxType),
		SalesAmount:        inv.Total, // B2C SalesAmount is tax-inclusive (§4)
		InvoiceRemark:      inv.Remark,
		InvType:            invType(inv),
		Vat:                "1", // posagent prices include tax
		Items:              c.items(inv, inv.Items),
	}
	if inv.Carrier.Type == posagent.CarrierMember {
		// CheckSale refused any other id before the number was spent.
		f.CustomerEmail, f.CustomerPhone, _ = memberContact(inv.Carrier)
	}
	if hasZeroRated(inv) {
		f.ZeroTaxRateReason = inv.ZeroTaxReason
		f.ClearanceMark = c.cfg.ClearanceMark
	}
	return f
}

// offlineIssue is the Data of OfflineIssue (§5.5).
type offlineIssue struct {
	invoiceFields
	MachineID      string `json:"MachineID"`
	InvoiceNo      string `json:"InvoiceNo"`
	InvoiceDate    string `json:"InvoiceDate"`
	RandomNumber   string `json:"RandomNumber"`
	SpecialTaxType string `json:"SpecialTaxType"`
}

func (c *Client) offlineIssue(inv posagent.Invoice) offlineIssue {
	f := c.invoiceFields(inv)
	tax := inv.TaxAmount
	f.TaxAmount = &tax
	return offlineIssue{
		invoiceFields:  f,
		MachineID:      c.cfg.MachineID,
		InvoiceNo:      string(inv.Number),
		InvoiceDate:    dateTime(inv.IssuedAt),
		RandomNumber:   inv.RandomCode,
		SpecialTaxType: strconv.Itoa(specialTaxType(inv)),
	}
}

// onlineIssue is the Data of Issue (§7.1): SpecialTaxType is an Int here, and
// ECPay computes TaxAmount itself.
type onlineIssue struct {
	invoiceFields
	SpecialTaxType int `json:"SpecialTaxType"`
}

func (c *Client) onlineIssue(inv posagent.Invoice) (onlineIssue, error) {
	f := c.invoiceFields(inv)
	ct := c.cfg.Contact
	if f.CustomerName == "" && inv.Print {
		f.CustomerName = ct.Name
	}
	if inv.Print {
		f.CustomerAddr = ct.Addr
		if f.CustomerName == "" || f.CustomerAddr == "" {
			return onlineIssue{}, posagent.Errorf(posagent.KindConfig, "ecpay Issue: a printed invoice needs CustomerName and CustomerAddr: set the shop contact (Contact.Name, Contact.Addr)")
		}
	}
	if f.CustomerPhone == "" && f.CustomerEmail == "" {
		// A member carrier brought the buyer's own; otherwise the shop's.
		f.CustomerPhone, f.CustomerEmail = ct.Phone, ct.Email
	}
	if f.CustomerPhone == "" && f.CustomerEmail == "" {
		return onlineIssue{}, posagent.Errorf(posagent.KindConfig, "ecpay Issue: ECPay requires CustomerPhone or CustomerEmail: set the shop contact (Contact.Phone or Contact.Email)")
	}
	return onlineIssue{invoiceFields: f, SpecialTaxType: specialTaxType(inv)}, nil
}

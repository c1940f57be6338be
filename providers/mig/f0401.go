package mig

import (
	"encoding/xml"
	"fmt"
	"strconv"

	"github.com/posagent/posagent"
	"github.com/shopspring/decimal"
)

// f0401 is the Invoice message. Fields are in XSD order.
type f0401 struct {
	XMLName xml.Name    `xml:"urn:GEINV:eInvoiceMessage:F0401:4.1 Invoice"`
	Main    f0401Main   `xml:"Main"`
	Details []f0401Item `xml:"Details>ProductItem"`
	Amount  f0401Amount `xml:"Amount"`
}

type f0401Main struct {
	InvoiceNumber        string `xml:"InvoiceNumber"`
	InvoiceDate          string `xml:"InvoiceDate"`
	InvoiceTime          string `xml:"InvoiceTime"`
	Seller               party  `xml:"Seller"`
	Buyer                party  `xml:"Buyer"`
	MainRemark           string `xml:"MainRemark,omitempty"`
	CustomsClearanceMark string `xml:"CustomsClearanceMark,omitempty"`
	InvoiceType          string `xml:"InvoiceType"`
	DonateMark           string `xml:"DonateMark"`
	CarrierType          string `xml:"CarrierType,omitempty"`
	CarrierID1           string `xml:"CarrierId1,omitempty"`
	CarrierID2           string `xml:"CarrierId2,omitempty"`
	PrintMark            string `xml:"PrintMark"`
	NPOBAN               string `xml:"NPOBAN,omitempty"`
	RandomNumber         string `xml:"RandomNumber,omitempty"`
	ZeroTaxRateReason    string `xml:"ZeroTaxRateReason,omitempty"`
}

type f0401Item struct {
	Description    string `xml:"Description"`
	Quantity       string `xml:"Quantity"`
	Unit           string `xml:"Unit,omitempty"`
	UnitPrice      string `xml:"UnitPrice"`
	TaxType        string `xml:"TaxType"`
	Amount         string `xml:"Amount"`
	SequenceNumber string `xml:"SequenceNumber"`
	Remark         string `xml:"Remark,omitempty"`
}

type f0401Amount struct {
	SalesAmount        string `xml:"SalesAmount"`
	FreeTaxSalesAmount string `xml:"FreeTaxSalesAmount"`
	ZeroTaxSalesAmount string `xml:"ZeroTaxSalesAmount"`
	TaxType            string `xml:"TaxType"`
	TaxRate            string `xml:"TaxRate"`
	TaxAmount          string `xml:"TaxAmount"`
	TotalAmount        string `xml:"TotalAmount"`
}

// carrierCode is the MIG CarrierType of a domain carrier.
func carrierCode(c posagent.Carrier, opt Options) (string, error) {
	switch c.Type {
	case posagent.CarrierMobile:
		return "3J0002", nil
	case posagent.CarrierCitizen:
		return "CQ0001", nil
	case posagent.CarrierMember:
		if opt.MemberCarrierType == "" {
			return "", posagent.Invalid("carrier.type", "a member carrier needs the carrier type code the platform assigned to this seller (member_carrier_type in the config)")
		}
		return opt.MemberCarrierType, nil
	}
	return "", posagent.Invalid("carrier.type", "%q is not a carrier type", c.Type)
}

// itemTax is the tax type that applies to a line.
func itemTax(inv posagent.Invoice, it posagent.Item) posagent.TaxType {
	if inv.TaxType == posagent.TaxMixed || it.TaxType != "" {
		return it.TaxType
	}
	return inv.TaxType
}

// CheckInvoice refuses, with the domain field named, an invoice Turnkey would
// put in ERR or the platform would reject for its form. The sale path calls it
// before a number is spent; F0401 calls it again. The invoice may lack its
// number, random code and issue time (a sale not yet issued).
func CheckInvoice(inv posagent.Invoice, opt Options) error {
	if err := inv.Validate(); err != nil {
		return err
	}
	if err := CheckSeller(inv.Seller); err != nil {
		return err
	}
	if !inv.Buyer.IsBusiness() {
		switch inv.Buyer.Name {
		case "0", "00", "000", "0000":
			return posagent.Invalid("buyer.name", "%q is refused by Turnkey as a consumer's name: leave it out", inv.Buyer.Name)
		}
	}
	if !inv.Carrier.IsZero() {
		if _, err := carrierCode(inv.Carrier, opt); err != nil {
			return err
		}
		switch {
		case inv.Carrier.ID == "":
			return posagent.Invalid("carrier.id", "Turnkey needs the carrier id of an invoice kept in a carrier")
		case padded(inv.Carrier.ID):
			return posagent.Invalid("carrier.id", "must not start or end with a space")
		case len(inv.Carrier.ID) > 400:
			return posagent.Invalid("carrier.id", "is longer than 400 characters")
		}
	}
	// The MIG 4.1 sums are all 0 or more: a discount may not take a tax
	// type's sales below zero.
	split, err := inv.SplitTax()
	if err != nil {
		return err
	}
	// Bounded before the differences below (Validate holds this for every
	// invoice; CheckInvoice may be called without it).
	if inv.Total < 0 || inv.Total > posagent.MaxTotal || inv.SalesAmount < 0 || inv.SalesAmount > inv.Total {
		return posagent.Invalid("total", "total %d and sales %d are not within 0 ≤ sales ≤ total ≤ %d", inv.Total, inv.SalesAmount, int64(posagent.MaxTotal))
	}
	switch {
	case split.ZeroRated < 0:
		return posagent.Invalid("items", "the zero-rated items add up to %d: MIG needs 0 or more", split.ZeroRated)
	case split.Exempt < 0:
		return posagent.Invalid("items", "the exempt items add up to %d: MIG needs 0 or more", split.Exempt)
	case inv.Total-split.ZeroRated-split.Exempt < 0, inv.Buyer.IsBusiness() && inv.SalesAmount-split.ZeroRated-split.Exempt < 0:
		return posagent.Invalid("items", "the taxable items add up to less than 0: MIG needs 0 or more")
	}
	return nil
}

// F0401 writes the issue message of an issued invoice (number, random code
// and issue time set), with the amount conventions of turnkey.md §3.1:
//
//   - consumer: lines tax-inclusive as sold, SalesAmount the taxable sales
//     with tax, TaxAmount 0, TotalAmount = Sales + FreeTax + ZeroTax;
//   - business buyer (統編): taxable lines tax-exclusive (the invoice's sales
//     spread over the taxable lines in proportion, so that they add up to
//     SalesAmount exactly), SalesAmount the taxable sales without tax,
//     TaxAmount the invoice's tax, TotalAmount = Sales + FreeTax + ZeroTax + Tax.
//
// [U] Both conventions are third-party (providers' documentation), not MOF
// text; the platform's check (E0103) is not published.
func F0401(inv posagent.Invoice, opt Options) (Message, error) {
	if err := opt.Check(); err != nil {
		return Message{}, err
	}
	if err := inv.ValidateIssued(); err != nil {
		return Message{}, err
	}
	if err := CheckInvoice(inv, opt); err != nil {
		return Message{}, err
	}
	date, clock := taipei(inv.IssuedAt)
	doc := f0401{Main: f0401Main{
		InvoiceNumber: string(inv.Number),
		InvoiceDate:   date,
		InvoiceTime:   clock,
		Seller:        sellerParty(inv.Seller),
		Buyer:         buyerParty(inv.Buyer),
		MainRemark:    inv.Remark,
		InvoiceType:   "07",
		DonateMark:    "0",
		PrintMark:     "N",
		RandomNumber:  inv.RandomCode,
	}}
	if inv.TaxType == posagent.TaxSpecial {
		doc.Main.InvoiceType = "08"
	}
	if inv.Print {
		doc.Main.PrintMark = "Y"
	}
	if inv.IsDonated() {
		doc.Main.DonateMark, doc.Main.NPOBAN = "1", inv.LoveCode
	}
	if !inv.Carrier.IsZero() {
		code, err := carrierCode(inv.Carrier, opt)
		if err != nil {
			return Message{}, err
		}
		doc.Main.CarrierType, doc.Main.CarrierID1, doc.Main.CarrierID2 = code, inv.Carrier.ID, inv.Carrier.ID
	}
	if inv.ZeroTaxReason != "" {
		doc.Main.ZeroTaxRateReason = inv.ZeroTaxReason
		doc.Main.CustomsClearanceMark = opt.customsMark()
	}

	split, err := inv.SplitTax()
	if err != nil {
		return Message{}, err
	}
	b2b := inv.Buyer.IsBusiness()
	taxable := inv.Total - split.ZeroRated - split.Exempt // with tax
	tax := int64(0)
	if b2b {
		taxable = inv.SalesAmount - split.ZeroRated - split.Exempt // without tax
		tax = inv.TaxAmount
	}
	doc.Amount = f0401Amount{
		SalesAmount:        strconv.FormatInt(taxable, 10),
		FreeTaxSalesAmount: strconv.FormatInt(split.Exempt, 10),
		ZeroTaxSalesAmount: strconv.FormatInt(split.ZeroRated, 10),
		TaxType:            taxCode(inv.TaxType),
		TaxRate:            rateText(inv.TaxRate()),
		TaxAmount:          strconv.FormatInt(tax, 10),
		TotalAmount:        strconv.FormatInt(taxable+split.Exempt+split.ZeroRated+tax, 10),
	}

	// Lines: as sold, except a business buyer's taxable lines, which carry
	// their share of the tax-exclusive sales.
	amounts := make([]decimal.Decimal, len(inv.Items))
	var taxableIdx []int
	var weights []decimal.Decimal
	for i, it := range inv.Items {
		amounts[i] = dec(it.Amount)
		if t := itemTax(inv, it); b2b && (t == posagent.TaxTaxable || t == posagent.TaxSpecial) {
			taxableIdx = append(taxableIdx, i)
			weights = append(weights, amounts[i])
		}
	}
	for k, share := range allocate(weights, decimal.NewFromInt(taxable), 7) {
		amounts[taxableIdx[k]] = share
	}
	excl := make(map[int]bool, len(taxableIdx))
	for _, i := range taxableIdx {
		excl[i] = true
	}
	for i, it := range inv.Items {
		price := dec(it.UnitPrice)
		if excl[i] {
			price = amounts[i].DivRound(dec(it.Quantity), 7)
		}
		doc.Details = append(doc.Details, f0401Item{
			Description:    it.Name,
			Quantity:       num(dec(it.Quantity)),
			Unit:           it.Unit,
			UnitPrice:      num(price),
			TaxType:        taxCode(itemTax(inv, it)),
			Amount:         num(amounts[i]),
			SequenceNumber: strconv.Itoa(i + 1),
			Remark:         it.Remark,
		})
	}
	if err := doc.check(); err != nil {
		return Message{}, fmt.Errorf("mig: F0401 %s: %w", inv.Number, err)
	}
	data, err := marshal(doc)
	if err != nil {
		return Message{}, err
	}
	return Message{Type: TypeF0401, Identifier: TypeF0401 + doc.Main.InvoiceNumber + doc.Main.InvoiceDate, XML: data}, nil
}

package mig

import (
	"encoding/xml"
	"fmt"
	"strconv"

	"github.com/posagent/posagent"
	"github.com/shopspring/decimal"
)

// g0401 is the Allowance message, fields in XSD order.
type g0401 struct {
	XMLName xml.Name    `xml:"urn:GEINV:eInvoiceMessage:G0401:4.1 Allowance"`
	Main    g0401Main   `xml:"Main"`
	Details []g0401Item `xml:"Details>ProductItem"`
	Amount  g0401Amount `xml:"Amount"`
}

type g0401Main struct {
	AllowanceNumber string `xml:"AllowanceNumber"`
	AllowanceDate   string `xml:"AllowanceDate"`
	Seller          party  `xml:"Seller"`
	Buyer           party  `xml:"Buyer"`
	AllowanceType   string `xml:"AllowanceType"`
}

type g0401Item struct {
	OriginalInvoiceDate     string `xml:"OriginalInvoiceDate"`
	OriginalInvoiceNumber   string `xml:"OriginalInvoiceNumber"`
	OriginalSequenceNumber  string `xml:"OriginalSequenceNumber,omitempty"`
	OriginalDescription     string `xml:"OriginalDescription"`
	Quantity                string `xml:"Quantity"`
	Unit                    string `xml:"Unit,omitempty"`
	UnitPrice               string `xml:"UnitPrice"`
	Amount                  string `xml:"Amount"`
	Tax                     string `xml:"Tax"`
	AllowanceSequenceNumber string `xml:"AllowanceSequenceNumber"`
	TaxType                 string `xml:"TaxType"`
}

type g0401Amount struct {
	TaxAmount   string `xml:"TaxAmount"`
	TotalAmount string `xml:"TotalAmount"`
}

// originalLine finds the invoice line an allowance line refunds, by name:
// its 1-based sequence number and tax type. [U] The domain allowance does not
// point at invoice lines; a line whose name matches none is taken as taxable
// on a mixed invoice, and has no OriginalSequenceNumber.
func originalLine(inv posagent.Invoice, it posagent.Item) (seq string, tax posagent.TaxType) {
	for i, orig := range inv.Items {
		if orig.Name == it.Name {
			return strconv.Itoa(i + 1), itemTax(inv, orig)
		}
	}
	if it.TaxType != "" {
		return "", it.TaxType
	}
	if inv.TaxType == posagent.TaxMixed {
		return "", posagent.TaxTaxable
	}
	return "", inv.TaxType
}

// G0401 writes an allowance against an issued invoice. The domain allowance
// carries tax-inclusive lines, its total and the tax within it; the G0401
// wants every line without tax and its tax apart (turnkey.md §3.3). The tax
// is spread over the taxable lines in proportion to their amounts (whole NT$,
// adding up to TaxAmount exactly) and the tax-exclusive total over all lines,
// so that the lines add up to Amount/TotalAmount and Amount/TaxAmount exactly.
func G0401(inv posagent.Invoice, a posagent.Allowance) (Message, error) {
	if err := checkInvoiceRef(inv); err != nil {
		return Message{}, err
	}
	if err := CheckSeller(inv.Seller); err != nil {
		return Message{}, err
	}
	// The remaining amount is the provider's to check (E0221); here the
	// allowance only has to be well-formed against its invoice.
	if err := a.Validate(inv, a.Total); err != nil {
		return Message{}, err
	}
	invDate, _ := taipei(inv.IssuedAt)
	date, _ := taipei(a.IssuedAt)
	doc := g0401{Main: g0401Main{
		AllowanceNumber: a.Number, AllowanceDate: date,
		Seller: sellerParty(inv.Seller), Buyer: buyerParty(inv.Buyer), AllowanceType: "2",
	}}

	n := len(a.Items)
	incl := make([]decimal.Decimal, n)
	seqs := make([]string, n)
	taxes := make([]posagent.TaxType, n)
	var taxIdx []int
	var taxWeights []decimal.Decimal
	exclWeights := make([]decimal.Decimal, n)
	for i, it := range a.Items {
		incl[i] = dec(it.Amount)
		seqs[i], taxes[i] = originalLine(inv, it)
		exclWeights[i] = incl[i]
		if taxes[i] == posagent.TaxTaxable || taxes[i] == posagent.TaxSpecial {
			taxIdx = append(taxIdx, i)
			taxWeights = append(taxWeights, incl[i])
			rate := inv.TaxRate()
			exclWeights[i] = incl[i].Mul(decimal.NewFromInt(10000)).DivRound(decimal.NewFromInt(int64(10000+rate)), 20)
		}
	}
	if a.TaxAmount > 0 && len(taxIdx) == 0 {
		return Message{}, posagent.Invalid("tax_amount", "%d is tax on an allowance with no taxable line", a.TaxAmount)
	}
	lineTax := make([]decimal.Decimal, n)
	for k, t := range allocate(taxWeights, decimal.NewFromInt(a.TaxAmount), 0) {
		lineTax[taxIdx[k]] = t
	}
	excl := allocate(exclWeights, decimal.NewFromInt(a.Total-a.TaxAmount), 7)
	for i, it := range a.Items {
		doc.Details = append(doc.Details, g0401Item{
			OriginalInvoiceDate:     invDate,
			OriginalInvoiceNumber:   string(inv.Number),
			OriginalSequenceNumber:  seqs[i],
			OriginalDescription:     it.Name,
			Quantity:                num(dec(it.Quantity)),
			Unit:                    it.Unit,
			UnitPrice:               num(excl[i].DivRound(dec(it.Quantity), 7)),
			Amount:                  num(excl[i]),
			Tax:                     lineTax[i].String(),
			AllowanceSequenceNumber: strconv.Itoa(i + 1),
			TaxType:                 taxCode(taxes[i]),
		})
	}
	doc.Amount = g0401Amount{
		TaxAmount:   strconv.FormatInt(a.TaxAmount, 10),
		TotalAmount: strconv.FormatInt(a.Total-a.TaxAmount, 10),
	}
	if err := doc.check(); err != nil {
		return Message{}, fmt.Errorf("mig: G0401 %s: %w", a.Number, err)
	}
	data, err := marshal(doc)
	if err != nil {
		return Message{}, err
	}
	return Message{Type: TypeG0401, Identifier: TypeG0401 + doc.Main.AllowanceNumber + doc.Main.AllowanceDate, XML: data}, nil
}

func (d *g0401) check() error {
	m := d.Main
	if err := checkLen("Main/AllowanceNumber", m.AllowanceNumber, 1, 16); err != nil {
		return err
	}
	if err := checkDate("Main/AllowanceDate", m.AllowanceDate); err != nil {
		return err
	}
	if err := checkSellerParty("Main/Seller", m.Seller); err != nil {
		return err
	}
	if _, err := checkBuyerParty("Main/Buyer", m.Buyer); err != nil {
		return err
	}
	if m.AllowanceType != "2" {
		return ruleErr("Main/AllowanceType", "%q is not 2", m.AllowanceType)
	}
	if len(d.Details) == 0 || len(d.Details) > 9999 {
		return ruleErr("Details", "an allowance has 1 to 9999 ProductItems, not %d", len(d.Details))
	}
	var amount, tax decimal.Decimal
	seen := map[string]bool{}
	originals := map[string]bool{}
	for i, it := range d.Details {
		field := "Details/ProductItem[" + itoa(i+1) + "]"
		if !numberText.MatchString(it.OriginalInvoiceNumber) {
			return ruleErr(field+"/OriginalInvoiceNumber", "%q is not an invoice number", it.OriginalInvoiceNumber)
		}
		originals[it.OriginalInvoiceNumber] = true
		if err := checkDate(field+"/OriginalInvoiceDate", it.OriginalInvoiceDate); err != nil {
			return err
		}
		if it.OriginalInvoiceDate > m.AllowanceDate {
			return ruleErr(field+"/OriginalInvoiceDate", "%s is after the allowance date %s", it.OriginalInvoiceDate, m.AllowanceDate)
		}
		if err := checkLen(field+"/OriginalDescription", it.OriginalDescription, 1, 500); err != nil {
			return err
		}
		for _, f := range []struct{ name, v string }{{"/Quantity", it.Quantity}, {"/UnitPrice", it.UnitPrice}} {
			if _, err := parseAmount(field+f.name, f.v); err != nil {
				return err
			}
		}
		am, err := parseAmount(field+"/Amount", it.Amount)
		if err != nil {
			return err
		}
		tx, err := parseAmount(field+"/Tax", it.Tax)
		if err != nil {
			return err
		}
		if !tx.IsInteger() || tx.Sign() < 0 {
			return ruleErr(field+"/Tax", "%q is not a whole amount of 0 or more", it.Tax)
		}
		amount, tax = amount.Add(am), tax.Add(tx)
		if err := checkLen(field+"/AllowanceSequenceNumber", it.AllowanceSequenceNumber, 1, 4); err != nil {
			return err
		}
		if seen[it.AllowanceSequenceNumber] {
			return ruleErr(field+"/AllowanceSequenceNumber", "%q is used twice", it.AllowanceSequenceNumber)
		}
		seen[it.AllowanceSequenceNumber] = true
		switch it.TaxType {
		case "1", "2", "3", "4":
		default:
			return ruleErr(field+"/TaxType", "%q is not 1, 2, 3 or 4", it.TaxType)
		}
	}
	if len(originals) > 1 {
		return ruleErr("Details", "an allowance refunds one invoice, not %d", len(originals))
	}
	total, err := parseAmount("Amount/TotalAmount", d.Amount.TotalAmount)
	if err != nil {
		return err
	}
	taxAmount, err := parseAmount("Amount/TaxAmount", d.Amount.TaxAmount)
	if err != nil {
		return err
	}
	switch {
	case total.Sign() <= 0:
		return ruleErr("Amount/TotalAmount", "must be more than 0")
	case !total.Equal(amount):
		return ruleErr("Amount/TotalAmount", "%s is not the sum of the lines' Amount (%s)", d.Amount.TotalAmount, amount)
	case !taxAmount.Equal(tax):
		return ruleErr("Amount/TaxAmount", "%s is not the sum of the lines' Tax (%s)", d.Amount.TaxAmount, tax)
	}
	return nil
}

package mig

import (
	"regexp"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/shopspring/decimal"
)

// The rules a message must meet beyond its XSD: Turnkey's own program checks
// (a file breaking them goes to ERR with -008, turnkey.md §3) and the platform
// checks a file can be seen to break (E0103, E0105, E0106, E0220). They run on
// the wire form, so that the builders and the Turnkey stand-in (reading a
// dropped file) apply exactly the same rules. Errors are KindInvalid and name
// the element by its MIG path.

var (
	digitsText  = regexp.MustCompile(`^[0-9]+$`)
	numberText  = regexp.MustCompile(`^[A-Z]{2}[0-9]{8}$`)
	banText     = regexp.MustCompile(`^[0-9]{8}$`)
	mobileText  = regexp.MustCompile(`^/[0-9A-Z.+-]{7}$`)
	randomText  = regexp.MustCompile(`^[0-9]{4}$`)
	allZeroText = regexp.MustCompile(`^0+$`)
)

func ruleErr(field, format string, args ...any) error {
	return posagent.Invalid(field, format, args...)
}

// checkDate checks a MIG date (a real calendar day) and, when clock is not
// empty, a time.
func checkDate(field, date string) error {
	if _, err := time.Parse("20060102", date); err != nil {
		return ruleErr(field, "%q is not a date yyyyMMdd", date)
	}
	return nil
}

func checkClock(field, clock string) error {
	if _, err := time.Parse("15:04:05", clock); err != nil {
		return ruleErr(field, "%q is not a time HH:mm:ss", clock)
	}
	return nil
}

func checkLen(field, s string, min, max int) error {
	n := len([]rune(s))
	if n < min || n > max {
		if min > 0 && n == 0 {
			return ruleErr(field, "is required")
		}
		return ruleErr(field, "is %d characters, not %d to %d", n, min, max)
	}
	return nil
}

func parseAmount(field, s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return decimal.Zero, ruleErr(field, "%q is not a number", s)
	}
	return d, nil
}

// checkSellerParty and checkBuyerParty are the rules on Seller and Buyer.
func checkSellerParty(prefix string, p party) error {
	switch {
	case !banText.MatchString(p.Identifier):
		return ruleErr(prefix+"/Identifier", "%q is not an 8-digit 統一編號", p.Identifier)
	case blank(p.Address):
		return ruleErr(prefix+"/Address", "must not be blank (Turnkey rule)")
	}
	if err := checkLen(prefix+"/Name", p.Name, 1, 60); err != nil {
		return err
	}
	return checkLen(prefix+"/Address", p.Address, 0, 100)
}

// checkBuyerParty returns whether the buyer is a consumer.
func checkBuyerParty(prefix string, p party) (consumer bool, err error) {
	if !digitsText.MatchString(p.Identifier) {
		return false, ruleErr(prefix+"/Identifier", "%q must be digits only", p.Identifier)
	}
	consumer = allZeroText.MatchString(p.Identifier)
	if !consumer && !banText.MatchString(p.Identifier) {
		return false, ruleErr(prefix+"/Identifier", "%q is neither 0000000000 (consumer) nor an 8-digit 統一編號", p.Identifier)
	}
	if consumer {
		switch p.Name {
		case "0", "00", "000", "0000":
			return true, ruleErr(prefix+"/Name", "%q is not accepted as a consumer's name", p.Name)
		}
	}
	return consumer, checkLen(prefix+"/Name", p.Name, 1, 60)
}

func (d *f0401) check() error {
	m := d.Main
	if !numberText.MatchString(m.InvoiceNumber) {
		return ruleErr("Main/InvoiceNumber", "%q is not two letters and eight digits", m.InvoiceNumber)
	}
	if err := checkDate("Main/InvoiceDate", m.InvoiceDate); err != nil {
		return err
	}
	if err := checkClock("Main/InvoiceTime", m.InvoiceTime); err != nil {
		return err
	}
	if err := checkSellerParty("Main/Seller", m.Seller); err != nil {
		return err
	}
	consumer, err := checkBuyerParty("Main/Buyer", m.Buyer)
	if err != nil {
		return err
	}
	if m.InvoiceType != "07" && m.InvoiceType != "08" {
		return ruleErr("Main/InvoiceType", "%q is not 07 or 08", m.InvoiceType)
	}
	if consumer && m.RandomNumber != "" && !randomText.MatchString(m.RandomNumber) {
		return ruleErr("Main/RandomNumber", "%q is not 4 digits", m.RandomNumber)
	}
	hasCarrier := m.CarrierType != "" || m.CarrierID1 != "" || m.CarrierID2 != ""
	for _, c := range []struct{ field, id string }{{"Main/CarrierId1", m.CarrierID1}, {"Main/CarrierId2", m.CarrierID2}} {
		if padded(c.id) {
			return ruleErr(c.field, "must not start or end with a space")
		}
	}
	if m.CarrierType == "3J0002" {
		if m.CarrierID1 == "" || m.CarrierID2 == "" {
			return ruleErr("Main/CarrierId1", "a mobile barcode (3J0002) needs both CarrierId1 and CarrierId2")
		}
		if !mobileText.MatchString(m.CarrierID1) {
			return ruleErr("Main/CarrierId1", "%q is not a mobile barcode", m.CarrierID1)
		}
	}
	switch m.PrintMark {
	case "Y":
		switch {
		case m.DonateMark != "0":
			return ruleErr("Main/DonateMark", "a printed invoice (PrintMark Y) cannot be donated")
		case hasCarrier && !(m.CarrierType == "3J0002" && !consumer):
			return ruleErr("Main/CarrierType", "a printed invoice (PrintMark Y) has no carrier, except a mobile barcode for a business buyer")
		}
	case "N":
		if m.DonateMark == "0" && (m.CarrierType == "" || m.CarrierID1 == "" || m.CarrierID2 == "") {
			return ruleErr("Main/PrintMark", "an invoice not printed and not donated needs CarrierType, CarrierId1 and CarrierId2")
		}
	default:
		return ruleErr("Main/PrintMark", "%q is not Y or N", m.PrintMark)
	}
	switch m.DonateMark {
	case "1":
		if m.NPOBAN == "" {
			return ruleErr("Main/NPOBAN", "a donated invoice (DonateMark 1) needs the NPOBAN")
		}
		if !consumer {
			return ruleErr("Main/DonateMark", "an invoice to a business buyer cannot be donated")
		}
	case "0":
		if m.NPOBAN != "" {
			return ruleErr("Main/NPOBAN", "must be empty when DonateMark is 0")
		}
	default:
		return ruleErr("Main/DonateMark", "%q is not 0 or 1", m.DonateMark)
	}
	if d.Amount.TaxType == "2" && (m.CustomsClearanceMark == "" || m.ZeroTaxRateReason == "") {
		return ruleErr("Main/ZeroTaxRateReason", "zero-rated sales (TaxType 2) need CustomsClearanceMark and ZeroTaxRateReason")
	}
	if len(d.Details) == 0 {
		return ruleErr("Details", "an invoice needs at least one ProductItem")
	}
	if len(d.Details) > 9999 {
		return ruleErr("Details", "%d ProductItems is more than 9999", len(d.Details))
	}
	seen := make(map[string]bool, len(d.Details))
	for i, it := range d.Details {
		field := "Details/ProductItem[" + itoa(i+1) + "]"
		if err := checkLen(field+"/Description", it.Description, 1, 500); err != nil {
			return err
		}
		q, err := parseAmount(field+"/Quantity", it.Quantity)
		if err != nil {
			return err
		}
		if q.IsZero() {
			return ruleErr(field+"/Quantity", "must not be 0 (platform E0106)")
		}
		for _, f := range []struct{ name, v string }{{"/UnitPrice", it.UnitPrice}, {"/Amount", it.Amount}} {
			if _, err := parseAmount(field+f.name, f.v); err != nil {
				return err
			}
		}
		switch it.TaxType {
		case "1", "2", "3", "4":
		default:
			return ruleErr(field+"/TaxType", "%q is not 1, 2, 3 or 4", it.TaxType)
		}
		if err := checkLen(field+"/SequenceNumber", it.SequenceNumber, 1, 4); err != nil {
			return err
		}
		if seen[it.SequenceNumber] {
			return ruleErr(field+"/SequenceNumber", "%q is used twice (platform E0220)", it.SequenceNumber)
		}
		seen[it.SequenceNumber] = true
	}
	return d.checkAmount(consumer)
}

func (d *f0401) checkAmount(consumer bool) error {
	a := d.Amount
	var sum decimal.Decimal
	vals := map[string]decimal.Decimal{}
	for _, f := range []struct{ name, v string }{
		{"SalesAmount", a.SalesAmount}, {"FreeTaxSalesAmount", a.FreeTaxSalesAmount},
		{"ZeroTaxSalesAmount", a.ZeroTaxSalesAmount}, {"TaxAmount", a.TaxAmount}, {"TotalAmount", a.TotalAmount},
	} {
		v, err := parseAmount("Amount/"+f.name, f.v)
		if err != nil {
			return err
		}
		if v.Sign() < 0 {
			return ruleErr("Amount/"+f.name, "must not be negative")
		}
		if consumer && !v.IsInteger() {
			return ruleErr("Amount/"+f.name, "%s must be a whole amount for a consumer invoice", f.v)
		}
		vals[f.name] = v
		if f.name != "TotalAmount" {
			sum = sum.Add(v)
		}
	}
	switch a.TaxType {
	case "1", "2", "3", "4", "9":
	default:
		return ruleErr("Amount/TaxType", "%q is not 1, 2, 3, 4 or 9", a.TaxType)
	}
	switch a.TaxRate {
	case "0", "0.01", "0.02", "0.05", "0.15", "0.25":
	default:
		return ruleErr("Amount/TaxRate", "%q is not a MIG tax rate", a.TaxRate)
	}
	switch {
	case vals["TotalAmount"].Sign() <= 0:
		return ruleErr("Amount/TotalAmount", "must be more than 0 (platform E0105)")
	case !sum.Equal(vals["TotalAmount"]):
		return ruleErr("Amount/TotalAmount", "%s is not SalesAmount + FreeTaxSalesAmount + ZeroTaxSalesAmount + TaxAmount (%s) (platform E0103)", a.TotalAmount, sum)
	case consumer && !vals["TaxAmount"].IsZero():
		return ruleErr("Amount/TaxAmount", "is 0 on a consumer invoice: its amounts include the tax")
	}
	return nil
}

func itoa(i int) string { return decimal.NewFromInt(int64(i)).String() }

var (
	trackText   = regexp.MustCompile(`^[A-Z]{2}$`)
	eightDigits = regexp.MustCompile(`^[0-9]{8}$`)
)

// atoi reads digits already checked by a pattern.
func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

package mig_test

import (
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/testxml"
	"github.com/posagent/posagent/providers/mig"
	"github.com/shopspring/decimal"
)

// wireInvoice reads back what the test needs of an F0401.
type wireInvoice struct {
	Items []struct {
		Quantity  string `xml:"Quantity"`
		UnitPrice string `xml:"UnitPrice"`
		Amount    string `xml:"Amount"`
		TaxType   string `xml:"TaxType"`
	} `xml:"Details>ProductItem"`
	Amount struct {
		SalesAmount, FreeTaxSalesAmount, ZeroTaxSalesAmount, TaxType, TaxRate, TaxAmount, TotalAmount string
	} `xml:"Amount"`
}

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// checkAmountsAddUp checks the §3.1 conventions on a written F0401: the five
// sums add up, the total is the buyer's, each bucket is its lines' sum (to
// the dollar for consumer invoices, whose lines keep their decimals; exactly
// for a business buyer's taxable lines, spread to add up), and a consumer
// invoice carries tax 0 while a business one carries the invoice's tax.
func checkAmountsAddUp(t *testing.T, inv posagent.Invoice, data []byte) {
	t.Helper()
	var w wireInvoice
	if err := xml.Unmarshal(data, &w); err != nil {
		t.Fatal(err)
	}
	a := w.Amount
	sum := d(a.SalesAmount).Add(d(a.FreeTaxSalesAmount)).Add(d(a.ZeroTaxSalesAmount)).Add(d(a.TaxAmount))
	if !sum.Equal(d(a.TotalAmount)) {
		t.Errorf("Sales+FreeTax+ZeroTax+Tax = %s, TotalAmount %s", sum, a.TotalAmount)
	}
	if !d(a.TotalAmount).Equal(decimal.NewFromInt(inv.Total)) {
		t.Errorf("TotalAmount %s, the invoice's total %d", a.TotalAmount, inv.Total)
	}
	buckets := map[string]decimal.Decimal{}
	for _, it := range w.Items {
		k := it.TaxType
		if k == "4" {
			k = "1"
		}
		buckets[k] = buckets[k].Add(d(it.Amount))
		// Each line is its quantity times its unit price, to the cent.
		if diff := d(it.Quantity).Mul(d(it.UnitPrice)).Sub(d(it.Amount)).Abs(); diff.GreaterThanOrEqual(decimal.NewFromInt(1)) {
			t.Errorf("line %s × %s is not %s", it.Quantity, it.UnitPrice, it.Amount)
		}
	}
	for k, field := range map[string]string{"1": a.SalesAmount, "2": a.ZeroTaxSalesAmount, "3": a.FreeTaxSalesAmount} {
		diff := buckets[k].Sub(d(field)).Abs()
		if inv.Buyer.IsBusiness() && k == "1" && !diff.IsZero() {
			t.Errorf("business invoice: taxable lines add up to %s, SalesAmount %s", buckets[k], field)
		}
		if diff.GreaterThanOrEqual(decimal.NewFromInt(1)) {
			t.Errorf("tax type %s: lines add up to %s, the amount says %s", k, buckets[k], field)
		}
	}
	if inv.Buyer.IsBusiness() {
		if a.TaxAmount != fmt.Sprint(inv.TaxAmount) {
			t.Errorf("business TaxAmount %s, invoice tax %d", a.TaxAmount, inv.TaxAmount)
		}
		// The tax is the rate on the sales, to the dollar.
		want := d(a.SalesAmount).Mul(d(a.TaxRate)).Round(0)
		if diff := d(a.TaxAmount).Sub(want).Abs(); diff.GreaterThan(decimal.NewFromInt(1)) {
			t.Errorf("TaxAmount %s is not %s × %s (%s)", a.TaxAmount, a.SalesAmount, a.TaxRate, want)
		}
	} else if a.TaxAmount != "0" {
		t.Errorf("consumer TaxAmount %s, want 0", a.TaxAmount)
	}
}

// randomInvoice makes a valid issued invoice: any tax type, consumer or
// business, printed, carried or donated, prices with decimals and discounts.
func randomInvoice(r *rand.Rand, i int) posagent.Invoice {
	taxTypes := []posagent.TaxType{posagent.TaxTaxable, posagent.TaxTaxable, posagent.TaxZero, posagent.TaxExempt, posagent.TaxSpecial, posagent.TaxMixed}
	inv := posagent.Invoice{
		Number: posagent.MakeInvoiceNumber("AB", 10000000+i), RandomCode: fmt.Sprintf("%04d", r.IntN(10000)),
		IssuedAt: time.Date(2025, time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), 0, posagent.Taipei),
		Seller:   posagent.Seller{TaxID: "24634102", Name: "好日子雜貨店", Address: "臺北市中正區重慶南路一段2號"},
		TaxType:  taxTypes[r.IntN(len(taxTypes))], SaleID: fmt.Sprintf("prop-%d", i),
	}
	if inv.TaxType == posagent.TaxSpecial {
		inv.SpecialTaxType = 1 + r.IntN(8)
	}
	business := r.IntN(3) == 0
	if business {
		inv.Buyer = posagent.Buyer{TaxID: "53212539", Name: "測試股份有限公司"}
	}
	switch r.IntN(4) {
	case 0:
		if !business {
			inv.Carrier = posagent.Carrier{Type: posagent.CarrierMobile, ID: "/ABC+123"}
			break
		}
		fallthrough
	case 1:
		if !business {
			inv.LoveCode = "25885"
			break
		}
		fallthrough
	default:
		inv.Print = true
	}
	n := 1 + r.IntN(8)
	var total decimal.Decimal
	for k := 0; k < n; k++ {
		qty := decimal.NewFromInt(int64(1 + r.IntN(5)))
		if r.IntN(4) == 0 {
			qty = decimal.New(int64(1+r.IntN(200)), -2) // 0.01–2 kg: a quantity has at most 2 decimals (posagent.QuantityPlaces)
		}
		price := decimal.New(int64(1+r.IntN(50000)), -int32(r.IntN(3)))
		amount := qty.Mul(price).Round(2)
		it := posagent.Item{Name: fmt.Sprintf("品項%d", k), Quantity: posagent.MustDecimal(qty.String()),
			UnitPrice: posagent.MustDecimal(price.String()), Amount: posagent.MustDecimal(amount.String())}
		if inv.TaxType == posagent.TaxMixed {
			it.TaxType = []posagent.TaxType{posagent.TaxTaxable, posagent.TaxZero, posagent.TaxExempt}[r.IntN(3)]
		}
		total = total.Add(amount)
		inv.Items = append(inv.Items, it)
	}
	if k := len(inv.Items) - 1; k > 0 && r.IntN(3) == 0 {
		// A discount line, smaller than what comes before it.
		disc := total.Div(decimal.NewFromInt(4)).Round(0).Neg()
		if !disc.IsZero() {
			inv.Items = append(inv.Items, posagent.Item{Name: "折扣", Quantity: posagent.MustDecimal("1"),
				UnitPrice: posagent.MustDecimal(disc.String()), Amount: posagent.MustDecimal(disc.String()), TaxType: inv.Items[0].TaxType})
		}
	}
	needsReason := inv.TaxType == posagent.TaxZero
	for _, it := range inv.Items {
		needsReason = needsReason || it.TaxType == posagent.TaxZero
	}
	if needsReason {
		inv.ZeroTaxReason = "72"
	}
	var sum posagent.Decimal
	for _, it := range inv.Items {
		sum = sum.Add(it.Amount)
	}
	inv.Total, _ = sum.RoundNTD()
	split, _ := inv.SplitTax()
	inv.TaxAmount = split.Tax
	inv.SalesAmount = inv.Total - inv.TaxAmount
	return inv
}

// TestPropertyRandomInvoices: random valid invoices make XSD-valid F0401s
// that pass the local rules and whose amounts add up.
func TestPropertyRandomInvoices(t *testing.T) {
	testxml.Require(t)
	r := rand.New(rand.NewPCG(11, 4010))
	made := 0
	for i := 0; made < 150 && i < 1000; i++ {
		inv := randomInvoice(r, i)
		if err := inv.ValidateIssued(); err != nil {
			continue // e.g. a discount taking a mixed bucket below zero: not a valid sale
		}
		if err := mig.CheckInvoice(inv, mig.Options{}); err != nil {
			// A sale the MIG cannot carry (a discount taking a tax type's sales
			// below zero) is refused at the sale, and again by F0401.
			if posagent.ErrorField(err) != "items" {
				t.Fatalf("invoice %d refused: %v", i, err)
			}
			if _, err2 := mig.F0401(inv, mig.Options{}); posagent.ErrorField(err2) != "items" {
				t.Fatalf("invoice %d: CheckInvoice refused (%v), F0401 said %v", i, err, err2)
			}
			continue
		}
		made++
		msg, err := mig.F0401(inv, mig.Options{})
		if err != nil {
			t.Fatalf("invoice %d (%s, business %v): %v", i, inv.TaxType, inv.Buyer.IsBusiness(), err)
		}
		testxml.Valid(t, mig.TypeF0401, msg.XML)
		if _, err := mig.Inspect(msg.XML); err != nil {
			t.Fatalf("invoice %d: Inspect: %v\n%s", i, err, msg.XML)
		}
		checkAmountsAddUp(t, inv, msg.XML)
		if t.Failed() {
			t.Fatalf("invoice %d:\n%s", i, msg.XML)
		}
	}
	if made < 100 {
		t.Fatalf("only %d random invoices were valid sales", made)
	}
}

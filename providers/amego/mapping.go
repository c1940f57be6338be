package amego

import (
	"crypto/sha256"
	"encoding/base32"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/posagent/posagent"
)

// MaxOrderID is the length of Amego's order key (OrderId / order_id ≤ 40).
const MaxOrderID = 40

var orderLiteral = regexp.MustCompile(`^[A-Za-z0-9._-]{1,39}$`)

// OrderID maps a posagent sale id (1–64 of A-Z a-z 0-9 . _ -) onto Amego's
// order key, unique per seller. Deterministic, so every retry sends the same
// value: an id of up to 39 characters is used as it is; a longer one becomes
// exactly 40 characters: its first 12, then a SHA-256 of the whole id in
// base32. The two forms never meet (≤ 39 against exactly 40).
func OrderID(saleID string) string {
	if orderLiteral.MatchString(saleID) {
		return saleID
	}
	prefix := saleID
	if len(prefix) > 12 {
		prefix = prefix[:12]
	}
	sum := sha256.Sum256([]byte(saleID))
	h := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])
	return prefix + h[:MaxOrderID-len(prefix)]
}

// Amego's date and time layouts; always Taipei time.
const (
	dateLayout = "20060102"
	timeLayout = "15:04:05"
)

func ymd(t time.Time) string { return t.In(posagent.Taipei).Format(dateLayout) }
func hms(t time.Time) string { return t.In(posagent.Taipei).Format(timeLayout) }

// consumerIdentifier is Amego's BuyerIdentifier for a consumer (ten zeros).
const consumerIdentifier = "0000000000"

// consumerName is the BuyerName Amego's examples send for consumers.
const consumerName = "消費者"

// Carrier types as Amego names them.
const (
	CarrierMobile  = "3J0002"
	CarrierCitizen = "CQ0001"
	CarrierMember  = "amego"
)

func taxTypeCode(t posagent.TaxType) int {
	switch t {
	case posagent.TaxZero:
		return 2
	case posagent.TaxExempt:
		return 3
	case posagent.TaxSpecial:
		return 4
	case posagent.TaxMixed:
		return 9
	}
	return 1
}

// taxRate writes basis points as Amego's TaxRate string: 500 → "0.05".
func taxRate(bp int) string {
	return decimal.New(int64(bp), -4).String()
}

// Item is one ProductItem of f0401_custom.
type Item struct {
	Description string           `json:"Description"`
	Quantity    posagent.Decimal `json:"Quantity"`
	Unit        string           `json:"Unit,omitempty"`
	UnitPrice   posagent.Decimal `json:"UnitPrice"`
	Amount      posagent.Decimal `json:"Amount"`
	Remark      string           `json:"Remark,omitempty"`
	TaxType     int              `json:"TaxType"`
}

// Record is one invoice of f0401_custom (providers.md §1.3 with §5.2 A.2:
// the order key is order_id).
type Record struct {
	OrderID              string `json:"order_id"`
	TrackAPICode         string `json:"TrackApiCode,omitempty"`
	InvoiceNumber        string `json:"InvoiceNumber"`
	InvoiceDate          string `json:"InvoiceDate"`
	InvoiceTime          string `json:"InvoiceTime"`
	RandomNumber         string `json:"RandomNumber"`
	PrintMark            string `json:"PrintMark"`
	BuyerIdentifier      string `json:"BuyerIdentifier"`
	BuyerName            string `json:"BuyerName"`
	MainRemark           string `json:"MainRemark,omitempty"`
	CarrierType          string `json:"CarrierType,omitempty"`
	CarrierID1           string `json:"CarrierId1,omitempty"`
	CarrierID2           string `json:"CarrierId2,omitempty"`
	NPOBAN               string `json:"NPOBAN,omitempty"`
	ProductItem          []Item `json:"ProductItem"`
	SalesAmount          int64  `json:"SalesAmount"`
	FreeTaxSalesAmount   int64  `json:"FreeTaxSalesAmount"`
	ZeroTaxSalesAmount   int64  `json:"ZeroTaxSalesAmount"`
	TaxType              int    `json:"TaxType"`
	TaxRate              string `json:"TaxRate"`
	TaxAmount            int64  `json:"TaxAmount"`
	TotalAmount          int64  `json:"TotalAmount"`
	CustomsClearanceMark int    `json:"CustomsClearanceMark,omitempty"`
	ZeroTaxRateReason    int    `json:"ZeroTaxRateReason,omitempty"`
	DetailVat            int    `json:"DetailVat"`
}

// record maps an issued invoice onto an f0401_custom record.
//
// Amounts: item lines are tax-inclusive (DetailVat 1, posagent's prices). A
// consumer's invoice sends its taxable sales tax-inclusive with TaxAmount 0,
// as Amego's B2C examples do [3P]; a business's sends the split. Either way
// SalesAmount + FreeTaxSalesAmount + ZeroTaxSalesAmount + TaxAmount is the
// total.
func (c *Client) record(inv posagent.Invoice) (Record, error) {
	split, err := inv.SplitTax()
	if err != nil {
		return Record{}, err
	}
	r := Record{
		OrderID:            OrderID(inv.SaleID),
		TrackAPICode:       c.cfg.TrackAPICode,
		InvoiceNumber:      string(inv.Number),
		InvoiceDate:        ymd(inv.IssuedAt),
		InvoiceTime:        hms(inv.IssuedAt),
		RandomNumber:       inv.RandomCode,
		PrintMark:          "N",
		BuyerIdentifier:    consumerIdentifier,
		BuyerName:          consumerName,
		MainRemark:         inv.Remark,
		NPOBAN:             inv.LoveCode,
		SalesAmount:        split.Taxable + split.Tax,
		FreeTaxSalesAmount: split.Exempt,
		ZeroTaxSalesAmount: split.ZeroRated,
		TaxType:            taxTypeCode(inv.TaxType),
		TaxRate:            taxRate(inv.TaxRate()),
		TotalAmount:        inv.Total,
		DetailVat:          1,
	}
	if inv.Print {
		r.PrintMark = "Y"
	}
	if inv.Buyer.IsBusiness() {
		r.BuyerIdentifier = inv.Buyer.TaxID
		r.BuyerName = inv.Buyer.Name
		if strings.TrimSpace(r.BuyerName) == "" {
			// Amego requires a name; the tax id is what a till knows of a company.
			r.BuyerName = inv.Buyer.TaxID
		}
		r.SalesAmount, r.TaxAmount = split.Taxable, split.Tax
	} else if n := strings.TrimSpace(inv.Buyer.Name); n != "" && strings.Trim(n, "0") != "" {
		r.BuyerName = n
	}
	switch inv.Carrier.Type {
	case posagent.CarrierMobile:
		r.CarrierType, r.CarrierID1, r.CarrierID2 = CarrierMobile, inv.Carrier.ID, inv.Carrier.ID
	case posagent.CarrierCitizen:
		r.CarrierType, r.CarrierID1, r.CarrierID2 = CarrierCitizen, inv.Carrier.ID, inv.Carrier.ID
	case posagent.CarrierMember:
		r.CarrierType, r.CarrierID1, r.CarrierID2 = CarrierMember, inv.Carrier.ID, inv.Carrier.ID
	}
	if split.ZeroRated > 0 || inv.TaxType == posagent.TaxZero {
		// Not through customs unless the sale says otherwise: a till sells
		// over the counter [U: a POS sale does not carry the mark].
		r.CustomsClearanceMark = 1
		r.ZeroTaxRateReason, _ = strconv.Atoi(inv.ZeroTaxReason)
	}
	r.ProductItem = make([]Item, len(inv.Items))
	for i, it := range inv.Items {
		tt := it.TaxType
		if tt == "" {
			tt = inv.TaxType
		}
		r.ProductItem[i] = Item{Description: it.Name, Quantity: it.Quantity, Unit: it.Unit, UnitPrice: it.UnitPrice,
			Amount: it.Amount, Remark: it.Remark, TaxType: taxTypeCode(tt)}
	}
	return r, nil
}

// AllowanceItem is one ProductItem of g0401: amounts without tax, the tax per
// line a whole NT$ (4040139).
type AllowanceItem struct {
	OriginalInvoiceNumber string           `json:"OriginalInvoiceNumber"`
	OriginalInvoiceDate   string           `json:"OriginalInvoiceDate"`
	OriginalDescription   string           `json:"OriginalDescription"`
	Quantity              posagent.Decimal `json:"Quantity"`
	Unit                  string           `json:"Unit,omitempty"`
	UnitPrice             posagent.Decimal `json:"UnitPrice"`
	Amount                posagent.Decimal `json:"Amount"`
	Tax                   int64            `json:"Tax"`
	TaxType               int              `json:"TaxType"`
}

// AllowanceRecord is one allowance of g0401.
type AllowanceRecord struct {
	AllowanceNumber string          `json:"AllowanceNumber"`
	AllowanceDate   string          `json:"AllowanceDate"`
	AllowanceType   int             `json:"AllowanceType"`
	BuyerIdentifier string          `json:"BuyerIdentifier"`
	BuyerName       string          `json:"BuyerName"`
	ProductItem     []AllowanceItem `json:"ProductItem"`
	TaxAmount       int64           `json:"TaxAmount"`
	TotalAmount     int64           `json:"TotalAmount"`
}

// sellerIssued is AllowanceType 2: since 2025 Amego refuses 1 (4040145).
const sellerIssued = 2

// allowanceRecord maps a posagent allowance (tax-inclusive lines, its tax in
// TaxAmount) onto g0401's tax-exclusive lines. The tax is spread over the
// taxable lines in proportion to their amounts, in whole NT$, the rounding
// remainder going to the largest lines first, so that the lines' taxes add
// up to TaxAmount and the lines' amounts to Total − TaxAmount.
func allowanceRecord(inv posagent.Invoice, a posagent.Allowance) AllowanceRecord {
	r := AllowanceRecord{
		AllowanceNumber: a.Number, AllowanceDate: ymd(a.IssuedAt), AllowanceType: sellerIssued,
		BuyerIdentifier: consumerIdentifier, BuyerName: consumerName,
		TaxAmount: a.TaxAmount, TotalAmount: a.Total - a.TaxAmount,
	}
	if inv.Buyer.IsBusiness() {
		r.BuyerIdentifier, r.BuyerName = inv.Buyer.TaxID, inv.Buyer.Name
		if strings.TrimSpace(r.BuyerName) == "" {
			r.BuyerName = inv.Buyer.TaxID
		}
	}
	taxes := spreadTax(inv, a)
	r.ProductItem = make([]AllowanceItem, len(a.Items))
	for i, it := range a.Items {
		tt := it.TaxType
		if tt == "" {
			tt = inv.TaxType
		}
		excl := decimalOf(it.Amount).Sub(decimal.NewFromInt(taxes[i]))
		unit := excl
		if q := decimalOf(it.Quantity); !q.IsZero() && !q.Equal(decimal.NewFromInt(1)) {
			unit = excl.DivRound(q, posagent.UnitPricePlaces)
		}
		r.ProductItem[i] = AllowanceItem{
			OriginalInvoiceNumber: string(inv.Number), OriginalInvoiceDate: ymd(inv.IssuedAt), OriginalDescription: it.Name,
			Quantity: it.Quantity, Unit: it.Unit, UnitPrice: ofDecimal(unit), Amount: ofDecimal(excl),
			Tax: taxes[i], TaxType: taxTypeCode(tt),
		}
	}
	return r
}

func spreadTax(inv posagent.Invoice, a posagent.Allowance) []int64 {
	out := make([]int64, len(a.Items))
	var base decimal.Decimal
	taxable := make([]bool, len(a.Items))
	for i, it := range a.Items {
		tt := it.TaxType
		if tt == "" {
			tt = inv.TaxType
		}
		if tt == posagent.TaxTaxable || tt == posagent.TaxSpecial || (tt == posagent.TaxMixed && it.TaxType == "") {
			taxable[i] = true
			base = base.Add(decimalOf(it.Amount))
		}
	}
	if a.TaxAmount == 0 || base.Sign() <= 0 {
		return out
	}
	total := decimal.NewFromInt(a.TaxAmount)
	var given int64
	type rem struct {
		i    int
		frac decimal.Decimal
	}
	var rems []rem
	for i, it := range a.Items {
		if !taxable[i] {
			continue
		}
		share := total.Mul(decimalOf(it.Amount)).Div(base)
		whole := share.Floor()
		out[i] = whole.IntPart()
		given += out[i]
		rems = append(rems, rem{i, share.Sub(whole)})
	}
	for left := a.TaxAmount - given; left > 0 && len(rems) > 0; left-- {
		best := 0
		for j := range rems {
			if rems[j].frac.GreaterThan(rems[best].frac) {
				best = j
			}
		}
		out[rems[best].i]++
		rems[best].frac = decimal.NewFromInt(-1)
	}
	return out
}

func decimalOf(d posagent.Decimal) decimal.Decimal { return decimal.RequireFromString(d.String()) }

func ofDecimal(d decimal.Decimal) posagent.Decimal { return posagent.MustDecimal(d.String()) }

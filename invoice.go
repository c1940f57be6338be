package posagent

import (
	"time"
)

// TaxType is the invoice's (or, on a mixed invoice, an item's) tax category.
type TaxType string

const (
	TaxTaxable TaxType = "taxable"    // 應稅, 5 %
	TaxZero    TaxType = "zero_rated" // 零稅率, with a reason code 71–79
	TaxExempt  TaxType = "exempt"     // 免稅
	TaxSpecial TaxType = "special"    // 特種稅額, rate by SpecialTaxType
	TaxMixed   TaxType = "mixed"      // 混合: each item names its own type
)

// CarrierType is the kind of 載具 the buyer keeps the invoice in.
type CarrierType string

const (
	CarrierMobile  CarrierType = "mobile"  // 手機條碼 (3J0002)
	CarrierCitizen CarrierType = "citizen" // 自然人憑證 (CQ0001)
	CarrierMember  CarrierType = "member"  // the provider's member carrier
)

// Seller is the shop issuing the invoice.
type Seller struct {
	TaxID   string `json:"tax_id"`
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
}

// Buyer is a consumer (no TaxID) or a business with an 8-digit 統一編號.
type Buyer struct {
	TaxID string `json:"tax_id,omitempty"`
	Name  string `json:"name,omitempty"`
}

// IsBusiness reports whether the buyer gave a tax id (B2B).
func (b Buyer) IsBusiness() bool { return b.TaxID != "" }

// Carrier is where a consumer keeps an unprinted invoice. The zero value is no carrier.
type Carrier struct {
	Type CarrierType `json:"type"`
	ID   string      `json:"id"`
}

// IsZero reports whether there is no carrier.
func (c Carrier) IsZero() bool { return c == Carrier{} }

// Item is one line of the sale. Quantity and UnitPrice are exact decimals;
// Amount is the line total including tax (quantity × unit price, up to rounding).
type Item struct {
	Name      string  `json:"name"`
	Quantity  Decimal `json:"quantity"`
	Unit      string  `json:"unit,omitempty"`
	UnitPrice Decimal `json:"unit_price"`
	Amount    Decimal `json:"amount"`
	// TaxType is required on a mixed invoice and must otherwise be empty or the invoice's.
	TaxType TaxType `json:"tax_type,omitempty"`
	Remark  string  `json:"remark,omitempty"`
}

// Invoice is an MOF e-invoice: a sale before it is issued (no Number and
// RandomCode yet), or an issued invoice.
type Invoice struct {
	Number     InvoiceNumber
	RandomCode string
	IssuedAt   time.Time
	Seller     Seller
	Buyer      Buyer
	Carrier    Carrier
	LoveCode   string // 捐贈碼: the buyer donates the invoice
	// Print is the print mark: whether a paper proof is issued. When the JSON
	// leaves it out it is derived: printed unless a carrier or donation is used.
	Print          bool
	TaxType        TaxType
	ZeroTaxReason  string // 71–79, zero-rated sales only
	SpecialTaxType int    // 1–8, TaxSpecial only (see SpecialTaxRate)
	Items          []Item
	// SalesAmount is the total without tax, TaxAmount the tax; together they make
	// Total, the whole NT$ the buyer pays.
	SalesAmount int64
	TaxAmount   int64
	Total       int64
	Remark      string
	// SaleID is the POS's id for the sale: the idempotency key of the sale path and
	// of every upload.
	SaleID string
}

// Period is the bimonthly period of the invoice date.
func (inv *Invoice) Period() Period { return PeriodOf(inv.IssuedAt) }

// IsDonated reports whether the buyer donates the invoice.
func (inv *Invoice) IsDonated() bool { return inv.LoveCode != "" }

// itemTaxType is the tax type that applies to item i.
func (inv *Invoice) itemTaxType(it Item) TaxType {
	if inv.TaxType == TaxMixed || it.TaxType != "" {
		return it.TaxType
	}
	return inv.TaxType
}

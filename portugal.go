package posagent

import (
	"strings"
	"time"
)

// Portugal's fiscal model differs from Taiwan's: the number (sequence
// number), the ATCUD and the document hash are assigned by a certified
// program (InvoiceXpress) when a document is finalized, so a Portuguese till
// never numbers a document itself. A sale is accepted and stored at once; the
// fiscal document exists only once the issuer has finalized it
// (providers.md §2, §5.3).

// Regime is the fiscal rule set a terminal follows.
type Regime string

const (
	RegimeTaiwan   Regime = "tw" // MOF e-invoices (the default)
	RegimePortugal Regime = "pt" // AT-certified documents issued by InvoiceXpress
)

// Lisbon is the zone of Portuguese document dates, whatever the machine's zone.
var Lisbon = mustLoadLocation("Europe/Lisbon")

// PTDocType is an InvoiceXpress document type, as its path segment.
type PTDocType string

const (
	PTInvoiceReceipt    PTDocType = "invoice_receipts"    // Fatura-Recibo (FR)
	PTSimplifiedInvoice PTDocType = "simplified_invoices" // Fatura Simplificada (FS)
	PTInvoice           PTDocType = "invoices"            // Fatura (FT)
	PTCreditNote        PTDocType = "credit_notes"        // Nota de Crédito (NC)
)

// FinalConsumerNIF is the official NIF of "Consumidor Final" (an anonymous buyer).
const FinalConsumerNIF = "999999990"

// ValidNIF reports whether s is a well-formed Portuguese NIF: nine digits,
// the first not 0, the last the mod-11 check digit of the first eight
// (providers.md §2.6). InvoiceXpress silently turns a bad NIF into the final
// consumer, so it is checked here, before anything is sent.
func ValidNIF(s string) bool {
	if len(s) != 9 || s[0] == '0' || strings.Trim(s, "0123456789") != "" {
		return false
	}
	sum := 0
	for i := 0; i < 8; i++ {
		sum += int(s[i]-'0') * (9 - i)
	}
	check := 11 - sum%11
	if check >= 10 {
		check = 0
	}
	return int(s[8]-'0') == check
}

// PTSeller is the shop as its receipts name it.
type PTSeller struct {
	Name    string `json:"name"`
	NIF     string `json:"nif"`
	Address string `json:"address"`
}

// PTDocument is a fiscal document as InvoiceXpress holds it: what the till
// prints comes from here, never from the sale (the issuer's totals are the
// legal ones).
type PTDocument struct {
	ID   int64     `json:"id"` // InvoiceXpress's document id
	Type PTDocType `json:"type"`
	// State: "draft", "final", "settled", "canceled", "deleted".
	State string `json:"state"`
	// SequenceNumber is InvoiceXpress's number of the final document ("6/G"); empty for a draft.
	SequenceNumber string `json:"sequence_number,omitempty"`
	// ATCUD is "<series validation code>-<sequence>", printed as "ATCUD:" + ATCUD.
	ATCUD     string    `json:"atcud,omitempty"`
	Date      time.Time `json:"date"`      // midnight, Lisbon
	Reference string    `json:"reference"` // the sale id
	Permalink string    `json:"permalink,omitempty"`
	// OwnerID is the document a credit note corrects (owner_invoice_id).
	OwnerID   int64    `json:"owner_id,omitempty"`
	BuyerNIF  string   `json:"buyer_nif,omitempty"`
	BuyerName string   `json:"buyer_name,omitempty"`
	Lines     []PTLine `json:"lines"`
	// Net (sum before VAT), VAT and Total are EUR as InvoiceXpress computed them.
	Net   Decimal `json:"net"`
	VAT   Decimal `json:"vat"`
	Total Decimal `json:"total"`
	// QRText is the AT QR payload ("A:…*B:…*…"), decoded from the QR image
	// InvoiceXpress serves for a final document; empty before.
	QRText string `json:"qr_text,omitempty"`
}

// PTLine is one line of a Portuguese document.
type PTLine struct {
	SKU         string  `json:"sku"` // InvoiceXpress item name: products stay matched by SKU
	Description string  `json:"description"`
	Quantity    Decimal `json:"quantity"`
	UnitPrice   Decimal `json:"unit_price"` // EUR, VAT excluded, as InvoiceXpress takes it
	// TaxName is the account's tax ("IVA23"); VATRate its percentage (23).
	TaxName   string  `json:"tax_name"`
	VATRate   Decimal `json:"vat_rate"`
	Exemption string  `json:"exemption,omitempty"` // M01–M99 on a 0 % line
	// Net is the line before VAT (quantity × unit price, rounded to cents).
	Net Decimal `json:"net"`
}

package posagent

import (
	"fmt"
	"slices"
	"strings"
)

// A Portuguese refund is a credit note (Nota de Crédito) linked to the
// sale's document. It may take part of a sale: some of its lines, some of
// each line's quantity. A sale may have several credit notes; together they
// never take more of a line than the sale had.

// PTRefundItem is one line of a refund as the POS asks for it. A line is
// named by its SKU; when the sale holds that SKU on more than one line
// (nothing forbids it: two prices, two exemption reasons), Line — the
// 0-based index of the line in the sale's items — names it.
type PTRefundItem struct {
	SKU      string  `json:"sku,omitempty"`
	Line     *int    `json:"line,omitempty"`
	Quantity Decimal `json:"quantity"`
}

// PTRefundLine is a refund item resolved to the sale's line.
type PTRefundLine struct {
	Line     int     `json:"line"`
	SKU      string  `json:"sku"`
	Quantity Decimal `json:"quantity"`
	// Item is the index of the item that asked for it (for errors), not stored.
	Item int `json:"-"`
}

// ResolvePTRefund checks a refund's items against the sale's document lines
// and resolves each to its line, in line order: every error is KindInvalid
// naming the field (items[1].sku, items[0].quantity). It does not know what
// was refunded before: see PTRefundLeft. No items (nil) is "everything left"
// and resolves to nil; an empty list is refused.
func ResolvePTRefund(lines []PTLine, items []PTRefundItem) ([]PTRefundLine, error) {
	if items == nil {
		return nil, nil
	}
	switch {
	case len(items) == 0:
		return nil, Invalid("items", "an empty list refunds nothing: name the lines to refund, or leave items out to refund everything left")
	case len(items) > MaxPTItems:
		return nil, Invalid("items", "%d items: a document takes at most %d", len(items), MaxPTItems)
	}
	out := make([]PTRefundLine, 0, len(items))
	named := map[int]int{} // line → the item naming it
	for i, it := range items {
		field := func(f string) string { return fmt.Sprintf("items[%d].%s", i, f) }
		n := -1
		switch {
		case it.Line != nil:
			if *it.Line < 0 || *it.Line >= len(lines) {
				return nil, Invalid(field("line"), "%d is not a line of the sale: it has %d (0 to %d)", *it.Line, len(lines), len(lines)-1)
			}
			n = *it.Line
			if it.SKU != "" && it.SKU != lines[n].SKU {
				return nil, Invalid(field("sku"), "%q is not the SKU of line %d (%s)", shorten(it.SKU), n, lines[n].SKU)
			}
		case it.SKU == "":
			return nil, Invalid(field("sku"), "is required: the SKU of a line of the sale (or line, its index in the sale's items)")
		default:
			var at []string
			for j, l := range lines {
				if l.SKU == it.SKU {
					n = j
					at = append(at, fmt.Sprint(j))
				}
			}
			switch {
			case len(at) == 0:
				return nil, Invalid(field("sku"), "%q is not on the sale", shorten(it.SKU))
			case len(at) > 1:
				return nil, Invalid(field("sku"), "%s is on lines %s of the sale: name the line by its index too (\"line\")", it.SKU, strings.Join(at, " and "))
			}
		}
		l := lines[n]
		if j, twice := named[n]; twice {
			return nil, Invalid(field("sku"), "line %d (%s) is already named by items[%d]: one entry per line", n, l.SKU, j)
		}
		named[n] = i
		switch q := it.Quantity; {
		case q.Sign() <= 0:
			return nil, Invalid(field("quantity"), "must be more than 0, not %s", shorten(q.String()))
		case q.Places() > PTQuantityPlaces:
			return nil, Invalid(field("quantity"), "%s: at most %d places after the point, as the sale's quantities", shorten(q.String()), PTQuantityPlaces)
		case q.Cmp(l.Quantity) > 0:
			return nil, Invalid(field("quantity"), "%s is more than the sale's %s of %s", shorten(q.String()), l.Quantity, l.SKU)
		}
		out = append(out, PTRefundLine{Line: n, SKU: l.SKU, Quantity: it.Quantity, Item: i})
	}
	slices.SortFunc(out, func(a, b PTRefundLine) int { return a.Line - b.Line })
	return out, nil
}

// PTRefundLeft checks resolved refund lines against what is left of each
// line after the earlier credit notes (refunded: per line, what they took),
// and says what the credit note takes: the lines asked for, or — no lines —
// everything left. Taking more than is left is KindInvalid naming the item
// (items[i].quantity, i the item as asked); nothing left at all is
// KindConflict.
func PTRefundLeft(lines []PTLine, refunded []Decimal, asked []PTRefundLine) ([]PTRefundLine, error) {
	left := func(n int) Decimal {
		if n < len(refunded) {
			return lines[n].Quantity.Sub(refunded[n])
		}
		return lines[n].Quantity
	}
	if asked == nil {
		var rest []PTRefundLine
		for n, l := range lines {
			if q := left(n); q.Sign() > 0 {
				rest = append(rest, PTRefundLine{Line: n, SKU: l.SKU, Quantity: q})
			}
		}
		if len(rest) == 0 {
			return nil, &Error{Kind: KindConflict, Field: "items", Message: "the whole sale is already refunded: nothing is left to refund"}
		}
		return rest, nil
	}
	for _, r := range asked {
		if q := left(r.Line); r.Quantity.Cmp(q) > 0 {
			return nil, Invalid(fmt.Sprintf("items[%d].quantity", r.Item), "%s is more than the %s left of %s (line %d): earlier credit notes took %s",
				r.Quantity, q, r.SKU, r.Line, lines[r.Line].Quantity.Sub(q))
		}
	}
	return asked, nil
}

// PTCreditLines are the credit note's lines: each the sale's line — its
// unit price, tax and exemption — with the refunded quantity, and the
// credit note's expected total (VAT included, cents, as PTSale.Total).
// VAT is per line in cents, as InvoiceXpress is assumed to compute it (the
// README's "assumed" list): two credit notes of one unit each may total a
// cent more than the sale's line of two. The till adjusts nothing; the
// issuer's figures are the legal ones.
func PTCreditLines(lines []PTLine, take []PTRefundLine) ([]PTLine, Decimal) {
	out := make([]PTLine, 0, len(take))
	total := Decimal{}
	for _, r := range take {
		l := lines[r.Line]
		it := PTItem{Quantity: r.Quantity, UnitPrice: l.UnitPrice, VATRate: l.VATRate}
		l.Quantity, l.Net = r.Quantity, it.Net()
		out = append(out, l)
		total = total.Add(it.Gross())
	}
	return out, total
}

// String is "line:quantity", for logs and tests.
func (r PTRefundLine) String() string { return fmt.Sprintf("%d:%s", r.Line, r.Quantity) }

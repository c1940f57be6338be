package printer

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer/escpos"
)

// details prints the 交易明細: the items with quantity, unit price and amount,
// the totals (split for a business buyer), how the invoice is delivered
// (carrier, donation) and the remark.
func (r *renderer) details() error {
	inv := r.inv
	cols := r.p.Columns()
	r.size(1, 1)
	r.lineSpacing(normalLine)
	rule := bytes.Repeat([]byte{'-'}, cols)
	if inv.Print {
		r.align(escpos.AlignLeft)
		r.emit(rule)
	}
	r.align(escpos.AlignCenter)
	r.bold(true)
	r.emit(fixed("交易明細"))
	r.bold(false)
	r.align(escpos.AlignLeft)
	if !inv.Print {
		// No proof above: say which invoice this is.
		r.emitAll(r.rightAlign(fixed("發票號碼"), fixed(inv.Number.Printed()), cols))
		r.emitAll(r.rightAlign(fixed("開立時間"), fixed(inv.IssuedAt.In(posagent.Taipei).Format("2006-01-02 15:04:05")), cols))
		r.emitAll(r.rightAlign(fixed("賣方"), fixed(inv.Seller.TaxID), cols))
	}
	if inv.Buyer.IsBusiness() && inv.Buyer.Name != "" {
		for _, line := range r.wrap(append(fixed("買受人 "), r.encode("buyer.name", inv.Buyer.Name)...), cols) {
			r.emit(line)
		}
	}
	r.emit(rule)

	mixed := inv.TaxType == posagent.TaxMixed
	for i, it := range inv.Items {
		field := fmt.Sprintf("items[%d]", i)
		for _, line := range r.wrap(r.encode(field+".name", it.Name), cols) {
			r.emit(line)
		}
		qty := "  " + it.Quantity.String()
		unit := r.encode(field+".unit", it.Unit)
		amount := it.Amount.String()
		if mixed {
			amount += " " + taxMark(it.TaxType)
		}
		left := append(append(fixed(qty), unit...), fixed(" x "+it.UnitPrice.String())...)
		r.emitAll(r.rightAlign(left, fixed(amount), cols))
		if it.Remark != "" {
			for _, line := range r.wrap(append(fixed("  "), r.encode(field+".remark", it.Remark)...), cols) {
				r.emit(line)
			}
		}
	}
	r.emit(rule)

	total := func(label string, v int64) {
		r.emitAll(r.rightAlign(fixed(label), fixed(strconv.FormatInt(v, 10)), cols))
	}
	r.emit(fixed(fmt.Sprintf("共 %d 項", len(inv.Items))))
	if inv.Buyer.IsBusiness() || inv.TaxType != posagent.TaxTaxable {
		split, err := inv.SplitTax()
		if err != nil {
			return fmt.Errorf("details: %w", err)
		}
		switch inv.TaxType {
		case posagent.TaxMixed:
			// SalesAmount ≥ ZeroRated + Exempt on a valid invoice: its taxable part.
			total("應稅銷售額", inv.SalesAmount-split.ZeroRated-split.Exempt)
			if split.ZeroRated != 0 {
				total("零稅率銷售額", split.ZeroRated)
			}
			if split.Exempt != 0 {
				total("免稅銷售額", split.Exempt)
			}
		case posagent.TaxZero:
			total("零稅率銷售額", inv.SalesAmount)
		case posagent.TaxExempt:
			total("免稅銷售額", inv.SalesAmount)
		default:
			total("銷售額", inv.SalesAmount)
		}
		total("稅額", inv.TaxAmount)
	}
	r.bold(true)
	total("總計", inv.Total)
	r.bold(false)
	if mixed {
		r.emit(fixed("TX 應稅  TZ 零稅率  TF 免稅"))
	}

	switch {
	case !inv.Carrier.IsZero():
		r.emitAll(r.rightAlign(fixed(carrierLabel(inv.Carrier.Type)), fixed(inv.Carrier.ID), cols))
		r.emit(fixed("發票已存入載具，不另印證明聯"))
	case inv.IsDonated():
		r.emitAll(r.rightAlign(fixed("捐贈碼"), fixed(inv.LoveCode), cols))
		r.emit(fixed("發票已捐贈，不另印證明聯"))
	}
	if inv.Remark != "" {
		for _, line := range r.wrap(append(fixed("備註 "), r.encode("remark", inv.Remark)...), cols) {
			r.emit(line)
		}
	}
	return nil
}

// taxMark is the column on a mixed invoice's item line saying its tax type.
func taxMark(t posagent.TaxType) string {
	switch t {
	case posagent.TaxZero:
		return "TZ"
	case posagent.TaxExempt:
		return "TF"
	}
	return "TX"
}

func carrierLabel(t posagent.CarrierType) string {
	switch t {
	case posagent.CarrierMobile:
		return "手機條碼載具"
	case posagent.CarrierCitizen:
		return "自然人憑證載具"
	}
	return "會員載具"
}

// footer prints the configured lines centred.
func (r *renderer) footer() {
	if len(r.opt.Footer) == 0 {
		return
	}
	r.size(1, 1)
	r.lineSpacing(normalLine)
	r.align(escpos.AlignCenter)
	r.feed(8)
	for i, text := range r.opt.Footer {
		for _, line := range r.wrap(r.encode(fmt.Sprintf("footer[%d]", i), text), r.p.Columns()) {
			r.emit(line)
		}
	}
}

// finish cuts, or feeds the last line past the tear bar on a printer without
// a cutter.
func (r *job) finish() {
	switch r.p.Cutter {
	case CutterPartial:
		r.b.FeedAndCut(escpos.CutPartial, 0)
	case CutterFull:
		r.b.FeedAndCut(escpos.CutFull, 0)
	default:
		r.b.FeedLines(4)
	}
}

package amegotest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/posagent/posagent"
)

// codeNoNumbers is what track_get answers when the pool is empty: Amego's
// "no numbers left" (3040111) [U: the code track_get uses is not published].
const codeNoNumbers = 3040111

func (s *Server) trackGet(data json.RawMessage, _ time.Time) (any, *refusal) {
	var req struct {
		Year         *json.Number
		Period       *json.Number
		Book         *json.Number
		TrackApiCode string
	}
	if decodeStrict(data, &req) != nil || req.Year == nil || req.Period == nil {
		return nil, refuse(32, "參數 錯誤 (Year, Period)")
	}
	p, ref := period(*req.Year, *req.Period)
	if ref != nil {
		return nil, ref
	}
	books := int64(1)
	if req.Book != nil {
		var err error
		if books, err = req.Book.Int64(); err != nil || books < 1 || books > 100 {
			return nil, refuse(32, "Book 錯誤")
		}
	}
	want := int(books) * posagent.BookletSize
	for _, a := range s.opt.Pool {
		if a.Period != p {
			continue
		}
		key := p.Code() + a.Track
		next, ok := s.used[key]
		if !ok {
			next = a.Start
		}
		if next+want-1 > a.End {
			continue
		}
		s.used[key] = next + want
		t := &Track{Period: p, Code: a.Track, Start: next, End: next + want - 1}
		s.tracks = append(s.tracks, t)
		return map[string]any{"code": t.Code, "start": fmt.Sprintf("%08d", t.Start), "end": fmt.Sprintf("%08d", t.End)}, nil
	}
	return nil, refuse(codeNoNumbers, "無可用字軌號碼")
}

// period reads the track endpoints' Western year and 0-based period.
func period(year, per json.Number) (posagent.Period, *refusal) {
	y, err1 := year.Int64()
	n, err2 := per.Int64()
	if err1 != nil || err2 != nil || y < 2000 || y > 2200 || n < 0 || n > 5 {
		return posagent.Period{}, refuse(32, "Year / Period 錯誤 (西元年, 期別 0–5)")
	}
	return posagent.Period{Year: int(y) - 1911, EvenMonth: int(n+1) * 2}, nil
}

func (s *Server) trackStatus(data json.RawMessage, _ time.Time) (any, *refusal) {
	var req struct {
		Year   *json.Number
		Period *json.Number
	}
	// Amego answers nothing for lowercase keys (providers.md §1.2): lenient
	// decoding, then an empty list when the PascalCase keys are missing.
	if json.Unmarshal(data, &req) != nil {
		return nil, refuse(32, "參數 錯誤")
	}
	out := []map[string]any{}
	if req.Year == nil || req.Period == nil || !strings.Contains(string(data), `"Year"`) {
		return out, nil
	}
	p, ref := period(*req.Year, *req.Period)
	if ref != nil {
		return nil, ref
	}
	for _, t := range s.tracks {
		if t.Period != p {
			continue
		}
		status, now := 1, ""
		if t.Last > 0 {
			now = fmt.Sprintf("%08d", t.Last)
		}
		if t.Last == t.End {
			status = 9
		}
		books := (t.End - t.Start + 1) / posagent.BookletSize
		used := 0
		if t.Last > 0 {
			used = (t.Last-t.Start)/posagent.BookletSize + 1
		}
		out = append(out, map[string]any{"code": t.Code, "start": fmt.Sprintf("%08d", t.Start), "end": fmt.Sprintf("%08d", t.End),
			"now": now, "total_booklet": books, "used_booklet": used, "status": status})
	}
	return out, nil
}

// record is one f0401_custom record as it arrives.
type record struct {
	OrderID              *string `json:"order_id"`
	TrackApiCode         string
	InvoiceNumber        string
	InvoiceDate          string
	InvoiceTime          string
	RandomNumber         string
	PrintMark            string
	BuyerIdentifier      string
	BuyerName            string
	BuyerAddress         string
	BuyerTelephoneNumber string
	BuyerEmailAddress    string
	MainRemark           string
	CarrierType          string
	CarrierId1           string
	CarrierId2           string
	NPOBAN               string
	ProductItem          []item
	SalesAmount          *json.Number
	FreeTaxSalesAmount   *json.Number
	ZeroTaxSalesAmount   *json.Number
	TaxType              *json.Number
	TaxRate              *string
	TaxAmount            *json.Number
	TotalAmount          *json.Number
	CustomsClearanceMark json.Number
	ZeroTaxRateReason    json.Number
	DetailVat            json.Number
}

type item struct {
	Description string
	Quantity    json.Number
	UnitPrice   json.Number
	Amount      json.Number
	Unit        string
	Remark      string
	TaxType     json.Number
}

var (
	numberText   = regexp.MustCompile(`^[A-Z]{2}[0-9]{8}$`)
	randomText   = regexp.MustCompile(`^[0-9]{4}$`)
	loveText     = regexp.MustCompile(`^[0-9]{3,7}$`)
	mobileText   = regexp.MustCompile(`^/[0-9A-Z.+-]{7}$`)
	citizenText  = regexp.MustCompile(`^[A-Z]{2}[0-9]{14}$`)
	identityText = regexp.MustCompile(`^([0-9]{8}|0000000000)$`)
)

// f0401Custom checks and keeps invoices the caller numbered. Every failure is
// code 99 with "第n筆 發票號碼X <field> 錯誤" (providers.md §1.3, §5.2 A.2).
func (s *Server) f0401Custom(data json.RawMessage, now time.Time) (any, *refusal) {
	var raws []json.RawMessage
	if err := json.Unmarshal(data, &raws); err != nil {
		return nil, refuse(23, "資料 必須為陣列")
	}
	recs := make([]record, len(raws))
	for i, raw := range raws {
		if err := decodeStrict(raw, &recs[i]); err != nil {
			return nil, refuse(99, "第%d筆 資料格式錯誤: %v", i+1, err)
		}
	}
	if len(recs) == 0 {
		return nil, refuse(17, "資料 不可空白")
	}
	// Validate all first: a call is accepted whole or not at all [U].
	accepted := make([]*Invoice, 0, len(recs))
	taken := map[string]bool{}
	for i, r := range recs {
		inv, ref := s.checkRecord(i+1, r, now)
		if ref != nil {
			return nil, ref
		}
		if taken[inv.Number] || taken["o"+inv.OrderID] {
			return nil, refuse(99, "第%d筆 發票號碼%s 指定發票號碼 已存在開立", i+1, inv.Number)
		}
		taken[inv.Number], taken["o"+inv.OrderID] = true, true
		accepted = append(accepted, inv)
	}
	out := make([]map[string]any, 0, len(accepted))
	for _, inv := range accepted {
		s.seq++
		inv.Seq = s.seq
		s.invoices = append(s.invoices, inv)
		s.byNumber[inv.Number], s.byOrder[inv.OrderID] = inv, inv
		for _, t := range s.tracks {
			if n := seqOf(inv.Number); t.Code == inv.Number[:2] && t.Period == posagent.PeriodOf(inv.Date) && n >= t.Start && n <= t.End && n > t.Last {
				t.Last = n
			}
		}
		out = append(out, map[string]any{"invoice_number": inv.Number, "barcode": inv.Barcode,
			"qrcode_left": inv.QRLeft, "qrcode_right": inv.QRRight, "base64_data": ""})
	}
	return out, nil
}

func seqOf(number string) int { n, _ := strconv.Atoi(number[2:]); return n }

func (s *Server) checkRecord(n int, r record, now time.Time) (*Invoice, *refusal) {
	bad := func(field string) *refusal {
		return refuse(99, "第%d筆 發票號碼%s %s 錯誤", n, r.InvoiceNumber, field)
	}
	if r.OrderID == nil || *r.OrderID == "" || utf8.RuneCountInString(*r.OrderID) > 40 {
		return nil, bad("order_id")
	}
	if !numberText.MatchString(r.InvoiceNumber) {
		return nil, bad("InvoiceNumber")
	}
	if prev := s.byNumber[r.InvoiceNumber]; prev != nil {
		if prev.Voided {
			return nil, refuse(99, "第%d筆 發票號碼%s 指定發票號碼 已存在開立作廢", n, r.InvoiceNumber)
		}
		return nil, refuse(99, "第%d筆 發票號碼%s 指定發票號碼 已存在開立", n, r.InvoiceNumber)
	}
	if s.byOrder[*r.OrderID] != nil {
		return nil, refuse(99, "第%d筆 發票號碼%s order_id 重複", n, r.InvoiceNumber)
	}
	day, err := time.ParseInLocation("20060102 15:04:05", r.InvoiceDate+" "+r.InvoiceTime, posagent.Taipei)
	switch {
	case len(r.InvoiceDate) != 8 || err != nil && !validDate(r.InvoiceDate):
		return nil, bad("InvoiceDate")
	case err != nil:
		return nil, bad("InvoiceTime")
	case day.After(now.Add(60 * time.Second)):
		return nil, bad("InvoiceDate")
	}
	p := posagent.PeriodOf(day)
	inTrack, trackOfPeriod := false, false
	for _, t := range s.tracks {
		if t.Code != r.InvoiceNumber[:2] {
			continue
		}
		if t.Period == p {
			trackOfPeriod = true
			if sq := seqOf(r.InvoiceNumber); sq >= t.Start && sq <= t.End {
				inTrack = true
			}
		}
	}
	switch {
	case !trackOfPeriod:
		return nil, refuse(99, "第%d筆 發票號碼%s InvoiceNumber 非當期字軌", n, r.InvoiceNumber)
	case !inTrack:
		return nil, refuse(99, "第%d筆 發票號碼%s 號碼不在字軌起訖內", n, r.InvoiceNumber)
	case now.Sub(day) > s.opt.UploadLimit:
		return nil, refuse(99, "第%d筆 發票號碼%s InvoiceNumber 超過開立期限", n, r.InvoiceNumber)
	case !randomText.MatchString(r.RandomNumber):
		return nil, bad("RandomNumber")
	case r.PrintMark != "Y" && r.PrintMark != "N":
		return nil, bad("PrintMark")
	case !identityText.MatchString(r.BuyerIdentifier) || (r.BuyerIdentifier != "0000000000" && !posagent.ValidTaxID(r.BuyerIdentifier)):
		return nil, bad("BuyerIdentifier")
	case strings.TrimSpace(r.BuyerName) == "" || utf8.RuneCountInString(r.BuyerName) > 60:
		// Amego silently accepts "0000" here (providers.md §5.2): so does the stand-in.
		return nil, bad("BuyerName")
	case utf8.RuneCountInString(r.MainRemark) > 200:
		return nil, bad("MainRemark")
	}
	carrier := r.CarrierType != ""
	switch {
	case r.PrintMark == "Y" && carrier:
		return nil, refuse(99, "第%d筆 發票號碼%s 列印發票不可設定載具", n, r.InvoiceNumber)
	case r.PrintMark == "Y" && r.NPOBAN != "":
		return nil, refuse(99, "第%d筆 發票號碼%s 列印發票不可設定捐贈碼", n, r.InvoiceNumber)
	case r.NPOBAN != "" && carrier:
		return nil, refuse(99, "第%d筆 發票號碼%s 捐贈發票不可設定載具", n, r.InvoiceNumber)
	case r.PrintMark == "N" && !carrier && r.NPOBAN == "":
		return nil, bad("PrintMark")
	case r.NPOBAN != "" && (!loveText.MatchString(r.NPOBAN) || r.BuyerIdentifier != "0000000000"):
		return nil, bad("NPOBAN")
	}
	if carrier {
		switch {
		case r.CarrierType != "3J0002" && r.CarrierType != "CQ0001" && r.CarrierType != "amego":
			return nil, refuse(99, "第%d筆 發票號碼%s 載具類型錯誤", n, r.InvoiceNumber)
		case r.CarrierId1 == "" || r.CarrierId2 == "":
			return nil, bad("CarrierId1")
		case r.CarrierType == "3J0002" && !mobileText.MatchString(r.CarrierId1):
			return nil, bad("CarrierId1")
		case r.CarrierType == "CQ0001" && !citizenText.MatchString(r.CarrierId1):
			return nil, bad("CarrierId1")
		}
	}
	if len(r.ProductItem) == 0 || len(r.ProductItem) > 9999 {
		return nil, bad("ProductItem")
	}
	var sum decimal.Decimal
	for i, it := range r.ProductItem {
		f := fmt.Sprintf("ProductItem[%d].", i)
		q, e1 := dec(it.Quantity)
		_, e2 := dec(it.UnitPrice)
		a, e3 := dec(it.Amount)
		tt, e4 := it.TaxType.Int64()
		switch {
		case it.Description == "" || utf8.RuneCountInString(it.Description) > 256:
			return nil, bad(f + "Description")
		case e1 != nil || q.Sign() <= 0:
			return nil, bad(f + "Quantity")
		case e2 != nil:
			return nil, bad(f + "UnitPrice")
		case e3 != nil:
			return nil, bad(f + "Amount")
		case utf8.RuneCountInString(it.Unit) > 6:
			return nil, bad(f + "Unit")
		case utf8.RuneCountInString(it.Remark) > 40:
			// The docs say 40; one client allows 120 [U]: the strict reading.
			return nil, bad(f + "Remark")
		case e4 != nil || tt < 1 || tt > 3:
			return nil, bad(f + "TaxType")
		}
		sum = sum.Add(a)
	}
	amounts := map[string]*json.Number{"SalesAmount": r.SalesAmount, "FreeTaxSalesAmount": r.FreeTaxSalesAmount,
		"ZeroTaxSalesAmount": r.ZeroTaxSalesAmount, "TaxAmount": r.TaxAmount, "TotalAmount": r.TotalAmount, "TaxType": r.TaxType}
	vals := map[string]int64{}
	for _, name := range []string{"SalesAmount", "FreeTaxSalesAmount", "ZeroTaxSalesAmount", "TaxAmount", "TotalAmount", "TaxType"} {
		v := amounts[name]
		if v == nil {
			return nil, bad(name)
		}
		i, err := v.Int64()
		if err != nil || i < 0 {
			return nil, bad(name)
		}
		vals[name] = i
	}
	if r.TaxRate == nil {
		return nil, bad("TaxRate")
	}
	tt := vals["TaxType"]
	switch {
	case tt != 1 && tt != 2 && tt != 3 && tt != 4 && tt != 9:
		return nil, bad("TaxType")
	case vals["SalesAmount"]+vals["FreeTaxSalesAmount"]+vals["ZeroTaxSalesAmount"]+vals["TaxAmount"] != vals["TotalAmount"]:
		return nil, refuse(99, "第%d筆 發票號碼%s TotalAmount 金額計算錯誤", n, r.InvoiceNumber)
	case !sum.Round(0).Equal(decimal.NewFromInt(vals["TotalAmount"])):
		return nil, refuse(99, "第%d筆 發票號碼%s ProductItem Amount 合計與 TotalAmount 不符", n, r.InvoiceNumber)
	}
	if tt == 2 || vals["ZeroTaxSalesAmount"] > 0 {
		reason, _ := r.ZeroTaxRateReason.Int64()
		mark, _ := r.CustomsClearanceMark.Int64()
		if reason < 71 || reason > 79 {
			return nil, bad("ZeroTaxRateReason")
		}
		if mark != 1 && mark != 2 {
			return nil, bad("CustomsClearanceMark")
		}
	}
	if v, err := r.DetailVat.Int64(); r.DetailVat != "" && (err != nil || v == 0 && r.BuyerIdentifier == "0000000000" || v < 0 || v > 1) {
		return nil, bad("DetailVat")
	}
	inv := &Invoice{
		Number: r.InvoiceNumber, OrderID: *r.OrderID, Date: day, Random: r.RandomNumber, PrintMark: r.PrintMark,
		Buyer: r.BuyerIdentifier, BuyerName: r.BuyerName, CarrierType: r.CarrierType, CarrierID: r.CarrierId1, NPOBAN: r.NPOBAN,
		Sales: vals["SalesAmount"], FreeTax: vals["FreeTaxSalesAmount"], ZeroTax: vals["ZeroTaxSalesAmount"],
		Tax: vals["TaxAmount"], Total: vals["TotalAmount"], TaxType: int(tt), Items: len(r.ProductItem),
	}
	s.codes(inv, r)
	return inv, nil
}

func validDate(s string) bool {
	_, err := time.Parse("20060102", s)
	return err == nil
}

func dec(n json.Number) (decimal.Decimal, error) {
	if n == "" {
		return decimal.Decimal{}, fmt.Errorf("missing")
	}
	d, err := decimal.NewFromString(n.String())
	if err != nil {
		return d, err
	}
	if -d.Exponent() > 7 {
		return d, fmt.Errorf("more than 7 decimals")
	}
	return d, nil
}

// codes computes the barcode and QR texts as Amego does for a custom upload
// (providers.md §5.2 A.3): the amount without tax (tax split even for a
// consumer), encoding flag 0 (Big5), every item in the right code, the left
// code ending in :**********:n:n:0:, with the merchant's key as Amego holds it.
func (s *Server) codes(inv *Invoice, r record) {
	untaxed := inv.Sales + inv.FreeTax + inv.ZeroTax
	if inv.Tax == 0 && inv.Sales > 0 && (inv.TaxType == 1 || inv.TaxType == 9) {
		// A consumer's taxable sales arrive tax-inclusive: split at 5 %,
		// rounded half up, as the MOF rules prescribe.
		untaxed = (inv.Sales*20000+10500)/21000 + inv.FreeTax + inv.ZeroTax
	}
	roc := inv.Date.In(posagent.Taipei)
	date := fmt.Sprintf("%03d%02d%02d", roc.Year()-1911, int(roc.Month()), roc.Day())
	buyer := "00000000"
	if inv.Buyer != "0000000000" {
		buyer = inv.Buyer
	}
	verification, _ := s.opt.QRKey.Verification(posagent.InvoiceNumber(inv.Number), inv.Random)
	inv.QRLeft = fmt.Sprintf("%s%s%s%08x%08x%s%s%s:**********:%d:%d:0:", inv.Number, date, inv.Random, untaxed, inv.Total,
		buyer, s.opt.Seller, verification, len(r.ProductItem), len(r.ProductItem))
	var right strings.Builder
	right.WriteString("**")
	for i, it := range r.ProductItem {
		if i > 0 {
			right.WriteString(":")
		}
		fmt.Fprintf(&right, "%s:%s:%s", strings.ReplaceAll(it.Description, ":", ""), it.Quantity, it.UnitPrice)
	}
	inv.QRRight = right.String()
	inv.Barcode = posagent.PeriodOf(inv.Date).Code() + inv.Number + inv.Random
}

func (s *Server) f0501(data json.RawMessage, _ time.Time) (any, *refusal) {
	var req []struct {
		CancelInvoiceNumber string
		CancelReason        string
	}
	if decodeStrict(data, &req) != nil || len(req) == 0 {
		return nil, refuse(3050112, "CancelInvoiceNumber 格式錯誤")
	}
	for _, v := range req {
		inv := s.byNumber[v.CancelInvoiceNumber]
		switch {
		case !numberText.MatchString(v.CancelInvoiceNumber):
			return nil, refuse(3050111, "CancelInvoiceNumber 錯誤")
		case utf8.RuneCountInString(v.CancelReason) > 20:
			return nil, refuse(3050113, "CancelReason 超過20字")
		case inv == nil:
			return nil, refuse(3050125, "發票號碼 %s 不存在", v.CancelInvoiceNumber)
		case inv.Voided:
			return nil, refuse(3050122, "發票號碼 %s 已作廢", v.CancelInvoiceNumber)
		case inv.HadAllowance:
			return nil, refuse(3050141, "發票號碼 %s 已有折讓，不可作廢", v.CancelInvoiceNumber)
		}
	}
	for _, v := range req {
		inv := s.byNumber[v.CancelInvoiceNumber]
		s.seq++
		inv.Voided, inv.VoidReason, inv.VoidSeq = true, v.CancelReason, s.seq
	}
	return nil, nil
}

type allowanceItem struct {
	OriginalInvoiceNumber string
	OriginalInvoiceDate   string
	OriginalDescription   string
	Quantity              json.Number
	Unit                  string
	UnitPrice             json.Number
	Amount                json.Number
	Tax                   json.Number
	TaxType               json.Number
}

func (s *Server) g0401(data json.RawMessage, now time.Time) (any, *refusal) {
	var req []struct {
		AllowanceNumber   string
		AllowanceDate     string
		AllowanceType     json.Number
		BuyerIdentifier   string
		BuyerName         string
		BuyerEmailAddress string
		ProductItem       []allowanceItem
		TaxAmount         json.Number
		TotalAmount       json.Number
	}
	if err := decodeStrict(data, &req); err != nil || len(req) == 0 {
		return nil, refuse(20, "資料格式錯誤")
	}
	var made []*Allowance
	for _, a := range req {
		typ, _ := a.AllowanceType.Int64()
		tax, e1 := a.TaxAmount.Int64()
		total, e2 := a.TotalAmount.Int64()
		switch {
		case a.AllowanceNumber == "" || len(a.AllowanceNumber) > 16:
			return nil, refuse(4040111, "AllowanceNumber 錯誤")
		case !validDate(a.AllowanceDate):
			return nil, refuse(4040121, "AllowanceDate 錯誤")
		case typ == 1:
			return nil, refuse(4040145, "自2025年1月1日起 AllowanceType 不可為 1")
		case typ != 2:
			return nil, refuse(4040141, "AllowanceType 錯誤")
		case e1 != nil || e2 != nil || tax < 0 || total < 0:
			return nil, refuse(4040151, "金額 錯誤")
		case len(a.ProductItem) == 0:
			return nil, refuse(4040131, "ProductItem 不可空白")
		}
		for _, prev := range s.allowances {
			if prev.Number == a.AllowanceNumber {
				if prev.Voided {
					return nil, refuse(4040162, "折讓單號 %s 已存在且已作廢", a.AllowanceNumber)
				}
				return nil, refuse(4040161, "折讓單號 %s 已存在", a.AllowanceNumber)
			}
		}
		orig := a.ProductItem[0].OriginalInvoiceNumber
		inv := s.byNumber[orig]
		switch {
		case inv == nil:
			return nil, refuse(4040156, "原發票 %s 不存在", orig)
		case inv.Voided:
			return nil, refuse(4040153, "原發票 %s 已作廢", orig)
		case a.BuyerIdentifier != inv.Buyer:
			return nil, refuse(4040157, "買方統編與原發票不符")
		}
		var sumAmount decimal.Decimal
		var sumTax int64
		for _, it := range a.ProductItem {
			amt, err := dec(it.Amount)
			lineTax, terr := it.Tax.Int64()
			switch {
			case it.OriginalInvoiceNumber != orig:
				return nil, refuse(4040132, "一張折讓單只能折讓一張發票")
			case it.OriginalInvoiceDate != inv.Date.In(posagent.Taipei).Format("20060102"):
				return nil, refuse(4040154, "OriginalInvoiceDate 與原發票不符")
			case it.OriginalDescription == "":
				return nil, refuse(4040155, "OriginalDescription 不可空白")
			case err != nil || amt.Sign() < 0:
				return nil, refuse(4040151, "Amount 錯誤")
			case terr != nil || lineTax < 0:
				return nil, refuse(4040139, "Tax 必須為整數")
			}
			sumAmount, sumTax = sumAmount.Add(amt), sumTax+lineTax
		}
		var before int64
		for _, prev := range s.allowances {
			if prev.InvoiceNo == orig && !prev.Voided {
				before += prev.Total + prev.Tax
			}
		}
		switch {
		case sumTax != tax:
			return nil, refuse(4040152, "Tax 合計與 TaxAmount 不符")
		case !sumAmount.Round(0).Equal(decimal.NewFromInt(total)):
			return nil, refuse(4040151, "Amount 合計與 TotalAmount 不符")
		case total+tax > inv.Total:
			return nil, refuse(4040171, "折讓金額超過發票金額")
		case before+total+tax > inv.Total:
			return nil, refuse(4040173, "累計折讓金額超過發票金額")
		}
		made = append(made, &Allowance{Number: a.AllowanceNumber, InvoiceNo: orig, Date: a.AllowanceDate, Type: int(typ),
			Total: total, Tax: tax, Lines: len(a.ProductItem)})
	}
	for _, a := range made {
		s.seq++
		a.Seq = s.seq
		s.allowances = append(s.allowances, a)
		s.byNumber[a.InvoiceNo].HadAllowance = true
	}
	return nil, nil
}

func (s *Server) g0501(data json.RawMessage, _ time.Time) (any, *refusal) {
	var req []struct{ CancelAllowanceNumber string }
	if decodeStrict(data, &req) != nil || len(req) == 0 {
		return nil, refuse(4050121, "CancelAllowanceNumber 錯誤")
	}
	var found []*Allowance
	for _, v := range req {
		var a *Allowance
		for _, x := range s.allowances {
			if x.Number == v.CancelAllowanceNumber {
				a = x
			}
		}
		switch {
		case v.CancelAllowanceNumber == "":
			return nil, refuse(4050121, "CancelAllowanceNumber 錯誤")
		case a == nil:
			return nil, refuse(4050134, "折讓單 %s 不存在", v.CancelAllowanceNumber)
		case a.Voided:
			return nil, refuse(4050132, "折讓單 %s 已作廢", v.CancelAllowanceNumber)
		}
		found = append(found, a)
	}
	for _, a := range found {
		a.Voided = true
	}
	return nil, nil
}

func (s *Server) invoiceStatus(data json.RawMessage, _ time.Time) (any, *refusal) {
	var req []struct{ InvoiceNumber string }
	if decodeStrict(data, &req) != nil || len(req) == 0 {
		return nil, refuse(32, "InvoiceNumber 錯誤")
	}
	out := make([]map[string]any, len(req))
	for i, r := range req {
		inv := s.byNumber[r.InvoiceNumber]
		switch {
		case inv == nil:
			out[i] = map[string]any{"invoice_number": r.InvoiceNumber, "type": "NOT_FOUND", "status": 0}
		case inv.Voided:
			out[i] = map[string]any{"invoice_number": r.InvoiceNumber, "type": "C0501", "status": inv.status()}
		default:
			out[i] = map[string]any{"invoice_number": r.InvoiceNumber, "type": "C0401", "status": inv.status()}
		}
	}
	return out, nil
}

func (s *Server) invoiceQuery(data json.RawMessage, now time.Time) (any, *refusal) {
	var req struct {
		Type          string `json:"type"`
		InvoiceNumber string `json:"invoice_number"`
		OrderID       string `json:"order_id"`
	}
	if decodeStrict(data, &req) != nil {
		return nil, refuse(32, "參數 錯誤")
	}
	var inv *Invoice
	switch req.Type {
	case "invoice":
		inv = s.byNumber[req.InvoiceNumber]
	case "order":
		inv = s.byOrder[req.OrderID]
	default:
		return nil, refuse(31, "type 錯誤")
	}
	if inv == nil {
		return nil, refuse(71, "查無發票")
	}
	if now.Sub(inv.Date) > 180*24*time.Hour {
		return nil, refuse(51, "超過可查詢期間")
	}
	day, _ := strconv.Atoi(inv.Date.In(posagent.Taipei).Format("20060102"))
	out := map[string]any{
		"invoice_number": inv.Number, "invoice_type": "C0401", "invoice_status": inv.status(), "invoice_date": day,
		"invoice_time": inv.Date.In(posagent.Taipei).Format("15:04:05"), "random_number": inv.Random, "order_id": inv.OrderID,
		"buyer_identifier": inv.Buyer, "sales_amount": inv.Sales, "free_tax_sales_amount": inv.FreeTax,
		"zero_tax_sales_amount": inv.ZeroTax, "tax_amount": inv.Tax, "total_amount": inv.Total,
		"cancel_date": 0, "product_item": []any{}, "wait": []any{},
	}
	if inv.Voided {
		out["invoice_type"], out["cancel_date"] = "C0501", day
	}
	allowances := []map[string]any{}
	for _, a := range s.allowances {
		if a.InvoiceNo == inv.Number {
			// A voided allowance is listed as G0501 [3P: a client of Amego
			// reads invoice_type so; the field is not documented].
			typ := "G0401"
			if a.Voided {
				typ = "G0501"
			}
			allowances = append(allowances, map[string]any{"allowance_number": a.Number, "invoice_type": typ,
				"allowance_type": 2, "allowance_date": a.Date, "total_amount": a.Total, "tax_amount": a.Tax, "invoice_status": 99})
		}
	}
	out["allowance"] = allowances
	return out, nil
}

func (inv *Invoice) status() int {
	if inv.Status == 0 {
		return 99
	}
	return inv.Status
}

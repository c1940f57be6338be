package ecpaytest

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

type handler func(s *Server, f *fields, now time.Time) (map[string]any, error)

var handlers map[string]handler

func init() {
	handlers = map[string]handler{
		"OfflineMerchantPosSetting":          (*Server).posSetting,
		"QueryOfflineMerchantPosSetting":     (*Server).queryPos,
		"GetGovInvoiceWordSetting":           (*Server).govWords,
		"AddInvoiceWordSetting":              (*Server).addWord,
		"GetInvoiceWordSetting":              (*Server).getWords,
		"UpdateInvoiceWordStatus":            (*Server).updateWord,
		"GetOfflineInvoiceWordSetting":       (*Server).offlineRange,
		"GetOfflineInvoiceWordSettingNumber": (*Server).offlineNumbers,
		"OfflineIssue":                       (*Server).offlineIssue,
		"OfflineInvalid":                     (*Server).offlineInvalid,
		"Issue":                              (*Server).issue,
		"Invalid":                            (*Server).invalid,
		"Allowance":                          (*Server).allowance,
		"AllowanceInvalid":                   (*Server).allowanceInvalid,
		"GetIssue":                           (*Server).getIssue,
		"CheckBarcode":                       (*Server).checkBarcode,
		"CheckLoveCode":                      (*Server).checkLoveCode,
	}
}

// RtnCodes the stand-in answers with, from ecpay.md §8 where known. Codes
// marked "stand-in" are its own for conditions whose ECPay code is unpublished;
// their messages carry the words the client classifies by.
const (
	codeNotFound          = 2
	codeInvoiceNotFound   = 1600003
	codeTrackNotAdded     = 1500047
	codeTrackNotEnabled   = 5070350
	codeTrackExhausted    = 1100040
	codeDuplicateRelate   = 5070357 // live (ecpay.md §12), message with 重覆
	codeSumMismatch       = 5000022
	codeZeroNoClearance   = 5000007
	codeCarrierPrinted    = 5000015
	codeTaxIDNoCarrier    = 5000028
	codeBadLoveCode       = 2020001
	codeHasAllowances     = 5070450
	codeAlreadyVoided     = 2000063 // allowance already voided
	codeInvoiceVoided     = 5070453 // live (§12): "B2C作廢發票 該發票已被作廢過"
	codeAllowanceNotFound = 2000039
	codeDuplicateNumber   = 4000002 // stand-in: duplicate offline InvoiceNo
	codeMachine           = 4000003 // stand-in: machine rules
	codeTrack             = 4000004 // stand-in: track rules
	codeNotIssued         = 4000005 // stand-in: number not in a range bound to the machine
	// The issue-time rule (i301 §13) has no published code (§12); 4000006 is
	// what the hardening issue saw, with the rule's own wording.
	codeIssueTime = 4000006
	// Member carrier without the buyer's e-mail or phone: code unpublished.
	codeMemberCarrier = 4000007 // stand-in
)

func refuse(code int, format string, args ...any) *refusal {
	return &refusal{code: code, msg: fmt.Sprintf(format, args...)}
}

var (
	machineText  = regexp.MustCompile(`^[A-Za-z0-9]{1,10}$`)
	relateText   = regexp.MustCompile(`^[A-Za-z0-9]{1,30}$`)
	numberText   = regexp.MustCompile(`^[A-Z]{2}[0-9]{8}$`)
	headerText   = regexp.MustCompile(`^[A-Z]{2}$`)
	digits8      = regexp.MustCompile(`^[0-9]{8}$`)
	random4      = regexp.MustCompile(`^[0-9]{4}$`)
	loveText     = regexp.MustCompile(`^[0-9]{3,7}$`)
	barcodeText  = regexp.MustCompile(`^/[0-9A-Z.+-]{7}$`)
	citizenText  = regexp.MustCompile(`^[A-Z]{2}[0-9]{14}$`)
	phoneText    = regexp.MustCompile(`^[0-9]{1,20}$`)
	yearText     = regexp.MustCompile(`^[0-9]{3}$`)
	zeroReasonTx = regexp.MustCompile(`^7[1-9]$`)
)

const (
	dateTimeLayout = "2006-01-02 15:04:05"
	dateLayout     = "2006-01-02"
)

func (s *Server) newID(prefix string, width int) string {
	s.nextID++
	return fmt.Sprintf("%s%0*d", prefix, width, s.nextID)
}

// ---- terminals ----

func (s *Server) posSetting(f *fields, now time.Time) (map[string]any, error) {
	action, _, err := f.integer("ActionType", true)
	id, err2 := f.pattern("MachineID", machineText, true)
	remark, err3 := f.str("Remark", 100, false)
	if err := first(err, err2, err3); err != nil {
		return nil, err
	}
	if err := f.unknown(); err != nil {
		return nil, err
	}
	_, exists := s.machines[id]
	switch action {
	case 1:
		if exists {
			return nil, refuse(codeMachine, "機台編號 %s 已存在", id)
		}
		s.machines[id] = machine{remark: remark, created: now}
		s.machineList = append(s.machineList, id)
	case 2, 3:
		if !exists {
			return nil, refuse(codeMachine, "機台編號 %s 不存在", id)
		}
		for _, t := range s.tracks {
			if t.MachineID == id {
				return nil, refuse(codeMachine, "機台編號 %s 已綁定字軌，不可修改或刪除", id)
			}
		}
		if action == 2 {
			m := s.machines[id]
			m.remark = remark
			s.machines[id] = m
		} else {
			delete(s.machines, id)
			for i, m := range s.machineList {
				if m == id {
					s.machineList = append(s.machineList[:i], s.machineList[i+1:]...)
					break
				}
			}
		}
	default:
		return nil, fieldErr("ActionType 必須為 1/2/3")
	}
	return nil, nil
}

func (s *Server) queryPos(f *fields, now time.Time) (map[string]any, error) {
	list := []map[string]any{}
	for _, id := range s.machineList {
		m := s.machines[id]
		list = append(list, map[string]any{"MachineID": id, "CreateTime": m.created.In(posagent.Taipei).Format("2006/01/02 15:04:05"), "Remark": m.remark})
	}
	return map[string]any{"MachineIDList": list}, nil
}

// ---- tracks ----

// year reads InvoiceYear and checks it is last, this or next ROC year.
func year(f *fields, now time.Time) (int, error) {
	y, err := f.pattern("InvoiceYear", yearText, true)
	if err != nil {
		return 0, err
	}
	n, _ := strconv.Atoi(y)
	cur := posagent.ROCYear(now)
	if n < cur-1 || n > cur+1 {
		return 0, fieldErr("InvoiceYear 只能為去年、今年或明年")
	}
	return n, nil
}

func (s *Server) govWords(f *fields, now time.Time) (map[string]any, error) {
	y, err := year(f, now)
	if err != nil {
		return nil, err
	}
	list := []map[string]any{}
	for _, a := range s.opt.Pool {
		if a.Year == y {
			list = append(list, map[string]any{"InvoiceTerm": a.Term, "InvType": a.InvType, "InvoiceHeader": a.Header,
				"InvoiceStart": fmt.Sprintf("%08d", a.Start), "InvoiceEnd": fmt.Sprintf("%08d", a.End), "Number": (a.End - a.Start + 1) / 50})
		}
	}
	return map[string]any{"InvoiceInfo": list}, nil
}

func (s *Server) addWord(f *fields, now time.Time) (map[string]any, error) {
	term, _, err1 := f.integer("InvoiceTerm", true)
	y, err2 := year(f, now)
	invType, err3 := f.oneOf("InvType", true, "07", "08")
	cat, err4 := category(f)
	header, err5 := f.pattern("InvoiceHeader", headerText, true)
	startS, err6 := f.pattern("InvoiceStart", digits8, true)
	endS, err7 := f.pattern("InvoiceEnd", digits8, true)
	mid, err8 := f.str("MachineID", 10, cat == "4")
	if err := first(err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
		return nil, err
	}
	start, _ := strconv.Atoi(startS)
	end, _ := strconv.Atoi(endS)
	cur := posagent.PeriodOf(now)
	switch {
	case term < 1 || term > 6:
		return nil, fieldErr("InvoiceTerm 必須為 1–6")
	case y*10+int(term) < cur.Year*10+cur.Term():
		return nil, refuse(codeTrack, "InvoiceTerm 不可早於當期")
	case start%50 != 0 || (end+1)%50 != 0 || end < start:
		return nil, refuse(codeTrack, "字軌區間必須為整本(起號 00/50，迄號 49/99)")
	}
	if cat == "4" {
		if _, ok := s.machines[mid]; !ok {
			return nil, refuse(codeMachine, "機台編號 %s 不存在", mid)
		}
	}
	inPool := false
	for _, a := range s.opt.Pool {
		if a.Year == y && a.Term == int(term) && a.InvType == invType && a.Header == header && start >= a.Start && end <= a.End {
			inPool = true
		}
	}
	if !inPool {
		return nil, refuse(codeTrack, "字軌區間不在財政部配號範圍內")
	}
	for _, t := range s.tracks {
		if t.Year == y && t.Term == int(term) && t.Header == header && start <= t.End && t.Start <= end {
			return nil, refuse(codeTrack, "字軌區間與既有字軌 %s 重疊", t.ID)
		}
	}
	if err := f.unknown(); err != nil {
		return nil, err
	}
	t := &Track{ID: s.newID("", 10), Year: y, Term: int(term), InvType: invType, Category: cat, Header: header,
		Start: start, End: end, UseStatus: 1, MachineID: mid}
	if s.opt.AutoEnableTracks && cat == "4" {
		t.UseStatus = 2
	}
	s.tracks = append(s.tracks, t)
	return map[string]any{"TrackID": t.ID}, nil
}

// category reads InvoiceCategory, an integer in every source (ecpay.md §12):
// 1 online B2C, 2 B2B, 4 offline.
func category(f *fields) (string, error) {
	c, _, err := f.integer("InvoiceCategory", true)
	if err != nil {
		return "", err
	}
	switch c {
	case 1, 2, 4:
		return strconv.FormatInt(c, 10), nil
	}
	return "", fieldErr("InvoiceCategory 必須為 1/2/4 其中之一")
}

func categoryInt(c string) int { n, _ := strconv.Atoi(c); return n }

func (s *Server) getWords(f *fields, now time.Time) (map[string]any, error) {
	y, err1 := year(f, now)
	term, _, err2 := f.integer("InvoiceTerm", true)
	status, _, err3 := f.integer("UseStatus", true)
	cat, err4 := category(f)
	invType, err5 := f.oneOf("InvType", false, "07", "08")
	header, err6 := f.pattern("InvoiceHeader", headerText, false)
	if err := first(err1, err2, err3, err4, err5, err6); err != nil {
		return nil, err
	}
	if term < 0 || term > 6 || status < 0 || status > 6 {
		return nil, fieldErr("InvoiceTerm 或 UseStatus 超出範圍")
	}
	list := []map[string]any{}
	for _, t := range s.tracks {
		if t.Year != y || (term != 0 && t.Term != int(term)) || (status != 0 && t.UseStatus != int(status)) ||
			t.Category != cat || (invType != "" && t.InvType != invType) || (header != "" && t.Header != header) {
			continue
		}
		last := ""
		if t.LastUsed != 0 {
			last = fmt.Sprintf("%08d", t.LastUsed)
		}
		list = append(list, map[string]any{"TrackID": t.ID, "InvoiceYear": strconv.Itoa(t.Year), "InvoiceTerm": t.Term,
			"InvoiceCategory": categoryInt(t.Category), "InvType": t.InvType, "InvoiceHeader": t.Header,
			"InvoiceStart": fmt.Sprintf("%08d", t.Start), "InvoiceEnd": fmt.Sprintf("%08d", t.End),
			"InvoiceNo": last, "UseStatus": t.UseStatus, "MachineID": t.MachineID})
	}
	return map[string]any{"InvoiceInfo": list}, nil
}

func (s *Server) trackByID(id string) *Track {
	for _, t := range s.tracks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

func (s *Server) updateWord(f *fields, now time.Time) (map[string]any, error) {
	id, err1 := f.str("TrackID", 10, true)
	st, _, err2 := f.integer("InvoiceStatus", true)
	if err := first(err1, err2); err != nil {
		return nil, err
	}
	t := s.trackByID(id)
	if t == nil {
		return nil, refuse(codeTrack, "查無字軌 %s", id)
	}
	if t.UseStatus == 3 {
		return nil, refuse(codeTrack, "字軌 %s 已停用，不可變更", id)
	}
	if err := f.unknown(); err != nil {
		return nil, err
	}
	if st == 2 && t.UseStatus == 2 && s.opt.AutoEnableTracks {
		// O'Pay's reading (ecpay.md §12, low confidence): a second enable is refused.
		return nil, refuse(codeTrack, "字軌 %s 已啟用", id)
	}
	switch st {
	case 0:
		t.UseStatus = 3
	case 1:
		t.UseStatus = 4
	case 2:
		t.UseStatus = 2
	default:
		return nil, fieldErr("InvoiceStatus 必須為 0/1/2")
	}
	return nil, nil
}

// machineTrack is the newest enabled offline track of the machine for the term.
func (s *Server) machineTrack(f *fields, now time.Time) (*Track, error) {
	y, err1 := year(f, now)
	term, _, err2 := f.integer("InvoiceTerm", true)
	st, _, err3 := f.integer("InvoiceStatus", true)
	mid, err4 := f.pattern("MachineID", machineText, true)
	if err := first(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	if st != 1 && st != 2 {
		return nil, fieldErr("InvoiceStatus 必須為 1/2")
	}
	if _, ok := s.machines[mid]; !ok {
		return nil, refuse(codeMachine, "機台編號 %s 不存在", mid)
	}
	var found []*Track
	for _, t := range s.tracks {
		if t.Category == "4" && t.MachineID == mid && t.Year == y && t.Term == int(term) && t.UseStatus == 2 {
			found = append(found, t)
		}
	}
	// Active is the newest range, standby the one before it.
	idx := len(found) - int(st)
	if idx < 0 {
		return nil, refuse(codeTrackNotEnabled, "字軌未設定或未啟用")
	}
	if err := f.unknown(); err != nil {
		return nil, err
	}
	t := found[idx]
	t.Times++
	return t, nil
}

func (s *Server) offlineRange(f *fields, now time.Time) (map[string]any, error) {
	t, err := s.machineTrack(f, now)
	if err != nil {
		return nil, err
	}
	// ECPay pads the numbers with spaces at times; so does the stand-in.
	return map[string]any{"InvoiceHeader": t.Header, "InvoiceStart": fmt.Sprintf("%08d ", t.Start),
		"InvoiceEnd": fmt.Sprintf(" %08d", t.End), "InvoiceStatus": 1, "Times": t.Times}, nil
}

// qrKey is the MOF test key the stand-in computes EncryptData with.
var qrKey = [16]byte{0xF1, 0xA6, 0x18, 0xED, 0x86, 0x85, 0xB1, 0xA3, 0xB8, 0x1E, 0x6C, 0xB6, 0x88, 0x46, 0x17, 0xF4}

// mofIV is the fixed IV of the MOF QR verification block.
var mofIV, _ = base64.StdEncoding.DecodeString("Dt8lyToo17X/XkXaQvihuA==")

func encryptData(number, random string) string {
	block, _ := aes.NewCipher(qrKey[:])
	plain := []byte(number + random)
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	for i := 0; i < pad; i++ {
		plain = append(plain, byte(pad))
	}
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, mofIV).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

func (s *Server) offlineNumbers(f *fields, now time.Time) (map[string]any, error) {
	t, err := s.machineTrack(f, now)
	if err != nil {
		return nil, err
	}
	list := make([]map[string]any, 0, t.End-t.Start+1)
	for n := t.Start; n <= t.End; n++ {
		no := fmt.Sprintf("%s%08d", t.Header, n)
		r := fmt.Sprintf("%04d", rand.IntN(10000))
		list = append(list, map[string]any{"InvoiceNo": no, "RandomNumber": r, "EncryptData": encryptData(no, r)})
	}
	return map[string]any{"InvoiceInfo": list, "Times": t.Times}, nil
}

// ---- invoices ----

// invoiceBody checks the fields Issue and OfflineIssue share (§5.5, §7.1).
type invoiceBody struct {
	relate, taxType, print, donation, love, identifier, carrierType, carrierNum string
	email, phone                                                                string
	sales, tax                                                                  int64
	items                                                                       int
}

func checkInvoice(f *fields, online bool) (invoiceBody, error) {
	var b invoiceBody
	var err error
	var errs []error
	add := func(e error) { errs = append(errs, e) }
	b.relate, err = f.pattern("RelateNumber", relateText, true)
	add(err)
	b.taxType, err = f.oneOf("TaxType", true, "1", "2", "3", "4", "9")
	add(err)
	b.sales, _, err = f.integer("SalesAmount", true)
	add(err)
	var hasTax bool
	b.tax, hasTax, err = f.integer("TaxAmount", false)
	add(err)
	invType, err := f.oneOf("InvType", true, "07", "08")
	add(err)
	b.print, err = f.oneOf("Print", true, "0", "1")
	add(err)
	b.donation, err = f.oneOf("Donation", true, "0", "1")
	add(err)
	b.love, err = f.str("LoveCode", 7, false)
	add(err)
	b.identifier, err = f.str("CustomerIdentifier", 8, false)
	add(err)
	name, err := f.str("CustomerName", 60, false)
	add(err)
	addr, err := f.str("CustomerAddr", 100, false)
	add(err)
	phone, err := f.str("CustomerPhone", 20, false)
	add(err)
	email, err := f.str("CustomerEmail", 80, false)
	add(err)
	_, err = f.str("CustomerID", 20, false)
	add(err)
	clearance, err := f.oneOf("ClearanceMark", false, "1", "2")
	add(err)
	_, err = f.oneOf("vat", false, "0", "1")
	add(err)
	_, err = f.str("InvoiceRemark", 200, false)
	add(err)
	b.carrierType, err = f.oneOf("CarrierType", false, "", "1", "2", "3")
	add(err)
	b.carrierNum, err = f.str("CarrierNum", 64, false)
	add(err)
	zero, err := f.str("ZeroTaxRateReason", 2, false)
	add(err)
	var special string
	if online {
		var sp int64
		sp, _, err = f.integer("SpecialTaxType", false)
		special = strconv.FormatInt(sp, 10)
	} else {
		special, err = f.str("SpecialTaxType", 1, false)
	}
	add(err)
	if err := first(errs...); err != nil {
		return b, err
	}
	if b.sales <= 0 {
		return b, fieldErr("SalesAmount 必須大於 0")
	}
	if hasTax && (b.tax < 0 || b.tax > b.sales) {
		return b, fieldErr("TaxAmount 超出範圍")
	}
	if (invType == "07" && strings.Contains("1239", b.taxType) == false) || (invType == "08" && b.taxType != "3" && b.taxType != "4") {
		return b, fieldErr("TaxType 與 InvType 不符")
	}
	switch b.taxType {
	case "1", "2", "9":
		if special != "" && special != "0" {
			return b, fieldErr("SpecialTaxType 於 TaxType %s 必須為 0", b.taxType)
		}
	case "3":
		if special != "" && special != "8" && special != "0" {
			return b, fieldErr("SpecialTaxType 於免稅必須為 8")
		}
	case "4":
		if len(special) != 1 || special < "1" || special > "8" {
			return b, fieldErr("SpecialTaxType 於特種稅額必須為 1–8")
		}
	}
	// Items.
	items, err := f.list("Items", 200)
	if err != nil {
		return b, err
	}
	b.items = len(items)
	sum := posagent.Decimal{}
	anyZero := false
	for _, it := range items {
		_, _, e1 := it.integer("ItemSeq", false)
		_, e2 := it.str("ItemName", 100, true)
		_, e3 := it.sized("ItemCount", 8, 2)
		_, e4 := it.str("ItemWord", 6, true)
		_, e5 := it.sized("ItemPrice", 10, 7)
		itt, e6 := it.oneOf("ItemTaxType", b.taxType == "9", "1", "2", "3")
		amount, e7 := it.sized("ItemAmount", 12, 7)
		_, e8 := it.str("ItemRemark", 40, false)
		if err := first(e1, e2, e3, e4, e5, e6, e7, e8, it.unknown()); err != nil {
			return b, err
		}
		anyZero = anyZero || itt == "2"
		sum = sum.Add(amount)
	}
	if got, ok := sum.RoundNTD(); !ok || got != b.sales {
		return b, refuse(codeSumMismatch, "商品合計金額(%s)與發票金額(%d)不符", sum, b.sales)
	}
	if b.taxType == "2" || (b.taxType == "9" && anyZero) {
		if !zeroReasonTx.MatchString(zero) {
			return b, fieldErr("零稅率必須填寫 ZeroTaxRateReason (71–79)")
		}
	} else if zero != "" {
		return b, fieldErr("ZeroTaxRateReason 僅用於零稅率")
	}
	if b.taxType == "2" && clearance == "" {
		return b, refuse(codeZeroNoClearance, "零稅率必須填寫通關方式 ClearanceMark")
	}
	// Buyer, carrier, donation, print (§7.1 rules).
	if b.identifier != "" && (!digits8.MatchString(b.identifier) || !posagent.ValidTaxID(b.identifier)) {
		return b, fieldErr("CustomerIdentifier 統一編號錯誤")
	}
	switch b.carrierType {
	case "", "1":
		if b.carrierNum != "" {
			return b, fieldErr("CarrierNum 於 CarrierType %q 必須為空", b.carrierType)
		}
	case "2":
		if !citizenText.MatchString(b.carrierNum) {
			return b, fieldErr("CarrierNum 自然人憑證格式錯誤")
		}
	case "3":
		if !barcodeText.MatchString(b.carrierNum) {
			return b, fieldErr("CarrierNum 手機條碼格式錯誤")
		}
	}
	if b.donation == "1" {
		switch {
		case b.love == "":
			return b, fieldErr("捐贈時 LoveCode 為必填")
		case !loveText.MatchString(b.love):
			return b, refuse(codeBadLoveCode, "LoveCode 必須為 3–7 位數字")
		case b.print == "1":
			return b, fieldErr("捐贈發票不可列印")
		case b.identifier != "":
			return b, fieldErr("有統一編號不可捐贈")
		}
	} else if b.love != "" {
		return b, fieldErr("未捐贈不可填寫 LoveCode")
	}
	if b.identifier != "" {
		if b.print == "0" && b.carrierType == "" {
			return b, refuse(codeTaxIDNoCarrier, "有統一編號且不列印時必須有載具")
		}
		if b.print == "1" && (b.carrierType == "1" || b.carrierType == "2") {
			return b, refuse(codeCarrierPrinted, "使用載具時不可列印")
		}
	} else if b.carrierType != "" && b.print == "1" {
		return b, refuse(codeCarrierPrinted, "使用載具時不可列印")
	}
	b.email, b.phone = email, phone
	if b.carrierType == "1" && phone == "" && email == "" {
		// The member carrier is keyed by the buyer's e-mail or phone (i301 §13).
		return b, refuse(codeMemberCarrier, "會員載具須填寫 CustomerEmail 或 CustomerPhone")
	}
	if b.print == "0" && b.carrierType == "" && b.donation == "0" {
		return b, fieldErr("不列印時必須使用載具或捐贈")
	}
	if online {
		if b.print == "1" && (name == "" || addr == "") {
			return b, fieldErr("列印時 CustomerName 與 CustomerAddr 為必填")
		}
		if phone == "" && email == "" {
			return b, fieldErr("CustomerPhone 與 CustomerEmail 至少填寫一項")
		}
		if phone != "" && !phoneText.MatchString(phone) {
			return b, fieldErr("CustomerPhone 必須為數字")
		}
	}
	return b, nil
}

func (s *Server) invoiceByNumber(n string) *Invoice {
	for _, inv := range s.invoices {
		if inv.Number == n {
			return inv
		}
	}
	return nil
}

func (s *Server) invoiceByRelate(r string) *Invoice {
	for _, inv := range s.invoices {
		if strings.EqualFold(inv.RelateNumber, r) {
			return inv
		}
	}
	return nil
}

func (s *Server) offlineIssue(f *fields, now time.Time) (map[string]any, error) {
	mid, err1 := f.pattern("MachineID", machineText, true)
	no, err2 := f.pattern("InvoiceNo", numberText, true)
	dateS, err3 := f.str("InvoiceDate", 20, true)
	random, err4 := f.pattern("RandomNumber", random4, true)
	if err := first(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	issued, err := time.ParseInLocation(dateTimeLayout, dateS, posagent.Taipei)
	if err != nil {
		return nil, fieldErr("InvoiceDate 格式必須為 yyyy-MM-dd HH:mm:ss")
	}
	b, err := checkInvoice(f, false)
	if err != nil {
		return nil, err
	}
	// ECPay compares whole seconds: an InvoiceDate of this very second is
	// taken, a later one refused with the rule's wording (i301 §13).
	if issued.After(now.Truncate(time.Second)) {
		return nil, refuse(codeIssueTime, "發票開立時間不可大於上傳時間")
	}
	if _, ok := s.machines[mid]; !ok {
		return nil, refuse(codeMachine, "機台編號 %s 不存在", mid)
	}
	if s.invoiceByNumber(no) != nil {
		return nil, refuse(codeDuplicateNumber, "%s", s.dupNumberMsg(no))
	}
	if s.invoiceByRelate(b.relate) != nil {
		return nil, refuse(codeDuplicateRelate, "自訂編號 %s 重覆", b.relate)
	}
	p := posagent.PeriodOf(issued)
	seq, _ := strconv.Atoi(no[2:])
	var track *Track
	for _, t := range s.tracks {
		if t.Category == "4" && t.MachineID == mid && t.Header == no[:2] && t.Year == p.Year && t.Term == p.Term() && seq >= t.Start && seq <= t.End {
			track = t
		}
	}
	switch {
	case track == nil:
		return nil, refuse(codeNotIssued, "發票號碼 %s 不在機台 %s 於 %s 的字軌區間內", no, mid, p.Label())
	case track.UseStatus == 3:
		return nil, refuse(codeTrackNotEnabled, "字軌已停用，不可上傳")
	}
	if err := f.unknown(); err != nil {
		return nil, err
	}
	if seq > track.LastUsed {
		track.LastUsed = seq
	}
	if take(&s.dropUploads) {
		return map[string]any{"InvoiceNo": no, "RelateNumber": b.relate}, nil
	}
	s.invoices = append(s.invoices, &Invoice{Number: no, RelateNumber: b.relate, MachineID: mid, Date: issued,
		RandomNumber: random, SalesAmount: b.sales, TaxAmount: b.tax, TaxType: b.taxType, Identifier: b.identifier,
		CarrierType: b.carrierType, CarrierNum: b.carrierNum, Email: b.email, Phone: b.phone, LoveCode: b.love, Print: b.print, Items: b.items, Remaining: b.sales,
		TurnkeyStatus: s.turnkeyStatus})
	return map[string]any{"InvoiceNo": no, "RelateNumber": b.relate}, nil
}

// voidInvoice runs the checks both voids share.
func (s *Server) voidInvoice(f *fields, dateField int) (*Invoice, string, error) {
	no, err1 := f.pattern("InvoiceNo", numberText, true)
	d, err2 := f.str("InvoiceDate", dateField, true)
	reason, err3 := f.str("Reason", 20, true)
	if err := first(err1, err2, err3); err != nil {
		return nil, "", err
	}
	if _, err := time.ParseInLocation(dateLayout, d, posagent.Taipei); err != nil {
		return nil, "", fieldErr("InvoiceDate 格式必須為 yyyy-MM-dd")
	}
	inv := s.invoiceByNumber(no)
	if inv == nil || inv.Date.In(posagent.Taipei).Format(dateLayout) != d {
		return nil, "", refuse(codeInvoiceNotFound, "查無發票 %s", no)
	}
	if inv.Voided {
		return nil, "", refuse(codeInvoiceVoided, "B2C作廢發票 該發票已被作廢過")
	}
	for _, a := range s.allowances {
		if a.InvoiceNo == no && !a.Voided {
			return nil, "", refuse(codeHasAllowances, "發票有折讓，請先作廢折讓")
		}
	}
	return inv, reason, nil
}

func (s *Server) offlineInvalid(f *fields, now time.Time) (map[string]any, error) {
	// The void time's key is unsettled (§12): CancelDate (i301) or
	// InvoiceCancelDate (the .NET SDK). Either is taken; both must agree.
	cancel, err := f.str("CancelDate", 20, false)
	if err != nil {
		return nil, err
	}
	cancel2, err := f.str("InvoiceCancelDate", 20, false)
	if err != nil {
		return nil, err
	}
	switch {
	case cancel == "" && cancel2 == "":
		return nil, fieldErr("CancelDate 為必填")
	case cancel == "":
		cancel = cancel2
	case cancel2 != "" && cancel2 != cancel:
		return nil, fieldErr("CancelDate 與 InvoiceCancelDate 不一致")
	}
	t, err := time.ParseInLocation(dateTimeLayout, cancel, posagent.Taipei)
	if err != nil {
		return nil, fieldErr("CancelDate 格式必須為 yyyy-MM-dd HH:mm:ss")
	}
	inv, reason, err := s.voidInvoice(f, 20)
	if err != nil {
		return nil, err
	}
	if inv.Online {
		return nil, refuse(codeInvoiceNotFound, "查無離線發票 %s", inv.Number)
	}
	if t.Before(inv.Date) {
		return nil, fieldErr("CancelDate 不可早於發票日期")
	}
	if err := f.unknown(); err != nil {
		return nil, err
	}
	if take(&s.loseVoids) {
		return map[string]any{"InvoiceNo": inv.Number}, nil
	}
	inv.Voided, inv.VoidReason = true, reason
	return map[string]any{"InvoiceNo": inv.Number}, nil
}

func (s *Server) issue(f *fields, now time.Time) (map[string]any, error) {
	b, err := checkInvoice(f, true)
	if err != nil {
		return nil, err
	}
	if s.invoiceByRelate(b.relate) != nil {
		return nil, refuse(codeDuplicateRelate, "自訂編號 %s 重覆", b.relate)
	}
	p := posagent.PeriodOf(now)
	var track *Track
	for _, t := range s.tracks {
		if t.Category == "1" && t.Year == p.Year && t.Term == p.Term() && t.UseStatus == 2 && t.LastUsed < t.End {
			track = t
			break
		}
	}
	if track == nil {
		return nil, refuse(codeTrackNotAdded, "字軌未設定或已用完")
	}
	if err := f.unknown(); err != nil {
		return nil, err
	}
	if track.LastUsed == 0 {
		track.LastUsed = track.Start
	} else {
		track.LastUsed++
	}
	no := fmt.Sprintf("%s%08d", track.Header, track.LastUsed)
	random := fmt.Sprintf("%04d", rand.IntN(10000))
	issued := now.In(posagent.Taipei).Truncate(time.Second)
	if !take(&s.dropUploads) {
		s.invoices = append(s.invoices, &Invoice{Number: no, RelateNumber: b.relate, Online: true, Date: issued,
			RandomNumber: random, SalesAmount: b.sales, TaxAmount: b.tax, TaxType: b.taxType, Identifier: b.identifier,
			CarrierType: b.carrierType, CarrierNum: b.carrierNum, Email: b.email, Phone: b.phone, LoveCode: b.love, Print: b.print, Items: b.items, Remaining: b.sales,
			TurnkeyStatus: s.turnkeyStatus})
	}
	return map[string]any{"InvoiceNo": no, "InvoiceDate": issued.Format(dateTimeLayout), "RandomNumber": random}, nil
}

func (s *Server) invalid(f *fields, now time.Time) (map[string]any, error) {
	inv, reason, err := s.voidInvoice(f, 10)
	if err == nil {
		err = f.unknown()
	}
	if err != nil {
		return nil, err
	}
	if !take(&s.loseVoids) {
		inv.Voided, inv.VoidReason = true, reason
	}
	return map[string]any{"InvoiceNo": inv.Number}, nil
}

func (s *Server) allowance(f *fields, now time.Time) (map[string]any, error) {
	no, err1 := f.pattern("InvoiceNo", numberText, true)
	d, err2 := f.str("InvoiceDate", 10, true)
	notify, err3 := f.oneOf("AllowanceNotify", true, "S", "E", "A", "N")
	_, err4 := f.str("CustomerName", 60, false)
	mail, err5 := f.str("NotifyMail", 80, false)
	phone, err6 := f.str("NotifyPhone", 20, false)
	amount, _, err7 := f.integer("AllowanceAmount", true)
	_, err8 := f.str("Reason", 20, false)
	if err := first(err1, err2, err3, err4, err5, err6, err7, err8); err != nil {
		return nil, err
	}
	if (notify == "E" || notify == "A") && mail == "" || (notify == "S" || notify == "A") && phone == "" {
		return nil, fieldErr("通知方式所需的 NotifyMail/NotifyPhone 為必填")
	}
	items, err := f.list("Items", 200)
	if err != nil {
		return nil, err
	}
	sum := posagent.Decimal{}
	for _, it := range items {
		_, _, e1 := it.integer("ItemSeq", false)
		_, e2 := it.str("ItemName", 100, true)
		_, e3 := it.sized("ItemCount", 8, 2)
		_, e4 := it.str("ItemWord", 6, true)
		_, e5 := it.sized("ItemPrice", 10, 7)
		_, e6 := it.oneOf("ItemTaxType", false, "1", "2", "3")
		a, e7 := it.sized("ItemAmount", 12, 7)
		_, e8 := it.str("ItemRemark", 40, false)
		if err := first(e1, e2, e3, e4, e5, e6, e7, e8, it.unknown()); err != nil {
			return nil, err
		}
		sum = sum.Add(a)
	}
	if got, ok := sum.RoundNTD(); !ok || got != amount {
		return nil, refuse(codeSumMismatch, "折讓商品合計(%s)與折讓金額(%d)不符", sum, amount)
	}
	inv := s.invoiceByNumber(no)
	if inv == nil || inv.Date.In(posagent.Taipei).Format(dateLayout) != d {
		return nil, refuse(codeInvoiceNotFound, "查無發票 %s", no)
	}
	switch {
	case inv.Voided:
		return nil, fieldErr("發票已作廢，不可折讓")
	case amount <= 0 || amount > inv.Remaining:
		return nil, fieldErr("折讓金額超過發票剩餘可折讓金額 %d", inv.Remaining)
	}
	if err := f.unknown(); err != nil {
		return nil, err
	}
	a := &Allowance{Number: s.newID("2026", 12), InvoiceNo: no, Amount: amount}
	if take(&s.dropAllowances) {
		return map[string]any{"IA_Allow_No": a.Number, "IA_Invoice_No": no, "IA_Date": now.In(posagent.Taipei).Format(dateTimeLayout),
			"IA_Remain_Allowance_Amt": inv.Remaining - amount}, nil
	}
	inv.Remaining -= amount
	s.allowances = append(s.allowances, a)
	return map[string]any{"IA_Allow_No": a.Number, "IA_Invoice_No": no, "IA_Date": now.In(posagent.Taipei).Format(dateTimeLayout),
		"IA_Remain_Allowance_Amt": inv.Remaining}, nil
}

func (s *Server) allowanceInvalid(f *fields, now time.Time) (map[string]any, error) {
	no, err1 := f.pattern("InvoiceNo", numberText, true)
	allow, err2 := f.str("AllowanceNo", 16, true)
	_, err3 := f.str("Reason", 20, true)
	if err := first(err1, err2, err3); err != nil {
		return nil, err
	}
	for _, a := range s.allowances {
		if a.Number == allow && a.InvoiceNo == no {
			if err := f.unknown(); err != nil {
				return nil, err
			}
			if a.Voided {
				return nil, refuse(codeAlreadyVoided, "折讓單已作廢過")
			}
			a.Voided = true
			if inv := s.invoiceByNumber(no); inv != nil {
				inv.Remaining += a.Amount
			}
			return nil, nil
		}
	}
	return nil, refuse(codeAllowanceNotFound, "查無折讓單 %s", allow)
}

func (s *Server) getIssue(f *fields, now time.Time) (map[string]any, error) {
	relate, err1 := f.str("RelateNumber", 30, false)
	no, err2 := f.str("InvoiceNo", 10, false)
	d, err3 := f.str("InvoiceDate", 10, false)
	if err := first(err1, err2, err3); err != nil {
		return nil, err
	}
	var inv *Invoice
	switch {
	case relate != "":
		inv = s.invoiceByRelate(relate)
	case no != "" && d != "":
		inv = s.invoiceByNumber(no)
		if inv != nil && inv.Date.In(posagent.Taipei).Format(dateLayout) != d {
			inv = nil
		}
	default:
		return nil, fieldErr("RelateNumber 或 InvoiceNo 與 InvoiceDate 為必填")
	}
	if inv == nil {
		return nil, refuse(codeNotFound, "查無發票資料")
	}
	identifier := inv.Identifier
	if identifier == "" {
		identifier = "0000000000"
	}
	out := map[string]any{
		"IIS_Number": inv.Number, "IIS_Relate_Number": inv.RelateNumber,
		"IIS_Create_Date": inv.Date.In(posagent.Taipei).Format(dateTimeLayout), "IIS_Random_Number": inv.RandomNumber,
		"IIS_Sales_Amount": inv.SalesAmount, "IIS_Tax_Amount": inv.TaxAmount,
		"IIS_Invalid_Status": flag(inv.Voided), "IIS_Upload_Status": "1", "IIS_Remain_Allowance_Amt": inv.Remaining,
		"IIS_Identifier": identifier, "IIS_Carrier_Type": inv.CarrierType, "IIS_Carrier_Num": inv.CarrierNum,
		"IIS_Love_Code": inv.LoveCode, "IIS_Print_Flag": inv.Print, "IIS_Award_Flag": "", "IIS_Tax_Type": inv.TaxType,
	}
	if inv.TurnkeyStatus != "" {
		out["IIS_Turnkey_Status"] = inv.TurnkeyStatus
	}
	return out, nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (s *Server) carrierExists(code string) string {
	if s.missing[code] || (s.knownCodes != nil && !s.knownCodes[code]) {
		return "N"
	}
	return "Y"
}

func (s *Server) checkBarcode(f *fields, now time.Time) (map[string]any, error) {
	code, err := f.pattern("BarCode", barcodeText, true)
	if err != nil {
		return nil, err
	}
	return map[string]any{"IsExist": s.carrierExists(code)}, nil
}

func (s *Server) checkLoveCode(f *fields, now time.Time) (map[string]any, error) {
	code, err := f.str("LoveCode", 7, true)
	if err != nil {
		return nil, err
	}
	if !loveText.MatchString(code) {
		return nil, refuse(codeBadLoveCode, "LoveCode 必須為 3–7 位數字")
	}
	exists := s.carrierExists(code)
	organ := ""
	if exists == "Y" {
		organ = "財團法人測試基金會"
	}
	return map[string]any{"IsExist": exists, "OrganName": organ}, nil
}

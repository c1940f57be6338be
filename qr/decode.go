package qr

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/posagent/posagent"
)

// headLen is the fixed head of the left code: fields 1–8, no separators.
const headLen = 77

// Fields are what the two QR codes of a proof carry.
type Fields struct {
	Number     posagent.InvoiceNumber `json:"number"`      // field 1
	Date       time.Time              `json:"date"`        // field 2: the issue date, midnight in Taipei
	RandomCode string                 `json:"random_code"` // field 3
	// SalesAmount is field 4, the amount without tax (0 when the seller's
	// system cannot separate the tax); Total is field 5.
	SalesAmount int64 `json:"sales_amount"`
	Total       int64 `json:"total"`
	// BuyerTaxID is field 6, "00000000" for a consumer; SellerTaxID field 7.
	// Their check sums are not checked: the codes carry digits.
	BuyerTaxID    string   `json:"buyer_tax_id"`
	SellerTaxID   string   `json:"seller_tax_id"`
	Verification  string   `json:"verification"`   // field 8, see Verify
	SellerArea    string   `json:"seller_area"`    // field 9
	ItemsRecorded int      `json:"items_recorded"` // field 10: items in both codes
	ItemsTotal    int      `json:"items_total"`    // field 11: item lines on the invoice
	Encoding      Encoding `json:"encoding"`       // field 12
	Items         []Item   `json:"items"`
	// Remark is the optional 補充說明 after the items.
	Remark string `json:"remark,omitempty"`
}

// Item is one recorded line: name, quantity and unit price, exactly as written.
type Item struct {
	Name      string           `json:"name"`
	Quantity  posagent.Decimal `json:"quantity"`
	UnitPrice posagent.Decimal `json:"unit_price"`
}

func (it Item) triple() string {
	return it.Name + ":" + it.Quantity.String() + ":" + it.UnitPrice.String()
}

// Period is the bimonthly period of the invoice date.
func (f Fields) Period() posagent.Period { return posagent.PeriodOf(f.Date) }

// Barcode is the 19-character barcode text of the invoice the codes describe.
func (f Fields) Barcode() string { return f.Period().Code() + string(f.Number) + f.RandomCode }

// Verify recomputes the verification field with the key and reports a
// mismatch as a KindInvalid error; it says nothing about the key.
func (f Fields) Verify(key Key) error {
	if !f.Number.Valid() || !posagent.ValidRandomCode(f.RandomCode) {
		return posagent.Invalid("verification", "cannot be checked without a valid number and random code")
	}
	if !equalVerification(key.verification(string(f.Number)+f.RandomCode), f.Verification) {
		return posagent.Invalid("verification", "does not match: the codes were not made with this key, or number or random code were altered")
	}
	return nil
}

func dateOf(t time.Time) time.Time {
	y, m, d := t.In(posagent.Taipei).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, posagent.Taipei)
}

// head writes fields 1–8.
func (f *Fields) head() string {
	d := f.Date.In(posagent.Taipei)
	return fmt.Sprintf("%s%03d%02d%02d%s%08x%08x%s%s%s",
		f.Number, d.Year()-1911, int(d.Month()), d.Day(), f.RandomCode,
		f.SalesAmount, f.Total, f.BuyerTaxID, f.SellerTaxID, f.Verification)
}

// writeExtension writes fields 9–12 with n items recorded.
func (f *Fields) writeExtension(b *strings.Builder, n int) {
	b.WriteByte(':')
	b.WriteString(f.SellerArea)
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(n))
	b.WriteByte(':')
	b.WriteString(strconv.Itoa(f.ItemsTotal))
	b.WriteByte(':')
	b.WriteString(f.Encoding.Digit())
}

var (
	numberText       = regexp.MustCompile(`^[A-Z]{2}[0-9]{8}$`)
	rocDateText      = regexp.MustCompile(`^[0-9]{7}$`)
	randomText       = regexp.MustCompile(`^[0-9]{4}$`)
	hexAmountText    = regexp.MustCompile(`^[0-9A-Fa-f]{8}$`)
	verificationText = regexp.MustCompile(`^[A-Za-z0-9+/]{22}==$`)
	countText        = regexp.MustCompile(`^(0|[1-9][0-9]{0,5})$`)
)

// Decode reads the texts of the left and right codes back into fields. The
// texts are Go (UTF-8) strings, as Codes.Left and Codes.Right or as a scanner
// app shows them; for raw symbol bytes (Big5) use DecodeBytes. right may be
// empty when there is no right code; trailing spaces on it (padding) are
// ignored.
//
// Decode is strict: each malformed field gives a KindInvalid *posagent.Error
// naming the field and the rule (lengths, characters, a real calendar date,
// counts that agree with the items present, Base64 halves that decode alone).
func Decode(left, right string) (Fields, error) {
	if !utf8.ValidString(left) {
		return Fields{}, posagent.Invalid("left", "is not valid UTF-8 text (raw Big5 symbol bytes go to DecodeBytes)")
	}
	if !utf8.ValidString(right) {
		return Fields{}, posagent.Invalid("right", "is not valid UTF-8 text (raw Big5 symbol bytes go to DecodeBytes)")
	}
	var f Fields
	if err := f.decodeHead(left); err != nil {
		return Fields{}, err
	}
	rest, hasItems, err := f.decodeExtension(left[headLen:])
	if err != nil {
		return Fields{}, err
	}
	if right != "" && !strings.HasPrefix(right, rightMark) {
		return Fields{}, posagent.Invalid("right", "must start with **")
	}
	rightData := strings.TrimRight(strings.TrimPrefix(right, rightMark), " ")

	var fields []string
	if f.Encoding == Base64 {
		fields, err = base64Fields(rest, rightData)
	} else {
		fields, err = textFields(rest, hasItems, rightData)
	}
	if err != nil {
		return Fields{}, err
	}
	if err := f.decodeItems(fields, right); err != nil {
		return Fields{}, err
	}
	return f, nil
}

// DecodeBytes is Decode for the raw bytes of the symbols: Big5 when field 12
// says 0, UTF-8 otherwise.
func DecodeBytes(left, right []byte) (Fields, error) {
	if encodingOfBytes(left) != Big5 {
		return Decode(string(left), string(right))
	}
	l, err := fromBig5(left, "left")
	if err != nil {
		return Fields{}, err
	}
	r, err := fromBig5(right, "right")
	if err != nil {
		return Fields{}, err
	}
	return Decode(l, r)
}

// encodingOfBytes reads field 12 from raw left bytes. Big5 trail bytes are
// 0x40 or more, so a ':' byte is always a separator.
func encodingOfBytes(left []byte) Encoding {
	if len(left) <= headLen {
		return UTF8
	}
	parts := bytes.SplitN(left[headLen:], []byte(":"), 6)
	if len(parts) >= 5 && string(parts[4]) == "0" {
		return Big5
	}
	return UTF8
}

func (f *Fields) decodeHead(left string) error {
	if len(left) < headLen {
		return posagent.Invalid("left", "is %d bytes; fields 1 to 8 alone are %d characters", len(left), headLen)
	}
	for i := 0; i < headLen; i++ {
		if left[i] >= utf8.RuneSelf {
			return posagent.Invalid("left", "fields 1 to 8 (the first %d characters) must be ASCII; byte %d is not", headLen, i)
		}
	}
	number, date, random := left[0:10], left[10:17], left[17:21]
	sales, total := left[21:29], left[29:37]
	buyer, seller, verification := left[37:45], left[45:53], left[53:77]
	if !numberText.MatchString(number) {
		return posagent.Invalid("number", "field 1 %q is not two uppercase letters and eight digits", number)
	}
	f.Number = posagent.InvoiceNumber(number)
	if !rocDateText.MatchString(date) {
		return posagent.Invalid("date", "field 2 %q is not a 7-digit ROC date yyyMMdd", date)
	}
	y, _ := strconv.Atoi(date[:3])
	m, _ := strconv.Atoi(date[3:5])
	d, _ := strconv.Atoi(date[5:])
	t := time.Date(y+1911, time.Month(m), d, 0, 0, 0, 0, posagent.Taipei)
	if y < 1 || t.Year() != y+1911 || int(t.Month()) != m || t.Day() != d {
		return posagent.Invalid("date", "field 2 %q is not a real calendar date (ROC year %03d, month %02d, day %02d)", date, y, m, d)
	}
	f.Date = t
	if !randomText.MatchString(random) {
		return posagent.Invalid("random_code", "field 3 %q is not 4 digits", random)
	}
	f.RandomCode = random
	if !hexAmountText.MatchString(sales) {
		return posagent.Invalid("sales_amount", "field 4 %q is not 8 hex digits", sales)
	}
	if !hexAmountText.MatchString(total) {
		return posagent.Invalid("total", "field 5 %q is not 8 hex digits", total)
	}
	s, _ := strconv.ParseInt(sales, 16, 64)
	tt, _ := strconv.ParseInt(total, 16, 64)
	if tt == 0 {
		return posagent.Invalid("total", "field 5 is 0: there is no zero invoice")
	}
	if s > tt {
		return posagent.Invalid("sales_amount", "field 4 (%d) is more than the total (%d)", s, tt)
	}
	f.SalesAmount, f.Total = s, tt
	if !taxIDText.MatchString(buyer) {
		return posagent.Invalid("buyer_tax_id", "field 6 %q is not 8 digits", buyer)
	}
	if !taxIDText.MatchString(seller) {
		return posagent.Invalid("seller_tax_id", "field 7 %q is not 8 digits", seller)
	}
	f.BuyerTaxID, f.SellerTaxID = buyer, seller
	if !verificationText.MatchString(verification) {
		return posagent.Invalid("verification", "field 8 %q is not 22 Base64 characters and ==", verification)
	}
	f.Verification = verification
	return nil
}

// decodeExtension reads fields 9–12 and returns what follows them on the left
// (after the ':' that precedes it) and whether anything did.
func (f *Fields) decodeExtension(s string) (rest string, hasRest bool, err error) {
	if s == "" {
		return "", false, posagent.Invalid("seller_area", "fields 9 to 12 are missing: the left ends after field 8")
	}
	if s[0] != ':' {
		return "", false, posagent.Invalid("left", "field 9 must follow field 8 after ':'")
	}
	parts := strings.SplitN(s[1:], ":", 5)
	if len(parts) < 4 {
		names := []string{"seller_area", "items_recorded", "items_total", "encoding"}
		return "", false, posagent.Invalid(names[len(parts)], "field %d is missing", 9+len(parts))
	}
	area, rec, tot, enc := parts[0], parts[1], parts[2], parts[3]
	if n := utf8.RuneCountInString(area); n != 10 {
		return "", false, posagent.Invalid("seller_area", "field 9 is %d characters, not 10", n)
	}
	f.SellerArea = area
	if !countText.MatchString(rec) {
		return "", false, posagent.Invalid("items_recorded", "field 10 %q is not a count (digits, no leading zero)", rec)
	}
	if !countText.MatchString(tot) {
		return "", false, posagent.Invalid("items_total", "field 11 %q is not a count (digits, no leading zero)", tot)
	}
	f.ItemsRecorded, _ = strconv.Atoi(rec)
	f.ItemsTotal, _ = strconv.Atoi(tot)
	if f.ItemsRecorded > f.ItemsTotal {
		return "", false, posagent.Invalid("items_recorded", "field 10 (%d) is more than the invoice's %d items (field 11)", f.ItemsRecorded, f.ItemsTotal)
	}
	switch enc {
	case "0":
		f.Encoding = Big5
	case "1":
		f.Encoding = UTF8
	case "2":
		f.Encoding = Base64
	default:
		return "", false, posagent.Invalid("encoding", "field 12 %q is not 0 (Big5), 1 (UTF-8) or 2 (Base64)", enc)
	}
	if len(parts) == 5 {
		return parts[4], true, nil
	}
	return "", false, nil
}

// textFields joins the item data of a Big5 or UTF-8 pair and splits it into
// fields. The left must stop after a whole triple and its ':'.
func textFields(left string, hasLeft bool, right string) ([]string, error) {
	if right != "" {
		if !hasLeft || (left != "" && !strings.HasSuffix(left, ":")) {
			return nil, posagent.Invalid("right", "continues the items, but the left does not end with ':' after a whole name:quantity:price")
		}
		if left != "" && strings.Count(left, ":")%3 != 0 {
			return nil, posagent.Invalid("left", "splits an item: the left must end after a whole name:quantity:price")
		}
		return strings.Split(left+right, ":"), nil
	}
	// A ':' closing a left with nothing on the right is tolerated: vendors differ.
	left = strings.TrimSuffix(left, ":")
	if left == "" {
		return nil, nil
	}
	return strings.Split(left, ":"), nil
}

// base64Fields decodes each half of a Base64 pair on its own (MOF cuts the
// Base64 text at a multiple of 4) and splits the UTF-8 item text.
func base64Fields(left, right string) ([]string, error) {
	l, err := base64.StdEncoding.Strict().DecodeString(left)
	if err != nil {
		return nil, posagent.Invalid("left", "the item data is not Base64 that decodes on its own (cut at a multiple of 4): %v", err)
	}
	r, err := base64.StdEncoding.Strict().DecodeString(right)
	if err != nil {
		return nil, posagent.Invalid("right", "the item data is not Base64 that decodes on its own (cut at a multiple of 4): %v", err)
	}
	text := append(l, r...)
	if !utf8.Valid(text) {
		return nil, posagent.Invalid("items", "the Base64 item data is not UTF-8 text")
	}
	if len(text) == 0 {
		return nil, nil
	}
	return strings.Split(string(text), ":"), nil
}

// decodeItems reads name:quantity:price triples and an optional remark, and
// checks them against field 10.
func (f *Fields) decodeItems(fields []string, right string) error {
	whole, extra := len(fields)/3, len(fields)%3
	if whole != f.ItemsRecorded || extra > 1 {
		hint := ""
		if right == "" && whole < f.ItemsRecorded {
			hint = "; is the right code missing?"
		}
		return posagent.Invalid("items_recorded", "field 10 says %d items, but the codes hold %d fields (%d whole name:quantity:price items)%s",
			f.ItemsRecorded, len(fields), whole, hint)
	}
	f.Items = make([]Item, whole)
	for i := range f.Items {
		name, qty, price := fields[3*i], fields[3*i+1], fields[3*i+2]
		field := "items[" + strconv.Itoa(i) + "]"
		if name == "" {
			return posagent.Invalid(field+".name", "is empty")
		}
		q, err := posagent.ParseDecimal(qty)
		if err != nil {
			return posagent.Invalid(field+".quantity", "%q is not a decimal number", qty)
		}
		p, err := posagent.ParseDecimal(price)
		if err != nil {
			return posagent.Invalid(field+".unit_price", "%q is not a decimal number", price)
		}
		f.Items[i] = Item{Name: name, Quantity: q, UnitPrice: p}
	}
	if extra == 1 {
		f.Remark = fields[len(fields)-1]
	}
	return nil
}

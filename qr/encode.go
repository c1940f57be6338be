package qr

import (
	"encoding/base64"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/posagent/posagent"
)

// DefaultSellerArea fills field 9 (營業人自行使用區) when the seller does not use it.
const DefaultSellerArea = "**********"

// Options say how the QR texts are built.
type Options struct {
	// Encoding of the item text; the zero value is UTF8, the MOF's safe default.
	Encoding Encoding
	// MaxVersion is the largest QR version the printer prints legibly: 6 to 40,
	// 0 for the default 9.
	MaxVersion int
	// PadRight pads the right text with trailing spaces so that a printer that
	// picks the version itself from the data picks the left's version for the
	// right too, and both symbols come out the same size: under both encoder
	// models of Predict where spaces can do it, else for a byte-mode encoder.
	// Codes.NativeSafe says which it achieved.
	PadRight bool
	// SellerArea is field 9: exactly 10 printable ASCII characters without ':';
	// empty for the default "**********".
	SellerArea string
}

// DefaultOptions are UTF-8, versions 6 to 9, no padding, field 9 unused.
func DefaultOptions() Options {
	return Options{Encoding: UTF8, MaxVersion: DefaultMaxVersion, SellerArea: DefaultSellerArea}
}

var sellerAreaText = regexp.MustCompile(`^[\x20-\x39\x3B-\x7E]{10}$`)

func (o Options) normalize() (Options, error) {
	if !o.Encoding.Valid() {
		return o, posagent.Invalid("encoding", "%d is not an encoding: UTF8, Big5 or Base64", int(o.Encoding))
	}
	if o.MaxVersion == 0 {
		o.MaxVersion = DefaultMaxVersion
	}
	if o.MaxVersion < MinVersion || o.MaxVersion > MaxQRVersion {
		return o, posagent.Invalid("max_version", "%d is not a QR version from %d to %d", o.MaxVersion, MinVersion, MaxQRVersion)
	}
	if o.SellerArea == "" {
		o.SellerArea = DefaultSellerArea
	}
	if !sellerAreaText.MatchString(o.SellerArea) {
		return o, posagent.Invalid("seller_area", "field 9 must be exactly 10 printable ASCII characters without ':'")
	}
	return o, nil
}

// Codes are the texts printed on the proof.
type Codes struct {
	Barcode     string // 19 chars: period code + number + random code
	Left, Right string // the QR texts as Go (UTF-8) strings
	// Version is the QR version both symbols must be drawn at (error
	// correction L); both texts fit it in byte mode.
	Version int
	// ItemsRecorded is how many items the codes carry (field 10); fewer than
	// the invoice's lines when they did not all fit.
	ItemsRecorded int
}

// LeftBytes are the bytes to put in the left symbol: Big5 when the text's
// field 12 says Big5, its UTF-8 otherwise. The encoding is read from the text
// itself, so Codes restored from storage work as well.
func (c Codes) LeftBytes() []byte { return symbolBytes(c.Left, encodingOf(c.Left)) }

// RightBytes are the bytes of the right symbol, in the left's encoding.
func (c Codes) RightBytes() []byte { return symbolBytes(c.Right, encodingOf(c.Left)) }

func symbolBytes(s string, e Encoding) []byte {
	if e == Big5 {
		return big5Bytes(s)
	}
	return []byte(s)
}

// encodingOf reads field 12 from a left text; UTF-8 when it cannot.
func encodingOf(left string) Encoding {
	if len(left) <= headLen {
		return UTF8
	}
	parts := strings.SplitN(left[headLen:], ":", 6)
	if len(parts) >= 5 && parts[4] == "0" {
		return Big5
	}
	return UTF8
}

// Barcode is the 19-character Code 39 text (PosBarCode): the period code of the
// issue date in Taipei (ROC year and even month), the invoice number and the
// random code. No check character: MOF readers expect exactly 19.
func Barcode(inv posagent.Invoice) (string, error) {
	if err := checkIdentity(&inv); err != nil {
		return "", err
	}
	return barcode(&inv), nil
}

func barcode(inv *posagent.Invoice) string {
	return inv.Period().Code() + string(inv.Number) + inv.RandomCode
}

// Encode builds the barcode text and the two QR texts of an issued invoice.
//
// It checks what the texts need (number, random code, issue time, amounts,
// tax id formats, item names) and returns a *posagent.Error of kind invalid
// naming the field; the full invoice rules are inv.ValidateIssued's.
//
// Version and item rule: the texts are laid out for the smallest version from
// 6 to opt.MaxVersion at which both fit at error correction L in byte mode. If
// they do not fit even at MaxVersion, items are dropped from the end, and field
// 10 lowered, until they fit; ItemsRecorded says how many remain. See the
// package documentation for how the items are split between the codes.
func Encode(inv posagent.Invoice, key Key, opt Options) (Codes, error) {
	if err := checkInvoice(&inv); err != nil {
		return Codes{}, err
	}
	return encodeChecked(&inv, key.verification(string(inv.Number)+inv.RandomCode), opt)
}

// encodeWithVerification is Encode with the verification field given: the seam
// for the MOF example, whose key is not published.
func encodeWithVerification(inv posagent.Invoice, verification string, opt Options) (Codes, error) {
	if err := checkInvoice(&inv); err != nil {
		return Codes{}, err
	}
	if !verificationText.MatchString(verification) {
		return Codes{}, posagent.Invalid("verification", "is not 22 Base64 characters and ==")
	}
	return encodeChecked(&inv, verification, opt)
}

var taxIDText = regexp.MustCompile(`^[0-9]{8}$`)

func checkIdentity(inv *posagent.Invoice) error {
	switch {
	case inv.Number == "":
		return posagent.Invalid("number", "is required on an issued invoice")
	case !inv.Number.Valid():
		return posagent.Invalid("number", "%q is not two uppercase letters and eight digits", inv.Number)
	case inv.RandomCode == "":
		return posagent.Invalid("random_code", "is required on an issued invoice")
	case !posagent.ValidRandomCode(inv.RandomCode):
		return posagent.Invalid("random_code", "%q is not 4 digits", inv.RandomCode)
	case inv.IssuedAt.IsZero():
		return posagent.Invalid("issued_at", "is required on an issued invoice")
	}
	if y := posagent.ROCYear(inv.IssuedAt); y < 1 || y > 999 {
		return posagent.Invalid("issued_at", "ROC year %d does not fit the 3 digits of the codes", y)
	}
	return nil
}

func checkInvoice(inv *posagent.Invoice) error {
	if err := checkIdentity(inv); err != nil {
		return err
	}
	switch {
	case inv.Total <= 0:
		return posagent.Invalid("total", "must be more than 0: there is no zero or negative invoice")
	case inv.Total > posagent.MaxQRTotal:
		return posagent.Invalid("total", "%d does not fit the 8 hex digits of the QR code", inv.Total)
	case inv.SalesAmount < 0:
		return posagent.Invalid("sales_amount", "must not be negative")
	case inv.SalesAmount > inv.Total:
		return posagent.Invalid("sales_amount", "%d is more than the total %d", inv.SalesAmount, inv.Total)
	case !taxIDText.MatchString(inv.Seller.TaxID):
		return posagent.Invalid("seller.tax_id", "%q is not 8 digits", inv.Seller.TaxID)
	case inv.Buyer.TaxID != "" && !taxIDText.MatchString(inv.Buyer.TaxID):
		return posagent.Invalid("buyer.tax_id", "%q is not 8 digits", inv.Buyer.TaxID)
	}
	for i, it := range inv.Items {
		field := "items[" + strconv.Itoa(i) + "].name"
		switch {
		case it.Name == "":
			return posagent.Invalid(field, "is required")
		case !utf8.ValidString(it.Name):
			return posagent.Invalid(field, "is not valid UTF-8")
		}
		for _, r := range it.Name {
			if unicode.IsControl(r) {
				return posagent.Invalid(field, "contains the control character %U", r)
			}
		}
	}
	return nil
}

// fieldsOf lays the invoice out as the fields the codes carry, every item
// recorded; item names are made safe for the encoding.
func fieldsOf(inv *posagent.Invoice, verification string, opt Options) Fields {
	buyer := inv.Buyer.TaxID
	if buyer == "" {
		buyer = posagent.ConsumerTaxID
	}
	f := Fields{
		Number:        inv.Number,
		Date:          dateOf(inv.IssuedAt),
		RandomCode:    inv.RandomCode,
		SalesAmount:   inv.SalesAmount,
		Total:         inv.Total,
		BuyerTaxID:    buyer,
		SellerTaxID:   inv.Seller.TaxID,
		Verification:  verification,
		SellerArea:    opt.SellerArea,
		ItemsRecorded: len(inv.Items),
		ItemsTotal:    len(inv.Items),
		Encoding:      opt.Encoding,
		Items:         make([]Item, len(inv.Items)),
	}
	for i, it := range inv.Items {
		f.Items[i] = Item{Name: itemName(it.Name, opt.Encoding), Quantity: it.Quantity, UnitPrice: it.UnitPrice}
	}
	return f
}

// itemName makes a name safe for the codes: ':' separates fields, so it becomes
// the fullwidth colon, and in Big5 mode what Big5 lacks becomes '？'.
func itemName(name string, e Encoding) string {
	name = strings.ReplaceAll(name, ":", "：")
	if e == Big5 {
		name = big5Safe(name)
	}
	return name
}

// layout is a candidate split of the item data between the codes, measured in
// symbol bytes.
type layout struct {
	left, right int // bytes of the left and right texts
	cut         int // items (Big5/UTF-8) or Base64 characters (Base64) on the left
}

// planner finds the version and split for one invoice.
type planner struct {
	f       *Fields
	triples []string // name:qty:price per item, already made safe
	lens    []int    // each triple's length in symbol bytes
	b64     []int    // Base64 mode: UTF-8 length of the item text of the first n items
}

func newPlanner(f *Fields) *planner {
	p := &planner{f: f, triples: make([]string, len(f.Items)), lens: make([]int, len(f.Items))}
	for i, it := range f.Items {
		p.triples[i] = it.triple()
		if f.Encoding == Big5 {
			p.lens[i] = big5Len(p.triples[i])
		} else {
			p.lens[i] = len(p.triples[i])
		}
	}
	if f.Encoding == Base64 {
		p.b64 = make([]int, len(f.Items)+1)
		for i, l := range p.lens {
			p.b64[i+1] = p.b64[i] + l
			if i > 0 {
				p.b64[i+1]++ // the ':' between triples
			}
		}
	}
	return p
}

// prefixLen is the length of the left's fixed part (head and fields 9–12) with
// n items recorded; all of it is ASCII.
func (p *planner) prefixLen(n int) int {
	return headLen + 1 + len(p.f.SellerArea) + 1 + digits(n) + 1 + digits(p.f.ItemsTotal) + 2
}

func digits(n int) int { return len(strconv.Itoa(n)) }

// fit finds the split of the first n items at version v, or false when none
// fits. Among the splits where both texts fit, it takes the one with the
// fewest items (Base64: characters) on the left that still make the left need
// version v by itself; if no split does, the one with the most on the left.
// So the left reaches the chosen version on its own, as MOF wants the left at
// version 6 or more, and a printer that sizes each symbol itself draws the left
// at that version (the right can be padded to match, Options.PadRight).
func (p *planner) fit(n, v int) (layout, bool) {
	limit, below := Capacity(v), Capacity(v-1)
	best, found := layout{}, false
	consider := func(l layout) (done bool) {
		if l.left > limit {
			return true // the left only grows from here
		}
		if l.right > limit {
			return false
		}
		if l.left > below {
			best, found = l, true
			return true
		}
		best, found = l, true // the largest so far; a later cut may reach v
		return false
	}
	pre := p.prefixLen(n)
	if p.f.Encoding == Base64 {
		if n == 0 {
			l := layout{left: pre, right: 2}
			return l, l.left <= limit
		}
		chars := base64.StdEncoding.EncodedLen(p.b64[n])
		for c := 0; c <= chars; c += 4 {
			if consider(layout{left: pre + 1 + c, right: 2 + chars - c, cut: c}) {
				break
			}
		}
		return best, found
	}
	rest := 0 // bytes of items k..n-1 joined by ':'
	for i := 0; i < n; i++ {
		rest += p.lens[i]
	}
	if n > 0 {
		rest += n - 1
	}
	left := pre
	for k := 0; k <= n; k++ {
		l := layout{left: left, right: 2, cut: k}
		if k < n {
			l.left++ // the ':' before the right's first item
			l.right += rest
		}
		if consider(l) {
			break
		}
		if k < n {
			left += 1 + p.lens[k]
			rest -= p.lens[k]
			if k < n-1 {
				rest-- // the ':' after item k
			}
		}
	}
	return best, found
}

// plan chooses the number of items recorded, the version and the split.
func (p *planner) plan(maxVersion int) (n, version int, l layout) {
	total := len(p.triples)
	smallest := func(n int) (int, layout, bool) {
		for v := MinVersion; v <= maxVersion; v++ {
			if l, ok := p.fit(n, v); ok {
				return v, l, true
			}
		}
		return 0, layout{}, false
	}
	if v, l, ok := smallest(total); ok {
		return total, v, l
	}
	// Fewer items never need more room, so the most items that fit at
	// maxVersion can be found by bisection: lo fits, hi does not.
	lo, hi := 0, total
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if _, ok := p.fit(mid, maxVersion); ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	v, l, ok := smallest(lo)
	if !ok {
		panic("qr: the head alone does not fit the largest version")
	}
	return lo, v, l
}

func encodeChecked(inv *posagent.Invoice, verification string, opt Options) (Codes, error) {
	opt, err := opt.normalize()
	if err != nil {
		return Codes{}, err
	}
	f := fieldsOf(inv, verification, opt)
	p := newPlanner(&f)
	n, version, l := p.plan(opt.MaxVersion)
	f.ItemsRecorded = n
	left, right := p.texts(n, l)
	c := Codes{Barcode: barcode(inv), Left: left, Right: right, Version: version, ItemsRecorded: n}
	if opt.PadRight {
		c.Right += strings.Repeat(" ", c.rightPadding())
	}
	return c, nil
}

// rightPadding is how many trailing spaces make a printer that picks the
// version itself draw the right symbol at the left's version. Spaces are the
// one padding MOF readers are known to trim [S]; an optimising encoder packs
// them into an alphanumeric segment at 5.5 bits each, so matching it takes
// more of them than matching a byte-mode encoder. When the left's version is
// the same under both encoder models (Predict), the padding is the fewest
// spaces that give the right that version under both, if any number does
// within the version's byte capacity; otherwise it is the fewest that do
// under the byte model (Codes.NativeSafe then says the printer cannot be
// trusted with the codes).
func (c Codes) rightPadding() int {
	lp := Predict(c.LeftBytes())
	target, have := lp.Bytes, len(c.RightBytes())
	most := Capacity(target) - have
	if most < 0 {
		return 0 // the right is beyond the left's version: nothing to pad
	}
	byteOnly := max(0, Capacity(target-1)+1-have)
	if !lp.Certain() {
		return byteOnly
	}
	// VersionMixed only grows with trailing spaces, so the fewest that reach
	// target can be found by bisection.
	padded := func(n int) []byte {
		return append(c.RightBytes(), strings.Repeat(" ", n)...)
	}
	n := byteOnly + sort.Search(most-byteOnly+1, func(k int) bool {
		return VersionMixed(padded(byteOnly+k)) >= target
	})
	if n > most || VersionMixed(padded(n)) != target {
		return byteOnly
	}
	return n
}

// NativeSafe reports whether a printer that picks the symbol version itself
// (ESC/POS GS ( k) draws both codes at c.Version, whatever its encoder: both
// symbols' bytes take c.Version under both encoder models of Predict, and
// c.Version is at least MinVersion. When false, only the host can make the
// two symbols the same size with the left at version 6 or more: draw them as
// an image at c.Version.
func (c Codes) NativeSafe() bool {
	if c.Version < MinVersion {
		return false
	}
	for _, data := range [2][]byte{c.LeftBytes(), c.RightBytes()} {
		if p := Predict(data); p.Bytes != c.Version || p.Mixed != c.Version {
			return false
		}
	}
	return true
}

// texts writes the codes for n items split at l.cut.
func (p *planner) texts(n int, l layout) (left, right string) {
	var b strings.Builder
	b.WriteString(p.f.head())
	p.f.writeExtension(&b, n)
	if n == 0 {
		return b.String(), rightMark
	}
	if p.f.Encoding == Base64 {
		all := base64.StdEncoding.EncodeToString([]byte(strings.Join(p.triples[:n], ":")))
		b.WriteByte(':')
		b.WriteString(all[:l.cut])
		return b.String(), rightMark + all[l.cut:]
	}
	for _, t := range p.triples[:l.cut] {
		b.WriteByte(':')
		b.WriteString(t)
	}
	if l.cut == n {
		return b.String(), rightMark
	}
	b.WriteByte(':')
	return b.String(), rightMark + strings.Join(p.triples[l.cut:n], ":")
}

// rightMark starts every right code.
const rightMark = "**"

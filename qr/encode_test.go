package qr_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/qr"
)

func opts(enc qr.Encoding, maxVersion int, pad bool) qr.Options {
	return qr.Options{Encoding: enc, MaxVersion: maxVersion, PadRight: pad}
}

var encodings = []qr.Encoding{qr.Big5, qr.UTF8, qr.Base64}

func TestEncodeRejects(t *testing.T) {
	key := mustKey(t, vectorKey)
	for _, tc := range []struct {
		field string
		edit  func(*posagent.Invoice)
	}{
		{"number", func(inv *posagent.Invoice) { inv.Number = "" }},
		{"number", func(inv *posagent.Invoice) { inv.Number = "ab11223344" }},
		{"random_code", func(inv *posagent.Invoice) { inv.RandomCode = "" }},
		{"random_code", func(inv *posagent.Invoice) { inv.RandomCode = "12a4" }},
		{"issued_at", func(inv *posagent.Invoice) { inv.IssuedAt = time.Time{} }},
		{"issued_at", func(inv *posagent.Invoice) { inv.IssuedAt = time.Date(1911, 12, 31, 0, 0, 0, 0, posagent.Taipei) }},
		{"total", func(inv *posagent.Invoice) { inv.Total = 0 }},
		{"total", func(inv *posagent.Invoice) { inv.Total = -5 }},
		{"total", func(inv *posagent.Invoice) { inv.Total, inv.SalesAmount = 1<<32, 1 }},
		{"sales_amount", func(inv *posagent.Invoice) { inv.SalesAmount = -1 }},
		{"sales_amount", func(inv *posagent.Invoice) { inv.SalesAmount = 341 }},
		{"seller.tax_id", func(inv *posagent.Invoice) { inv.Seller.TaxID = "1234567" }},
		{"buyer.tax_id", func(inv *posagent.Invoice) { inv.Buyer.TaxID = "5321253X" }},
		{"items[1].name", func(inv *posagent.Invoice) { inv.Items[1].Name = "" }},
		{"items[2].name", func(inv *posagent.Invoice) { inv.Items[2].Name = "牛\n奶" }},
		{"items[0].name", func(inv *posagent.Invoice) { inv.Items[0].Name = "\xff" }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			inv := mofInvoice()
			tc.edit(&inv)
			_, err := qr.Encode(inv, key, qr.DefaultOptions())
			require.Error(t, err)
			require.Equal(t, posagent.KindInvalid, posagent.ErrorKind(err), "%v", err)
			require.Equal(t, tc.field, posagent.ErrorField(err), "%v", err)
			require.NotContains(t, err.Error(), vectorKey)
		})
	}
}

func TestEncodeRejectsOptions(t *testing.T) {
	key := mustKey(t, vectorKey)
	for _, tc := range []struct {
		field string
		opt   qr.Options
	}{
		{"encoding", qr.Options{Encoding: 3}},
		{"encoding", qr.Options{Encoding: -1}},
		{"max_version", qr.Options{Encoding: qr.UTF8, MaxVersion: 5}},
		{"max_version", qr.Options{Encoding: qr.UTF8, MaxVersion: 41}},
		{"seller_area", qr.Options{Encoding: qr.UTF8, SellerArea: "short"}},
		{"seller_area", qr.Options{Encoding: qr.UTF8, SellerArea: "12345:7890"}},
		{"seller_area", qr.Options{Encoding: qr.UTF8, SellerArea: "一二三四五六七八九十"}},
		{"seller_area", qr.Options{Encoding: qr.UTF8, SellerArea: "12345678901"}},
	} {
		_, err := qr.Encode(mofInvoice(), key, tc.opt)
		require.Error(t, err, "%+v", tc.opt)
		require.Equal(t, posagent.KindInvalid, posagent.ErrorKind(err))
		require.Equal(t, tc.field, posagent.ErrorField(err), "%v", err)
	}
}

func TestBarcodeRejects(t *testing.T) {
	inv := mofInvoice()
	inv.RandomCode = "999"
	_, err := qr.Barcode(inv)
	require.Equal(t, "random_code", posagent.ErrorField(err))
}

func TestEncodeDateIsTaipei(t *testing.T) {
	// 2013-05-22 20:00 UTC is 05-23 04:00 in Taipei; period 10206. And the
	// last moment of an odd month in Taipei is still its period.
	inv := mofInvoice()
	inv.IssuedAt = time.Date(2013, 5, 22, 20, 0, 0, 0, time.UTC)
	c, err := qr.EncodeWithVerification(inv, mofVerify, qr.DefaultOptions())
	require.NoError(t, err)
	require.Equal(t, mofU8Left, c.Left)
	require.Equal(t, "10206AB112233449999", c.Barcode)

	inv.IssuedAt = time.Date(2013, 4, 30, 16, 30, 0, 0, time.UTC) // 05-01 00:30 Taipei
	c, err = qr.EncodeWithVerification(inv, mofVerify, qr.DefaultOptions())
	require.NoError(t, err)
	require.Equal(t, "1020501", c.Left[10:17])
	require.Equal(t, "10206", c.Barcode[:5])
}

func TestEncodeHead(t *testing.T) {
	inv := mofInvoice()
	inv.Buyer.TaxID = "53212539"
	inv.Total, inv.SalesAmount, inv.TaxAmount = 0xABCDEF, 0xA3C6E3, 0xABCDEF-0xA3C6E3
	c, err := qr.Encode(inv, mustKey(t, vectorKey), qr.DefaultOptions())
	require.NoError(t, err)
	require.Equal(t, "00a3c6e3", c.Left[21:29], "sales amount in lowercase hex")
	require.Equal(t, "00abcdef", c.Left[29:37])
	require.Equal(t, "53212539", c.Left[37:45])
	require.Equal(t, "01234567", c.Left[45:53])
}

func TestEncodeItemText(t *testing.T) {
	inv := mofInvoice()
	inv.Items = []posagent.Item{
		{Name: "Tea: green", Quantity: dec("1.5"), UnitPrice: dec("33.33")},
		{Name: "折扣", Quantity: dec("1"), UnitPrice: dec("-10")},
		{Name: "咖啡😀ฏ", Quantity: dec("0.125"), UnitPrice: dec("100.0000001")},
	}
	inv.Total, inv.SalesAmount = 50, 48
	for _, enc := range encodings {
		c, err := qr.EncodeWithVerification(inv, mofVerify, qr.Options{Encoding: enc, SellerArea: "POS01-0001"})
		require.NoError(t, err)
		f, err := qr.Decode(c.Left, c.Right)
		require.NoError(t, err)
		require.Equal(t, "POS01-0001", f.SellerArea)
		require.Equal(t, "Tea： green", f.Items[0].Name)
		require.Equal(t, "1.5", f.Items[0].Quantity.String())
		require.Equal(t, "33.33", f.Items[0].UnitPrice.String())
		require.Equal(t, "-10", f.Items[1].UnitPrice.String())
		require.Equal(t, "100.0000001", f.Items[2].UnitPrice.String())
		if enc == qr.Big5 {
			require.Equal(t, "咖啡？？", f.Items[2].Name, "runes Big5 lacks show as ？")
			require.NotContains(t, c.Left+c.Right, "😀")
		} else {
			require.Equal(t, "咖啡😀ฏ", f.Items[2].Name)
		}
		if enc != qr.Base64 {
			require.Contains(t, c.Left+c.Right, "Tea： green:1.5:33.33")
		}
	}
}

// manyItems has n items with names of nameLen runes mixing CJK, letters and
// digits (segments a QR encoder may switch modes on).
func manyItems(n, nameLen int) []posagent.Item {
	items := make([]posagent.Item, n)
	for i := range items {
		name := []rune(strings.Repeat(fmt.Sprintf("茶%dA", i), nameLen))[:nameLen]
		items[i] = posagent.Item{Name: string(name), Quantity: dec("2"), UnitPrice: dec(fmt.Sprintf("%d.5", 10+i)), Amount: dec(fmt.Sprintf("%d", 2*(10+i)+1))}
	}
	return items
}

func invoiceWith(items []posagent.Item) posagent.Invoice {
	inv := mofInvoice()
	inv.Items = items
	inv.Total, _ = posagent.SumAmounts(items).RoundNTD()
	inv.SalesAmount = inv.Total * 100 / 105
	return inv
}

func TestManyItemsDropTrailing(t *testing.T) {
	key := mustKey(t, vectorKey)
	inv := invoiceWith(manyItems(60, 6))
	for _, enc := range encodings {
		t.Run(enc.String(), func(t *testing.T) {
			opt := opts(enc, 9, false)
			c, err := qr.Encode(inv, key, opt)
			require.NoError(t, err)
			require.Less(t, c.ItemsRecorded, 60)
			require.Positive(t, c.ItemsRecorded)
			require.Equal(t, 9, c.Version)
			checkCodes(t, inv, opt, c)

			f, err := qr.Decode(c.Left, c.Right)
			require.NoError(t, err)
			require.Equal(t, c.ItemsRecorded, f.ItemsRecorded)
			require.Equal(t, 60, f.ItemsTotal)
			require.Len(t, f.Items, c.ItemsRecorded)
			for i, it := range f.Items {
				require.Equal(t, inv.Items[i].Name, it.Name, "the leading items are kept in order")
			}

			// A larger printer takes them all, at the smallest version that holds them.
			opt = opts(enc, 40, false)
			c, err = qr.Encode(inv, key, opt)
			require.NoError(t, err)
			require.Equal(t, 60, c.ItemsRecorded)
			require.Less(t, c.Version, 40)
			checkCodes(t, inv, opt, c)
		})
	}
}

func TestLongNames(t *testing.T) {
	key := mustKey(t, vectorKey)
	long := strings.Repeat("長", 80) // 240 bytes UTF-8, 160 Big5
	inv := invoiceWith([]posagent.Item{
		{Name: "茶", Quantity: dec("1"), UnitPrice: dec("30"), Amount: dec("30")},
		{Name: long, Quantity: dec("1"), UnitPrice: dec("100"), Amount: dec("100")},
		{Name: "水", Quantity: dec("1"), UnitPrice: dec("20"), Amount: dec("20")},
	})
	want := map[qr.Encoding]int{
		qr.UTF8:   1, // 240 bytes fit neither code at version 9: the run ends before it
		qr.Big5:   3, // 160 bytes fit the right
		qr.Base64: 3, // the Base64 cut may fall inside the item, so it spans both codes
	}
	for _, enc := range encodings {
		opt := opts(enc, 9, false)
		c, err := qr.Encode(inv, key, opt)
		require.NoError(t, err)
		require.Equal(t, want[enc], c.ItemsRecorded, enc.String())
		checkCodes(t, inv, opt, c)
		f, err := qr.Decode(c.Left, c.Right)
		require.NoError(t, err)
		require.Len(t, f.Items, want[enc])
	}

	// An item too long for any version 9 symbol as the first item: nothing recorded.
	inv = invoiceWith([]posagent.Item{{Name: strings.Repeat("長", 100), Quantity: dec("1"), UnitPrice: dec("1"), Amount: dec("1")}})
	c, err := qr.Encode(inv, key, opts(qr.UTF8, 9, false))
	require.NoError(t, err)
	require.Zero(t, c.ItemsRecorded)
	require.Equal(t, "**", c.Right)
	require.True(t, strings.HasSuffix(c.Left, ":0:1:1"), c.Left)
	f, err := qr.Decode(c.Left, c.Right)
	require.NoError(t, err)
	require.Empty(t, f.Items)
	require.Equal(t, 1, f.ItemsTotal)
}

func TestSmallestVersionChosen(t *testing.T) {
	key := mustKey(t, vectorKey)
	seen := map[int]bool{}
	for n := 1; n <= 30; n++ {
		inv := invoiceWith(manyItems(n, 4))
		opt := opts(qr.UTF8, 15, false)
		c, err := qr.Encode(inv, key, opt)
		require.NoError(t, err)
		require.Equal(t, n, c.ItemsRecorded)
		checkCodes(t, inv, opt, c)
		seen[c.Version] = true
	}
	for v := 6; v <= 10; v++ {
		require.True(t, seen[v], "no invoice of 1 to 30 items landed on version %d", v)
	}
}

// The printer draws both symbols with go-qrcode at Codes.Version: every
// version and encoding the selection can produce must work, with and without
// padding.
func TestEveryVersionDrawsWithGoQRCode(t *testing.T) {
	key := mustKey(t, vectorKey)
	invoices := []posagent.Invoice{invoiceWith(manyItems(700, 1)), invoiceWith(manyItems(400, 5))}
	for _, enc := range encodings {
		seen := map[int]bool{}
		for maxV := qr.MinVersion; maxV <= qr.MaxQRVersion; maxV++ {
			for _, inv := range invoices {
				for _, pad := range []bool{false, true} {
					opt := opts(enc, maxV, pad)
					c, err := qr.Encode(inv, key, opt)
					require.NoError(t, err)
					require.Less(t, c.ItemsRecorded, len(inv.Items), "%s max %d: the test wants an overflow", enc, maxV)
					checkCodes(t, inv, opt, c)
					seen[c.Version] = true
				}
			}
		}
		for v := qr.MinVersion; v <= qr.MaxQRVersion; v++ {
			require.True(t, seen[v], "%s: no code at version %d", enc, v)
		}
	}
}

func TestPadRight(t *testing.T) {
	opt := qr.DefaultOptions()
	opt.PadRight = true
	c, err := qr.EncodeWithVerification(mofInvoice(), mofVerify, opt)
	require.NoError(t, err)
	require.Equal(t, mofU8Left, c.Left)
	require.Equal(t, mofRight+strings.Repeat(" ", 107-26), c.Right, "padded to 107 bytes, one over version 5")
	require.Equal(t, 6, qr.SmallestVersion(len(c.RightBytes())))
	f, err := qr.Decode(c.Left, c.Right)
	require.NoError(t, err)
	require.Equal(t, "牛奶", f.Items[2].Name)
	require.Equal(t, "25", f.Items[2].UnitPrice.String())
	checkCodes(t, mofInvoice(), opt, c)

	// Base64: the padding follows the Base64 text and is ignored on decoding.
	opt.Encoding = qr.Base64
	c, err = qr.EncodeWithVerification(mofInvoice(), mofVerify, opt)
	require.NoError(t, err)
	require.Equal(t, mofB64Rgt+strings.Repeat(" ", 107-46), c.Right)
	_, err = qr.Decode(c.Left, c.Right)
	require.NoError(t, err)
}

func TestLeftBytesFromStoredCodes(t *testing.T) {
	// Codes rebuilt from stored texts give the same symbol bytes.
	opt := qr.DefaultOptions()
	opt.Encoding = qr.Big5
	c, err := qr.EncodeWithVerification(mofInvoice(), mofVerify, opt)
	require.NoError(t, err)
	stored := qr.Codes{Left: c.Left, Right: c.Right, Version: c.Version}
	require.Equal(t, c.LeftBytes(), stored.LeftBytes())
	require.Equal(t, c.RightBytes(), stored.RightBytes())
	require.Len(t, stored.LeftBytes(), 108)
}

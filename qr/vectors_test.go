package qr_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/qr"
)

// The test vectors of mof-einvoice.md §10.

const (
	vectorKey  = "F1A618ED8685B1A3B81E6CB6884617F4"
	mofHead    = "AB112233441020523999900000144000001540000000001234567ydXZt4LAN1UHN/j1juVcRA=="
	mofVerify  = "ydXZt4LAN1UHN/j1juVcRA=="
	mofB5Left  = mofHead + ":**********:3:3:0:乾電池:1:105:"
	mofU8Left  = mofHead + ":**********:3:3:1:乾電池:1:105:"
	mofB64Left = mofHead + ":**********:3:3:2:5Lm+6Zu75rGg"
	mofRight   = "**口罩:1:210:牛奶:1:25"
	mofB64Rgt  = "**OjE6MTA1OuWPo+e9qToxOjIxMDrniZvlpbY6MToyNQ=="
)

func mustKey(t testing.TB, s string) qr.Key {
	t.Helper()
	k, err := qr.ParseKey(s)
	require.NoError(t, err)
	return k
}

func dec(s string) posagent.Decimal { return posagent.MustDecimal(s) }

// mofInvoice is the MOF worked example (§4.5): seller 01234567 (which fails the
// 統編 check sum, so only the qr package's format checks apply), a consumer,
// 324 + tax = 340 on 102/05/23.
func mofInvoice() posagent.Invoice {
	return posagent.Invoice{
		Number:      "AB11223344",
		RandomCode:  "9999",
		IssuedAt:    time.Date(2013, 5, 23, 14, 30, 0, 0, posagent.Taipei),
		Seller:      posagent.Seller{TaxID: "01234567", Name: "MOF example"},
		TaxType:     posagent.TaxTaxable,
		SalesAmount: 324, TaxAmount: 16, Total: 340,
		Items: []posagent.Item{
			{Name: "乾電池", Quantity: dec("1"), UnitPrice: dec("105"), Amount: dec("105")},
			{Name: "口罩", Quantity: dec("1"), UnitPrice: dec("210"), Amount: dec("210")},
			{Name: "牛奶", Quantity: dec("1"), UnitPrice: dec("25"), Amount: dec("25")},
		},
	}
}

func TestVectorA_Verification(t *testing.T) {
	got, err := mustKey(t, vectorKey).Verification("PL49821416", "5871")
	require.NoError(t, err)
	require.Equal(t, "E95eNqkzodO49TnX0I8vcg==", got)

	// Either case of hex is the same key.
	lower, err := mustKey(t, "f1a618ed8685b1a3b81e6cb6884617f4").Verification("PL49821416", "5871")
	require.NoError(t, err)
	require.Equal(t, got, lower)
}

func TestVectorA_ThroughEncode(t *testing.T) {
	inv := mofInvoice()
	inv.Number, inv.RandomCode = "PL49821416", "5871"
	c, err := qr.Encode(inv, mustKey(t, vectorKey), qr.DefaultOptions())
	require.NoError(t, err)
	require.Equal(t, "E95eNqkzodO49TnX0I8vcg==", c.Left[53:77])
	f, err := qr.Decode(c.Left, c.Right)
	require.NoError(t, err)
	require.NoError(t, f.Verify(mustKey(t, vectorKey)))
}

func TestVectorB_DeriveKey(t *testing.T) {
	require.Equal(t, "FE05F029154F6AA67A78B338ED2F6601", qr.DeriveKey("24634102").Hex())
	require.NotEqual(t, qr.DeriveKey("24634102"), qr.DeriveKey("24634103"))
}

func TestVectorC_Encode(t *testing.T) {
	for _, tc := range []struct {
		enc                   qr.Encoding
		left, right           string
		leftBytes, rightBytes int
	}{
		{qr.Big5, mofB5Left, mofRight, 108, 22},
		{qr.UTF8, mofU8Left, mofRight, 111, 26},
		{qr.Base64, mofB64Left, mofB64Rgt, 107, 46},
	} {
		t.Run(tc.enc.String(), func(t *testing.T) {
			opt := qr.DefaultOptions()
			opt.Encoding = tc.enc
			c, err := qr.EncodeWithVerification(mofInvoice(), mofVerify, opt)
			require.NoError(t, err)
			require.Equal(t, tc.left, c.Left)
			require.Equal(t, tc.right, c.Right)
			require.Len(t, c.LeftBytes(), tc.leftBytes)
			require.Len(t, c.RightBytes(), tc.rightBytes)
			require.Equal(t, 6, c.Version)
			require.Equal(t, 3, c.ItemsRecorded)
			require.Equal(t, "10206AB112233449999", c.Barcode)
		})
	}
}

func TestVectorC_Big5Bytes(t *testing.T) {
	opt := qr.DefaultOptions()
	opt.Encoding = qr.Big5
	c, err := qr.EncodeWithVerification(mofInvoice(), mofVerify, opt)
	require.NoError(t, err)
	// 乾電池 in Big5 is B0AE B971 A6C0; 口罩 A466 B86E; 牛奶 A4FB A5A4.
	require.Equal(t, []byte(mofHead+":**********:3:3:0:\xb0\xae\xb9\x71\xa6\xc0:1:105:"), c.LeftBytes())
	require.Equal(t, []byte("**\xa4\x66\xb8\x6e:1:210:\xa4\xfb\xa5\xa4:1:25"), c.RightBytes())
	f, err := qr.DecodeBytes(c.LeftBytes(), c.RightBytes())
	require.NoError(t, err)
	require.Equal(t, "乾電池", f.Items[0].Name)
	require.Equal(t, "牛奶", f.Items[2].Name)
}

func TestVectorC_Decode(t *testing.T) {
	for _, tc := range []struct {
		enc         qr.Encoding
		left, right string
	}{
		{qr.Big5, mofB5Left, mofRight},
		{qr.UTF8, mofU8Left, mofRight},
		{qr.Base64, mofB64Left, mofB64Rgt},
	} {
		t.Run(tc.enc.String(), func(t *testing.T) {
			f, err := qr.Decode(tc.left, tc.right)
			require.NoError(t, err)
			require.Equal(t, posagent.InvoiceNumber("AB11223344"), f.Number)
			require.True(t, f.Date.Equal(time.Date(2013, 5, 23, 0, 0, 0, 0, posagent.Taipei)), "date %v", f.Date)
			require.Equal(t, posagent.Taipei, f.Date.Location())
			require.Equal(t, "9999", f.RandomCode)
			require.Equal(t, int64(324), f.SalesAmount)
			require.Equal(t, int64(340), f.Total)
			require.Equal(t, "00000000", f.BuyerTaxID)
			require.Equal(t, "01234567", f.SellerTaxID)
			require.Equal(t, mofVerify, f.Verification)
			require.Equal(t, "**********", f.SellerArea)
			require.Equal(t, 3, f.ItemsRecorded)
			require.Equal(t, 3, f.ItemsTotal)
			require.Equal(t, tc.enc, f.Encoding)
			require.Empty(t, f.Remark)
			want := []struct{ name, qty, price string }{{"乾電池", "1", "105"}, {"口罩", "1", "210"}, {"牛奶", "1", "25"}}
			require.Len(t, f.Items, len(want))
			for i, w := range want {
				require.Equal(t, w.name, f.Items[i].Name)
				require.Equal(t, w.qty, f.Items[i].Quantity.String())
				require.Equal(t, w.price, f.Items[i].UnitPrice.String())
			}
			require.Equal(t, "10206", f.Period().Code())
			require.Equal(t, "10206AB112233449999", f.Barcode())
			// The example's key is unpublished: any key we have must fail.
			require.Error(t, f.Verify(mustKey(t, vectorKey)))
		})
	}
}

func TestVectorD_Barcode(t *testing.T) {
	inv := mofInvoice()
	inv.Number, inv.RandomCode = "UZ17690872", "0122"
	inv.IssuedAt = time.Date(2015, 4, 17, 13, 3, 0, 0, posagent.Taipei)
	got, err := qr.Barcode(inv)
	require.NoError(t, err)
	require.Equal(t, "10404UZ176908720122", got)

	c, err := qr.Encode(inv, mustKey(t, vectorKey), qr.DefaultOptions())
	require.NoError(t, err)
	require.Equal(t, "10404UZ176908720122", c.Barcode)
}

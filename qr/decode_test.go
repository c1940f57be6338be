package qr_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/qr"
)

// head with one field replaced: offsets and lengths as in §4.2.
func headWith(off int, s string) string { return mofHead[:off] + s + mofHead[off+len(s):] }

const ext = ":**********:3:3:1:乾電池:1:105:"

func TestDecodeRejects(t *testing.T) {
	for _, tc := range []struct {
		name, left, right, field, msg string
	}{
		{"empty", "", "", "left", "77"},
		{"truncated head", mofHead[:70], "", "left", "77"},
		{"non-ASCII head", "AB11223344一20523999900000144000001540000000001234567ydXZt4LAN1UHN/j1juVcR" + ext, mofRight, "left", "ASCII"},
		{"bad number", headWith(0, "Ab") + ext, mofRight, "number", "field 1"},
		{"date letters", headWith(10, "10205x3") + ext, mofRight, "date", "7-digit"},
		{"month 13", headWith(10, "1021323") + ext, mofRight, "date", "calendar"},
		{"february 30", headWith(10, "1020230") + ext, mofRight, "date", "calendar"},
		{"day 0", headWith(10, "1020500") + ext, mofRight, "date", "calendar"},
		{"year 0", headWith(10, "0000523") + ext, mofRight, "date", "calendar"},
		{"random code", headWith(17, "99 9") + ext, mofRight, "random_code", "4 digits"},
		{"bad hex sales", headWith(21, "0000014G") + ext, mofRight, "sales_amount", "hex"},
		{"short hex total", headWith(29, "-0000154") + ext, mofRight, "total", "hex"},
		{"zero total", headWith(21, "0000000000000000") + ext, mofRight, "total", "zero"},
		{"sales over total", headWith(21, "00000155") + ext, mofRight, "sales_amount", "more than"},
		{"buyer", headWith(37, "0000000A") + ext, mofRight, "buyer_tax_id", "8 digits"},
		{"seller", headWith(45, "0123456 ") + ext, mofRight, "seller_tax_id", "8 digits"},
		{"verification padding", headWith(75, "=A") + ext, mofRight, "verification", "Base64"},
		{"verification chars", headWith(53, "-") + ext, mofRight, "verification", "Base64"},
		{"no extension", mofHead, "", "seller_area", "missing"},
		{"no colon", mofHead + "**********:3:3:1", "", "left", "':'"},
		{"area short", mofHead + ":*********:3:3:1:乾電池:1:105:", mofRight, "seller_area", "not 10"},
		{"missing encoding", mofHead + ":**********:3:3", "", "encoding", "field 12 is missing"},
		{"missing counts", mofHead + ":**********", "", "items_recorded", "field 10 is missing"},
		{"count leading zero", mofHead + ":**********:03:3:1:乾電池:1:105:", mofRight, "items_recorded", "count"},
		{"count negative", mofHead + ":**********:3:-3:1:乾電池:1:105:", mofRight, "items_total", "count"},
		{"recorded over total", mofHead + ":**********:3:2:1:乾電池:1:105:", mofRight, "items_recorded", "more than"},
		{"encoding 3", mofHead + ":**********:3:3:3:乾電池:1:105:", mofRight, "encoding", "field 12"},
		{"right without **", mofU8Left, "口罩:1:210:牛奶:1:25", "right", "**"},
		{"recorded says more", mofHead + ":**********:4:4:1:乾電池:1:105:", mofRight, "items_recorded", "4 items"},
		{"recorded says fewer", mofHead + ":**********:2:3:1:乾電池:1:105:", mofRight, "items_recorded", "2 items"},
		{"right missing", mofU8Left, "", "items_recorded", "right code missing"},
		{"left splits an item", mofHead + ":**********:3:3:1:乾電池:1:", "**105:口罩:1:210:牛奶:1:25", "left", "splits"},
		{"left without colon", mofHead + ":**********:3:3:1:乾電池:1:105", mofRight, "right", "does not end"},
		{"left ends at field 12", mofHead + ":**********:3:3:1", "**乾電池:1:105:" + mofRight[2:], "right", "does not end"},
		{"quantity", mofHead + ":**********:3:3:1:乾電池:one:105:", mofRight, "items[0].quantity", "decimal"},
		{"price", mofU8Left, "**口罩:1:2,10:牛奶:1:25", "items[1].unit_price", "decimal"},
		{"price exponent", mofU8Left, "**口罩:1:1e3:牛奶:1:25", "items[1].unit_price", "decimal"},
		{"empty name", mofU8Left, "**:1:210:牛奶:1:25", "items[1].name", "empty"},
		{"invalid UTF-8 left", mofU8Left + "\xff", mofRight, "left", "UTF-8"},
		{"invalid UTF-8 right", mofU8Left, mofRight + "\xb0", "right", "UTF-8"},
		{"base64 garbage left", mofHead + ":**********:3:3:2:5Lm+6Zu7%%%%", mofB64Rgt, "left", "Base64"},
		{"base64 cut off 4", mofHead + ":**********:3:3:2:5Lm+6Zu75rG", "**g" + mofB64Rgt[2:], "left", "Base64"},
		{"base64 garbage right", mofB64Left, "**OjE6MTA1OuWPo+e9qToxOjIxMDrniZvlpbY6MToyNQ", "right", "Base64"},
		{"base64 not UTF-8", mofHead + ":**********:1:1:2://///w==", "**", "items", "UTF-8"},
		{"base64 count", mofHead + ":**********:2:3:2:5Lm+6Zu75rGg", mofB64Rgt, "items_recorded", "2 items"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := qr.Decode(tc.left, tc.right)
			require.Error(t, err)
			require.Equal(t, posagent.KindInvalid, posagent.ErrorKind(err), "%v", err)
			require.Equal(t, tc.field, posagent.ErrorField(err), "%v", err)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestDecodeTolerates(t *testing.T) {
	// Uppercase hex (seen in the wild).
	f, err := qr.Decode(headWith(21, "0000014A")+ext, mofRight)
	require.NoError(t, err)
	require.Equal(t, int64(0x14a), f.SalesAmount)

	// A left closing ':' with a bare right (vendors differ), with or without the right.
	for _, right := range []string{"**", "", "**   "} {
		f, err = qr.Decode(mofHead+":**********:1:1:1:乾電池:1:105:", right)
		require.NoError(t, err, "right %q", right)
		require.Len(t, f.Items, 1)
	}

	// Zero items, the left holding only fields 1–12; and a left ending in ':'
	// with all items on the right (as some vendors print).
	f, err = qr.Decode(mofHead+":**********:0:5:1", "**")
	require.NoError(t, err)
	require.Empty(t, f.Items)
	require.Equal(t, 5, f.ItemsTotal)
	f, err = qr.Decode(mofHead+":**********:3:3:1:", mofRight[:2]+"乾電池:1:105:"+mofRight[2:])
	require.NoError(t, err)
	require.Len(t, f.Items, 3)

	// A trailing remark after the items.
	f, err = qr.Decode(mofU8Left, mofRight+":謝謝光臨")
	require.NoError(t, err)
	require.Equal(t, "謝謝光臨", f.Remark)
	require.Len(t, f.Items, 3)

	// Decimals as written, compared exactly.
	f, err = qr.Decode(mofHead+":**********:1:1:1:米:0.500:12.25", "**")
	require.NoError(t, err)
	require.True(t, f.Items[0].Quantity.Equal(dec("0.5")))
	require.Equal(t, "12.25", f.Items[0].UnitPrice.String())
}

func TestDecodeBytesRejectsBadBig5(t *testing.T) {
	left := []byte(mofHead + ":**********:1:1:0:\xb0:1:105")
	_, err := qr.DecodeBytes(left, []byte("**"))
	require.Equal(t, "left", posagent.ErrorField(err), "%v", err)
	_, err = qr.DecodeBytes([]byte(mofHead+":**********:2:2:0:\xb0\xae:1:1:"), []byte("**\xff\xff:1:1"))
	require.Equal(t, "right", posagent.ErrorField(err), "%v", err)
	// UTF-8 symbols pass through.
	f, err := qr.DecodeBytes([]byte(mofU8Left), []byte(mofRight))
	require.NoError(t, err)
	require.Len(t, f.Items, 3)
}

func TestVerify(t *testing.T) {
	key := mustKey(t, vectorKey)
	c, err := qr.Encode(mofInvoice(), key, qr.DefaultOptions())
	require.NoError(t, err)
	f, err := qr.Decode(c.Left, c.Right)
	require.NoError(t, err)
	require.NoError(t, f.Verify(key))

	err = f.Verify(qr.DeriveKey("24634102"))
	require.Error(t, err)
	require.Equal(t, "verification", posagent.ErrorField(err))
	require.NotContains(t, err.Error(), "FE05F029")

	// An altered random code no longer matches.
	altered := c.Left[:17] + "9998" + c.Left[21:]
	f, err = qr.Decode(altered, c.Right)
	require.NoError(t, err)
	require.Error(t, f.Verify(key))

	// Uppercase and lowercase hex keys verify alike.
	f, err = qr.Decode(c.Left, c.Right)
	require.NoError(t, err)
	require.NoError(t, f.Verify(mustKey(t, strings.ToLower(vectorKey))))
}

package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/qr"
)

const (
	testKey     = "F1A618ED8685B1A3B81E6CB6884617F4" // MOF vector a
	consumerInv = "../../testdata/invoices/consumer.json"
	mofHead     = "AB112233441020523999900000144000001540000000001234567ydXZt4LAN1UHN/j1juVcRA=="
)

// runCLI is in ecpay_test.go.

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

func TestQRKey(t *testing.T) {
	code, out, _ := runCLI(t, "", "qr", "key", "24634102") // vector b
	require.Equal(t, 0, code)
	require.Equal(t, "FE05F029154F6AA67A78B338ED2F6601\n", out)

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"qr", "key"}, 2, "one seed"},
		{[]string{"qr", "key", "a", "b"}, 2, "one seed"},
		{[]string{"qr", "key", ""}, 1, "empty"},
		{[]string{"qr", "key", "密碼seed"}, 1, "printable ASCII"},
	} {
		code, out, errOut := runCLI(t, "", tc.args...)
		require.Equal(t, tc.code, code, "%v", tc.args)
		require.Empty(t, out)
		require.Contains(t, errOut, tc.msg)
		require.NotContains(t, errOut, "密碼seed", "the seed is echoed")
	}
}

func TestQREncode(t *testing.T) {
	code, out, errOut := runCLI(t, "", "qr", "encode", "--key", testKey, consumerInv)
	require.Equal(t, 0, code, errOut)
	require.Empty(t, errOut)
	got := lines(out)
	require.Len(t, got, 3)
	require.Equal(t, "11410AB112233449999", got[0])
	require.Equal(t, "AB1122334411409149999000001440000015400000000246341027W0SCJy6L9VQd+1hKtDvhQ==:**********:3:3:1:乾電池:1:105:", got[1])
	require.Equal(t, "**口罩:1:210:牛奶:1:25", got[2])

	// The texts decode and verify with the key.
	code, out, errOut = runCLI(t, "", "qr", "decode", "--key", testKey, got[1], got[2])
	require.Equal(t, 0, code, errOut)
	var d map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &d))
	require.Equal(t, true, d["verified"])
	require.Equal(t, "11410AB112233449999", d["barcode"])
}

func TestQREncodeVectorA(t *testing.T) {
	code, out, errOut := runCLI(t, "", "qr", "encode", "--key", testKey, "../../testdata/invoices/vector-a.json")
	require.Equal(t, 0, code, errOut)
	left := lines(out)[1]
	require.Equal(t, "PL49821416", left[:10])
	require.Equal(t, "E95eNqkzodO49TnX0I8vcg==", left[53:77])
}

const vectorDInvoice = `{"number":"UZ17690872","random_code":"0122","issued_at":"2015-04-17T13:03:00+08:00",
 "seller":{"tax_id":"24634102","name":"好日子"},"items":[{"name":"茶","quantity":1,"unit_price":25}]}`

func TestQREncodeVectorD(t *testing.T) {
	code, out, errOut := runCLI(t, vectorDInvoice, "qr", "encode", "-", "--key", testKey) // flags after the file
	require.Equal(t, 0, code, errOut)
	require.Equal(t, "10404UZ176908720122", lines(out)[0])
}

func TestQREncodeKeyFromEnvironment(t *testing.T) {
	t.Setenv(qrKeyEnv, strings.ToLower(testKey)+"\n")
	code, out, errOut := runCLI(t, "", "qr", "encode", consumerInv)
	require.Equal(t, 0, code, errOut)
	_, want, _ := runCLI(t, "", "qr", "encode", "--key", testKey, consumerInv)
	require.Equal(t, want, out)

	// --key wins over the environment.
	t.Setenv(qrKeyEnv, "not a key")
	code, _, errOut = runCLI(t, "", "qr", "encode", "--key", testKey, consumerInv)
	require.Equal(t, 0, code, errOut)
}

func TestQREncodeOptions(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		check func(t *testing.T, left, right string)
	}{
		{[]string{"--encoding", "big5"}, func(t *testing.T, left, right string) {
			require.Contains(t, left, ":3:3:0:乾電池:1:105:")
		}},
		{[]string{"--encoding", "base64"}, func(t *testing.T, left, right string) {
			require.True(t, strings.HasSuffix(left, ":3:3:2:5Lm+6Zu75rGg"), left)
			require.Equal(t, "**OjE6MTA1OuWPo+e9qToxOjIxMDrniZvlpbY6MToyNQ==", right)
		}},
		{[]string{"--pad-right"}, func(t *testing.T, left, right string) {
			require.Len(t, right, 107)
			require.Equal(t, "**口罩:1:210:牛奶:1:25", strings.TrimRight(right, " "))
		}},
		{[]string{"--seller-area", "POS01-0001", "--max-version", "6"}, func(t *testing.T, left, right string) {
			require.Contains(t, left, ":POS01-0001:3:3:1:")
		}},
	} {
		args := append([]string{"qr", "encode", "--key", testKey, consumerInv}, tc.args...)
		code, out, errOut := runCLI(t, "", args...)
		require.Equal(t, 0, code, "%v: %s", tc.args, errOut)
		got := lines(out)
		require.Len(t, got, 3)
		tc.check(t, got[1], got[2])
	}
}

func TestQREncodeDropsItemsWithNote(t *testing.T) {
	var items []string
	for i := range 40 {
		items = append(items, fmt.Sprintf(`{"name":"商品%02d","quantity":1,"unit_price":10}`, i))
	}
	inv := `{"number":"AB11223344","random_code":"0417","issued_at":"2025-10-02T09:15:30+08:00",
	  "seller":{"tax_id":"24634102","name":"好日子"},"items":[` + strings.Join(items, ",") + `]}`
	code, out, errOut := runCLI(t, inv, "qr", "encode", "--key", testKey, "-")
	require.Equal(t, 0, code, errOut)
	require.Len(t, lines(out), 3)
	require.Contains(t, errOut, "of 40 items")
	f, err := qr.Decode(lines(out)[1], lines(out)[2])
	require.NoError(t, err)
	require.Equal(t, 40, f.ItemsTotal)
	require.Less(t, f.ItemsRecorded, 40)
}

func TestQREncodeErrors(t *testing.T) {
	t.Setenv(qrKeyEnv, "")
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"no key", "", []string{consumerInv}, 2, "POSAGENT_QR_KEY"},
		{"short key", "", []string{"--key", "F1A618ED8685", consumerInv}, 1, "--key: a QR key is 32 hex characters, not 12"},
		{"non-hex key", "", []string{"--key", "Z1A618ED8685B1A3B81E6CB6884617F4", consumerInv}, 1, "other characters"},
		{"no file", "", []string{"--key", testKey}, 2, "one invoice file"},
		{"two files", "", []string{"--key", testKey, consumerInv, consumerInv}, 2, "one invoice file"},
		{"encoding", "", []string{"--key", testKey, "--encoding", "utf16", consumerInv}, 2, "utf16"},
		{"max version", "", []string{"--key", testKey, "--max-version", "5", consumerInv}, 1, "max_version"},
		{"seller area", "", []string{"--key", testKey, "--seller-area", "x:y", consumerInv}, 1, "seller_area"},
		{"missing file", "", []string{"--key", testKey, "no-such.json"}, 1, "no-such.json"},
		{"not JSON", "{", []string{"--key", testKey, "-"}, 1, "invoice -"},
		{"not issued", `{"seller":{"tax_id":"24634102","name":"x"},"items":[{"name":"茶","quantity":1,"unit_price":25}]}`,
			[]string{"--key", testKey, "-"}, 1, "number: is required on an issued invoice"},
		{"bad seller", strings.Replace(vectorDInvoice, "24634102", "01234567", 1), []string{"--key", testKey, "-"}, 1, "seller.tax_id"},
		{"unknown flag", "", []string{"--colour", consumerInv}, 2, "colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, append([]string{"qr", "encode"}, tc.args...)...)
			require.Equal(t, tc.code, code, errOut)
			require.Empty(t, out)
			require.Contains(t, errOut, tc.msg)
			for _, secret := range []string{testKey, "F1A618ED8685", "Z1A618ED8685"} {
				require.NotContains(t, errOut, secret, "the key is echoed")
			}
		})
	}

	t.Setenv(qrKeyEnv, "F1A6")
	code, _, errOut := runCLI(t, "", "qr", "encode", consumerInv)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "POSAGENT_QR_KEY: a QR key is 32 hex characters")
	require.NotContains(t, errOut, "F1A6")
}

// Vector c through the CLI: the MOF example's texts in all three encodings.
func TestQRDecodeVectorC(t *testing.T) {
	for _, tc := range []struct{ enc, left, right string }{
		{"big5", mofHead + ":**********:3:3:0:乾電池:1:105:", "**口罩:1:210:牛奶:1:25"},
		{"utf8", mofHead + ":**********:3:3:1:乾電池:1:105:", "**口罩:1:210:牛奶:1:25"},
		{"base64", mofHead + ":**********:3:3:2:5Lm+6Zu75rGg", "**OjE6MTA1OuWPo+e9qToxOjIxMDrniZvlpbY6MToyNQ=="},
	} {
		code, out, errOut := runCLI(t, "", "qr", "decode", tc.left, tc.right)
		require.Equal(t, 0, code, errOut)
		var d struct {
			Number, Date, Verification, Encoding, Period, Barcode string
			Items                                                 []struct {
				Name      string
				Quantity  json.Number
				UnitPrice json.Number `json:"unit_price"`
			}
		}
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&d))
		var raw map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &raw))
		require.Equal(t, "AB11223344", d.Number)
		require.Equal(t, "2013-05-23T00:00:00+08:00", d.Date)
		require.Equal(t, "9999", raw["random_code"])
		require.EqualValues(t, 324, raw["sales_amount"])
		require.EqualValues(t, 340, raw["total"])
		require.Equal(t, "00000000", raw["buyer_tax_id"])
		require.Equal(t, "01234567", raw["seller_tax_id"])
		require.Equal(t, "ydXZt4LAN1UHN/j1juVcRA==", d.Verification)
		require.Equal(t, "**********", raw["seller_area"])
		require.EqualValues(t, 3, raw["items_recorded"])
		require.EqualValues(t, 3, raw["items_total"])
		require.Equal(t, tc.enc, d.Encoding)
		require.Equal(t, "10206", d.Period)
		require.Equal(t, "10206AB112233449999", d.Barcode)
		require.Len(t, d.Items, 3)
		require.Equal(t, "口罩", d.Items[1].Name)
		require.Equal(t, "210", d.Items[1].UnitPrice.String())
		require.Equal(t, "1", d.Items[1].Quantity.String())
		require.NotContains(t, raw, "verified", "no key, no verdict")
	}
}

func TestQRDecodeVerification(t *testing.T) {
	_, out, _ := runCLI(t, "", "qr", "encode", "--key", testKey, consumerInv)
	got := lines(out)

	code, out, errOut := runCLI(t, "", "qr", "decode", got[1], got[2], "--key", "FE05F029154F6AA67A78B338ED2F6601")
	require.Equal(t, 1, code)
	require.Contains(t, out, `"verified": false`)
	require.Contains(t, errOut, "verification: does not match")
	require.NotContains(t, errOut, "FE05F029")

	// A left without the right it needs: the counts give it away.
	code, out, errOut = runCLI(t, "", "qr", "decode", "--key", testKey, strings.TrimSuffix(got[1], ":"))
	require.Equal(t, 1, code, "the left says 3 items and holds 1")
	require.Empty(t, out)
	require.Contains(t, errOut, "right code missing")
}

func TestQRDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no text", nil, 2, "left QR text"},
		{"three texts", []string{"a", "b", "c"}, 2, "left QR text"},
		{"truncated", []string{mofHead[:50]}, 1, "malformed code: left: is 50 bytes"},
		{"bad date", []string{strings.Replace(mofHead, "1020523", "1021340", 1) + ":**********:0:0:1"}, 1, "malformed code: date:"},
		{"bad hex", []string{strings.Replace(mofHead, "00000144", "0000014x", 1) + ":**********:0:0:1"}, 1, "sales_amount"},
		{"base64 garbage", []string{mofHead + ":**********:1:1:2:!!!!", "**"}, 1, "Base64"},
		{"counts", []string{mofHead + ":**********:2:2:1:茶:1:5", "**"}, 1, "items_recorded"},
		{"bad key", []string{"--key", "1234", mofHead + ":**********:0:0:1"}, 1, "--key: a QR key is 32 hex characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", append([]string{"qr", "decode"}, tc.args...)...)
			require.Equal(t, tc.code, code, errOut)
			require.Empty(t, out)
			require.Contains(t, errOut, tc.msg)
		})
	}
}

func TestQRDecodeRawBig5Argument(t *testing.T) {
	// 茶 in Big5 is AFF9: a raw symbol passed as an argument is read as Big5.
	left := mofHead + ":**********:1:1:0:\xaf\xf9:1:5"
	code, out, errOut := runCLI(t, "", "qr", "decode", left)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `"name": "茶"`)
}

func TestQRUsage(t *testing.T) {
	code, _, errOut := runCLI(t, "", "qr")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "posagent qr encode")
	code, _, errOut = runCLI(t, "", "qr", "frobnicate")
	require.Equal(t, 2, code)
	require.Contains(t, errOut, `unknown subcommand "frobnicate"`)
	code, out, _ := runCLI(t, "", "qr", "help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "POSAGENT_QR_KEY")
	code, out, _ = runCLI(t, "", "help")
	require.Equal(t, 0, code)
	require.Contains(t, out, "qr ")
}

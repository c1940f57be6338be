package ecpay

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/posagent/posagent"
)

const (
	fuzzKey = "ejCk326UnaZWKisg"
	fuzzIV  = "q9jcZX8Ib9LM8wYk"
)

func fuzzClient(tb testing.TB) *Client {
	c, err := New(Config{BaseURL: "http://127.0.0.1:1", MerchantID: "2000132", HashKey: fuzzKey, HashIV: fuzzIV})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// FuzzDecodeResponse feeds arbitrary answers to the response decoder: it must
// never panic, always return a known kind, and never put the keys or the
// decrypted text into an error.
func FuzzDecodeResponse(f *testing.F) {
	c := fuzzClient(f)
	enc := func(s string) string { return c.cipher.Encrypt([]byte(s)) }
	for _, seed := range []string{
		`{"MerchantID":"2000132","RpHeader":{"Timestamp":1525169058},"TransCode":1,"TransMsg":"","Data":"` + enc(`{"RtnCode":1,"RtnMsg":"成功","InvoiceInfo":[{"InvoiceTerm":1,"InvType":"07","InvoiceHeader":"AB","InvoiceStart":"10000000","InvoiceEnd":"10000049","Number":1}]}`) + `"}`,
		`{"MerchantID":"2000132","RpHeader":{"Timestamp":"1525169058"},"TransCode":"1","Data":"` + enc(`{"RtnCode":"1","RtnMsg":"","InvoiceInfo":"[{\"InvoiceTerm\":\"2\"}]"}`) + `"}`,
		`{"TransCode":1,"Data":"` + enc(`{"RtnCode":5000022,"RtnMsg":"金額錯誤"}`) + `"}`,
		`{"TransCode":1,"Data":"` + enc(`{"RtnCode":1,"InvoiceInfo":"not json"}`) + `"}`,
		`{"TransCode":0,"TransMsg":"Timestamp 已超過時效","Data":null}`,
		`{"TransCode":1,"Data":"null"}`,
		`{"TransCode":1,"Data":"AAAA"}`,
		`<html>502</html>`,
		``,
	} {
		f.Add(200, []byte(seed))
	}
	f.Add(403, []byte(""))
	f.Add(500, []byte("{}"))
	f.Fuzz(func(t *testing.T, status int, raw []byte) {
		if status < 100 || status > 599 {
			status = 200
		}
		var out struct {
			Result
			InvoiceInfo List[GovTrack] `json:"InvoiceInfo"`
		}
		err := c.decode(context.Background(), "GetGovInvoiceWordSetting", status, raw, 0, &out)
		switch k := posagent.ErrorKind(err); k {
		case "", posagent.KindInvalid, posagent.KindDuplicate, posagent.KindTransient, posagent.KindRateLimited,
			posagent.KindConfig, posagent.KindClock, posagent.KindNotFound, posagent.KindConflict:
		default:
			t.Fatalf("kind %q: %v", k, err)
		}
		if err != nil {
			msg := err.Error()
			if strings.Contains(msg, fuzzKey) || strings.Contains(msg, fuzzIV) {
				t.Fatalf("error holds a key: %s", msg)
			}
			// The decrypted Data may appear only in ECPay's own RtnMsg/TransMsg.
			if a := apiError(err); a == nil && strings.Contains(msg, "InvoiceInfo") {
				t.Fatalf("error holds plaintext: %s", msg)
			}
		}
	})
}

// FuzzRoundTrip: any bytes survive Encrypt then Decrypt.
func FuzzRoundTrip(f *testing.F) {
	c := fuzzClient(f)
	f.Add([]byte(`{"Name":"Test","ID":"A123456789"}`))
	f.Add([]byte("a b+c~%zz\x00\xff 咖啡"))
	f.Fuzz(func(t *testing.T, plain []byte) {
		got, err := c.cipher.Decrypt(c.cipher.Encrypt(plain))
		if err != nil || !bytes.Equal(got, plain) {
			t.Fatalf("round trip of %q = %q, %v", plain, got, err)
		}
	})
}

// FuzzDecrypt: arbitrary Data never panics.
func FuzzDecrypt(f *testing.F) {
	c := fuzzClient(f)
	f.Add("uvI4yrErM37XNQkXGAgRgJAgHn2t72jahaMZzYhWL1HmvH4WV18VJDP2i9pTbC+tby5nxVExLLFyAkbjbS2Dvg==")
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, data string) {
		_, _ = c.cipher.Decrypt(data)
	})
}

func BenchmarkEncrypt(b *testing.B) {
	c := fuzzClient(b)
	inv := posagent.Invoice{SaleID: "S1", Total: 100, TaxType: posagent.TaxTaxable, Print: true,
		Items: []posagent.Item{{Name: "咖啡", Quantity: posagent.MustDecimal("2"), UnitPrice: posagent.MustDecimal("50"), Amount: posagent.MustDecimal("100")}}}
	data := c.offlineIssue(inv)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.cipher.EncryptJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeResponse(b *testing.B) {
	c := fuzzClient(b)
	raw := []byte(`{"TransCode":1,"RpHeader":{"Timestamp":1},"Data":"` + c.cipher.Encrypt([]byte(`{"RtnCode":1,"RtnMsg":"成功","InvoiceNo":"AB12345678"}`)) + `"}`)
	b.ReportAllocs()
	for b.Loop() {
		var out struct {
			Result
			InvoiceNo Str `json:"InvoiceNo"`
		}
		if err := c.decode(context.Background(), "OfflineIssue", 200, raw, 0, &out); err != nil {
			b.Fatal(err)
		}
	}
}

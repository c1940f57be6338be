package invoicexpress

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/posagent/posagent"
)

func TestAmountsReadExactly(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		set, ok  bool
	}{
		{`"23.0"`, "23", true, true}, {`23`, "23", true, true}, {`23.0`, "23", true, true},
		{`"0.81"`, "0.81", true, true}, {`0.1`, "0.1", true, true},
		{`"12345678901234567890.123456789"`, "12345678901234567890.123456789", true, true},
		{`null`, "0", false, true}, {`""`, "0", false, true},
		{`"abc"`, "", false, false}, {`2.3e1`, "", false, false}, {`true`, "", false, false}, {`{}`, "", false, false},
	} {
		var a amount
		err := json.Unmarshal([]byte(tc.in), &a)
		if (err == nil) != tc.ok || (err == nil && (a.set != tc.set || a.d.String() != tc.want)) {
			t.Errorf("%s → %s set=%v err=%v; want %s set=%v ok=%v", tc.in, a.d, a.set, err, tc.want, tc.set, tc.ok)
		}
	}
}

func TestDecodeTaxes(t *testing.T) {
	got, err := decodeTaxes([]byte(`{"taxes":[
		{"id":1,"name":"IVA23","value":"23.0","region":"PT","default_tax":1},
		{"id":"2","name":"IVA6","value":6,"region":null,"default_tax":"0"},
		{"id":3,"name":"IVA0","value":0.0,"region":"PT","default_tax":false}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[0].Default || got[1].Default || got[0].Value.String() != "23" || got[1].ID != 2 || got[1].Region != "" || !got[2].Value.IsZero() {
		t.Fatalf("%+v", got)
	}
	for _, bad := range []string{`{}`, `{"taxes":[{"name":"X"}]}`, `{"taxes":[{"value":"1"}]}`, `{"taxes":{}}`, `[]`, `{"taxes":[{"name":"X","value":"1","default_tax":"maybe"}]}`} {
		if _, err := decodeTaxes([]byte(bad)); err == nil {
			t.Errorf("%s decoded", bad)
		}
	}
}

func TestDecodeDocumentKeys(t *testing.T) {
	const doc = `{"id":42,"status":"final","sequence_number":"6/G","atcud":"AAJFJ3VNTN-6","date":"17/06/2026","reference":"POS1-000123",
		"before_taxes":1.62,"taxes":"0.37","total":1.99,"client":{"name":"Consumidor Final","fiscal_id":"999999990"},
		"items":[{"name":"CAFE","description":"Café","unit_price":"0.81","quantity":"2.0","tax":{"name":"IVA23","value":23.0},"subtotal":1.62}]}`
	for _, tc := range []struct {
		typ  posagent.PTDocType
		body string
		ok   bool
	}{
		{posagent.PTInvoiceReceipt, `{"invoice_receipt":` + doc + `}`, true},
		{posagent.PTSimplifiedInvoice, `{"simplified_invoice":` + doc + `}`, true},
		{posagent.PTCreditNote, `{"invoice":` + doc + `}`, true}, // the documented generic key, alone
		{posagent.PTCreditNote, `{"invoice":` + doc + `,"x":1}`, false},
		{posagent.PTInvoiceReceipt, `{"credit_note":` + doc + `}`, false},
		{posagent.PTInvoiceReceipt, `{"invoice_receipt":null}`, false},
		{posagent.PTInvoiceReceipt, `{}`, false},
		{posagent.PTInvoiceReceipt, `{"invoice_receipt":{"status":"final"}}`, false},
		{posagent.PTInvoiceReceipt, `{"invoice_receipt":{"id":1}}`, false},
		{posagent.PTInvoiceReceipt, `{"invoice_receipt":{"id":1,"status":"final","date":"2026-06-17"}}`, false},
	} {
		d, err := decodeDocument(tc.typ, []byte(tc.body))
		if (err == nil) != tc.ok {
			t.Errorf("%s %.60s: %v, want ok=%v", tc.typ, tc.body, err, tc.ok)
			continue
		}
		if err == nil && (d.ID != 42 || d.ATCUD != "AAJFJ3VNTN-6" || d.Total.String() != "1.99" || d.VAT.String() != "0.37" ||
			d.Lines[0].Quantity.String() != "2" || d.Lines[0].VATRate.String() != "23" || d.Date.Format("2006-01-02") != "2026-06-17" || d.Type != tc.typ) {
			t.Errorf("decoded %+v", d)
		}
	}
	list, pg, err := decodeList(posagent.PTInvoiceReceipt, []byte(`{"invoice_receipts":[`+doc+`],"pagination":{"total_pages":3,"current_page":1}}`))
	if err != nil || len(list) != 1 || pg.Total != 3 {
		t.Fatalf("list: %v %+v %v", list, pg, err)
	}
	if _, _, err := decodeList(posagent.PTInvoiceReceipt, []byte(`{"credit_notes":[]}`)); err == nil {
		t.Fatal("a list under another type's key decoded")
	}
	if l, _, err := decodeList(posagent.PTInvoiceReceipt, []byte(`{"invoices":[],"pagination":{}}`)); err != nil || len(l) != 0 {
		t.Fatalf("the documented generic list key: %v %v", l, err)
	}
}

func TestDecodeSeriesCode(t *testing.T) {
	for _, tc := range []struct {
		body, code string
		ok         bool
	}{
		{`{"sequences":[{"serie":"G","default_sequence":1,"current_invoice_receipt_validation_code":"AAJFJ3VNTN"}]}`, "AAJFJ3VNTN", true},
		{`{"sequences":[{"serie":"F","default_sequence":0,"current_invoice_receipt_validation_code":"X"},{"serie":"G","default_sequence":"1","current_invoice_receipt_validation_code":"N/D"}]}`, "N/D", true},
		{`{"sequences":[{"serie":"G","current_invoice_receipt_validation_code":"N/A"}]}`, "N/A", true},
		{`{"sequences":[{"serie":"F","current_invoice_receipt_validation_code":"X"},{"serie":"G","current_invoice_receipt_validation_code":"Y"}]}`, "", false},
		{`{"sequences":[{"default_sequence":1,"current_invoice_receipt_validation_code":"A"},{"default_sequence":1,"current_invoice_receipt_validation_code":"B"}]}`, "", false},
		{`{"sequences":[{"default_sequence":1,"current_invoice_validation_code":"A"}]}`, "", false},
		{`{"sequences":[{"default_sequence":1,"current_invoice_receipt_validation_code":""}]}`, "", false},
		{`{"sequence":{}}`, "", false},
	} {
		_, code, err := decodeSeriesCode(posagent.PTInvoiceReceipt, []byte(tc.body))
		if (err == nil) != tc.ok || code != tc.code {
			t.Errorf("%s: %q %v, want %q ok=%v", tc.body, code, err, tc.code, tc.ok)
		}
	}
}

func TestRedact(t *testing.T) {
	c := &Client{key: "s3cr3t+/=", base: &url.URL{Scheme: "https", Host: "x.app.invoicexpress.com"}}
	if shown := fmt.Sprintf("%+v %#v", c, c); strings.Contains(shown, "s3cr3t") {
		t.Fatalf("printing a Client shows the key: %s", shown)
	}
	for _, in := range []string{
		`Get "https://x.app.invoicexpress.com/taxes.json?api_key=s3cr3t%2B%2F%3D": dial tcp: refused`,
		`key s3cr3t+/= leaked`, `?API_KEY=other&page=2`,
	} {
		out := c.Redact(in)
		if strings.Contains(out, "s3cr3t") || strings.Contains(out, "other") {
			t.Errorf("Redact(%q) = %q", in, out)
		}
	}
}

// FuzzDecodeDocument: any answer decodes to documents that have an id and a
// state, or to an error; never a panic, never a silent empty document.
func FuzzDecodeDocument(f *testing.F) {
	for _, s := range []string{
		`{"invoice_receipt":{"id":42,"status":"settled","sequence_number":"6/G","atcud":"A-6","date":"17/06/2026","total":"1.99","items":[{"name":"A","unit_price":"1","quantity":1,"tax":{"name":"IVA23","value":"23.0"}}]}}`,
		`{"invoice":{"id":"7","status":"draft","sequence_number":"rascunho"}}`,
		`{"invoice_receipts":[{"id":1,"status":"final"}],"pagination":{"total_pages":2}}`,
		`{"invoices":[]}`, `{"invoice_receipt":null}`, `{}`, `[]`, `null`, `<html>`, `{"invoice_receipt":{"id":-1}}`,
		`{"invoice_receipt":{"id":1,"status":"final","total":1e400}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, typ := range []posagent.PTDocType{posagent.PTInvoiceReceipt, posagent.PTCreditNote} {
			if d, err := decodeDocument(typ, raw); err == nil {
				if d.ID <= 0 || d.State == "" || d.Type != typ {
					t.Fatalf("decoded a document without id or state: %+v from %q", d, raw)
				}
				if d.State == StateDraft && (d.SequenceNumber != "" || d.ATCUD != "") {
					t.Fatalf("a draft with a number: %+v", d)
				}
			} else if !utf8.ValidString(err.Error()) && utf8.Valid(raw) {
				t.Fatalf("error text not UTF-8: %q", err.Error())
			}
			if docs, _, err := decodeList(typ, raw); err == nil {
				for _, d := range docs {
					if d.ID <= 0 || d.State == "" {
						t.Fatalf("listed a document without id or state: %+v", d)
					}
				}
			}
		}
	})
}

// FuzzAPIMessages: any error body yields bounded messages, never a panic.
func FuzzAPIMessages(f *testing.F) {
	for _, s := range []string{
		`{"errors":{"client":["is invalid"],"date":["can't be blank","is invalid"]}}`,
		`{"errors":[{"error":"Client is invalid"}]}`, `{"errors":["a","b"]}`, `{"error":"Cancel message can't be blank"}`,
		`{"message":"x"}`, `{"errors":"flat"}`, `{"errors":[{"message":"m"}]}`, `<html>`, ``, `{"errors":{"x":{"error":"deep"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		field, msgs := apiMessages(raw)
		for _, m := range msgs {
			if len(m) > 2*len(field)+1000 {
				t.Fatalf("message of %d bytes", len(m))
			}
		}
		if field != "" && len(msgs) == 0 && !strings.Contains(string(raw), "errors") {
			t.Fatalf("field %q without an errors object in %q", field, raw)
		}
	})
}

// FuzzDecodeSetup: taxes, sequences and the QR answer decode or fail cleanly.
func FuzzDecodeSetup(f *testing.F) {
	for _, s := range []string{
		`{"taxes":[{"id":1,"name":"IVA23","value":"23.0","region":"PT","default_tax":1}]}`,
		`{"sequences":[{"serie":"G","default_sequence":1,"current_invoice_receipt_validation_code":"N/D"}]}`,
		`{"qr_code":{"url":"https://x/qr.png"}}`, `{"qr_code":null}`, `{"taxes":null}`, `{"sequences":[null]}`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if taxes, err := decodeTaxes(raw); err == nil {
			for _, tx := range taxes {
				if tx.Name == "" {
					t.Fatalf("a tax without a name from %q", raw)
				}
			}
		}
		if _, code, err := decodeSeriesCode(posagent.PTInvoiceReceipt, raw); err == nil && code == "" {
			t.Fatalf("an empty series code from %q", raw)
		}
		if u, err := decodeQRURL(raw); err == nil && u == "" {
			t.Fatalf("an empty QR URL from %q", raw)
		}
	})
}

package agent

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
)

// issue10Sales are the sales of issue 10 that were issued, or issued wrongly:
// wrap-around amounts, the bound and one above, sums beyond it, duplicate and
// miscased keys, invalid UTF-8, zero and empty times, a love code with a carrier.
var issue10Sales = []string{
	`{"sale_id":"w-1","items":[{"name":"a","quantity":1,"unit_price":"18446744073709551716"}]}`,
	`{"sale_id":"w-2","items":[{"name":"a","quantity":1,"unit_price":18446744073709551716}]}`,
	`{"sale_id":"w-3","items":[{"name":"a","quantity":"4294967296","unit_price":"4294967296"},{"name":"b","quantity":1,"unit_price":100}]}`,
	`{"sale_id":"w-4","items":[{"name":"a","quantity":1,"unit_price":9223372036854775807},{"name":"b","quantity":1,"unit_price":9223372036854775807},{"name":"c","quantity":1,"unit_price":102}]}`,
	`{"sale_id":"w-5","items":[{"name":"a","quantity":1,"unit_price":"4294967295"}]}`,
	`{"sale_id":"w-6","items":[{"name":"a","quantity":1,"unit_price":"4294967296"}]}`,
	`{"sale_id":"w-7","items":[{"name":"a","quantity":1,"unit_price":2147483648},{"name":"b","quantity":1,"unit_price":2147483648}]}`,
	`{"sale_id":"w-8","items":[{"name":"a","quantity":"99999999","unit_price":"9999999999"}]}`,
	`{"sale_id":"w-9","total":18446744073709551716,"sales_amount":-9223372036854775808,"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"sale_id":"w-10","tax_amount":9223372036854775807,"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"sale_id":"A","sale_id":"B","items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"sale_id":"d-1","total":1,"total":100,"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"sale_id":"d-2","items":[{"name":"a","quantity":1,"quantity":5,"unit_price":100}]}`,
	`{"sale_id":"d-3","buyer":{"tax_id":"53212539"},"buyer":null,"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"SALE_ID":"c-1","ITEMS":[{"name":"a","quantity":1,"Unit_Price":100}]}`,
	"{\"sale_id\":\"u-1\",\"items\":[{\"name\":\"a\xff\xfeb\",\"quantity\":1,\"unit_price\":100}]}",
	`{"sale_id":"u-2","items":[{"name":"a\ud800b","quantity":1,"unit_price":100}]}`,
	"{\"sale_id\":\"u-3\",\"items\":[{\"name\":\"a\xc0\xafb\",\"quantity\":1,\"unit_price\":100}]}",
	`{"sale_id":"t-1","issued_at":"0001-01-01T00:00:00Z","items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"sale_id":"t-2","issued_at":"","items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"sale_id":"q-1","items":[{"name":"a","quantity":true,"unit_price":100}]}`,
	`{"sale_id":"l-1","love_code":"168001","carrier":{"type":"mobile","id":"/ABC+123"},"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
}

// issue10Allowances are the allowance bodies of issue 10, for FuzzAllowanceRequest.
var issue10Allowances = []string{
	`{"items":[{"name":"a","quantity":1,"unit_price":"18446744073709551716"}]}`,
	`{"items":[{"name":"a","quantity":"4294967296","unit_price":"4294967296"}]}`,
	`{"items":[{"name":"a","quantity":1,"unit_price":9223372036854775807},{"name":"b","quantity":1,"unit_price":9223372036854775807},{"name":"c","quantity":1,"unit_price":102}]}`,
	`{"items":[{"name":"a","quantity":1,"unit_price":2147483648},{"name":"b","quantity":1,"unit_price":2147483648}]}`,
	`{"total":18446744073709551716,"tax_amount":-9223372036854775808,"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"total":1,"total":100,"items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"Items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	"{\"reason\":\"a\xff\xfeb\",\"items\":[{\"name\":\"a\",\"quantity\":1,\"unit_price\":100}]}",
	`{"reason":"a\ud800b","items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"issued_at":"2099-01-01T00:00:00+08:00","items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"issued_at":"","items":[{"name":"a","quantity":1,"unit_price":100}]}`,
	`{"tax_amount":1000,"items":[{"name":"a","quantity":1,"unit_price":1000}]}`,
	`{"tax_amount":47,"items":[{"name":"a","quantity":1,"unit_price":1000}]}`,
	`{"items":[{"name":"a","quantity":1,"unit_price":50}],"reason":"少糖"}`,
}

// FuzzSaleRequest: whatever body a POS (or an attacker on the till) sends, the
// answer is never a 500, and a number is spent only when the answer says an
// invoice was issued.
func FuzzSaleRequest(f *testing.F) {
	f.Add(saleJSON("s-1", 55))
	f.Add(`{"sale_id":"s-2","buyer":{"tax_id":"53212539"},"items":[{"name":"a","quantity":"1.5","unit_price":"10.1"}]}`)
	f.Add(`{"sale_id":"s-3","carrier":{"type":"mobile","id":"/ABC+123"},"items":[{"name":"a","quantity":1,"unit_price":5}]}`)
	f.Add(`{"sale_id":"s-4","items":[{"name":"a","quantity":1e400,"unit_price":5}]}`)
	f.Add(`[]`)
	f.Add(`{"sale_id":"s-5","total":-1,"items":[{"name":"a","quantity":1,"unit_price":5}]}`)
	for _, seed := range issue10Sales {
		f.Add(seed)
	}
	c := &clock{t: time.Date(2025, 9, 14, 13, 3, 0, 0, time.UTC)}
	h := newHarness(f, c.Now, func(o *Options) { o.Printer = nil })
	if err := h.store.AddBooklet(context.Background(), posagent.Booklet{Track: "AC", First: 0, Last: 999_999, Period: PeriodOfNow(c.Now)}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		before, err := h.store.NumbersLeft(context.Background(), Owner{Seller: testSeller, Unowned: true}, PeriodOfNow(c.Now))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("POST", "/v1/sales", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		after, _ := h.store.NumbersLeft(context.Background(), Owner{Seller: testSeller, Unowned: true}, PeriodOfNow(c.Now))
		switch rec.Code {
		case http.StatusCreated:
			if after != before-1 {
				t.Fatalf("201 but %d numbers spent", before-after)
			}
		case http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusConflict,
			http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable:
			if after != before {
				t.Fatalf("%d but %d numbers spent: %s", rec.Code, before-after, rec.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("answer is not JSON: %s", rec.Body)
		}
	})
}

// FuzzAllowanceRequest: whatever allowance body arrives, the answer is never a
// 500, a refused allowance stores nothing, and what is accepted obeys the
// limits and the tax rule (it is within what is left of the invoice and its
// tax within NT$1 of the split).
func FuzzAllowanceRequest(f *testing.F) {
	for _, seed := range issue10Allowances {
		f.Add(seed)
	}
	f.Add(`[]`)
	f.Add(`{"items":[]}`)
	c := &clock{t: time.Date(2025, 9, 14, 13, 3, 0, 0, time.UTC)}
	h := newHarness(f, c.Now, func(o *Options) { o.Printer = nil })
	ctx := context.Background()
	res, err := h.agent.Sell(ctx, mustPrepare(f, h.agent, `{"sale_id":"fuzz-allow","items":[{"name":"拿鐵","quantity":1,"unit_price":"4294967295"}]}`))
	if err != nil {
		f.Fatal(err)
	}
	n := res.Invoice.Number
	f.Fuzz(func(t *testing.T, body string) {
		before, err := h.store.Invoice(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("POST", "/v1/invoices/"+string(n)+"/allowances", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		after, err := h.store.Invoice(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		switch rec.Code {
		case http.StatusCreated:
			if len(after.Allowances) != len(before.Allowances)+1 {
				t.Fatalf("201 but %d allowances stored", len(after.Allowances)-len(before.Allowances))
			}
			al := after.Allowances[len(after.Allowances)-1].Allowance
			want, err := al.DerivedTax(before.Invoice)
			if err != nil || al.Total <= 0 || al.Total > before.Remaining || al.TaxAmount-want > 1 || want-al.TaxAmount > 1 {
				t.Fatalf("accepted allowance breaks a rule: %+v (derived tax %d, %v; %d left)", al, want, err, before.Remaining)
			}
		case http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusConflict,
			http.StatusRequestEntityTooLarge:
			if len(after.Allowances) != len(before.Allowances) || after.Remaining != before.Remaining {
				t.Fatalf("%d but the allowances changed: %s", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
	})
}

func mustPrepare(t testing.TB, a *Agent, doc string) posagent.Invoice {
	t.Helper()
	var sale posagent.Invoice
	if err := sale.UnmarshalJSON([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	sale, err := a.PrepareSale(sale)
	if err != nil {
		t.Fatal(err)
	}
	return sale
}

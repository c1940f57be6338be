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
	c := &clock{t: time.Date(2025, 9, 14, 13, 3, 0, 0, time.UTC)}
	h := newHarness(f, c.Now, func(o *Options) { o.Printer = nil })
	if err := h.store.AddBooklet(context.Background(), posagent.Booklet{Track: "AC", First: 0, Last: 999_999, Period: PeriodOfNow(c.Now)}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		before, err := h.store.NumbersLeft(context.Background(), PeriodOfNow(c.Now))
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("POST", "/v1/sales", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		after, _ := h.store.NumbersLeft(context.Background(), PeriodOfNow(c.Now))
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

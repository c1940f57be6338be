package agent_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/invoicexpress/invoicexpresstest"
)

// Partial refunds: two credit notes for part of a sale, then one without
// items that takes exactly what is left; over-refunds and bad items refused
// with nothing queued; retries idempotent on the refund id.
func TestPTPartialRefunds(t *testing.T) {
	e := startPT(t, nil, invoicexpresstest.Options{})
	ctx := context.Background()
	code, _ := e.do(t, http.MethodPost, "/v1/sales", ptSale("P-1", "")) // CAFE 2 × 0.81 (23 %), PAO 1 × 1.20 (6 %)
	require.Equal(t, http.StatusCreated, code)
	sale := e.waitIssued(t, "P-1")
	refunds := func() int {
		rs, err := e.store.PTRefunds(ctx, "P-1")
		require.NoError(t, err)
		return len(rs)
	}

	code, out := e.do(t, http.MethodPost, "/v1/sales/P-1/credit-notes", `{"refund_id": "P-1-R1", "items": [{"sku": "CAFE", "quantity": 1}]}`)
	require.Equal(t, http.StatusAccepted, code, "%v", out)
	require.Equal(t, "P-1-R1", out["ref"])
	require.Equal(t, "1.00", e.entry(t, "P-1-R1").Total.Cents())

	for _, tc := range []struct {
		name, body, field, msg string
	}{
		{"more than is left", `{"refund_id": "P-1-X", "items": [{"sku": "CAFE", "quantity": 2}]}`, "items[0].quantity", "2 is more than the 1 left of CAFE"},
		{"more than is left, second item", `{"refund_id": "P-1-X", "items": [{"sku": "PAO", "quantity": 1}, {"sku": "CAFE", "quantity": "1.5"}]}`, "items[1].quantity", "1.5 is more than the 1 left of CAFE"},
		{"unknown sku", `{"refund_id": "P-1-X", "items": [{"sku": "PAO", "quantity": 1}, {"sku": "CHA", "quantity": 1}]}`, "items[1].sku", "not on the sale"},
		{"zero", `{"refund_id": "P-1-X", "items": [{"sku": "PAO", "quantity": 0}]}`, "items[0].quantity", "more than 0"},
		{"places", `{"refund_id": "P-1-X", "items": [{"sku": "PAO", "quantity": "0.0005"}]}`, "items[0].quantity", "places"},
		{"empty list", `{"refund_id": "P-1-X", "items": []}`, "items", "refunds nothing"},
		{"no refund id", `{"items": [{"sku": "PAO", "quantity": 1}]}`, "refund_id", "required"},
	} {
		code, out := e.do(t, http.MethodPost, "/v1/sales/P-1/credit-notes", tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %v", tc.name, out)
		require.Equal(t, tc.field, out["field"], tc.name)
		require.Contains(t, out["message"], tc.msg, tc.name)
	}
	_, err := e.store.PTEntry(ctx, "P-1-X")
	require.True(t, posagent.IsKind(err, posagent.KindNotFound), "a refused refund is not stored: %v", err)
	require.Equal(t, 1, refunds(), "nothing queued by the refused refunds")

	// The same refund asked again is the same credit note; with other items it is a conflict.
	code, out = e.do(t, http.MethodPost, "/v1/sales/P-1/credit-notes", `{"refund_id": "P-1-R1", "items": [{"line": 0, "quantity": "1.0"}]}`)
	require.Equal(t, http.StatusAccepted, code, "the same line and quantity, by index: %v", out)
	require.Equal(t, "P-1-R1", out["ref"])
	for _, body := range []string{
		`{"refund_id": "P-1-R1", "items": [{"sku": "CAFE", "quantity": 2}]}`,
		`{"refund_id": "P-1-R1", "items": [{"sku": "PAO", "quantity": 1}]}`,
		`{"refund_id": "P-1-R1"}`,
	} {
		code, out = e.do(t, http.MethodPost, "/v1/sales/P-1/credit-notes", body)
		require.Equal(t, http.StatusConflict, code, "%s: %v", body, out)
		require.Equal(t, "refund_id", out["field"])
	}
	require.Equal(t, 1, refunds())

	code, out = e.do(t, http.MethodPost, "/v1/sales/P-1/credit-notes", `{"refund_id": "P-1-R2", "items": [{"line": 1, "quantity": 1}]}`)
	require.Equal(t, http.StatusAccepted, code, "%v", out)
	code, out = e.do(t, http.MethodPost, "/v1/sales/P-1/credit-notes", `{"refund_id": "P-1-R3"}`)
	require.Equal(t, http.StatusAccepted, code, "the rest: %v", out)
	code, out = e.do(t, http.MethodPost, "/v1/sales/P-1/credit-notes", `{"refund_id": "P-1-R3"}`)
	require.Equal(t, http.StatusAccepted, code, "the rest asked again: %v", out)
	code, out = e.do(t, http.MethodPost, "/v1/sales/P-1/credit-notes", `{"refund_id": "P-1-R4"}`)
	require.Equal(t, http.StatusConflict, code, "nothing left: %v", out)
	require.Contains(t, out["message"], "nothing is left")
	code, out = e.do(t, http.MethodPost, "/v1/sales/P-1/credit-notes", `{"refund_id": "P-1-R4", "items": [{"sku": "PAO", "quantity": "0.001"}]}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", out)
	require.Contains(t, out["message"], "0.001 is more than the 0 left of PAO")
	require.Equal(t, 3, refunds())

	// At the stand-in: three credit notes linked to the sale, with the
	// original's prices and taxes, the refunded quantities and their amounts.
	want := []struct {
		ref, sku, qty, price, tax, total string
	}{
		{"P-1-R1", "CAFE", "1", "0.81", "IVA23", "1.00"},
		{"P-1-R2", "PAO", "1", "1.20", "IVA6", "1.27"},
		{"P-1-R3", "CAFE", "1", "0.81", "IVA23", "1.00"},
	}
	prev := 0
	for _, w := range want {
		en := e.waitIssued(t, w.ref)
		require.Equal(t, w.total, en.Total.Cents(), w.ref)
		require.Equal(t, posagent.PTCreditNote, en.Document.Type)
		require.Equal(t, 1, e.ix.Finals(posagent.PTCreditNote, w.ref), "issued exactly once")
		docs := e.ix.ByReference(posagent.PTCreditNote, w.ref)
		require.Len(t, docs, 1)
		d := docs[0]
		require.Equal(t, sale.Document.ID, d.OwnerID, "linked by owner_invoice_id")
		require.Len(t, d.Lines, 1, w.ref)
		require.Equal(t, w.sku, d.Lines[0].Name)
		require.Equal(t, w.qty, d.Lines[0].Quantity.String())
		require.Equal(t, w.price, d.Lines[0].UnitPrice.Cents())
		require.Equal(t, w.tax, d.Lines[0].TaxName)
		require.Equal(t, w.total, d.Total.Cents(), "InvoiceXpress's total of %s", w.ref)
		require.Equal(t, w.total, en.Document.Total.Cents())
		require.Greater(t, d.Finalized, prev, "issued in order")
		prev = d.Finalized
	}
	code, out = e.do(t, http.MethodGet, "/v1/sales/P-1", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []any{"P-1-R1", "P-1-R2", "P-1-R3"}, out["credit_notes"])
}

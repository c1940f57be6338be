package agent

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
)

// Promise 1 and 5: the sale stands whatever the printer does, and only one
// original proof ever reaches paper.

func taipeiClock() *clock {
	return &clock{t: time.Date(2025, 9, 14, 13, 3, 0, 0, posagent.Taipei)}
}

func decodeSale(t *testing.T, doc string) posagent.Invoice {
	t.Helper()
	var inv posagent.Invoice
	require.NoError(t, inv.UnmarshalJSON([]byte(doc)))
	return inv
}

func TestPrepareSale(t *testing.T) {
	c := taipeiClock()
	h := newHarness(t, c.Now, nil)
	sale, err := h.agent.PrepareSale(decodeSale(t, saleJSON("s-1", 55)))
	require.NoError(t, err)
	require.Equal(t, testSeller, sale.Seller.TaxID)
	require.Equal(t, "測試商店", sale.Seller.Name)
	require.True(t, sale.IssuedAt.Equal(c.Now()))
	require.Equal(t, posagent.Taipei, sale.IssuedAt.Location())

	cases := []struct {
		name, doc, field string
	}{
		{"no sale id", `{"items":[{"name":"a","quantity":1,"unit_price":5}]}`, "sale_id"},
		{"foreign seller", `{"sale_id":"x","seller":{"tax_id":"53212539","name":"別家"},"items":[{"name":"a","quantity":1,"unit_price":5}]}`, "seller.tax_id"},
		{"future", `{"sale_id":"x","issued_at":"2025-09-14T14:03:00+08:00","items":[{"name":"a","quantity":1,"unit_price":5}]}`, "issued_at"},
		{"too old", `{"sale_id":"x","issued_at":"2025-09-12T13:03:00+08:00","items":[{"name":"a","quantity":1,"unit_price":5}]}`, "issued_at"},
		{"numbered", `{"sale_id":"x","number":"AB12345678","random_code":"1234","items":[{"name":"a","quantity":1,"unit_price":5}]}`, "number"},
		{"rule broken", `{"sale_id":"x","buyer":{"tax_id":"12345678"},"items":[{"name":"a","quantity":1,"unit_price":5}]}`, "buyer.tax_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.agent.PrepareSale(decodeSale(t, tc.doc))
			require.Error(t, err)
			require.Equal(t, posagent.KindInvalid, posagent.ErrorKind(err))
			require.Equal(t, tc.field, posagent.ErrorField(err))
		})
	}
	// A POS time a little behind ours is kept, in Taipei.
	sale, err = h.agent.PrepareSale(decodeSale(t, `{"sale_id":"y","issued_at":"2025-09-14T05:00:00Z","items":[{"name":"a","quantity":1,"unit_price":5}]}`))
	require.NoError(t, err)
	require.Equal(t, 13, sale.IssuedAt.Hour())
}

func sell(t *testing.T, h *harness, id string) SaleResult {
	t.Helper()
	sale, err := h.agent.PrepareSale(decodeSale(t, saleJSON(id, 55)))
	require.NoError(t, err)
	res, err := h.agent.Sell(context.Background(), sale)
	require.NoError(t, err)
	return res
}

func TestSellPrintsTheOriginal(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	res := sell(t, h, "s-1")
	require.Equal(t, posagent.InvoiceNumber("AB12345600"), res.Invoice.Number)
	require.True(t, res.Print.Printed)
	require.False(t, res.Print.Reprint)
	require.Equal(t, []string{"ORIGINAL AB12345600"}, h.printer.jobs())

	// The same sale again: the same invoice, nothing printed again.
	again := sell(t, h, "s-1")
	require.True(t, again.Replayed)
	require.Equal(t, res.Invoice.Number, again.Invoice.Number)
	require.True(t, again.Print.Printed)
	require.Len(t, h.printer.jobs(), 1)
}

func TestPaperOutBeforePrintingRetriesTheOriginal(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	h.printer.script = []PrintOutcome{{Reason: "paper out"}}
	res := sell(t, h, "s-1")
	require.False(t, res.Print.Printed)
	require.True(t, res.Print.WillRetry)
	require.Equal(t, "印表機缺紙 / printer is out of paper", res.Print.Message)
	rec, err := h.store.Invoice(context.Background(), res.Invoice.Number)
	require.NoError(t, err)
	require.Equal(t, "failed", rec.Print.State)

	// The sale stands; the next sale goes on while paper is out.
	h.printer.set(PrinterStatus{Ready: false, Reason: "paper out"})
	res2 := sell(t, h, "s-2")
	require.False(t, res2.Print.Printed)

	// Paper back: both print as originals, in order.
	h.printer.set(PrinterStatus{Ready: true})
	h.agent.printPending(context.Background())
	require.Equal(t, []string{"ORIGINAL AB12345600", "ORIGINAL AB12345601"}, h.printer.jobs())
}

func TestPrintThatMayHaveReachedPaperIsRetriedAsReprint(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	h.printer.script = []PrintOutcome{{Reason: "paper out", MayHaveReachedPaper: true}}
	res := sell(t, h, "s-1")
	require.False(t, res.Print.Printed)
	h.agent.printPending(context.Background())
	require.Equal(t, []string{"補印 AB12345600"}, h.printer.jobs())
}

func TestPrintLoopWaitsForThePrinter(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	h.printer.set(PrinterStatus{Ready: false, Reason: "cover open"})
	res := sell(t, h, "s-1")
	require.Equal(t, "印表機上蓋未關 / printer cover is open", res.Print.Message)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.agent.printLoop(ctx); close(done) }()
	time.Sleep(50 * time.Millisecond)
	require.Empty(t, h.printer.jobs(), "printed while the cover was open")
	h.printer.set(PrinterStatus{Ready: true})
	require.Eventually(t, func() bool { return len(h.printer.jobs()) == 1 }, 2*time.Second, 5*time.Millisecond)
	require.Equal(t, "ORIGINAL AB12345600", h.printer.jobs()[0])
	cancel()
	<-done
}

func TestReprintIsAlways補印(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	res := sell(t, h, "s-1")
	rep, err := h.agent.Reprint(context.Background(), res.Invoice.Number)
	require.NoError(t, err)
	require.True(t, rep.Printed)
	require.True(t, rep.Reprint)
	require.Equal(t, []string{"ORIGINAL AB12345600", "補印 AB12345600"}, h.printer.jobs())
}

func TestNoPrinterLeavesTheProofPending(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, func(o *Options) { o.Printer = nil })
	res := sell(t, h, "s-1")
	require.False(t, res.Print.Printed)
	require.Equal(t, ReasonNoPrinter, res.Print.Reason)
	require.Contains(t, res.Print.Message, "no printer")
}

func TestCarrierSaleIsNotPrinted(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	sale, err := h.agent.PrepareSale(decodeSale(t, `{"sale_id":"c1","carrier":{"type":"mobile","id":"/ABC+123"},"items":[{"name":"a","quantity":1,"unit_price":5}]}`))
	require.NoError(t, err)
	res, err := h.agent.Sell(context.Background(), sale)
	require.NoError(t, err)
	require.False(t, res.Print.Required)
	require.Empty(t, h.printer.jobs())
	_, err = h.agent.Reprint(context.Background(), res.Invoice.Number)
	require.Equal(t, posagent.KindConflict, posagent.ErrorKind(err))
}

func TestExhaustedAsksForBooklets(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	for i := range 100 {
		sell(t, h, "s-"+string(rune('A'+i/26))+string(rune('a'+i%26)))
	}
	sale, err := h.agent.PrepareSale(decodeSale(t, saleJSON("one-too-many", 5)))
	require.NoError(t, err)
	_, err = h.agent.Sell(context.Background(), sale)
	require.Equal(t, posagent.KindExhausted, posagent.ErrorKind(err))
}

func TestVoidAndAllowance(t *testing.T) {
	c := taipeiClock()
	h := newHarness(t, c.Now, nil)
	res := sell(t, h, "s-1")
	al, err := h.agent.AllowInvoice(context.Background(), posagent.Allowance{InvoiceNumber: res.Invoice.Number,
		Items: []posagent.Item{{Name: "拿鐵", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("20"), Amount: posagent.MustDecimal("20")}}, Total: 20})
	require.NoError(t, err)
	require.Equal(t, "AB12345600-01", al.Number)
	require.Equal(t, int64(1), al.TaxAmount)
	_, err = h.agent.AllowInvoice(context.Background(), posagent.Allowance{InvoiceNumber: res.Invoice.Number,
		Items: []posagent.Item{{Name: "拿鐵", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("40"), Amount: posagent.MustDecimal("40")}}, Total: 40})
	require.Equal(t, posagent.KindInvalid, posagent.ErrorKind(err), "more than is left: %v", err)

	_, err = h.agent.VoidInvoice(context.Background(), res.Invoice.Number, "退貨")
	require.Equal(t, posagent.KindConflict, posagent.ErrorKind(err), "void with an allowance")

	res2 := sell(t, h, "s-2")
	v, err := h.agent.VoidInvoice(context.Background(), res2.Invoice.Number, "打錯")
	require.NoError(t, err)
	require.Equal(t, res2.Invoice.Number, v.Number)
	_, err = h.agent.VoidInvoice(context.Background(), res2.Invoice.Number, "打錯")
	require.Equal(t, posagent.KindConflict, posagent.ErrorKind(err))
	_, err = h.agent.VoidInvoice(context.Background(), "ZZ00000000", "x")
	require.Equal(t, posagent.KindNotFound, posagent.ErrorKind(err))
}

func TestCashierMessages(t *testing.T) {
	for reason, want := range map[string]string{
		"paper out":   "印表機缺紙 / printer is out of paper",
		"paper_out":   "印表機缺紙 / printer is out of paper",
		"cover open":  "印表機上蓋未關 / printer cover is open",
		"no answer":   "印表機沒有回應 / printer does not answer",
		"device gone": "找不到印表機，請檢查連接線 / printer is not connected",
		"offline":     "印表機離線 / printer is offline",
		"":            "",
		"weird":       "印表機錯誤 / printer error (weird)",
	} {
		require.Equal(t, want, cashierMessage(reason), reason)
	}
}

// The retry loop and the sale path reach for the same proof: it prints once.
func TestLoopAndSaleNeverPrintTwice(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	sale, err := h.agent.PrepareSale(decodeSale(t, saleJSON("race", 55)))
	require.NoError(t, err)
	rec, created, err := h.store.Issue(context.Background(), sale, Owner{Seller: testSeller, Unowned: true}, fakeCoder)
	require.NoError(t, err)
	require.True(t, created)
	h.agent.printPending(context.Background()) // the loop gets there first
	rep := h.agent.printProof(context.Background(), rec.Invoice, false)
	require.True(t, rep.Printed)
	require.Equal(t, []string{"ORIGINAL AB12345600"}, h.printer.jobs())
}

func TestPrintTimeoutCoversTheWire(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, func(o *Options) { o.Config.Printer.Baud = 9600 })
	// 9,600 bytes at 9600 baud (10 bits a byte) take 10 s on the wire.
	require.Equal(t, 20*time.Second, h.agent.printTimeout(9600))
}

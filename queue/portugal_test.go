package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

func ptEntry(ref string) queue.PTEntry {
	return queue.PTEntry{Ref: ref, SaleID: ref, Kind: queue.PTKindSale, Sale: json.RawMessage(`{"sale_id":"` + ref + `"}`),
		Total: posagent.MustDecimal("2.40"), Request: posagent.PTDocument{Type: posagent.PTInvoiceReceipt, Reference: ref,
			Lines: []posagent.PTLine{{SKU: "A", Description: "a", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("1.95"), TaxName: "IVA23"}}}}
}

func TestPTAcceptIsDurableAndIdempotent(t *testing.T) {
	st, c := mustOpen(t)
	ctx := context.Background()
	e, created, err := st.PTAccept(ctx, ptEntry("S-1"))
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, queue.PTPending, e.State)
	require.Equal(t, "waiting", e.Print.State, "nothing to print before the document exists")
	again, created, err := st.PTAccept(ctx, ptEntry("S-1"))
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, e.Seq, again.Seq)

	// The journal survives a reopen (each record its own committed transaction).
	require.NoError(t, st.PTCreating(ctx, "S-1"))
	require.NoError(t, st.PTDrafted(ctx, "S-1", 4242))
	path := st.Path()
	require.NoError(t, st.Close())
	st = mustReopen(t, path, c)
	e, err = st.PTEntry(ctx, "S-1")
	require.NoError(t, err)
	require.True(t, e.Creating)
	require.EqualValues(t, 4242, e.DraftID)
	require.Equal(t, "IVA23", e.Request.Lines[0].TaxName)

	_, err = st.PTEntry(ctx, "nope")
	require.True(t, posagent.IsKind(err, posagent.KindNotFound))
	require.True(t, posagent.IsKind(st.PTCreating(ctx, "nope"), posagent.KindNotFound))
}

func TestPTQueueOrderHoldAndRelease(t *testing.T) {
	st, _ := mustOpen(t)
	ctx := context.Background()
	for _, ref := range []string{"A", "B", "C"} {
		_, _, err := st.PTAccept(ctx, ptEntry(ref))
		require.NoError(t, err)
	}
	next := func() string {
		e, ok, err := st.PTNext(ctx)
		require.NoError(t, err)
		if !ok {
			return ""
		}
		return e.Ref
	}
	require.Equal(t, "A", next())
	require.NoError(t, st.PTHold(ctx, "A", errors.New("422 Client is invalid")))
	require.Equal(t, "B", next(), "a held document does not block the queue")
	require.NoError(t, st.PTIssued(ctx, "B", posagent.PTDocument{ID: 7, Type: posagent.PTInvoiceReceipt, State: "settled", SequenceNumber: "1/G", ATCUD: "X-1"}))
	require.Equal(t, "C", next())
	require.NoError(t, st.PTRelease(ctx, "A"))
	require.Equal(t, "A", next(), "released, it is the oldest again")
	require.True(t, posagent.IsKind(st.PTRelease(ctx, "B"), posagent.KindConflict), "only a held document is released")

	// A credit note waits for its sale's document.
	cn := ptEntry("A-R")
	cn.Kind, cn.OwnerRef, cn.SaleID = queue.PTKindCreditNote, "A", "A"
	_, _, err := st.PTAccept(ctx, cn)
	require.NoError(t, err)
	require.NoError(t, st.PTIssued(ctx, "C", posagent.PTDocument{ID: 8, SequenceNumber: "2/G"}))
	require.NoError(t, st.PTHold(ctx, "A", errors.New("again")))
	require.Equal(t, "", next(), "the credit note of a held sale waits")
	bad := ptEntry("X-R")
	bad.Kind, bad.OwnerRef = queue.PTKindCreditNote, "missing"
	_, _, err = st.PTAccept(ctx, bad)
	require.True(t, posagent.IsKind(err, posagent.KindNotFound))

	stats, err := st.PTStatus(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, stats.Held)
	require.Equal(t, 1, stats.Pending)
	require.Equal(t, 2, stats.Issued)
	require.Equal(t, 2, stats.PrintsPending)
	require.False(t, stats.OldestPending.IsZero())
}

func TestPTOneOriginalReceipt(t *testing.T) {
	st, _ := mustOpen(t)
	ctx := context.Background()
	_, _, err := st.PTAccept(ctx, ptEntry("P-1"))
	require.NoError(t, err)
	_, err = st.PTBeginPrint(ctx, "P-1")
	require.True(t, posagent.IsKind(err, posagent.KindConflict), "nothing to print before it is issued")
	require.NoError(t, st.PTIssued(ctx, "P-1", posagent.PTDocument{ID: 9, SequenceNumber: "3/G"}))

	copy, err := st.PTBeginPrint(ctx, "P-1")
	require.NoError(t, err)
	require.False(t, copy, "the first print is the original")
	// Paper out before anything reached paper: the original is given back.
	require.NoError(t, st.PTFinishPrint(ctx, "P-1", false, false, "paper_out", false))
	copy, err = st.PTBeginPrint(ctx, "P-1")
	require.NoError(t, err)
	require.False(t, copy)
	// Cut mid-job: it may be on paper, so every later print is a copy.
	require.NoError(t, st.PTFinishPrint(ctx, "P-1", false, false, "gone", true))
	copy, err = st.PTBeginPrint(ctx, "P-1")
	require.NoError(t, err)
	require.True(t, copy)
	require.NoError(t, st.PTFinishPrint(ctx, "P-1", true, true, "", false))
	e, err := st.PTEntry(ctx, "P-1")
	require.NoError(t, err)
	require.Equal(t, "printed", e.Print.State)
	require.Equal(t, 3, e.Print.Attempts)
	// A crash between begin and finish leaves "printing" with the original spent.
	copy, err = st.PTBeginPrint(ctx, "P-1")
	require.NoError(t, err)
	require.True(t, copy)
	unprinted, err := st.PTUnprinted(ctx, 10)
	require.NoError(t, err)
	require.Len(t, unprinted, 1)
}

func TestPTCancelAndTaxes(t *testing.T) {
	st, _ := mustOpen(t)
	ctx := context.Background()
	_, _, err := st.PTAccept(ctx, ptEntry("C-1"))
	require.NoError(t, err)
	require.NoError(t, st.PTRequestCancel(ctx, "C-1", "Erro"))
	_, ok, err := st.PTNextCancel(ctx)
	require.NoError(t, err)
	require.False(t, ok, "a cancel waits for the document to be issued")
	require.NoError(t, st.PTIssued(ctx, "C-1", posagent.PTDocument{ID: 10}))
	e, ok, err := st.PTNextCancel(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "Erro", e.CancelMessage)
	require.True(t, posagent.IsKind(st.PTRequestCancel(ctx, "C-1", "again"), posagent.KindConflict))
	require.NoError(t, st.PTCancelFailed(ctx, "C-1", true, errors.New("406")))
	require.NoError(t, st.PTRelease(ctx, "C-1"))
	require.NoError(t, st.PTCancelDone(ctx, "C-1"))
	e, err = st.PTEntry(ctx, "C-1")
	require.NoError(t, err)
	require.Equal(t, "done", e.CancelState)

	taxes, err := st.PTTaxes(ctx)
	require.NoError(t, err)
	require.Empty(t, taxes)
	require.NoError(t, st.PTSetTaxes(ctx, []queue.PTTax{{Name: "IVA23", Value: posagent.MustDecimal("23"), Region: "PT", Default: true},
		{Name: "IVA22-MA", Value: posagent.MustDecimal("22"), Region: "PT-MA"}}))
	require.NoError(t, st.PTSetTaxes(ctx, []queue.PTTax{{Name: "IVA23", Value: posagent.MustDecimal("23"), Region: "PT", Default: true}}))
	taxes, err = st.PTTaxes(ctx)
	require.NoError(t, err)
	require.Len(t, taxes, 1, "a refresh replaces the cache whole")
	require.True(t, taxes[0].Default)
}

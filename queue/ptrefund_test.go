package queue_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

func TestPTAcceptCreditNote(t *testing.T) {
	st, _ := mustOpen(t)
	ctx := context.Background()
	for _, ref := range []string{"S-1", "S-2"} {
		_, _, err := st.PTAccept(ctx, ptEntry(ref))
		require.NoError(t, err)
	}
	var seen [][]json.RawMessage
	build := func(body string) func([]json.RawMessage) (queue.PTEntry, error) {
		return func(prior []json.RawMessage) (queue.PTEntry, error) {
			seen = append(seen, prior)
			e := ptEntry("ignored")
			e.Request.Type, e.Sale = posagent.PTCreditNote, json.RawMessage(body)
			return e, nil
		}
	}

	e, created, err := st.PTAcceptCreditNote(ctx, "S-1-R1", "S-1", build(`{"n":1}`))
	require.NoError(t, err)
	require.True(t, created)
	require.Positive(t, e.Seq)
	require.Equal(t, "S-1-R1", e.Ref)
	require.Equal(t, "S-1", e.OwnerRef)
	require.Equal(t, "S-1", e.SaleID)
	require.Equal(t, queue.PTKindCreditNote, e.Kind)
	require.Empty(t, seen[0], "the first credit note sees none before it")

	_, created, err = st.PTAcceptCreditNote(ctx, "S-1-R2", "S-1", build(`{"n":2}`))
	require.NoError(t, err)
	require.True(t, created)
	require.Len(t, seen[1], 1)
	require.JSONEq(t, `{"n":1}`, string(seen[1][0]), "the earlier credit notes' bodies, in order")

	_, created, err = st.PTAcceptCreditNote(ctx, "S-1-R2", "S-1", build(`{"n":3}`))
	require.NoError(t, err)
	require.False(t, created, "a stored ref is returned as it is")
	require.Len(t, seen, 2, "without building")

	_, _, err = st.PTAcceptCreditNote(ctx, "S-1-R3", "S-1", func([]json.RawMessage) (queue.PTEntry, error) {
		return queue.PTEntry{}, posagent.Invalid("items[0].quantity", "too much")
	})
	require.Equal(t, "items[0].quantity", posagent.ErrorField(err))
	_, err = st.PTEntry(ctx, "S-1-R3")
	require.True(t, posagent.IsKind(err, posagent.KindNotFound), "a refused credit note is not stored")

	for _, tc := range []struct {
		sale string
		kind posagent.Kind
	}{{"missing", posagent.KindNotFound}, {"S-1-R1", posagent.KindConflict}, {"S-2", posagent.KindConflict}} {
		if tc.sale == "S-2" {
			require.NoError(t, st.PTRequestCancel(ctx, "S-2", "erro"))
		}
		_, _, err = st.PTAcceptCreditNote(ctx, "X-R", tc.sale, build(`{}`))
		require.True(t, posagent.IsKind(err, tc.kind), "%s: %v", tc.sale, err)
	}
	rs, err := st.PTRefunds(ctx, "S-1")
	require.NoError(t, err)
	require.Len(t, rs, 2)
}

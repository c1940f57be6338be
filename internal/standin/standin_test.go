package standin

import (
	"testing"

	"github.com/stretchr/testify/require"
)

type fault struct{ endpoint, what string }

func TestFaultsUsedInOrderAndCounted(t *testing.T) {
	var q Faults[fault]
	matching := func(endpoint string) func(fault) bool {
		return func(f fault) bool { return f.endpoint == "" || f.endpoint == endpoint }
	}
	q.Add(fault{"void", "5xx"}, 2)
	q.Add(fault{"", "garbage"}, 0) // fewer than one still fires once
	q.Add(fault{"issue", "drop"}, 1)

	for _, want := range []struct {
		endpoint, what string
		ok             bool
	}{
		{"issue", "garbage", true}, // the first that matches, not the first of its endpoint
		{"issue", "drop", true},
		{"issue", "", false},
		{"void", "5xx", true},
		{"void", "5xx", true},
		{"void", "", false},
	} {
		got, ok := q.Take(matching(want.endpoint))
		require.Equal(t, want.ok, ok, want)
		require.Equal(t, want.what, got.what, want)
	}

	q.Add(fault{"", "x"}, 5)
	q.Reset()
	_, ok := q.Take(matching("issue"))
	require.False(t, ok, "Reset left a fault queued")
}

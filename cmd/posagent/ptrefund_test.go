package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePTRefundItem(t *testing.T) {
	for _, tc := range []struct {
		in, sku string
		line    int // -1: by SKU
		qty     string
		err     string
	}{
		{in: "CAFE=1", sku: "CAFE", line: -1, qty: "1"},
		{in: "PAO=0.5", sku: "PAO", line: -1, qty: "0.5"},
		{in: "A=B=2", sku: "A=B", line: -1, qty: "2"},
		{in: "#2=1", line: 2, qty: "1"},
		{in: "CAFE", err: "want SKU=QUANTITY"},
		{in: "=1", err: "want SKU=QUANTITY"},
		{in: "CAFE=", err: "want SKU=QUANTITY"},
		{in: "CAFE=um", err: "not a decimal"},
		{in: "#x=1", err: "not a line index"},
		{in: "#-1=1", err: "not a line index"},
	} {
		it, err := parsePTRefundItem(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.sku, it.SKU, tc.in)
		require.Equal(t, tc.qty, it.Quantity.String(), tc.in)
		if tc.line < 0 {
			require.Nil(t, it.Line, tc.in)
		} else {
			require.Equal(t, tc.line, *it.Line, tc.in)
		}
	}
}

func FuzzParsePTRefundItem(f *testing.F) {
	for _, s := range []string{"CAFE=1", "#0=2", "A=B=0.001", "=", "#=1", "x=1e3", "#99999999999999999999=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		it, err := parsePTRefundItem(s)
		if err != nil {
			return
		}
		if it.Line == nil && (it.SKU == "" || !strings.HasPrefix(s, it.SKU+"=")) {
			t.Fatalf("%q: SKU %q", s, it.SKU)
		}
		if it.Line != nil && *it.Line < 0 {
			t.Fatalf("%q: line %d", s, *it.Line)
		}
	})
}

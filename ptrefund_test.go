package posagent_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
)

// ptRefundSale: CAFE twice (two prices), PAO once.
var ptRefundSale = []posagent.PTLine{
	{SKU: "CAFE", Description: "Café", Quantity: posagent.MustDecimal("2"), UnitPrice: posagent.MustDecimal("0.81"), TaxName: "IVA23", VATRate: posagent.MustDecimal("23"), Net: posagent.MustDecimal("1.62")},
	{SKU: "PAO", Description: "Pão", Quantity: posagent.MustDecimal("1.5"), UnitPrice: posagent.MustDecimal("1.20"), TaxName: "IVA6", VATRate: posagent.MustDecimal("6"), Net: posagent.MustDecimal("1.80")},
	{SKU: "CAFE", Description: "Café grande", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("1.10"), TaxName: "IVA23", VATRate: posagent.MustDecimal("23"), Net: posagent.MustDecimal("1.10")},
	{SKU: "LIVRO", Description: "Livro", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("10.00"), TaxName: "IVA0", VATRate: posagent.MustDecimal("0"), Exemption: "M07", Net: posagent.MustDecimal("10.00")},
}

func refundItems(t *testing.T, js string) []posagent.PTRefundItem {
	t.Helper()
	var items []posagent.PTRefundItem
	require.NoError(t, json.Unmarshal([]byte(js), &items))
	return items
}

func TestResolvePTRefund(t *testing.T) {
	for _, tc := range []struct {
		name, items string
		want        string // resolved "line:qty …", or the error's field
		field, msg  string
	}{
		{name: "no items: everything left", items: `null`, want: ""},
		{name: "by sku", items: `[{"sku": "PAO", "quantity": "0.5"}]`, want: "1:0.5"},
		{name: "by line, in line order", items: `[{"line": 3, "quantity": 1}, {"line": 0, "quantity": 1}]`, want: "0:1 3:1"},
		{name: "line and its sku", items: `[{"line": 2, "sku": "CAFE", "quantity": 1}]`, want: "2:1"},
		{name: "all of a line", items: `[{"sku": "PAO", "quantity": "1.500"}]`, want: "1:1.5"},
		{name: "empty list", items: `[]`, field: "items", msg: "leave items out"},
		{name: "unknown sku", items: `[{"sku": "PAO", "quantity": 1}, {"sku": "CHA", "quantity": 1}]`, field: "items[1].sku", msg: `"CHA" is not on the sale`},
		{name: "repeated sku needs the line", items: `[{"sku": "CAFE", "quantity": 1}]`, field: "items[0].sku", msg: "lines 0 and 2"},
		{name: "no sku no line", items: `[{"quantity": 1}]`, field: "items[0].sku", msg: "is required"},
		{name: "line out of range", items: `[{"line": 4, "quantity": 1}]`, field: "items[0].line", msg: "4 is not a line"},
		{name: "negative line", items: `[{"line": -1, "quantity": 1}]`, field: "items[0].line", msg: "not a line"},
		{name: "line and another sku", items: `[{"line": 1, "sku": "CAFE", "quantity": 1}]`, field: "items[0].sku", msg: "not the SKU of line 1 (PAO)"},
		{name: "zero quantity", items: `[{"sku": "PAO", "quantity": 0}]`, field: "items[0].quantity", msg: "more than 0"},
		{name: "negative quantity", items: `[{"sku": "PAO", "quantity": "-1"}]`, field: "items[0].quantity", msg: "more than 0"},
		{name: "too many places", items: `[{"sku": "PAO", "quantity": "0.0001"}]`, field: "items[0].quantity", msg: "at most 3 places"},
		{name: "more than the sale had", items: `[{"sku": "LIVRO", "quantity": 2}]`, field: "items[0].quantity", msg: "2 is more than the sale's 1 of LIVRO"},
		{name: "a line twice", items: `[{"line": 0, "quantity": 1}, {"line": 0, "quantity": 1}]`, field: "items[1].sku", msg: "already named by items[0]"},
		{name: "a line twice by sku and index", items: `[{"sku": "PAO", "quantity": 1}, {"line": 1, "quantity": "0.5"}]`, field: "items[1].sku", msg: "already named"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := posagent.ResolvePTRefund(ptRefundSale, refundItems(t, tc.items))
			if tc.field != "" {
				require.Error(t, err)
				require.True(t, posagent.IsKind(err, posagent.KindInvalid), "%v", err)
				require.Equal(t, tc.field, posagent.ErrorField(err))
				require.Contains(t, err.Error(), tc.msg)
				return
			}
			require.NoError(t, err)
			var s []string
			for _, r := range got {
				require.Equal(t, ptRefundSale[r.Line].SKU, r.SKU)
				s = append(s, r.String())
			}
			require.Equal(t, tc.want, strings.Join(s, " "))
		})
	}
}

func TestPTRefundLeft(t *testing.T) {
	d := posagent.MustDecimal
	refunded := []posagent.Decimal{d("1"), d("1.5"), {}, {}} // one CAFE and all the PAO taken before
	resolve := func(js string) []posagent.PTRefundLine {
		r, err := posagent.ResolvePTRefund(ptRefundSale, refundItems(t, js))
		require.NoError(t, err)
		return r
	}

	take, err := posagent.PTRefundLeft(ptRefundSale, refunded, resolve(`[{"line": 0, "quantity": 1}]`))
	require.NoError(t, err, "exactly what is left")
	require.Len(t, take, 1)

	_, err = posagent.PTRefundLeft(ptRefundSale, refunded, resolve(`[{"line": 3, "quantity": 1}, {"line": 0, "quantity": 2}]`))
	require.True(t, posagent.IsKind(err, posagent.KindInvalid))
	require.Equal(t, "items[1].quantity", posagent.ErrorField(err), "the item as asked, not the line")
	require.Contains(t, err.Error(), "2 is more than the 1 left of CAFE")

	_, err = posagent.PTRefundLeft(ptRefundSale, refunded, resolve(`[{"sku": "PAO", "quantity": "0.001"}]`))
	require.Equal(t, "items[0].quantity", posagent.ErrorField(err))
	require.Contains(t, err.Error(), "0.001 is more than the 0 left of PAO")

	rest, err := posagent.PTRefundLeft(ptRefundSale, refunded, nil)
	require.NoError(t, err)
	var s []string
	for _, r := range rest {
		s = append(s, r.String())
	}
	require.Equal(t, "0:1 2:1 3:1", strings.Join(s, " "), "everything left, the emptied line left out")

	all := []posagent.Decimal{d("2"), d("1.5"), d("1"), d("1")}
	_, err = posagent.PTRefundLeft(ptRefundSale, all, nil)
	require.True(t, posagent.IsKind(err, posagent.KindConflict), "%v", err)
	require.Contains(t, err.Error(), "nothing is left")
}

func TestPTCreditLines(t *testing.T) {
	d := posagent.MustDecimal
	lines, total := posagent.PTCreditLines(ptRefundSale, []posagent.PTRefundLine{
		{Line: 0, SKU: "CAFE", Quantity: d("1")}, {Line: 1, SKU: "PAO", Quantity: d("0.333")}, {Line: 3, SKU: "LIVRO", Quantity: d("1")}})
	require.Len(t, lines, 3)
	// The original's unit price, tax and exemption; the refunded quantity; net in cents.
	require.Equal(t, posagent.PTLine{SKU: "CAFE", Description: "Café", Quantity: d("1"), UnitPrice: d("0.81"), TaxName: "IVA23", VATRate: d("23"), Net: d("0.81")}, lines[0])
	require.Equal(t, "0.40", lines[1].Net.Cents()) // 0.333 × 1.20 = 0.3996
	require.Equal(t, "IVA6", lines[1].TaxName)
	require.Equal(t, "M07", lines[2].Exemption)
	// 0.81 + 0.19 VAT, 0.40 + 0.02 VAT, 10.00 exempt.
	require.Equal(t, "11.42", total.Cents())
	require.Equal(t, d("2"), ptRefundSale[0].Quantity, "the sale's lines are not changed")
}

package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The counter's commands against the running demo (ECPay stand-in, printer
// simulator, SQLite store): a sale, its reissue (作廢重開), the guard rails,
// an order taken, issued and cancelled.
func TestCounterCommandsOnTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the demo")
	}
	t.Setenv("POSAGENT_ADDR", "")
	t.Setenv("POSAGENT_TOKEN", "")
	t.Setenv("POSAGENT_CONFIG", "")
	dir := t.TempDir()
	out, _ := startDemo(t, dir)
	// The demo shows how to reissue its first sale.
	first := regexp.MustCompile(`first sale +invoice ([A-Z]{2}-\d{8})`).FindStringSubmatch(out.String())
	require.NotNil(t, first, out.String())
	require.Contains(t, out.String(), "./bin/posagent reissue "+first[1]+" testdata/sales/coffee-taxid.json")
	cfg := filepath.Join(dir, "posagent.toml")
	op := func(stdin string, args ...string) (int, string, string) {
		return runOperator(t, stdin, append(args, "--config", cfg)...)
	}

	code, got, errOut := op("", "reissue", first[1], "../../testdata/sales/coffee-taxid.json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, got, "invoice "+first[1]+" voided (買方要統編)")
	require.Regexp(t, `reissued as [A-Z]{2}-\d{8}`, got)
	require.Contains(t, got, "proof: printed")
	code, again, errOut := op("", "reissue", first[1], "../../testdata/sales/coffee-taxid.json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, again, "(done before; same invoices)")
	code, _, errOut = op("", "reissue", first[1], "../../testdata/sales/coffee.json", "--reason", "again")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "already voided")

	big := `{"sale_id":"big-1","items":[{"name":"咖啡機 Espresso machine","quantity":1,"unit_price":15000}]}`
	code, _, errOut = op(big, "sell", "-")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "total NT$15000 is above NT$10000")
	require.Contains(t, errOut, "409 needs_confirmation")
	code, got, errOut = op(big, "sell", "-", "--confirmed")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, got, "NT$15000")
	code, _, errOut = op(`{"sale_id":"big-2","items":[{"name":"x","quantity":1,"unit_price":250000}]}`, "sell", "-", "--confirmed")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "422 over_limit")

	code, got, errOut = op("", "sell", "../../testdata/sales/mobile-carrier.json", "--background")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, got, "proof: not printed — 存入載具")
	code, got, errOut = op("", "sell", "../../testdata/sales/business.json", "--background")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, got, "proof: printing in the background")

	code, got, errOut = op("", "order", "add", "../../testdata/sales/preorder.json")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, got, "order pre-20251230-0007 taken: NT$2880, open")
	code, _, errOut = op(`{"sale_id":"pre-2","items":[{"name":"蛋糕","quantity":1,"unit_price":600}]}`, "order", "add", "-")
	require.Equal(t, 0, code, errOut)
	code, got, errOut = op("", "status")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, got, "orders     2 open, 0 open longer than 72h0m0s")
	code, got, errOut = op("", "order", "list", "--state", "open")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, got, "pre-20251230-0007")
	require.Contains(t, got, "pre-2 ")
	code, got, errOut = op("", "order", "issue", "pre-20251230-0007")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `order pre-20251230-0007 issued as invoice [A-Z]{2}-\d{8}`, got)
	require.Contains(t, got, "proof: printed")
	code, got, errOut = op("", "order", "cancel", "pre-2", "--reason", "客人取消")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, got, "order pre-2 cancelled (客人取消)")
	code, got, errOut = op("", "order", "list")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `pre-20251230-0007 +issued .*invoice [A-Z]{2}-\d{8}`, got)
	require.Regexp(t, `pre-2 +cancelled .*\(客人取消\)`, got)
	code, _, errOut = op("", "order", "issue", "pre-2")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "was cancelled")

	// Everything reached the ECPay stand-in: the voided invoice, its void and
	// the reissue among them, nothing dead.
	require.Eventually(t, func() bool {
		code, status, _ := op("", "status")
		return code == 0 && strings.Contains(status, "0 waiting, 0 sending, 0 dead")
	}, 30*time.Second, 100*time.Millisecond, "the uploads did not drain")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"reissue", first[1]}, "reissue needs the invoice number and a file"},
		{[]string{"order"}, "order needs add, list, cancel or issue"},
		{[]string{"order", "cancel", "pre-2"}, "--reason is required"},
		{[]string{"order", "add", "x.json", "--background"}, "belong to `order issue`"},
		{[]string{"sell", "x.json", "--background", "--wait-print"}, "exclude each other"},
	} {
		code, _, errOut := op("", tc.args...)
		require.Equal(t, 2, code, "%v: %s", tc.args, errOut)
		require.Contains(t, errOut, tc.want, "%v", tc.args)
	}
}

func TestWithFields(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1}`, `{"confirmed":true,"a":1}`},
		{" {}\n", `{"confirmed":true}`},
		{`{ }`, `{"confirmed":true}`},
	} {
		got, err := withFields([]byte(tc.in), [][2]string{{"confirmed", "true"}})
		require.NoError(t, err)
		require.Equal(t, tc.want, string(got))
	}
	_, err := withFields([]byte(`[1]`), [][2]string{{"confirmed", "true"}})
	require.Error(t, err)
}

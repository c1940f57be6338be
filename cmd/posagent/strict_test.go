package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
	"github.com/posagent/posagent/queue"
)

// TestSellRefusesWhatIsNotExactlyRight runs `posagent sell` and `posagent
// allow` against a real `posagent run` with the sales and allowances of issue
// 10: amounts that wrapped into a wrong legal invoice, JSON that is not
// exactly what was meant, and the missing rules. Each is refused with the
// field named, exit status 1; afterwards no booklet has a number spent and the
// store holds only the one good sale.
func TestSellRefusesWhatIsNotExactlyRight(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the agent binary")
	}
	stand := ecpaytest.New(ecpaytest.Options{})
	defer stand.Close()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfgPath := writeChildConfig(t, dir, addr, stand.URL(), "")
	c := startChild(t, cfgPath, filepath.Join(dir, "agent.log"), addr)
	t.Setenv("POSAGENT_ADDR", addr)
	t.Setenv("POSAGENT_TOKEN", childToken)
	t.Setenv("POSAGENT_CONFIG", "")
	client := &http.Client{Timeout: 5 * time.Second}
	require.Eventually(t, func() bool {
		a, err := apiCall(client, addr, "GET", "/v1/booklets", "")
		return err == nil && len(a.body["booklets"].([]any)) > 0
	}, 20*time.Second, 50*time.Millisecond, "the agent leased no booklet")

	line := `{"name":"拿鐵","quantity":1,"unit_price":100}`
	price := func(p string) string { return `{"name":"x","quantity":1,"unit_price":` + p + `}` }
	sale := func(extra, items string) string { return `{"sale_id":"cli-1",` + extra + `"items":[` + items + `]}` }
	cases := []struct{ name, doc, want string }{
		{"2^64+100 string", sale("", price(`"18446744073709551716"`)), "items[0].unit_price: "},
		{"2^64+100 number", sale("", price(`18446744073709551716`)), "items[0].unit_price: "},
		{"2^32 x 2^32 + 100", sale("", `{"name":"x","quantity":"4294967296","unit_price":"4294967296"},`+line), "items[0].quantity: "},
		{"two int64-max + 102", sale("", price(`9223372036854775807`)+","+price(`9223372036854775807`)+","+price(`102`)), "items[0].unit_price: "},
		{"one above the bound", sale("", price(`4294967296`)), "total: "},
		{"sum beyond the bound", sale("", price(`2147483648`)+","+price(`2147483648`)), "total: "},
		{"duplicate key", `{"sale_id":"A","sale_id":"B","items":[` + line + `]}`, "sale_id: is given twice"},
		{"miscased key", sale("", `{"name":"x","quantity":1,"Unit_Price":100}`), `items[0].Unit_Price: unknown field: keys are exact, this one is "unit_price" (400 malformed)`},
		{"invalid UTF-8", sale("", `{"name":"a`+"\xff\xfe"+`b","quantity":1,"unit_price":100}`), "items[0].name: is not valid UTF-8"},
		{"lone surrogate", sale("", `{"name":"a\ud800b","quantity":1,"unit_price":100}`), "items[0].name: is not valid UTF-8"},
		{"zero issued_at", sale(`"issued_at":"0001-01-01T00:00:00Z",`, line), "issued_at: "},
		{"quantity true", sale("", `{"name":"x","quantity":true,"unit_price":100}`), "items[0].quantity: must be a decimal number"},
		{"love code and carrier", sale(`"love_code":"168001","carrier":{"type":"mobile","id":"/ABC+123"},`, line), "love_code: "},
	}
	for _, tc := range cases {
		path := filepath.Join(dir, "sale.json")
		require.NoError(t, os.WriteFile(path, []byte(tc.doc), 0o600))
		code, out, errOut := runOperator(t, "", "sell", path)
		require.Equal(t, 1, code, "%s: %s%s", tc.name, out, errOut)
		require.Contains(t, errOut, tc.want, tc.name)
		require.Regexp(t, `\((400 malformed|422 invalid)\)`, errOut, tc.name)
	}

	a, err := apiCall(client, addr, "GET", "/v1/booklets", "")
	require.NoError(t, err)
	for _, b := range a.body["booklets"].([]any) {
		b := b.(map[string]any)
		require.EqualValues(t, b["last"].(float64)-b["first"].(float64)+1, b["left"], "a refused sale spent a number of %v", b)
	}

	// The good sale takes the first number, and its allowances obey the same rules.
	good := filepath.Join(dir, "good.json")
	require.NoError(t, os.WriteFile(good, []byte(sale("", `{"name":"拿鐵","quantity":1,"unit_price":1000}`)), 0o600))
	code, out, errOut := runOperator(t, "", "sell", good, "--json")
	require.Equal(t, 0, code, errOut)
	number := jsonField(t, out, "number")
	for _, tc := range []struct{ name, doc, want string }{
		{"tax 1000 on 1000", `{"items":[` + price(`1000`) + `],"tax_amount":1000}`, "tax_amount: 1000 differs from the 48"},
		{"2^64+100", `{"items":[` + price(`"18446744073709551716"`) + `]}`, "items[0].unit_price: "},
		{"future", `{"issued_at":"2099-01-01T00:00:00+08:00","items":[` + price(`10`) + `]}`, "issued_at: "},
		{"duplicate", `{"items":[` + price(`10`) + `],"reason":"a","reason":"b"}`, "reason: is given twice"},
	} {
		path := filepath.Join(dir, "allowance.json")
		require.NoError(t, os.WriteFile(path, []byte(tc.doc), 0o600))
		code, out, errOut := runOperator(t, "", "allow", number, path)
		require.Equal(t, 1, code, "%s: %s%s", tc.name, out, errOut)
		require.Contains(t, errOut, tc.want, tc.name)
	}
	c.stop(t)

	s, err := queue.Open(filepath.Join(dir, "posagent.db"), queue.Options{})
	require.NoError(t, err)
	defer s.Close()
	recent, err := s.Recent(context.Background(), 10)
	require.NoError(t, err)
	require.Len(t, recent, 1, "refused sales were stored")
	require.Equal(t, number, string(recent[0].Invoice.Number))
	require.Empty(t, recent[0].Allowances, "a refused allowance was stored")
}

// jsonField reads one string field of a JSON answer printed by --json.
func jsonField(t *testing.T, out, key string) string {
	t.Helper()
	i := strings.Index(out, fmt.Sprintf("%q:", key))
	require.GreaterOrEqual(t, i, 0, out)
	rest := out[i+len(key)+3:]
	rest = strings.TrimLeft(rest, " ")
	require.True(t, strings.HasPrefix(rest, `"`), out)
	end := strings.IndexByte(rest[1:], '"')
	return rest[1 : end+1]
}

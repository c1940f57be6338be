package agent_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// strictCase is one request that must be refused: its status, code and the
// field the answer must name.
type strictCase struct {
	name, path, body string
	status           int
	code, field      string
}

// strictSaleCases are the sales of issue 10 that were issued (or issued
// wrongly) and must be refused: amounts that wrap or break the domain's
// limits, JSON that is not exactly what was meant, and missing rules. They are
// also seeds of FuzzSaleRequest, and run through `posagent sell` by the CLI test.
func strictSaleCases() []strictCase {
	line := `{"name":"拿鐵","quantity":1,"unit_price":100}`
	sale := func(extra, items string) string {
		return `{"sale_id":"strict-1",` + extra + `"items":[` + items + `]}`
	}
	price := func(p string) string { return `{"name":"x","quantity":1,"unit_price":` + p + `}` }
	const s, m = http.StatusUnprocessableEntity, http.StatusBadRequest
	return []strictCase{
		// 1. Amounts: wrap-around values, the bound and one above, sums beyond it.
		{"2^64+100 as a string", "/v1/sales", sale("", price(`"18446744073709551716"`)), s, "invalid", "items[0].unit_price"},
		{"2^64+100 as a number", "/v1/sales", sale("", price(`18446744073709551716`)), s, "invalid", "items[0].unit_price"},
		{"2^32 x 2^32 plus NT$100", "/v1/sales", sale("", `{"name":"x","quantity":"4294967296","unit_price":"4294967296"},`+line), s, "invalid", "items[0].quantity"},
		{"two int64-max lines plus NT$102", "/v1/sales", sale("", price(`9223372036854775807`)+","+price(`9223372036854775807`)+","+price(`102`)), s, "invalid", "items[0].unit_price"},
		{"quantity x price beyond a line amount", "/v1/sales", sale("", `{"name":"x","quantity":"99999999","unit_price":"9999999999"}`), s, "invalid", "items[0].amount"},
		{"amount given beyond its digits", "/v1/sales", sale("", `{"name":"x","quantity":1,"unit_price":100,"amount":"1000000000000"}`), s, "invalid", "items[0].amount"},
		{"total one above the QR bound", "/v1/sales", sale("", price(`4294967296`)), s, "invalid", "total"},
		{"lines within bound, sum not", "/v1/sales", sale("", price(`2147483648`)+","+price(`2147483648`)), s, "invalid", "total"},
		{"200 lines of the largest price", "/v1/sales", sale("", strings.TrimSuffix(strings.Repeat(price(`9999999999`)+",", 200), ",")), s, "invalid", "total"},
		{"total 2^64+100", "/v1/sales", sale(`"total":18446744073709551716,`, line), s, "invalid", "total"},
		{"total above the bound", "/v1/sales", sale(`"total":4294967296,`, line), s, "invalid", "total"},
		{"sales_amount int64 min", "/v1/sales", sale(`"sales_amount":-9223372036854775808,`, line), s, "invalid", "sales_amount"},
		{"tax_amount int64 max", "/v1/sales", sale(`"tax_amount":9223372036854775807,`, line), s, "invalid", "tax_amount"},
		{"quantity with 3 decimals", "/v1/sales", sale("", `{"name":"x","quantity":"1.125","unit_price":100}`), s, "invalid", "items[0].quantity"},
		{"a thousand digits", "/v1/sales", sale("", price(`"`+strings.Repeat("9", 1000)+`"`)), s, "invalid", "items[0].unit_price"},
		// 2. JSON that is not exactly what was meant.
		{"duplicate sale_id", "/v1/sales", `{"sale_id":"A","sale_id":"B","items":[` + line + `]}`, m, "malformed", "sale_id"},
		{"duplicate total", "/v1/sales", sale(`"total":1,"total":100,`, line), m, "malformed", "total"},
		{"duplicate quantity", "/v1/sales", sale("", `{"name":"x","quantity":1,"quantity":5,"unit_price":100}`), m, "malformed", "items[0].quantity"},
		{"duplicate buyer", "/v1/sales", sale(`"buyer":{"tax_id":"53212539"},"buyer":null,`, line), m, "malformed", "buyer"},
		{"SALE_ID", "/v1/sales", `{"SALE_ID":"A","items":[` + line + `]}`, m, "malformed", "SALE_ID"},
		{"Unit_Price", "/v1/sales", sale("", `{"name":"x","quantity":1,"Unit_Price":100}`), m, "malformed", "items[0].Unit_Price"},
		{"ITEMS", "/v1/sales", `{"sale_id":"strict-1","ITEMS":[` + line + `]}`, m, "malformed", "ITEMS"},
		{"raw invalid UTF-8", "/v1/sales", sale("", `{"name":"a`+"\xff\xfe"+`b","quantity":1,"unit_price":100}`), m, "malformed", "items[0].name"},
		{"lone surrogate", "/v1/sales", sale("", `{"name":"a\ud800b","quantity":1,"unit_price":100}`), m, "malformed", "items[0].name"},
		{"overlong UTF-8", "/v1/sales", sale("", `{"name":"a`+"\xc0\xaf"+`b","quantity":1,"unit_price":100}`), m, "malformed", "items[0].name"},
		{"invalid UTF-8 in a key", "/v1/sales", `{"sale_id":"strict-1","re` + "\xff" + `mark":"x","items":[` + line + `]}`, m, "malformed", ""},
		{"issued_at zero time", "/v1/sales", sale(`"issued_at":"0001-01-01T00:00:00Z",`, line), m, "malformed", "issued_at"},
		{"issued_at empty", "/v1/sales", sale(`"issued_at":"",`, line), m, "malformed", "issued_at"},
		{"quantity true", "/v1/sales", sale("", `{"name":"x","quantity":true,"unit_price":100}`), m, "malformed", "items[0].quantity"},
		{"unit_price object", "/v1/sales", sale("", `{"name":"x","quantity":1,"unit_price":{}}`), m, "malformed", "items[0].unit_price"},
		// 3. Missing rules.
		{"love code with a carrier", "/v1/sales", sale(`"love_code":"168001","carrier":{"type":"mobile","id":"/ABC+123"},`, line), s, "invalid", "love_code"},
	}
}

// TestStrictSales: every case of issue 10 for sales is refused with its code
// and field, and none stores anything or spends a number.
func TestStrictSales(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	ctx := context.Background()
	before, err := e.store.NumbersLeft(ctx)
	require.NoError(t, err)
	e.expectRefused(t, strictSaleCases())
	after, err := e.store.NumbersLeft(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "a refused sale spent a number")
	recent, err := e.store.Recent(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, recent, "a refused sale was stored")
}

// TestSaleAtTheBound: a total of exactly NT$4,294,967,295 (the QR code's
// ffffffff) is a legal invoice and is issued, with the QR header saying so.
func TestSaleAtTheBound(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	code, body := e.call("POST", "/v1/sales", `{"sale_id":"bound-1","items":[{"name":"金條","quantity":1,"unit_price":"4294967295"}]}`)
	require.Equal(t, http.StatusCreated, code, "%v", body)
	require.EqualValues(t, 4294967295, body["total"])
	left := body["qr_left"].(string)
	require.Equal(t, "ffffffff", strings.ToLower(left[29:37]), "QR total field of %s", left)
	// 4294967295 ÷ 1.05 = 4090445042.86 → 4090445043, tax 204522252.
	require.Equal(t, "f3cf3cf3", strings.ToLower(left[21:29]), "QR sales field of %s", left)
	// And ECPay (the stand-in, through the real client and mapping) takes it.
	e.waitUploaded(10 * time.Second)
	held := e.stand.Invoices()
	require.Len(t, held, 1)
	require.EqualValues(t, 4294967295, held[0].SalesAmount)
}

// TestStrictAllowances: allowances go through the same limits, strict JSON and
// rules (time window, tax within NT$1 of the split); nothing refused is stored.
func TestStrictAllowances(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	n := e.sell("strict-allow", 1000)["number"].(string) // NT$1,090
	path := "/v1/invoices/" + n + "/allowances"
	line := func(p string) string { return `{"name":"拿鐵","quantity":1,"unit_price":` + p + `}` }
	al := func(extra, items string) string { return `{` + extra + `"items":[` + items + `]}` }
	const s, m = http.StatusUnprocessableEntity, http.StatusBadRequest
	e.expectRefused(t, []strictCase{
		{"2^64+100", path, al("", line(`"18446744073709551716"`)), s, "invalid", "items[0].unit_price"},
		{"2^32 x 2^32", path, al("", `{"name":"x","quantity":"4294967296","unit_price":"4294967296"}`), s, "invalid", "items[0].quantity"},
		{"two int64-max lines", path, al("", line(`9223372036854775807`)+","+line(`9223372036854775807`)), s, "invalid", "items[0].unit_price"},
		{"lines within bound, sum not", path, al("", line(`2147483648`)+","+line(`2147483648`)), s, "invalid", "total"},
		{"total 2^64+100", path, al(`"total":18446744073709551716,`, line(`100`)), s, "invalid", "total"},
		{"tax int64 min", path, al(`"tax_amount":-9223372036854775808,`, line(`100`)), s, "invalid", "tax_amount"},
		{"more than remains", path, al("", line(`1091`)), s, "invalid", "total"},
		{"duplicate total", path, al(`"total":1,"total":100,`, line(`100`)), m, "malformed", "total"},
		{"duplicate reason", path, al(`"reason":"a","reason":"b",`, line(`100`)), m, "malformed", "reason"},
		{"Items", path, `{"Items":[` + line(`100`) + `]}`, m, "malformed", "Items"},
		{"invalid UTF-8 reason", path, al(`"reason":"a`+"\xff"+`b",`, line(`100`)), m, "malformed", "reason"},
		{"lone surrogate", path, al(`"reason":"a\udc00",`, line(`100`)), m, "malformed", "reason"},
		{"quantity true", path, al("", `{"name":"x","quantity":true,"unit_price":100}`), m, "malformed", "items[0].quantity"},
		{"issued_at empty", path, al(`"issued_at":"",`, line(`100`)), m, "malformed", "issued_at"},
		{"issued_at zero", path, al(`"issued_at":"0001-01-01T00:00:00Z",`, line(`100`)), m, "malformed", "issued_at"},
		{"issued_at 2099", path, al(`"issued_at":"2099-01-01T00:00:00+08:00",`, line(`100`)), s, "invalid", "issued_at"},
		{"tax 1000 on 1000", path, al(`"tax_amount":1000,`, line(`1000`)), s, "invalid", "tax_amount"},
		{"tax 0 given on 1000", path, al(`"tax_amount":0,`, line(`1000`)), s, "invalid", "tax_amount"},
		{"tax NT$2 off", path, al(`"tax_amount":50,`, line(`1000`)), s, "invalid", "tax_amount"},
	})
	code, inv := e.call("GET", "/v1/invoices/"+n, "")
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, inv["allowances"], "a refused allowance was stored")
	require.EqualValues(t, 1090, inv["remaining"])

	// Within NT$1 of the split (1000 → 952 + 48) is accepted, like an invoice's tax.
	code, got := e.call("POST", path, al(`"tax_amount":47,`, line(`1000`)))
	require.Equal(t, http.StatusCreated, code, "%v", got)
	require.EqualValues(t, 47, got["tax_amount"])
	code, got = e.call("POST", path, al("", line(`90`)))
	require.Equal(t, http.StatusCreated, code, "%v", got)
	require.EqualValues(t, 4, got["tax_amount"], "derived tax of NT$90")
}

// TestStrictSmallBodies: voids, booklets and resolves use the same decoder.
func TestStrictSmallBodies(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	n := e.sell("strict-void", 100)["number"].(string)
	const m = http.StatusBadRequest
	e.expectRefused(t, []strictCase{
		{"void duplicate reason", "/v1/invoices/" + n + "/void", `{"reason":"打錯","reason":"x"}`, m, "malformed", "reason"},
		{"void Reason", "/v1/invoices/" + n + "/void", `{"Reason":"打錯"}`, m, "malformed", "Reason"},
		{"void invalid UTF-8", "/v1/invoices/" + n + "/void", `{"reason":"` + "\xc0\xaf" + `"}`, m, "malformed", "reason"},
		{"booklet duplicate range", "/v1/booklets", `{"range":"ZZ20000000-ZZ20000049","range":"ZZ30000000-ZZ30000049","period":"11410"}`, m, "malformed", "range"},
		{"booklet PERIOD", "/v1/booklets", `{"range":"ZZ20000000-ZZ20000049","PERIOD":"11410"}`, m, "malformed", "PERIOD"},
		{"resolve duplicate note", "/v1/jobs/1/resolve", `{"note":"a","note":"b"}`, m, "malformed", "note"},
		{"allowance void duplicate", "/v1/invoices/" + n + "/allowances/X/void", `{"reason":"a","reason":"b"}`, m, "malformed", "reason"},
	})
	code, inv := e.call("GET", "/v1/invoices/"+n, "")
	require.Equal(t, http.StatusOK, code)
	require.Nil(t, inv["void"], "a refused void was recorded")
	code, bs := e.call("GET", "/v1/booklets", "")
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, fmt.Sprint(bs), "ZZ2000", "a refused booklet was added")
}

func (e *e2e) expectRefused(t *testing.T, cases []strictCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.call("POST", tc.path, tc.body)
			require.Equal(t, tc.status, code, "%v", body)
			require.Equal(t, tc.code, body["code"], "%v", body)
			if tc.field != "" {
				require.Equal(t, tc.field, body["field"], "%v", body)
			}
			require.NotEmpty(t, body["message"])
		})
	}
}

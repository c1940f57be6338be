package agent

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The local API: status codes and error bodies by kind, the token, limits.

func TestSaleThroughTheAPI(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	code, body := h.do(t, "POST", "/v1/sales", saleJSON("pos-1", 55))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	require.Equal(t, "AB12345600", body["number"])
	require.Equal(t, "11410", body["period"])
	require.Equal(t, "114年09-10月", body["period_label"])
	require.Equal(t, "11410AB123456005600", body["barcode"])
	require.Equal(t, "LAB12345600", body["qr_left"])
	require.Equal(t, true, body["print"].(map[string]any)["printed"])
	require.Equal(t, float64(55), body["total"])

	code, again := h.do(t, "POST", "/v1/sales", saleJSON("pos-1", 55))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, true, again["replayed"])
	require.Equal(t, body["number"], again["number"])

	code, conflict := h.do(t, "POST", "/v1/sales", saleJSON("pos-1", 99))
	require.Equal(t, http.StatusConflict, code)
	require.Equal(t, "conflict", conflict["code"])
	require.Contains(t, conflict["message"], "different sale")

	code, inv := h.do(t, "GET", "/v1/invoices/AB-12345600", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "AB12345600", inv["number"])
	require.Equal(t, "pending", inv["upload"].(map[string]any)["state"])
	require.Equal(t, "printed", inv["print"].(map[string]any)["state"])
	require.NotEmpty(t, inv["events"])

	code, v := h.do(t, "POST", "/v1/invoices/AB12345600/void", `{"reason":"打錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	code, v = h.do(t, "POST", "/v1/invoices/AB12345600/void", `{"reason":"打錯"}`)
	require.Equal(t, http.StatusConflict, code, "%v", v)
}

func TestAllowanceAndReprintThroughTheAPI(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	code, _ := h.do(t, "POST", "/v1/sales", saleJSON("pos-1", 100))
	require.Equal(t, http.StatusCreated, code)
	code, al := h.do(t, "POST", "/v1/invoices/AB12345600/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":30}],"reason":"少糖"}`)
	require.Equal(t, http.StatusCreated, code, "%v", al)
	require.Equal(t, "AB12345600-01", al["number"])
	require.Equal(t, float64(30), al["total"])
	code, al = h.do(t, "POST", "/v1/invoices/AB12345600/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":80}]}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", al)
	require.Equal(t, "total", al["field"])

	code, rp := h.do(t, "POST", "/v1/invoices/AB12345600/reprint", "")
	require.Equal(t, http.StatusOK, code, "%v", rp)
	require.Equal(t, true, rp["reprint"])
	require.Equal(t, "補印 AB12345600", h.printer.jobs()[1])
}

func TestAPIErrors(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	big := `{"sale_id":"big","remark":"` + strings.Repeat("x", 300<<10) + `"}`
	cases := []struct {
		name, method, path, body, auth string
		status                         int
		code, field                    string
	}{
		{"no token", "POST", "/v1/sales", saleJSON("a", 5), "-", 401, "unauthorized", ""},
		{"wrong token", "POST", "/v1/sales", saleJSON("a", 5), "Bearer nope", 401, "unauthorized", ""},
		{"basic auth", "GET", "/v1/status", "", "Basic dXNlcjpwYXNz", 401, "unauthorized", ""},
		{"metrics need the token", "GET", "/metrics", "", "-", 401, "unauthorized", ""},
		{"bad json", "POST", "/v1/sales", `{"sale_id":`, "", 400, "malformed", ""},
		{"trailing data", "POST", "/v1/sales", saleJSON("a", 5) + `{}`, "", 400, "malformed", ""},
		{"unknown field", "POST", "/v1/sales", `{"sale_id":"a","discount":5,"items":[]}`, "", 400, "malformed", "discount"},
		{"wrong type", "POST", "/v1/sales", `{"sale_id":"a","total":"five","items":[]}`, "", 400, "malformed", "total"},
		{"empty body", "POST", "/v1/sales", ` `, "", 400, "malformed", ""},
		{"huge body", "POST", "/v1/sales", big, "", 413, "too_large", ""},
		{"bad seller", "POST", "/v1/sales", `{"sale_id":"a","seller":{"tax_id":"12345678","name":"x"},"items":[{"name":"a","quantity":1,"unit_price":5}]}`, "", 422, "invalid", "seller.tax_id"},
		{"negative price", "POST", "/v1/sales", `{"sale_id":"a","items":[{"name":"a","quantity":1,"unit_price":-5}]}`, "", 422, "invalid", ""},
		{"bad invoice number", "GET", "/v1/invoices/XX", "", "", 400, "malformed", "number"},
		{"unknown invoice", "GET", "/v1/invoices/ZZ99999999", "", "", 404, "not_found", "number"},
		{"wrong method", "DELETE", "/v1/sales", "", "", 405, "method_not_allowed", ""},
		{"no endpoint", "GET", "/v1/nothing", "", "", 404, "not_found", ""},
		{"bad job state", "GET", "/v1/jobs?state=lost", "", "", 400, "malformed", "state"},
		{"bad job id", "POST", "/v1/jobs/x/revive", "", "", 400, "malformed", "id"},
		{"unknown job", "POST", "/v1/jobs/99/revive", "", "", 404, "not_found", ""},
		{"bad range", "POST", "/v1/booklets", `{"range":"AB1-AB2","period":"11410"}`, "", 422, "invalid", "range"},
		{"bad period", "POST", "/v1/booklets", `{"range":"AB00000000-AB00000049","period":"11411"}`, "", 422, "invalid", "period"},
		{"overlap", "POST", "/v1/booklets", `{"range":"AB12345600-AB12345649","period":"11410"}`, "", 409, "conflict", ""},
		{"void needs reason", "POST", "/v1/invoices/ZZ99999999/void", `{"reason":""}`, "", 404, "not_found", "number"},
		{"demo off", "POST", "/v1/demo/provider/down", "", "", 404, "not_found", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			auth := "Bearer " + testToken
			if tc.auth == "-" {
				auth = ""
			} else if tc.auth != "" {
				auth = tc.auth
			}
			code, body := h.doAuth(t, tc.method, tc.path, tc.body, auth)
			require.Equal(t, tc.status, code, "%v", body)
			require.Equal(t, tc.code, body["code"], "%v", body)
			require.NotEmpty(t, body["message"])
			if tc.field != "" {
				require.Equal(t, tc.field, body["field"], "%v", body)
			}
		})
	}
	left, err := h.store.NumbersLeft(t.Context(), Owner{Seller: testSeller, Unowned: true}, PeriodOfNow(taipeiClock().Now))
	require.NoError(t, err)
	require.Equal(t, 100, left, "a bad request spent a number")
}

func TestExhaustedIs503(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	h.store.booklets = nil
	code, body := h.do(t, "POST", "/v1/sales", saleJSON("a", 5))
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "exhausted", body["code"])
	require.Contains(t, body["message"], "no invoice numbers left")
}

func TestInternalErrorsHideTheirText(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	h.store.fail = func(m string) error {
		if m == "Issue" {
			return &testErr{"disk I/O error at /var/lib/posagent/posagent.db"}
		}
		return nil
	}
	code, body := h.do(t, "POST", "/v1/sales", saleJSON("a", 5))
	require.Equal(t, http.StatusInternalServerError, code)
	require.NotContains(t, body["message"], "/var/lib")
	require.Contains(t, h.logs.String(), "disk I/O error")
}

type testErr struct{ s string }

func (e *testErr) Error() string { return e.s }

func TestHealthzNeedsNoToken(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	req := httptest.NewRequest("GET", "/healthz", nil)
	rec := httptest.NewRecorder()
	h.handler.ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code)
	require.JSONEq(t, `{"status":"ok"}`, rec.Body.String())
}

func TestMetricsAndStatusKeepSecrets(t *testing.T) {
	h := newHarness(t, taipeiClock().Now, nil)
	code, _ := h.do(t, "POST", "/v1/sales", saleJSON("a", 5))
	require.Equal(t, 201, code)
	code, m := h.do(t, "GET", "/metrics", "")
	require.Equal(t, 200, code)
	text := m["text"].(string)
	for _, want := range []string{"posagent_sales_total 1", `posagent_queue_jobs{state="pending"} 1`,
		`posagent_numbers_left{period="11410"} 99`, "posagent_printer_ready 1", `posagent_provider_online{provider="fake"} 1`,
		"posagent_upload_duration_seconds_count 0", "posagent_oldest_unsent_seconds"} {
		require.Contains(t, text, want)
	}
	code, s := h.do(t, "GET", "/v1/status", "")
	require.Equal(t, 200, code)
	require.Equal(t, "POS01", s["terminal"].(map[string]any)["machine_id"])
	for _, out := range []string{text, h.logs.String(), toJSON(t, s)} {
		require.NotContains(t, out, testToken)
		require.NotContains(t, out, testQRKey)
	}
}

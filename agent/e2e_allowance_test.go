package agent_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

// allowanceOf reads one allowance of an invoice through the API.
func (e *e2e) allowanceOf(number string, i int) map[string]any {
	e.t.Helper()
	code, inv := e.call("GET", "/v1/invoices/"+number, "")
	require.Equal(e.t, http.StatusOK, code, "%v", inv)
	als := inv["allowances"].([]any)
	require.Greater(e.t, len(als), i, "%v", inv)
	return als[i].(map[string]any)
}

// Sale → upload → allowance → void of the allowance, through the API, the
// store, the real ECPay client and the stand-in: ECPay's allowance number is
// kept and given back, and the stand-in ends with the allowance voided.
func TestAllowanceVoidAtECPay(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	n := e.sell("allow-1", 200)["number"].(string)
	e.waitUploaded(10 * time.Second)

	code, al := e.call("POST", "/v1/invoices/"+n+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":50}],"reason":"少糖"}`)
	require.Equal(t, http.StatusCreated, code, "%v", al)
	e.waitUploaded(10 * time.Second)
	a0 := e.allowanceOf(n, 0)
	require.Equal(t, "uploaded", a0["state"])
	held := e.stand.Allowances()
	require.Len(t, held, 1)
	require.Equal(t, held[0].Number, a0["provider_number"], "the agent did not keep ECPay's IA_Allow_No")
	require.False(t, held[0].Voided)

	code, v := e.call("POST", "/v1/invoices/"+n+"/allowances/"+al["number"].(string)+"/void", `{"reason":"開錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	e.waitUploaded(10 * time.Second)
	require.Equal(t, "voided", e.allowanceOf(n, 0)["state"])
	held = e.stand.Allowances()
	require.Len(t, held, 1)
	require.True(t, held[0].Voided, "the stand-in still holds the allowance live")

	// With its allowance voided, the invoice itself can be voided.
	code, v = e.call("POST", "/v1/invoices/"+n+"/void", `{"reason":"打錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	e.waitUploaded(10 * time.Second)
	inv, ok := e.stand.Invoice(n)
	require.True(t, ok)
	require.True(t, inv.Voided)
}

// The allowance's answer is lost; the retry adopts it without ECPay's number.
// Its void then goes dead at once with a reason for a person, without looping.
func TestAllowanceAdoptedWithoutNumberCannotBeVoided(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	n := e.sell("allow-lost", 200)["number"].(string)
	e.waitUploaded(10 * time.Second)
	e.stand.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultLoseAnswer, Endpoint: "Allowance"}, 1)
	code, al := e.call("POST", "/v1/invoices/"+n+"/allowances", `{"items":[{"name":"拿鐵","quantity":1,"unit_price":50}]}`)
	require.Equal(t, http.StatusCreated, code, "%v", al)
	e.waitUploaded(15 * time.Second)
	a0 := e.allowanceOf(n, 0)
	require.Equal(t, "uploaded", a0["state"])
	require.Equal(t, "", a0["provider_number"])
	require.Len(t, e.stand.Allowances(), 1, "the lost answer made a second allowance")

	code, v := e.call("POST", "/v1/invoices/"+n+"/allowances/"+al["number"].(string)+"/void", `{"reason":"開錯"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", v)
	require.Eventually(t, func() bool { return e.allowanceOf(n, 0)["state"] == "void_dead" }, 10*time.Second, 20*time.Millisecond)
	a0 = e.allowanceOf(n, 0)
	require.Contains(t, a0["void"].(map[string]any)["upload"].(map[string]any)["error"],
		"ECPay did not return the allowance number of "+al["number"].(string)+"; void it in the ECPay back office")
	code, jobs := e.call("GET", "/v1/jobs?state=dead", "")
	require.Equal(t, http.StatusOK, code, "%v", jobs)
	require.False(t, e.stand.Allowances()[0].Voided)
	for _, r := range e.stand.Requests() {
		require.NotEqual(t, "AllowanceInvalid", r.Endpoint, "the agent asked ECPay to void without the number")
	}
}

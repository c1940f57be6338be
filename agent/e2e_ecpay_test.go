package agent_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/ecpay"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

// The answers of ECPay's SDKs and stage server (ecpay.md §12), end to end
// through the agent against the stand-in.

// leaseWith leases booklets of 50 through a client of its own, so that the
// agent's client has measured nothing, and gives them to the agent's store.
func (e *e2e) leaseWith(booklets int) {
	e.t.Helper()
	ctx := context.Background()
	c, err := ecpay.New(e.stand.Config(e2eMachine))
	require.NoError(e.t, err)
	bs, err := c.LeaseBooklets(ctx, posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now()), MachineID: e2eMachine, Booklets: booklets})
	require.NoError(e.t, err)
	for _, b := range bs {
		_, err := e.store.AddBooklet(ctx, b)
		require.NoError(e.t, err)
	}
}

func (e *e2e) deadJobs() []any {
	e.t.Helper()
	code, dead := e.call("GET", "/v1/jobs?state=dead", "")
	require.Equal(e.t, http.StatusOK, code)
	jobs, _ := dead["jobs"].([]any)
	return jobs
}

func (e *e2e) metricsText() string {
	e.t.Helper()
	code, body := e.call("GET", "/metrics", "")
	require.Equal(e.t, http.StatusOK, code)
	return body["text"].(string)
}

// The merchant regenerates the keys in ECPay's back office while 100 sales
// and their 100 voids are queued: ECPay answers TransCode 110. The provider
// pauses with a config alarm; not one job goes dead; sales go on. When the
// operator puts the new keys in the file and reloads, the queue drains.
func TestKeyRotationPausesAndDrainsAfterReload(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{concurrency: 2, lowWater: 0, reload: true})
	e.leaseWith(3)
	e.stand.RotateKeys("0123456789abcdef", "fedcba9876543210")
	var numbers []string
	for i := range 100 {
		n := e.sell(fmt.Sprintf("rot-%03d", i), 50+i%7)["number"].(string)
		numbers = append(numbers, n)
		code, body := e.call("POST", "/v1/invoices/"+n+"/void", `{"reason":"打錯"}`)
		require.Equal(t, 202, code, "%v", body)
	}
	var st map[string]any
	require.Eventually(t, func() bool {
		_, st = e.call("GET", "/v1/status", "")
		return st["provider"].(map[string]any)["paused"] == true
	}, 10*time.Second, 20*time.Millisecond, "the provider did not pause")
	time.Sleep(300 * time.Millisecond) // the loop would have killed the backlog by now if it were going to
	_, st = e.call("GET", "/v1/status", "")
	prov := st["provider"].(map[string]any)
	require.Equal(t, "auth", prov["pause_kind"])
	require.Contains(t, prov["pause_reason"], "TransCode 110")
	require.Contains(t, prov["pause_action"], "posagent reload")
	require.Contains(t, e.alarmCodes(), "provider_config")
	require.Equal(t, "critical", st["level"])
	require.Empty(t, e.deadJobs())
	q := st["queue"].(map[string]any)
	require.Equal(t, 200.0, q["pending"].(float64)+q["in_flight"].(float64), "%v", q)
	var refused int
	for _, r := range e.stand.Requests() {
		if r.TransCode == 110 {
			refused++
		}
	}
	require.LessOrEqual(t, refused, 4, "kept calling ECPay with keys it refuses")
	require.Empty(t, e.stand.Invoices())

	// Sales go on while paused.
	numbers = append(numbers, e.sell("rot-paused", 60)["number"].(string))

	code, body := e.call("POST", "/v1/config/reload", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, []any{"provider"}, body["changed"])
	require.Equal(t, true, body["resumed"])
	e.waitUploaded(60 * time.Second)
	require.Empty(t, e.deadJobs())
	require.Len(t, e.stand.Invoices(), 101)
	for i, n := range numbers {
		inv, ok := e.stand.Invoice(n)
		require.True(t, ok, n)
		require.Equal(t, i < 100, inv.Voided, n)
	}
	require.NotContains(t, e.alarmCodes(), "provider_config")
	require.NotContains(t, e.logs.String(), ecpaytest.StageHashKey)
	require.NotContains(t, e.logs.String(), "0123456789abcdef")
}

// A void whose answer was lost is sent again and meets ECPay's 5070453
// "該發票已被作廢過": the job ends done, not dead.
func TestLostVoidAnswerEndsDone(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{concurrency: 1, lowWater: 10})
	n := e.sell("lostvoid", 60)["number"].(string)
	e.waitUploaded(15 * time.Second)
	e.stand.Inject(ecpaytest.Fault{Kind: ecpaytest.FaultLoseAnswer, Endpoint: "OfflineInvalid"}, 1)
	code, body := e.call("POST", "/v1/invoices/"+n+"/void", `{"reason":"打錯"}`)
	require.Equal(t, 202, code, "%v", body)
	e.waitUploaded(15 * time.Second)
	require.Empty(t, e.deadJobs())
	inv, ok := e.stand.Invoice(n)
	require.True(t, ok)
	require.True(t, inv.Voided)
	var voids []ecpaytest.Request
	for _, r := range e.stand.Requests() {
		if r.Endpoint == "OfflineInvalid" {
			voids = append(voids, r)
		}
	}
	require.Len(t, voids, 2, "%+v", voids)
	require.Equal(t, "lose_answer", voids[0].Fault)
	require.Equal(t, 5070453, voids[1].RtnCode)
}

// The till opens and sells at once: the agent has measured nothing of
// ECPay's clock, which is 0.3 s or 1 s behind, and ECPay refuses the fresh
// invoice ("發票開立時間不可大於上傳時間", RtnCode 4000006). The upload waits
// and ends done; the wait is no transient failure in the metrics, no "job
// will be retried" in the log, no error in status (issue 10 §4).
func TestFreshUploadRefusedForIssueTimeEndsDone(t *testing.T) {
	for _, behind := range []time.Duration{300 * time.Millisecond, time.Second} {
		t.Run(behind.String(), func(t *testing.T) {
			t.Parallel()
			// On a loaded machine the upload can leave so late that ECPay's
			// clock has passed the issue time already: that run proves
			// nothing (though it must still end done, once), so a fresh
			// agent, with nothing measured, tries again.
			var e *e2e
			var refused bool
			for try := 0; try < 5 && !refused; try++ {
				e = startE2E(t, e2eOptions{concurrency: 1, lowWater: 0})
				e.leaseWith(1)
				_, _, measured := e.prov.ClockSkew()
				require.False(t, measured, "the agent's client measured ECPay's clock before the first upload")
				e.stand.SetClockOffset(-behind)
				// Sell just after a second begins, so that ECPay, behind, is
				// still in the previous second whatever the offset.
				now := time.Now()
				time.Sleep(now.Truncate(time.Second).Add(time.Second + 20*time.Millisecond).Sub(now))
				n := e.sell("fresh-"+behind.String(), 60)["number"].(string)
				e.waitUploaded(15 * time.Second)
				require.Equal(t, 1, e.stand.Count(n))
				require.Empty(t, e.deadJobs())
				for _, r := range e.stand.Requests() {
					refused = refused || (r.Endpoint == "OfflineIssue" && r.RtnCode == 4000006)
				}
			}
			require.True(t, refused, "ECPay never refused the issue time in 5 runs: the test did not test the case")
			m := e.metricsText()
			require.Contains(t, m, `posagent_provider_calls_total{kind="upload",result="wait"}`)
			require.NotContains(t, m, `result="transient"`)
			require.NotContains(t, m, `result="invalid"`)
			logs := e.logs.String()
			require.NotContains(t, logs, "job will be retried")
			require.NotContains(t, logs, "job is dead")
			_, st := e.call("GET", "/v1/status", "")
			prov := st["provider"].(map[string]any)
			require.Equal(t, true, prov["online"])
			require.Nil(t, prov["last_error"])
			require.Equal(t, "ok", st["level"])
			code, jobs := e.call("GET", "/v1/jobs?state=done", "")
			require.Equal(t, http.StatusOK, code)
			for _, j := range jobs["jobs"].([]any) {
				job := j.(map[string]any)
				require.Equal(t, 1.0, job["attempts"], "the wait counted as an attempt: %v", job)
				require.False(t, strings.Contains(fmt.Sprint(job["last_error"]), "4000006"), "%v", job)
			}
		})
	}
}

// A member carrier ECPay cannot key (not the buyer's e-mail or phone) is
// refused with the field named before a number is spent; one it can key is
// issued and uploaded under the buyer's e-mail.
func TestMemberCarrierForECPay(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{lowWater: 10})
	ctx := context.Background()
	before, err := e.store.NumbersLeft(ctx)
	require.NoError(t, err)
	sale := func(id, carrier string) (int, map[string]any) {
		return e.call("POST", "/v1/sales", fmt.Sprintf(`{"sale_id":%q,"print":false,"carrier":{"type":"member","id":%q},"items":[{"name":"拿鐵","quantity":1,"unit_price":60}]}`, id, carrier))
	}
	for _, id := range []string{"m-001", "CARD12345"} {
		code, body := sale("mc-"+id, id)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%v", body)
		require.Equal(t, "carrier.id", body["field"])
		require.Contains(t, body["message"], "e-mail")
	}
	after, err := e.store.NumbersLeft(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "a refused sale spent a number")
	code, body := sale("mc-ok", "buyer@example.com")
	require.Equal(t, http.StatusCreated, code, "%v", body)
	e.waitUploaded(15 * time.Second)
	inv, ok := e.stand.Invoice(body["number"].(string))
	require.True(t, ok)
	require.Equal(t, "1", inv.CarrierType)
	require.Equal(t, "buyer@example.com", inv.Email)
}

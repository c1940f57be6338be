package agent_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// alarmCodes lists the codes of the status alarms.
func (e *e2e) alarmCodes() []string {
	e.t.Helper()
	code, st := e.call("GET", "/v1/status", "")
	require.Equal(e.t, http.StatusOK, code, "%v", st)
	var codes []string
	alarms, _ := st["alarms"].([]any)
	for _, a := range alarms {
		codes = append(codes, a.(map[string]any)["code"].(string))
	}
	return codes
}

// ECPay's clock most of a second behind ours: fresh invoices wait a moment
// and are uploaded; no clock alarm, the provider stays online.
func TestSubSecondSkewAtECPayIsNoAlarm(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	e.stand.SetClockOffset(-800 * time.Millisecond)
	_, err := e.prov.Machines(context.Background()) // measure the skew before the sales
	require.NoError(t, err)
	var numbers []string
	for i := range 3 {
		numbers = append(numbers, e.sell("skew-"+string(rune('a'+i)), 60)["number"].(string))
	}
	e.waitUploaded(15 * time.Second)
	for _, n := range numbers {
		require.Equal(t, 1, e.stand.Count(n), n)
	}
	require.NotContains(t, e.alarmCodes(), "clock")
	_, st := e.call("GET", "/v1/status", "")
	require.Equal(t, true, st["provider"].(map[string]any)["online"])
	require.NotContains(t, e.logs.String(), "clock is off")
	code, dead := e.call("GET", "/v1/jobs?state=dead", "")
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, dead["jobs"], "%v", dead)
}

// ECPay five minutes behind: the terminal's clock is wrong. The clock alarm
// is raised with the skew; the invoice is not refused as bad data (no dead
// job) and goes up once the clocks agree.
func TestFiveMinuteSkewAtECPayRaisesTheClockAlarm(t *testing.T) {
	t.Parallel()
	e := startE2E(t, e2eOptions{discard: true, lowWater: 10})
	e.stand.SetClockOffset(-5 * time.Minute)
	_, err := e.prov.Machines(context.Background())
	require.NoError(t, err)
	n := e.sell("skew-5m", 60)["number"].(string)
	require.Eventually(t, func() bool {
		for _, c := range e.alarmCodes() {
			if c == "clock" {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "no clock alarm")
	_, st := e.call("GET", "/v1/status", "")
	skew, _ := st["provider"].(map[string]any)["clock_skew"].(string)
	require.True(t, strings.HasPrefix(skew, "5m") || strings.HasPrefix(skew, "4m59"), "clock_skew %q", skew)
	require.Equal(t, 0, e.stand.Count(n))
	code, dead := e.call("GET", "/v1/jobs?state=dead", "")
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, dead["jobs"], "%v", dead)

	e.stand.SetClockOffset(0)
	e.waitUploaded(15 * time.Second)
	require.Equal(t, 1, e.stand.Count(n))
}

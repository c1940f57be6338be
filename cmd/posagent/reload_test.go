package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

// The keys are regenerated in ECPay's back office while the till runs: the
// built `posagent run` pauses uploads (sales go on), a config file that
// changes what needs a restart is refused by `posagent reload` and changes
// nothing, and the file with the new keys, loaded on SIGHUP, resumes at once:
// the queue drains, nothing dead, no key in the log.
func TestRunReloadsOnSIGHUPAndReloadCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the agent binary")
	}
	stand := ecpaytest.New(ecpaytest.Options{})
	defer stand.Close()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfgPath := writeChildConfig(t, dir, addr, stand.URL(), "")
	logPath := filepath.Join(dir, "agent.log")
	c := startChild(t, cfgPath, logPath, addr)
	defer c.kill()
	client := &http.Client{Timeout: 5 * time.Second}
	status := func() map[string]any {
		a, err := apiCall(client, addr, "GET", "/v1/status", "")
		require.NoError(t, err)
		return a.body
	}
	// Wait for the start-up lease, then rotate the keys at ECPay.
	require.Eventually(t, func() bool {
		nums, _ := status()["numbers"].([]any)
		return len(nums) > 0 && nums[0].(map[string]any)["left"].(float64) > 0
	}, 20*time.Second, 20*time.Millisecond, "no lease at start")
	const newKey = "Zq7Lr2Xc9Vb4Nm1K"
	stand.RotateKeys(newKey, ecpaytest.StageHashIV)
	for _, id := range []string{"hup-1", "hup-2", "hup-3"} {
		a, err := apiCall(client, addr, "POST", "/v1/sales", crashSale(id))
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, a.status, "%v", a.body)
	}
	require.Eventually(t, func() bool {
		return status()["provider"].(map[string]any)["paused"] == true
	}, 20*time.Second, 20*time.Millisecond, "the provider did not pause")

	orig, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	fixed := strings.Replace(string(orig), `hash_key = "${T_CHILD_HASH_KEY}"`, `hash_key = "`+newKey+`"`, 1)
	require.NotEqual(t, string(orig), fixed)

	// The new keys, but also a new API address: that needs a restart, and
	// nothing is reloaded.
	other := freeAddr(t)
	require.NoError(t, os.WriteFile(cfgPath, []byte(strings.Replace(fixed, addr, other, 1)), 0o600))
	t.Setenv("POSAGENT_ADDR", addr)
	t.Setenv("POSAGENT_TOKEN", childToken)
	t.Setenv("POSAGENT_CONFIG", "")
	code, out, errOut := runOperator(t, "", "reload")
	require.Equal(t, 1, code, "%s %s", out, errOut)
	require.Contains(t, errOut, "api")
	require.Contains(t, errOut, "restart posagent")
	require.NotContains(t, errOut, newKey)
	require.Equal(t, true, status()["provider"].(map[string]any)["paused"], "a refused reload resumed the provider")

	// The file with only the new keys, loaded on SIGHUP.
	require.NoError(t, os.WriteFile(cfgPath, []byte(fixed), 0o600))
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGHUP))
	require.Eventually(t, func() bool {
		q := status()["queue"].(map[string]any)
		return q["pending"].(float64) == 0 && q["in_flight"].(float64) == 0
	}, 20*time.Second, 20*time.Millisecond, "the queue did not drain after the reload")
	st := status()
	require.Equal(t, 0.0, st["queue"].(map[string]any)["dead"])
	require.Equal(t, false, st["provider"].(map[string]any)["paused"])
	require.Len(t, stand.Invoices(), 3)

	code, out, errOut = runOperator(t, "", "resume")
	require.Equal(t, 0, code, "%s %s", out, errOut)
	require.Contains(t, out, "was not paused")

	c.stop(t)
	logs, err := os.ReadFile(logPath)
	require.NoError(t, err)
	require.Contains(t, string(logs), "SIGHUP: reloading the configuration")
	require.Contains(t, string(logs), "configuration reloaded")
	require.Contains(t, string(logs), "configuration not reloaded")
	require.NotContains(t, string(logs), newKey)
	require.NotContains(t, string(logs), ecpaytest.StageHashKey)
}

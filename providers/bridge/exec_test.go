package bridge_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/bridge"
	"github.com/posagent/posagent/providers/bridge/bridgetest"
)

// execClient runs the reference program with args instead of the relay.
func execClient(t *testing.T, timeout time.Duration, args ...string) *bridge.Client {
	t.Helper()
	c, err := bridge.New(bridge.Config{Transport: bridge.TransportExec, Command: append([]string{execPath(t)}, args...),
		SellerTaxID: testSeller, MachineID: "POS01", Texts: texts, Timeout: timeout,
		Credentials: map[string]string{"pid": credPID, "rid": credRID}, Redact: []string{testQRKey}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExecExitCodes(t *testing.T) {
	e := &env{t: t}
	inv := e.sale("X1")
	tests := []struct {
		code    int
		answer  string
		stderr  string
		want    posagent.Kind
		retry   time.Duration
		message string
	}{
		{0, "", "", "", 0, ""},
		{0, `{"message":"queued at the vendor"}`, "", "", 0, ""},
		{10, `{"message":"been uploaded"}`, "", "", 0, ""},
		{0, `not json`, "", posagent.KindTransient, 0, "garbled"},
		{10, `{"x":1}`, "", posagent.KindTransient, 0, "garbled"},
		{65, `{"message":"Buyer_Vat_Id 錯誤"}`, "detail on stderr", posagent.KindInvalid, 0, "Buyer_Vat_Id 錯誤; stderr: detail on stderr"},
		{65, ``, "only stderr", posagent.KindInvalid, 0, "stderr: only stderr"},
		{64, ``, "unknown flag", posagent.KindConfig, 0, "exit 64"},
		{77, ``, "", posagent.KindAuth, 0, "exit 77"},
		{78, ``, "", posagent.KindConfig, 0, "exit 78"},
		{75, ``, "vendor cloud busy", posagent.KindTransient, 0, "vendor cloud busy"},
		{75, `{"retry_after":90}`, "", posagent.KindRateLimited, 90 * time.Second, ""},
		{69, ``, "", posagent.KindTransient, 0, "exit 69"},
		{74, ``, "", posagent.KindTransient, 0, "exit 74"},
		{70, ``, "panic: nil map", posagent.KindInternal, 0, "panic: nil map"},
		{1, ``, "", posagent.KindInternal, 0, "exit 1"},
		{2, ``, "secret " + credRID + " and " + testQRKey, posagent.KindInternal, 0, "secret [redacted] and [redacted]"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d %s", tt.code, tt.answer), func(t *testing.T) {
			c := execClient(t, 10*time.Second, "-exit", strconv.Itoa(tt.code), "-answer", tt.answer, "-stderr", tt.stderr)
			err := c.Upload(t.Context(), inv)
			e.t = t
			e.checkErr(err, tt.want)
			if tt.retry > 0 {
				var pe *posagent.Error
				if !errors.As(err, &pe) || pe.RetryAfter != tt.retry {
					t.Fatalf("RetryAfter = %v, want %v", pe.RetryAfter, tt.retry)
				}
			}
			if err != nil && !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("error %q does not keep %q", err, tt.message)
			}
		})
	}
}

func TestExecFloods(t *testing.T) {
	e := &env{t: t}
	inv := e.sale("F1")
	// An answer over MaxAnswer on success cannot be trusted: retried.
	err := execClient(t, 10*time.Second, "-exit", "0", "-flood", strconv.Itoa(bridge.MaxAnswer+1)).Upload(t.Context(), inv)
	e.checkErr(err, posagent.KindTransient)
	// Standard error is cut: the message stays small and says what was dropped.
	err = execClient(t, 10*time.Second, "-exit", "75", "-stderr", "first line\n", "-flood", "200000").Upload(t.Context(), inv)
	e.checkErr(err, posagent.KindTransient)
	if !strings.Contains(err.Error(), "first line") || !strings.Contains(err.Error(), "bytes of standard error dropped") ||
		len(err.Error()) > bridge.MaxMessage+300 {
		t.Fatalf("error (%d bytes) = %.300q", len(err.Error()), err)
	}
}

func TestExecCannotRun(t *testing.T) {
	e := &env{t: t}
	c, err := bridge.New(bridge.Config{Transport: bridge.TransportExec, Command: []string{filepath.Join(t.TempDir(), "missing-relay")},
		SellerTaxID: testSeller, MachineID: "POS01", Texts: texts})
	if err != nil {
		t.Fatal(err)
	}
	e.checkErr(c.Upload(t.Context(), e.sale("N1")), posagent.KindConfig)
}

// TestExecSecretOnStderr: a program that prints the credentials it was given
// to standard error does not leak them into the error (the job's history)
// or the log.
func TestExecSecretOnStderr(t *testing.T) {
	e := newEnv(t, bridge.TransportExec, func(_ *bridgetest.Options, c *bridge.Config) {
		if c != nil {
			c.Command = []string{execPath(t), "-leak"}
		}
	})
	err := e.c.Upload(e.ctx, e.sale("L1"))
	e.checkErr(err, posagent.KindTransient) // checks every secret is absent
	if !strings.Contains(err.Error(), "credential pid=[redacted]") || !strings.Contains(err.Error(), "the relay is busy") {
		t.Fatalf("the standard error is not kept, redacted: %v", err)
	}
	// newEnv's cleanup scans the debug log, which holds the error, for the secrets.
	if !strings.Contains(e.logs.String(), "the relay is busy") {
		t.Fatal("the failure was not logged: the scan would prove nothing")
	}
}

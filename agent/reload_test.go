package agent

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
)

// Credentials the provider refuses (KindAuth, e.g. ECPay's TransCode 110)
// pause the provider: nothing queued goes dead, sales go on, the alarm says
// what to do, and `resume` ends the pause at once — not after configPause.
func TestAuthErrorPausesUntilResumed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, bubbleClock(), func(o *Options) { o.PollInterval = time.Second })
		var bad atomic.Bool
		bad.Store(true)
		h.provider.fn = func(c call) error {
			if bad.Load() {
				return posagent.Errorf(posagent.KindAuth, "ecpay OfflineIssue: TransCode 110: The parameter [Data] decrypt fail.")
			}
			return nil
		}
		stop := runSync(h)
		defer stop()
		for i := range 20 {
			sell(t, h, fmt.Sprintf("s-%d", i))
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		require.LessOrEqual(t, len(h.provider.callList()), 4, "kept calling a provider that refused the credentials")
		require.Zero(t, h.store.jobStates()[StateDead], "a job went dead")
		s, err := h.agent.Status(context.Background())
		require.NoError(t, err)
		require.True(t, s.Provider.Paused)
		require.Equal(t, "auth", s.Provider.PauseKind)
		require.False(t, s.Provider.PausedSince.IsZero())
		require.Contains(t, s.Provider.PauseReason, "decrypt fail")
		require.Equal(t, "provider_config", s.Alarms[0].Code)
		require.Equal(t, LevelCritical, s.Alarms[0].Level)
		require.Contains(t, s.Alarms[0].Message, "rejected the credentials")
		require.Contains(t, s.Alarms[0].Message, "posagent reload")

		bad.Store(false) // fixed at the provider
		code, body := h.do(t, "POST", "/v1/provider/resume", "")
		require.Equal(t, 200, code, "%v", body)
		require.Equal(t, true, body["was_paused"])
		time.Sleep(2 * time.Second) // far less than configPause
		synctest.Wait()
		require.Equal(t, map[string]int{StateDone: 20}, h.store.jobStates())
		s, err = h.agent.Status(context.Background())
		require.NoError(t, err)
		require.False(t, s.Provider.Paused)
		require.Equal(t, LevelOK, s.Level, "%+v", s.Alarms)
		code, body = h.do(t, "POST", "/v1/provider/resume", "")
		require.Equal(t, 200, code)
		require.Equal(t, false, body["was_paused"])
	})
}

// A reload with fixed credentials replaces the provider and resumes at once;
// the old provider is not called again.
func TestReloadReplacesTheProviderAndResumes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fixed := newFakeProvider(bubbleNow)
		var reloads atomic.Int32
		h := newHarness(t, bubbleClock(), func(o *Options) {
			o.PollInterval = time.Second
			o.Reload = func(ctx context.Context) (config.Config, Providers, error) {
				reloads.Add(1)
				cfg := testConfig()
				cfg.Sync.MaxAttempts = 99
				return cfg, Providers{testSeller: fixed}, nil
			}
		})
		h.provider.fn = func(c call) error { return posagent.Errorf(posagent.KindAuth, "keys rejected") }
		stop := runSync(h)
		defer stop()
		for i := range 5 {
			sell(t, h, fmt.Sprintf("s-%d", i))
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		before := len(h.provider.callList())
		code, body := h.do(t, "POST", "/v1/config/reload", "")
		require.Equal(t, 200, code, "%v", body)
		require.Equal(t, []any{"sync"}, body["changed"])
		require.Equal(t, true, body["resumed"])
		require.Equal(t, int32(1), reloads.Load())
		time.Sleep(2 * time.Second)
		synctest.Wait()
		require.Equal(t, map[string]int{StateDone: 5}, h.store.jobStates())
		require.Len(t, h.provider.callList(), before, "the old provider was called after the reload")
		require.Len(t, fixed.callList(), 5)
		require.Equal(t, 99, h.agent.conf().Sync.MaxAttempts)
		require.Contains(t, h.logs.String(), "configuration reloaded")
	})
}

// A file that is not valid, or that changes what needs a restart, changes
// nothing: the running settings, the provider and the pause stay.
func TestReloadRefusesAndChangesNothing(t *testing.T) {
	var next func() (config.Config, posagent.Provider, error)
	other := newFakeProvider(taipeiClock().Now)
	h := newHarness(t, taipeiClock().Now, func(o *Options) {
		o.Reload = func(ctx context.Context) (config.Config, Providers, error) {
			c, p, err := next()
			return c, Providers{c.Terminal.SellerTaxID: p}, err
		}
	})
	h.agent.noteHealth(h.agent.defaultSeller(), posagent.Errorf(posagent.KindAuth, "keys rejected"),
		h.agent.decide(Job{ID: 1, Kind: JobUpload}, posagent.Errorf(posagent.KindAuth, "keys rejected"), h.agent.now()))
	secret := "ZZsecretHashKeyZZ"
	cases := []struct {
		name  string
		next  func() (config.Config, posagent.Provider, error)
		field string
		msg   string
	}{
		{"invalid file", func() (config.Config, posagent.Provider, error) {
			return config.Config{}, nil, fmt.Errorf("config posagent.toml: %w",
				posagent.Invalid("provider.ecpay.hash_key", "must be 16 characters"))
		}, "provider.ecpay.hash_key", "must be 16 characters"},
		{"unreadable file", func() (config.Config, posagent.Provider, error) {
			return config.Config{}, nil, fmt.Errorf("read config: open posagent.toml: permission denied")
		}, "", "permission denied"},
		{"api address changed", func() (config.Config, posagent.Provider, error) {
			cfg := testConfig()
			cfg.API.Address = "127.0.0.1:9999"
			cfg.Provider.ECPay.HashKey = config.Secret(secret)
			return cfg, other, nil
		}, "api", "restart posagent"},
		{"terminal and store changed", func() (config.Config, posagent.Provider, error) {
			cfg := testConfig()
			cfg.Terminal.MachineID = "POS02"
			cfg.Store.Path = "/elsewhere.db"
			return cfg, other, nil
		}, "terminal", "terminal, store cannot change"},
		{"console password changed", func() (config.Config, posagent.Provider, error) {
			cfg := testConfig()
			cfg.Console.Password = config.Secret(secret)
			return cfg, other, nil
		}, "console", "restart"},
		{"provider name changed", func() (config.Config, posagent.Provider, error) {
			cfg := testConfig()
			cfg.Provider.Name = "ecpay"
			return cfg, other, nil
		}, "provider.name", "restart"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			next = tc.next
			before := *h.agent.conf()
			code, body := h.do(t, "POST", "/v1/config/reload", "")
			require.Equal(t, 422, code, "%v", body)
			require.Equal(t, "invalid", body["code"])
			field, _ := body["field"].(string)
			require.Equal(t, tc.field, field, "%v", body)
			require.Contains(t, body["message"], tc.msg)
			require.NotContains(t, fmt.Sprint(body), secret)
			require.Equal(t, before, *h.agent.conf())
			require.Same(t, h.provider, h.agent.defaultSeller().prov().(*fakeProvider))
			s, err := h.agent.Status(context.Background())
			require.NoError(t, err)
			require.True(t, s.Provider.Paused, "a refused reload resumed the provider")
		})
	}
	require.NotContains(t, h.logs.String(), secret)

	plain := newHarness(t, taipeiClock().Now, nil)
	code, body := plain.do(t, "POST", "/v1/config/reload", "")
	require.Equal(t, 409, code, "%v", body)
	require.Contains(t, body["message"], "not started from a config file")
}

// A fresh invoice the provider client holds for the provider's clock second
// is a wait, not a failure: no transient failure in the metrics, no "job will
// be retried" in the log, no error in status, the attempt not counted, and it
// is uploaded once the wait is over.
func TestClockWaitIsNotAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, bubbleClock(), func(o *Options) { o.PollInterval = time.Second })
		var n atomic.Int32
		h.provider.fn = func(c call) error {
			if n.Add(1) == 1 {
				return &posagent.Error{Kind: posagent.KindTransient, RetryAfter: 1500 * time.Millisecond,
					Message: "ecpay OfflineIssue: invoice AB12345600 waits 1.5s for ECPay's clock to pass its issue time"}
			}
			return nil
		}
		stop := runSync(h)
		defer stop()
		sell(t, h, "s-1")
		synctest.Wait()
		s, err := h.agent.Status(context.Background())
		require.NoError(t, err)
		require.True(t, s.Provider.Online)
		require.Empty(t, s.Provider.LastError)
		require.Contains(t, s.Provider.HoldReason, "waits 1.5s for ECPay's clock")
		require.Equal(t, LevelOK, s.Level)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		require.Equal(t, map[string]int{StateDone: 1}, h.store.jobStates())
		jobs, err := h.store.Jobs(context.Background(), StateDone, 10)
		require.NoError(t, err)
		require.Equal(t, 1, jobs[0].Attempts, "the wait counted as an attempt")
		require.Empty(t, jobs[0].LastError)
		require.NotContains(t, h.logs.String(), "job will be retried")
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		require.Equal(t, 200, rec.Code)
		m := rec.Body.String()
		require.Contains(t, m, `posagent_provider_calls_total{kind="upload",result="wait"} 1`)
		require.NotContains(t, m, `result="transient"`)
	})
}

package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/bridge/bridgetest"
)

func TestInitWritesABridgeConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posagent.toml")
	code, out, errOut := runOperator(t, "", "init", "--provider", "bridge", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "POSAGENT_BRIDGE_SECRET")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), "[provider.bridge]")
	code, _, errOut = runOperator(t, "", "init", "--provider", "smtp", filepath.Join(t.TempDir(), "x.toml"))
	require.NotEqual(t, 0, code)
	require.Contains(t, errOut, "init --provider must be")
}

func TestRunProviderFlagIsForTheDemo(t *testing.T) {
	code, _, errOut := runOperator(t, "", "run", "--provider", "bridge")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "--provider goes with --demo")
}

// TestNewProviderBridge: [provider.bridge] opens the bridge with the
// capabilities its settings ask for.
func TestNewProviderBridge(t *testing.T) {
	srv := bridgetest.New(bridgetest.Options{})
	defer srv.Close()
	cfg := demoConfig(t.TempDir(), srv.URL(), "/dev/null", "0123456789abcdef0123456789")
	cfg.Printer.Device = "none"
	cfg.Provider.Name = "bridge"
	cfg.Provider.Bridge = config.Bridge{Transport: "http", URL: srv.URL(), Secret: bridgetest.DemoSecret,
		Timeout: config.Duration{Duration: 5 * time.Second}, Lease: true}
	require.NoError(t, cfg.Validate())
	p, err := newProvider(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.Equal(t, "bridge", p.Name())
	src, ok := p.(posagent.BookletSource)
	require.True(t, ok, "lease = true is a booklet source")
	bs, err := src.LeaseBooklets(t.Context(), posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now()), Booklets: 1})
	require.NoError(t, err)
	require.Len(t, bs, 1)
}

// TestDemoWithBridgeReceiver: `posagent run --demo --provider bridge` leases
// from the reference receiver, sells, and uploads through the bridge.
func TestDemoWithBridgeReceiver(t *testing.T) {
	t.Setenv("POSAGENT_ADDR", "")
	t.Setenv("POSAGENT_TOKEN", "")
	t.Setenv("POSAGENT_CONFIG", "")
	dir := t.TempDir()
	out, _ := startDemo(t, dir, "--provider", "bridge")
	require.Contains(t, out.String(), "bridge stand-in")
	require.Contains(t, out.String(), "first sale     invoice ZZ-10000000")
	cfgPath := filepath.Join(dir, "posagent.toml")
	require.Eventually(t, func() bool {
		code, status, _ := runOperator(t, "", "status", "--config", cfgPath)
		return code == 0 && strings.Contains(status, "bridge: online") && strings.Contains(status, "0 waiting")
	}, 30*time.Second, 100*time.Millisecond, "the demo's first sale was not uploaded through the bridge")
}

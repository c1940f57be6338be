package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	require.Contains(t, errOut, "no example for provider")
}

func TestRunProviderFlagIsForTheDemo(t *testing.T) {
	code, _, errOut := runOperator(t, "", "run", "--provider", "bridge")
	require.Equal(t, 2, code, errOut)
	require.Contains(t, errOut, "--provider is for the demo")
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
	p, err := newProvider(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.Equal(t, "bridge", p.Name())
	src, ok := p.(posagent.BookletSource)
	require.True(t, ok, "lease = true is a booklet source")
	bs, err := src.LeaseBooklets(t.Context(), posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now()), Booklets: 1})
	require.NoError(t, err)
	require.Len(t, bs, 1)
}

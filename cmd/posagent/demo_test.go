package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent/config"
	"github.com/stretchr/testify/require"
)

type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// When the demo's port is held by another process, an explicit --addr is
// refused before anything is written, and the default gives way to a free
// port: the folder's posagent.toml then names the port the demo holds, so
// the operator commands reach this demo with its token, never the other one.
func TestDemoPortTaken(t *testing.T) {
	other, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer other.Close()
	taken := other.Addr().String()
	old := demoDefaultAddress
	demoDefaultAddress = taken
	t.Cleanup(func() { demoDefaultAddress = old })
	t.Setenv("POSAGENT_ADDR", "")
	t.Setenv("POSAGENT_TOKEN", "")
	t.Setenv("POSAGENT_CONFIG", "")

	// --addr names the taken port: refused, and the folder is left alone.
	dir := t.TempDir()
	code, _, errOut := runOperator(t, "", "run", "--demo", "--dir", dir, "--addr", taken)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, taken)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "a refused demo wrote into its folder")
	// --addr belongs to the demo.
	code, _, errOut = runOperator(t, "", "run", "--addr", "127.0.0.1:0")
	require.Equal(t, 2, code, errOut)

	// The default is taken: the demo takes another port and says so.
	ctx, cancel := context.WithCancel(context.Background())
	out, errs := &lockedWriter{}, &lockedWriter{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"run", "--demo", "--dir", dir}, stdio{in: strings.NewReader(""), out: out, err: errs})
	}()
	defer func() {
		cancel()
		select {
		case code := <-done:
			require.Equal(t, 0, code, "%s", errs.String())
		case <-time.After(30 * time.Second):
			t.Error("the demo did not stop")
		}
	}()
	cfgPath := filepath.Join(dir, "posagent.toml")
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "posagent demo is running") },
		60*time.Second, 50*time.Millisecond, "the demo did not start: %s", errs.String())
	require.Contains(t, out.String(), taken+" is taken")
	cfg, err := config.LoadLoose(cfgPath)
	require.NoError(t, err)
	require.NotEqual(t, taken, cfg.API.Address)
	require.Contains(t, out.String(), cfg.API.Address)

	code, status, errOut := runOperator(t, "", "status", "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, status, "DEMO01")
}

// startDemo runs `posagent run --demo --dir dir --addr 127.0.0.1:0` with
// more arguments until the test ends, and returns its output once it says
// it is running, and its log.
func startDemo(t *testing.T, dir string, args ...string) (out, errs *lockedWriter) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errs = &lockedWriter{}, &lockedWriter{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"run", "--demo", "--dir", dir, "--addr", "127.0.0.1:0"}, args...),
			stdio{in: strings.NewReader(""), out: out, err: errs})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("the demo ended with %d: %s", code, errs.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("the demo did not stop")
		}
	})
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "posagent demo is running") },
		60*time.Second, 50*time.Millisecond, "the demo did not start: %s", errs.String())
	return out, errs
}

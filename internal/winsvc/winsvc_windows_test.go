package winsvc

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
)

// The handler's part of the service protocol, without a service manager.
func TestHandlerGracefulStop(t *testing.T) {
	for _, cmd := range []svc.Cmd{svc.Stop, svc.Shutdown} {
		stopped := make(chan struct{})
		h := &handler{log: slog.New(slog.DiscardHandler), work: func(ctx context.Context) error {
			<-ctx.Done()
			time.Sleep(50 * time.Millisecond) // winding down: sales in hand answered
			close(stopped)
			return nil
		}}
		requests := make(chan svc.ChangeRequest)
		status := make(chan svc.Status, 10)
		type result struct {
			specific bool
			code     uint32
		}
		res := make(chan result, 1)
		go func() {
			s, c := h.Execute(nil, requests, status)
			res <- result{s, c}
		}()
		require.Equal(t, svc.StartPending, (<-status).State)
		running := <-status
		require.Equal(t, svc.Running, running.State)
		require.Equal(t, svc.AcceptStop|svc.AcceptShutdown, running.Accepts)
		requests <- svc.ChangeRequest{Cmd: svc.Interrogate, CurrentStatus: running}
		require.Equal(t, running, <-status)
		requests <- svc.ChangeRequest{Cmd: cmd}
		pending := <-status
		require.Equal(t, svc.StopPending, pending.State)
		require.Equal(t, uint32(StopTimeout/time.Millisecond), pending.WaitHint)
		r := <-res
		select {
		case <-stopped:
		default:
			t.Fatal("Execute returned before the work had stopped")
		}
		require.Equal(t, result{false, 0}, r)
	}
}

func TestHandlerWorkFails(t *testing.T) {
	h := &handler{log: slog.New(slog.DiscardHandler), work: func(context.Context) error {
		return errors.New("store.path: access denied")
	}}
	status := make(chan svc.Status, 10)
	specific, code := h.Execute(nil, make(chan svc.ChangeRequest), status)
	require.True(t, specific)
	require.Equal(t, uint32(1), code, "a failure exit, so the restart actions apply")
}

var serviceMarker = flag.String("winsvc.marker", "", "run as the test service, writing this file")

// TestServiceChild is the service process of TestServiceLifecycle: started by
// the service manager, it writes "running" to the marker, and "stopped" once
// its context was cancelled by a stop.
func TestServiceChild(t *testing.T) {
	if *serviceMarker == "" {
		t.Skip("only run by the service manager for TestServiceLifecycle")
	}
	err := Run(filepath.Base(*serviceMarker), func(ctx context.Context) error {
		os.WriteFile(*serviceMarker, []byte("running"), 0o600)
		<-ctx.Done()
		return os.WriteFile(*serviceMarker, []byte("stopped gracefully"), 0o600)
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		os.WriteFile(*serviceMarker, []byte("svc.Run: "+err.Error()), 0o600)
	}
}

// Install, query, start, stop (gracefully) and uninstall a real service:
// this test binary, under the service manager (Wine's in CI).
func TestServiceLifecycle(t *testing.T) {
	if os.Getenv("CI") == "" && os.Getenv("POSAGENT_TEST_SERVICE") == "" {
		t.Skip("installs a Windows service: set POSAGENT_TEST_SERVICE=1 (CI does) and run as Administrator")
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	name := fmt.Sprintf("posagent-test-%d", os.Getpid())
	marker := filepath.Join(t.TempDir(), name)
	spec := NewSpec(exe, `C:\ProgramData\posagent-test\posagent.toml`)
	spec.Name, spec.DisplayName = name, "posagent test "+name
	spec.Args = []string{"-test.run=^TestServiceChild$", "-winsvc.marker=" + marker}
	require.NoError(t, Install(spec))
	t.Cleanup(func() { Uninstall(name, 10*time.Second) })

	require.ErrorContains(t, Install(spec), "already installed")
	st, err := Query(name)
	require.NoError(t, err)
	require.Equal(t, Stopped, st.State)
	require.Equal(t, "automatic", st.StartType)
	require.Contains(t, st.CommandLine, exe)
	require.Contains(t, st.CommandLine, "-winsvc.marker=")
	require.Contains(t, strings.ToLower(st.Account), "localsystem")

	require.NoError(t, Start(name, 30*time.Second))
	st, err = Query(name)
	require.NoError(t, err)
	require.Equal(t, Running, st.State)
	require.NotZero(t, st.PID)
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(marker)
		return string(b) == "running"
	}, 10*time.Second, 50*time.Millisecond)

	require.NoError(t, Stop(name, 30*time.Second))
	b, err := os.ReadFile(marker)
	require.NoError(t, err)
	require.Equal(t, "stopped gracefully", string(b))

	require.NoError(t, Uninstall(name, 10*time.Second))
	st, err = Query(name)
	require.NoError(t, err)
	require.Equal(t, NotInstalled, st.State)
	require.ErrorContains(t, Start(name, time.Second), "not installed")
	require.Error(t, Uninstall(name, time.Second))
}

func TestEventLog(t *testing.T) {
	if os.Getenv("CI") == "" && os.Getenv("POSAGENT_TEST_SERVICE") == "" {
		t.Skip("registers an event-log source: set POSAGENT_TEST_SERVICE=1 (CI does) and run as Administrator")
	}
	name := fmt.Sprintf("posagent-test-log-%d", os.Getpid())
	spec := NewSpec(`C:\posagent.exe`, `C:\posagent.toml`)
	spec.Name = name
	require.NoError(t, Install(spec))
	t.Cleanup(func() { Uninstall(name, time.Second) })
	h, err := OpenEventLog(name, slog.LevelWarn)
	require.NoError(t, err)
	defer h.Close()
	log := slog.New(h).With("component", "test")
	require.False(t, h.Enabled(context.Background(), slog.LevelInfo))
	log.Warn("paper near end", "printer", "COM3")
	log.Error("upload failed", "err", windows.ERROR_ACCESS_DENIED)
}

package main

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/config"
)

func TestServiceUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"service"}, "say what to do"},
		{[]string{"service", "restart"}, `unknown action "restart"`},
		{[]string{"service", "start", "--config", "x.toml"}, "--config is for install and run only"},
		{[]string{"service", "start", "stop"}, "say what to do"},
		{[]string{"service", "run"}, "service run needs --config"},
	} {
		code, _, errOut := runCLI(t, "", tc.args...)
		require.Equal(t, 2, code, tc.args)
		require.Contains(t, errOut, tc.want)
	}
	code, _, errOut := runCLI(t, "", "service", "-h")
	require.Equal(t, 0, code)
	require.Contains(t, errOut, `%ProgramData%\posagent`)
}

func TestServiceOffWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("tested where there is no service manager")
	}
	for _, args := range [][]string{{"install"}, {"uninstall"}, {"start"}, {"stop"}, {"status"}, {"run", "--config", "/x.toml"}} {
		code, _, errOut := runCLI(t, "", append([]string{"service"}, args...)...)
		require.Equal(t, 1, code)
		require.Contains(t, errOut, "systemd unit", "a Linux user is pointed at the unit file")
	}
}

// What install asks the service manager for.
func TestPlanService(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "posagent.exe")
	p, err := planService(exe, "")
	require.NoError(t, err)
	require.Equal(t, config.SystemConfigPath(), p.config)
	require.True(t, p.ours, "the system folder is the service's: install sets its access")
	require.Equal(t, []string{"service", "run", "--config", config.SystemConfigPath()}, p.spec.Args)
	require.Equal(t, exe, p.spec.Exe)
	require.Equal(t, "posagent", p.spec.Name)

	t.Chdir(t.TempDir())
	p, err = planService(exe, "shop.toml")
	require.NoError(t, err)
	require.True(t, filepath.IsAbs(p.config), "the service starts in System32: the path must be absolute")
	require.Equal(t, p.config, p.spec.Args[3])
	require.False(t, p.ours, "a folder the operator chose is not changed")

	_, err = planService("posagent.exe", "")
	require.ErrorContains(t, err, "absolute path")
}

func TestJoinArgs(t *testing.T) {
	require.Equal(t, `run --config "C:\Program Data\p.toml" ""`, joinArgs([]string{"run", "--config", `C:\Program Data\p.toml`, ""}))
}

// As a service, the agent's warnings also reach the event log.
func TestNewLoggerTeesToTheEventLog(t *testing.T) {
	var file, events bytes.Buffer
	serviceEventLog = slog.NewTextHandler(&events, &slog.HandlerOptions{Level: slog.LevelWarn})
	t.Cleanup(func() { serviceEventLog = nil })
	log := newLogger(&file, config.DefaultConfig().Log)
	log.Info("sale issued")
	log.Warn("paper near end")
	require.Contains(t, file.String(), "sale issued")
	require.Contains(t, file.String(), "paper near end")
	require.NotContains(t, events.String(), "sale issued")
	require.Contains(t, events.String(), "paper near end")
	require.Equal(t, 1, strings.Count(events.String(), "\n"))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/internal/private"
	"github.com/posagent/posagent/internal/winsvc"
)

const serviceUsage = `service install [--config PATH] | uninstall | start | stop | status | run --config PATH

Windows only (run from an Administrator prompt). install registers posagent
as the service "posagent": started at boot as LocalSystem, restarted after a
failure, running "posagent run --config PATH" (default
%ProgramData%\posagent\posagent.toml, written with a fresh token if missing).
%ProgramData%\posagent (config, store, logs) is made readable by SYSTEM and
Administrators only. Logs go to logs\posagent.log beside the config
(rotated at 10 MB, 5 kept) and warnings and errors also to the event log.
status exits 0 when the service runs, 3 when not. run is what the service
manager starts; it does not work from a console (use posagent run there).
On Linux use the systemd unit shipped in the archive (posagent.service).`

// serviceWait bounds how long start, stop and uninstall wait for the service
// manager; stop waits longer than the service's own StopTimeout.
const serviceWait = winsvc.StopTimeout + 15*time.Second

// Log file of the service: 10 MB a file, five old ones kept.
const (
	serviceLogMax  = 10 << 20
	serviceLogKeep = 5
)

// serviceLogPath is the service's log file: in logs\ beside its config
// (%ProgramData%\posagent\logs\posagent.log by default), a folder its
// access-control list already protects.
func serviceLogPath(cfgPath string) string {
	return filepath.Join(filepath.Dir(cfgPath), "logs", "posagent.log")
}

func runService(_ context.Context, std stdio, args []string) error {
	fs := newFlags("service", std, serviceUsage)
	cfgPath := fs.String("config", "", "install, run: the config the service runs with (default "+config.SystemConfigPath()+")")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usagef("say what to do: install, uninstall, start, stop or status")
	}
	verb := rest[0]
	switch verb {
	case "install", "uninstall", "start", "stop", "status", "run":
	default:
		return usagef("unknown action %q: install, uninstall, start, stop or status", verb)
	}
	if *cfgPath != "" && verb != "install" && verb != "run" {
		return usagef("--config is for install and run only")
	}
	if verb == "run" && *cfgPath == "" {
		return usagef("service run needs --config PATH")
	}
	if runtime.GOOS != "windows" {
		return winsvc.ErrNotWindows
	}
	name := winsvc.NewSpec("", "").Name
	switch verb {
	case "install":
		return serviceInstall(std, *cfgPath)
	case "run":
		return serviceRun(name, *cfgPath)
	case "uninstall":
		if err := winsvc.Uninstall(name, serviceWait); err != nil {
			return err
		}
		fmt.Fprintf(std.out, "service %s removed; its config, store and logs stay in %s\n", name, filepath.Dir(config.SystemConfigPath()))
		return nil
	case "start":
		if err := winsvc.Start(name, serviceWait); err != nil {
			return fmt.Errorf("%w (log: %s)", err, serviceLogPath(config.SystemConfigPath()))
		}
		fmt.Fprintf(std.out, "service %s running; posagent status shows the agent\n", name)
		return nil
	case "stop":
		if err := winsvc.Stop(name, serviceWait); err != nil {
			return err
		}
		fmt.Fprintf(std.out, "service %s stopped\n", name)
		return nil
	}
	st, err := winsvc.Query(name)
	if err != nil {
		return err
	}
	printServiceStatus(std, name, st)
	if st.State != winsvc.Running {
		return exitError{3}
	}
	return nil
}

func printServiceStatus(std stdio, name string, st winsvc.Status) {
	fmt.Fprintf(std.out, "service %s: %s", name, st.State)
	if st.PID != 0 {
		fmt.Fprintf(std.out, " (pid %d)", st.PID)
	}
	fmt.Fprintln(std.out)
	if st.State == winsvc.NotInstalled {
		fmt.Fprintln(std.out, "install it with: posagent service install")
		return
	}
	fmt.Fprintf(std.out, "  command:  %s\n  start:    %s, as %s\n", st.CommandLine, st.StartType, st.Account)
	if st.State == winsvc.Stopped && st.ExitCode != 0 {
		fmt.Fprintf(std.out, "  last exit code: %d (see the log and the event log)\n", st.ExitCode)
	}
}

// servicePlan is what install sets up: the spec for the service manager and
// the config file the service reads.
type servicePlan struct {
	spec   winsvc.Spec
	config string
	// ours: the config's folder is %ProgramData%\posagent, whose access
	// install sets for the service; a folder the operator chose is only
	// created private, never changed.
	ours bool
}

func planService(exe, cfgFlag string) (servicePlan, error) {
	cfg := cfgFlag
	if cfg == "" {
		cfg = config.SystemConfigPath()
	}
	abs, err := filepath.Abs(cfg)
	if err != nil {
		return servicePlan{}, fmt.Errorf("config path: %w", err)
	}
	p := servicePlan{spec: winsvc.NewSpec(exe, abs), config: abs,
		ours: filepath.Dir(abs) == filepath.Dir(config.SystemConfigPath())}
	return p, p.spec.Validate()
}

func serviceInstall(std stdio, cfgFlag string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find posagent.exe: %w", err)
	}
	plan, err := planService(exe, cfgFlag)
	if err != nil {
		return err
	}
	dir := filepath.Dir(plan.config)
	if err := private.MkdirAll(dir); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if plan.ours {
		// The store holds buyer data: SYSTEM and Administrators only,
		// inherited by the config, the store and the logs inside.
		if err := private.RestrictToSystem(dir); err != nil {
			return err
		}
	}
	created := false
	if _, err := os.Stat(plan.config); errors.Is(err, fs.ErrNotExist) {
		if err := config.WriteExample(plan.config); err != nil {
			return err
		}
		if err := private.RestrictToSystem(plan.config); err != nil {
			return err
		}
		created = true
	} else if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if err := winsvc.Install(plan.spec); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "installed service %s: starts at boot as LocalSystem, restarts after a failure\n", plan.spec.Name)
	fmt.Fprintf(std.out, "  runs:   %s\n", joinArgs(append([]string{plan.spec.Exe}, plan.spec.Args...)))
	fmt.Fprintf(std.out, "  log:    %s and the event log (source %s)\n", serviceLogPath(plan.config), plan.spec.Name)
	if created {
		fmt.Fprintf(std.out, "  config: %s (new, with a fresh API token)\n", plan.config)
		fmt.Fprintln(std.out, "Next: edit the config ([terminal], [provider], printer device = \"COM3\" or \"winspool:PRINTER NAME\").")
		fmt.Fprintln(std.out, "A service has no environment of its own: write the QR key and ECPay keys into the config itself")
		fmt.Fprintln(std.out, "instead of ${...} (only SYSTEM and Administrators can read it). Then: posagent service start")
		return nil
	}
	fmt.Fprintf(std.out, "  config: %s\n", plan.config)
	if _, err := config.Load(plan.config, nil); err != nil {
		fmt.Fprintf(std.out, "The config does not load yet, so the service would not start: %v\nFix it, then: posagent service start\n", err)
		return nil
	}
	fmt.Fprintln(std.out, "Next: posagent service start")
	return nil
}

func joinArgs(args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t") {
			a = `"` + a + `"` // Windows quoting: backslashes stay as they are
		}
		quoted[i] = a
	}
	return strings.Join(quoted, " ")
}

// Package winsvc runs posagent as a Windows service and installs, starts,
// stops and removes it through the service control manager. It wraps
// golang.org/x/sys/windows/svc (with svc/mgr and svc/eventlog): maintained by
// the Go team, already a dependency (go.bug.st/serial uses x/sys), and thin
// enough that what is asked of Windows stays visible here, unlike the
// third-party wrappers, which add config formats and process supervision the
// agent does not need.
//
// On other systems every call fails with ErrNotWindows; Spec and its checks
// work everywhere, so what install asks for is tested on Linux too.
package winsvc

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotWindows is returned by every service call off Windows.
var ErrNotWindows = errors.New("Windows services exist only on Windows; on Linux use the systemd unit (posagent.service)")

// StopTimeout bounds how long Run waits for the work to finish after the
// service manager said stop; the manager is told to expect that much.
const StopTimeout = 30 * time.Second

// Spec is what Install asks the service control manager for.
type Spec struct {
	// Name is the service's key name (sc query NAME); DisplayName and
	// Description are what services.msc shows.
	Name, DisplayName, Description string
	// Exe is the absolute path of posagent.exe; Args follow it on the
	// service's command line (service run --config PATH).
	Exe  string
	Args []string
	// Restart lists the delays of the service manager's restarts after the
	// first, second and later failures (an agent that dies must come back:
	// the till cannot sell without it). ResetAfter is the failure-free time
	// after which the count starts again.
	Restart    []time.Duration
	ResetAfter time.Duration
}

// NewSpec is posagent's service: started automatically at boot as
// LocalSystem, restarted 5 s, 30 s and 60 s after failures, running
// `posagent service run --config configPath`. The explicit "service run"
// (rather than guessing from the parent process, as svc.IsWindowsService
// does, which Wine defeats) tells posagent to talk to the service manager.
func NewSpec(exe, configPath string) Spec {
	return Spec{
		Name:        "posagent",
		DisplayName: "posagent e-invoice agent",
		Description: "Issues Taiwanese e-invoices (電子發票) for this till, prints their proofs and uploads them; see " +
			"posagent status.",
		Exe:        exe,
		Args:       []string{"service", "run", "--config", configPath},
		Restart:    []time.Duration{5 * time.Second, 30 * time.Second, 60 * time.Second},
		ResetAfter: 24 * time.Hour,
	}
}

// Validate checks what the service manager would take but the service could
// not run with.
func (s Spec) Validate() error {
	switch {
	case s.Name == "" || strings.ContainsAny(s.Name, `/\ `):
		return fmt.Errorf("service name %q: must be a non-empty word without slashes or spaces", s.Name)
	case !isAbs(s.Exe):
		return fmt.Errorf("service executable %q: must be an absolute path (the service manager starts it from System32)", s.Exe)
	}
	for i, a := range s.Args {
		if a == "--config" && (i+1 >= len(s.Args) || !isAbs(s.Args[i+1])) {
			return fmt.Errorf("service config path %q: must be an absolute path", strings.Join(s.Args[i+1:], " "))
		}
	}
	return nil
}

// isAbs accepts both systems' absolute paths, so a Windows Spec is checked
// on Linux too.
func isAbs(p string) bool {
	if filepath.IsAbs(p) {
		return true
	}
	return len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') &&
		(p[0]|0x20 >= 'a' && p[0]|0x20 <= 'z')
}

// State is a service's state as the service manager reports it.
type State string

// The states Query reports.
const (
	NotInstalled    State = "not installed"
	Stopped         State = "stopped"
	StartPending    State = "starting"
	StopPending     State = "stopping"
	Running         State = "running"
	ContinuePending State = "continuing"
	PausePending    State = "pausing"
	Paused          State = "paused"
)

// Status is what Query tells about an installed service.
type Status struct {
	State State
	// PID is the service process's id while it runs.
	PID uint32
	// CommandLine is the service's command line as the manager keeps it.
	CommandLine string
	// StartType is "automatic", "manual" or "disabled".
	StartType string
	// Account is the account the service runs as.
	Account string
	// ExitCode is the last exit's Win32 or service-specific code.
	ExitCode uint32
}

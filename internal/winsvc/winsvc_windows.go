package winsvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// Install creates the service and its event-log source. It refuses when a
// service of that name exists.
func Install(s Spec) error {
	if err := s.Validate(); err != nil {
		return err
	}
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	if old, err := m.OpenService(s.Name); err == nil {
		old.Close()
		return fmt.Errorf("service %s is already installed; `posagent service uninstall` first", s.Name)
	}
	// LocalSystem (ServiceStartName empty): the account the store's
	// access-control list names; it can open COM ports and the spooler.
	svcObj, err := m.CreateService(s.Name, s.Exe, mgr.Config{
		DisplayName:  s.DisplayName,
		Description:  s.Description,
		StartType:    mgr.StartAutomatic,
		ErrorControl: mgr.ErrorNormal,
	}, s.Args...)
	if err != nil {
		return fmt.Errorf("create service %s: %w", s.Name, err)
	}
	defer svcObj.Close()
	actions := make([]mgr.RecoveryAction, len(s.Restart))
	for i, d := range s.Restart {
		actions[i] = mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: d}
	}
	if len(actions) > 0 {
		if err := svcObj.SetRecoveryActions(actions, uint32(s.ResetAfter/time.Second)); err != nil {
			svcObj.Delete()
			return fmt.Errorf("set the restart-on-failure actions of %s: %w", s.Name, err)
		}
	}
	// A source left by an earlier install is fine; anything else is not.
	if err := eventlog.InstallAsEventCreate(s.Name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil &&
		!errors.Is(err, windows.ERROR_ALREADY_EXISTS) && !isExistsMessage(err) {
		svcObj.Delete()
		return fmt.Errorf("register the event-log source %s: %w", s.Name, err)
	}
	return nil
}

// isExistsMessage matches eventlog's "registry key already exists" error,
// which it returns as a plain string.
func isExistsMessage(err error) bool { return strings.Contains(err.Error(), "already exists") }

// Uninstall stops the service if it runs (waiting up to wait) and removes it
// and its event-log source. Config, store and logs stay.
func Uninstall(name string, wait time.Duration) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		return fmt.Errorf("service %s is not installed: %w", name, err)
	}
	defer s.Close()
	if st, err := s.Query(); err == nil && st.State != svc.Stopped {
		if err := stop(s, wait); err != nil {
			return err
		}
	}
	if err := s.Delete(); err != nil {
		return fmt.Errorf("delete service %s: %w", name, err)
	}
	if err := eventlog.Remove(name); err != nil {
		return fmt.Errorf("service %s removed, but not its event-log source: %w", name, err)
	}
	return nil
}

// Start starts the service and waits up to wait for it to run. A service
// that stops again at once (a bad config) is an error naming its exit code.
func Start(name string, wait time.Duration) error {
	return withService(name, func(s *mgr.Service) error {
		if err := s.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
			return fmt.Errorf("start %s: %w", name, err)
		}
		st, err := waitFor(s, svc.Running, wait)
		if err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		if st.State != svc.Running {
			return fmt.Errorf("start %s: it stopped (exit code %d, service code %d); see its log and the event log",
				name, st.Win32ExitCode, st.ServiceSpecificExitCode)
		}
		return nil
	})
}

// Stop asks the service to stop and waits up to wait for it.
func Stop(name string, wait time.Duration) error {
	return withService(name, func(s *mgr.Service) error { return stop(s, wait) })
}

func stop(s *mgr.Service, wait time.Duration) error {
	if _, err := s.Control(svc.Stop); err != nil && !errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
		return fmt.Errorf("stop %s: %w", s.Name, err)
	}
	st, err := waitFor(s, svc.Stopped, wait)
	if err != nil {
		return fmt.Errorf("stop %s: %w", s.Name, err)
	}
	if st.State != svc.Stopped {
		return fmt.Errorf("stop %s: still %s after %s", s.Name, stateOf(st.State), wait)
	}
	return nil
}

// waitFor polls until the service reaches want, or stops (when want is
// Running), or wait passes.
func waitFor(s *mgr.Service, want svc.State, wait time.Duration) (svc.Status, error) {
	deadline := time.Now().Add(wait)
	for {
		st, err := s.Query()
		if err != nil {
			return st, err
		}
		if st.State == want || (want == svc.Running && st.State == svc.Stopped) || !time.Now().Before(deadline) {
			return st, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Query tells the service's state and how it is installed; NotInstalled
// when there is none.
func Query(name string) (Status, error) {
	m, err := mgr.Connect()
	if err != nil {
		return Status{}, fmt.Errorf("connect to the service manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return Status{State: NotInstalled}, nil
	}
	if err != nil {
		return Status{}, fmt.Errorf("open service %s: %w", name, err)
	}
	defer s.Close()
	st, err := s.Query()
	if err != nil {
		return Status{}, fmt.Errorf("query service %s: %w", name, err)
	}
	out := Status{State: stateOf(st.State), PID: st.ProcessId, ExitCode: st.Win32ExitCode}
	if st.Win32ExitCode == uint32(windows.ERROR_SERVICE_SPECIFIC_ERROR) {
		out.ExitCode = st.ServiceSpecificExitCode
	}
	// QueryServiceConfig alone: mgr's Config also asks QueryServiceConfig2
	// for details this does not need, which Wine does not all implement.
	if c, err := queryConfig(s.Handle); err == nil {
		out.CommandLine = windows.UTF16PtrToString(c.BinaryPathName)
		out.Account = windows.UTF16PtrToString(c.ServiceStartName)
		switch c.StartType {
		case mgr.StartAutomatic:
			out.StartType = "automatic"
		case mgr.StartManual:
			out.StartType = "manual"
		case mgr.StartDisabled:
			out.StartType = "disabled"
		}
	}
	return out, nil
}

func queryConfig(h windows.Handle) (*windows.QUERY_SERVICE_CONFIG, error) {
	buf := make([]byte, 1024)
	for {
		var needed uint32
		c := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&buf[0]))
		err := windows.QueryServiceConfig(h, c, uint32(len(buf)), &needed)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || needed <= uint32(len(buf)) {
			return nil, err
		}
		buf = make([]byte, needed)
	}
}

func withService(name string, f func(*mgr.Service) error) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connect to the service manager (run as Administrator): %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		return fmt.Errorf("service %s is not installed (posagent service install): %w", name, err)
	}
	defer s.Close()
	return f(s)
}

func stateOf(s svc.State) State {
	switch s {
	case svc.Stopped:
		return Stopped
	case svc.StartPending:
		return StartPending
	case svc.StopPending:
		return StopPending
	case svc.Running:
		return Running
	case svc.ContinuePending:
		return ContinuePending
	case svc.PausePending:
		return PausePending
	case svc.Paused:
		return Paused
	}
	return State(fmt.Sprintf("state %d", s))
}

// Run runs work as the service name until it returns or the service manager
// says stop (or the machine shuts down); then work's context is cancelled
// and Run waits up to StopTimeout for it: the agent's graceful stop (sales in
// hand answered, the store closed). A work error ends the service with a
// service-specific exit code of 1, which makes the manager's restart
// actions apply.
func Run(name string, work func(ctx context.Context) error, log *slog.Logger) error {
	return svc.Run(name, &handler{work: work, log: log})
}

type handler struct {
	work func(ctx context.Context) error
	log  *slog.Logger
}

func (h *handler) Execute(_ []string, requests <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	status <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.work(ctx) }()
	running := svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	status <- running
	for {
		select {
		case err := <-done:
			if err != nil {
				h.log.Error("the agent stopped", "err", err)
				return true, 1
			}
			h.log.Info("the agent stopped")
			return false, 0
		case r := <-requests:
			switch r.Cmd {
			case svc.Interrogate:
				status <- r.CurrentStatus
			case svc.Stop, svc.Shutdown:
				h.log.Info("the service manager asked the agent to stop")
				status <- svc.Status{State: svc.StopPending, WaitHint: uint32(StopTimeout / time.Millisecond)}
				cancel()
				select {
				case err := <-done:
					if err != nil && !errors.Is(err, context.Canceled) {
						h.log.Error("the agent stopped with an error", "err", err)
						return true, 1
					}
					h.log.Info("the agent stopped")
					return false, 0
				case <-time.After(StopTimeout):
					h.log.Error("the agent did not stop in time; the service manager ends it", "after", StopTimeout)
					return true, 2
				}
			default:
				h.log.Warn("unexpected service control request", "cmd", r.Cmd)
			}
		}
	}
}

// EventLog is a slog.Handler writing records at or above a level to the
// Windows event log under the service's source.
type EventLog struct {
	l     *eventlog.Log
	level slog.Level
	attrs []slog.Attr
}

// OpenEventLog opens the event log for source (registered by Install).
func OpenEventLog(source string, level slog.Level) (*EventLog, error) {
	l, err := eventlog.Open(source)
	if err != nil {
		return nil, fmt.Errorf("open the event log: %w", err)
	}
	return &EventLog{l: l, level: level}, nil
}

// Close closes the event log.
func (e *EventLog) Close() error { return e.l.Close() }

func (e *EventLog) Enabled(_ context.Context, l slog.Level) bool { return l >= e.level }

func (e *EventLog) Handle(_ context.Context, r slog.Record) error {
	msg := formatRecord(r, e.attrs)
	switch {
	case r.Level >= slog.LevelError:
		return e.l.Error(eventID, msg)
	case r.Level >= slog.LevelWarn:
		return e.l.Warning(eventID, msg)
	}
	return e.l.Info(eventID, msg)
}

func (e *EventLog) WithAttrs(as []slog.Attr) slog.Handler {
	c := *e
	c.attrs = append(append([]slog.Attr{}, e.attrs...), as...)
	return &c
}

// WithGroup is flattened: the event log shows plain text.
func (e *EventLog) WithGroup(string) slog.Handler { return e }

// eventID is the one id posagent reports under (EventCreate's message file
// accepts 1–1000 and shows the text as is).
const eventID = 1

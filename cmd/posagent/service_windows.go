package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/posagent/posagent/internal/logfile"
	"github.com/posagent/posagent/internal/winsvc"
)

// serviceRun is `posagent service run --config PATH`, the command line the
// service manager starts: `posagent run` under the manager's control, with
// its log in the rotating file and the event log, as there is no console.
func serviceRun(name, cfgPath string) error {
	var out io.Writer = io.Discard
	lf, lerr := logfile.Open(serviceLogPath(cfgPath), serviceLogMax, serviceLogKeep)
	if lerr == nil {
		defer lf.Close()
		out = lf
	}
	handlers := []slog.Handler{slog.NewTextHandler(out, nil)}
	if ev, err := winsvc.OpenEventLog(name, slog.LevelInfo); err == nil {
		defer ev.Close()
		handlers = append(handlers, ev)
		// The agent's own warnings and errors go there too (newLogger).
		if warn, err := winsvc.OpenEventLog(name, slog.LevelWarn); err == nil {
			defer warn.Close()
			serviceEventLog = warn
		}
	}
	log := slog.New(slog.NewMultiHandler(handlers...))
	if lerr != nil {
		log.Error("cannot open the log file; logging to the event log only", "err", lerr)
	}
	log.Info("service starting", "config", cfgPath)
	std := stdio{in: strings.NewReader(""), out: out, err: out}
	err := winsvc.Run(name, func(ctx context.Context) error {
		if err := runRun(ctx, std, []string{"--config", cfgPath}); err != nil {
			return fmt.Errorf("posagent run: %w (log: %s)", err, serviceLogPath(cfgPath))
		}
		return nil
	}, log)
	if err != nil {
		return fmt.Errorf("service run is for the service manager (from a console use posagent run): %w", err)
	}
	return nil
}

package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/posagent/posagent/agent"
)

// runReload: posagent reload — the running agent reads its config file again
// (as on SIGHUP). It applies the provider's settings, [sync] (but its
// concurrency), [alarms] and [booklets], and resumes a paused provider; a file
// that is not valid, or that changes what needs a restart, changes nothing.
func runReload(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	fs := newFlags("reload", std, "reload [--json]   (the running agent reads its config file again; same as SIGHUP)")
	cf.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("reload takes no arguments")
	}
	var res agent.ReloadResult
	if printed, err := cf.call(ctx, std, "POST", "/v1/config/reload", nil, &res); printed || err != nil {
		return err
	}
	changed := "nothing changed"
	if len(res.Changed) > 0 {
		changed = "changed: " + strings.Join(res.Changed, ", ")
	}
	fmt.Fprintf(std.out, "configuration reloaded (%s); provider %s", changed, res.Provider)
	if res.Resumed {
		fmt.Fprint(std.out, " resumed: the queue drains now")
	}
	fmt.Fprintln(std.out)
	return nil
}

// runResume: posagent resume — end the pause of a provider that rejected the
// set-up or the credentials, once fixed at the provider.
func runResume(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	fs := newFlags("resume", std, "resume [--json]   (end a paused provider's pause: it was fixed at the provider)")
	cf.register(fs)
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("resume takes no arguments")
	}
	var res agent.ResumeResult
	if printed, err := cf.call(ctx, std, "POST", "/v1/provider/resume", nil, &res); printed || err != nil {
		return err
	}
	if res.WasPaused {
		fmt.Fprintf(std.out, "provider %s resumed: the queue drains now (if it is still refused, it pauses again: see posagent status)\n", res.Provider)
	} else {
		fmt.Fprintf(std.out, "provider %s was not paused\n", res.Provider)
	}
	return nil
}

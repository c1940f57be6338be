package agent

import (
	"context"
	"reflect"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
)

// What a reload can change while the agent runs, and what needs a restart.
//
// Reloadable: the provider's settings (credentials, base URL, timeouts: a new
// provider client is built from them), [sync] but its concurrency, [alarms],
// [booklets], [guard] and [orders]. Everything else is fixed while the agent runs: the API
// address and token (the operator's commands would lose the agent), the
// store, the printer, the console, the terminal's identity and QR key (issued invoices
// carry them), the head office, logging, the provider's name (the queue was
// made for it) and the sync concurrency (the loop's slots).
var restartOnly = []struct {
	field string
	get   func(config.Config) any
}{
	{"terminal", func(c config.Config) any { return c.Terminal }},
	{"qr", func(c config.Config) any { return c.QR }},
	{"printer", func(c config.Config) any { return c.Printer }},
	{"store", func(c config.Config) any { return c.Store }},
	{"api", func(c config.Config) any { return c.API }},
	// The operator console holds its password from the start (agent/console).
	{"console", func(c config.Config) any { return c.Console }},
	{"hq", func(c config.Config) any { return c.HQ }},
	{"log", func(c config.Config) any { return c.Log }},
	{"provider.name", func(c config.Config) any { return c.Provider.Name }},
	{"sync.concurrency", func(c config.Config) any { return c.Sync.Concurrency }},
}

// reloadable names the sections a reload applies, for the answer and the log.
var reloadable = []struct {
	field string
	get   func(config.Config) any
}{
	{"provider", func(c config.Config) any { return c.Provider }},
	{"sync", func(c config.Config) any { return c.Sync }},
	{"alarms", func(c config.Config) any { return c.Alarms }},
	{"booklets", func(c config.Config) any { return c.Booklets }},
	{"guard", func(c config.Config) any { return c.Guard }},
	{"orders", func(c config.Config) any { return c.Orders }},
}

// ReloadResult says what a reload did.
type ReloadResult struct {
	// Changed lists the sections whose settings changed ("provider", "sync", …).
	Changed []string `json:"changed"`
	// Resumed: the provider was paused and syncing starts again at once.
	Resumed bool `json:"resumed"`
	// Provider is the provider now in use.
	Provider string `json:"provider"`
}

// Reload reads the configuration again (Options.Reload), and when it is
// valid and changes nothing that needs a restart, replaces the running
// settings and the provider with the new ones and resumes a paused provider:
// fixing the keys takes effect at once. A file that is not usable changes
// nothing; the error names the field. Secrets never appear in the answer or
// the log: only section names do.
func (a *Agent) Reload(ctx context.Context) (ReloadResult, error) {
	if a.reload == nil {
		return ReloadResult{}, posagent.Errorf(posagent.KindConflict, "this agent was not started from a config file: nothing to reload")
	}
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	next, prov, err := a.reload(ctx)
	if err != nil {
		// A file that cannot be read or parsed, a field that breaks a rule, a
		// missing ${ENV}, a provider that refuses the settings: the
		// operator's to fix, named by the error (which never repeats a secret).
		a.log.Warn("configuration not reloaded; the running one stays", "err", err)
		return ReloadResult{}, &posagent.Error{Kind: posagent.KindInvalid, Field: posagent.ErrorField(err),
			Message: "the configuration was not reloaded; the running one stays", Err: err}
	}
	cur := *a.conf()
	var restart []string
	for _, f := range restartOnly {
		if !reflect.DeepEqual(f.get(cur), f.get(next)) {
			restart = append(restart, f.field)
		}
	}
	if len(restart) > 0 {
		err := posagent.Invalid(restart[0], "changed, and %s cannot change while the agent runs: restart posagent to apply the file (nothing was reloaded)",
			strings.Join(restart, ", "))
		a.log.Warn("configuration not reloaded; the running one stays", "err", err)
		return ReloadResult{}, err
	}
	res := ReloadResult{Changed: []string{}, Provider: prov.Name()}
	for _, f := range reloadable {
		if !reflect.DeepEqual(f.get(cur), f.get(next)) {
			res.Changed = append(res.Changed, f.field)
		}
	}
	a.cfg.Store(&next)
	a.provMu.Lock()
	a.provider = prov
	if a.sourceIsProvider {
		if src, ok := prov.(posagent.BookletSource); ok {
			a.source = src
		}
	}
	a.provMu.Unlock()
	res.Resumed = a.resume("configuration reloaded")
	a.log.Info("configuration reloaded", "changed", strings.Join(res.Changed, ","), "provider", res.Provider, "resumed", res.Resumed)
	wake(a.syncWake)
	wake(a.bookletWake)
	return res, nil
}

// ResumeResult says what a resume did.
type ResumeResult struct {
	Provider  string `json:"provider"`
	WasPaused bool   `json:"was_paused"`
}

// Resume ends a pause after the provider rejected the set-up or the
// credentials, for an operator who fixed them at the provider (the merchant
// enabled, the keys set back): syncing starts again at once. If the cause is
// still there, the next call pauses again.
func (a *Agent) Resume() ResumeResult {
	was := a.resume("resumed by the operator")
	wake(a.syncWake)
	wake(a.bookletWake)
	return ResumeResult{Provider: a.prov().Name(), WasPaused: was}
}

// resume clears the pause and any backoff, and says whether there was a pause.
func (a *Agent) resume(why string) bool {
	now := a.now()
	h := &a.health
	h.mu.Lock()
	was := now.Before(h.pausedUntil)
	h.pausedUntil, h.pausedSince, h.pauseReason, h.pauseKind = time.Time{}, time.Time{}, "", ""
	h.nextProbe = now
	h.mu.Unlock()
	if was {
		a.log.Info("provider resumed; syncing starts again", "provider", a.prov().Name(), "why", why)
	}
	return was
}

// pauseHint is what the operator should do about a pause of this kind.
func pauseHint(kind string) string {
	if kind == string(posagent.KindAuth) {
		return "fix the credentials in the config file and run `posagent reload` (or send SIGHUP)"
	}
	return "fix the set-up, then `posagent reload` (config changed) or `posagent resume` (fixed at the provider)"
}

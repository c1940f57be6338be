package agent

import (
	"context"
	"fmt"
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
	// Of several sellers, the same parts: who they are, their QR keys, head
	// offices and provider names (nil for a single-seller file).
	{"sellers", func(c config.Config) any { return sellersFixed(c.Sellers) }},
}

// sellerFixed is what of a seller needs a restart to change.
type sellerFixed struct {
	TaxID, Name, Address string
	Default              bool
	QR                   config.QR
	HQ                   config.HQ
	Provider             string
}

func sellersFixed(list []config.Seller) []sellerFixed {
	if list == nil {
		return nil
	}
	out := make([]sellerFixed, len(list))
	for i, s := range list {
		out[i] = sellerFixed{TaxID: s.TaxID, Name: s.Name, Address: s.Address, Default: s.Default, QR: s.QR, HQ: s.HQ, Provider: s.Provider.Name}
	}
	return out
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
	// Several sellers: their providers' settings and booklets.
	{"sellers", func(c config.Config) any { return c.Sellers }},
}

// ReloadResult says what a reload did.
type ReloadResult struct {
	// Changed lists the sections whose settings changed ("provider", "sync", …).
	Changed []string `json:"changed"`
	// Resumed: the provider was paused and syncing starts again at once.
	Resumed bool `json:"resumed"`
	// Provider is the provider now in use (the default seller's).
	Provider string `json:"provider"`
	// Sellers lists every seller with its provider now in use.
	Sellers []SellerInfo `json:"sellers"`
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
	next, provs, err := a.reload(ctx)
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
	for _, s := range a.sellers {
		if provs[s.taxID] == nil {
			err := fmt.Errorf("the reloaded configuration built no provider for seller %s", s.taxID)
			a.log.Error("configuration not reloaded; the running one stays", "err", err)
			return ReloadResult{}, err
		}
	}
	res := ReloadResult{Changed: []string{}}
	for _, f := range reloadable {
		if !reflect.DeepEqual(f.get(cur), f.get(next)) {
			res.Changed = append(res.Changed, f.field)
		}
	}
	a.cfg.Store(&next)
	for _, s := range a.sellers {
		prov := provs[s.taxID]
		s.provMu.Lock()
		s.provider = prov
		if s.sourceIsProvider {
			if src, ok := prov.(posagent.BookletSource); ok {
				s.source = src
			}
		}
		s.provMu.Unlock()
		if a.resume(s, "configuration reloaded") {
			res.Resumed = true
		}
	}
	res.Provider, res.Sellers = a.defaultSeller().prov().Name(), a.Sellers()
	a.log.Info("configuration reloaded", "changed", strings.Join(res.Changed, ","), "provider", res.Provider, "resumed", res.Resumed)
	wake(a.syncWake)
	wake(a.bookletWake)
	return res, nil
}

// ResumeResult says what a resume did.
type ResumeResult struct {
	// Provider is the default seller's provider.
	Provider  string `json:"provider"`
	WasPaused bool   `json:"was_paused"`
	// Resumed lists the sellers whose provider was paused (every seller's
	// provider is resumed).
	Resumed []string `json:"resumed_sellers"`
}

// Resume ends a pause after the provider rejected the set-up or the
// credentials, for an operator who fixed them at the provider (the merchant
// enabled, the keys set back): syncing starts again at once. If the cause is
// still there, the next call pauses again.
func (a *Agent) Resume() ResumeResult {
	res := ResumeResult{Provider: a.defaultSeller().prov().Name(), Resumed: []string{}}
	for _, s := range a.sellers {
		if a.resume(s, "resumed by the operator") {
			res.WasPaused = true
			res.Resumed = append(res.Resumed, s.taxID)
		}
	}
	wake(a.syncWake)
	wake(a.bookletWake)
	return res
}

// resume clears the pause and any backoff of seller s's provider, and says
// whether there was a pause.
func (a *Agent) resume(s *seller, why string) bool {
	now := a.now()
	h := &s.health
	h.mu.Lock()
	was := now.Before(h.pausedUntil)
	h.pausedUntil, h.pausedSince, h.pauseReason, h.pauseKind = time.Time{}, time.Time{}, "", ""
	h.nextProbe = now
	h.mu.Unlock()
	if was {
		a.log.Info("provider resumed; syncing starts again", "provider", s.prov().Name(), "seller", s.taxID, "why", why)
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

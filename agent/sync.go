package agent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/posagent/posagent"
)

// How long the sync loop leaves a provider alone after it rejected the
// credentials or set-up (KindConfig, KindAuth) before one job probes again: a
// person must act — `posagent reload` with fixed keys or `posagent resume`
// ends the pause at once — and the probe lets a fix made at the provider (a
// merchant enabled) resume by itself. Nothing queued fails meanwhile.
const configPause = 5 * time.Minute

// defaultRateLimitWait is used when a provider says "slow down" without saying how long.
const defaultRateLimitWait = time.Minute

// providerHealth is what the sync loop knows about the provider.
type providerHealth struct {
	mu          sync.Mutex
	online      bool
	failures    int // consecutive transient failures
	nextProbe   time.Time
	holdUntil   time.Time // rate limited, clock: no calls before
	holdReason  string
	pausedUntil time.Time // config error: no calls before
	pausedSince time.Time
	pauseReason string
	pauseKind   string // posagent.KindConfig or KindAuth
	lastError   string
	lastErrorAt time.Time
	lastOK      time.Time
	clockSkew   time.Duration
	clockAlarm  bool
	calls       int64
}

// HealthView is a snapshot of the provider's state for status.
type HealthView struct {
	Name        string    `json:"name"`
	Online      bool      `json:"online"`
	Paused      bool      `json:"paused"`
	PauseReason string    `json:"pause_reason,omitempty"`
	PausedSince time.Time `json:"paused_since,omitzero"`
	// PauseKind is the error kind that paused it: "auth" (credentials) or "config".
	PauseKind string `json:"pause_kind,omitempty"`
	// PauseAction is what the operator does to end the pause.
	PauseAction string `json:"pause_action,omitempty"`
	// NextProbe is when one job tries the provider again by itself.
	NextProbe   time.Time `json:"next_probe,omitzero"`
	HeldUntil   time.Time `json:"held_until,omitzero"`
	HoldReason  string    `json:"hold_reason,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	ClockSkew   string    `json:"clock_skew,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

func (a *Agent) healthView(s *seller, now time.Time) HealthView {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	v := HealthView{
		Name: s.prov().Name(), Online: h.online, Paused: now.Before(h.pausedUntil), PauseReason: h.pauseReason,
		LastError: h.lastError, LastErrorAt: h.lastErrorAt, LastSuccess: h.lastOK,
	}
	if v.Paused {
		v.PausedSince, v.PauseKind, v.PauseAction, v.NextProbe = h.pausedSince, h.pauseKind, pauseHint(h.pauseKind), h.pausedUntil
	} else {
		v.PauseReason = ""
	}
	if now.Before(h.holdUntil) {
		v.HeldUntil, v.HoldReason = h.holdUntil, h.holdReason
	}
	if h.clockAlarm {
		v.ClockSkew = h.clockSkew.Round(time.Second).String()
	}
	if !h.online && h.nextProbe.After(now) {
		v.NextAttempt = h.nextProbe
	}
	return v
}

// gate says how many jobs of seller s the loop may claim now, and if none,
// until when to wait.
func (a *Agent) gate(s *seller, now time.Time, free, inflight int) (int, time.Time) {
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, until := range []time.Time{h.pausedUntil, h.holdUntil} {
		if now.Before(until) {
			return 0, until
		}
	}
	if !h.online {
		// Offline: one probe at a time, on the backoff schedule, so that a queue of
		// hundreds is not thrown at a provider that is down.
		if inflight > 0 {
			return 0, time.Time{}
		}
		if now.Before(h.nextProbe) {
			return 0, h.nextProbe
		}
		return min(free, 1), time.Time{}
	}
	return free, time.Time{}
}

// syncLoop claims due jobs and runs them with bounded concurrency, each
// seller's on its own provider with its own slots and health: a provider that
// is down or paused holds back its own seller's jobs only. The store hands
// out jobs in invoice order and holds a void or allowance back until its
// invoice is uploaded; no transaction is open while a provider call runs.
func (a *Agent) syncLoop(ctx context.Context) {
	lease := a.conf().Sync.CallTimeout.Duration + 30*time.Second
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		if ctx.Err() != nil {
			return
		}
		var waitUntil time.Time
		if !a.stopping.Load() {
			more := false
			for _, s := range a.sellers {
				m, until := a.claimFor(ctx, s, lease)
				more = more || m
				if !until.IsZero() && (waitUntil.IsZero() || until.Before(waitUntil)) {
					waitUntil = until
				}
			}
			if more {
				continue
			}
		}
		wait := a.poll
		if !waitUntil.IsZero() {
			wait = min(wait, max(time.Millisecond, waitUntil.Sub(a.now())))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-a.syncWake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		case <-timer.C:
		}
	}
}

// claimFor claims and starts the due jobs of seller s its gate allows. more:
// there may be more due and a slot is free; until: when the gate opens.
func (a *Agent) claimFor(ctx context.Context, s *seller, lease time.Duration) (more bool, until time.Time) {
	n, until := a.gate(s, a.now(), cap(s.slots)-len(s.slots), len(s.slots))
	if n == 0 {
		return false, until
	}
	jobs, err := a.store.Claim(ctx, a.claimKeys(s), n, lease)
	if err != nil && ctx.Err() == nil {
		a.log.Error("claim jobs", "seller", s.taxID, "err", err)
	}
	for _, job := range jobs {
		s.slots <- struct{}{}
		a.inflight.Add(1)
		go func() {
			defer func() {
				<-s.slots
				a.inflight.Done()
				wake(a.syncWake)
			}()
			a.runJob(ctx, s, job)
		}()
	}
	// There may be more due; loop as soon as a slot frees or at once.
	return len(jobs) == n && err == nil && len(s.slots) < cap(s.slots), until
}

// runJob makes one provider call of seller s and records its outcome.
func (a *Agent) runJob(ctx context.Context, s *seller, job Job) {
	rctx := context.WithoutCancel(ctx)
	if err := a.unvoidable(s, job); err != nil {
		// Nothing to ask the provider: a person must void it there.
		if rerr := a.store.Dead(rctx, job, err); rerr != nil {
			a.log.Error("record job outcome", "job", job.ID, "err", rerr)
		}
		a.log.Error("job is dead: a person must look at it", "job", job.ID, "kind", job.Kind, "number", job.Number,
			"reason", err.Error())
		return
	}
	cctx, cancel := context.WithTimeout(ctx, a.conf().Sync.CallTimeout.Duration)
	start := time.Now()
	providerNumber, err := a.call(cctx, s, job)
	if posagent.IsKind(err, posagent.KindDuplicate) {
		err = a.adopt(cctx, s, job, err)
	}
	cancel()
	elapsed := time.Since(start)
	d := a.decide(job, err, a.now())
	if d.wait {
		a.metrics.observeWait(s.taxID, job.Kind)
	} else {
		a.metrics.observeUpload(s.taxID, job.Kind, elapsed, err)
	}
	a.noteHealth(s, err, d)
	var rerr error
	switch d.action {
	case actDone:
		if job.Kind == JobAllowance {
			// The provider's number for the allowance is stored in the step that
			// ends the job: the allowance's void needs it.
			rerr = a.store.DoneAllowance(rctx, job, providerNumber)
			if _, numbered := s.prov().(posagent.AllowanceIssuer); numbered && providerNumber == "" && rerr == nil {
				a.log.Warn("the provider holds the allowance but did not return its number; a void of it must be made in the provider's back office",
					"invoice", job.Number, "allowance", job.Allowance.Number)
			}
		} else {
			rerr = a.store.Done(rctx, job)
		}
		a.log.Debug("job done", "job", job.ID, "kind", job.Kind, "number", job.Number, "took", elapsed)
	case actRetry:
		if d.wait {
			// Not a failure: the client knows when the call succeeds (a fresh
			// invoice waiting for the provider's clock second). The attempt is
			// not counted and nothing is recorded against the job.
			at := d.at
			if d.providerWide && !job.CreatedAt.IsZero() {
				at = job.CreatedAt // the hold keeps the provider alone; the job keeps its place
			}
			rerr = a.store.Postpone(rctx, job, at)
			a.log.Debug("job waits as the provider client asked", "job", job.ID, "kind", job.Kind, "number", job.Number,
				"until", d.at.Format(time.RFC3339Nano), "why", d.reason)
			break
		}
		at := d.at
		if d.providerWide && !job.CreatedAt.IsZero() {
			// The hold keeps the provider alone until d.at; due from its first
			// place, the job is the first handed out when the hold ends.
			at = job.CreatedAt
		}
		rerr = a.store.Retry(rctx, job, at, errors.New(d.reason))
		a.log.Info("job will be retried", "job", job.ID, "kind", job.Kind, "number", job.Number,
			"at", d.at.Format(time.RFC3339), "error", d.reason)
	case actDead:
		rerr = a.store.Dead(rctx, job, errors.New(d.reason))
		a.log.Error("job is dead: a person must look at it", "job", job.ID, "kind", job.Kind, "number", job.Number,
			"reason", d.reason)
	}
	if rerr != nil {
		// The claim's lease runs out and the job is handed out again: the provider
		// call is idempotent, so that costs a call, not a duplicate.
		a.log.Error("record job outcome", "job", job.ID, "err", rerr)
	}
}

// unvoidable refuses the void of an allowance whose provider numbers
// allowances when its number is unknown (the allowance was adopted after a
// lost answer, or uploaded before posagent kept the number): the provider
// cannot void it without the number, so retrying would loop for nothing.
func (a *Agent) unvoidable(s *seller, job Job) error {
	if job.Kind != JobVoidAllowance || job.Allowance == nil || job.Allowance.ProviderNumber != "" {
		return nil
	}
	if _, numbered := s.prov().(posagent.AllowanceIssuer); !numbered {
		return nil
	}
	name := providerTitle(s.prov().Name())
	return &posagent.Error{Kind: posagent.KindInvalid, Field: "provider_number", Message: fmt.Sprintf(
		"%s did not return the allowance number of %s; void it in the %s back office", name, job.Allowance.Number, name)}
}

// providerTitle is a provider's name as its users write it.
func providerTitle(name string) string {
	switch name {
	case "ecpay":
		return "ECPay"
	case "amego":
		return "Amego"
	case "turnkey":
		return "Turnkey"
	}
	return name
}

// call makes the provider call of job at seller s's provider. For an
// allowance at a provider that numbers allowances it returns the provider's
// number.
func (a *Agent) call(ctx context.Context, s *seller, job Job) (providerNumber string, err error) {
	p := s.prov()
	switch job.Kind {
	case JobUpload:
		return "", p.Upload(ctx, job.Invoice)
	case JobVoid:
		if job.Void == nil {
			return "", posagent.Invalid("void", "the void job has no void")
		}
		return "", p.Void(ctx, job.Invoice, *job.Void)
	case JobAllowance:
		if job.Allowance == nil {
			return "", posagent.Invalid("allowance", "the allowance job has no allowance")
		}
		if ai, ok := p.(posagent.AllowanceIssuer); ok {
			return ai.AllowNumbered(ctx, job.Invoice, *job.Allowance)
		}
		return "", p.Allow(ctx, job.Invoice, *job.Allowance)
	case JobVoidAllowance:
		if job.Allowance == nil {
			return "", posagent.Invalid("allowance", "the allowance void job has no allowance")
		}
		return "", p.VoidAllowance(ctx, job.Invoice, *job.Allowance, job.Reason)
	case JobBlank:
		rep, ok := p.(posagent.BlankReporter)
		if !ok {
			var ranges []string
			for _, b := range job.Blank {
				ranges = append(ranges, b.String())
			}
			return "", posagent.Invalid("blank", "%s cannot take blank-number reports: report %v of %s as blank (E0402) on the e-invoice platform by %s",
				p.Name(), ranges, job.Period.Label(), lastDay(job.Period.BlankReportDeadline()))
		}
		return "", rep.ReportBlank(ctx, job.Period, job.Blank)
	}
	return "", posagent.Invalid("kind", "unknown job kind %q", job.Kind)
}

// adopt handles "the provider already holds this": when the provider can look
// the invoice up, it must be ours (same random code and total); otherwise
// the answer is taken at its word.
func (a *Agent) adopt(ctx context.Context, s *seller, job Job, dup error) error {
	lookup, ok := s.prov().(posagent.InvoiceLookup)
	if !ok || job.Kind != JobUpload {
		a.log.Info("provider already holds it; adopted", "job", job.ID, "kind", job.Kind, "number", job.Number)
		return nil
	}
	inv := job.Invoice
	remote, err := lookup.LookupInvoice(ctx, inv.Number, inv.IssuedAt, "")
	if err != nil {
		return fmt.Errorf("look up the duplicate: %w", err)
	}
	if (remote.RandomCode != "" && remote.RandomCode != inv.RandomCode) || (remote.Total != 0 && remote.Total != inv.Total) {
		return posagent.Errorf(posagent.KindConflict,
			"the provider holds a different invoice under %s (random code %s, total %d; ours %s, %d)",
			inv.Number, remote.RandomCode, remote.Total, inv.RandomCode, inv.Total)
	}
	a.log.Info("provider already holds the invoice; adopted", "number", inv.Number)
	return nil
}

type action int

const (
	actDone action = iota
	actRetry
	actDead
)

type decision struct {
	action action
	at     time.Time
	reason string
	// provider-wide effects
	pauseUntil time.Time
	holdUntil  time.Time
	skew       time.Duration
	clock      bool
	offline    bool
	// wait: the client held the call back itself and said for how long
	// (KindTransient with RetryAfter); it says nothing about the provider's
	// health.
	wait bool
	// providerWide: the failure concerns the provider, not this job. The
	// provider is held (offline probe, rate limit, pause, clock) and the job
	// keeps its place in the queue, so that invoices go out in number order.
	providerWide bool
}

// decide maps a call's outcome onto what happens to the job and the provider
// (the errors table of docs/architecture.md).
func (a *Agent) decide(job Job, err error, now time.Time) decision {
	if err == nil {
		return decision{action: actDone}
	}
	reason := err.Error()
	var pe *posagent.Error
	errors.As(err, &pe)
	switch posagent.ErrorKind(err) {
	case posagent.KindInvalid, posagent.KindConflict:
		return decision{action: actDead, reason: reason}
	case posagent.KindConfig, posagent.KindAuth:
		until := now.Add(configPause)
		return decision{action: actRetry, at: until, reason: reason, pauseUntil: until, providerWide: true}
	case posagent.KindRateLimited:
		wait := defaultRateLimitWait
		if pe != nil && pe.RetryAfter > 0 {
			wait = pe.RetryAfter
		}
		return decision{action: actRetry, at: now.Add(wait), reason: reason, holdUntil: now.Add(wait), providerWide: true}
	case posagent.KindTransient:
		if pe != nil && pe.RetryAfter > 0 {
			// The client knows when the call can succeed (ECPay: a fresh invoice
			// waits for ECPay's clock, a second or so behind, to pass its issue
			// time). Nothing failed: no backoff, no attempt limit, no offline
			// mark, no clock alarm.
			at := now.Add(pe.RetryAfter)
			why := pe.Message // the client's own words for the wait, not the refusal it answers
			if why == "" {
				why = reason
			}
			return decision{action: actRetry, at: at, reason: why, wait: true, holdUntil: at, providerWide: true}
		}
	case posagent.KindClock:
		at := now.Add(a.backoff(job.Attempts - 1))
		d := decision{action: actRetry, at: at, reason: reason, clock: true, holdUntil: at, providerWide: true}
		if pe != nil {
			d.skew = pe.Skew
		}
		return d
	}
	// Transient, not found (the provider may lag behind), internal and anything
	// unexpected: retry with backoff. The deadline alarm calls a person in time.
	if limit := a.conf().Sync.MaxAttempts; limit > 0 && job.Attempts >= limit {
		return decision{action: actDead, reason: fmt.Sprintf("gave up after %d attempts: %s", job.Attempts, reason)}
	}
	transient := posagent.IsKind(err, posagent.KindTransient)
	return decision{action: actRetry, at: now.Add(a.backoff(job.Attempts - 1)), reason: reason,
		offline: transient, providerWide: transient}
}

// backoff is the delay after the failure of attempt number failed+1:
// base·2^failed with ±20 % jitter, capped.
func (a *Agent) backoff(failed int) time.Duration {
	base, ceiling := a.conf().Sync.BackoffBase.Duration, a.conf().Sync.BackoffCap.Duration
	d := float64(base) * math.Pow(2, float64(min(max(failed, 0), 40)))
	d *= a.jitter()
	if d > float64(ceiling) {
		return ceiling
	}
	return time.Duration(d)
}

// noteHealth updates the state of seller s's provider from one call.
func (a *Agent) noteHealth(s *seller, err error, d decision) {
	now := a.now()
	h := &s.health
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if d.holdUntil.After(h.holdUntil) {
		h.holdUntil, h.holdReason = d.holdUntil, string(posagent.ErrorKind(err))
		if d.wait {
			h.holdReason = d.reason
		}
	}
	if d.wait {
		return
	}
	if err == nil {
		if !h.online {
			a.log.Info("provider is reachable again", "provider", s.prov().Name(), "seller", s.taxID)
		}
		h.online, h.failures, h.lastOK = true, 0, now
		h.clockAlarm = false
		h.pauseReason, h.pauseKind, h.pausedSince = "", "", time.Time{}
		return
	}
	h.lastError, h.lastErrorAt = err.Error(), now
	if d.offline {
		h.failures++
		if h.online {
			a.log.Warn("provider unreachable; sales go on and are queued", "provider", s.prov().Name(), "seller", s.taxID, "err", err)
		}
		h.online = false
		h.nextProbe = now.Add(a.backoff(h.failures - 1))
		return
	}
	// Any other answer came from the provider: it is reachable.
	h.online, h.failures = true, 0
	if !d.pauseUntil.IsZero() {
		kind := string(posagent.ErrorKind(err))
		if !now.Before(h.pausedUntil) || h.pausedSince.IsZero() {
			h.pausedSince = now
		}
		h.pausedUntil, h.pauseReason, h.pauseKind = d.pauseUntil, err.Error(), kind
		what := "the set-up"
		if kind == string(posagent.KindAuth) {
			what = "the credentials"
		}
		a.log.Error("provider rejected "+what+"; syncing paused, sales go on and are queued", "provider", s.prov().Name(), "seller", s.taxID,
			"next_probe", d.pauseUntil.Format(time.RFC3339), "action", pauseHint(kind), "err", err)
	}
	if d.clock {
		h.clockAlarm, h.clockSkew = true, d.skew
		a.log.Error("this terminal's clock is off; fix the time (NTP)", "skew", d.skew.Round(time.Second).String())
	}
}

package agent

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/posagent/posagent"
)

// retireGrace is how long into a new period the agent waits before closing the
// previous period's booklets: a sale rung up just before midnight may reach
// the agent a little after it. The blank report is due by the 10th.
const retireGrace = 24 * time.Hour

// leaseRetry is the pause after a failed lease before the next try.
const leaseRetry = time.Minute

// bookletKeeper is the booklet loop's memory.
type bookletKeeper struct {
	mu        sync.Mutex
	nextLease time.Time
	lowAlarm  string
	leaseErr  string
	retired   map[posagent.Period]bool
}

func (a *Agent) bookletLoop(ctx context.Context) {
	every := 30 * a.poll
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		a.keepBooklets(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.bookletWake:
		}
	}
}

// keepBooklets leases numbers when the current period runs low, leases the next
// period's ahead of the change, and retires the previous period with a blank
// report when the provider takes one.
func (a *Agent) keepBooklets(ctx context.Context) {
	k := &a.booklets
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.retired == nil {
		k.retired = map[posagent.Period]bool{}
	}
	now := a.now()
	p := posagent.PeriodOf(now)
	low := a.conf().Booklets.LowWater
	left, err := a.store.NumbersLeft(ctx, p)
	if err != nil {
		a.log.Error("count numbers left", "period", p.Code(), "err", err)
		return
	}
	src := a.leaseSource()
	canLease := src != nil
	if left < low {
		if canLease {
			a.lease(ctx, src, p, now)
		}
		left, _ = a.store.NumbersLeft(ctx, p)
	}
	switch {
	case left >= low:
		if k.lowAlarm != "" {
			a.log.Info("invoice numbers replenished", "period", p.Code(), "left", left)
		}
		k.lowAlarm = ""
	default:
		msg := fmt.Sprintf("only %d invoice numbers left for %s", left, p.Label())
		switch {
		case !canLease:
			msg += "; add booklets (posagent booklets add RANGE --period " + p.Code() + ")"
		case k.leaseErr != "":
			msg += "; leasing more failed: " + k.leaseErr
		}
		if msg != k.lowAlarm {
			a.log.Warn("invoice numbers running low", "period", p.Code(), "left", left, "alarm", msg)
		}
		k.lowAlarm = msg
	}
	if canLease && !now.Add(a.conf().Booklets.LeaseAhead.Duration).Before(p.End()) {
		next := p.Next()
		if nleft, err := a.store.NumbersLeft(ctx, next); err == nil {
			if nleft < low {
				a.lease(ctx, src, next, now)
			}
		}
	}
	prev := p.Prev()
	if !k.retired[prev] && !now.Before(p.Start().Add(retireGrace)) {
		a.retire(ctx, prev)
	}
}

func (a *Agent) lease(ctx context.Context, src posagent.BookletSource, p posagent.Period, now time.Time) {
	k := &a.booklets
	if now.Before(k.nextLease) {
		return
	}
	if v := a.healthView(now); v.Paused && a.sourceIsProvider {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, a.conf().Sync.CallTimeout.Duration)
	defer cancel()
	got, err := src.LeaseBooklets(lctx, posagent.LeaseRequest{Period: p, MachineID: a.conf().Terminal.MachineID, Booklets: a.conf().Booklets.Lease})
	if err != nil {
		k.leaseErr, k.nextLease = err.Error(), now.Add(leaseRetry)
		a.log.Warn("lease booklets", "period", p.Code(), "err", err)
		return
	}
	k.leaseErr = ""
	for _, b := range got {
		if b.Period.IsZero() {
			b.Period = p
		}
		if b.Source == "" {
			b.Source = a.prov().Name()
		}
		// The provider gave these numbers to this terminal alone: keep them before using any.
		if err := a.store.AddBooklet(ctx, b); err != nil {
			if posagent.IsKind(err, posagent.KindConflict) {
				continue // leased and stored before an earlier restart
			}
			k.leaseErr, k.nextLease = err.Error(), now.Add(leaseRetry)
			a.log.Error("store leased booklet", "range", b.String(), "err", err)
			return
		}
		a.log.Info("booklet leased", "range", b.String(), "period", b.Period.Code(), "source", b.Source)
	}
}

// retire closes a finished period. The store queues the unused numbers'
// blank report (E0402) as a job the sync loop sends when the provider takes
// such reports; otherwise that job goes dead with the ranges to report by hand,
// and status lists them.
func (a *Agent) retire(ctx context.Context, p posagent.Period) {
	unused, err := a.store.RetirePeriod(ctx, p)
	if err != nil {
		a.log.Error("retire period", "period", p.Code(), "err", err)
		return
	}
	a.booklets.retired[p] = true
	if len(unused) > 0 {
		a.log.Info("period closed; unused numbers queued for the blank report", "period", p.Code(),
			"ranges", len(unused), "report_by", lastDay(p.BlankReportDeadline()))
		wake(a.syncWake)
	}
}

// AddBooklet stores a booklet given by hand (from the e-invoice platform or head office).
func (a *Agent) AddBooklet(ctx context.Context, b posagent.Booklet) error {
	if b.Source == "" {
		b.Source = "manual"
	}
	if err := b.Validate(); err != nil {
		return err
	}
	if err := a.store.AddBooklet(ctx, b); err != nil {
		return err
	}
	a.log.Info("booklet added", "range", b.String(), "period", b.Period.Code(), "source", b.Source)
	wake(a.bookletWake)
	return nil
}

// KeepBooklets runs one round of booklet keeping now: the demo and a fresh
// install lease their first numbers before the first sale.
func (a *Agent) KeepBooklets(ctx context.Context) { a.keepBooklets(ctx) }

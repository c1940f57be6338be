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

// bookletKeeper is the booklet loop's memory of one seller.
type bookletKeeper struct {
	mu        sync.Mutex
	nextLease time.Time
	lowAlarm  string
	leaseErr  string
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

// keepBooklets keeps every seller's booklets, then retires the previous
// period (for all sellers at once: the period ends for each alike) with a
// blank report per seller.
func (a *Agent) keepBooklets(ctx context.Context) {
	for _, s := range a.sellers {
		a.keepSellerBooklets(ctx, s)
	}
	now := a.now()
	prev := posagent.PeriodOf(now).Prev()
	a.retireMu.Lock()
	defer a.retireMu.Unlock()
	if !a.retired[prev] && !now.Before(posagent.PeriodOf(now).Start().Add(retireGrace)) {
		a.retire(ctx, prev)
	}
}

// keepSellerBooklets leases numbers for seller s when the current period runs
// low, and leases the next period's ahead of the change.
func (a *Agent) keepSellerBooklets(ctx context.Context, s *seller) {
	k := &s.booklets
	k.mu.Lock()
	defer k.mu.Unlock()
	now := a.now()
	p := posagent.PeriodOf(now)
	bc := a.sellerConf(s).Booklets
	low := bc.LowWater
	owner := a.owner(s)
	left, err := a.store.NumbersLeft(ctx, owner, p)
	if err != nil {
		a.log.Error("count numbers left", "seller", s.taxID, "period", p.Code(), "err", err)
		return
	}
	src := s.leaseSource()
	canLease := src != nil
	if left < low {
		if canLease {
			a.lease(ctx, s, src, p, now)
		}
		left, _ = a.store.NumbersLeft(ctx, owner, p)
	}
	switch {
	case left >= low:
		if k.lowAlarm != "" {
			a.log.Info("invoice numbers replenished", "seller", s.taxID, "period", p.Code(), "left", left)
		}
		k.lowAlarm = ""
	default:
		msg := fmt.Sprintf("only %d invoice numbers left for %s", left, p.Label())
		switch {
		case !canLease && len(a.sellers) > 1:
			msg += "; add booklets (posagent booklets add RANGE --period " + p.Code() + " --seller " + s.taxID + ")"
		case !canLease:
			msg += "; add booklets (posagent booklets add RANGE --period " + p.Code() + ")"
		case k.leaseErr != "":
			msg += "; leasing more failed: " + k.leaseErr
		}
		if msg != k.lowAlarm {
			a.log.Warn("invoice numbers running low", "seller", s.taxID, "period", p.Code(), "left", left, "alarm", msg)
		}
		k.lowAlarm = msg
	}
	if canLease && !now.Add(bc.LeaseAhead.Duration).Before(p.End()) {
		next := p.Next()
		if nleft, err := a.store.NumbersLeft(ctx, owner, next); err == nil {
			if nleft < low {
				a.lease(ctx, s, src, next, now)
			}
		}
	}
}

func (a *Agent) lease(ctx context.Context, s *seller, src posagent.BookletSource, p posagent.Period, now time.Time) {
	k := &s.booklets
	if now.Before(k.nextLease) {
		return
	}
	if v := a.healthView(s, now); v.Paused && s.sourceIsProvider {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, a.conf().Sync.CallTimeout.Duration)
	defer cancel()
	got, err := src.LeaseBooklets(lctx, posagent.LeaseRequest{Period: p, MachineID: a.conf().Terminal.MachineID, Booklets: a.sellerConf(s).Booklets.Lease})
	if err != nil {
		k.leaseErr, k.nextLease = err.Error(), now.Add(leaseRetry)
		a.log.Warn("lease booklets", "seller", s.taxID, "period", p.Code(), "err", err)
		return
	}
	k.leaseErr = ""
	for _, b := range got {
		if b.Period.IsZero() {
			b.Period = p
		}
		if b.Source == "" {
			b.Source = s.prov().Name()
		}
		// The seller's source leased them to the seller: its numbers alone.
		b.Seller = s.taxID
		// The provider gave these numbers to this terminal alone: keep them before using any.
		if err := a.store.AddBooklet(ctx, b); err != nil {
			if posagent.IsKind(err, posagent.KindConflict) {
				continue // leased and stored before an earlier restart
			}
			k.leaseErr, k.nextLease = err.Error(), now.Add(leaseRetry)
			a.log.Error("store leased booklet", "seller", s.taxID, "range", b.String(), "err", err)
			return
		}
		a.log.Info("booklet leased", "seller", s.taxID, "range", b.String(), "period", b.Period.Code(), "source", b.Source)
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
	a.retired[p] = true
	if len(unused) > 0 {
		a.log.Info("period closed; unused numbers queued for the blank report", "period", p.Code(),
			"ranges", len(unused), "report_by", lastDay(p.BlankReportDeadline()))
		wake(a.syncWake)
	}
}

// AddBooklet stores a booklet given by hand (from the e-invoice platform or
// head office) for its seller: b.Seller, or the default seller when empty.
func (a *Agent) AddBooklet(ctx context.Context, b posagent.Booklet) error {
	if b.Source == "" {
		b.Source = "manual"
	}
	s := a.sellerByTax(b.Seller)
	if s == nil {
		return a.errUnknownSeller("seller", b.Seller)
	}
	b.Seller = s.taxID
	if err := b.Validate(); err != nil {
		return err
	}
	if err := a.store.AddBooklet(ctx, b); err != nil {
		return err
	}
	a.log.Info("booklet added", "seller", b.Seller, "range", b.String(), "period", b.Period.Code(), "source", b.Source)
	wake(a.bookletWake)
	return nil
}

// KeepBooklets runs one round of booklet keeping now: the demo and a fresh
// install lease their first numbers before the first sale.
func (a *Agent) KeepBooklets(ctx context.Context) { a.keepBooklets(ctx) }

package agent

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/posagent/posagent"
)

// What the operator console (package agent/console) and the HTTP API share:
// every action either of them takes goes through these methods, so there is
// one path to the store.

// InvoiceLister is a Store that can list the invoices touched in a window
// and find one by its sale id; the console's lists and daily summary need it.
type InvoiceLister interface {
	// Activity lists the records of the invoices issued, voided or given an
	// allowance (or its void) in [from, to), oldest first, without events.
	Activity(ctx context.Context, from, to time.Time) ([]Record, error)
	// InvoiceBySale finds the invoice issued for a sale id; unknown is KindNotFound.
	InvoiceBySale(ctx context.Context, saleID string) (Record, error)
}

func (a *Agent) lister() (InvoiceLister, error) {
	l, ok := a.store.(InvoiceLister)
	if !ok {
		return nil, posagent.Errorf(posagent.KindInternal, "this store cannot list invoices")
	}
	return l, nil
}

// Activity lists the invoices issued, voided or given an allowance in [from, to).
func (a *Agent) Activity(ctx context.Context, from, to time.Time) ([]Record, error) {
	if to.Before(from) {
		return nil, posagent.Invalid("to", "comes before from")
	}
	l, err := a.lister()
	if err != nil {
		return nil, err
	}
	return l.Activity(ctx, from, to)
}

// InvoiceBySale finds the invoice issued for a sale id, with its events.
func (a *Agent) InvoiceBySale(ctx context.Context, saleID string) (Record, error) {
	if saleID == "" {
		return Record{}, posagent.Invalid("sale_id", "is required")
	}
	l, err := a.lister()
	if err != nil {
		return Record{}, err
	}
	rec, err := l.InvoiceBySale(ctx, saleID)
	if err != nil {
		return Record{}, err
	}
	return a.store.Invoice(ctx, rec.Invoice.Number)
}

// Jobs lists outbox jobs in a state (pending, claimed, dead, done), at most
// limit (1 to 1000).
func (a *Agent) Jobs(ctx context.Context, state string, limit int) ([]Job, error) {
	if !jobStates[state] {
		return nil, posagent.Invalid("state", "must be one of pending, claimed, dead, done")
	}
	if limit < 1 || limit > 1000 {
		return nil, posagent.Invalid("limit", "must be 1 to 1000")
	}
	jobs, err := a.store.Jobs(ctx, state, limit)
	if err != nil {
		return nil, err
	}
	if jobs == nil {
		jobs = []Job{}
	}
	return jobs, nil
}

// ReviveJob puts a dead job back in the queue and wakes the sync loop.
func (a *Agent) ReviveJob(ctx context.Context, id int64) error {
	if err := a.store.Revive(ctx, id); err != nil {
		return err
	}
	a.log.Info("job revived", "job", id)
	wake(a.syncWake)
	return nil
}

// ResolveJob closes a dead job a person settled outside posagent, keeping
// their note in the invoice's events.
func (a *Agent) ResolveJob(ctx context.Context, id int64, note string) error {
	if err := a.store.Resolve(ctx, id, note); err != nil {
		return err
	}
	a.log.Warn("dead job resolved by hand", "job", id, "note", note)
	wake(a.syncWake)
	return nil
}

// Booklets lists the ranges this terminal holds, retired ones included.
func (a *Agent) Booklets(ctx context.Context) ([]BookletInfo, error) {
	bs, err := a.store.Booklets(ctx)
	if err != nil {
		return nil, err
	}
	if bs == nil {
		bs = []BookletInfo{}
	}
	return bs, nil
}

// ProofBytes is the ESC/POS the printer would get for the invoice's proof
// now: marked 補印 once an original may be on paper. Nothing is printed or
// recorded. An invoice without a paper proof (carrier, donation) is
// KindConflict.
func (a *Agent) ProofBytes(ctx context.Context, n posagent.InvoiceNumber) ([]byte, error) {
	rec, err := a.store.Invoice(ctx, n)
	if err != nil {
		return nil, err
	}
	if !rec.Invoice.Print {
		return nil, posagent.Errorf(posagent.KindConflict, "invoice %s went to a carrier or a donation: it has no paper proof", n)
	}
	if a.render == nil {
		return nil, posagent.Errorf(posagent.KindConflict, "no printer is configured: there is no proof layout to draw")
	}
	data, err := a.render(rec.Invoice, rec.Print.OriginalPrinted)
	if err != nil {
		return nil, fmt.Errorf("render the proof of %s: %w", n, err)
	}
	return data, nil
}

// DemoProvider says whether the demo's provider stand-in is switched off;
// ok is false outside the demo.
func (a *Agent) DemoProvider() (down, ok bool) {
	if a.demo == nil {
		return false, false
	}
	return a.demo.ProviderDown(), true
}

// SetDemoProvider switches the demo's provider stand-in off or on; outside
// the demo it does nothing and says false.
func (a *Agent) SetDemoProvider(down bool) bool {
	if a.demo == nil {
		return false
	}
	a.demo.SetProviderDown(down)
	if !down {
		// Probe at once rather than on the backoff schedule: the operator just said so.
		for _, s := range a.sellers {
			s.health.mu.Lock()
			s.health.nextProbe = time.Time{}
			s.health.mu.Unlock()
		}
		wake(a.syncWake)
	}
	a.log.Info("demo: provider stand-in switched", "down", down)
	return true
}

// MountConsole serves h on every path the API does not own (/v1/…,
// /metrics, /healthz stay the API's). Call it before Run or Serve.
func (a *Agent) MountConsole(h http.Handler) { a.console = h }

// Terminal names the till, as status does.
func (a *Agent) Terminal() TerminalView {
	d := a.conf().DefaultSeller() // the till's seller, the default of several
	return TerminalView{MachineID: a.conf().Terminal.MachineID, SellerTaxID: d.TaxID, SellerName: d.Name}
}

package fake

import (
	"context"

	"github.com/posagent/posagent"
)

var _ posagent.Reconciler = (*Provider)(nil)

// Holdings implements posagent.Reconciler from what the fake holds. It
// reports no platform verdict unless one was set with SetAcceptance; while
// Down, it fails as a call would.
func (p *Provider) Holdings(ctx context.Context, refs []posagent.DocRef) ([]posagent.Holding, error) {
	if err := ctx.Err(); err != nil {
		return nil, posagent.Errorf(posagent.KindTransient, "fake: %v", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		return nil, posagent.Errorf(posagent.KindTransient, "fake provider is down")
	}
	out := make([]posagent.Holding, len(refs))
	for i, ref := range refs {
		h := posagent.Holding{Ref: ref}
		r, ok := p.invoices[ref.Number]
		if ok {
			h.Remaining, h.HasRemaining = r.Remaining(), true
			h.Acceptance = p.verdicts[ref.Number]
			switch ref.Kind {
			case posagent.DocInvoice:
				h.Found, h.Amount, h.HasAmount = true, r.Invoice.Total, true
			case posagent.DocVoid:
				h.Found = r.Voided
			case posagent.DocAllowance, posagent.DocAllowanceVoid:
				for _, a := range r.Allowances {
					if a.Allowance.Number == ref.AllowanceNumber {
						h.Found = ref.Kind == posagent.DocAllowance || a.Voided
						h.Amount, h.HasAmount = a.Allowance.Total, ref.Kind == posagent.DocAllowance
					}
				}
			}
		}
		if h.Acceptance != "" {
			h.Detail = "verdict " + string(h.Acceptance)
		}
		out[i] = h
	}
	return out, nil
}

// SetAcceptance sets the platform's verdict Holdings reports for an invoice.
func (p *Provider) SetAcceptance(n posagent.InvoiceNumber, a posagent.Acceptance) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.verdicts == nil {
		p.verdicts = map[posagent.InvoiceNumber]posagent.Acceptance{}
	}
	p.verdicts[n] = a
}

// Forget drops an invoice the fake holds, as a provider that lost it after
// answering OK; false when it held none.
func (p *Provider) Forget(n posagent.InvoiceNumber) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.invoices[n]; !ok {
		return false
	}
	delete(p.invoices, n)
	for i, m := range p.order {
		if m == n {
			p.order = append(p.order[:i], p.order[i+1:]...)
			break
		}
	}
	return true
}

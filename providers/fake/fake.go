// Package fake is an in-memory e-invoice provider for the agent's tests and
// demos. It behaves like a careful real provider — idempotent uploads, "already
// voided" as success, voids only after the invoice, allowances within what
// remains, booklets leased once — and can be scripted to fail: the next N calls
// of a method fail with a given kind, answers are lost after the work was
// done, calls are slow, or the provider is down. Every call is recorded in order.
package fake

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/posagent/posagent"
)

// Method names a provider method, for scripting failures and reading calls.
type Method string

const (
	Upload        Method = "Upload"
	Void          Method = "Void"
	Allow         Method = "Allow"
	VoidAllowance Method = "VoidAllowance"
	Lease         Method = "LeaseBooklets"
	Lookup        Method = "LookupInvoice"
)

// Call is one recorded call and what it returned.
type Call struct {
	Method    Method
	Number    posagent.InvoiceNumber // the invoice concerned, if any
	SaleID    string
	Allowance string // the allowance number, for Allow and VoidAllowance
	Err       error
	At        time.Time
}

// Record is an invoice the provider holds.
type Record struct {
	Invoice    posagent.Invoice
	Voided     bool
	VoidReason string
	Allowances []AllowanceRecord
}

// AllowanceRecord is an allowance the provider holds.
type AllowanceRecord struct {
	Allowance      posagent.Allowance
	ProviderNumber string
	Voided         bool
}

// Remaining is the invoice total less its allowances in force.
func (r Record) Remaining() int64 {
	left := r.Invoice.Total
	for _, a := range r.Allowances {
		if !a.Voided {
			left -= a.Allowance.Total
		}
	}
	return left
}

// Options configure a Provider.
type Options struct {
	Name string // Name(); default "fake"
	// Track and First are where leased booklets start (default "FK", 0);
	// Booklets is how many booklets of 50 the pool holds (default 1000).
	Track    string
	First    int
	Booklets int
	Now      func() time.Time
	Logger   *slog.Logger
}

type script struct {
	err  error
	left int
}

// Provider is the fake. The zero value is not usable; call New.
type Provider struct {
	opt Options
	log *slog.Logger

	mu        sync.Mutex
	invoices  map[posagent.InvoiceNumber]*Record
	order     []posagent.InvoiceNumber
	calls     []Call
	fail      map[Method][]*script
	lose      map[Method]int
	latency   time.Duration
	down      bool
	nextFirst int
	left      int
	allowSeq  int
	verdicts  map[posagent.InvoiceNumber]posagent.Acceptance // SetAcceptance
}

var (
	_ posagent.Provider        = (*Provider)(nil)
	_ posagent.BookletSource   = (*Provider)(nil)
	_ posagent.InvoiceLookup   = (*Provider)(nil)
	_ posagent.AllowanceIssuer = (*Provider)(nil)
)

// New returns an empty provider.
func New(opt Options) *Provider {
	if opt.Name == "" {
		opt.Name = "fake"
	}
	if opt.Track == "" {
		opt.Track = "FK"
	}
	if opt.Booklets == 0 {
		opt.Booklets = 1000
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Provider{
		opt: opt, log: log.With("provider", opt.Name),
		invoices: map[posagent.InvoiceNumber]*Record{}, fail: map[Method][]*script{}, lose: map[Method]int{},
		nextFirst: opt.First / posagent.BookletSize * posagent.BookletSize, left: opt.Booklets,
	}
}

// Name is the provider's name.
func (p *Provider) Name() string { return p.opt.Name }

// FailNext makes the next n calls of m fail with kind, without doing the work.
func (p *Provider) FailNext(m Method, n int, kind posagent.Kind) {
	err := &posagent.Error{Kind: kind, Message: fmt.Sprintf("fake %s: scripted %s failure", m, kind)}
	if kind == posagent.KindRateLimited {
		err.RetryAfter = time.Minute
	}
	p.FailNextWith(m, n, err)
}

// FailNextWith makes the next n calls of m return err, without doing the work.
func (p *Provider) FailNextWith(m Method, n int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail[m] = append(p.fail[m], &script{err: err, left: n})
}

// LoseNext makes the next n calls of m do their work and then report a
// transient failure, as when the answer is lost on the way back.
func (p *Provider) LoseNext(m Method, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lose[m] += n
}

// SetLatency delays every call by d (or until its context ends).
func (p *Provider) SetLatency(d time.Duration) { p.mu.Lock(); p.latency = d; p.mu.Unlock() }

// Down makes every call fail as transient until Up.
func (p *Provider) Down() { p.mu.Lock(); p.down = true; p.mu.Unlock() }

// Up ends Down.
func (p *Provider) Up() { p.mu.Lock(); p.down = false; p.mu.Unlock() }

// Reset drops the scripted failures, latency and Down; what is held stays.
func (p *Provider) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fail, p.lose, p.latency, p.down = map[Method][]*script{}, map[Method]int{}, 0, false
}

// Calls returns every call so far, in order.
func (p *Provider) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// CallsOf returns the calls of one method.
func (p *Provider) CallsOf(m Method) []Call {
	var out []Call
	for _, c := range p.Calls() {
		if c.Method == m {
			out = append(out, c)
		}
	}
	return out
}

// Invoices returns what the provider holds, in order of upload.
func (p *Provider) Invoices() []Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Record, 0, len(p.order))
	for _, n := range p.order {
		out = append(out, copyRecord(p.invoices[n]))
	}
	return out
}

// Invoice returns the held invoice with number n.
func (p *Provider) Invoice(n posagent.InvoiceNumber) (Record, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.invoices[n]
	if !ok {
		return Record{}, false
	}
	return copyRecord(r), true
}

func copyRecord(r *Record) Record {
	c := *r
	c.Allowances = append([]AllowanceRecord(nil), r.Allowances...)
	return c
}

// begin records the call and applies latency, Down and scripted failures. It
// returns a non-nil error when the call must fail without doing the work, and
// whether the answer is to be lost after the work.
func (p *Provider) begin(ctx context.Context, c Call) (lost bool, err error) {
	p.mu.Lock()
	latency := p.latency
	p.mu.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false, &posagent.Error{Kind: posagent.KindTransient, Message: fmt.Sprintf("fake %s: timed out", c.Method), Err: ctx.Err()}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.down:
		return false, posagent.Errorf(posagent.KindTransient, "fake %s: provider down", c.Method)
	case len(p.fail[c.Method]) > 0:
		s := p.fail[c.Method][0]
		s.left--
		if s.left <= 0 {
			p.fail[c.Method] = p.fail[c.Method][1:]
		}
		return false, s.err
	case p.lose[c.Method] > 0:
		p.lose[c.Method]--
		return true, nil
	}
	return false, nil
}

// end records the call with its outcome.
func (p *Provider) end(c Call, lost bool, err error) error {
	if lost && err == nil {
		err = posagent.Errorf(posagent.KindTransient, "fake %s: answer lost", c.Method)
	}
	c.Err, c.At = err, p.opt.Now()
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
	p.log.Debug("call", "method", string(c.Method), "number", string(c.Number), "error", errText(err))
	return err
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (p *Provider) run(ctx context.Context, c Call, work func() error) error {
	lost, err := p.begin(ctx, c)
	if err == nil {
		p.mu.Lock()
		err = work()
		p.mu.Unlock()
	}
	return p.end(c, lost, err)
}

// Upload stores the invoice. Uploading the same invoice again is success; a
// different invoice under the same number or sale id is a conflict.
func (p *Provider) Upload(ctx context.Context, inv posagent.Invoice) error {
	return p.run(ctx, Call{Method: Upload, Number: inv.Number, SaleID: inv.SaleID}, func() error {
		if err := inv.ValidateIssued(); err != nil {
			return err
		}
		if r, ok := p.invoices[inv.Number]; ok {
			if r.Invoice.SaleID != inv.SaleID || r.Invoice.Total != inv.Total || r.Invoice.RandomCode != inv.RandomCode {
				return posagent.Errorf(posagent.KindConflict, "fake: invoice %s is held with other content", inv.Number)
			}
			return nil
		}
		if inv.SaleID != "" {
			for _, r := range p.invoices {
				if r.Invoice.SaleID == inv.SaleID {
					return posagent.Errorf(posagent.KindConflict, "fake: sale %s is held as invoice %s", inv.SaleID, r.Invoice.Number)
				}
			}
		}
		p.invoices[inv.Number] = &Record{Invoice: inv}
		p.order = append(p.order, inv.Number)
		return nil
	})
}

// Void voids a held invoice; a voided one is success, an unknown one not found,
// one with allowances in force a conflict.
func (p *Provider) Void(ctx context.Context, inv posagent.Invoice, v posagent.Void) error {
	return p.run(ctx, Call{Method: Void, Number: inv.Number, SaleID: inv.SaleID}, func() error {
		if err := v.Validate(); err != nil {
			return err
		}
		r, ok := p.invoices[inv.Number]
		switch {
		case !ok:
			return posagent.Errorf(posagent.KindNotFound, "fake: invoice %s was never uploaded", inv.Number)
		case r.Voided:
			return nil
		}
		for _, a := range r.Allowances {
			if !a.Voided {
				return posagent.Errorf(posagent.KindConflict, "fake: invoice %s has allowances; void them first", inv.Number)
			}
		}
		r.Voided, r.VoidReason = true, v.Reason
		return nil
	})
}

// Allow is AllowNumbered without the number.
func (p *Provider) Allow(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) error {
	_, err := p.AllowNumbered(ctx, inv, a)
	return err
}

// AllowNumbered makes an allowance and returns the provider's number for it.
// The same allowance again is success with the same number.
func (p *Provider) AllowNumbered(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) (string, error) {
	var number string
	err := p.run(ctx, Call{Method: Allow, Number: inv.Number, SaleID: inv.SaleID, Allowance: a.Number}, func() error {
		r, ok := p.invoices[inv.Number]
		switch {
		case !ok:
			return posagent.Errorf(posagent.KindNotFound, "fake: invoice %s was never uploaded", inv.Number)
		case r.Voided:
			return posagent.Errorf(posagent.KindConflict, "fake: invoice %s is voided", inv.Number)
		}
		for _, have := range r.Allowances {
			if have.Allowance.Number == a.Number {
				if have.Allowance.Total != a.Total {
					return posagent.Errorf(posagent.KindConflict, "fake: allowance %s is held with another total", a.Number)
				}
				number = have.ProviderNumber
				return nil
			}
		}
		if err := a.Validate(r.Invoice, r.Remaining()); err != nil {
			return err
		}
		p.allowSeq++
		number = fmt.Sprintf("FA%014d", p.allowSeq)
		r.Allowances = append(r.Allowances, AllowanceRecord{Allowance: a, ProviderNumber: number})
		return nil
	})
	if err != nil {
		return "", err
	}
	return number, nil
}

// VoidAllowance voids a held allowance (by its own number or the provider's);
// a voided one is success.
func (p *Provider) VoidAllowance(ctx context.Context, inv posagent.Invoice, a posagent.Allowance, reason string) error {
	return p.run(ctx, Call{Method: VoidAllowance, Number: inv.Number, SaleID: inv.SaleID, Allowance: a.Number}, func() error {
		r, ok := p.invoices[inv.Number]
		if !ok {
			return posagent.Errorf(posagent.KindNotFound, "fake: invoice %s was never uploaded", inv.Number)
		}
		for i := range r.Allowances {
			have := &r.Allowances[i]
			if have.Allowance.Number == a.Number || (a.ProviderNumber != "" && have.ProviderNumber == a.ProviderNumber) {
				have.Voided = true
				return nil
			}
		}
		return posagent.Errorf(posagent.KindNotFound, "fake: allowance %s not found", a.Number)
	})
}

// LeaseBooklets hands out the next req.Booklets booklets of the pool (fewer
// when the pool runs low; KindExhausted when it is empty).
func (p *Provider) LeaseBooklets(ctx context.Context, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	var out []posagent.Booklet
	err := p.run(ctx, Call{Method: Lease}, func() error {
		if req.Period.IsZero() {
			return posagent.Invalid("period", "a lease needs its period")
		}
		n := req.Booklets
		if n <= 0 {
			n = 1
		}
		if n > p.left {
			n = p.left
		}
		if n == 0 {
			return posagent.Errorf(posagent.KindExhausted, "fake: no booklets left")
		}
		b := posagent.Booklet{Track: p.opt.Track, First: p.nextFirst, Last: p.nextFirst + n*posagent.BookletSize - 1, Period: req.Period, Source: p.opt.Name}
		if err := b.Validate(); err != nil {
			return posagent.Errorf(posagent.KindExhausted, "fake: the pool ran out of eight-digit numbers")
		}
		p.nextFirst += n * posagent.BookletSize
		p.left -= n
		out = []posagent.Booklet{b}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// LookupInvoice finds a held invoice by number (issuedAt must fall on its
// day) or, when number is empty, by sale id.
func (p *Provider) LookupInvoice(ctx context.Context, number posagent.InvoiceNumber, issuedAt time.Time, saleID string) (posagent.RemoteInvoice, error) {
	var out posagent.RemoteInvoice
	err := p.run(ctx, Call{Method: Lookup, Number: number, SaleID: saleID}, func() error {
		var r *Record
		if number != "" {
			r = p.invoices[number]
			if r != nil && !issuedAt.IsZero() && r.Invoice.IssuedAt.In(posagent.Taipei).Format(time.DateOnly) != issuedAt.In(posagent.Taipei).Format(time.DateOnly) {
				r = nil
			}
		} else {
			for _, n := range p.order {
				if p.invoices[n].Invoice.SaleID == saleID {
					r = p.invoices[n]
				}
			}
		}
		if r == nil {
			return posagent.Errorf(posagent.KindNotFound, "fake: no such invoice")
		}
		out = posagent.RemoteInvoice{Number: r.Invoice.Number, RandomCode: r.Invoice.RandomCode, IssuedAt: r.Invoice.IssuedAt,
			SaleID: r.Invoice.SaleID, Total: r.Invoice.Total, Voided: r.Voided, Remaining: r.Remaining()}
		return nil
	})
	return out, err
}

// Package agent is the daemon's wiring and policy: the local HTTP API, the
// sale path (validate, issue, print, answer), the sync loop that uploads the
// outbox to the provider, booklet keeping, deadline alarms, status, metrics
// and graceful shutdown. It keeps the six promises of docs/architecture.md
// using a Store, a Printer and a Provider it is given.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
)

// Options are what the agent is built from.
type Options struct {
	Config  config.Config
	Store   Store
	Printer Printer // nil: no printer; proofs stay pending
	Render  Renderer
	// Coder, Provider and BookletSource are the seller's of a single-seller
	// till (Sellers empty): they make its one SellerOptions.
	Coder    Coder
	Provider posagent.Provider
	// BookletSource is where the booklet keeper leases numbers. nil is the
	// provider when it leases (posagent.BookletSource), else none: booklets
	// are then added by hand. A shop with a head office sets it to hq.Source
	// and keeps uploading to the provider.
	BookletSource posagent.BookletSource
	// Sellers are the sellers of Config.SellerList, one each, when the till
	// sells for several (a single seller may be given here too).
	Sellers []SellerOptions
	Logger  *slog.Logger
	// Now is the clock; nil is time.Now. Tests inject their own.
	Now func() time.Time
	// Jitter returns a factor in [0.8, 1.2) for backoff delays; nil is random.
	Jitter func() float64
	// Demo enables /v1/demo (provider down/up) for the demo's stand-in.
	Demo DemoControl
	// Reload reads the configuration again and builds the provider from it,
	// for Agent.Reload (SIGHUP, `posagent reload`, POST /v1/config/reload).
	// It must validate everything and change nothing itself; nil: reload is
	// not available.
	Reload Reloader
	// PollInterval is how often the loops look for work without being woken.
	PollInterval time.Duration
	// ShutdownGrace bounds the wait for in-flight provider calls on shutdown.
	ShutdownGrace time.Duration
	// Portugal is required when the config's regime is "pt"; Coder and
	// Provider are Taiwan's and are then not needed.
	Portugal *PTOptions
}

// Reloader reads the configuration file again, validates it and builds the
// provider of each seller it lists; an error means the file is not usable as
// it stands.
type Reloader func(ctx context.Context) (config.Config, Providers, error)

// DemoControl switches the demo's provider stand-in off and on.
type DemoControl interface {
	SetProviderDown(down bool)
	ProviderDown() bool
}

// Agent is one terminal's daemon.
type Agent struct {
	// cfg is the running configuration: replaced whole by Reload, read
	// through conf().
	cfg     atomic.Pointer[config.Config]
	store   Store
	printer Printer
	render  Renderer
	// sellers are the sellers the till sells for, the default first: each
	// with its coder, provider, health, sync slots and booklet keeping.
	sellers  []*seller
	reload   Reloader
	reloadMu sync.Mutex // one reload at a time
	log      *slog.Logger
	now      func() time.Time
	jitter   func() float64
	demo     DemoControl
	poll     time.Duration
	grace    time.Duration

	syncWake    chan struct{}
	printWake   chan struct{}
	bookletWake chan struct{}

	// printMu keeps jobs from interleaving and the retry loop from racing a sale.
	printMu sync.Mutex
	// prints are the proofs printing in the background (printer.answer
	// after_commit); shutdown waits for them.
	prints sync.WaitGroup

	// retireMu guards retired: the periods closed (for every seller at once).
	retireMu      sync.Mutex
	retired       map[posagent.Period]bool
	printerStatus printerState
	alarms        alarmState
	metrics       *metrics
	reconcile     reconcileState
	inflight      sync.WaitGroup // provider calls
	stopping      atomic.Bool
	console       http.Handler // the operator console, on the paths the API does not own
	pt            *ptRegime    // the Portuguese regime; nil on a Taiwanese terminal
}

// New checks the options and builds an agent; Run starts it.
func New(opt Options) (*Agent, error) {
	if opt.Config.IsPortugal() {
		return newPortugal(opt)
	}
	switch {
	case opt.Store == nil:
		return nil, errors.New("agent: a store is required")
	case opt.Printer != nil && opt.Render == nil:
		return nil, errors.New("agent: a printer needs a renderer")
	}
	sellers, err := newSellers(opt)
	if err != nil {
		return nil, err
	}
	return newAgent(opt, sellers), nil
}

// newPortugal builds a Portuguese terminal's agent: no MOF sellers, the
// InvoiceXpress loop instead.
func newPortugal(opt Options) (*Agent, error) {
	switch p := opt.Portugal; {
	case opt.Store == nil:
		return nil, errors.New("agent: a store is required")
	case p == nil || p.Store == nil || p.Issuer == nil:
		return nil, errors.New("agent: a Portuguese terminal needs Options.Portugal with its store and InvoiceXpress")
	case p.Profile.Name == "":
		return nil, errors.New("agent: a Portuguese terminal needs a Portuguese printer profile")
	}
	a := newAgent(opt, nil)
	a.pt = &ptRegime{store: opt.Portugal.Store, ix: opt.Portugal.Issuer, profile: opt.Portugal.Profile,
		wake: make(chan struct{}, 1), online: true}
	return a, nil
}

// newAgent fills in what both regimes share.
func newAgent(opt Options, sellers []*seller) *Agent {
	a := &Agent{
		store: opt.Store, printer: opt.Printer, render: opt.Render, sellers: sellers,
		log: opt.Logger, now: opt.Now, jitter: opt.Jitter, demo: opt.Demo, retired: map[posagent.Period]bool{},
		poll: opt.PollInterval, grace: opt.ShutdownGrace, reload: opt.Reload,
		syncWake: make(chan struct{}, 1), printWake: make(chan struct{}, 1), bookletWake: make(chan struct{}, 1),
		metrics: newMetrics(),
	}
	a.reconcile.sem = make(chan struct{}, 1)
	cfg := opt.Config
	a.cfg.Store(&cfg)
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.jitter == nil {
		a.jitter = func() float64 { return 0.8 + 0.4*rand.Float64() }
	}
	if a.poll <= 0 {
		a.poll = time.Second
	}
	if a.grace <= 0 {
		a.grace = 10 * time.Second
	}
	return a
}

// conf is the running configuration. Callers must not change it.
func (a *Agent) conf() *config.Config { return a.cfg.Load() }

// Handler is the local HTTP API.
func (a *Agent) Handler() http.Handler { return a.routes() }

// Run serves the API on the configured address and runs the background loops
// until ctx ends, then shuts down gracefully. The store is closed on return.
func (a *Agent) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.conf().API.Address)
	if err != nil {
		a.store.Close()
		return fmt.Errorf("listen on %s: %w", a.conf().API.Address, err)
	}
	return a.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened.
func (a *Agent) Serve(ctx context.Context, ln net.Listener) error {
	defer a.store.Close()
	srv := &http.Server{
		Handler:           a.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	if a.pt != nil {
		return a.servePortugal(ctx, ln, srv)
	}
	if r, ok := a.store.(interface {
		ReleaseClaims(context.Context) (int, error)
	}); ok {
		// Jobs claimed by a run that crashed go back to the queue at once.
		if n, err := r.ReleaseClaims(ctx); err != nil {
			a.log.Warn("release claims left by the last run", "err", err)
		} else if n > 0 {
			a.log.Info("released jobs claimed by the last run", "jobs", n)
		}
	}
	a.adoptBooklets(ctx)
	for _, s := range a.sellers {
		if left, err := a.store.NumbersLeft(ctx, a.owner(s), posagent.PeriodOf(a.now())); err == nil && left == 0 {
			// A fresh install (or a period change while stopped): lease before the first sale.
			a.keepSellerBooklets(ctx, s)
		}
	}
	loops, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.syncLoop(loops) })
	wg.Go(func() { a.printLoop(loops) })
	wg.Go(func() { a.bookletLoop(loops) })
	wg.Go(func() { a.alarmLoop(loops) })
	wg.Go(func() { a.reconcileLoop(loops) })

	for _, s := range a.Sellers() {
		a.log.Info("selling for", "seller", s.TaxID, "name", s.Name, "provider", s.Provider, "default", s.Default)
	}
	a.log.Info("posagent is serving", "api", "http://"+ln.Addr().String()+"/v1/", "provider", a.defaultSeller().prov().Name(),
		"machine_id", a.conf().Terminal.MachineID, "seller", a.defaultSeller().taxID)
	err := a.serveUntil(ctx, ln, srv)
	stopLoops()
	wg.Wait()
	a.log.Info("stopped")
	return err
}

// servePortugal is Serve on a Portuguese terminal: the issuing loop instead
// of Taiwan's upload, print, booklet and alarm loops.
func (a *Agent) servePortugal(ctx context.Context, ln net.Listener, srv *http.Server) error {
	loops, stopLoops := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.ptLoop(loops) })
	wg.Go(func() { a.alarmLoop(loops) })
	a.log.Info("posagent is serving (Portugal: documents issued by InvoiceXpress)", "api", "http://"+ln.Addr().String()+"/v1/",
		"seller_nif", a.conf().Portugal.Seller.NIF, "document_type", a.conf().Portugal.DocumentType)
	err := a.serveUntil(ctx, ln, srv)
	stopLoops()
	wg.Wait()
	a.log.Info("stopped")
	return err
}

// serveUntil serves the API until ctx ends, then shuts down gracefully: the
// sales in hand are answered, proofs printing in the background finish,
// provider calls in flight get the grace period.
func (a *Agent) serveUntil(ctx context.Context, ln net.Listener, srv *http.Server) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if a.console != nil {
		a.log.Info("operator console", "url", "http://"+ln.Addr().String()+"/")
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serve: %w", err)
	}
	a.log.Info("shutting down: finishing the sales in hand")
	a.stopping.Store(true)
	// Shutdown waits for handlers in flight: the sale in hand is answered.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.grace+5*time.Second)
	if serr := srv.Shutdown(sctx); serr != nil {
		a.log.Warn("API shutdown", "err", serr)
	}
	cancel()
	// Proofs printing in the background finish (each is bounded by its print timeout).
	a.prints.Wait()
	// Stop claiming; provider calls in flight get the grace period, then are cut.
	done := make(chan struct{})
	go func() { a.inflight.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(a.grace):
		a.log.Warn("provider calls still in flight after the grace period; their jobs are retried after restart")
	}
	return err
}

func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

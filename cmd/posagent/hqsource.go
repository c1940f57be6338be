package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/hq"
)

// hqStartTimeout bounds the first attempt to reach the head office at start.
const hqStartTimeout = 10 * time.Second

// headOffice is the booklet source of a terminal configured with [hq]. It
// opens the MySQL pool lazily: a till that starts while the head office (or
// the shop's network) is down must still sell from the booklets already in its
// store, so a failed open is not fatal. The booklet keeper calls
// LeaseBooklets when numbers run low; each call tries to open the pool if it
// is not open yet, and a failure comes back as the lease's error, which the
// keeper shows in the numbers-low alarm and retries after its pause.
type headOffice struct {
	dsn      string
	seller   string
	terminal string
	log      *slog.Logger

	mu sync.Mutex
	hq *hq.HeadOffice
}

var _ posagent.BookletSource = (*headOffice)(nil)

func newHeadOffice(dsn, seller, terminal string, log *slog.Logger) *headOffice {
	return &headOffice{dsn: dsn, seller: seller, terminal: terminal, log: log}
}

// open returns the pool, opening it if need be. Never log or wrap the DSN:
// hq.Open's errors already leave it out.
func (h *headOffice) open(ctx context.Context) (*hq.HeadOffice, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hq != nil {
		return h.hq, nil
	}
	o, err := hq.Open(ctx, h.dsn)
	if err != nil {
		return nil, err
	}
	o.Logger = h.log
	h.hq = o
	h.log.Info("head office connected", "terminal", h.terminal)
	return o, nil
}

// LeaseBooklets implements posagent.BookletSource. The head office's ledger
// names the terminal as hq.terminal says, which may differ from the machine
// id the provider knows.
func (h *headOffice) LeaseBooklets(ctx context.Context, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	o, err := h.open(ctx)
	if err != nil {
		return nil, err
	}
	req.MachineID = h.terminal
	return hq.Source{HQ: o, Seller: h.seller, Terminal: h.terminal}.LeaseBooklets(ctx, req)
}

// Close closes the pool if it was opened.
func (h *headOffice) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hq == nil {
		return nil
	}
	err := h.hq.Close()
	h.hq = nil
	return err
}

// connectHeadOffice makes the head-office source and tries it once. A DSN the
// driver cannot parse is a configuration error that stops the start; a server
// that does not answer only earns a warning, and the keeper retries.
func connectHeadOffice(ctx context.Context, dsn, seller, terminal string, log *slog.Logger) (*headOffice, error) {
	h := newHeadOffice(dsn, seller, terminal, log)
	octx, cancel := context.WithTimeout(ctx, hqStartTimeout)
	defer cancel()
	if _, err := h.open(octx); err != nil {
		var pe *posagent.Error
		if errors.As(err, &pe) && pe.Field == "hq.dsn" {
			return nil, err
		}
		log.Warn("head office not reachable at start; selling from the booklets in store and retrying when numbers run low", "err", err)
	}
	return h, nil
}

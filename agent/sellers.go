package agent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
)

// SellerOptions are what one seller of the till is built from.
type SellerOptions struct {
	// TaxID names the seller of config.Config.SellerList this is.
	TaxID string
	// Coder derives the proof texts with the seller's QR key.
	Coder Coder
	// Provider takes the seller's uploads.
	Provider posagent.Provider
	// BookletSource is where the seller's booklets are leased (nil: the
	// provider when it leases, else none). Its head office, when it has one.
	BookletSource posagent.BookletSource
}

// Providers are the providers of a reloaded configuration, by seller tax id.
type Providers map[string]posagent.Provider

// seller is one seller's part of the agent: its QR coder, provider, lease
// source, the provider's health, its own sync slots and booklet keeping.
// Every seller goes through the same code; a single-seller till has one.
type seller struct {
	taxID string
	coder Coder
	// provMu guards provider and source, which Reload replaces; read them
	// through prov() and leaseSource().
	provMu   sync.RWMutex
	provider posagent.Provider
	source   posagent.BookletSource // nil: this seller cannot lease
	// sourceIsProvider: leasing shares the provider's rate-limit pause; a
	// head office is another server and leases while the provider rests.
	sourceIsProvider bool
	health           providerHealth
	booklets         bookletKeeper
	// slots bound the seller's provider calls in flight (sync.concurrency
	// each: ECPay's one call at a time is per merchant).
	slots chan struct{}
}

// prov is the provider the seller uploads to now.
func (s *seller) prov() posagent.Provider {
	s.provMu.RLock()
	defer s.provMu.RUnlock()
	return s.provider
}

// leaseSource is where the seller's booklets are leased now; nil when nowhere.
func (s *seller) leaseSource() posagent.BookletSource {
	s.provMu.RLock()
	defer s.provMu.RUnlock()
	return s.source
}

// newSellers builds the sellers of cfg from opt: opt.Sellers, or when it is
// empty, the one seller of opt.Coder, opt.Provider and opt.BookletSource.
func newSellers(opt Options) ([]*seller, error) {
	list := opt.Config.SellerList()
	given := opt.Sellers
	if len(given) == 0 {
		given = []SellerOptions{{TaxID: list[0].TaxID, Coder: opt.Coder, Provider: opt.Provider, BookletSource: opt.BookletSource}}
	}
	if len(given) != len(list) {
		return nil, fmt.Errorf("agent: the config lists %d sellers, the options %d", len(list), len(given))
	}
	out := make([]*seller, 0, len(list))
	for _, c := range list {
		i := slices.IndexFunc(given, func(o SellerOptions) bool { return o.TaxID == c.TaxID })
		switch {
		case i < 0:
			return nil, fmt.Errorf("agent: no options for seller %s", c.TaxID)
		case given[i].Coder == nil:
			return nil, fmt.Errorf("agent: a QR coder is required (seller %s)", c.TaxID)
		case given[i].Provider == nil:
			return nil, fmt.Errorf("agent: a provider is required (seller %s)", c.TaxID)
		}
		o := given[i]
		s := &seller{taxID: c.TaxID, coder: o.Coder, provider: o.Provider, source: o.BookletSource,
			slots: make(chan struct{}, max(1, opt.Config.Sync.Concurrency))}
		if s.source == nil {
			if src, ok := o.Provider.(posagent.BookletSource); ok {
				s.source, s.sourceIsProvider = src, true
			}
		}
		s.health.online = true // until a call says otherwise: wake-ups go straight to work
		out = append(out, s)
	}
	return out, nil
}

// defaultSeller is the seller of a sale that names none.
func (a *Agent) defaultSeller() *seller { return a.sellers[0] }

// sellerByTax is the seller with tax id, or nil; "" is the default.
func (a *Agent) sellerByTax(taxID string) *seller {
	if taxID == "" {
		return a.defaultSeller()
	}
	for _, s := range a.sellers {
		if s.taxID == taxID {
			return s
		}
	}
	return nil
}

// sellerConf is the running configuration of s.
func (a *Agent) sellerConf(s *seller) config.Seller {
	for _, c := range a.conf().SellerList() {
		if c.TaxID == s.taxID {
			return c
		}
	}
	return config.Seller{TaxID: s.taxID} // not reached: Reload keeps the sellers
}

// owner is whose booklets s issues from: its own, and for the default seller
// also those of no seller.
func (a *Agent) owner(s *seller) Owner {
	return Owner{Seller: s.taxID, Unowned: s == a.defaultSeller()}
}

// claimKeys are the seller keys of s's jobs for Claim and SellerStats: nil
// (every job) on a single-seller till; else its tax id, and for the default
// seller "" (blank reports of no seller).
func (a *Agent) claimKeys(s *seller) []string {
	switch {
	case len(a.sellers) == 1:
		return nil
	case s == a.defaultSeller():
		return []string{s.taxID, ""}
	}
	return []string{s.taxID}
}

// sellerTaxIDs lists the till's sellers, the default first.
func (a *Agent) sellerTaxIDs() string {
	ids := make([]string, len(a.sellers))
	for i, s := range a.sellers {
		ids[i] = s.taxID
	}
	return strings.Join(ids, ", ")
}

// SellerInfo names one of the till's sellers.
type SellerInfo struct {
	TaxID   string `json:"tax_id"`
	Name    string `json:"name"`
	Default bool   `json:"default"`
	// Provider is the name of the seller's provider.
	Provider string `json:"provider"`
}

// Sellers lists the till's sellers, the default first.
func (a *Agent) Sellers() []SellerInfo {
	out := make([]SellerInfo, len(a.sellers))
	for i, s := range a.sellers {
		c := a.sellerConf(s)
		out[i] = SellerInfo{TaxID: s.taxID, Name: c.Name, Default: i == 0, Provider: s.prov().Name()}
	}
	return out
}

// adoptBooklets gives the booklets of no seller to the default seller at
// start, so that a later change of the default moves no numbers.
func (a *Agent) adoptBooklets(ctx context.Context) {
	ad, ok := a.store.(interface {
		AdoptBooklets(context.Context, string) (int, error)
	})
	if !ok {
		return
	}
	n, err := ad.AdoptBooklets(ctx, a.defaultSeller().taxID)
	switch {
	case err != nil:
		a.log.Warn("give the booklets of no seller to the default seller", "seller", a.defaultSeller().taxID, "err", err)
	case n > 0:
		a.log.Info("booklets of no seller given to the default seller", "seller", a.defaultSeller().taxID, "booklets", n)
	}
}

// saleSeller is the seller of a prepared sale (PrepareSale filled it in).
func (a *Agent) saleSeller(sale posagent.Invoice) (*seller, error) {
	s := a.sellerByTax(sale.Seller.TaxID)
	if s == nil || sale.Seller.TaxID == "" {
		return nil, a.errUnknownSeller("seller.tax_id", sale.Seller.TaxID)
	}
	return s, nil
}

// errUnknownSeller refuses a sale or booklet for a seller the till does not sell for.
func (a *Agent) errUnknownSeller(field, taxID string) error {
	if len(a.sellers) == 1 {
		return posagent.Invalid(field, "%q is not this terminal's seller (%s); leave seller out to use it", taxID, a.sellers[0].taxID)
	}
	return posagent.Invalid(field, "%q is not one of this terminal's sellers (%s); leave seller out for the default, %s",
		taxID, a.sellerTaxIDs(), a.defaultSeller().taxID)
}

package config

import (
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// Seller is one 統一編號 the till sells for: a shop-in-shop or a food-court
// counter sells for several. Each has its own identity, QR key, provider and
// credentials, booklet keeping and head-office ledger; the sections mean what
// they mean at the top level of a single-seller file.
type Seller struct {
	TaxID   string `toml:"tax_id"`
	Name    string `toml:"name"`
	Address string `toml:"address"`
	// Default: a sale that names no seller is this one's. The first seller
	// is the default when none says so.
	Default  bool     `toml:"default"`
	QR       QR       `toml:"qr"`
	Provider Provider `toml:"provider"`
	Booklets Booklets `toml:"booklets"`
	HQ       HQ       `toml:"hq"`
	// Guard is this seller's own guard rails (ho600 keeps warning and
	// forbidden thresholds per seller); nil: the till's [guard].
	Guard *Guard `toml:"guard"`
}

// GuardFor is the guard rails of the seller with this tax id: its own
// [sellers.guard] when it has one, else the till's [guard]. key is where
// they are set in the file ("sellers[1].guard" or "guard"), for messages.
func (c Config) GuardFor(taxID string) (g Guard, key string) {
	for i, s := range c.Sellers {
		if s.TaxID == taxID && s.Guard != nil {
			return *s.Guard, fmt.Sprintf("sellers[%d].guard", i)
		}
	}
	return c.Guard, "guard"
}

// MaxSellers bounds the [[sellers]] list: a till is not a head office.
const MaxSellers = 16

// Sellers lists the sellers this till sells for, the default first. A file
// without [[sellers]] has one: the [terminal] seller with [qr], [provider],
// [booklets] and [hq]. Every part of the agent goes through this list, so a
// single seller is a list of one, not a second code path.
func (c Config) SellerList() []Seller {
	if len(c.Sellers) == 0 {
		return []Seller{{TaxID: c.Terminal.SellerTaxID, Name: c.Terminal.SellerName, Address: c.Terminal.SellerAddress,
			Default: true, QR: c.QR, Provider: c.Provider, Booklets: c.Booklets, HQ: c.HQ}}
	}
	out := make([]Seller, 0, len(c.Sellers))
	d := c.defaultIndex()
	out = append(out, c.Sellers[d])
	out[0].Default = true
	for i, s := range c.Sellers {
		if i != d {
			s.Default = false
			out = append(out, s)
		}
	}
	return out
}

// defaultIndex is the index in c.Sellers of the default seller.
func (c Config) defaultIndex() int {
	for i, s := range c.Sellers {
		if s.Default {
			return i
		}
	}
	return 0
}

// DefaultSeller is the seller of a sale that names none.
func (c Config) DefaultSeller() Seller { return c.SellerList()[0] }

// ForSeller is c as a single-seller configuration of s: [terminal]'s seller,
// [qr], [provider], [booklets] and [hq] are s's, and the list is empty. The
// provider and proof builders take it, so they serve one seller or many alike.
func (c Config) ForSeller(s Seller) Config {
	v := c
	v.Terminal.SellerTaxID, v.Terminal.SellerName, v.Terminal.SellerAddress = s.TaxID, s.Name, s.Address
	v.QR, v.Provider, v.Booklets, v.HQ = s.QR, s.Provider, s.Booklets, s.HQ
	v.Sellers = nil
	return v
}

// sellerSections are the top-level keys that describe the one seller of a
// file without [[sellers]]; with [[sellers]] they go inside each seller.
var sellerSections = [][]string{
	{"terminal", "seller_tax_id"}, {"terminal", "seller_name"}, {"terminal", "seller_address"},
	{"qr"}, {"provider"}, {"booklets"}, {"hq"},
}

// prepareSellers gives each [[sellers]] entry the defaults before decoding:
// the TOML decoder fills a slice's existing elements in place.
func prepareSellers(cfg *Config) {
	def := DefaultConfig()
	cfg.Sellers = make([]Seller, MaxSellers+1)
	for i := range cfg.Sellers {
		cfg.Sellers[i] = Seller{QR: def.QR, Provider: def.Provider, Booklets: def.Booklets}
	}
	cfg.Sellers = cfg.Sellers[:0]
}

// finishSellers checks the shape of a [[sellers]] file after decoding and
// mirrors the default seller into the top-level sections, so that code that
// reads [terminal]'s seller reads the default seller.
func finishSellers(cfg *Config, md toml.MetaData) error {
	if len(cfg.Sellers) == 0 {
		cfg.Sellers = nil
		return nil
	}
	if len(cfg.Sellers) > MaxSellers {
		return fieldErr("sellers", "at most %d sellers on one till", MaxSellers)
	}
	for _, key := range sellerSections {
		if md.IsDefined(key...) {
			return fieldErr(strings.Join(key, "."), "with [[sellers]], this goes inside each seller (sellers.tax_id, [sellers.qr], [sellers.provider], [sellers.booklets], [sellers.hq])")
		}
	}
	defaults := 0
	for _, s := range cfg.Sellers {
		if s.Default {
			defaults++
		}
	}
	if defaults > 1 {
		return fieldErr("sellers.default", "only one seller can be the default")
	}
	cfg.mirrorDefault()
	return nil
}

// mirrorDefault sets the top-level seller sections to the default seller's.
func (c *Config) mirrorDefault() {
	if len(c.Sellers) == 0 {
		return
	}
	d := c.DefaultSeller()
	c.Terminal.SellerTaxID, c.Terminal.SellerName, c.Terminal.SellerAddress = d.TaxID, d.Name, d.Address
	c.QR, c.Provider, c.Booklets, c.HQ = d.QR, d.Provider, d.Booklets, d.HQ
}

// validateSellers validates each seller of a [[sellers]] file as the one
// seller of its own view (ForSeller), naming fields as in the file:
// sellers[1].qr.key, sellers[0].tax_id.
func (c *Config) validateSellers() error {
	seen := map[string]int{}
	for i, s := range c.Sellers {
		v := c.ForSeller(s)
		if err := v.validateSeller(); err != nil {
			return sellerField(i, err)
		}
		if s.Guard != nil {
			if err := s.Guard.validate(fmt.Sprintf("sellers[%d].guard", i)); err != nil {
				return err
			}
		}
		if j, dup := seen[s.TaxID]; dup {
			return fieldErr(fmt.Sprintf("sellers[%d].tax_id", i), "%s is already sellers[%d]: each seller is listed once", s.TaxID, j)
		}
		seen[s.TaxID] = i
	}
	return nil
}

// sellerField renames a field error of a seller's view to the seller's key.
func sellerField(i int, err error) error {
	fe, ok := err.(*FieldError)
	if !ok {
		return err
	}
	prefix := fmt.Sprintf("sellers[%d].", i)
	field := fe.Field
	switch {
	case strings.HasPrefix(field, "terminal.seller_"):
		field = prefix + strings.TrimPrefix(field, "terminal.seller_")
	case strings.HasPrefix(field, "qr."), strings.HasPrefix(field, "provider."),
		strings.HasPrefix(field, "booklets."), strings.HasPrefix(field, "hq."):
		field = prefix + field
	}
	msg := strings.NewReplacer("terminal.seller_tax_id", prefix+"tax_id", "terminal.seller_address", prefix+"address",
		"hq.terminal", prefix+"hq.terminal").Replace(fe.Message)
	return &FieldError{Field: field, Message: msg}
}

// defaultHQTerminal names the till in each head-office ledger that leaves
// hq.terminal empty.
func (c *Config) defaultHQTerminal() {
	if c.HQ.Enabled() && c.HQ.Terminal == "" {
		c.HQ.Terminal = c.Terminal.MachineID
	}
	for i := range c.Sellers {
		if h := &c.Sellers[i].HQ; h.Enabled() && h.Terminal == "" {
			h.Terminal = c.Terminal.MachineID
		}
	}
}

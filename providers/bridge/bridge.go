// Package bridge is a provider for e-invoice services without a public API —
// Wixtar (星益欣) among them — and for any other channel a shop's POS vendor
// already runs: it hands every document (invoice, void, allowance, allowance
// void, blank-number report, and booklet lease when asked) to an integrator's
// receiver, either by HTTP (POST {url}/{kind}, signed with HMAC-SHA256) or by
// running a program (the document on standard input, the answer in its exit
// code and standard output). The README's "Bridge contract" is the reference
// an integrator builds to; this package is its client side and the single
// source of the mapping from answers to the posagent error kinds.
//
// Exactly once: every attempt at one document carries the same idempotency
// key and the same bytes, a receiver that already holds the key answers 409
// (exit 10) and the client adopts that as done. Order is the agent's: a void
// or allowance is handed over only after its invoice was accepted.
package bridge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/mig"
)

// Transport names.
const (
	TransportHTTP = "http"
	TransportExec = "exec"
)

// Config is what a Client needs.
type Config struct {
	// Transport is TransportHTTP or TransportExec.
	Transport string
	// URL is the receiver's base URL (http): documents go to URL/{kind}. It
	// must be https, or http on loopback (a relay on the same machine).
	URL string
	// Secret is the shared HMAC key (http), at least MinSecretLen bytes.
	Secret string
	// Command is the program and its arguments (exec), run without a shell.
	Command []string
	// Timeout bounds one attempt: the HTTP exchange, or the program's run
	// (it is killed, with every process it started, when the time is up).
	// Default 15 s.
	Timeout time.Duration
	// SellerTaxID and MachineID name the shop and this till in every document.
	SellerTaxID string
	MachineID   string
	// SellerName and SellerAddress are checked at start when MIG is set.
	SellerName, SellerAddress string
	// Credentials are passed through in every document (values are secrets).
	Credentials map[string]string
	// Texts computes an invoice's barcode and QR texts as printed. Required:
	// the receiver gets what the buyer holds.
	Texts func(posagent.Invoice) (Texts, error)
	// Lease makes the client a posagent.BookletSource that asks the receiver
	// for booklets (kind lease).
	Lease bool
	// NumberedAllowances: the receiver answers each allowance with its own
	// number and needs it to void the allowance (posagent.AllowanceIssuer).
	NumberedAllowances bool
	// MIG adds the MOF MIG 4.1 messages to the documents that have one
	// (providers/mig): F0401, F0501, G0401 and E0402. An allowance void has
	// none: G0501 needs the void's time, which the provider seam does not
	// carry. The seller's address is then required (Turnkey's rule).
	MIG bool
	// Redact lists further values (e.g. the QR key) never to let through from
	// a receiver's message or a program's standard error.
	Redact []string
	// HTTPClient replaces the default client (TLS ≥ 1.2, no redirects).
	HTTPClient *http.Client
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Client hands documents to the bridge. Open wraps it in the type that has
// exactly the optional capabilities the configuration asks for.
type Client struct {
	cfg     Config
	t       transport
	secrets []string
	log     *slog.Logger
	now     func() time.Time

	mu        sync.Mutex
	leaseKeys map[string]string // period → key of a lease whose answer was not had
}

// transport sends one document and maps the answer: a duplicate comes back
// as an Answer with dup set; every failure is a *posagent.Error.
type transport interface {
	send(ctx context.Context, kind Kind, key string, body []byte) (answer Answer, dup bool, err error)
	describe() string
}

var (
	credentialName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	machineIDText  = regexp.MustCompile(`^[A-Za-z0-9]{1,10}$`)
)

// New checks the configuration and returns a client. Errors are KindConfig
// and never repeat a secret.
func New(cfg Config) (*Client, error) {
	bad := func(format string, args ...any) (*Client, error) {
		return nil, posagent.Errorf(posagent.KindConfig, "bridge: "+format, args...)
	}
	if !posagent.ValidTaxID(cfg.SellerTaxID) {
		return bad("SellerTaxID %q is not a valid 統一編號", cfg.SellerTaxID)
	}
	if !machineIDText.MatchString(cfg.MachineID) {
		return bad("MachineID %q must be 1 to 10 letters or digits", cfg.MachineID)
	}
	if cfg.MIG {
		if err := mig.CheckSeller(posagent.Seller{TaxID: cfg.SellerTaxID, Name: cfg.SellerName, Address: cfg.SellerAddress}); err != nil {
			return bad("MIG: %v", err)
		}
	}
	if cfg.Texts == nil {
		return bad("Texts is required: the receiver gets the invoice's barcode and QR texts")
	}
	for name := range cfg.Credentials {
		if !credentialName.MatchString(name) {
			return bad("credential name %q must be 1 to 32 of a-z 0-9 _, starting with a letter", name)
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{cfg: cfg, log: log.With("provider", "bridge"), now: cfg.Now, leaseKeys: map[string]string{}}
	c.secrets = append(c.secrets, cfg.Secret)
	for _, v := range cfg.Credentials {
		c.secrets = append(c.secrets, v)
	}
	c.secrets = append(c.secrets, cfg.Redact...)
	c.secrets = slices.DeleteFunc(c.secrets, func(s string) bool { return s == "" })
	// Longest first: a secret that contains another is replaced whole.
	sort.SliceStable(c.secrets, func(i, j int) bool { return len(c.secrets[i]) > len(c.secrets[j]) })
	var err error
	switch cfg.Transport {
	case TransportHTTP:
		c.t, err = newHTTP(cfg, c.secrets)
	case TransportExec:
		c.t, err = newExec(cfg, c.secrets)
	default:
		return bad("Transport must be %q or %q", TransportHTTP, TransportExec)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Open is New, returning the client with the optional capabilities its
// configuration enables: posagent.BookletSource with Lease,
// posagent.AllowanceIssuer with NumberedAllowances.
func Open(cfg Config) (posagent.Provider, error) {
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Lease && cfg.NumberedAllowances:
		return leasingNumbering{c}, nil
	case cfg.Lease:
		return leasing{c}, nil
	case cfg.NumberedAllowances:
		return numbering{c}, nil
	}
	return c, nil
}

type leasing struct{ *Client }

func (l leasing) LeaseBooklets(ctx context.Context, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	return l.leaseBooklets(ctx, req)
}

type numbering struct{ *Client }

func (n numbering) AllowNumbered(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) (string, error) {
	return n.allowNumbered(ctx, inv, a)
}

type leasingNumbering struct{ *Client }

func (l leasingNumbering) LeaseBooklets(ctx context.Context, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	return l.leaseBooklets(ctx, req)
}

func (l leasingNumbering) AllowNumbered(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) (string, error) {
	return l.allowNumbered(ctx, inv, a)
}

var (
	_ posagent.Provider        = (*Client)(nil)
	_ posagent.BlankReporter   = (*Client)(nil)
	_ posagent.BookletSource   = leasing{}
	_ posagent.AllowanceIssuer = numbering{}
	_ posagent.BookletSource   = leasingNumbering{}
	_ posagent.AllowanceIssuer = leasingNumbering{}
)

// Name is the provider's short name.
func (c *Client) Name() string { return "bridge" }

// Upload hands over an issued invoice (kind invoice).
func (c *Client) Upload(ctx context.Context, inv posagent.Invoice) error {
	doc, err := c.invoiceDoc(KindInvoice, inv)
	if err != nil {
		return err
	}
	if c.cfg.MIG {
		if err := c.addMIG(&doc, func() (mig.Message, error) { return mig.F0401(inv, mig.Options{}) }); err != nil {
			return err
		}
	}
	_, err = c.deliver(ctx, doc)
	return err
}

// Void hands over the void of an invoice (kind void).
func (c *Client) Void(ctx context.Context, inv posagent.Invoice, v posagent.Void) error {
	if err := v.Validate(); err != nil {
		return err
	}
	if v.Number != inv.Number {
		return posagent.Invalid("void.number", "%s is not the invoice %s", v.Number, inv.Number)
	}
	doc, err := c.invoiceDoc(KindVoid, inv)
	if err != nil {
		return err
	}
	v.VoidedAt = v.VoidedAt.In(posagent.Taipei)
	doc.Void = &v
	if c.cfg.MIG {
		if err := c.addMIG(&doc, func() (mig.Message, error) { return mig.F0501(inv, v) }); err != nil {
			return err
		}
	}
	_, err = c.deliver(ctx, doc)
	return err
}

// addMIG writes a MIG message into doc; a refusal names its field and is
// invalid (the platform would refuse the message too).
func (c *Client) addMIG(doc *Document, build func() (mig.Message, error)) error {
	m, err := build()
	if err != nil {
		return fmt.Errorf("bridge %s: the MIG message: %w", doc.Kind, err)
	}
	doc.MIG = append(doc.MIG, MIGMessage{Type: m.Type, Identifier: m.Identifier, XML: string(m.XML)})
	return nil
}

// Allow hands over an allowance (kind allowance).
func (c *Client) Allow(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) error {
	_, err := c.allowNumbered(ctx, inv, a)
	return err
}

// allowNumbered is Allow returning the receiver's number for the allowance,
// if it gave one (AllowNumbered with NumberedAllowances).
func (c *Client) allowNumbered(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) (string, error) {
	doc, err := c.allowanceDoc(KindAllowance, inv, a)
	if err != nil {
		return "", err
	}
	if c.cfg.MIG {
		if err := c.addMIG(&doc, func() (mig.Message, error) { return mig.G0401(inv, a) }); err != nil {
			return "", err
		}
	}
	ans, err := c.deliver(ctx, doc)
	return ans.ProviderNumber, err
}

// VoidAllowance hands over the void of an allowance (kind allowance-void).
func (c *Client) VoidAllowance(ctx context.Context, inv posagent.Invoice, a posagent.Allowance, reason string) error {
	doc, err := c.allowanceDoc(KindAllowanceVoid, inv, a)
	if err != nil {
		return err
	}
	doc.Reason = reason
	_, err = c.deliver(ctx, doc)
	return err
}

// ReportBlank hands over the numbers of a period left unused (kind blank).
func (c *Client) ReportBlank(ctx context.Context, p posagent.Period, unused []posagent.Booklet) error {
	if p.IsZero() {
		return posagent.Invalid("period", "a blank report needs its period")
	}
	if len(unused) == 0 {
		return posagent.Invalid("blank", "a blank report needs at least one range")
	}
	b := &Blank{Period: p.Code()}
	h := sha256.New()
	for i, r := range unused {
		if r.Track == "" || r.First > r.Last || r.First < 0 || r.Last > 99999999 {
			return posagent.Invalid(fmt.Sprintf("blank[%d]", i), "%s is not a number range", r.String())
		}
		b.Ranges = append(b.Ranges, Range{Track: r.Track, First: r.First, Last: r.Last})
		fmt.Fprintf(h, "%s%08d-%08d,", r.Track, r.First, r.Last)
	}
	doc := c.doc(KindBlank, fmt.Sprintf("blank:%s:%s:%s:%s", c.cfg.SellerTaxID, c.cfg.MachineID, p.Code(),
		hex.EncodeToString(h.Sum(nil))[:16]))
	doc.Blank = b
	if c.cfg.MIG {
		reports, err := mig.BlankReports(c.cfg.SellerTaxID, c.cfg.SellerTaxID, p, unused)
		if err != nil {
			return err
		}
		for _, r := range reports {
			if err := c.addMIG(&doc, func() (mig.Message, error) { return mig.E0402(r) }); err != nil {
				return err
			}
		}
	}
	_, err := c.deliver(ctx, doc)
	return err
}

// leaseBooklets asks the receiver for booklets (kind lease; LeaseBooklets
// with Lease). A lease whose
// answer was lost is asked again with the same key, so the receiver can hand
// back the same booklets instead of new ones; the key is kept in memory only,
// so a restart in between asks afresh [the lost range must then be reported
// blank by whoever keeps the pool].
func (c *Client) leaseBooklets(ctx context.Context, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	if req.MachineID != "" && req.MachineID != c.cfg.MachineID {
		return nil, posagent.Invalid("machine_id", "this client leases for machine %q, not %q", c.cfg.MachineID, req.MachineID)
	}
	if req.Period.IsZero() {
		return nil, posagent.Invalid("period", "a lease needs its period")
	}
	want := max(req.Booklets, 1)
	c.mu.Lock()
	key := c.leaseKeys[req.Period.Code()]
	if key == "" {
		var nonce [8]byte
		_, _ = rand.Read(nonce[:])
		key = fmt.Sprintf("lease:%s:%s:%s:%s", c.cfg.SellerTaxID, c.cfg.MachineID, req.Period.Code(), hex.EncodeToString(nonce[:]))
		c.leaseKeys[req.Period.Code()] = key
	}
	c.mu.Unlock()
	doc := c.doc(KindLease, key)
	doc.Lease = &Lease{Period: req.Period.Code(), Booklets: want}
	ans, err := c.deliver(ctx, doc)
	if err != nil {
		if k := posagent.ErrorKind(err); k == posagent.KindInvalid || k == posagent.KindConflict {
			c.forgetLease(req.Period, key)
		}
		return nil, err
	}
	var out []posagent.Booklet
	for i, r := range ans.Booklets {
		b := posagent.Booklet{Track: r.Track, First: r.First, Last: r.Last, Period: req.Period, Source: "bridge"}
		if err := b.Validate(); err != nil {
			// The receiver holds the lease; asking again with the same key
			// gets the same answer, so this stays visible until fixed there.
			return nil, posagent.Errorf(posagent.KindInternal, "bridge: lease answer booklets[%d]: %v", i, err)
		}
		out = append(out, b)
	}
	c.forgetLease(req.Period, key)
	c.log.LogAttrs(ctx, slog.LevelInfo, "bridge lease", slog.String("period", req.Period.Code()), slog.Int("ranges", len(out)))
	return out, nil
}

func (c *Client) forgetLease(p posagent.Period, key string) {
	c.mu.Lock()
	if c.leaseKeys[p.Code()] == key {
		delete(c.leaseKeys, p.Code())
	}
	c.mu.Unlock()
}

func (c *Client) doc(kind Kind, key string) Document {
	d := Document{Version: Version, Kind: kind, Key: key, SellerTaxID: c.cfg.SellerTaxID, MachineID: c.cfg.MachineID}
	if len(c.cfg.Credentials) > 0 {
		d.Credentials = c.cfg.Credentials
	}
	return d
}

// invoiceDoc is the document of kind about inv, with its MOF texts.
func (c *Client) invoiceDoc(kind Kind, inv posagent.Invoice) (Document, error) {
	if !inv.Number.Valid() {
		return Document{}, posagent.Invalid("number", "%q is not an invoice number", inv.Number)
	}
	if inv.IssuedAt.IsZero() {
		return Document{}, posagent.Invalid("issued_at", "the invoice has no issue time")
	}
	if inv.Seller.TaxID != c.cfg.SellerTaxID {
		return Document{}, posagent.Invalid("seller.tax_id", "%s is not this bridge's seller %s", inv.Seller.TaxID, c.cfg.SellerTaxID)
	}
	texts, err := c.cfg.Texts(inv)
	if err != nil {
		return Document{}, fmt.Errorf("bridge: the MOF texts of %s: %w", inv.Number, err)
	}
	inv.IssuedAt = inv.IssuedAt.In(posagent.Taipei)
	p := inv.Period().Code()
	d := c.doc(kind, fmt.Sprintf("%s:%s:%s:%s", kind, c.cfg.SellerTaxID, p, inv.Number))
	d.Invoice = &inv
	d.MOF = &MOF{Number: string(inv.Number), RandomCode: inv.RandomCode, Period: p,
		Barcode: texts.Barcode, QRLeft: texts.QRLeft, QRRight: texts.QRRight}
	return d, nil
}

func (c *Client) allowanceDoc(kind Kind, inv posagent.Invoice, a posagent.Allowance) (Document, error) {
	if a.InvoiceNumber != inv.Number {
		return Document{}, posagent.Invalid("allowance.invoice_number", "%q is not the invoice %s", a.InvoiceNumber, inv.Number)
	}
	if a.Number == "" || len(a.Number) > posagent.MaxAllowanceNumber {
		return Document{}, posagent.Invalid("allowance.number", "an allowance number is 1 to %d characters", posagent.MaxAllowanceNumber)
	}
	d, err := c.invoiceDoc(kind, inv)
	if err != nil {
		return Document{}, err
	}
	d.Key += ":" + a.Number
	a.IssuedAt = a.IssuedAt.In(posagent.Taipei)
	d.Allowance = &a
	return d, nil
}

// deliver sends the document and turns a duplicate into success.
func (c *Client) deliver(ctx context.Context, doc Document) (Answer, error) {
	body, err := json.Marshal(doc)
	if err != nil {
		return Answer{}, fmt.Errorf("bridge: encode the %s document: %w", doc.Kind, err)
	}
	start := c.now()
	ans, dup, err := c.t.send(ctx, doc.Kind, doc.Key, body)
	attrs := []slog.Attr{slog.String("kind", string(doc.Kind)), slog.String("key", doc.Key),
		slog.Duration("took", c.now().Sub(start))}
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelDebug, "bridge call failed", append(attrs,
			slog.String("error_kind", string(posagent.ErrorKind(err))), slog.String("err", err.Error()))...)
		return Answer{}, err
	}
	if dup {
		c.log.LogAttrs(ctx, slog.LevelInfo, "bridge already holds the document; adopted", attrs...)
	} else {
		c.log.LogAttrs(ctx, slog.LevelDebug, "bridge call", attrs...)
	}
	return ans, nil
}

// fail builds the error of a failed attempt, naming the transport and kind.
func fail(kind posagent.Kind, doc Kind, format string, args ...any) *posagent.Error {
	return &posagent.Error{Kind: kind, Message: fmt.Sprintf("bridge %s: ", doc) + fmt.Sprintf(format, args...)}
}

func quoteMessage(m string) string {
	if m == "" {
		return ""
	}
	return ": " + strings.TrimSpace(m)
}

package agent

import (
	"context"
	"time"

	"github.com/posagent/posagent"
)

// The agent's view of its dependencies: small interfaces defined here, where
// they are used. cmd/posagent wires the real ones (queue, printer, qr,
// providers/*) through the adapters in package agent/wire.

// Proof is what the agent derives from an issued invoice for its paper proof
// and for the POS: the Code 39 barcode text and the two QR texts. The store
// keeps it with the invoice, written in the issuing transaction.
type Proof struct {
	Barcode   string `json:"barcode"`
	QRLeft    string `json:"qr_left"`
	QRRight   string `json:"qr_right"`
	QRVersion int    `json:"qr_version"`
}

// Coder derives the proof texts of an issued invoice (number and random code set).
type Coder func(inv posagent.Invoice) (Proof, error)

// Job kinds in the outbox.
const (
	JobUpload        = "upload"
	JobVoid          = "void"
	JobAllowance     = "allowance"
	JobVoidAllowance = "allowance_void"
	JobBlank         = "blank"
)

// Job states as the agent reports them.
const (
	StatePending = "pending"
	StateClaimed = "claimed"
	StateDone    = "done"
	StateDead    = "dead"
)

// Job is one outbox entry handed to the sync loop.
type Job struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	// Seller is the 統一編號 whose provider takes the job: the invoice's
	// seller, or a blank report's ("" for one of no seller: the default's).
	Seller    string              `json:"seller,omitempty"`
	Invoice   posagent.Invoice    `json:"-"`
	Number    string              `json:"invoice_number"`
	Void      *posagent.Void      `json:"void,omitempty"`
	Allowance *posagent.Allowance `json:"allowance,omitempty"`
	// Reason is the reason of a void of an allowance.
	Reason string `json:"reason,omitempty"`
	// Period and Blank are the unused ranges of a blank-number report (JobBlank).
	Period posagent.Period    `json:"period,omitzero"`
	Blank  []posagent.Booklet `json:"blank,omitempty"`
	// Token identifies the claim; the store wants it back with the outcome.
	Token int64 `json:"-"`
	// Attempts counts claims, the current one included.
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error,omitempty"`
	NextTry   time.Time `json:"next_try,omitzero"`
	CreatedAt time.Time `json:"created_at,omitzero"`
}

// PrintState is where an invoice's paper proof stands.
type PrintState struct {
	// State: "not_needed" (carrier or donation), "pending", "printed", "failed".
	State string `json:"state"`
	// OriginalPrinted: the original may be on paper, so any later print is 補印.
	OriginalPrinted bool   `json:"original_printed"`
	Attempts        int    `json:"attempts"`
	Reason          string `json:"reason,omitempty"`
}

// Event is one line of an invoice's history.
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail,omitempty"`
}

// Record is an invoice with everything the store knows about it.
type Record struct {
	Invoice     posagent.Invoice
	Proof       Proof
	UploadState string
	UploadError string
	Print       PrintState
	Void        *posagent.Void
	// Allowances lists the invoice's allowances in order, voided ones included.
	Allowances []AllowanceRecord
	// Remaining is the total less the allowances made against it that are not voided.
	Remaining int64
	Events    []Event
	// Replaces is the invoice this one was issued in place of (a reissue),
	// ReplacedBy the one issued in place of this one; empty when none.
	Replaces, ReplacedBy posagent.InvoiceNumber
	// Order is the id of the order it was issued from; empty when none.
	Order string
}

// AllowanceRecord is an allowance with where it and its void stand. Its
// ProviderNumber is set once the allowance is at a provider that numbers
// allowances (posagent.AllowanceIssuer).
type AllowanceRecord struct {
	posagent.Allowance
	// Upload is the state of the allowance's job, UploadError its last error.
	Upload      string
	UploadError string
	// VoidedAt is zero unless the allowance was voided here.
	VoidedAt   time.Time
	VoidReason string
	// VoidUpload is the state of the void's job, VoidError its last error.
	VoidUpload string
	VoidError  string
}

// Voided says whether the allowance was voided here.
func (a AllowanceRecord) Voided() bool { return !a.VoidedAt.IsZero() }

// BookletInfo is a leased range with what is left of it.
type BookletInfo struct {
	posagent.Booklet
	// Left is what can still be issued (0 once retired).
	Left int `json:"left"`
	// Unused is what was never issued: after retirement, the blank numbers.
	Unused  int  `json:"unused"`
	Retired bool `json:"retired"`
}

// Owner is whose booklets a store call uses: a seller's tax id, and whether
// it also takes the booklets stored without a seller (the default seller
// does: booklets of a till from before it had several sellers are its).
type Owner struct {
	Seller  string
	Unowned bool
}

// SellerStats is the open part of some sellers' outbox.
type SellerStats struct {
	// Jobs counts open jobs by state (pending, claimed, dead).
	Jobs map[string]int
	// OldestUnsent is the oldest open job's invoice, OldestIssuedAt when its
	// deadline started, OldestKind its kind ("" when nothing is open).
	OldestUnsent   posagent.InvoiceNumber
	OldestIssuedAt time.Time
	OldestKind     string
}

// Stats is the store's summary for status and metrics.
type Stats struct {
	// Jobs counts outbox jobs by state (pending, claimed, done, dead).
	Jobs map[string]int
	// OldestUnsent is the oldest issued invoice not yet at the provider.
	OldestUnsent   posagent.InvoiceNumber
	OldestIssuedAt time.Time
	// OldestKind is the oldest unsent job's kind (a blank report has its own deadline).
	OldestKind string
	// LastUpload is when the provider last accepted something.
	LastUpload time.Time
	// PrintsPending counts proofs waiting for the printer.
	PrintsPending int
}

// Store is the terminal's durable store.
type Store interface {
	// Issue numbers and stores a validated sale with its upload and print jobs
	// in one transaction, deriving the proof inside it; the number comes
	// from owner's booklets only. A sale id seen before returns the stored
	// invoice and created = false.
	Issue(ctx context.Context, sale posagent.Invoice, owner Owner, derive Coder) (rec Record, created bool, err error)
	Invoice(ctx context.Context, n posagent.InvoiceNumber) (Record, error)
	Void(ctx context.Context, v posagent.Void) error
	// Allow records an allowance; an empty number is assigned by the store.
	Allow(ctx context.Context, a posagent.Allowance) (posagent.Allowance, error)
	// VoidAllowance records the void of an allowance and queues it after the
	// allowance's own job. Unknown is KindNotFound, voided KindConflict.
	VoidAllowance(ctx context.Context, allowanceNumber, reason string) error

	// BeginPrint marks an attempt to print the invoice's proof and says
	// whether it must say 補印 (an original may already be on paper).
	BeginPrint(ctx context.Context, n posagent.InvoiceNumber) (reprint bool, err error)
	// FinishPrint records how the attempt went.
	FinishPrint(ctx context.Context, n posagent.InvoiceNumber, printed bool, reason string, mayHaveReachedPaper bool) error
	// PrintState is where an invoice's proof stands.
	PrintState(ctx context.Context, n posagent.InvoiceNumber) (PrintState, error)
	// PendingPrints lists the invoices whose proof is still to be printed, oldest first.
	PendingPrints(ctx context.Context, limit int) ([]posagent.InvoiceNumber, error)

	// Claim hands out up to max due jobs of sellers (nil: of every seller;
	// "" is a blank report of no seller), in invoice order, invisible to
	// other claims for lease.
	Claim(ctx context.Context, sellers []string, max int, lease time.Duration) ([]Job, error)
	Done(ctx context.Context, job Job) error
	// DoneAllowance is Done for an allowance job, storing the provider's
	// number for the allowance in the same transaction ("" stores none).
	DoneAllowance(ctx context.Context, job Job, providerNumber string) error
	Retry(ctx context.Context, job Job, at time.Time, cause error) error
	// Postpone puts a claimed job back, due at at, without counting the
	// attempt or recording a failure: the provider asked for a wait.
	Postpone(ctx context.Context, job Job, at time.Time) error
	Dead(ctx context.Context, job Job, reason error) error
	Jobs(ctx context.Context, state string, limit int) ([]Job, error)
	Revive(ctx context.Context, id int64) error
	// Resolve closes a dead job a person settled outside posagent, keeping
	// the note in the invoice's events.
	Resolve(ctx context.Context, id int64, note string) error

	AddBooklet(ctx context.Context, b posagent.Booklet) error
	Booklets(ctx context.Context) ([]BookletInfo, error)
	// BlankBooklets lists the retired booklets of period p that hold unused
	// numbers (reported blank). Status asks it for the last period or two,
	// never for all booklets: a till's years of booklets must not slow it.
	BlankBooklets(ctx context.Context, p posagent.Period) ([]BookletInfo, error)
	// NumbersLeft is what owner can still issue in period p.
	NumbersLeft(ctx context.Context, owner Owner, p posagent.Period) (int, error)
	// RetirePeriod closes the period's booklets, returns the unused ranges and
	// queues their blank report (a JobBlank) when there are any.
	RetirePeriod(ctx context.Context, p posagent.Period) ([]posagent.Booklet, error)

	Stats(ctx context.Context) (Stats, error)
	// SellerStats is the open outbox of sellers (nil: of every seller).
	SellerStats(ctx context.Context, sellers []string) (SellerStats, error)
	Close() error
}

// Reissuer is a Store that can void an invoice and issue its correction in
// one transaction (作廢重開). The agent asks for it with a type assertion.
type Reissuer interface {
	// Reissue voids v.Number and issues sale in its place, both or neither;
	// the new invoice's upload waits for the void's. A sale id already
	// issued as this invoice's reissue returns the stored pair with created
	// = false.
	Reissue(ctx context.Context, v posagent.Void, sale posagent.Invoice, owner Owner, derive Coder) (void posagent.Void, rec Record, created bool, err error)
}

// Order is a sale accepted without a number (預購, 取貨), issued later.
type Order struct {
	ID    string `json:"id"`
	State string `json:"state"` // open, issued, cancelled
	// Sale is the sale as ordered; its issued_at is when it was ordered.
	Sale      posagent.Invoice `json:"sale"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
	// Invoice is the number issued for it, once issued.
	Invoice      string `json:"invoice,omitempty"`
	CancelReason string `json:"cancel_reason,omitempty"`
}

// The order states.
const (
	OrderOpen      = "open"
	OrderIssued    = "issued"
	OrderCancelled = "cancelled"
)

// OrderBook is a Store that keeps orders. The agent asks for it with a type
// assertion.
type OrderBook interface {
	// AddOrder stores an open order keyed by the sale id; the same order
	// again returns the stored one with created = false.
	AddOrder(ctx context.Context, sale posagent.Invoice) (o Order, created bool, err error)
	Order(ctx context.Context, id string) (Order, error)
	// Orders lists orders in a state ("" every state), oldest first.
	Orders(ctx context.Context, state string, limit int) ([]Order, error)
	CancelOrder(ctx context.Context, id, reason string) (Order, error)
	// IssueOrder issues an open order dated at, numbered from at's period;
	// an issued order returns its invoice with created = false.
	IssueOrder(ctx context.Context, id string, at time.Time, owner Owner, derive Coder) (rec Record, created bool, err error)
	// OrderCounts counts open orders, those taken before staleBefore, and
	// gives when the oldest open one was taken.
	OrderCounts(ctx context.Context, staleBefore time.Time) (open, stale int, oldest time.Time, err error)
}

// PrintOutcome is how a print job went.
type PrintOutcome struct {
	Printed bool
	// Reason is why not, as a short code (see cashierMessage) or the device's words.
	Reason string
	// MayHaveReachedPaper: part of the job may be on paper, so the next print is 補印.
	MayHaveReachedPaper bool
}

// PrinterStatus is the printer's state for status, metrics and the retry loop.
type PrinterStatus struct {
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"`
}

// Printer sends ESC/POS jobs to the receipt printer.
type Printer interface {
	Print(ctx context.Context, job []byte) PrintOutcome
	Status(ctx context.Context) PrinterStatus
}

// Renderer draws the proof of an issued invoice as ESC/POS bytes.
type Renderer func(inv posagent.Invoice, reprint bool) ([]byte, error)

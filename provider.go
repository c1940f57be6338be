package posagent

import (
	"context"
	"time"
)

// The provider seam. Every e-invoice service the agent syncs to implements
// Provider; what only some can do is a separate interface the agent asks for
// with a type assertion:
//
//	ECPay offline, Wixtar, Amego, MIG/Turnkey: Provider (+ BookletSource where they lease numbers)
//	ECPay online, InvoiceXpress:              OnlineIssuer (the service numbers the invoice)
//	MySQL head office:                        BookletSource
//
// Every method returns nil when the provider holds the document afterwards,
// whether this call or an earlier, unanswered one put it there: a client that
// meets "already exists" looks the document up and adopts it. Other failures are
// *Error values whose Kind tells the sync loop what to do (see Kind).

// Provider receives what the terminal issued.
type Provider interface {
	// Name is the provider's short name for logs and status ("ecpay").
	Name() string
	// Upload sends an invoice the terminal numbered and printed.
	Upload(ctx context.Context, inv Invoice) error
	// Void cancels an uploaded invoice.
	Void(ctx context.Context, inv Invoice, v Void) error
	// Allow issues an allowance against an uploaded invoice.
	Allow(ctx context.Context, inv Invoice, a Allowance) error
	// VoidAllowance cancels an uploaded allowance.
	VoidAllowance(ctx context.Context, inv Invoice, a Allowance, reason string) error
}

// AllowanceIssuer is a provider that gives each allowance a number of its own
// (ECPay's 16-character IA_Allow_No) and needs it back to void the allowance.
// The agent stores the number as Allowance.ProviderNumber. An empty number with
// a nil error means the allowance is at the provider but its number was lost
// with an unanswered request; voiding it then needs a person.
type AllowanceIssuer interface {
	AllowNumbered(ctx context.Context, inv Invoice, a Allowance) (providerNumber string, err error)
}

// OnlineIssuer is a provider that numbers invoices itself (ECPay online B2C,
// InvoiceXpress). It returns the invoice completed with the provider's number,
// random code and issue time. SaleID is the idempotency key.
type OnlineIssuer interface {
	IssueOnline(ctx context.Context, sale Invoice) (Invoice, error)
}

// LeaseRequest asks for invoice numbers for one terminal and period.
type LeaseRequest struct {
	Period    Period
	MachineID string // the terminal, as registered at the provider
	Booklets  int    // how many booklets of 50 are wanted; a source may give fewer
}

// BookletSource leases ranges of invoice numbers to this terminal. A range it
// returns belongs to this terminal alone, and the caller stores it durably
// before using any number in it.
type BookletSource interface {
	LeaseBooklets(ctx context.Context, req LeaseRequest) ([]Booklet, error)
}

// RemoteInvoice is what a provider reports it holds for an invoice.
type RemoteInvoice struct {
	Number     InvoiceNumber
	RandomCode string
	IssuedAt   time.Time
	SaleID     string
	Total      int64
	Voided     bool
	// Remaining is what is left after allowances, when the provider says.
	Remaining int64
}

// InvoiceLookup finds an invoice at the provider by number (with its issue
// date) or, when number is empty, by sale id. Not found is KindNotFound.
type InvoiceLookup interface {
	LookupInvoice(ctx context.Context, number InvoiceNumber, issuedAt time.Time, saleID string) (RemoteInvoice, error)
}

// BlankReporter reports the numbers of a period left unused (E0402).
type BlankReporter interface {
	ReportBlank(ctx context.Context, p Period, unused []Booklet) error
}

// SaleChecker is a provider that refuses some sales for rules of its own (a
// carrier it keys differently, say). The agent asks it before a sale spends an
// invoice number, so that nothing the provider will refuse is ever issued;
// errors are KindInvalid naming the field.
type SaleChecker interface {
	CheckSale(inv Invoice) error
}

// CarrierChecker asks the provider whether a mobile barcode or a donation code
// exists. It is advisory: the MOF service behind it has unannounced outages, so
// a sale never waits on it.
type CarrierChecker interface {
	MobileBarcodeExists(ctx context.Context, code string) (bool, error)
	LoveCodeExists(ctx context.Context, code string) (bool, error)
}

// Alarm levels a provider may raise, as the agent's status names them.
const (
	AlarmWarning  = "warning"
	AlarmCritical = "critical"
)

// ProviderAlarm is something a provider found out that a person must act on,
// beyond the outcome of one call: a wrong QR key that every printed proof
// carries, for instance. Code is a short stable name ("qr_key_mismatch").
type ProviderAlarm struct {
	Level   string
	Code    string
	Message string
	Since   time.Time
}

// AlarmReporter is a provider that raises alarms of its own. The agent asks
// for them whenever it gathers its status, shows them with its own alarms
// and logs them as it logs those. A provider keeps an alarm up until its
// cause is gone; it must never put a secret in Message.
type AlarmReporter interface {
	ProviderAlarms() []ProviderAlarm
}

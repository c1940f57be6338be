package posagent

import (
	"context"
	"time"
)

// A reconciliation asks the filing channel what it holds of the documents
// posagent sent, so that a difference is found and corrected before the tax
// office finds it (since 2025 a correction made first is not fined:
// turnkey.md §5).

// DocKind is the kind of document a reconciliation asks about.
type DocKind string

const (
	DocInvoice       DocKind = "invoice"
	DocVoid          DocKind = "void"
	DocAllowance     DocKind = "allowance"
	DocAllowanceVoid DocKind = "allowance_void"
)

// DocRef is one document posagent sent, as the reconciliation asks about it.
type DocRef struct {
	Kind DocKind
	// Number is the invoice; for an allowance or its void, the invoice it reduces.
	Number InvoiceNumber
	// AllowanceNumber is posagent's number of an allowance (allowances and their voids).
	AllowanceNumber string
	// ProviderNumber is the provider's own number of an allowance, where it gives one (ECPay).
	ProviderNumber string
	SaleID         string
	SellerTaxID    string
	// IssuedAt is the invoice's (or the allowance's) issue time, Taipei.
	IssuedAt time.Time
	// Amount is the invoice total or the allowance total, tax included, whole NT$.
	Amount int64
	// Remaining is, for an invoice and for an allowance or its void, what
	// posagent holds as the invoice's amount left after the allowances the
	// provider has (allowances landed, less those whose void landed). A
	// provider that reports only the invoice's remaining amount (ECPay's
	// IIS_Remain_Allowance_Amt) tells from it whether an allowance landed.
	Remaining int64
}

// Acceptance is the platform's verdict on a document as the provider reports it.
type Acceptance string

const (
	// AcceptUnknown: the provider cannot tell (it says nothing of the platform).
	AcceptUnknown Acceptance = ""
	// AcceptPending: sent on to the platform, no verdict yet (ECPay G/P, Turnkey P/G/I).
	AcceptPending Acceptance = "pending"
	// AcceptAccepted: the platform accepted it (ECPay and Turnkey C).
	AcceptAccepted Acceptance = "accepted"
	// AcceptRejected: the platform refused it (ECPay and Turnkey E).
	AcceptRejected Acceptance = "rejected"
)

// Holding is what the provider holds of one DocRef.
type Holding struct {
	Ref DocRef
	// Found: the provider holds the document. For a DocVoid, Found means the
	// invoice is held as voided; for a DocAllowanceVoid, the allowance as voided.
	Found bool
	// Amount is the amount as the provider holds it, when HasAmount.
	Amount    int64
	HasAmount bool
	// Remaining is the invoice's amount left after allowances as the
	// provider holds it, when HasRemaining (ECPay).
	Remaining    int64
	HasRemaining bool
	// Acceptance is the platform's verdict, as far as the provider tells.
	Acceptance Acceptance
	// Detail is the provider's own words and codes, for the report and the
	// operator ("IIS_Upload_Status=1 IIS_Turnkey_Status=E"). Never a secret.
	Detail string
}

// Reconciler is a provider that can say what it holds. Holdings answers one
// Holding per ref, in the order asked; a ref the provider does not hold is a
// Holding with Found false, not an error. An error means the question could
// not be answered (transient, auth…): nothing is concluded from it.
type Reconciler interface {
	Holdings(ctx context.Context, refs []DocRef) ([]Holding, error)
}

// MessageCount is one MIG message's line in a platform's day summary.
type MessageCount struct {
	Total, Good, Failed int
}

// DaySummary is a day's counts as the platform holds them (Turnkey's
// SummaryResult), keyed by MIG message name: "F0401", "F0501", "G0401", "G0501".
type DaySummary struct {
	Day      time.Time // midnight, Taipei
	Messages map[string]MessageCount
}

// DaySummarizer is a provider that can give the platform's summary of a day.
// ok is false when the platform has not produced one yet.
type DaySummarizer interface {
	DaySummary(ctx context.Context, day time.Time) (s DaySummary, ok bool, err error)
}

// Resender is a provider that remembers what it delivered (Turnkey's drop
// journal) and so would take a document queued again as sent already. Before
// a reconciliation queues again a document the provider does not hold, it
// calls Lost, so that the next attempt sends it for real.
type Resender interface {
	Lost(ctx context.Context, ref DocRef) error
}

package bridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/posagent/posagent"
)

var _ posagent.Reconciler = (*Client)(nil)

// unsupported is the error of a receiver or program that does not implement
// the optional status call: a set-up fact, not a failure to retry, and not a
// difference to report (posagent.ErrNotReconcilable).
func unsupported(msg string) *posagent.Error {
	return &posagent.Error{Kind: posagent.KindConfig, Message: "bridge status: " + msg +
		": this provider cannot be reconciled until the receiver implements it (README, the bridge contract)", Err: posagent.ErrNotReconcilable}
}

// Holdings implements posagent.Reconciler with the contract's optional status
// call (kind status): the documents are asked about in batches of
// MaxStatusBatch, each by the idempotency key it was sent under and by kind
// and numbers. A receiver that does not implement it (HTTP 501 or 404, exit 11
// or 64) makes the error say so, with posagent.ErrNotReconcilable in its chain.
func (c *Client) Holdings(ctx context.Context, refs []posagent.DocRef) ([]posagent.Holding, error) {
	asks := make([]StatusRef, len(refs))
	for i, r := range refs {
		ask, err := c.statusRef(fmt.Sprintf("refs[%d].", i), r)
		if err != nil {
			return nil, err
		}
		asks[i] = ask
	}
	out := make([]posagent.Holding, len(refs))
	for start := 0; start < len(refs); start += MaxStatusBatch {
		end := min(start+MaxStatusBatch, len(refs))
		got, err := c.status(ctx, asks[start:end])
		if err != nil {
			return nil, err
		}
		for i := start; i < end; i++ {
			out[i] = holding(refs[i], got[asks[i].Key], c.secrets)
		}
	}
	return out, nil
}

// statusRef names a DocRef as the client sent it: the idempotency key of
// invoiceDoc / allowanceDoc (period of the invoice's issue time; for an
// allowance the ref's time, which is the allowance's — hence the numbers too).
func (c *Client) statusRef(at string, r posagent.DocRef) (StatusRef, error) {
	if !r.Number.Valid() {
		return StatusRef{}, posagent.Invalid(at+"number", "%q is not an invoice number", r.Number)
	}
	if r.SellerTaxID != "" && r.SellerTaxID != c.cfg.SellerTaxID {
		return StatusRef{}, posagent.Invalid(at+"seller_tax_id", "%s is not this bridge's seller %s", r.SellerTaxID, c.cfg.SellerTaxID)
	}
	if r.IssuedAt.IsZero() {
		return StatusRef{}, posagent.Invalid(at+"issued_at", "is required: it names the period of the document's key")
	}
	var kind Kind
	switch r.Kind {
	case posagent.DocInvoice:
		kind = KindInvoice
	case posagent.DocVoid:
		kind = KindVoid
	case posagent.DocAllowance:
		kind = KindAllowance
	case posagent.DocAllowanceVoid:
		kind = KindAllowanceVoid
	default:
		return StatusRef{}, posagent.Invalid(at+"kind", "%q is not a document kind", r.Kind)
	}
	key := fmt.Sprintf("%s:%s:%s:%s", kind, c.cfg.SellerTaxID, posagent.PeriodOf(r.IssuedAt).Code(), r.Number)
	if kind == KindAllowance || kind == KindAllowanceVoid {
		if r.AllowanceNumber == "" {
			return StatusRef{}, posagent.Invalid(at+"allowance_number", "is required for %s", r.Kind)
		}
		key += ":" + r.AllowanceNumber
	}
	return StatusRef{Key: key, Kind: kind, Number: string(r.Number), AllowanceNumber: r.AllowanceNumber, ProviderNumber: r.ProviderNumber}, nil
}

// status makes one status call and returns the answer by key; every key
// asked must be answered.
func (c *Client) status(ctx context.Context, asks []StatusRef) (map[string]DocumentStatus, error) {
	// A question, not a document: a fresh key each time, so that a receiver
	// keeping keys never answers it from an old call.
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	doc := c.doc(KindStatus, fmt.Sprintf("status:%s:%s:%s", c.cfg.SellerTaxID, c.cfg.MachineID, hex.EncodeToString(nonce[:])))
	doc.Status = &StatusQuery{Documents: asks}
	ans, err := c.deliver(ctx, doc)
	if err != nil {
		return nil, err
	}
	if len(ans.Documents) == 0 {
		// 2xx with nothing: a receiver that stores any kind it is sent.
		return nil, unsupported("the receiver answered without documents")
	}
	got := make(map[string]DocumentStatus, len(ans.Documents))
	for _, d := range ans.Documents {
		got[d.Key] = d
	}
	for _, a := range asks {
		if _, ok := got[a.Key]; !ok {
			// Nothing can be concluded from a line that is not there.
			return nil, fail(posagent.KindTransient, KindStatus, "the answer says nothing of %s", a.Key)
		}
	}
	return got, nil
}

func holding(r posagent.DocRef, d DocumentStatus, secrets []string) posagent.Holding {
	h := posagent.Holding{Ref: r, Found: d.Found, Acceptance: posagent.Acceptance(d.Acceptance)}
	if d.Amount != nil {
		h.Amount, h.HasAmount = *d.Amount, true
	}
	var words []string
	if d.Voided && (r.Kind == posagent.DocInvoice || r.Kind == posagent.DocAllowance) {
		words = append(words, "voided at the receiver")
	}
	if t := cleanText(d.Detail, secrets); t != "" {
		words = append(words, t)
	}
	h.Detail = strings.Join(words, "; ")
	return h
}

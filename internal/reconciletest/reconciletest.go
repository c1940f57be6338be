// Package reconciletest holds what the providers' reconciliation tests share:
// a DocRef made from an invoice, and a Holdings call checked against the
// contract of posagent.Reconciler (one Holding per ref, in the order asked).
package reconciletest

import (
	"context"
	"testing"

	"github.com/posagent/posagent"
)

// Ref is the DocRef of kind about inv (allowance: the allowance's number, for
// allowances and their voids), as a reconciliation run asks it.
func Ref(kind posagent.DocKind, inv posagent.Invoice, allowance string, amount int64) posagent.DocRef {
	return posagent.DocRef{Kind: kind, Number: inv.Number, AllowanceNumber: allowance, SaleID: inv.SaleID,
		SellerTaxID: inv.Seller.TaxID, IssuedAt: inv.IssuedAt, Amount: amount}
}

// Ask calls Holdings and fails the test on an error or an answer that breaks
// the contract.
func Ask(t testing.TB, r posagent.Reconciler, refs []posagent.DocRef) []posagent.Holding {
	t.Helper()
	hs, err := r.Holdings(context.Background(), refs)
	if err != nil {
		t.Fatalf("Holdings: %v", err)
	}
	if len(hs) != len(refs) {
		t.Fatalf("%d holdings for %d refs", len(hs), len(refs))
	}
	for i := range hs {
		if hs[i].Ref != refs[i] {
			t.Fatalf("holding %d answers %+v, asked %+v", i, hs[i].Ref, refs[i])
		}
	}
	return hs
}

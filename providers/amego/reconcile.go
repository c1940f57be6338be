package amego

import (
	"context"
	"fmt"
	"strings"

	"github.com/posagent/posagent"
)

var _ posagent.Reconciler = (*Client)(nil)

// StatusBatch is how many invoice numbers one invoice_status call asks about.
// Amego publishes no maximum for the array [U]; 50 — one booklet — keeps each
// request and answer a few kilobytes, and a day of a busy till (a thousand
// invoices) twenty calls, one at a time, well clear of code 21 ("too many
// users"), whose limit is not published either.
const StatusBatch = 50

// Holdings implements posagent.Reconciler. Invoices and their voids are asked
// of invoice_status in batches of StatusBatch (providers.md §1.4): its type
// says whether Amego holds the invoice (C0401), holds it voided (C0501) or
// void-reissued (C0701), or not at all (NOT_FOUND); its status how far the
// upload to the MOF went. Allowances and their voids are read from the
// invoice's allowance list in invoice_query, one call per invoice: Amego
// documents no allowance status call, and the list's fields (allowance_number,
// invoice_type G0401/G0501, invoice_status, total_amount, tax_amount) are
// known from a third-party client only [U]. invoice_status carries no
// amount: invoices and voids come without one (HasAmount false); asking
// invoice_query for every invoice of a day would multiply the calls by the
// day's count. An allowance comes with Amego's total plus tax.
func (c *Client) Holdings(ctx context.Context, refs []posagent.DocRef) ([]posagent.Holding, error) {
	out := make([]posagent.Holding, len(refs))
	var numbers []posagent.InvoiceNumber
	asked := map[posagent.InvoiceNumber]bool{}
	withAllowances := map[posagent.InvoiceNumber]bool{}
	for i, r := range refs {
		out[i].Ref = r
		if !r.Number.Valid() {
			return nil, posagent.Invalid(fmt.Sprintf("refs[%d].number", i), "%q is not an invoice number", r.Number)
		}
		switch r.Kind {
		case posagent.DocInvoice, posagent.DocVoid:
			if !asked[r.Number] {
				asked[r.Number] = true
				numbers = append(numbers, r.Number)
			}
		case posagent.DocAllowance, posagent.DocAllowanceVoid:
			if r.AllowanceNumber == "" {
				return nil, posagent.Invalid(fmt.Sprintf("refs[%d].allowance_number", i), "is required for %s", r.Kind)
			}
			withAllowances[r.Number] = true
		default:
			return nil, posagent.Invalid(fmt.Sprintf("refs[%d].kind", i), "%q is not a document kind", r.Kind)
		}
	}
	states := make(map[string]Status, len(numbers))
	for start := 0; start < len(numbers); start += StatusBatch {
		batch := numbers[start:min(start+StatusBatch, len(numbers))]
		got, err := c.InvoiceStatus(ctx, batch...)
		if err != nil {
			return nil, err
		}
		for _, s := range got {
			states[s.Number] = s
		}
		for _, n := range batch {
			if _, ok := states[string(n)]; !ok {
				// Nothing can be concluded from a line that is not there.
				return nil, posagent.Errorf(posagent.KindTransient, "amego invoice_status: the answer says nothing of %s", n)
			}
		}
	}
	queried := map[posagent.InvoiceNumber]*Queried{}
	for n := range withAllowances {
		q, err := c.Query(ctx, n, "")
		switch e := apiError(err); {
		case e != nil && e.Code == codeQueryNotFound:
			queried[n] = nil // Amego holds no such invoice, so none of its allowances
			continue
		case e != nil && e.Code == codeQueryWindow:
			return nil, &posagent.Error{Kind: posagent.KindNotFound, Err: err,
				Message: fmt.Sprintf("Amego answers invoice_query only for 180 days: the allowances of %s cannot be asked", n)}
		case err != nil:
			return nil, err
		}
		queried[n] = &q
	}
	for i, r := range refs {
		switch r.Kind {
		case posagent.DocInvoice:
			out[i] = invoiceHolding(r, states[string(r.Number)])
		case posagent.DocVoid:
			out[i] = voidHolding(r, states[string(r.Number)])
		default:
			out[i] = allowanceHolding(r, queried[r.Number])
		}
	}
	return out, nil
}

// statusWords are invoice_status's status codes (providers.md §1.4).
var statusWords = map[int]string{1: "待處理", 2: "上傳中", 3: "已上傳", 31: "處理中", 32: "處理完成", 91: "錯誤", 99: "完成"}

// acceptance reads an Amego status as the platform's verdict. The docs give
// the words only [U]; they mirror Turnkey's own labels (turnkey.md §2.2:
// P 處理中, G 處理完成 — sent, no verdict —, C 確認, E 錯誤), so 99 (完成) is
// taken as accepted, 91 (錯誤) as rejected and every step before as pending.
// Anything else says nothing.
func acceptance(status int) posagent.Acceptance {
	switch status {
	case 99:
		return posagent.AcceptAccepted
	case 91:
		return posagent.AcceptRejected
	case 1, 2, 3, 31, 32:
		return posagent.AcceptPending
	}
	return posagent.AcceptUnknown
}

func statusDetail(what, typ string, status int) string {
	s := fmt.Sprintf("%s type=%s status=%d", what, typ, status)
	if w := statusWords[status]; w != "" {
		s += " (" + w + ")"
	}
	return s
}

// The message types Amego names a document by: the MIG 3 names of
// invoice_status (providers.md §1.4) and, leniently, the MIG 4 ones and the
// B2B ones a third-party client also meets [U].
func isIssued(t string) bool   { return t == "C0401" || t == "F0401" || t == "A0401" }
func isVoided(t string) bool   { return t == "C0501" || t == "F0501" || t == "A0501" }
func isReissued(t string) bool { return t == "C0701" || t == "F0701" }
func isAllowance(t string) bool {
	return t == "G0401" || t == "D0401" || t == "B0401" || t == ""
}
func isAllowanceVoided(t string) bool { return t == "G0501" || t == "D0501" || t == "B0501" }

func invoiceHolding(r posagent.DocRef, s Status) posagent.Holding {
	h := posagent.Holding{Ref: r, Detail: statusDetail("invoice_status", s.Type, s.Status)}
	switch {
	case s.Type == "NOT_FOUND" || s.Type == "":
		return h
	case isIssued(s.Type):
		h.Found, h.Acceptance = true, acceptance(s.Status)
	case isVoided(s.Type):
		// The status is the void's. A void the platform took means it held
		// the invoice (it refuses a void of an invoice it does not: E0202).
		h.Found = true
		if s.Status == 99 {
			h.Acceptance = posagent.AcceptAccepted
		}
		h.Detail += "; voided at Amego"
	case isReissued(s.Type):
		h.Found = true
		h.Detail += "; void-reissued (註銷) at Amego"
	default:
		h.Found = true
		h.Detail += "; a type posagent does not know"
	}
	return h
}

func voidHolding(r posagent.DocRef, s Status) posagent.Holding {
	h := posagent.Holding{Ref: r, Detail: statusDetail("invoice_status", s.Type, s.Status)}
	if isVoided(s.Type) {
		h.Found, h.Acceptance = true, acceptance(s.Status)
	}
	return h
}

func allowanceHolding(r posagent.DocRef, q *Queried) posagent.Holding {
	h := posagent.Holding{Ref: r}
	if q == nil {
		h.Detail = fmt.Sprintf("invoice_query: invoice %s not found", r.Number)
		return h
	}
	for _, a := range q.Allowance {
		if a.Number != r.AllowanceNumber {
			continue
		}
		h.Detail = statusDetail("invoice_query allowance "+a.Number, a.Type, int(a.Status))
		voided := isAllowanceVoided(a.Type)
		if r.Kind == posagent.DocAllowanceVoid {
			if voided {
				h.Found, h.Acceptance = true, acceptance(int(a.Status))
			}
			return h
		}
		h.Found, h.Amount, h.HasAmount = true, int64(a.Total)+int64(a.Tax), true
		switch {
		case isAllowance(a.Type):
			h.Acceptance = acceptance(int(a.Status))
		case voided:
			if a.Status == 99 {
				h.Acceptance = posagent.AcceptAccepted
			}
			h.Detail += "; voided at Amego"
		}
		return h
	}
	listed := make([]string, len(q.Allowance))
	for i, a := range q.Allowance {
		listed[i] = a.Number
	}
	h.Detail = fmt.Sprintf("invoice_query of %s lists allowances [%s]", r.Number, strings.Join(listed, " "))
	return h
}

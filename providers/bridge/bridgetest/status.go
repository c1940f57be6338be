package bridgetest

import (
	"fmt"
	"net/http"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/bridge"
)

// verdict is the platform's verdict on a stored document as SetAcceptance set it.
type verdict struct {
	acceptance posagent.Acceptance
	detail     string
}

// SetAcceptance sets what the status call reports as the platform's verdict
// on the document stored under key (by default nothing: the reference
// receiver files nothing with the MOF, so it cannot tell). It reports
// whether a document is stored under key.
func (s *Server) SetAcceptance(key string, a posagent.Acceptance, detail string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byKey[key] == nil {
		return false
	}
	s.accept[key] = verdict{a, detail}
	return true
}

// Forget drops the document stored under key and undoes what it did (an
// invoice no longer held, a void or allowance void undone, an allowance gone),
// as if the service behind the receiver had lost it after answering done. It
// reports whether a document was stored under key.
func (s *Server) Forget(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.byKey[key]
	if st == nil {
		return false
	}
	delete(s.byKey, key)
	delete(s.accept, key)
	for i, d := range s.docs {
		if d == st {
			s.docs = append(s.docs[:i], s.docs[i+1:]...)
			break
		}
	}
	doc := st.Doc
	if doc.Invoice == nil {
		return true
	}
	n := string(doc.Invoice.Number)
	inv := s.invoices[n]
	if inv == nil {
		return true
	}
	switch st.Kind {
	case bridge.KindInvoice:
		delete(s.invoices, n)
	case bridge.KindVoid:
		inv.voided = false
	case bridge.KindAllowance:
		delete(inv.allowances, doc.Allowance.Number)
		inv.allowed -= doc.Allowance.Total
	case bridge.KindAllowanceVoid:
		delete(inv.voidedAlw, doc.Allowance.Number)
		inv.allowed += doc.Allowance.Total
	}
	return true
}

// statusOf answers the status call from what is stored; called with s.mu held.
func (s *Server) statusOf(doc bridge.Document) (int, bridge.Answer) {
	q := doc.Status
	if q == nil || len(q.Documents) == 0 || len(q.Documents) > bridge.MaxStatusBatch {
		return http.StatusUnprocessableEntity, bridge.Answer{Message: fmt.Sprintf("status.documents must list 1 to %d documents", bridge.MaxStatusBatch)}
	}
	ans := bridge.Answer{Documents: make([]bridge.DocumentStatus, len(q.Documents))}
	for i, ref := range q.Documents {
		out := bridge.DocumentStatus{Key: ref.Key}
		if st := s.find(ref); st != nil {
			out.Found = true
			v := s.accept[st.Key]
			out.Acceptance, out.Detail = string(v.acceptance), v.detail
			inv := s.invoices[string(st.Doc.Invoice.Number)]
			switch st.Kind {
			case bridge.KindInvoice:
				total := st.Doc.Invoice.Total
				out.Amount, out.Voided = &total, inv != nil && inv.voided
			case bridge.KindAllowance:
				total := st.Doc.Allowance.Total
				out.Amount, out.Voided = &total, inv != nil && inv.voidedAlw[st.Doc.Allowance.Number]
			}
		}
		ans.Documents[i] = out
	}
	return http.StatusOK, ans
}

// find is the stored document a status line asks about: by its key, else by
// kind and numbers (an allowance's key names its invoice's period, which the
// asker may not know).
func (s *Server) find(ref bridge.StatusRef) *Stored {
	if st := s.byKey[ref.Key]; st != nil && st.Kind == ref.Kind {
		return st
	}
	for _, d := range s.docs {
		if d.Kind != ref.Kind || d.Doc.Invoice == nil || string(d.Doc.Invoice.Number) != ref.Number {
			continue
		}
		if ref.AllowanceNumber != "" && (d.Doc.Allowance == nil || d.Doc.Allowance.Number != ref.AllowanceNumber) {
			continue
		}
		return d
	}
	return nil
}

package agent

import (
	"net/http"

	"github.com/posagent/posagent"
)

// The Portuguese regime's API. POST /v1/sales takes the Portuguese sale JSON
// on a Portuguese terminal (handleSale); the rest is keyed by the sale id,
// since a sale has no number until InvoiceXpress issues its document.

func (a *Agent) ptRoutes(handle func(string, map[string]http.HandlerFunc)) {
	handle("/v1/sales/{sale_id}", map[string]http.HandlerFunc{http.MethodGet: a.handlePTGet})
	handle("/v1/sales/{sale_id}/cancel", map[string]http.HandlerFunc{http.MethodPost: a.handlePTCancel})
	handle("/v1/sales/{sale_id}/credit-notes", map[string]http.HandlerFunc{http.MethodPost: a.handlePTRefund})
	handle("/v1/sales/{sale_id}/reprint", map[string]http.HandlerFunc{http.MethodPost: a.handlePTReprint})
	handle("/v1/sales/{sale_id}/retry", map[string]http.HandlerFunc{http.MethodPost: a.handlePTRetry})
	handle("/v1/pt/drafts", map[string]http.HandlerFunc{http.MethodGet: a.handlePTDrafts})
	handle("/v1/pt/drafts/finalize", map[string]http.HandlerFunc{http.MethodPost: a.handlePTFinalize})
	handle("/v1/pt/documents", map[string]http.HandlerFunc{http.MethodGet: a.handlePTList})
	handle("/v1/pt/taxes", map[string]http.HandlerFunc{http.MethodGet: a.handlePTTaxes})
	handle("/v1/pt/taxes/refresh", map[string]http.HandlerFunc{http.MethodPost: a.handlePTTaxesRefresh})
}

// handlePTSale answers a Portuguese sale at once: 201 (or 200 replayed) with
// state "pending" and "invoice": false until InvoiceXpress has issued it.
func (a *Agent) handlePTSale(w http.ResponseWriter, r *http.Request, body []byte) {
	sale, err := posagent.DecodePTSale(body)
	if err != nil {
		if shapeError(err) {
			malformed(w, err)
		} else {
			a.fail(w, r, err)
		}
		return
	}
	p, err := a.PreparePTSale(r.Context(), sale)
	if err != nil {
		if posagent.IsKind(err, posagent.KindExhausted) {
			writeError(w, http.StatusServiceUnavailable, APIError{Code: "taxes_unknown", Field: posagent.ErrorField(err), Message: messageOf(err)})
			return
		}
		a.fail(w, r, err)
		return
	}
	if a.refuseWhileStopping(w, "sale") {
		return
	}
	res, err := a.SellPT(r.Context(), p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, map[string]any{"replayed": res.Replayed, "sale": res.View})
}

func (a *Agent) handlePTGet(w http.ResponseWriter, r *http.Request) {
	v, err := a.PTSale(r.Context(), r.PathValue("sale_id"))
	a.reply(w, r, http.StatusOK, v, err)
}

// readSmall reads a small JSON body into v strictly, answering the error itself.
func readSmall(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := readBody(w, r, maxSmallBody)
	if !ok {
		return false
	}
	if err := decodeStrict(body, v); err != nil {
		malformed(w, err)
		return false
	}
	return true
}

func (a *Agent) handlePTCancel(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Message string `json:"message"`
	}
	if !readSmall(w, r, &req) {
		return
	}
	v, err := a.PTCancel(r.Context(), r.PathValue("sale_id"), req.Message)
	a.reply(w, r, http.StatusAccepted, v, err)
}

func (a *Agent) handlePTRefund(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RefundID string                  `json:"refund_id"`
		Items    []posagent.PTRefundItem `json:"items"`
	}
	if !readSmall(w, r, &req) {
		return
	}
	v, err := a.PTRefund(r.Context(), r.PathValue("sale_id"), req.RefundID, req.Items)
	a.reply(w, r, http.StatusAccepted, v, err)
}

func (a *Agent) handlePTReprint(w http.ResponseWriter, r *http.Request) {
	rep, err := a.PTReprint(r.Context(), r.PathValue("sale_id"))
	a.reply(w, r, http.StatusOK, rep, err)
}

func (a *Agent) handlePTRetry(w http.ResponseWriter, r *http.Request) {
	v, err := a.PTRetry(r.Context(), r.PathValue("sale_id"))
	a.reply(w, r, http.StatusOK, v, err)
}

func (a *Agent) handlePTDrafts(w http.ResponseWriter, r *http.Request) {
	vs, err := a.PTDrafts(r.Context())
	a.reply(w, r, http.StatusOK, map[string]any{"drafts": vs}, err)
}

func (a *Agent) handlePTFinalize(w http.ResponseWriter, r *http.Request) {
	n, err := a.PTFinalizeDrafts(r.Context())
	a.reply(w, r, http.StatusAccepted, map[string]any{"queued": n}, err)
}

func (a *Agent) handlePTList(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	vs, err := a.PTList(r.Context(), state)
	a.reply(w, r, http.StatusOK, map[string]any{"documents": vs}, err)
}

// PTTaxView is a cached tax in answers.
type PTTaxView struct {
	Name    string           `json:"name"`
	Value   posagent.Decimal `json:"value"`
	Region  string           `json:"region"`
	Default bool             `json:"default"`
}

func (a *Agent) writeTaxes(w http.ResponseWriter, r *http.Request, refresh bool) {
	taxes, err := a.PTTaxes(r.Context())
	if refresh {
		taxes, err = a.PTRefreshTaxes(r.Context())
	}
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := make([]PTTaxView, len(taxes))
	for i, t := range taxes {
		out[i] = PTTaxView{Name: t.Name, Value: t.Value, Region: t.Region, Default: t.Default}
	}
	writeJSON(w, http.StatusOK, map[string]any{"region": a.conf().Portugal.Region, "taxes": out})
}

func (a *Agent) handlePTTaxes(w http.ResponseWriter, r *http.Request) { a.writeTaxes(w, r, false) }

func (a *Agent) handlePTTaxesRefresh(w http.ResponseWriter, r *http.Request) {
	a.writeTaxes(w, r, true)
}

// reply answers v with status, or the error by its kind.
func (a *Agent) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

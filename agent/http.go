package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// maxSmallBody bounds every request body but a sale's.
const maxSmallBody = 64 << 10

// APIError is the body of every error answer.
type APIError struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error codes beyond the error kinds.
const (
	codeMalformed    = "malformed"
	codeUnauthorized = "unauthorized"
	codeTooLarge     = "too_large"
	codeMethod       = "method_not_allowed"
	codeMediaType    = "unsupported_media_type"
)

func (a *Agent) routes() http.Handler {
	mux := http.NewServeMux()
	auth := a.authorize
	handle := func(pattern string, methods map[string]http.HandlerFunc) {
		mux.Handle(pattern, auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h, ok := methods[r.Method]
			if !ok {
				allowed := make([]string, 0, len(methods))
				for m := range methods {
					allowed = append(allowed, m)
				}
				w.Header().Set("Allow", strings.Join(allowed, ", "))
				writeError(w, http.StatusMethodNotAllowed, APIError{Code: codeMethod,
					Message: r.Method + " is not allowed here; use " + strings.Join(allowed, ", ")})
				return
			}
			h(w, r)
		})))
	}
	handle("/v1/sales", map[string]http.HandlerFunc{http.MethodPost: a.handleSale})
	handle("/v1/status", map[string]http.HandlerFunc{http.MethodGet: a.handleStatus})
	handle("/v1/provider/resume", map[string]http.HandlerFunc{http.MethodPost: a.handleResume})
	handle("/v1/config/reload", map[string]http.HandlerFunc{http.MethodPost: a.handleReload})
	handle("/metrics", map[string]http.HandlerFunc{http.MethodGet: a.handleMetrics})
	if a.pt != nil {
		// A Portuguese terminal has no MOF invoices, booklets or upload jobs.
		a.ptRoutes(handle)
	} else {
		a.twRoutes(handle)
	}
	if a.demo != nil {
		handle("/v1/demo/provider/{state}", map[string]http.HandlerFunc{http.MethodPost: a.handleDemoProvider})
	}
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := a.store.Stats(ctx); err != nil {
			writeError(w, http.StatusServiceUnavailable, APIError{Code: "unhealthy", Message: "the store does not answer"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	notFound := auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, APIError{Code: string(posagent.KindNotFound), Message: "no such endpoint: " + r.URL.Path})
	}))
	if a.console != nil {
		// The console has its own sign-in; the API's paths keep their answers.
		mux.Handle("/v1/", notFound)
		mux.Handle("/", a.console)
	} else {
		mux.Handle("/", notFound)
	}
	return mux
}

// authorize requires the bearer token. Both sides are hashed first so that the
// comparison takes the same time whatever the length of the guess.
func (a *Agent) authorize(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(a.conf().API.Token.Reveal()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		// The scheme is case-insensitive (RFC 7235); the token is not.
		ok := len(h) > 7 && strings.EqualFold(h[:7], "bearer ")
		var token string
		if ok {
			token = h[7:]
		}
		got := sha256.Sum256([]byte(token))
		if !ok || a.conf().API.Token.IsZero() || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="posagent"`)
			msg := "a bearer token is required: Authorization: Bearer <api.token from the config>"
			if ok {
				msg = "the bearer token is wrong"
			}
			writeError(w, http.StatusUnauthorized, APIError{Code: codeUnauthorized, Message: msg})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, e APIError) { writeJSON(w, status, e) }

// storageFullMessage is what the cashier reads when the till's disk is full.
// Nothing was written, so the same sale can be rung up again afterwards.
const storageFullMessage = "the till's disk is full: this was not recorded and no invoice number was used; " +
	"ask for space to be freed on the till (or call support), then try again"

// fail answers an error by its kind. Internal errors are logged and answered
// without their text, which may name files or SQL.
func (a *Agent) fail(w http.ResponseWriter, r *http.Request, err error) {
	if failGuard(w, err) {
		return
	}
	kind := posagent.ErrorKind(err)
	e := APIError{Code: string(kind), Field: posagent.ErrorField(err), Message: err.Error()}
	var pe *posagent.Error
	if errors.As(err, &pe) {
		e.Message = pe.Message
		if pe.Err != nil && kind != posagent.KindInternal {
			e.Message += ": " + pe.Err.Error()
		}
	}
	status := http.StatusInternalServerError
	switch kind {
	case posagent.KindInvalid:
		status = http.StatusUnprocessableEntity
	case posagent.KindNotFound:
		status = http.StatusNotFound
	case posagent.KindConflict, posagent.KindDuplicate:
		status = http.StatusConflict
	case posagent.KindExhausted:
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "60")
	case posagent.KindStorageFull:
		// 507 Insufficient Storage: the one status that says what happened.
		// The cashier reads the message; the cause (a path) stays in the log.
		a.log.Error("request refused: the disk holding the store is full", "method", r.Method, "path", r.URL.Path, "err", err)
		status = http.StatusInsufficientStorage
		e = APIError{Code: string(posagent.KindStorageFull), Message: storageFullMessage}
	default:
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = APIError{Code: string(posagent.KindInternal), Message: "internal error; the agent's log has the details"}
	}
	writeError(w, status, e)
}

// readBody reads a JSON body up to limit bytes. It answers the client itself
// and returns false when the body is unusable.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			writeError(w, http.StatusUnsupportedMediaType, APIError{Code: codeMediaType,
				Message: "send JSON with Content-Type: application/json"})
			return nil, false
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, APIError{Code: codeTooLarge,
			Message: fmt.Sprintf("the request body is larger than %d bytes", limit)})
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, APIError{Code: codeMalformed, Message: "could not read the request body"})
		return nil, false
	case len(bytes.TrimSpace(body)) == 0:
		writeError(w, http.StatusBadRequest, APIError{Code: codeMalformed, Message: "the request body is empty: a JSON object is required"})
		return nil, false
	}
	return body, true
}

// decodeStrict decodes one JSON object with the shared strict decoder
// (posagent.DecodeJSON: duplicate, miscased and unknown keys, invalid UTF-8,
// wrong types and trailing data are errors naming the key).
func decodeStrict(body []byte, v any) error { return posagent.DecodeJSON(body, v) }

// malformed answers 400 for a body that is not the expected JSON shape.
func malformed(w http.ResponseWriter, err error) {
	writeError(w, http.StatusBadRequest, APIError{Code: codeMalformed, Field: posagent.ErrorField(err), Message: messageOf(err)})
}

func messageOf(err error) string {
	var pe *posagent.Error
	if errors.As(err, &pe) {
		return pe.Message
	}
	return err.Error()
}

// SaleAnswer is the answer to POST /v1/sales.
type SaleAnswer struct {
	Number      string           `json:"number"`
	RandomCode  string           `json:"random_code"`
	Period      string           `json:"period"`
	PeriodLabel string           `json:"period_label"`
	IssuedAt    time.Time        `json:"issued_at"`
	SaleID      string           `json:"sale_id"`
	Total       int64            `json:"total"`
	Barcode     string           `json:"barcode"`
	QRLeft      string           `json:"qr_left"`
	QRRight     string           `json:"qr_right"`
	Replayed    bool             `json:"replayed"`
	Print       PrintReport      `json:"print"`
	Invoice     posagent.Invoice `json:"invoice"`
}

func (a *Agent) handleSale(w http.ResponseWriter, r *http.Request) {
	if a.pt != nil {
		// A Portuguese terminal: its own sale JSON, accepted and issued later.
		if body, ok := readBody(w, r, posagent.MaxInvoiceJSON); ok {
			a.handlePTSale(w, r, body)
		}
		return
	}
	req, ok := a.readSaleRequest(w, r, keyConfirmed, keyPrintMode)
	if !ok {
		return
	}
	sale := req.sale
	if a.refuseWhileStopping(w, "sale") {
		return
	}
	res, err := a.SellWith(r.Context(), sale, req.opt)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if res.Replayed && !sameSale(res.Invoice, sale) {
		a.fail(w, r, posagent.Errorf(posagent.KindConflict,
			"sale_id %q was already used for a different sale (invoice %s, total %d)", sale.SaleID, res.Invoice.Number, res.Invoice.Total))
		return
	}
	status := http.StatusCreated
	if res.Replayed {
		status = http.StatusOK
	}
	writeJSON(w, status, saleAnswer(res))
}

// shapeError tells a body that is not an invoice document (bad JSON, wrong
// type, unknown or duplicate key, invalid UTF-8: 400) from one that breaks a rule (422).
func shapeError(err error) bool { return posagent.IsMalformed(err) }

// sameSale reports whether a replayed sale id carries the same sale: a reused
// id with different content is a conflict, never a silent substitution.
func sameSale(stored, req posagent.Invoice) bool {
	if stored.Total != req.Total || stored.Buyer != req.Buyer || stored.Carrier != req.Carrier ||
		stored.LoveCode != req.LoveCode || len(stored.Items) != len(req.Items) {
		return false
	}
	for i := range stored.Items {
		s, q := stored.Items[i], req.Items[i]
		if s.Name != q.Name || !s.Amount.Equal(q.Amount) || !s.Quantity.Equal(q.Quantity) {
			return false
		}
	}
	return true
}

func pathNumber(w http.ResponseWriter, r *http.Request) (posagent.InvoiceNumber, bool) {
	n, err := posagent.ParseInvoiceNumber(r.PathValue("number"))
	if err != nil {
		writeError(w, http.StatusBadRequest, APIError{Code: codeMalformed, Field: "number", Message: messageOf(err)})
		return "", false
	}
	return n, true
}

// pathJobID reads the {id} of a jobs path, answering 400 itself when it is not one.
func pathJobID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, APIError{Code: codeMalformed, Field: "id", Message: "a job id is a positive whole number"})
		return 0, false
	}
	return id, true
}

// InvoiceAnswer is the answer to GET /v1/invoices/{number}.
type InvoiceAnswer struct {
	Number     string          `json:"number"`
	Period     string          `json:"period"`
	Barcode    string          `json:"barcode"`
	QRLeft     string          `json:"qr_left"`
	QRRight    string          `json:"qr_right"`
	Upload     UploadView      `json:"upload"`
	Print      PrintState      `json:"print"`
	Void       *posagent.Void  `json:"void,omitempty"`
	Allowances []AllowanceView `json:"allowances"`
	Remaining  int64           `json:"remaining"`
	Events     []Event         `json:"events"`
	// Replaces is the invoice this one was reissued for, ReplacedBy the one
	// reissued for it (POST /v1/invoices/{number}/reissue).
	Replaces   string `json:"replaces,omitempty"`
	ReplacedBy string `json:"replaced_by,omitempty"`
	// Order is the id of the order it was issued from.
	Order   string           `json:"order,omitempty"`
	Invoice posagent.Invoice `json:"invoice"`
}

// AllowanceView is an allowance in answers: the allowance, the provider's
// number for it (empty until it is at a provider that numbers allowances, or
// when that provider's answer was lost), and where it stands:
//
//	pending    not at the provider yet          uploaded   at the provider
//	dead       the provider refused it          voiding    voided here, void not sent yet
//	voided     the void is at the provider      void_dead  the void was refused or needs a person
type AllowanceView struct {
	posagent.Allowance
	ProviderNumber string             `json:"provider_number"`
	State          string             `json:"state"`
	Upload         UploadView         `json:"upload"`
	Void           *AllowanceVoidView `json:"void,omitempty"`
}

// AllowanceVoidView is the void of an allowance.
type AllowanceVoidView struct {
	VoidedAt time.Time  `json:"voided_at"`
	Reason   string     `json:"reason"`
	Upload   UploadView `json:"upload"`
}

func allowanceView(al AllowanceRecord) AllowanceView {
	v := AllowanceView{Allowance: al.Allowance, ProviderNumber: al.ProviderNumber,
		Upload: UploadView{State: al.Upload, Error: al.UploadError}}
	switch {
	case al.Voided():
		v.Void = &AllowanceVoidView{VoidedAt: al.VoidedAt.In(posagent.Taipei), Reason: al.VoidReason,
			Upload: UploadView{State: al.VoidUpload, Error: al.VoidError}}
		switch al.VoidUpload {
		case StateDone:
			v.State = "voided"
		case StateDead:
			v.State = "void_dead"
		default:
			v.State = "voiding"
		}
	case al.Upload == StateDone:
		v.State = "uploaded"
	case al.Upload == StateDead:
		v.State = "dead"
	default:
		v.State = "pending"
	}
	return v
}

// UploadView is the invoice's upload state.
type UploadView struct {
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

func (a *Agent) handleGetInvoice(w http.ResponseWriter, r *http.Request) {
	n, ok := pathNumber(w, r)
	if !ok {
		return
	}
	rec, err := a.Invoice(r.Context(), n)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	allowances := make([]AllowanceView, len(rec.Allowances))
	for i, al := range rec.Allowances {
		allowances[i] = allowanceView(al)
	}
	if rec.Events == nil {
		rec.Events = []Event{}
	}
	writeJSON(w, http.StatusOK, InvoiceAnswer{
		Number: string(rec.Invoice.Number), Period: rec.Invoice.Period().Code(), Barcode: rec.Proof.Barcode,
		QRLeft: rec.Proof.QRLeft, QRRight: rec.Proof.QRRight, Upload: UploadView{State: rec.UploadState, Error: rec.UploadError},
		Print: rec.Print, Void: rec.Void, Allowances: allowances, Remaining: rec.Remaining, Events: rec.Events,
		Replaces: string(rec.Replaces), ReplacedBy: string(rec.ReplacedBy), Order: rec.Order, Invoice: rec.Invoice,
	})
}

func (a *Agent) handleVoid(w http.ResponseWriter, r *http.Request) {
	n, ok := pathNumber(w, r)
	if !ok {
		return
	}
	reason, ok := readReason(w, r)
	if !ok {
		return
	}
	v, err := a.VoidInvoice(r.Context(), n, reason)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, v)
}

func (a *Agent) handleAllowance(w http.ResponseWriter, r *http.Request) {
	n, ok := pathNumber(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r, maxSmallBody)
	if !ok {
		return
	}
	al, taxGiven, err := posagent.DecodeAllowance(body, n)
	if err != nil {
		if shapeError(err) {
			malformed(w, err)
		} else {
			a.fail(w, r, err)
		}
		return
	}
	al, err = a.allowInvoice(r.Context(), al, taxGiven)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, al)
}

func (a *Agent) handleVoidAllowance(w http.ResponseWriter, r *http.Request) {
	n, ok := pathNumber(w, r)
	if !ok {
		return
	}
	reason, ok := readReason(w, r)
	if !ok {
		return
	}
	al, err := a.VoidAllowance(r.Context(), n, r.PathValue("allowance"), reason)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, allowanceView(al))
}

func (a *Agent) handleReprint(w http.ResponseWriter, r *http.Request) {
	n, ok := pathNumber(w, r)
	if !ok {
		return
	}
	rep, err := a.Reprint(r.Context(), n)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (a *Agent) handleStatus(w http.ResponseWriter, r *http.Request) {
	s, err := a.Status(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

var jobStates = map[string]bool{StatePending: true, StateClaimed: true, StateDead: true, StateDone: true}

func (a *Agent) handleJobs(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if state == "" {
		state = StateDead
	}
	if !jobStates[state] {
		writeError(w, http.StatusBadRequest, APIError{Code: codeMalformed, Field: "state",
			Message: "must be one of pending, claimed, dead, done"})
		return
	}
	limit, ok := queryLimit(w, r)
	if !ok {
		return
	}
	jobs, err := a.Jobs(r.Context(), state, limit)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": state, "jobs": jobs})
}

// queryLimit reads a list's ?limit= (1 to 1000, default 100), answering 400
// itself when it is not one.
func queryLimit(w http.ResponseWriter, r *http.Request) (int, bool) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return 100, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 1000 {
		writeError(w, http.StatusBadRequest, APIError{Code: codeMalformed, Field: "limit", Message: "must be 1 to 1000"})
		return 0, false
	}
	return n, true
}

// refuseWhileStopping answers 503 when the agent is stopping, so that the
// POS sends the request again to the next run; what names the request.
func (a *Agent) refuseWhileStopping(w http.ResponseWriter, what string) bool {
	if !a.stopping.Load() {
		return false
	}
	writeError(w, http.StatusServiceUnavailable, APIError{Code: "shutting_down", Message: "the agent is stopping; send the " + what + " again in a moment"})
	return true
}

// handleResolve closes a dead job a person settled outside posagent, with a
// note of what was done.
func (a *Agent) handleResolve(w http.ResponseWriter, r *http.Request) {
	id, ok := pathJobID(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r, maxSmallBody)
	if !ok {
		return
	}
	var req struct {
		Note string `json:"note"`
	}
	if err := decodeStrict(body, &req); err != nil {
		malformed(w, err)
		return
	}
	if err := a.ResolveJob(r.Context(), id, req.Note); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "state": StateDone})
}

func (a *Agent) handleRevive(w http.ResponseWriter, r *http.Request) {
	id, ok := pathJobID(w, r)
	if !ok {
		return
	}
	if err := a.ReviveJob(r.Context(), id); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "state": StatePending})
}

func (a *Agent) handleBooklets(w http.ResponseWriter, r *http.Request) {
	bs, err := a.Booklets(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"booklets": bs})
}

func (a *Agent) handleAddBooklet(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, maxSmallBody)
	if !ok {
		return
	}
	var req struct {
		Range  string `json:"range"`
		Period string `json:"period"`
		Source string `json:"source"`
		// Seller is the range's seller; empty: the default seller.
		Seller string `json:"seller"`
	}
	if err := decodeStrict(body, &req); err != nil {
		malformed(w, err)
		return
	}
	b, err := posagent.ParseRange(req.Range)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if b.Period, err = posagent.ParsePeriod(req.Period); err != nil {
		a.fail(w, r, err)
		return
	}
	b.Source, b.Seller = req.Source, req.Seller
	if b.Source == "" {
		b.Source = "manual"
	}
	if b.Seller == "" {
		b.Seller = a.defaultSeller().taxID // the answer names whose it is
	}
	if err := a.AddBooklet(r.Context(), b); err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, b)
}

// handleResume ends a provider's pause (POST /v1/provider/resume).
func (a *Agent) handleResume(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, a.Resume())
}

// handleReload reloads the config file (POST /v1/config/reload). A file that
// is not usable is 422 naming the field, and changes nothing.
func (a *Agent) handleReload(w http.ResponseWriter, r *http.Request) {
	res, err := a.Reload(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (a *Agent) handleDemoProvider(w http.ResponseWriter, r *http.Request) {
	switch r.PathValue("state") {
	case "down":
		a.SetDemoProvider(true)
	case "up":
		a.SetDemoProvider(false)
	default:
		writeError(w, http.StatusNotFound, APIError{Code: string(posagent.KindNotFound), Message: "use /v1/demo/provider/down or /up"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"provider_down": a.demo.ProviderDown()})
}

// readReason reads a {"reason": "…"} body, answering the error itself when the
// body is missing or malformed.
func readReason(w http.ResponseWriter, r *http.Request) (string, bool) {
	body, ok := readBody(w, r, maxSmallBody)
	if !ok {
		return "", false
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decodeStrict(body, &req); err != nil {
		malformed(w, err)
		return "", false
	}
	return req.Reason, true
}

// twRoutes are the Taiwanese terminal's own endpoints: MOF invoices, the
// counter's orders, upload jobs, booklets, sellers, the reconciliation with the provider.
func (a *Agent) twRoutes(handle func(string, map[string]http.HandlerFunc)) {
	handle("/v1/reconcile", map[string]http.HandlerFunc{http.MethodPost: a.handleReconcile, http.MethodGet: a.handleReconcileList})
	handle("/v1/reconcile/{date}", map[string]http.HandlerFunc{http.MethodGet: a.handleReconcileDay})
	handle("/v1/reconcile/{date}/report.csv", map[string]http.HandlerFunc{http.MethodGet: a.handleReconcileCSV})
	handle("/v1/invoices/{number}", map[string]http.HandlerFunc{http.MethodGet: a.handleGetInvoice})
	handle("/v1/invoices/{number}/void", map[string]http.HandlerFunc{http.MethodPost: a.handleVoid})
	handle("/v1/invoices/{number}/allowances", map[string]http.HandlerFunc{http.MethodPost: a.handleAllowance})
	handle("/v1/invoices/{number}/allowances/{allowance}/void", map[string]http.HandlerFunc{http.MethodPost: a.handleVoidAllowance})
	handle("/v1/invoices/{number}/reprint", map[string]http.HandlerFunc{http.MethodPost: a.handleReprint})
	handle("/v1/invoices/{number}/reissue", map[string]http.HandlerFunc{http.MethodPost: a.handleReissue})
	handle("/v1/orders", map[string]http.HandlerFunc{http.MethodGet: a.handleOrders, http.MethodPost: a.handleAddOrder})
	handle("/v1/orders/{id}", map[string]http.HandlerFunc{http.MethodGet: a.handleGetOrder})
	handle("/v1/orders/{id}/cancel", map[string]http.HandlerFunc{http.MethodPost: a.handleCancelOrder})
	handle("/v1/orders/{id}/issue", map[string]http.HandlerFunc{http.MethodPost: a.handleIssueOrder})
	handle("/v1/jobs", map[string]http.HandlerFunc{http.MethodGet: a.handleJobs})
	handle("/v1/jobs/{id}/revive", map[string]http.HandlerFunc{http.MethodPost: a.handleRevive})
	handle("/v1/jobs/{id}/resolve", map[string]http.HandlerFunc{http.MethodPost: a.handleResolve})
	handle("/v1/booklets", map[string]http.HandlerFunc{http.MethodGet: a.handleBooklets, http.MethodPost: a.handleAddBooklet})
	handle("/v1/sellers", map[string]http.HandlerFunc{http.MethodGet: func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"sellers": a.Sellers()})
	}})
}

// Package invoicexpresstest is an in-process stand-in for InvoiceXpress's
// JSON API (Portugal): an HTTP server on the loopback interface that behaves
// as providers.md §2 and §5.3 document it — the api_key query parameter (401
// otherwise), documents by type with the states draft, final (settled for an
// invoice-receipt), canceled and deleted, responses keyed by the document
// type, lists with pagination, change-state rules (406 for a transition the
// state does not allow, 422 for a settled document, a cancel without a
// message or a series not registered with AT), sequence numbers per series
// ("6/G"), ATCUD "<validation code>-<n>", a SAF-T hash, permalinks, totals
// computed from the lines (cents, half-up), credit notes with
// owner_invoice_id, /taxes.json, /sequences.json with validation codes
// (or N/D, N/A) and the AT QR code as a PNG image (ECC M) behind
// /api/qr_codes/{id}.json.
//
// It also behaves as InvoiceXpress does where posagent must not rely on it:
// the silent fallbacks (an invalid NIF becomes Consumidor Final, an unknown
// tax name the default tax, an unknown item name a new item and a known one an
// updated item), each recorded so that tests can prove posagent never
// triggers them.
//
// Faults are injected per operation: an HTTP status without acting (500, 429
// with Retry-After, 422), a hang-up before acting (the request never
// arrived), a stall until the client gives up without acting, acting and then
// hanging up or stalling (the answer lost), and holding a request until the
// test releases it, then acting (a late landing).
//
// Where InvoiceXpress's behaviour is undocumented the stand-in takes the
// strict reading and says so in a comment.
package invoicexpresstest

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/internal/standin"
	"github.com/posagent/posagent/providers/invoicexpress"
)

// Defaults of the stand-in's account.
const (
	DemoAPIKey = "demo-ix-api-key-5f1c"
	// DemoSellerNIF is the shop's NIF (valid check digit).
	DemoSellerNIF = "508025338"
	DemoSeries    = "G"
	// DemoCertificate is the R field of the QR: InvoiceXpress's AT
	// certificate number, which its API does not expose [U]; a placeholder.
	DemoCertificate = "0000"
)

// DemoValidationCodes are the series' AT validation codes per type.
var DemoValidationCodes = map[posagent.PTDocType]string{
	posagent.PTInvoiceReceipt:    "AAJFJ3VNTN",
	posagent.PTSimplifiedInvoice: "AAJFJ4KRZM",
	posagent.PTInvoice:           "AAJFJ2PQXB",
	posagent.PTCreditNote:        "AAJFJ5HWCD",
}

// DemoTaxes are the account's taxes: mainland, Madeira and Azores rates and
// an exempt one; IVA23 is the default.
func DemoTaxes() []invoicexpress.Tax {
	t := func(id int64, name, v, region string, def bool) invoicexpress.Tax {
		return invoicexpress.Tax{ID: id, Name: name, Value: posagent.MustDecimal(v), Region: region, Default: def}
	}
	return []invoicexpress.Tax{
		t(1, "IVA23", "23", "PT", true), t(2, "IVA13", "13", "PT", false), t(3, "IVA6", "6", "PT", false),
		t(4, "IVA0", "0", "PT", false),
		t(5, "IVA22-MA", "22", "PT-MA", false), t(6, "IVA12-MA", "12", "PT-MA", false), t(7, "IVA5-MA", "5", "PT-MA", false),
		t(8, "IVA16-AC", "16", "PT-AC", false), t(9, "IVA9-AC", "9", "PT-AC", false), t(10, "IVA4-AC", "4", "PT-AC", false),
	}
}

// Options configure a Server; the zero value is the demo account.
type Options struct {
	APIKey      string
	SellerNIF   string
	Series      string
	Certificate string
	// ValidationCodes per type (default DemoValidationCodes); "N/D" or "N/A" allowed.
	ValidationCodes map[posagent.PTDocType]string
	Taxes           []invoicexpress.Tax
	// MaxPerPage caps per_page of a list (default 100 [U]).
	MaxPerPage int
	Now        func() time.Time
	Logger     *slog.Logger
}

// Line is a document line as the stand-in holds it.
type Line struct {
	Name, Description    string
	UnitPrice, Quantity  posagent.Decimal
	TaxName              string
	TaxValue             posagent.Decimal
	Subtotal, Tax, Total posagent.Decimal
}

// Document is a document as the stand-in holds it.
type Document struct {
	ID                            int64
	Type                          posagent.PTDocType
	Status                        string
	Date                          string
	Reference                     string
	ClientName, ClientCode, NIF   string
	OwnerID                       int64
	TaxExemption                  string
	Lines                         []Line
	BeforeTaxes, Taxes, Total     posagent.Decimal
	SequenceNumber, ATCUD, Hash   string
	Permalink                     string
	QRText                        string
	CancelMessage                 string
	Created, Finalized, Cancelled int // order among the stand-in's events; 0: not
}

// Fallback records one silent fallback the stand-in applied.
type Fallback struct {
	Kind      string // "nif", "tax", "item_created", "item_updated"
	Reference string
	Detail    string
}

// Op names what a request does, for faults and counts.
type Op string

const (
	OpCreate    Op = "create"
	OpGet       Op = "get"
	OpList      Op = "list"
	OpFinalize  Op = "finalize"
	OpCancel    Op = "cancel"
	OpDelete    Op = "delete"
	OpState     Op = "state" // any other state change
	OpTaxes     Op = "taxes"
	OpSequences Op = "sequences"
	OpQR        Op = "qr"
	OpImage     Op = "image"
)

// FaultKind is what an injected fault does.
type FaultKind int

const (
	// FaultStatus answers Status (default 500) with Body, without acting;
	// RetryAfter sets the header (a 429).
	FaultStatus FaultKind = iota
	// FaultRefuse hangs up before acting: for the client, like a connection refused.
	FaultRefuse
	// FaultStall holds the request until the client gives up, without acting:
	// a timeout before the server acted.
	FaultStall
	// FaultLoseAnswer acts, then hangs up: the answer is lost.
	FaultLoseAnswer
	// FaultActThenStall acts, then holds the answer until the client gives
	// up: a timeout after the server acted.
	FaultActThenStall
	// FaultHold holds the request until Release, then acts: a request that
	// lands after the client gave up on it.
	FaultHold
)

func (k FaultKind) String() string {
	return [...]string{"status", "refuse", "stall", "lose_answer", "act_then_stall", "hold"}[k]
}

// Fault is one injected failure. Op "" matches any API call; Type "" any type.
type Fault struct {
	Kind       FaultKind
	Op         Op
	Type       posagent.PTDocType
	Status     int
	RetryAfter string
	Body       string
}

// Request is one request as the stand-in saw it.
type Request struct {
	Method, Path string
	Op           Op
	Type         posagent.PTDocType
	ID           int64
	HTTP         int
	Fault        string
}

// Server is the stand-in.
type Server struct {
	opt Options
	srv *httptest.Server
	log *slog.Logger

	mu        sync.Mutex
	cond      *sync.Cond
	closing   chan struct{}
	faults    standin.Faults[Fault]
	requests  []Request
	docs      []*Document
	byID      map[int64]*Document
	nextID    int64
	seq       map[posagent.PTDocType]int
	lastDate  map[posagent.PTDocType]time.Time // the date of the series' last final document
	events    int
	items     map[string]Line
	fallbacks []Fallback
	held      int
	latency   time.Duration
	down      bool
	release   chan struct{}
	acting    sync.WaitGroup // held requests not done yet
}

// New starts a stand-in on 127.0.0.1.
func New(opt Options) *Server {
	if opt.APIKey == "" {
		opt.APIKey = DemoAPIKey
	}
	if opt.SellerNIF == "" {
		opt.SellerNIF = DemoSellerNIF
	}
	if opt.Series == "" {
		opt.Series = DemoSeries
	}
	if opt.Certificate == "" {
		opt.Certificate = DemoCertificate
	}
	codes := map[posagent.PTDocType]string{}
	for k, v := range DemoValidationCodes {
		codes[k] = v
	}
	for k, v := range opt.ValidationCodes {
		codes[k] = v
	}
	opt.ValidationCodes = codes
	if opt.Taxes == nil {
		opt.Taxes = DemoTaxes()
	}
	if opt.MaxPerPage <= 0 {
		opt.MaxPerPage = 100
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opt: opt, log: log.With("component", "invoicexpresstest"), closing: make(chan struct{}),
		byID: map[int64]*Document{}, nextID: 1000, seq: map[posagent.PTDocType]int{}, lastDate: map[posagent.PTDocType]time.Time{}, items: map[string]Line{},
		release: make(chan struct{})}
	s.cond = sync.NewCond(&s.mu)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL for invoicexpress.Config.BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// HTTPClient is a client for the stand-in's listener.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// Config returns an invoicexpress.Config for this stand-in.
func (s *Server) Config() invoicexpress.Config {
	return invoicexpress.Config{BaseURL: s.URL(), APIKey: config.Secret(s.opt.APIKey), Timeout: 5 * time.Second}
}

// Close releases held requests and shuts the server down.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closing:
	default:
		close(s.closing)
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Inject makes the next n requests matching f fail as f says.
func (s *Server) Inject(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Add(f, n)
}

// ClearFaults drops every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Reset()
}

// Down makes the stand-in hang up on every request without acting, until
// Up: the service unreachable (an offline till sees transport errors).
func (s *Server) Down() {
	s.mu.Lock()
	s.down = true
	s.mu.Unlock()
	s.srv.CloseClientConnections()
}

// Up ends Down.
func (s *Server) Up() { s.mu.Lock(); s.down = false; s.mu.Unlock() }

// SetLatency delays every answer by d (a slow link, for demos); the request
// is not acted on when the client gives up first.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// WaitHeld blocks until at least n requests are held by FaultHold.
func (s *Server) WaitHeld(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.held < n {
		s.cond.Wait()
	}
}

// Release lets every held request act, and returns once they all have.
func (s *Server) Release() {
	s.mu.Lock()
	close(s.release)
	s.release = make(chan struct{})
	s.mu.Unlock()
	s.acting.Wait()
}

// SetValidationCode sets the series' validation code for type t ("N/D": not registered).
func (s *Server) SetValidationCode(t posagent.PTDocType, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opt.ValidationCodes[t] = code
}

// Documents returns copies of every document, in order of creation.
func (s *Server) Documents() []Document {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Document, len(s.docs))
	for i, d := range s.docs {
		out[i] = copyDoc(d)
	}
	return out
}

// Document returns a copy of the document with id.
func (s *Server) Document(id int64) (Document, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.byID[id]; d != nil {
		return copyDoc(d), true
	}
	return Document{}, false
}

// ByReference returns copies of the documents of type t with reference ref, deleted ones too.
func (s *Server) ByReference(t posagent.PTDocType, ref string) []Document {
	var out []Document
	for _, d := range s.Documents() {
		if d.Type == t && d.Reference == ref {
			out = append(out, d)
		}
	}
	return out
}

// Finals counts the documents of type t with reference ref that were ever
// finalized (final, settled or since cancelled): the number that must never exceed one.
func (s *Server) Finals(t posagent.PTDocType, ref string) int {
	n := 0
	for _, d := range s.ByReference(t, ref) {
		if d.Finalized > 0 {
			n++
		}
	}
	return n
}

// Drafts counts the live (not deleted) drafts of type t with reference ref.
func (s *Server) Drafts(t posagent.PTDocType, ref string) int {
	n := 0
	for _, d := range s.ByReference(t, ref) {
		if d.Status == invoicexpress.StateDraft {
			n++
		}
	}
	return n
}

// Fallbacks returns the silent fallbacks applied so far.
func (s *Server) Fallbacks() []Fallback {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fallback(nil), s.fallbacks...)
}

// Requests returns every request seen, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is how many requests of op reached the stand-in (faults included).
func (s *Server) Count(op Op) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Op == op {
			n++
		}
	}
	return n
}

func copyDoc(d *Document) Document {
	c := *d
	c.Lines = slices.Clone(d.Lines)
	return c
}

// route is a parsed request path.
type route struct {
	op  Op
	typ posagent.PTDocType
	id  int64
}

var (
	docPath   = regexp.MustCompile(`^/(invoice_receipts|simplified_invoices|invoices|credit_notes)(?:/([0-9]+))?(/change-state)?\.json$`)
	qrPath    = regexp.MustCompile(`^/api/qr_codes/([0-9]+)\.json$`)
	imagePath = regexp.MustCompile(`^/qr/([0-9]+)\.png$`)
)

// parseRoute names the operation of a request; ok false for an unknown path.
func parseRoute(r *http.Request, body []byte) (route, bool) {
	p := r.URL.Path
	switch {
	case p == "/taxes.json" && r.Method == http.MethodGet:
		return route{op: OpTaxes}, true
	case p == "/sequences.json" && r.Method == http.MethodGet:
		return route{op: OpSequences}, true
	}
	if m := qrPath.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		return route{op: OpQR, id: id}, true
	}
	if m := imagePath.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		return route{op: OpImage, id: id}, true
	}
	m := docPath.FindStringSubmatch(p)
	if m == nil {
		return route{}, false
	}
	rt := route{typ: posagent.PTDocType(m[1])}
	if m[2] != "" {
		rt.id, _ = strconv.ParseInt(m[2], 10, 64)
	}
	switch {
	case m[2] == "" && m[3] == "" && r.Method == http.MethodPost:
		rt.op = OpCreate
	case m[2] == "" && m[3] == "" && r.Method == http.MethodGet:
		rt.op = OpList
	case m[2] != "" && m[3] == "" && r.Method == http.MethodGet:
		rt.op = OpGet
	case m[2] != "" && m[3] != "" && r.Method == http.MethodPut:
		var st struct {
			Invoice struct {
				State string `json:"state"`
			} `json:"invoice"`
		}
		_ = json.Unmarshal(body, &st)
		switch st.Invoice.State {
		case "finalized":
			rt.op = OpFinalize
		case "canceled":
			rt.op = OpCancel
		case "deleted":
			rt.op = OpDelete
		default:
			rt.op = OpState
		}
	default:
		return route{}, false
	}
	return rt, true
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

func (s *Server) takeFault(rt route) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.faults.Take(func(f Fault) bool {
		return (f.Op == "" && rt.op != OpImage || f.Op == rt.op) && (f.Type == "" || f.Type == rt.typ)
	})
	if !ok {
		return nil
	}
	return &f
}

// answer is what a handler produces.
type answer struct {
	status     int
	body       any
	raw        []byte
	retryAfter string
	ctype      string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, 4<<20))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	rt, ok := parseRoute(r, body)
	rec := Request{Method: r.Method, Path: r.URL.Path, Op: rt.op, Type: rt.typ, ID: rt.id}
	s.mu.Lock()
	down, latency := s.down, s.latency
	s.mu.Unlock()
	if down {
		rec.Fault = "down"
		s.record(rec)
		standin.Drop(w)
		return
	}
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
	if !ok {
		rec.HTTP = http.StatusNotFound
		s.record(rec)
		writeJSON(w, answer{status: http.StatusNotFound, body: errorList("Not found")})
		return
	}
	if rt.op != OpImage && r.URL.Query().Get("api_key") != s.opt.APIKey {
		rec.HTTP = http.StatusUnauthorized
		s.record(rec)
		writeJSON(w, answer{status: http.StatusUnauthorized, body: map[string]any{"error": "Unauthorized: invalid api_key"}})
		return
	}
	fault := s.takeFault(rt)
	if fault != nil {
		rec.Fault = fault.Kind.String()
		switch fault.Kind {
		case FaultStatus:
			a := answer{status: fault.Status, retryAfter: fault.RetryAfter}
			if a.status == 0 {
				a.status = http.StatusInternalServerError
			}
			a.raw = []byte(fault.Body)
			if fault.Body == "" {
				a.raw, _ = json.Marshal(errorList(http.StatusText(a.status)))
			}
			rec.HTTP = a.status
			s.record(rec)
			writeJSON(w, a)
			return
		case FaultRefuse:
			s.record(rec)
			standin.Drop(w)
			return
		case FaultStall:
			s.record(rec)
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
			return
		case FaultHold:
			s.acting.Add(1)
			defer s.acting.Done()
			s.mu.Lock()
			s.held++
			rel := s.release
			s.cond.Broadcast()
			s.mu.Unlock()
			select {
			case <-rel:
			case <-s.closing:
				s.mu.Lock()
				s.held--
				s.mu.Unlock()
				return
			}
			s.mu.Lock()
			s.held--
			s.mu.Unlock()
		}
	}
	a := s.handle(rt, r, body)
	rec.HTTP = a.status
	s.record(rec)
	if fault != nil {
		switch fault.Kind {
		case FaultLoseAnswer:
			standin.Drop(w)
			return
		case FaultActThenStall:
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
			return
		}
	}
	writeJSON(w, a)
}

func writeJSON(w http.ResponseWriter, a answer) {
	raw := a.raw
	if raw == nil {
		var err error
		if raw, err = json.Marshal(a.body); err != nil {
			http.Error(w, "encode", http.StatusInternalServerError)
			return
		}
	}
	if a.retryAfter != "" {
		w.Header().Set("Retry-After", a.retryAfter)
	}
	ct := a.ctype
	if ct == "" {
		ct = "application/json; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(a.status)
	w.Write(raw)
}

func errorList(msgs ...string) map[string]any {
	var list []map[string]string
	for _, m := range msgs {
		list = append(list, map[string]string{"error": m})
	}
	return map[string]any{"errors": list}
}

func fieldErrors(field string, msgs ...string) map[string]any {
	return map[string]any{"errors": map[string][]string{field: msgs}}
}

func (s *Server) handle(rt route, r *http.Request, body []byte) answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch rt.op {
	case OpTaxes:
		return s.taxes()
	case OpSequences:
		return s.sequences()
	case OpCreate:
		return s.create(rt.typ, body)
	case OpList:
		return s.list(rt.typ, r)
	case OpGet:
		d := s.byID[rt.id]
		if d == nil || d.Type != rt.typ {
			return answer{status: http.StatusNotFound, body: errorList("Document not found")}
		}
		return answer{status: http.StatusOK, body: map[string]any{singular(rt.typ): s.wire(d)}}
	case OpFinalize, OpCancel, OpDelete, OpState:
		return s.changeState(rt, body)
	case OpQR:
		return s.qr(rt.id)
	case OpImage:
		return s.image(rt.id)
	}
	return answer{status: http.StatusNotFound, body: errorList("Not found")}
}

func singular(t posagent.PTDocType) string { return strings.TrimSuffix(string(t), "s") }

func (s *Server) taxes() answer {
	var out []map[string]any
	for _, t := range s.opt.Taxes {
		def := 0
		if t.Default {
			def = 1
		}
		// The rate comes as a string with one decimal ("23.0"), as observed
		// live (providers.md §2.2); the flag as 1/0.
		out = append(out, map[string]any{"id": t.ID, "name": t.Name, "value": rate(t.Value), "region": t.Region, "default_tax": def})
	}
	return answer{status: http.StatusOK, body: map[string]any{"taxes": out}}
}

func rate(d posagent.Decimal) string {
	v := decimal.RequireFromString(d.String())
	return v.StringFixed(1)
}

func (s *Server) sequences() answer {
	seq := map[string]any{"id": 1, "serie": s.opt.Series, "default_sequence": 1}
	for _, t := range []posagent.PTDocType{posagent.PTInvoiceReceipt, posagent.PTSimplifiedInvoice, posagent.PTInvoice, posagent.PTCreditNote} {
		seq["current_"+singular(t)+"_validation_code"] = s.opt.ValidationCodes[t]
		seq["current_"+singular(t)+"_number"] = s.seq[t]
	}
	return answer{status: http.StatusOK, body: map[string]any{"sequences": []any{seq}}}
}

var dateText = regexp.MustCompile(`^[0-9]{2}/[0-9]{2}/[0-9]{4}$`)

// createBody is what the stand-in reads of a create; unknown keys are ignored, as InvoiceXpress does [U].
type createBody struct {
	Invoice *struct {
		Date           string          `json:"date"`
		DueDate        string          `json:"due_date"`
		Reference      string          `json:"reference"`
		TaxExemption   string          `json:"tax_exemption"`
		OwnerInvoiceID json.RawMessage `json:"owner_invoice_id"`
		Client         *struct {
			Name     string `json:"name"`
			Code     string `json:"code"`
			FiscalID string `json:"fiscal_id"`
		} `json:"client"`
		Items []struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			UnitPrice   json.RawMessage `json:"unit_price"`
			Quantity    json.RawMessage `json:"quantity"`
			Tax         *struct {
				Name string `json:"name"`
			} `json:"tax"`
		} `json:"items"`
	} `json:"invoice"`
}

func number(raw json.RawMessage) (posagent.Decimal, bool) {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	d, err := posagent.ParseDecimal(s)
	return d, err == nil
}

func round2(d decimal.Decimal) posagent.Decimal {
	return posagent.MustDecimal(d.Round(2).StringFixed(2)) // Round is half away from zero: half-up for positives
}

func dec(d posagent.Decimal) decimal.Decimal { return decimal.RequireFromString(d.String()) }

func (s *Server) create(t posagent.PTDocType, body []byte) answer {
	var in createBody
	if err := json.Unmarshal(body, &in); err != nil || in.Invoice == nil {
		return answer{status: http.StatusUnprocessableEntity, body: map[string]any{"error": "invoice: missing or not JSON"}}
	}
	inv := in.Invoice
	switch {
	case !dateText.MatchString(inv.Date):
		return answer{status: http.StatusUnprocessableEntity, body: fieldErrors("date", "is not a valid date (dd/mm/yyyy)")}
	case inv.Client == nil || strings.TrimSpace(inv.Client.Name) == "":
		return answer{status: http.StatusUnprocessableEntity, body: errorList("Client is invalid")}
	case len(inv.Items) == 0:
		return answer{status: http.StatusUnprocessableEntity, body: fieldErrors("items", "can't be blank")}
	}
	d := &Document{Type: t, Status: invoicexpress.StateDraft, Date: inv.Date, Reference: inv.Reference,
		ClientName: inv.Client.Name, ClientCode: inv.Client.Code, NIF: inv.Client.FiscalID, TaxExemption: inv.TaxExemption}
	if inv.Client.FiscalID != "" && !posagent.ValidNIF(inv.Client.FiscalID) {
		// The silent fallback (providers.md §2.6): the document goes to the final consumer.
		s.fallbacks = append(s.fallbacks, Fallback{"nif", inv.Reference, inv.Client.FiscalID})
		d.ClientName, d.ClientCode, d.NIF = "Consumidor Final", "CF", posagent.FinalConsumerNIF
	}
	if d.NIF == "" {
		d.NIF = posagent.FinalConsumerNIF
	}
	if len(inv.OwnerInvoiceID) > 0 && string(inv.OwnerInvoiceID) != "null" {
		id, err := strconv.ParseInt(strings.Trim(string(inv.OwnerInvoiceID), `"`), 10, 64)
		if err != nil {
			return answer{status: http.StatusUnprocessableEntity, body: fieldErrors("owner_invoice_id", "is invalid")}
		}
		d.OwnerID = id
	}
	if t == posagent.PTCreditNote {
		// The stand-in's strict reading [U]: a credit note names a final
		// document that is not itself a credit note.
		o := s.byID[d.OwnerID]
		if o == nil || o.Type == posagent.PTCreditNote || !invoicexpress.IsFinal(o.Status) {
			return answer{status: http.StatusUnprocessableEntity, body: fieldErrors("owner_invoice_id", "must name a final invoice")}
		}
	}
	var sum, vat decimal.Decimal
	zeroLine := false
	for i, it := range inv.Items {
		qty, ok1 := number(it.Quantity)
		price, ok2 := number(it.UnitPrice)
		switch {
		case strings.TrimSpace(it.Name) == "":
			return answer{status: http.StatusUnprocessableEntity, body: fieldErrors(fmt.Sprintf("items[%d].name", i), "can't be blank")}
		case !ok1 || qty.Sign() <= 0:
			return answer{status: http.StatusUnprocessableEntity, body: fieldErrors(fmt.Sprintf("items[%d].quantity", i), "must be greater than 0")}
		case !ok2 || price.Sign() < 0:
			return answer{status: http.StatusUnprocessableEntity, body: fieldErrors(fmt.Sprintf("items[%d].unit_price", i), "is not a number")}
		}
		taxName := ""
		if it.Tax != nil {
			taxName = it.Tax.Name
		}
		tax, found := s.tax(taxName)
		if !found {
			// Silent fallback: the default tax (providers.md §2.6).
			s.fallbacks = append(s.fallbacks, Fallback{"tax", inv.Reference, taxName})
		}
		l := Line{Name: it.Name, Description: it.Description, UnitPrice: price, Quantity: qty, TaxName: tax.Name, TaxValue: tax.Value}
		sub := dec(qty).Mul(dec(price)).Round(2)
		tx := sub.Mul(dec(tax.Value)).Div(decimal.NewFromInt(100)).Round(2)
		l.Subtotal, l.Tax, l.Total = round2(sub), round2(tx), round2(sub.Add(tx))
		sum, vat = sum.Add(sub), vat.Add(tx)
		if tax.Value.IsZero() {
			zeroLine = true
		}
		// Items are matched by name: unknown → created, known → updated (silently).
		if old, known := s.items[it.Name]; !known {
			s.fallbacks = append(s.fallbacks, Fallback{"item_created", inv.Reference, it.Name})
		} else if old.Description != l.Description || !old.UnitPrice.Equal(l.UnitPrice) || old.TaxName != l.TaxName {
			s.fallbacks = append(s.fallbacks, Fallback{"item_updated", inv.Reference, it.Name})
		}
		s.items[it.Name] = l
		d.Lines = append(d.Lines, l)
	}
	if zeroLine && !regexp.MustCompile(`^M[0-9]{2}$`).MatchString(inv.TaxExemption) {
		// A Portuguese account must give the exemption reason for 0 % lines (providers.md §2.6).
		return answer{status: http.StatusUnprocessableEntity, body: fieldErrors("tax_exemption", "is required when an item has no VAT")}
	}
	d.BeforeTaxes, d.Taxes, d.Total = round2(sum), round2(vat), round2(sum.Add(vat))
	s.nextID++
	d.ID = s.nextID
	s.events++
	d.Created = s.events
	s.docs = append(s.docs, d)
	s.byID[d.ID] = d
	return answer{status: http.StatusCreated, body: map[string]any{singular(t): s.wire(d)}}
}

// tax finds the account's tax by exact name, or the default.
func (s *Server) tax(name string) (invoicexpress.Tax, bool) {
	var def invoicexpress.Tax
	for _, t := range s.opt.Taxes {
		if t.Name == name {
			return t, true
		}
		if t.Default {
			def = t
		}
	}
	return def, false
}

func (s *Server) list(t posagent.PTDocType, r *http.Request) answer {
	q := r.URL.Query()
	pg, _ := strconv.Atoi(q.Get("page"))
	per, _ := strconv.Atoi(q.Get("per_page"))
	pg = max(pg, 1)
	if per <= 0 {
		per = 10 // InvoiceXpress's default page size [U]
	}
	per = min(per, s.opt.MaxPerPage)
	// Most recent first; deleted drafts are not listed [U].
	var all []*Document
	for i := len(s.docs) - 1; i >= 0; i-- {
		if d := s.docs[i]; d.Type == t && d.Status != invoicexpress.StateDeleted {
			all = append(all, d)
		}
	}
	pages := (len(all) + per - 1) / per
	out := []any{}
	for i := (pg - 1) * per; i < len(all) && i < pg*per; i++ {
		out = append(out, s.wire(all[i]))
	}
	return answer{status: http.StatusOK, body: map[string]any{string(t): out,
		"pagination": map[string]int{"total_entries": len(all), "current_page": pg, "total_pages": pages, "per_page": per}}}
}

func (s *Server) changeState(rt route, body []byte) answer {
	var in struct {
		Invoice *struct {
			State   string `json:"state"`
			Message string `json:"message"`
		} `json:"invoice"`
	}
	if json.Unmarshal(body, &in) != nil || in.Invoice == nil {
		return answer{status: http.StatusUnprocessableEntity, body: map[string]any{"error": "invoice: missing or not JSON"}}
	}
	d := s.byID[rt.id]
	if d == nil || d.Type != rt.typ {
		return answer{status: http.StatusNotFound, body: errorList("Document not found")}
	}
	refuse := func() answer {
		if d.Status == invoicexpress.StateSettled {
			return answer{status: http.StatusUnprocessableEntity, body: errorList("Invoice has been settled so can't be changed anymore")}
		}
		return answer{status: http.StatusNotAcceptable, body: errorList(fmt.Sprintf("Document in state %s can't be %s", d.Status, in.Invoice.State))}
	}
	switch in.Invoice.State {
	case "finalized":
		if d.Status != invoicexpress.StateDraft {
			return refuse()
		}
		code := s.opt.ValidationCodes[rt.typ]
		if code == invoicexpress.SeriesNotRegistered {
			// The stand-in's strict reading [U]: no final document while the series is not registered.
			return answer{status: http.StatusUnprocessableEntity, body: errorList("The sequence is not registered with AT (validation code N/D)")}
		}
		if last := s.lastDate[rt.typ]; !last.IsZero() && dayOf(d.Date).Before(last) {
			// Documents of a series are numbered in date order (Portuguese
			// rule for certified programs); the stand-in refuses a date before
			// the series' last, as InvoiceXpress is expected to [U].
			return answer{status: http.StatusUnprocessableEntity, body: fieldErrors("date", fmt.Sprintf("can't be before the last document of the series (%s)", last.Format("02/01/2006")))}
		}
		s.finalize(d, code)
		s.lastDate[rt.typ] = dayOf(d.Date)
	case "deleted":
		if d.Status != invoicexpress.StateDraft {
			return refuse()
		}
		d.Status = invoicexpress.StateDeleted
	case "canceled":
		if !invoicexpress.IsFinal(d.Status) {
			return refuse()
		}
		if strings.TrimSpace(in.Invoice.Message) == "" {
			return answer{status: http.StatusUnprocessableEntity, body: errorList("Cancel message can't be blank")}
		}
		d.Status, d.CancelMessage = invoicexpress.StateCanceled, in.Invoice.Message
		s.events++
		d.Cancelled = s.events
	case "settled", "unsettled":
		if d.Status != invoicexpress.StateFinal && d.Status != invoicexpress.StateSettled && d.Status != "unsettled" {
			return refuse()
		}
		d.Status = in.Invoice.State
	default:
		return answer{status: http.StatusUnprocessableEntity, body: fieldErrors("state", "is invalid")}
	}
	return answer{status: http.StatusOK, body: map[string]any{singular(rt.typ): s.wire(d)}}
}

// dayOf reads a dd/mm/yyyy date (checked at create).
func dayOf(s string) time.Time {
	t, _ := time.Parse("02/01/2006", s)
	return t
}

var atCode = map[posagent.PTDocType]string{
	posagent.PTInvoiceReceipt: "FR", posagent.PTSimplifiedInvoice: "FS", posagent.PTInvoice: "FT", posagent.PTCreditNote: "NC",
}

// finalize numbers d in its series, hashes it and builds its QR payload.
func (s *Server) finalize(d *Document, code string) {
	s.seq[d.Type]++
	n := s.seq[d.Type]
	d.SequenceNumber = fmt.Sprintf("%d/%s", n, s.opt.Series)
	switch code {
	case invoicexpress.SeriesNotApplicable, "":
		d.ATCUD = "0"
	default:
		d.ATCUD = fmt.Sprintf("%s-%d", code, n)
	}
	sum := sha512.Sum512([]byte(fmt.Sprintf("%s;%s;%s;%s;%s", d.Date, d.Type, d.SequenceNumber, d.Total, d.NIF)))
	d.Hash = base64.StdEncoding.EncodeToString(sum[:])
	d.Permalink = fmt.Sprintf("%s/documents/%s", s.srv.URL, strings.TrimRight(base64.RawURLEncoding.EncodeToString(sum[:9]), "="))
	if d.Type == posagent.PTInvoiceReceipt {
		d.Status = invoicexpress.StateSettled // an invoice-receipt is paid at once
	} else {
		d.Status = invoicexpress.StateFinal
	}
	s.events++
	d.Finalized = s.events
	d.QRText = s.qrText(d)
}

// qrText builds the AT QR payload (providers.md §5.3 X.1).
func (s *Server) qrText(d *Document) string {
	day := dayOf(d.Date)
	var b strings.Builder
	fmt.Fprintf(&b, "A:%s*B:%s*C:PT*D:%s*E:N*F:%s*G:%s %s*H:%s", s.opt.SellerNIF, d.NIF, atCode[d.Type],
		day.Format("20060102"), atCode[d.Type], d.SequenceNumber, d.ATCUD)
	// Bases and VAT by rate class of the region: I2 exempt, I3/I4 reduced,
	// I5/I6 intermediate, I7/I8 normal.
	region := "PT"
	type pair struct{ base, vat decimal.Decimal }
	classes := map[int]*pair{}
	for _, l := range d.Lines {
		t, _ := s.tax(l.TaxName)
		if t.Region != "" {
			region = t.Region
		}
		c := s.rateClass(t)
		if classes[c] == nil {
			classes[c] = &pair{}
		}
		classes[c].base = classes[c].base.Add(dec(l.Subtotal))
		classes[c].vat = classes[c].vat.Add(dec(l.Tax))
	}
	fmt.Fprintf(&b, "*I1:%s", region)
	if p := classes[0]; p != nil {
		fmt.Fprintf(&b, "*I2:%s", p.base.StringFixed(2))
	}
	for c, k := range []string{"I3", "I5", "I7"} {
		if p := classes[c+1]; p != nil {
			fmt.Fprintf(&b, "*%s:%s*I%d:%s", k, p.base.StringFixed(2), 4+2*c, p.vat.StringFixed(2))
		}
	}
	q := ""
	for _, i := range []int{0, 10, 20, 30} {
		if i < len(d.Hash) {
			q += d.Hash[i : i+1]
		}
	}
	fmt.Fprintf(&b, "*N:%s*O:%s*Q:%s*R:%s", dec(d.Taxes).StringFixed(2), dec(d.Total).StringFixed(2), q, s.opt.Certificate)
	return b.String()
}

// rateClass is 0 for exempt, then 1 reduced, 2 intermediate, 3 normal: the
// rank of the rate among the region's non-zero rates.
func (s *Server) rateClass(t invoicexpress.Tax) int {
	if t.Value.IsZero() {
		return 0
	}
	rank := 1
	for _, o := range s.opt.Taxes {
		if o.Region == t.Region && !o.Value.IsZero() && o.Value.Cmp(t.Value) < 0 {
			rank++
		}
	}
	return min(rank, 3)
}

func (s *Server) qr(id int64) answer {
	d := s.byID[id]
	switch {
	case d == nil:
		return answer{status: http.StatusNotFound, body: errorList("Document not found")}
	case d.QRText == "":
		// A draft has no ATCUD and no hash, so no QR code [U: the exact answer].
		return answer{status: http.StatusNotFound, body: errorList("QR code not available for a draft")}
	}
	return answer{status: http.StatusOK, body: map[string]any{"qr_code": map[string]any{"url": fmt.Sprintf("%s/qr/%d.png", s.srv.URL, id)}}}
}

func (s *Server) image(id int64) answer {
	d := s.byID[id]
	if d == nil || d.QRText == "" {
		return answer{status: http.StatusNotFound, raw: []byte("not found"), ctype: "text/plain"}
	}
	// ECC M, as the AT requires [3P]; whole pixels per module (a negative
	// size) so that the image is sharp, with the standard quiet zone.
	png, err := qrcode.Encode(d.QRText, qrcode.Medium, -6)
	if err != nil {
		return answer{status: http.StatusInternalServerError, raw: []byte(err.Error()), ctype: "text/plain"}
	}
	return answer{status: http.StatusOK, raw: png, ctype: "image/png"}
}

// wire is a document as InvoiceXpress answers it: amounts as JSON numbers,
// unit prices and quantities as strings, the tax rate as a number (both
// forms occur, providers.md §2.2).
func (s *Server) wire(d *Document) map[string]any {
	items := []any{}
	for _, l := range d.Lines {
		items = append(items, map[string]any{"name": l.Name, "description": l.Description,
			"unit_price": l.UnitPrice.String(), "quantity": l.Quantity.String(),
			"tax":      map[string]any{"name": l.TaxName, "value": json.Number(rate(l.TaxValue))},
			"subtotal": json.Number(dec(l.Subtotal).StringFixed(2)), "tax_amount": json.Number(dec(l.Tax).StringFixed(2)),
			"total": json.Number(dec(l.Total).StringFixed(2))})
	}
	out := map[string]any{
		"id": d.ID, "status": d.Status, "date": d.Date, "due_date": d.Date, "reference": d.Reference,
		"sequence_number": d.SequenceNumber, "atcud": d.ATCUD, "saft_hash": d.Hash, "permalink": d.Permalink,
		"currency": "Euro", "tax_exemption": d.TaxExemption,
		"sum":          json.Number(dec(d.BeforeTaxes).StringFixed(2)),
		"before_taxes": json.Number(dec(d.BeforeTaxes).StringFixed(2)),
		"taxes":        json.Number(dec(d.Taxes).StringFixed(2)),
		"total":        json.Number(dec(d.Total).StringFixed(2)),
		"client":       map[string]any{"name": d.ClientName, "code": d.ClientCode, "fiscal_id": d.NIF, "country": "Portugal"},
		"items":        items,
	}
	if d.OwnerID != 0 {
		out["owner_invoice_id"] = d.OwnerID
	}
	if d.Status == invoicexpress.StateDraft {
		out["sequence_number"] = "rascunho" // InvoiceXpress shows drafts as such [U]; no number yet
		out["atcud"] = nil
		out["saft_hash"] = nil
	}
	return out
}

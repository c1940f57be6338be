// Package bridgetest is the reference receiver of the bridge contract: an
// HTTP server on the loopback interface that does what the README asks of an
// integrator's receiver — checks the signature and the timestamp window,
// decodes the document strictly, stores it under its idempotency key (a
// repeated key with the same content answers 409, with different content
// 422), refuses a void or allowance whose invoice it does not hold yet (425),
// hands out booklets for leases — and injects faults for tests and the demo:
// latency, 5xx, 429 with Retry-After, garbage answers, answers lost after the
// work was done, and being down.
//
// The directory bridgeexec holds a tiny relay program for the exec transport:
// it posts the document it reads on standard input to this receiver and
// answers with the contract's exit codes (see Build).
package bridgetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/standin"
	"github.com/posagent/posagent/providers/bridge"
	"github.com/posagent/posagent/providers/mig"
)

// migTypes is the MIG message a document of each kind carries.
var migTypes = map[bridge.Kind]string{bridge.KindInvoice: mig.TypeF0401, bridge.KindVoid: mig.TypeF0501,
	bridge.KindAllowance: mig.TypeG0401, bridge.KindBlank: mig.TypeE0402}

// checkMIG reads the document's MIG messages back; bad reports a refusal.
func (s *Server) checkMIG(doc bridge.Document) (int, bridge.Answer, bool) {
	refused := func(format string, args ...any) (int, bridge.Answer, bool) {
		return http.StatusUnprocessableEntity, bridge.Answer{Message: fmt.Sprintf(format, args...)}, true
	}
	want, has := migTypes[doc.Kind]
	if len(doc.MIG) == 0 {
		if s.opt.RequireMIG && has {
			return refused("mig is required for %s", doc.Kind)
		}
		return 0, bridge.Answer{}, false
	}
	if !has {
		return refused("a %s carries no mig", doc.Kind)
	}
	for i, m := range doc.MIG {
		info, err := mig.Inspect([]byte(m.XML))
		switch {
		case err != nil:
			return refused("mig[%d]: %v", i, err)
		case info.Type != want || m.Type != want:
			return refused("mig[%d] is %s/%s, a %s carries %s", i, m.Type, info.Type, doc.Kind, want)
		case info.Identifier != m.Identifier:
			return refused("mig[%d].identifier %q is not the message's %q", i, m.Identifier, info.Identifier)
		case doc.Invoice != nil && info.Invoice != string(doc.Invoice.Number):
			return refused("mig[%d] is about %s, not %s", i, info.Invoice, doc.Invoice.Number)
		}
	}
	return 0, bridge.Answer{}, false
}

// DemoSecret is the shared secret of the demo and of tests that do not care.
const DemoSecret = "posagent-demo-bridge-secret-0123456789abcdef"

// MaxBody is the largest request body the receiver reads.
const MaxBody = 1 << 20

// Options configure a Server.
type Options struct {
	// Secret is the shared HMAC key (default DemoSecret).
	Secret string
	// Window is how far a request's timestamp may be from Now (default bridge.Window).
	Window time.Duration
	// NumberAllowances answers each allowance with a number of the receiver's
	// own and requires it back in the allowance's void.
	NumberAllowances bool
	// RequireMIG refuses (422) an invoice, void, allowance or blank report
	// without its MIG messages. Messages present are always read back with
	// mig.Inspect and must be about the document they travel with.
	RequireMIG bool
	// NoStatus answers the optional status call 501 Not Implemented, as a
	// receiver that does not implement it.
	NoStatus bool
	// Pool is where leases are served from: track and first number, for any
	// period (default ZZ 10000000, 200 booklets per period).
	PoolTrack string
	PoolFirst int
	PoolSize  int // booklets
	// Now is the receiver's clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Stored is a document the receiver accepted.
type Stored struct {
	Key    string
	Kind   bridge.Kind
	Doc    bridge.Document
	Digest [32]byte
	Answer bridge.Answer
	At     time.Time
}

// Request is one request as the receiver saw it.
type Request struct {
	Kind   string
	Key    string
	Status int
	Fault  string // the injected fault, if any
	Reason string // why it was refused, if it was
}

// FaultKind is what an injected fault does.
type FaultKind int

const (
	// FaultStatus answers Status (default 503) without processing; with
	// RetryAfter set, a Retry-After header in seconds.
	FaultStatus FaultKind = iota
	// FaultGarbage processes the request, then answers 200 with a body that
	// is not the contract's JSON.
	FaultGarbage
	// FaultLoseAnswer processes the request, then drops the connection.
	FaultLoseAnswer
	// FaultForget processes the request, answers as usual, then forgets the
	// document (see Forget): a document lost after the receiver said done.
	FaultForget
)

func (k FaultKind) String() string {
	return [...]string{"status", "garbage", "lose_answer", "forget"}[k]
}

// Fault is one injected failure. Kind "" matches every document kind.
type Fault struct {
	Kind       FaultKind
	DocKind    bridge.Kind
	Status     int
	RetryAfter int
	Message    string
}

// Server is the reference receiver.
type Server struct {
	opt  Options
	srv  *httptest.Server
	log  *slog.Logger
	quit chan struct{} // closed by Close: delayed answers end at once
	once sync.Once

	mu         sync.Mutex
	latency    time.Duration
	down       bool
	faults     standin.Faults[Fault]
	requests   []Request
	docs       []*Stored
	byKey      map[string]*Stored
	invoices   map[string]*invoiceState // by invoice number
	leased     map[string]int           // period → booklets handed out
	accept     map[string]verdict       // key → the platform's verdict, as set by SetAcceptance
	nextNumber int
	violations []string
}

type invoiceState struct {
	total      int64
	allowed    int64
	voided     bool
	allowances map[string]string // allowance number → provider number ("" when not numbered)
	voidedAlw  map[string]bool
}

// New starts a receiver on 127.0.0.1.
func New(opt Options) *Server {
	if opt.Secret == "" {
		opt.Secret = DemoSecret
	}
	if opt.Window <= 0 {
		opt.Window = bridge.Window
	}
	if opt.PoolTrack == "" {
		opt.PoolTrack, opt.PoolFirst = "ZZ", 10000000
	}
	if opt.PoolSize <= 0 {
		opt.PoolSize = 200
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opt: opt, log: log.With("component", "bridge-receiver"), quit: make(chan struct{}), byKey: map[string]*Stored{},
		invoices: map[string]*invoiceState{}, leased: map[string]int{}, accept: map[string]verdict{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the receiver's base URL (documents go to URL/{kind}).
func (s *Server) URL() string { return s.srv.URL }

// Close stops the receiver; requests held by SetLatency end unanswered.
func (s *Server) Close() {
	s.once.Do(func() { close(s.quit) })
	s.srv.Close()
}

// Down makes the receiver drop every connection until Up.
func (s *Server) Down() { s.mu.Lock(); s.down = true; s.mu.Unlock(); s.srv.CloseClientConnections() }

// Up ends Down.
func (s *Server) Up() { s.mu.Lock(); s.down = false; s.mu.Unlock() }

// SetLatency delays every answer.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// Inject queues a fault for the next n matching requests.
func (s *Server) Inject(f Fault, n int) {
	s.mu.Lock()
	s.faults.Add(f, n)
	s.mu.Unlock()
}

// ClearFaults removes pending faults, latency and Down.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults.Reset()
	s.latency, s.down = 0, false
	s.mu.Unlock()
}

// Documents returns the accepted documents in arrival order.
func (s *Server) Documents() []Stored {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stored, len(s.docs))
	for i, d := range s.docs {
		out[i] = *d
	}
	return out
}

// Count is how many accepted documents have key (0 or 1: the receiver keeps
// one per key; tests assert it).
func (s *Server) Count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, d := range s.docs {
		if d.Key == key {
			n++
		}
	}
	return n
}

// Requests returns every request seen, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Violations lists invoices that arrived out of number order within their
// track (the receiver accepts them; the agent promises order).
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

func (s *Server) takeFault(kind bridge.Kind) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.faults.Take(func(f Fault) bool { return f.DocKind == "" || f.DocKind == kind })
	if !ok {
		return nil
	}
	return &f
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r)
	s.mu.Unlock()
}

func answer(w http.ResponseWriter, status int, a bridge.Answer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	latency, down := s.latency, s.down
	s.mu.Unlock()
	if down {
		standin.Drop(w)
		return
	}
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		case <-s.quit:
			standin.Drop(w)
			return
		}
	}
	now := s.opt.Now()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	kind := bridge.Kind(strings.TrimPrefix(r.URL.Path, "/"))
	rec := Request{Kind: string(kind), Key: r.Header.Get(bridge.HeaderKey)}
	refuse := func(status int, format string, args ...any) {
		rec.Status, rec.Reason = status, fmt.Sprintf(format, args...)
		s.record(rec)
		s.log.Info("refused", "kind", kind, "key", rec.Key, "status", status, "reason", rec.Reason)
		answer(w, status, bridge.Answer{Message: rec.Reason})
	}
	if !slices.Contains(bridge.Kinds, kind) {
		refuse(http.StatusNotFound, "no such document kind %q", kind)
		return
	}
	if kind == bridge.KindStatus && s.opt.NoStatus {
		refuse(http.StatusNotImplemented, "this receiver does not implement the status call")
		return
	}
	if r.Method != http.MethodPost {
		refuse(http.StatusMethodNotAllowed, "documents are POSTed")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		refuse(http.StatusBadRequest, "read the body: %v", err)
		return
	}
	if len(body) > MaxBody {
		refuse(http.StatusRequestEntityTooLarge, "the body is longer than %d bytes", MaxBody)
		return
	}
	ts, err := strconv.ParseInt(r.Header.Get(bridge.HeaderTimestamp), 10, 64)
	if err != nil {
		refuse(http.StatusUnauthorized, "%s is missing or not Unix seconds", bridge.HeaderTimestamp)
		return
	}
	if d := now.Sub(time.Unix(ts, 0)); d > s.opt.Window || d < -s.opt.Window {
		refuse(http.StatusUnauthorized, "the timestamp is %s off this receiver's clock (window %s)", d.Round(time.Second), s.opt.Window)
		return
	}
	if !bridge.Verify([]byte(s.opt.Secret), ts, body, r.Header.Get(bridge.HeaderSignature)) {
		refuse(http.StatusUnauthorized, "the signature does not match: wrong shared secret, or the body changed")
		return
	}
	fault := s.takeFault(kind)
	if fault != nil {
		rec.Fault = fault.Kind.String()
		if fault.Kind == FaultStatus {
			st := fault.Status
			if st == 0 {
				st = http.StatusServiceUnavailable
			}
			if fault.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(fault.RetryAfter))
			}
			rec.Status = st
			s.record(rec)
			answer(w, st, bridge.Answer{Message: fault.Message})
			return
		}
	}
	status, ans := s.process(kind, rec.Key, body, now)
	rec.Status, rec.Reason = status, ans.Message
	s.record(rec)
	if fault != nil && fault.Kind == FaultForget && status == http.StatusOK {
		s.Forget(rec.Key)
	}
	switch {
	case fault != nil && fault.Kind == FaultLoseAnswer:
		standin.Drop(w)
	case fault != nil && fault.Kind == FaultGarbage:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "<html><body>502 Bad Gateway (nginx)</body></html>")
	default:
		answer(w, status, ans)
	}
}

// process checks and stores one signed document and returns the answer.
func (s *Server) process(kind bridge.Kind, key string, body []byte, now time.Time) (int, bridge.Answer) {
	var doc bridge.Document
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return http.StatusBadRequest, bridge.Answer{Message: "the body is not a bridge document: " + err.Error()}
	}
	if dec.More() {
		return http.StatusBadRequest, bridge.Answer{Message: "data after the document"}
	}
	switch {
	case doc.Version != bridge.Version:
		return http.StatusBadRequest, bridge.Answer{Message: fmt.Sprintf("version %d is not %d", doc.Version, bridge.Version)}
	case doc.Kind != kind:
		return http.StatusBadRequest, bridge.Answer{Message: fmt.Sprintf("kind %q posted to /%s", doc.Kind, kind)}
	case doc.Key == "" || doc.Key != key:
		return http.StatusBadRequest, bridge.Answer{Message: "the body's key is not the " + bridge.HeaderKey + " header"}
	case !posagent.ValidTaxID(doc.SellerTaxID) || doc.MachineID == "":
		return http.StatusUnprocessableEntity, bridge.Answer{Message: "seller_tax_id and machine_id are required"}
	}
	digest := sha256.Sum256(body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if kind == bridge.KindStatus {
		// A question: answered afresh every time, never stored under its key.
		return s.statusOf(doc)
	}
	if old, ok := s.byKey[key]; ok {
		if old.Digest != digest {
			return http.StatusUnprocessableEntity, bridge.Answer{Message: "key " + key + " was used for a different document"}
		}
		return http.StatusConflict, old.Answer
	}
	status, ans := s.check(doc)
	if status != http.StatusOK {
		return status, ans
	}
	st := &Stored{Key: key, Kind: kind, Doc: doc, Digest: digest, Answer: ans, At: now}
	s.docs = append(s.docs, st)
	s.byKey[key] = st
	return http.StatusOK, ans
}

// check applies the document's rules and ordering; called with s.mu held.
func (s *Server) check(doc bridge.Document) (int, bridge.Answer) {
	refused := func(format string, args ...any) (int, bridge.Answer) {
		return http.StatusUnprocessableEntity, bridge.Answer{Message: fmt.Sprintf(format, args...)}
	}
	early := func(format string, args ...any) (int, bridge.Answer) {
		return http.StatusTooEarly, bridge.Answer{Message: fmt.Sprintf(format, args...)}
	}
	if status, ans, bad := s.checkMIG(doc); bad {
		return status, ans
	}
	var inv *invoiceState
	if doc.Kind != bridge.KindBlank && doc.Kind != bridge.KindLease {
		if doc.Invoice == nil || doc.MOF == nil {
			return refused("invoice and mof are required for %s", doc.Kind)
		}
		n := string(doc.Invoice.Number)
		if doc.MOF.Number != n || doc.MOF.RandomCode != doc.Invoice.RandomCode ||
			doc.MOF.Barcode != doc.MOF.Period+n+doc.Invoice.RandomCode || doc.MOF.QRLeft == "" {
			return refused("mof does not match the invoice %s", n)
		}
		inv = s.invoices[n]
		if doc.Kind != bridge.KindInvoice && inv == nil {
			return early("invoice %s has not arrived yet", n)
		}
	}
	switch doc.Kind {
	case bridge.KindInvoice:
		if inv != nil {
			return refused("invoice %s is already held under another key", doc.Invoice.Number)
		}
		n := doc.Invoice.Number
		for _, d := range s.docs {
			if d.Kind == bridge.KindInvoice && d.Doc.Invoice.Number.Track() == n.Track() && d.Doc.Invoice.Number.Seq() > n.Seq() {
				s.violations = append(s.violations, fmt.Sprintf("%s after %s", n, d.Doc.Invoice.Number))
				break
			}
		}
		s.invoices[string(n)] = &invoiceState{total: doc.Invoice.Total, allowances: map[string]string{}, voidedAlw: map[string]bool{}}
	case bridge.KindVoid:
		if doc.Void == nil || doc.Void.Number != doc.Invoice.Number {
			return refused("void.number must be the invoice's number")
		}
		if inv.voided {
			return refused("invoice %s is already voided", doc.Invoice.Number)
		}
		inv.voided = true
	case bridge.KindAllowance:
		a := doc.Allowance
		switch {
		case a == nil || a.InvoiceNumber != doc.Invoice.Number:
			return refused("allowance.invoice_number must be the invoice's number")
		case inv.voided:
			return refused("invoice %s is voided", doc.Invoice.Number)
		case a.Total <= 0 || inv.allowed+a.Total > inv.total:
			return refused("allowance total %d is more than the %d left of %s", a.Total, inv.total-inv.allowed, doc.Invoice.Number)
		}
		if _, ok := inv.allowances[a.Number]; ok {
			return refused("allowance %s is already held under another key", a.Number)
		}
		var ans bridge.Answer
		if s.opt.NumberAllowances {
			ans.ProviderNumber = fmt.Sprintf("BR%014d", len(s.docs)+1)
		}
		inv.allowed += a.Total
		inv.allowances[a.Number] = ans.ProviderNumber
		return http.StatusOK, ans
	case bridge.KindAllowanceVoid:
		a := doc.Allowance
		if a == nil {
			return refused("allowance is required")
		}
		pn, ok := inv.allowances[a.Number]
		switch {
		case !ok:
			return early("allowance %s has not arrived yet", a.Number)
		case s.opt.NumberAllowances && a.ProviderNumber != pn:
			return refused("allowance %s is %q here, not %q", a.Number, pn, a.ProviderNumber)
		case inv.voidedAlw[a.Number]:
			return refused("allowance %s is already voided", a.Number)
		}
		inv.voidedAlw[a.Number] = true
		inv.allowed -= a.Total
	case bridge.KindBlank:
		if doc.Blank == nil || len(doc.Blank.Ranges) == 0 {
			return refused("blank.ranges is required")
		}
		if _, err := posagent.ParsePeriod(doc.Blank.Period); err != nil {
			return refused("blank.period: %v", err)
		}
	case bridge.KindLease:
		l := doc.Lease
		if l == nil || l.Booklets < 1 || l.Booklets > 100 {
			return refused("lease.booklets must be 1 to 100")
		}
		if _, err := posagent.ParsePeriod(l.Period); err != nil {
			return refused("lease.period: %v", err)
		}
		used := s.leased[l.Period]
		n := min(l.Booklets, s.opt.PoolSize-used)
		if n <= 0 {
			return refused("no booklets left for %s", l.Period)
		}
		first := s.opt.PoolFirst + used*posagent.BookletSize
		s.leased[l.Period] = used + n
		return http.StatusOK, bridge.Answer{Booklets: []bridge.Range{{Track: s.opt.PoolTrack, First: first, Last: first + n*posagent.BookletSize - 1}}}
	}
	return http.StatusOK, bridge.Answer{}
}

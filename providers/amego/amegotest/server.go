// Package amegotest is an in-process stand-in for Amego's (光貿) e-invoice
// JSON API: an HTTP server on the loopback interface that speaks the protocol
// as providers.md §1 and §5.2 document it — the signed form envelope
// (md5(data + time + app key)), the ±60 s window (code 15), /json/time, codes
// as numbers (as a string from g0501) — and checks every request as the docs
// say: data shapes (arrays where Amego wants arrays), required fields and
// lengths, the print / carrier / donation exclusions, amounts that add up,
// numbers inside the tracks it leased for the invoice's period, voids after
// their invoice and never after an allowance, allowances after their invoice
// and within its amount. For each accepted upload it computes the barcode and
// the QR texts itself, in Amego's style, with the merchant's QR key it holds,
// so that a till printing with another key can be caught.
//
// It keeps what it accepted for tests to inspect and injects faults on
// request: latency, HTTP 5xx, garbage bodies, any code (10, 15, 18, 21, …),
// answers lost after the work was done, down/up.
//
// Where Amego's behaviour is undocumented the stand-in picks the strict
// reading and says so in a comment.
package amegotest

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/standin"
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/qr"
)

// DemoQRKey is the QR key the stand-in holds unless told otherwise: the MOF's
// test key, the one the demo till prints with.
const DemoQRKey = "F1A618ED8685B1A3B81E6CB6884617F4"

// DemoSeller is the seller the stand-in serves unless told otherwise. Amego's
// own test account (amego.TestSeller, 12345678) fails the 統一編號 check sum
// posagent requires of every invoice's seller, so the stand-in serves a valid
// one with Amego's test app key.
const DemoSeller = "24634102"

// Options configure a Server. The zero value serves DemoSeller with Amego's
// test app key, the demo pool and DemoQRKey.
type Options struct {
	Seller, AppKey string
	// QRKey is the merchant's key as Amego holds it (default DemoQRKey).
	QRKey qr.Key
	// Pool is what track_get hands out (default DemoPool).
	Pool []Allocation
	// UploadLimit is how old an invoice may be at upload before Amego refuses
	// it (超過開立期限). Amego enforces a deadline but does not publish it [U];
	// the default is the MOF's 48 hours.
	UploadLimit time.Duration
	// Now is the server's clock (default time.Now); see also SetClockOffset.
	Now    func() time.Time
	Logger *slog.Logger
}

// Allocation is a range of numbers Amego can lease for one period.
type Allocation struct {
	Period posagent.Period
	Track  string
	Start  int
	End    int
}

// DemoPool allocates track ZZ 10000000–10009999 (200 books) for the period
// of t and the next.
func DemoPool(t time.Time) []Allocation {
	p := posagent.PeriodOf(t)
	return []Allocation{{p, "ZZ", 10000000, 10009999}, {p.Next(), "ZZ", 10000000, 10009999}}
}

// Track is a range leased by track_get.
type Track struct {
	Period posagent.Period
	Code   string
	Start  int
	End    int
	Last   int // last number uploaded, 0 when none
}

// Invoice is an invoice the stand-in accepted.
type Invoice struct {
	Number      string
	OrderID     string
	Date        time.Time
	Random      string
	PrintMark   string
	Buyer       string
	BuyerName   string
	CarrierType string
	CarrierID   string
	NPOBAN      string
	Sales       int64
	FreeTax     int64
	ZeroTax     int64
	Tax         int64
	Total       int64
	TaxType     int
	Items       int
	Barcode     string
	QRLeft      string
	QRRight     string
	Voided      bool
	VoidReason  string
	// HadAllowance: an allowance was made, voided or not: no void any more (3050141).
	HadAllowance bool
	Seq          int // order of acceptance among invoices, voids and allowances
	VoidSeq      int
	// Status is what invoice_status reports of the invoice's way to the MOF
	// (0: 99, 完成); see SetStatus.
	Status int
}

// Allowance is an allowance the stand-in accepted.
type Allowance struct {
	Number    string
	InvoiceNo string
	Date      string
	Type      int
	Total     int64 // without tax
	Tax       int64
	Lines     int
	Voided    bool
	Seq       int
}

// Request is one request as the stand-in saw it.
type Request struct {
	Endpoint string
	Time     int64 // the form's time
	Data     string
	HTTP     int
	Code     int64
	Msg      string
	Fault    string
}

// FaultKind is what an injected fault does.
type FaultKind int

const (
	// FaultStatus answers with HTTP Status (default 503) without processing.
	FaultStatus FaultKind = iota
	// FaultMalformed answers 200 with a body that is not Amego's JSON.
	FaultMalformed
	// FaultCode answers Code with Msg without processing (10, 15, 18, 21, …).
	FaultCode
	// FaultLoseAnswer processes the request, then drops the connection.
	FaultLoseAnswer
	// FaultData processes the request and, when it succeeds, answers code 0
	// with Data (raw JSON) in place of the stand-in's own data: answers in
	// shapes the docs do not show.
	FaultData
	// FaultForget processes the request, answers as usual, and then forgets
	// what it did: an invoice (f0401_custom) or allowance (g0401) dropped
	// after answering OK, a void (f0501, g0501) lost. It is what a daily
	// reconciliation is there to find.
	FaultForget
)

func (k FaultKind) String() string {
	return [...]string{"status", "malformed", "code", "lose_answer", "data", "forget"}[k]
}

// Fault is one injected failure. Endpoint "" matches any signed endpoint.
type Fault struct {
	Kind     FaultKind
	Endpoint string
	Status   int
	Code     int64
	Msg      string
	Data     string // FaultData
}

// Server is the stand-in.
type Server struct {
	opt Options
	srv *httptest.Server
	log *slog.Logger

	mu         sync.Mutex
	offset     time.Duration
	latency    time.Duration
	down       bool
	faults     standin.Faults[Fault]
	requests   []Request
	tracks     []*Track
	used       map[string]int // period code + track → next free number in the pool
	invoices   []*Invoice
	byNumber   map[string]*Invoice
	byOrder    map[string]*Invoice
	allowances []*Allowance
	seq        int
}

// New starts a stand-in on 127.0.0.1.
func New(opt Options) *Server {
	if opt.Seller == "" {
		opt.Seller = DemoSeller
	}
	if opt.AppKey == "" {
		opt.AppKey = amego.TestAppKey
	}
	if opt.QRKey.IsZero() {
		opt.QRKey, _ = qr.ParseKey(DemoQRKey)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Pool == nil {
		opt.Pool = DemoPool(opt.Now())
	}
	if opt.UploadLimit <= 0 {
		opt.UploadLimit = 48 * time.Hour
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opt: opt, log: log.With("component", "amegotest"), used: map[string]int{},
		byNumber: map[string]*Invoice{}, byOrder: map[string]*Invoice{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL for amego.Config.BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// Config returns an amego.Config for this stand-in, printing with the key the
// stand-in holds.
func (s *Server) Config() amego.Config {
	return amego.Config{BaseURL: s.URL(), Seller: s.opt.Seller, AppKey: s.opt.AppKey, QRKey: s.opt.QRKey,
		HTTPClient: s.srv.Client(), Timeout: 5 * time.Second}
}

// Close shuts the server down.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

func (s *Server) now() time.Time {
	s.mu.Lock()
	off := s.offset
	s.mu.Unlock()
	return s.opt.Now().Add(off)
}

// SetClockOffset makes the server's clock run d ahead (or behind) of Options.Now.
func (s *Server) SetClockOffset(d time.Duration) { s.mu.Lock(); s.offset = d; s.mu.Unlock() }

// SetLatency delays every answer by d.
func (s *Server) SetLatency(d time.Duration) { s.mu.Lock(); s.latency = d; s.mu.Unlock() }

// Down makes the server drop every connection without an answer, until Up.
func (s *Server) Down() { s.mu.Lock(); s.down = true; s.mu.Unlock(); s.srv.CloseClientConnections() }

// Up ends Down.
func (s *Server) Up() { s.mu.Lock(); s.down = false; s.mu.Unlock() }

// Inject makes the next n requests matching f.Endpoint fail as f says.
func (s *Server) Inject(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Add(f, n)
}

// ClearFaults drops every pending fault, latency and Down.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults.Reset()
	s.latency, s.down = 0, false
}

// Invoices returns copies of the accepted invoices in order of acceptance.
func (s *Server) Invoices() []Invoice {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Invoice, len(s.invoices))
	for i, inv := range s.invoices {
		out[i] = *inv
	}
	return out
}

// Invoice returns the accepted invoice with number.
func (s *Server) Invoice(number string) (Invoice, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv := s.byNumber[number]; inv != nil {
		return *inv, true
	}
	return Invoice{}, false
}

// Allowances returns copies of the accepted allowances in order.
func (s *Server) Allowances() []Allowance {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Allowance, len(s.allowances))
	for i, a := range s.allowances {
		out[i] = *a
	}
	return out
}

// Tracks returns copies of the leased tracks.
func (s *Server) Tracks() []Track {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Track, len(s.tracks))
	for i, t := range s.tracks {
		out[i] = *t
	}
	return out
}

// Requests returns every request seen, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Count is how many requests reached endpoint (faults included).
func (s *Server) Count(endpoint string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Endpoint == endpoint {
			n++
		}
	}
	return n
}

func (s *Server) takeFault(endpoint string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.faults.Take(func(f Fault) bool { return f.Endpoint == "" || f.Endpoint == endpoint })
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

// refusal is a code ≠ 0 with its message.
type refusal struct {
	code int64
	msg  string
}

func (r *refusal) Error() string { return fmt.Sprintf("%d %s", r.code, r.msg) }

func refuse(code int64, format string, args ...any) *refusal {
	return &refusal{code: code, msg: fmt.Sprintf(format, args...)}
}

// handler runs an endpoint under s.mu on the decoded data and returns the
// answer's data (nil: none).
type handler struct {
	array bool // data must be a JSON array (code 23 otherwise)
	run   func(s *Server, data json.RawMessage, now time.Time) (any, *refusal)
}

var handlers = map[string]handler{
	"track_get":      {false, (*Server).trackGet},
	"track_status":   {false, (*Server).trackStatus},
	"f0401_custom":   {true, (*Server).f0401Custom},
	"f0501":          {true, (*Server).f0501},
	"g0401":          {true, (*Server).g0401},
	"g0501":          {true, (*Server).g0501},
	"invoice_status": {true, (*Server).invoiceStatus},
	"invoice_query":  {false, (*Server).invoiceQuery},
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
		}
	}
	endpoint, ok := strings.CutPrefix(r.URL.Path, "/json/")
	if ok && endpoint == "time" && r.Method == http.MethodGet {
		now := s.now()
		s.record(Request{Endpoint: "time", HTTP: 200})
		writeJSON(w, map[string]any{"timestamp": now.Unix(), "text": now.In(posagent.Taipei).Format("2006/01/02 15:04:05"),
			"year": now.In(posagent.Taipei).Year(), "month": int(now.In(posagent.Taipei).Month()), "day": now.In(posagent.Taipei).Day()})
		return
	}
	h, known := handlers[endpoint]
	if !ok || !known || r.Method != http.MethodPost {
		s.record(Request{Endpoint: r.URL.Path, HTTP: http.StatusNotFound})
		http.NotFound(w, r)
		return
	}
	rec := Request{Endpoint: endpoint, HTTP: 200}
	fault := s.takeFault(endpoint)
	if fault != nil {
		rec.Fault = fault.Kind.String()
		switch fault.Kind {
		case FaultStatus:
			rec.HTTP = fault.Status
			if rec.HTTP == 0 {
				rec.HTTP = http.StatusServiceUnavailable
			}
			s.record(rec)
			http.Error(w, http.StatusText(rec.HTTP), rec.HTTP)
			return
		case FaultMalformed:
			s.record(rec)
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
			return
		case FaultCode:
			rec.Code, rec.Msg = fault.Code, fault.Msg
			s.record(rec)
			s.answer(w, endpoint, fault.Code, fault.Msg, nil)
			return
		}
	}
	out, ref := s.process(endpoint, h, r, &rec)
	if ref != nil {
		rec.Code, rec.Msg = ref.code, ref.msg
	}
	s.record(rec)
	if fault != nil && fault.Kind == FaultLoseAnswer {
		standin.Drop(w)
		return
	}
	if fault != nil && fault.Kind == FaultForget && ref == nil {
		defer s.forget(endpoint, rec.Data)
	}
	if ref != nil {
		s.answer(w, endpoint, ref.code, ref.msg, nil)
		return
	}
	if fault != nil && fault.Kind == FaultData {
		out = json.RawMessage(fault.Data)
	}
	s.answer(w, endpoint, 0, "", out)
}

var tenDigits = regexp.MustCompile(`^[0-9]{10}$`)

// process checks the envelope (providers.md §1.1) and runs the endpoint.
func (s *Server) process(endpoint string, h handler, r *http.Request, rec *Request) (any, *refusal) {
	r.Body = http.MaxBytesReader(nil, r.Body, 4<<20)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return nil, refuse(20, "Content-Type 須為 application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		return nil, refuse(20, "表單格式錯誤")
	}
	seller, data, ts, sign := r.PostForm.Get("invoice"), r.PostForm.Get("data"), r.PostForm.Get("time"), r.PostForm.Get("sign")
	rec.Data = data
	rec.Time, _ = strconv.ParseInt(ts, 10, 64)
	switch {
	case seller == "":
		return nil, refuse(11, "統一編號 不可空白")
	case seller != s.opt.Seller:
		return nil, refuse(12, "統一編號 錯誤")
	case !tenDigits.MatchString(ts):
		return nil, refuse(15, "時間 錯誤")
	}
	now := s.now()
	if d := now.Sub(time.Unix(rec.Time, 0)); d > amego.ClockWindow || d < -amego.ClockWindow {
		return nil, refuse(15, "時間 超過允許範圍 (±60 秒)")
	}
	if sign != amego.Sign(data, ts, s.opt.AppKey) {
		return nil, refuse(16, "簽名 錯誤")
	}
	if strings.TrimSpace(data) == "" {
		return nil, refuse(17, "資料 不可空白")
	}
	if !json.Valid([]byte(data)) {
		return nil, refuse(20, "資料 不是 JSON 格式")
	}
	isArray := strings.HasPrefix(strings.TrimSpace(data), "[")
	if h.array && !isArray {
		return nil, refuse(23, "資料 必須為陣列")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return h.run(s, json.RawMessage(data), now)
}

func (s *Server) answer(w http.ResponseWriter, endpoint string, code int64, msg string, data any) {
	resp := map[string]any{"code": code, "msg": msg}
	if endpoint == "g0501" {
		// g0501 sends its code as a string (providers.md §1.1).
		resp["code"] = strconv.FormatInt(code, 10)
	}
	if data != nil {
		resp["data"] = data
	}
	writeJSON(w, resp)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encode", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b)
}

// decodeStrict reads data into v, refusing unknown keys (a misspelt field is
// a bug the stand-in should catch, though Amego may ignore it [U]).
func decodeStrict(data json.RawMessage, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	_, err := dec.Token()
	if err != io.EOF {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// SetStatus sets the status invoice_status reports for a held invoice (and
// its void): 1, 2, 3, 31, 32 on the way, 91 error, 99 done (the default).
// It reports whether the stand-in holds the invoice.
func (s *Server) SetStatus(number string, status int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.byNumber[number]
	if inv == nil {
		return false
	}
	inv.Status = status
	return true
}

// DropInvoice forgets a held invoice, as if Amego had lost it after
// answering OK. It reports whether there was one.
func (s *Server) DropInvoice(number string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.byNumber[number]
	if inv == nil {
		return false
	}
	delete(s.byNumber, number)
	delete(s.byOrder, inv.OrderID)
	for i, x := range s.invoices {
		if x == inv {
			s.invoices = append(s.invoices[:i], s.invoices[i+1:]...)
			break
		}
	}
	return true
}

// LoseVoid makes a voided invoice not voided again, as if the void had been
// lost after Amego answered OK. It reports whether there was a void.
func (s *Server) LoseVoid(number string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.byNumber[number]
	if inv == nil || !inv.Voided {
		return false
	}
	inv.Voided, inv.VoidReason, inv.VoidSeq = false, "", 0
	return true
}

// DropAllowance forgets a held allowance. It reports whether there was one.
func (s *Server) DropAllowance(number string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, a := range s.allowances {
		if a.Number != number {
			continue
		}
		s.allowances = append(s.allowances[:i], s.allowances[i+1:]...)
		if inv := s.byNumber[a.InvoiceNo]; inv != nil {
			inv.HadAllowance = false
			for _, other := range s.allowances {
				if other.InvoiceNo == a.InvoiceNo {
					inv.HadAllowance = true
				}
			}
		}
		return true
	}
	return false
}

// LoseAllowanceVoid makes a voided allowance not voided again. It reports
// whether there was such a void.
func (s *Server) LoseAllowanceVoid(number string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.allowances {
		if a.Number == number && a.Voided {
			a.Voided = false
			return true
		}
	}
	return false
}

// forget undoes what an accepted request did (FaultForget).
func (s *Server) forget(endpoint, data string) {
	var lines []struct {
		InvoiceNumber, CancelInvoiceNumber, AllowanceNumber, CancelAllowanceNumber string
	}
	if json.Unmarshal([]byte(data), &lines) != nil {
		return
	}
	for _, l := range lines {
		switch endpoint {
		case "f0401_custom":
			s.DropInvoice(l.InvoiceNumber)
		case "f0501":
			s.LoseVoid(l.CancelInvoiceNumber)
		case "g0401":
			s.DropAllowance(l.AllowanceNumber)
		case "g0501":
			s.LoseAllowanceVoid(l.CancelAllowanceNumber)
		}
	}
}

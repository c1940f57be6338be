// Package ecpaytest is an in-process stand-in for ECPay's e-invoice API: an
// HTTP server on the loopback interface that speaks the same protocol (the
// envelope, the AES Data encryption, TransCode/RtnCode answers) and checks every
// request as ECPay's documentation says: the 10-minute timestamp window, field
// types and lengths, required fields, amounts that add up, RelateNumber
// uniqueness, numbers within a range bound to the machine, voids only after
// issue. It keeps what it accepted for tests to inspect, and injects faults on
// request: latency, 5xx, 403, malformed bodies, TransCode ≠ 1, refusals, and
// answers lost after the request was processed.
//
// Where ECPay's behaviour is undocumented the stand-in picks the conservative
// reading (new tracks start disabled; field errors use its own RtnCode 4000001).
package ecpaytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/standin"
	"github.com/posagent/posagent/providers/ecpay"
)

// Stage credentials from ECPay's documentation (ecpay.md §1).
const (
	StageMerchantID = "2000132"
	StageHashKey    = "ejCk326UnaZWKisg"
	StageHashIV     = "q9jcZX8Ib9LM8wYk"
)

// Window is how late a request's RqHeader.Timestamp may arrive.
const Window = 10 * time.Minute

// Options configure a Server. The zero value serves the stage merchant over
// plain HTTP with the demo pool.
type Options struct {
	MerchantID, HashKey, HashIV string
	// TLS serves HTTPS with a self-signed certificate that HTTPClient trusts.
	TLS bool
	// AutoEnableTracks answers as O'Pay's offline API does (ecpay.md §12, low
	// confidence for ECPay): an offline track is enabled when added, and a
	// second enable is refused.
	AutoEnableTracks bool
	// Pool is the MOF allocation GetGovInvoiceWordSetting reports (default DemoPool).
	Pool []Allocation
	// Now is the server's clock (default time.Now); see also SetClockOffset.
	Now    func() time.Time
	Logger *slog.Logger
}

// Allocation is a range the MOF allocated to the merchant through ECPay.
type Allocation struct {
	Year    int    // ROC year
	Term    int    // 1–6
	InvType string // "07" or "08"
	Header  string
	Start   int
	End     int
}

// DemoPool allocates track ZZ, 10000000–10009999 (200 booklets), for the
// period of t and the next one.
func DemoPool(t time.Time) []Allocation {
	p := posagent.PeriodOf(t)
	var out []Allocation
	for _, q := range []posagent.Period{p, p.Next()} {
		out = append(out, Allocation{Year: q.Year, Term: q.Term(), InvType: "07", Header: "ZZ", Start: 10000000, End: 10009999})
	}
	return out
}

// Invoice is an invoice the stand-in accepted (online or uploaded offline).
type Invoice struct {
	Number       string
	RelateNumber string
	MachineID    string // empty for online invoices
	Online       bool
	Date         time.Time
	RandomNumber string
	SalesAmount  int64
	TaxAmount    int64
	TaxType      string
	Identifier   string
	CarrierType  string
	CarrierNum   string
	Email        string // CustomerEmail
	Phone        string // CustomerPhone
	LoveCode     string
	Print        string
	Items        int
	Voided       bool
	VoidReason   string
	Remaining    int64
	// TurnkeyStatus is what GetIssue answers as IIS_Turnkey_Status (the
	// platform's verdict: C, E, G, P); "" leaves the field out.
	TurnkeyStatus string
}

// Allowance is an allowance the stand-in made.
type Allowance struct {
	Number    string
	InvoiceNo string
	Amount    int64
	Voided    bool
}

// Track is a range bound by AddInvoiceWordSetting.
type Track struct {
	ID        string
	Year      int
	Term      int
	InvType   string
	Category  string
	Header    string
	Start     int
	End       int
	UseStatus int
	MachineID string
	LastUsed  int // last number used, 0 when none
	Times     int // fetches by the machine
}

// Request is one request as the stand-in saw it.
type Request struct {
	Endpoint  string
	Revision  string // RqHeader.Revision as sent ("" when absent)
	Timestamp int64  // RqHeader.Timestamp as sent
	HTTP      int
	TransCode int
	RtnCode   int
	Fault     string // the injected fault, if any
}

// FaultKind is what an injected fault does.
type FaultKind int

const (
	// FaultStatus answers with HTTP Status (default 503) without processing.
	FaultStatus FaultKind = iota
	// FaultRateLimit answers 403 without processing.
	FaultRateLimit
	// FaultMalformed answers 200 with a body that is not ECPay's JSON.
	FaultMalformed
	// FaultTransCode answers TransCode Code (default 9) with Msg without processing.
	FaultTransCode
	// FaultRtnCode answers RtnCode Code with Msg without processing.
	FaultRtnCode
	// FaultLoseAnswer processes the request, then drops the connection: the
	// client sees no answer although the server did the work.
	FaultLoseAnswer
)

func (k FaultKind) String() string {
	return [...]string{"status", "rate_limit", "malformed", "trans_code", "rtn_code", "lose_answer"}[k]
}

// Fault is one injected failure. Endpoint "" matches any endpoint.
type Fault struct {
	Kind     FaultKind
	Endpoint string
	Status   int
	Code     int
	Msg      string
}

// Server is the stand-in.
type Server struct {
	opt    Options
	srv    *httptest.Server
	cipher *ecpay.Cipher
	log    *slog.Logger

	mu          sync.Mutex
	offset      time.Duration
	latency     time.Duration
	down        bool
	faults      standin.Faults[Fault]
	requests    []Request
	machines    map[string]machine
	machineList []string
	tracks      []*Track
	invoices    []*Invoice
	allowances  []*Allowance
	nextID      int
	knownCodes  map[string]bool // barcodes and love codes that exist; nil = every well-formed one
	missing     map[string]bool // codes that do not exist
	disabled    bool            // the merchant is not enabled for e-invoices (TransCode 115)
	dupWording  string          // the message for an offline InvoiceNo uploaded twice
	// The reconciliation's faults: documents answered OK and then not kept.
	dropUploads, loseVoids, dropAllowances int
	turnkeyStatus                          string // IIS_Turnkey_Status of new invoices
}

type machine struct {
	remark  string
	created time.Time
}

// New starts a stand-in on 127.0.0.1.
func New(opt Options) *Server {
	if opt.MerchantID == "" {
		opt.MerchantID = StageMerchantID
	}
	if opt.HashKey == "" && opt.HashIV == "" {
		opt.HashKey, opt.HashIV = StageHashKey, StageHashIV
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Pool == nil {
		opt.Pool = DemoPool(opt.Now())
	}
	c, err := ecpay.NewCipher(opt.HashKey, opt.HashIV)
	if err != nil {
		panic("ecpaytest: " + err.Error())
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{opt: opt, cipher: c, log: log.With("component", "ecpaytest"), machines: map[string]machine{}, missing: map[string]bool{},
		turnkeyStatus: "C"}
	if opt.TLS {
		s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	} else {
		s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	}
	return s
}

// URL is the base URL for ecpay.Config.BaseURL.
func (s *Server) URL() string { return s.srv.URL }

// HTTPClient returns a client that trusts the stand-in's certificate (TLS) —
// certificate checks stay on.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// Config returns an ecpay.Config for this stand-in and machine.
func (s *Server) Config(machineID string) ecpay.Config {
	s.mu.Lock()
	key, iv := s.opt.HashKey, s.opt.HashIV
	s.mu.Unlock()
	return ecpay.Config{BaseURL: s.URL(), MerchantID: s.opt.MerchantID, HashKey: key, HashIV: iv,
		MachineID: machineID, HTTPClient: s.HTTPClient(), Timeout: 5 * time.Second}
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

// RotateKeys makes the server expect new HashKey/HashIV, as when the merchant
// regenerates them in ECPay's back office: a client with the old ones gets
// TransCode 110 "The parameter [Data] decrypt fail." (ecpay.md §12).
func (s *Server) RotateKeys(hashKey, hashIV string) {
	c, err := ecpay.NewCipher(hashKey, hashIV)
	if err != nil {
		panic("ecpaytest: " + err.Error())
	}
	s.mu.Lock()
	s.cipher, s.opt.HashKey, s.opt.HashIV = c, hashKey, hashIV
	s.mu.Unlock()
}

// SetMerchantEnabled false answers every request with TransCode 115
// "B2C/B2B功能尚未開通，請聯繫所屬業務", as ECPay does for a merchant whose
// e-invoice service is not enabled (ecpay.md §12).
func (s *Server) SetMerchantEnabled(on bool) { s.mu.Lock(); s.disabled = !on; s.mu.Unlock() }

// DuplicateWordings are the likely messages of an offline InvoiceNo uploaded
// twice: ECPay publishes neither code nor message (ecpay.md §12, "open").
var DuplicateWordings = []string{"發票號碼 %s 重覆", "發票號碼 %s 已開立", "發票 %s 已上傳", "發票號碼 %s 已存在", "發票號碼 %s 重複"}

// SetDuplicateWording sets the message (with one %s for the number) of an
// offline InvoiceNo uploaded twice; "" is the first of DuplicateWordings.
func (s *Server) SetDuplicateWording(format string) {
	s.mu.Lock()
	s.dupWording = format
	s.mu.Unlock()
}

func (s *Server) dupNumberMsg(no string) string {
	f := s.dupWording // called under s.mu
	if f == "" {
		f = DuplicateWordings[0]
	}
	return fmt.Sprintf(f, no)
}

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

// SetCarrierCodes says which mobile barcodes and love codes exist (nil: every
// well-formed code exists), and which do not.
func (s *Server) SetCarrierCodes(exist, missing []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.knownCodes, s.missing = nil, map[string]bool{}
	if exist != nil {
		s.knownCodes = map[string]bool{}
		for _, c := range exist {
			s.knownCodes[c] = true
		}
	}
	for _, c := range missing {
		s.missing[c] = true
	}
}

// DropUploads makes the next n invoice uploads (OfflineIssue, Issue) answer
// OK and keep nothing, as if ECPay lost them after answering: what a
// reconciliation must find.
func (s *Server) DropUploads(n int) { s.mu.Lock(); s.dropUploads = n; s.mu.Unlock() }

// LoseVoids makes the next n invoice voids answer OK and void nothing.
func (s *Server) LoseVoids(n int) { s.mu.Lock(); s.loseVoids = n; s.mu.Unlock() }

// DropAllowances makes the next n allowances answer OK (with a number) and
// keep nothing.
func (s *Server) DropAllowances(n int) { s.mu.Lock(); s.dropAllowances = n; s.mu.Unlock() }

// SetTurnkeyStatus sets the platform's verdict GetIssue reports for an
// invoice (C accepted, E failed, G/P in progress, "" leaves the field out);
// false when there is no such invoice.
func (s *Server) SetTurnkeyStatus(number, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.invoiceByNumber(number)
	if inv == nil {
		return false
	}
	inv.TurnkeyStatus = status
	return true
}

// SetDefaultTurnkeyStatus sets the verdict of invoices uploaded from now on
// ("C" unless set; "" leaves the field out, as a real answer may).
func (s *Server) SetDefaultTurnkeyStatus(status string) {
	s.mu.Lock()
	s.turnkeyStatus = status
	s.mu.Unlock()
}

// take counts down one of the reconciliation's faults; s.mu is held.
func take(n *int) bool {
	if *n > 0 {
		*n--
		return true
	}
	return false
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

// Count is how many accepted invoices carry number.
func (s *Server) Count(number string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, inv := range s.invoices {
		if inv.Number == number {
			n++
		}
	}
	return n
}

// Invoice returns the accepted invoice with number.
func (s *Server) Invoice(number string) (Invoice, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if inv := s.invoiceByNumber(number); inv != nil {
		return *inv, true
	}
	return Invoice{}, false
}

// Allowances returns copies of the allowances made.
func (s *Server) Allowances() []Allowance {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Allowance, len(s.allowances))
	for i, a := range s.allowances {
		out[i] = *a
	}
	return out
}

// VoidAllowanceByHand voids an allowance as a person does in ECPay's back
// office, by ECPay's allowance number; false when there is no live one.
func (s *Server) VoidAllowanceByHand(allowanceNo string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.allowances {
		if a.Number == allowanceNo && !a.Voided {
			a.Voided = true
			if inv := s.invoiceByNumber(a.InvoiceNo); inv != nil {
				inv.Remaining += a.Amount
			}
			return true
		}
	}
	return false
}

// Tracks returns copies of the bound tracks.
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

// RegisterMachine registers a terminal directly, as if done earlier.
func (s *Server) RegisterMachine(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.machines[id]; !ok {
		s.machines[id] = machine{remark: "", created: s.opt.Now().Add(s.offset)}
		s.machineList = append(s.machineList, id)
	}
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
	// Every answer, faults included, carries the server's (possibly lying) time.
	w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
	endpoint, ok := strings.CutPrefix(r.URL.Path, "/B2CInvoice/")
	if !ok || r.Method != http.MethodPost || handlers[endpoint] == nil {
		s.record(Request{Endpoint: r.URL.Path, HTTP: http.StatusNotFound})
		http.NotFound(w, r)
		return
	}
	rec := Request{Endpoint: endpoint, HTTP: http.StatusOK}
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
		case FaultRateLimit:
			rec.HTTP = http.StatusForbidden
			s.record(rec)
			http.Error(w, "Forbidden", http.StatusForbidden)
			return
		case FaultMalformed:
			s.record(rec)
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
			return
		case FaultTransCode:
			code := fault.Code
			if code == 0 {
				code = 9
			}
			rec.TransCode = code
			s.record(rec)
			s.answer(w, code, fault.Msg, nil)
			return
		case FaultRtnCode:
			rec.TransCode, rec.RtnCode = 1, fault.Code
			s.record(rec)
			s.answer(w, 1, "", map[string]any{"RtnCode": fault.Code, "RtnMsg": fault.Msg})
			return
		}
	}
	status, transCode, transMsg, data := s.process(endpoint, r, &rec)
	rec.HTTP, rec.TransCode = status, transCode
	if data != nil {
		rec.RtnCode, _ = data["RtnCode"].(int)
	}
	s.record(rec)
	if fault != nil && fault.Kind == FaultLoseAnswer {
		standin.Drop(w)
		return
	}
	if status != http.StatusOK {
		http.Error(w, http.StatusText(status), status)
		return
	}
	s.answer(w, transCode, transMsg, data)
}

// process checks the envelope and runs the endpoint. It returns the HTTP
// status, the TransCode and message, and the plaintext Data of the answer.
func (s *Server) process(endpoint string, r *http.Request, rec *Request) (int, int, string, map[string]any) {
	var env struct {
		MerchantID string
		RqHeader   struct {
			Timestamp json.Number
			Revision  string
		}
		Data string
	}
	body := io.LimitReader(r.Body, 1<<20)
	dec := json.NewDecoder(body)
	if err := dec.Decode(&env); err != nil {
		return http.StatusInternalServerError, 0, "", nil
	}
	rec.Revision = env.RqHeader.Revision
	rec.Timestamp, _ = env.RqHeader.Timestamp.Int64()
	if env.MerchantID != s.opt.MerchantID {
		// ECPay answers 500 when the MerchantID does not match the keys (§6).
		return http.StatusInternalServerError, 0, "", nil
	}
	s.mu.Lock()
	cipher, disabled := s.cipher, s.disabled
	s.mu.Unlock()
	if disabled {
		return http.StatusOK, 115, "B2C/B2B功能尚未開通，請聯繫所屬業務", nil
	}
	ts, err := env.RqHeader.Timestamp.Int64()
	if err != nil || ts <= 0 {
		return http.StatusOK, 9, "RqHeader.Timestamp 格式錯誤", nil
	}
	now := s.now()
	if now.Sub(time.Unix(ts, 0)) > Window {
		return http.StatusOK, 9, "Timestamp 已超過時效(10分鐘)", nil
	}
	plain, err := cipher.Decrypt(env.Data)
	if err != nil {
		// Wrong HashKey/HashIV, as ECPay's stage server answers it (§12).
		return http.StatusOK, 110, "The parameter [Data] decrypt fail.", nil
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(plain))
	d.UseNumber()
	if err := d.Decode(&m); err != nil || m == nil {
		return http.StatusOK, 9, "Data 格式錯誤", nil
	}
	f := newFields("", m)
	mid, err := f.str("MerchantID", 10, true)
	if err == nil && mid != env.MerchantID {
		err = fieldErr("MerchantID 與外層不符")
	}
	var out map[string]any
	if err == nil {
		s.mu.Lock()
		out, err = handlers[endpoint](s, f, now)
		s.mu.Unlock()
	}
	if err == nil {
		err = f.unknown()
	}
	if err != nil {
		ref, ok := err.(*refusal)
		if !ok {
			ref = &refusal{code: 9999999, msg: "系統錯誤"}
		}
		s.log.Debug("refused", "endpoint", endpoint, "code", ref.code, "msg", ref.msg)
		return http.StatusOK, 1, "", map[string]any{"RtnCode": ref.code, "RtnMsg": ref.msg}
	}
	if out == nil {
		out = map[string]any{}
	}
	out["RtnCode"], out["RtnMsg"] = 1, "成功"
	return http.StatusOK, 1, "", out
}

func (s *Server) answer(w http.ResponseWriter, transCode int, transMsg string, data map[string]any) {
	now := s.now()
	resp := map[string]any{
		"MerchantID": s.opt.MerchantID,
		"RpHeader":   map[string]any{"Timestamp": now.Unix()},
		"TransCode":  transCode,
		"TransMsg":   transMsg,
		"Data":       "",
	}
	if data != nil {
		s.mu.Lock()
		cipher := s.cipher
		s.mu.Unlock()
		enc, err := cipher.EncryptJSON(data)
		if err != nil {
			http.Error(w, "encode", http.StatusInternalServerError)
			return
		}
		resp["Data"] = enc
	}
	b, _ := ecpay.MarshalJSON(resp)
	w.Header().Set("Content-Type", "application/json")
	// The Date header follows the server's (possibly lying) clock, as the
	// client measures skew from it too.
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	w.Write(b)
}

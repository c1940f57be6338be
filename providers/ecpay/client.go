// Package ecpay is the client of ECPay's (綠界) e-invoice API: the offline POS
// API (terminals, number tracks, leases, uploads of locally issued invoices and
// voids) and the online B2C API (issue, void, allowance, query, carrier checks).
// It owns the envelope and the Data encryption and maps ECPay's codes onto the
// posagent error kinds. See ecpay.md in the project docs for the protocol.
package ecpay

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/endpoint"
)

// The two ECPay hosts (ecpay.md §1).
const (
	StageURL      = "https://einvoice-stage.ecpay.com.tw"
	ProductionURL = "https://einvoice.ecpay.com.tw"
)

// Revision defaults (ecpay.md §2 [U]): the PHP SDK sends 3.0.0 online, ECPay's
// guide wants 1.0.0 offline. Config.Revisions overrides per endpoint.
const (
	OnlineRevision  = "3.0.0"
	OfflineRevision = "1.0.0"
)

// Config is what a Client needs. MerchantID, HashKey and HashIV come from the
// ECPay back office; MachineID is this terminal as registered with
// OfflineMerchantPosSetting.
type Config struct {
	BaseURL    string // StageURL, ProductionURL, or a loopback stand-in
	MerchantID string
	HashKey    string
	HashIV     string
	MachineID  string
	// Timeout bounds each request (default 20 s).
	Timeout time.Duration
	// HTTPClient replaces the default client (TLS ≥ 1.2, certificates verified).
	// Tests pass the stand-in's client, which trusts its own certificate.
	HTTPClient *http.Client
	// Revisions sets RqHeader.Revision per endpoint; an empty value omits it.
	Revisions map[string]string
	// ClearanceMark is sent with zero-rated sales: "1" not through customs
	// (default), "2" through customs. The sale does not say which [U].
	ClearanceMark string
	// DefaultUnit is ItemWord for lines without a unit: ECPay requires one.
	DefaultUnit string
	// Contact is used by online Issue, which requires CustomerPhone or
	// CustomerEmail (and a name and address on printed invoices) that a POS
	// sale does not carry: the shop's own contact, as ECPay's examples do.
	Contact Contact
	// CarrierCacheTTL is how long CheckBarcode/CheckLoveCode answers are kept
	// (default 6 h).
	CarrierCacheTTL time.Duration
	// ClockTolerance: when the measured skew is larger, request timestamps are
	// corrected by it and an upload whose issue time is after ECPay's now is
	// KindClock (the local clock is wrong); within it, such an upload is
	// KindTransient with RetryAfter, the time until ECPay's clock passes the
	// issue time (default 1 min; negative disables correction, and every such
	// upload is then KindClock).
	ClockTolerance time.Duration
	// Now is the local clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Contact is the buyer contact online Issue falls back on.
type Contact struct {
	Name, Addr, Phone, Email string
}

// Client talks to one ECPay merchant. It is safe for concurrent use, but ECPay
// rate-limits by merchant: callers send one request at a time (§9).
type Client struct {
	cfg    Config
	base   string
	cipher *Cipher
	http   *http.Client
	log    *slog.Logger
	now    func() time.Time

	mu         sync.Mutex
	skew       time.Duration // local − ECPay
	skewAt     time.Time
	http500    int // consecutive HTTP 500 answers
	carriers   map[string]carrierEntry
	allowances map[string]int64 // invoice/allowance → remaining before the first attempt
	leaseMode  LeaseMode
}

// New checks the configuration and returns a client. Errors are KindConfig and
// never repeat a secret.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, posagent.Errorf(posagent.KindConfig, "ecpay: BaseURL is required (%s or %s)", StageURL, ProductionURL)
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || u.Host == "" {
		return nil, posagent.Errorf(posagent.KindConfig, "ecpay: BaseURL %q is not a URL", cfg.BaseURL)
	}
	if !endpoint.Allowed(u) {
		return nil, posagent.Errorf(posagent.KindConfig, "ecpay: BaseURL must be https (plain http only for a loopback stand-in)")
	}
	if cfg.MerchantID == "" || len(cfg.MerchantID) > 10 {
		return nil, posagent.Errorf(posagent.KindConfig, "ecpay: MerchantID is required, at most 10 characters")
	}
	if cfg.MachineID != "" && !machineIDText.MatchString(cfg.MachineID) {
		return nil, posagent.Errorf(posagent.KindConfig, "ecpay: MachineID %q must be 1 to 10 letters or digits", cfg.MachineID)
	}
	c, err := NewCipher(cfg.HashKey, cfg.HashIV)
	if err != nil {
		return nil, &posagent.Error{Kind: posagent.KindConfig, Err: err}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.ClearanceMark == "" {
		cfg.ClearanceMark = "1"
	}
	if cfg.ClearanceMark != "1" && cfg.ClearanceMark != "2" {
		return nil, posagent.Errorf(posagent.KindConfig, "ecpay: ClearanceMark must be 1 or 2")
	}
	if cfg.DefaultUnit == "" {
		cfg.DefaultUnit = "個"
	}
	if cfg.CarrierCacheTTL <= 0 {
		cfg.CarrierCacheTTL = 6 * time.Hour
	}
	if cfg.ClockTolerance == 0 {
		cfg.ClockTolerance = time.Minute
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		hc = &http.Client{Transport: tr}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Client{
		cfg: cfg, base: u.String(), cipher: c, http: hc, log: log.With("provider", "ecpay"), now: now,
		carriers: map[string]carrierEntry{}, allowances: map[string]int64{},
	}, nil
}

// Name is the provider's short name.
func (c *Client) Name() string { return "ecpay" }

// MachineID is the terminal this client uploads for.
func (c *Client) MachineID() string { return c.cfg.MachineID }

// ClockSkew is the last measured difference local clock − ECPay's clock, taken
// from RpHeader.Timestamp (or the HTTP Date header), and when it was measured;
// ok is false before the first answer. Resolution is about one second.
func (c *Client) ClockSkew() (skew time.Duration, at time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.skew, c.skewAt, !c.skewAt.IsZero()
}

// timestamp is RqHeader.Timestamp, taken now (at send time), corrected by the
// measured skew when it is beyond tolerance so that a wrong local clock does
// not stop uploads (§6). The agent still alarms on ClockSkew.
func (c *Client) timestamp() int64 {
	now := c.now()
	c.mu.Lock()
	skew := c.skew
	c.mu.Unlock()
	if c.cfg.ClockTolerance > 0 && (skew > c.cfg.ClockTolerance || skew < -c.cfg.ClockTolerance) {
		now = now.Add(-skew)
	}
	return now.Unix()
}

func (c *Client) measureSkew(sent, received time.Time, rpTimestamp int64, date string) {
	var server time.Time
	switch {
	case rpTimestamp > 0:
		server = time.Unix(rpTimestamp, 0)
	case date != "":
		t, err := http.ParseTime(date)
		if err != nil {
			return
		}
		server = t
	default:
		return
	}
	// The server stamped its answer somewhere between send and receipt; the
	// midpoint halves the error. Both server sources are whole seconds, cut
	// down: half a second more centres them.
	server = server.Add(500 * time.Millisecond)
	local := sent.Add(received.Sub(sent) / 2)
	skew := local.Sub(server).Round(time.Second)
	c.mu.Lock()
	c.skew, c.skewAt = skew, received
	c.mu.Unlock()
}

func (c *Client) revision(endpoint string) string {
	if r, ok := c.cfg.Revisions[endpoint]; ok {
		return r
	}
	if offlineEndpoints[endpoint] {
		return OfflineRevision
	}
	return OnlineRevision
}

var offlineEndpoints = map[string]bool{
	"OfflineMerchantPosSetting": true, "QueryOfflineMerchantPosSetting": true,
	"GetOfflineInvoiceWordSetting": true, "GetOfflineInvoiceWordSettingNumber": true,
	"OfflineIssue": true, "OfflineInvalid": true,
}

// maxResponse bounds what is read of an answer: the largest (a number list)
// is far below it.
const maxResponse = 4 << 20

// call sends data to endpoint and decodes the answer into out. A RtnCode ≠ 1
// comes back as a *posagent.Error wrapping an *APIError.
func (c *Client) call(ctx context.Context, endpoint string, data any, out resulter) error {
	encrypted, err := c.cipher.EncryptJSON(data)
	if err != nil {
		return &posagent.Error{Kind: posagent.KindInternal, Message: "ecpay " + endpoint + ": encode request"}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	env := requestEnvelope{
		MerchantID: c.cfg.MerchantID,
		RqHeader:   rqHeader{Timestamp: c.timestamp(), Revision: c.revision(endpoint)},
		Data:       encrypted,
	}
	body, _ := MarshalJSON(env)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/B2CInvoice/"+endpoint, bytes.NewReader(body))
	if err != nil {
		return &posagent.Error{Kind: posagent.KindConfig, Message: "ecpay " + endpoint + ": build request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	sent := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "ecpay request failed", slog.String("endpoint", endpoint), slog.String("error", err.Error()))
		if ctx.Err() != nil && errors.Is(ctx.Err(), context.Canceled) {
			return &posagent.Error{Kind: posagent.KindTransient, Message: "ecpay " + endpoint + ": cancelled", Err: ctx.Err()}
		}
		return &posagent.Error{Kind: posagent.KindTransient, Message: "ecpay " + endpoint + ": no answer", Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	received := c.now()
	if err != nil {
		return &posagent.Error{Kind: posagent.KindTransient, Message: "ecpay " + endpoint + ": answer cut off", Err: err}
	}
	rp, _ := peekTimestamp(raw)
	c.measureSkew(sent, received, rp, resp.Header.Get("Date"))
	return c.decode(ctx, endpoint, resp.StatusCode, raw, received.Sub(sent), out)
}

// peekTimestamp reads RpHeader.Timestamp from an answer, if it is there.
func peekTimestamp(raw []byte) (int64, bool) {
	var env responseEnvelope
	if json.Unmarshal(raw, &env) != nil {
		return 0, false
	}
	return int64(env.RpHeader.Timestamp), env.RpHeader.Timestamp > 0
}

// decode checks an answer: HTTP status → TransCode → decrypt → RtnCode (§2),
// and fills out on success.
func (c *Client) decode(ctx context.Context, endpoint string, status int, raw []byte, took time.Duration, out resulter) error {
	attrs := []slog.Attr{slog.String("endpoint", endpoint), slog.Int("http", status), slog.Duration("took", took)}
	if status != http.StatusInternalServerError {
		c.mu.Lock()
		c.http500 = 0
		c.mu.Unlock()
	}
	switch {
	case status == http.StatusForbidden:
		c.log.LogAttrs(ctx, slog.LevelWarn, "ecpay rate limit", attrs...)
		return &posagent.Error{Kind: posagent.KindRateLimited, RetryAfter: rateLimitPause,
			Err: &APIError{Endpoint: endpoint, HTTP: status, Msg: "calling too fast; ECPay asks for a 30-minute pause"}}
	case status == http.StatusInternalServerError:
		// A 500 is a malformed request, keys not matching the MerchantID or a
		// crypto error: once may be a glitch, twice in a row is the setup (§6).
		c.mu.Lock()
		c.http500++
		n := c.http500
		c.mu.Unlock()
		kind := posagent.KindTransient
		if n >= 2 {
			kind = posagent.KindConfig
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "ecpay server error", append(attrs, slog.Int("in_a_row", n))...)
		return &posagent.Error{Kind: kind, Err: &APIError{Endpoint: endpoint, HTTP: 500, Msg: "malformed request or MerchantID/keys mismatch"}}
	case status >= 500:
		c.log.LogAttrs(ctx, slog.LevelWarn, "ecpay server error", attrs...)
		return &posagent.Error{Kind: posagent.KindTransient, Err: &APIError{Endpoint: endpoint, HTTP: status}}
	case status != http.StatusOK:
		c.log.LogAttrs(ctx, slog.LevelError, "ecpay unexpected status", attrs...)
		return &posagent.Error{Kind: posagent.KindConfig, Err: &APIError{Endpoint: endpoint, HTTP: status, Msg: "unexpected status; check BaseURL"}}
	}
	var env responseEnvelope
	if err := json.Unmarshal(raw, &env); err != nil || env.TransCode == nil {
		// Proxies and captive portals answer 200 with HTML; the request may or
		// may not have arrived.
		c.log.LogAttrs(ctx, slog.LevelWarn, "ecpay malformed answer", attrs...)
		return &posagent.Error{Kind: posagent.KindTransient, Message: "ecpay " + endpoint + ": answer is not ECPay's JSON envelope"}
	}
	attrs = append(attrs, slog.Int64("trans_code", int64(*env.TransCode)))
	if *env.TransCode != 1 {
		apiErr := &APIError{Endpoint: endpoint, TransCode: int64(*env.TransCode), Msg: string(env.TransMsg)}
		kind := classifyTrans(apiErr.TransCode, apiErr.Msg)
		c.log.LogAttrs(ctx, slog.LevelWarn, "ecpay envelope refused", append(attrs, slog.String("msg", apiErr.Msg))...)
		e := &posagent.Error{Kind: kind, Err: apiErr}
		if kind == posagent.KindClock {
			e.Skew, _, _ = c.ClockSkew()
		}
		return e
	}
	if env.Data == nil || *env.Data == "" || *env.Data == "null" {
		return &posagent.Error{Kind: posagent.KindTransient, Message: "ecpay " + endpoint + ": answer has no Data"}
	}
	plain, err := c.cipher.Decrypt(string(*env.Data))
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "ecpay undecryptable answer", attrs...)
		return &posagent.Error{Kind: posagent.KindTransient, Message: "ecpay " + endpoint + ": cannot decrypt the answer", Err: err}
	}
	if err := json.Unmarshal(plain, out); err != nil {
		// Never wrap err: json errors quote the offending text, which is Data plaintext.
		c.log.LogAttrs(ctx, slog.LevelWarn, "ecpay undecodable answer", attrs...)
		return &posagent.Error{Kind: posagent.KindTransient, Message: "ecpay " + endpoint + ": decrypted answer is not the expected JSON"}
	}
	r := out.result()
	attrs = append(attrs, slog.Int64("rtn_code", int64(r.RtnCode)))
	if r.RtnCode != codeSuccess {
		apiErr := &APIError{Endpoint: endpoint, TransCode: 1, RtnCode: int64(r.RtnCode), Msg: string(r.RtnMsg)}
		c.log.LogAttrs(ctx, slog.LevelInfo, "ecpay refused", append(attrs, slog.String("msg", apiErr.Msg))...)
		// An issue-time refusal is KindTransient here (never a dead job);
		// OfflineIssue turns it into the wait it is, from the skew this very
		// answer measured (issueTimeRefused).
		return &posagent.Error{Kind: classifyRtn(apiErr.RtnCode, apiErr.Msg), Err: apiErr}
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "ecpay ok", attrs...)
	return nil
}

// apiError returns the *APIError in err's chain, if any.
func apiError(err error) *APIError {
	var e *APIError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// withKind returns err as a *posagent.Error of another kind, keeping its cause.
func withKind(err error, kind posagent.Kind, format string, args ...any) error {
	return &posagent.Error{Kind: kind, Message: fmt.Sprintf(format, args...), Err: err}
}

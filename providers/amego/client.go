// Package amego is the client of Amego's (光貿) e-invoice JSON API and a
// posagent.Provider: it leases booklets of numbers ("API 配號" tracks), uploads
// the invoices the till numbered and printed (f0401_custom), voids (f0501),
// allowances (g0401) and their voids (g0501), and looks invoices up
// (invoice_status, invoice_query). It owns the signed form envelope and the
// server clock offset, maps Amego's codes onto the posagent error kinds, and
// checks the QR texts Amego computes for each upload against the till's QR key.
// See providers.md §1 and its corrections in §5.2 in the project docs.
package amego

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/endpoint"
	"github.com/posagent/posagent/qr"
)

// BaseURL is Amego's one host for test and production: the credentials pick
// the environment (providers.md §1.1).
const BaseURL = "https://invoice-api.amego.tw"

// Amego's published test account (providers.md §1.1).
const (
	TestSeller = "12345678"
	TestAppKey = "sHeq7t8G1wiQvhAuIM27"
)

var sellerText = regexp.MustCompile(`^[0-9]{8}$`)

// ClockWindow is how far a request's time may be from Amego's clock (code 15).
const ClockWindow = 60 * time.Second

// Config is what a Client needs.
type Config struct {
	BaseURL string // BaseURL, or a loopback stand-in
	// Seller is the shop's 統一編號, the envelope's "invoice" field.
	Seller string
	// AppKey signs every request. It is never logged or put in an error.
	AppKey string
	// QRKey is the till's QR AES key, the one it prints proofs with: each
	// upload's answer is checked against it (see ProviderAlarms). A zero key
	// turns the check off.
	QRKey qr.Key
	// TrackAPICode picks Amego's track group for leases (optional).
	TrackAPICode string
	// Timeout bounds each request (default 20 s).
	Timeout time.Duration
	// TimeRefresh is how often the server clock offset is fetched again from
	// /json/time (default 5 min); it is also fetched after every code 15.
	TimeRefresh time.Duration
	// HTTPClient replaces the default client (TLS ≥ 1.2, certificates verified).
	HTTPClient *http.Client
	// Now is the local clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Client talks to Amego for one seller. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base string
	http *http.Client
	log  *slog.Logger
	now  func() time.Time

	mu       sync.Mutex
	offset   time.Duration // Amego's clock − ours
	offsetAt time.Time     // when offset was measured; zero: never
	pending  map[string]pendingLease
	qrAlarm  *qrMismatch
}

// New checks the configuration and returns a client. Errors are KindConfig and
// never repeat the app key.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = BaseURL
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || u.Host == "" {
		return nil, posagent.Errorf(posagent.KindConfig, "amego: BaseURL %q is not a URL", cfg.BaseURL)
	}
	if !endpoint.Allowed(u) {
		return nil, posagent.Errorf(posagent.KindConfig, "amego: BaseURL must be https (plain http only for a loopback stand-in)")
	}
	if !sellerText.MatchString(cfg.Seller) {
		// Only the shape: Amego's own test account (12345678) fails the check sum.
		return nil, posagent.Errorf(posagent.KindConfig, "amego: Seller %q is not an 8-digit 統一編號", cfg.Seller)
	}
	if strings.TrimSpace(cfg.AppKey) == "" {
		return nil, posagent.Errorf(posagent.KindConfig, "amego: AppKey is required (Amego back office → API settings)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.TimeRefresh <= 0 {
		cfg.TimeRefresh = 5 * time.Minute
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
	return &Client{cfg: cfg, base: u.String(), http: hc, log: log.With("provider", "amego"), now: now,
		pending: map[string]pendingLease{}}, nil
}

// Name is the provider's short name.
func (c *Client) Name() string { return "amego" }

// Sign is Amego's signature: lowercase hex md5(data + time + appKey), over
// the exact bytes posted (providers.md §1.1).
func Sign(data, unixTime, appKey string) string {
	sum := md5.Sum([]byte(data + unixTime + appKey))
	return hex.EncodeToString(sum[:])
}

// ClockSkew is our clock minus Amego's, as last measured from /json/time,
// and when; ok is false before the first measurement.
func (c *Client) ClockSkew() (skew time.Duration, at time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return -c.offset, c.offsetAt, !c.offsetAt.IsZero()
}

// amegoNow is our best estimate of Amego's clock.
func (c *Client) amegoNow() time.Time {
	c.mu.Lock()
	off := c.offset
	c.mu.Unlock()
	return c.now().Add(off)
}

// SyncTime fetches Amego's clock from /json/time (unsigned GET) and keeps the
// offset, measured at the midpoint of the round trip.
func (c *Client) SyncTime(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/json/time", nil)
	if err != nil {
		return &posagent.Error{Kind: posagent.KindConfig, Message: "amego time: build request", Err: err}
	}
	sent := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		return transportError("time", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	received := c.now()
	if err != nil {
		return &posagent.Error{Kind: posagent.KindTransient, Message: "amego time: answer cut off", Err: err}
	}
	if err := statusError("time", resp.StatusCode); err != nil {
		return err
	}
	var out struct {
		Timestamp json.Number `json:"timestamp"`
	}
	if json.Unmarshal(raw, &out) != nil {
		return &posagent.Error{Kind: posagent.KindTransient, Message: "amego time: answer is not Amego's JSON"}
	}
	ts, err := out.Timestamp.Int64()
	if err != nil || ts <= 0 {
		return &posagent.Error{Kind: posagent.KindTransient, Message: "amego time: answer has no timestamp"}
	}
	// The server's second was cut down: half a second more centres it.
	server := time.Unix(ts, 0).Add(500 * time.Millisecond)
	local := sent.Add(received.Sub(sent) / 2)
	c.mu.Lock()
	c.offset, c.offsetAt = server.Sub(local).Round(time.Second), received
	c.mu.Unlock()
	return nil
}

// ensureTime refreshes the offset when it is older than TimeRefresh. A
// failure is only logged: the request is then sent on the old offset (or our
// own clock), and Amego's code 15 says if that is wrong.
func (c *Client) ensureTime(ctx context.Context) {
	c.mu.Lock()
	at := c.offsetAt
	c.mu.Unlock()
	if age := c.now().Sub(at); !at.IsZero() && age >= 0 && age < c.cfg.TimeRefresh {
		return
	}
	if err := c.SyncTime(ctx); err != nil {
		c.log.LogAttrs(ctx, slog.LevelDebug, "amego time not refreshed", slog.String("error", err.Error()))
	}
}

// maxResponse bounds what is read of an answer.
const maxResponse = 4 << 20

// code is Amego's result code, sent as a number by most endpoints and as a
// string by some (g0501): both are read.
type code struct {
	n   int64
	set bool
}

func (k *code) UnmarshalJSON(b []byte) error {
	s := strings.Trim(strings.TrimSpace(string(b)), `"`)
	if s == "" || s == "null" {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return errors.New("code is not a number")
	}
	k.n, k.set = n, true
	return nil
}

// envelope is every answer's frame.
type envelope struct {
	Code code            `json:"code"`
	Msg  json.RawMessage `json:"msg"`
	Data json.RawMessage `json:"data"`
}

func (e envelope) msg() string {
	var s string
	if json.Unmarshal(e.Msg, &s) == nil {
		return s
	}
	return strings.Trim(string(e.Msg), `"`)
}

// call posts payload (nil: data is "") to /json/endpoint, signed, and returns
// the answer's data on code 0. A code 15 (our time outside Amego's ±60 s)
// refreshes the clock offset and retries once at once.
func (c *Client) call(ctx context.Context, endpoint string, payload any) (json.RawMessage, error) {
	data := ""
	if payload != nil {
		b, err := marshal(payload)
		if err != nil {
			return nil, &posagent.Error{Kind: posagent.KindInternal, Message: "amego " + endpoint + ": encode request"}
		}
		data = string(b)
	}
	c.ensureTime(ctx)
	out, err := c.post(ctx, endpoint, data)
	if e := apiError(err); e != nil && e.Code == codeClock {
		if serr := c.SyncTime(ctx); serr == nil {
			out, err = c.post(ctx, endpoint, data)
		}
		if e := apiError(err); e != nil && e.Code == codeClock {
			skew, _, _ := c.ClockSkew()
			return nil, &posagent.Error{Kind: posagent.KindClock, Skew: skew, Err: e,
				Message: "amego refuses our time although it was taken from its own clock"}
		}
	}
	return out, err
}

// marshal is json.Marshal without HTML escaping: Amego signs and reads the
// bytes as posted, and item names may hold & < >.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// post sends one signed form: the data string is serialised once and signed
// over those exact bytes.
func (c *Client) post(ctx context.Context, endpoint, data string) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	ts := strconv.FormatInt(c.amegoNow().Unix(), 10)
	form := url.Values{}
	form.Set("invoice", c.cfg.Seller)
	form.Set("data", data)
	form.Set("time", ts)
	form.Set("sign", Sign(data, ts, c.cfg.AppKey))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/json/"+endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &posagent.Error{Kind: posagent.KindConfig, Message: "amego " + endpoint + ": build request", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	sent := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "amego request failed", slog.String("endpoint", endpoint), slog.String("error", err.Error()))
		return nil, transportError(endpoint, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	attrs := []slog.Attr{slog.String("endpoint", endpoint), slog.Int("http", resp.StatusCode), slog.Duration("took", c.now().Sub(sent))}
	if err != nil {
		return nil, &posagent.Error{Kind: posagent.KindTransient, Message: "amego " + endpoint + ": answer cut off", Err: err}
	}
	if err := statusError(endpoint, resp.StatusCode); err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "amego HTTP error", attrs...)
		return nil, err
	}
	out, err := decodeAnswer(endpoint, raw)
	switch e := apiError(err); {
	case e != nil:
		c.log.LogAttrs(ctx, slog.LevelInfo, "amego refused", append(attrs, slog.Int64("code", e.Code), slog.String("msg", e.Msg))...)
	case err != nil:
		c.log.LogAttrs(ctx, slog.LevelWarn, "amego malformed answer", attrs...)
	default:
		c.log.LogAttrs(ctx, slog.LevelDebug, "amego ok", attrs...)
	}
	return out, err
}

// decodeAnswer reads an answer's envelope: its data on code 0, else the code
// as an error of its kind. An answer that is not Amego's JSON is transient:
// proxies and captive portals answer 200 with HTML, and the request may or
// may not have arrived.
func decodeAnswer(endpoint string, raw []byte) (json.RawMessage, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || !env.Code.set {
		return nil, &posagent.Error{Kind: posagent.KindTransient, Message: "amego " + endpoint + ": answer is not Amego's JSON"}
	}
	if env.Code.n != 0 {
		return nil, (&APIError{Endpoint: endpoint, Code: env.Code.n, Msg: env.msg()}).asError()
	}
	return env.Data, nil
}

func transportError(endpoint string, err error) error {
	if errors.Is(err, context.Canceled) {
		return &posagent.Error{Kind: posagent.KindTransient, Message: "amego " + endpoint + ": cancelled", Err: context.Canceled}
	}
	// The url.Error names the URL, which holds no secret (the key is in the body).
	return &posagent.Error{Kind: posagent.KindTransient, Message: "amego " + endpoint + ": no answer", Err: err}
}

// statusError maps a non-200 HTTP status: 5xx and 429 are the service's
// trouble (retry), anything else means the URL is wrong.
func statusError(endpoint string, status int) error {
	switch {
	case status == http.StatusOK:
		return nil
	case status == http.StatusTooManyRequests:
		return &posagent.Error{Kind: posagent.KindRateLimited, RetryAfter: rateLimitWait, Err: &APIError{Endpoint: endpoint, HTTP: status}}
	case status >= 500:
		return &posagent.Error{Kind: posagent.KindTransient, Err: &APIError{Endpoint: endpoint, HTTP: status}}
	}
	return &posagent.Error{Kind: posagent.KindConfig, Err: &APIError{Endpoint: endpoint, HTTP: status, Msg: "unexpected status; check the base URL"}}
}

// apiError returns the *APIError in err's chain, if any.
func apiError(err error) *APIError {
	var e *APIError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

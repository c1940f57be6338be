// Package invoicexpress is the client of InvoiceXpress's JSON API (Portugal)
// and the exactly-once procedure that issues a Portuguese fiscal document
// through it (Issue). InvoiceXpress is a certified program: it numbers a
// document (sequence number, ATCUD, hash) when the document is finalized, so
// a till never numbers one itself; it has no idempotency key, so the client
// deduplicates by the document's reference (the sale id).
// See providers.md §2 and §5.3 in the project docs.
package invoicexpress

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
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/internal/endpoint"
)

// Config is what a Client needs.
type Config struct {
	// Account is the account name: the API lives at https://{Account}.app.invoicexpress.com.
	Account string
	// APIKey goes in the query parameter api_key of every call; it is
	// stripped from every logged URL and every error.
	APIKey config.Secret
	// BaseURL overrides the account's URL (a stand-in, a test host); https
	// only, except on the loopback interface.
	BaseURL string
	// Timeout bounds each request (default 20 s).
	Timeout time.Duration
}

// Option changes a Client's collaborators.
type Option func(*Client)

// WithHTTPClient replaces the default HTTP client (TLS ≥ 1.2, certificates
// verified). Redirects are never followed whatever the client says: a
// redirect would carry the API key to wherever it points.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithLogger sets the logger (default: none).
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithClock sets the clock: the date of a document sent without one, and the
// waits between retries (default time.Now and a real timer).
func WithClock(now func() time.Time, sleep func(context.Context, time.Duration) error) Option {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
		if sleep != nil {
			c.sleep = sleep
		}
	}
}

// WithRetry sets how many times an idempotent call (GET, PUT change-state)
// is tried on a transport error, a 5xx or a 429 (default 3), the first wait
// between tries (default 500 ms, doubling), and the longest Retry-After the
// client waits out itself (default 10 s; a longer one is returned as
// KindRateLimited for the caller to honour). A create (POST) is tried once.
func WithRetry(attempts int, backoff, maxRetryAfter time.Duration) Option {
	return func(c *Client) {
		c.attempts, c.backoff, c.maxRetryAfter = max(1, attempts), backoff, maxRetryAfter
	}
}

// WithPacing sets the least time between two calls to the API. The default
// is 250 ms (InvoiceXpress publishes no rate limit [U] and providers.md §2.5
// advises a few requests per second), and none for a base URL on the
// loopback interface (a stand-in). 0 turns pacing off.
func WithPacing(interval time.Duration) Option {
	return func(c *Client) { c.pacing, c.pacingSet = max(0, interval), true }
}

// WithLookupDepth sets how many of the most recent documents of a type
// FindByReference reads (default 200, in pages of 50).
func WithLookupDepth(documents int) Option {
	return func(c *Client) { c.lookupDepth = max(1, documents) }
}

// Client talks to one InvoiceXpress account. It is safe for concurrent use.
type Client struct {
	base          *url.URL
	key           config.Secret
	timeout       time.Duration
	http          *http.Client
	log           *slog.Logger
	now           func() time.Time
	sleep         func(context.Context, time.Duration) error
	attempts      int
	backoff       time.Duration
	maxRetryAfter time.Duration
	lookupDepth   int
	pacing        time.Duration
	pacingSet     bool

	mu       sync.Mutex
	nextCall time.Time // pacing: no call to the API before
	series   map[posagent.PTDocType]seriesCode
	taxes    []Tax
	taxesAt  time.Time
	taxesTTL time.Duration
}

var accountName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// New checks the configuration and returns a client. Errors are KindConfig
// and never repeat the API key.
func New(cfg Config, opts ...Option) (*Client, error) {
	base := cfg.BaseURL
	if base == "" {
		if !accountName.MatchString(cfg.Account) {
			return nil, posagent.Errorf(posagent.KindConfig, "invoicexpress: account %q is not an account name (the first part of {account}.app.invoicexpress.com)", shorten(cfg.Account))
		}
		base = "https://" + cfg.Account + ".app.invoicexpress.com"
	}
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil || u.Host == "" || u.RawQuery != "" || u.User != nil {
		shown := redactQuery(base)
		if k := cfg.APIKey.Reveal(); k != "" {
			shown = strings.ReplaceAll(shown, k, "[redacted]")
		}
		return nil, posagent.Errorf(posagent.KindConfig, "invoicexpress: base URL %q is not a plain URL (no query, no user)", shorten(shown))
	}
	if !endpoint.Allowed(u) {
		return nil, posagent.Errorf(posagent.KindConfig, "invoicexpress: base URL must be https (plain http only for a loopback stand-in)")
	}
	if strings.TrimSpace(cfg.APIKey.Reveal()) == "" {
		return nil, posagent.Errorf(posagent.KindConfig, "invoicexpress: api_key is required (InvoiceXpress → Settings → API)")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	c := &Client{base: u, key: cfg.APIKey, timeout: cfg.Timeout, now: time.Now, sleep: sleepCtx,
		attempts: 3, backoff: 500 * time.Millisecond, maxRetryAfter: 10 * time.Second, lookupDepth: 200,
		pacing: 250 * time.Millisecond, taxesTTL: 10 * time.Minute, series: map[posagent.PTDocType]seriesCode{}}
	for _, o := range opts {
		o(c)
	}
	if !c.pacingSet && endpoint.IsLoopback(u.Hostname()) {
		c.pacing = 0 // a stand-in on this machine: nothing to spare
	}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		c.http = &http.Client{Transport: tr}
	}
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.http = &hc
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.log = c.log.With("provider", "invoicexpress")
	return c, nil
}

// String names the client by its account's URL. fmt does not call the
// Secret's own Format on an unexported field, so without it printing a
// Client would show the key.
func (c *Client) String() string { return "invoicexpress.Client(" + c.base.String() + ")" }

// GoString is String, for %#v.
func (c *Client) GoString() string { return c.String() }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// maxResponse bounds what is read of an answer.
const maxResponse = 8 << 20

// APIError is an answer InvoiceXpress refused, as it said it. It never holds
// the API key (answers do not echo it; Redact is applied all the same).
type APIError struct {
	Op     string // "create invoice_receipts", "finalize invoice_receipts 42", …
	HTTP   int
	Field  string   // the first field the answer names, if any
	Msgs   []string // the answer's messages
	Status string   // HTTP status text when the answer carried no message
}

func (e *APIError) Error() string {
	msg := e.Status
	if len(e.Msgs) > 0 {
		msg = strings.Join(e.Msgs, "; ")
	}
	return fmt.Sprintf("invoicexpress %s: HTTP %d: %s", e.Op, e.HTTP, msg)
}

// apiError returns the *APIError in err's chain, if any.
func apiError(err error) *APIError {
	var e *APIError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// call is one request.
type call struct {
	op     string // for messages and logs
	method string
	path   string // absolute path, e.g. "/invoice_receipts.json"
	query  url.Values
	body   any
	// idempotent calls are retried on transport errors, 5xx and 429.
	idempotent bool
}

// do runs the call (retrying it when idempotent) and returns the answer's body on 2xx.
func (c *Client) do(ctx context.Context, cl call) ([]byte, error) {
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = marshal(cl.body); err != nil {
			return nil, &posagent.Error{Kind: posagent.KindInternal, Message: "invoicexpress " + cl.op + ": encode request", Err: err}
		}
	}
	tries := 1
	if cl.idempotent {
		tries = c.attempts
	}
	wait := c.backoff
	for try := 1; ; try++ {
		raw, err := c.once(ctx, cl, payload)
		if err == nil || try >= tries || ctx.Err() != nil {
			return raw, err
		}
		var e *posagent.Error
		if !errors.As(err, &e) {
			return raw, err
		}
		switch e.Kind {
		case posagent.KindTransient:
			if err := c.sleep(ctx, wait); err != nil {
				return raw, e
			}
			wait *= 2
		case posagent.KindRateLimited:
			if e.RetryAfter > c.maxRetryAfter {
				return raw, err
			}
			if err := c.sleep(ctx, e.RetryAfter); err != nil {
				return raw, e
			}
		default:
			return raw, err
		}
	}
}

// pace waits until the API may be called again.
func (c *Client) pace(ctx context.Context) error {
	if c.pacing <= 0 {
		return nil
	}
	c.mu.Lock()
	now := c.now()
	wait := c.nextCall.Sub(now)
	if wait < 0 {
		c.nextCall = now
	}
	c.nextCall = c.nextCall.Add(c.pacing)
	c.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	return c.sleep(ctx, wait)
}

// once sends the request once.
func (c *Client) once(ctx context.Context, cl call, payload []byte) ([]byte, error) {
	if err := c.pace(ctx); err != nil {
		return nil, transportError(cl.op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + cl.path
	q := url.Values{}
	for k, v := range cl.query {
		q[k] = v
	}
	q.Set("api_key", c.key.Reveal())
	u.RawQuery = q.Encode()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), body)
	if err != nil {
		return nil, &posagent.Error{Kind: posagent.KindConfig, Message: "invoicexpress " + cl.op + ": build request", Err: c.redactErr(err)}
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = c.redactErr(err)
		c.log.LogAttrs(ctx, slog.LevelWarn, "invoicexpress request failed", slog.String("op", cl.op), slog.String("error", err.Error()))
		return nil, transportError(cl.op, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	attrs := []slog.Attr{slog.String("op", cl.op), slog.String("url", c.Redact(u.String())), slog.Int("http", resp.StatusCode), slog.Duration("took", time.Since(start))}
	if err != nil {
		c.log.LogAttrs(ctx, slog.LevelWarn, "invoicexpress answer cut off", attrs...)
		return nil, &posagent.Error{Kind: posagent.KindTransient, Message: "invoicexpress " + cl.op + ": answer cut off", Err: c.redactErr(err)}
	}
	if err := c.statusError(cl.op, resp, raw); err != nil {
		c.log.LogAttrs(ctx, slog.LevelInfo, "invoicexpress refused", append(attrs, slog.String("error", err.Error()))...)
		return nil, err
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "invoicexpress ok", attrs...)
	return raw, nil
}

// marshal is json.Marshal without HTML escaping (item names may hold & < >).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Redact returns s with the API key replaced wherever it appears, and the
// value of every api_key query parameter of a URL in s removed.
func (c *Client) Redact(s string) string {
	if key := c.key.Reveal(); key != "" {
		s = strings.ReplaceAll(s, key, "[redacted]")
		if esc := url.QueryEscape(key); esc != key {
			s = strings.ReplaceAll(s, esc, "[redacted]")
		}
	}
	return redactQuery(s)
}

var apiKeyParam = regexp.MustCompile(`(?i)(api_key=)[^&\s"']*`)

func redactQuery(s string) string { return apiKeyParam.ReplaceAllString(s, "${1}[redacted]") }

// redactErr strips the key from an error: a *url.Error names the URL, query
// string and all, so its URL is rewritten; anything else that still shows the
// key is replaced by its redacted text.
func (c *Client) redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		cp := *ue
		cp.URL = c.Redact(ue.URL)
		if inner := cp.Err; inner != nil && c.Redact(inner.Error()) != inner.Error() {
			cp.Err = redacted{msg: c.Redact(inner.Error()), cause: c.cleanCause(inner)}
		}
		return &cp
	}
	if c.Redact(err.Error()) != err.Error() {
		return redacted{msg: c.Redact(err.Error()), cause: c.cleanCause(err)}
	}
	return err
}

// cleanCause is the first error under err whose text does not show the key.
func (c *Client) cleanCause(err error) error {
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		if c.Redact(e.Error()) == e.Error() {
			return e
		}
	}
	return nil
}

// redacted is an error whose text had the key cut out. It keeps only a cause
// whose own text is clean, so that errors.Is still finds timeouts.
type redacted struct {
	msg   string
	cause error
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.cause }

func transportError(op string, err error) error {
	if errors.Is(err, context.Canceled) {
		return &posagent.Error{Kind: posagent.KindTransient, Message: "invoicexpress " + op + ": cancelled", Err: err}
	}
	return &posagent.Error{Kind: posagent.KindTransient, Message: "invoicexpress " + op + ": no answer", Err: err}
}

// statusError classifies an answer by HTTP status (providers.md §2.5).
func (c *Client) statusError(op string, resp *http.Response, raw []byte) error {
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		return nil
	}
	field, msgs := apiMessages(raw)
	for i := range msgs {
		msgs[i] = c.Redact(msgs[i])
	}
	ae := &APIError{Op: op, HTTP: status, Field: field, Msgs: msgs, Status: http.StatusText(status)}
	switch {
	case status == http.StatusUnauthorized:
		return &posagent.Error{Kind: posagent.KindAuth, Message: "InvoiceXpress refused the API key; check api_key and the account name", Err: ae}
	case status == http.StatusNotFound:
		return &posagent.Error{Kind: posagent.KindNotFound, Err: ae}
	case status == http.StatusNotAcceptable:
		// 406: the document is not in a state that allows this (e.g. already final).
		return &posagent.Error{Kind: posagent.KindConflict, Field: field, Err: ae}
	case status == http.StatusUnprocessableEntity:
		if field == "" {
			field = "document"
		}
		return &posagent.Error{Kind: posagent.KindInvalid, Field: field, Message: "InvoiceXpress refused the document", Err: ae}
	case status == http.StatusTooManyRequests:
		return &posagent.Error{Kind: posagent.KindRateLimited, RetryAfter: retryAfter(resp.Header.Get("Retry-After"), c.now()), Err: ae}
	case status >= 500:
		return &posagent.Error{Kind: posagent.KindTransient, Err: ae}
	case status >= 300 && status < 400:
		return &posagent.Error{Kind: posagent.KindConfig, Message: "InvoiceXpress redirected the call (not followed: it would carry the API key); check the account name and base URL", Err: ae}
	}
	return &posagent.Error{Kind: posagent.KindConfig, Message: "unexpected status; check the account name and base URL", Err: ae}
}

// defaultRetryAfter is the wait after a 429 that names none.
const defaultRetryAfter = 30 * time.Second

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return defaultRetryAfter
	}
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, time.Hour)
	}
	if at, err := http.ParseTime(h); err == nil {
		return min(max(at.Sub(now), 0), time.Hour)
	}
	return defaultRetryAfter
}

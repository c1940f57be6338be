package bridge

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/endpoint"
)

// httpTransport posts documents to URL/{kind}.
type httpTransport struct {
	base    string
	secret  []byte
	client  *http.Client
	timeout time.Duration
	now     func() time.Time
	secrets []string
}

// Retry-After values outside these bounds are clamped: a receiver cannot
// make the agent hammer it, nor park it for a day.
const (
	minRetryAfter = time.Second
	maxRetryAfter = time.Hour
)

func newHTTP(cfg Config, secrets []string) (*httpTransport, error) {
	bad := func(format string, args ...any) (*httpTransport, error) {
		return nil, posagent.Errorf(posagent.KindConfig, "bridge: "+format, args...)
	}
	u, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || u.Host == "" {
		// Never echo the URL: it might hold a password.
		return bad("URL is not an absolute URL such as https://relay.example.com/posagent")
	}
	if u.User != nil {
		return bad("URL must not hold a user or password (the shared secret signs every request)")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("URL must not have a query or fragment: documents go to URL/{kind}")
	}
	if !endpoint.Allowed(u) {
		return bad("URL must be https (plain http only on loopback, for a relay on this machine)")
	}
	if len(cfg.Secret) < MinSecretLen {
		return bad("Secret must be at least %d bytes", MinSecretLen)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		hc = &http.Client{Transport: tr}
	}
	// A redirect would re-send the signed body elsewhere; the receiver's URL
	// is configured, not discovered.
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &httpTransport{base: u.String(), secret: []byte(cfg.Secret), client: &c, timeout: cfg.Timeout,
		now: cfg.Now, secrets: secrets}, nil
}

func (t *httpTransport) describe() string { return "POST " + t.base + "/{kind}" }

func (t *httpTransport) send(ctx context.Context, kind Kind, key string, body []byte) (Answer, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.base+"/"+string(kind), bytes.NewReader(body))
	if err != nil {
		return Answer{}, false, fail(posagent.KindConfig, kind, "build the request: %v", err)
	}
	sent := t.now()
	ts := sent.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(HeaderKey, key)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(t.secret, ts, body))
	resp, err := t.client.Do(req)
	if err != nil {
		// The request may or may not have arrived: the key makes the retry safe.
		return Answer{}, false, &posagent.Error{Kind: posagent.KindTransient,
			Message: fmt.Sprintf("bridge %s: no answer (%s)", kind, transportReason(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer+1))
	if err != nil {
		return Answer{}, false, fail(posagent.KindTransient, kind, "HTTP %d, the answer broke off: %s", resp.StatusCode, transportReason(err))
	}
	return t.classify(kind, resp, data, sent)
}

// transportReason describes a transport failure without the URL (which Go
// puts in *url.Error) and so without anything but the host.
func transportReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return err.Error()
}

// classify maps an HTTP answer onto the contract's outcomes.
func (t *httpTransport) classify(kind Kind, resp *http.Response, data []byte, sent time.Time) (Answer, bool, error) {
	st := resp.StatusCode
	if len(data) > MaxAnswer {
		if st/100 == 2 || st == http.StatusConflict {
			// Done or not, the answer cannot be trusted: asking again with the
			// same key gets a 409 if it was.
			return Answer{}, false, fail(posagent.KindTransient, kind, "HTTP %d with an answer longer than %d bytes", st, MaxAnswer)
		}
		data = data[:MaxAnswer]
	}
	ans, derr := DecodeAnswer(data)
	msg := cleanText(ans.Message, t.secrets)
	if derr != nil {
		msg = "(answer not in the contract's JSON: " + cleanText(string(data[:min(len(data), 200)]), t.secrets) + ")"
	}
	switch {
	case kind == KindStatus && (st == http.StatusNotImplemented || st == http.StatusNotFound):
		// 501 is the contract's "not implemented"; 404 is what a receiver
		// written before the status call answers for an unknown kind.
		return Answer{}, false, unsupported(fmt.Sprintf("the receiver does not implement the status call (HTTP %d)%s", st, quoteMessage(msg)))
	case st/100 == 2 || st == http.StatusConflict:
		if derr != nil {
			return Answer{}, false, fail(posagent.KindTransient, kind, "HTTP %d with a garbled answer: %v", st, derr)
		}
		ans.Message = msg
		return ans, st == http.StatusConflict, nil
	case st == http.StatusUnprocessableEntity || st == http.StatusBadRequest || st == http.StatusRequestEntityTooLarge:
		return Answer{}, false, fail(posagent.KindInvalid, kind, "refused (HTTP %d)%s", st, quoteMessage(msg))
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		if skew, ok := dateSkew(resp, sent); ok && (skew > Window || skew < -Window) {
			return Answer{}, false, &posagent.Error{Kind: posagent.KindClock, Skew: skew, Message: fmt.Sprintf(
				"bridge %s: refused (HTTP %d) and this terminal's clock is %s off the receiver's%s", kind, st, skew.Round(time.Second), quoteMessage(msg))}
		}
		return Answer{}, false, fail(posagent.KindAuth, kind, "the receiver rejected the credentials or signature (HTTP %d)%s; check provider.bridge.secret and the credentials, then posagent reload", st, quoteMessage(msg))
	case st == http.StatusTooManyRequests || (st == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != ""):
		return Answer{}, false, &posagent.Error{Kind: posagent.KindRateLimited, RetryAfter: retryAfter(resp, sent),
			Message: fmt.Sprintf("bridge %s: the receiver asked to wait (HTTP %d)%s", kind, st, quoteMessage(msg))}
	case st == http.StatusTooEarly || st == http.StatusRequestTimeout || st/100 == 5:
		return Answer{}, false, fail(posagent.KindTransient, kind, "HTTP %d%s", st, quoteMessage(msg))
	}
	// 3xx (not followed), 404, 405 and the rest: the URL or the receiver is
	// set up wrong. Pausing keeps every document queued until a person looks.
	return Answer{}, false, fail(posagent.KindConfig, kind, "unexpected HTTP %d from the receiver%s; check provider.bridge.url", st, quoteMessage(msg))
}

// retryAfter reads Retry-After (seconds or an HTTP date), clamped.
func retryAfter(resp *http.Response, sent time.Time) time.Duration {
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	d := time.Minute
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = at.Sub(sent)
	}
	return min(max(d, minRetryAfter), maxRetryAfter)
}

// dateSkew is local clock − the receiver's, from the answer's Date header.
func dateSkew(resp *http.Response, sent time.Time) (time.Duration, bool) {
	at, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return 0, false
	}
	return sent.Sub(at), true
}

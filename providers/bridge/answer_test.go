package bridge_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/bridge"
	"github.com/posagent/posagent/providers/bridge/bridgetest"
)

// scripted is a receiver that answers whatever the test says and records
// the last request.
type scripted struct {
	mu     sync.Mutex
	status int
	header http.Header
	body   string
	got    *http.Request
	gotB   []byte
}

func newScripted(t *testing.T) (*scripted, *httptest.Server) {
	s := &scripted{status: 200, header: http.Header{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.got, s.gotB = r, b
		for k, v := range s.header {
			w.Header()[k] = v
		}
		w.WriteHeader(s.status)
		io.WriteString(w, s.body)
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *scripted) set(status int, body string, header ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body, s.header = status, body, http.Header{}
	for i := 0; i+1 < len(header); i += 2 {
		s.header.Set(header[i], header[i+1])
	}
}

func TestHTTPAnswers(t *testing.T) {
	s, srv := newScripted(t)
	now := time.Now()
	c, err := bridge.New(bridge.Config{Transport: bridge.TransportHTTP, URL: srv.URL + "/relay/", Secret: bridgetest.DemoSecret,
		SellerTaxID: testSeller, MachineID: "POS01", Texts: texts, Timeout: 5 * time.Second,
		Credentials: map[string]string{"pid": credPID}, NumberedAllowances: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := bridge.Open(bridge.Config{Transport: bridge.TransportHTTP, URL: srv.URL + "/relay/", Secret: bridgetest.DemoSecret,
		SellerTaxID: testSeller, MachineID: "POS01", Texts: texts, Timeout: 5 * time.Second, NumberedAllowances: true})
	if err != nil {
		t.Fatal(err)
	}
	ai := p.(posagent.AllowanceIssuer)
	e := &env{t: t, used: 0}
	inv := e.sale("H1")
	httpDate := func(d time.Duration) string { return now.Add(d).UTC().Format(http.TimeFormat) }
	tests := []struct {
		name    string
		status  int
		body    string
		header  []string
		want    posagent.Kind
		retry   time.Duration
		message string // a fragment the error must keep
	}{
		{"200 empty", 200, "", nil, "", 0, ""},
		{"201 with message", 201, `{"message":"stored"}`, nil, "", 0, ""},
		{"204", 204, "", nil, "", 0, ""},
		{"409 adopt", 409, `{"message":"already there"}`, nil, "", 0, ""},
		{"200 garbage", 200, "<html>ok</html>", nil, posagent.KindTransient, 0, "garbled"},
		{"200 unknown field", 200, `{"status":"ok"}`, nil, posagent.KindTransient, 0, "garbled"},
		{"200 two objects", 200, `{}{}`, nil, posagent.KindTransient, 0, "garbled"},
		{"200 huge", 200, `{"message":"` + strings.Repeat("x", bridge.MaxAnswer) + `"}`, nil, posagent.KindTransient, 0, "longer than"},
		{"200 bad provider number", 200, `{"provider_number":"a b"}`, nil, posagent.KindTransient, 0, "provider_number"},
		{"422 refused", 422, `{"message":"buyer tax id unknown to Wixtar"}`, nil, posagent.KindInvalid, 0, "buyer tax id unknown to Wixtar"},
		{"422 without JSON", 422, `upstream said no`, nil, posagent.KindInvalid, 0, "upstream said no"},
		{"400", 400, ``, nil, posagent.KindInvalid, 0, "HTTP 400"},
		{"413", 413, ``, nil, posagent.KindInvalid, 0, "HTTP 413"},
		{"401", 401, `{"message":"bad signature"}`, nil, posagent.KindAuth, 0, "bad signature"},
		{"403", 403, ``, nil, posagent.KindAuth, 0, "provider.bridge.secret"},
		{"401 clock", 401, ``, []string{"Date", httpDate(10 * time.Minute)}, posagent.KindClock, 0, "clock"},
		{"401 small skew", 401, ``, []string{"Date", httpDate(time.Minute)}, posagent.KindAuth, 0, ""},
		{"429 seconds", 429, ``, []string{"Retry-After", "30"}, posagent.KindRateLimited, 30 * time.Second, ""},
		{"429 no header", 429, ``, nil, posagent.KindRateLimited, time.Minute, ""},
		{"429 huge", 429, ``, []string{"Retry-After", "999999"}, posagent.KindRateLimited, time.Hour, ""},
		{"429 zero", 429, ``, []string{"Retry-After", "0"}, posagent.KindRateLimited, time.Second, ""},
		{"503 with Retry-After", 503, ``, []string{"Retry-After", "5"}, posagent.KindRateLimited, 5 * time.Second, ""},
		{"503", 503, ``, nil, posagent.KindTransient, 0, "HTTP 503"},
		{"500", 500, `{"message":"db down"}`, nil, posagent.KindTransient, 0, "db down"},
		{"502 html", 502, `<html>bad gateway</html>`, nil, posagent.KindTransient, 0, "HTTP 502"},
		{"425 too early", 425, `{"message":"invoice not here yet"}`, nil, posagent.KindTransient, 0, "not here yet"},
		{"408", 408, ``, nil, posagent.KindTransient, 0, ""},
		{"404", 404, ``, nil, posagent.KindConfig, 0, "provider.bridge.url"},
		{"405", 405, ``, nil, posagent.KindConfig, 0, ""},
		{"302 not followed", 302, ``, []string{"Location", "http://example.com/"}, posagent.KindConfig, 0, "HTTP 302"},
		{"message with a secret", 422, `{"message":"rid ` + credPID + ` refused"}`, nil, posagent.KindInvalid, 0, "[redacted]"},
		{"long message cut", 422, `{"message":"` + strings.Repeat("長", 2000) + `"}`, nil, posagent.KindInvalid, 0, "bytes more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.set(tt.status, tt.body, tt.header...)
			err := c.Upload(t.Context(), inv)
			e.t = t
			e.checkErr(err, tt.want)
			if tt.retry > 0 {
				var pe *posagent.Error
				if !errors.As(err, &pe) || pe.RetryAfter != tt.retry {
					t.Fatalf("RetryAfter = %v, want %v", pe.RetryAfter, tt.retry)
				}
			}
			if err != nil && !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("error %q does not keep %q", err, tt.message)
			}
			if err != nil && len(err.Error()) > bridge.MaxMessage+300 {
				t.Fatalf("error is %d bytes long", len(err.Error()))
			}
		})
	}
	// The request: path, headers, signature over exactly the body sent.
	s.set(200, `{"provider_number":"W-2026-0001"}`)
	n, err := ai.AllowNumbered(t.Context(), inv, allowanceOf(inv, "A-1"))
	if err != nil || n != "W-2026-0001" {
		t.Fatalf("AllowNumbered = %q, %v", n, err)
	}
	s.mu.Lock()
	r, body := s.got, s.gotB
	s.mu.Unlock()
	if r.URL.Path != "/relay/allowance" || r.Method != "POST" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	wantKey := "allowance:" + testSeller + ":" + inv.Period().Code() + ":" + string(inv.Number) + ":A-1"
	if r.Header.Get(bridge.HeaderKey) != wantKey {
		t.Fatalf("key %q, want %q", r.Header.Get(bridge.HeaderKey), wantKey)
	}
	ts := r.Header.Get(bridge.HeaderTimestamp)
	var sec int64
	for _, ch := range ts {
		sec = sec*10 + int64(ch-'0')
	}
	if d := time.Since(time.Unix(sec, 0)); d < 0 || d > 10*time.Second {
		t.Fatalf("timestamp %s is not now", ts)
	}
	if !bridge.Verify([]byte(bridgetest.DemoSecret), sec, body, r.Header.Get(bridge.HeaderSignature)) {
		t.Fatal("the signature does not verify")
	}
	if bridge.Verify([]byte(bridgetest.DemoSecret), sec+1, body, r.Header.Get(bridge.HeaderSignature)) {
		t.Fatal("the signature does not cover the timestamp")
	}
	for _, want := range []string{`"kind":"allowance"`, `"mof":{"number":"` + string(inv.Number), `"qr_left":"` + string(inv.Number),
		`"allowance":{"number":"A-1"`, `"issued_at":"` + inv.IssuedAt.In(posagent.Taipei).Format(time.RFC3339)} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("body lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), "credentials") {
		t.Fatal("credentials sent although none are configured")
	}
}

// TestDocumentIsStable: every attempt at a document sends the same bytes,
// whatever time zone the invoice was read in, so a receiver may compare a
// repeated key's content.
func TestDocumentIsStable(t *testing.T) {
	s, srv := newScripted(t)
	c, err := bridge.New(bridge.Config{Transport: bridge.TransportHTTP, URL: srv.URL, Secret: bridgetest.DemoSecret,
		SellerTaxID: testSeller, MachineID: "POS01", Texts: texts})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t}
	inv := e.sale("S1")
	var bodies []string
	for _, loc := range []*time.Location{time.UTC, posagent.Taipei, time.FixedZone("X", -5*3600)} {
		v := inv
		v.IssuedAt = inv.IssuedAt.In(loc)
		if err := c.Upload(t.Context(), v); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		bodies = append(bodies, string(s.gotB))
		s.mu.Unlock()
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Fatalf("bodies differ:\n%s\n%s\n%s", bodies[0], bodies[1], bodies[2])
	}
}

// The worked example of the README's signature section. The test proves the
// README's numbers are what the client sends.
const (
	exampleTimestamp = 1781654751
	exampleBody      = `{"version":1,"kind":"blank","key":"blank:24634102:POS01:11506:24bc461a37e317b0","seller_tax_id":"24634102","machine_id":"POS01","blank":{"period":"11506","ranges":[{"track":"AB","first":12345610,"last":12345649}]}}`
	exampleSignature = "sha256=5ffb46028c430d40d59db9b417068a2436a7953141490c944bdeffb973c6fd2b"
)

func TestWorkedExample(t *testing.T) {
	s, srv := newScripted(t)
	c, err := bridge.New(bridge.Config{Transport: bridge.TransportHTTP, URL: srv.URL, Secret: bridgetest.DemoSecret,
		SellerTaxID: testSeller, MachineID: "POS01", Texts: texts, Now: func() time.Time { return time.Unix(exampleTimestamp, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	p, err := posagent.ParsePeriod("11506")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ReportBlank(t.Context(), p, []posagent.Booklet{{Track: "AB", First: 12345610, Last: 12345649, Period: p}}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	body, sig, ts := string(s.gotB), s.got.Header.Get(bridge.HeaderSignature), s.got.Header.Get(bridge.HeaderTimestamp)
	s.mu.Unlock()
	if body != exampleBody || ts != "1781654751" || sig != exampleSignature {
		t.Fatalf("worked example changed:\nbody %s\nts   %s\nsig  %s", body, ts, sig)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{exampleBody, strings.TrimPrefix(exampleSignature, "sha256="), bridgetest.DemoSecret} {
		if !strings.Contains(string(readme), want) {
			t.Fatalf("the README's worked example lacks %s", want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	base := func() bridge.Config {
		return bridge.Config{Transport: bridge.TransportHTTP, URL: "https://relay.example.com/posagent", Secret: bridgetest.DemoSecret,
			SellerTaxID: testSeller, MachineID: "POS01", Texts: texts}
	}
	tests := []struct {
		name string
		edit func(*bridge.Config)
		want string
	}{
		{"transport", func(c *bridge.Config) { c.Transport = "smtp" }, "Transport"},
		{"seller", func(c *bridge.Config) { c.SellerTaxID = "12345678" }, "SellerTaxID"},
		{"machine", func(c *bridge.Config) { c.MachineID = "POS 1" }, "MachineID"},
		{"texts", func(c *bridge.Config) { c.Texts = nil }, "Texts"},
		{"credential name", func(c *bridge.Config) { c.Credentials = map[string]string{"Bad-Name": "x"} }, "credential name"},
		{"url", func(c *bridge.Config) { c.URL = "relay" }, "URL"},
		{"plain http", func(c *bridge.Config) { c.URL = "http://relay.example.com/" }, "https"},
		{"userinfo", func(c *bridge.Config) { c.URL = "https://u:" + credPID + "@relay.example.com/" }, "password"},
		{"query", func(c *bridge.Config) { c.URL = "https://relay.example.com/?token=" + credPID }, "query"},
		{"short secret", func(c *bridge.Config) { c.Secret = "short" }, "Secret"},
		{"no command", func(c *bridge.Config) { c.Transport = bridge.TransportExec }, "Command"},
		{"relative command", func(c *bridge.Config) { c.Transport, c.Command = bridge.TransportExec, []string{"relay"} }, "absolute"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base()
			tt.edit(&cfg)
			_, err := bridge.New(cfg)
			if posagent.ErrorKind(err) != posagent.KindConfig || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want a config error about %s", err, tt.want)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error %q contains a secret", err)
				}
			}
		})
	}
	if _, err := bridge.New(bridge.Config{Transport: bridge.TransportHTTP, URL: "http://127.0.0.1:9/x", Secret: bridgetest.DemoSecret,
		SellerTaxID: testSeller, MachineID: "POS01", Texts: texts}); err != nil {
		t.Fatalf("plain http on loopback: %v", err)
	}
}

// TestBadDocuments: what cannot be a document is refused before anything is sent.
func TestBadDocuments(t *testing.T) {
	e := newEnv(t, bridge.TransportHTTP)
	inv := e.sale("B1")
	other := inv
	other.Seller.TaxID = "04595257"
	tests := []struct {
		name  string
		err   error
		field string
	}{
		{"unnumbered", e.c.Upload(e.ctx, sampleSale("B2")), "number"},
		{"other seller", e.c.Upload(e.ctx, other), "seller.tax_id"},
		{"void of another invoice", e.c.Void(e.ctx, inv, posagent.Void{Number: "AB99999999", VoidedAt: time.Now(), Reason: "x"}), "void.number"},
		{"void without time", e.c.Void(e.ctx, inv, posagent.Void{Number: inv.Number, Reason: "x"}), "voided_at"},
		{"allowance of another invoice", e.c.Allow(e.ctx, inv, func() posagent.Allowance {
			a := allowanceOf(inv, "A1")
			a.InvoiceNumber = "AB99999999"
			return a
		}()), "allowance.invoice_number"},
		{"blank without ranges", e.c.ReportBlank(e.ctx, period(), nil), "blank"},
	}
	for _, tt := range tests {
		if posagent.ErrorKind(tt.err) != posagent.KindInvalid || (tt.field != "" && posagent.ErrorField(tt.err) != tt.field) {
			t.Errorf("%s: %v (field %q), want invalid %q", tt.name, tt.err, posagent.ErrorField(tt.err), tt.field)
		}
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("%d requests reached the receiver", n)
	}
}

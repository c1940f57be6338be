// Package console is the operator console: server-rendered pages in the
// browser for the shop owner and the POS vendor's support staff, served by
// the agent on the API's address under /. It shows what `posagent status`,
// `posagent jobs` and `posagent booklets` show, and takes the same actions as
// the HTTP API through the same agent methods: there is no second path to
// the store.
//
// Pages work without JavaScript: forms post, actions ask to confirm on a page
// of their own, the overview refreshes itself with a meta refresh. Traditional
// Chinese is the default language, English a switch away.
//
// Sign-in is with the API token or the console password from the config. A
// session is a random id in an HttpOnly, SameSite=Strict cookie, kept in
// memory (a restart signs everyone out) and ended after the configured time
// without a request. Every form carries the session's CSRF token; the
// sign-in form carries one of its own, bound to a cookie.
package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names.
const (
	sessionCookie = "posagent_session"
	loginCookie   = "posagent_login"
	langCookie    = "posagent_lang"
)

// maxSessions bounds the sessions kept in memory: a till has a handful of
// operators; past this the least recently used is signed out.
const maxSessions = 64

// Sign-in failures: after maxFailures wrong secrets within failureWindow,
// sign-in is refused until the window has passed since the first of them.
const (
	maxFailures   = 10
	failureWindow = 5 * time.Minute
)

// Options are what the console is built from.
type Options struct {
	Agent *agent.Agent
	// Token is api.token; Password is console.password (may be empty).
	Token    config.Secret
	Password config.Secret
	// SessionTimeout signs a browser out after this long without a request.
	SessionTimeout time.Duration
	// PaperWidth is the printer's width in dots (the profile's), for the
	// proof picture.
	PaperWidth int
	// Refresh is how often the overview reloads itself; 0 is 10 s.
	Refresh time.Duration
	Logger  *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Console serves the pages; it is an http.Handler.
type Console struct {
	a       *agent.Agent
	token   [32]byte
	pass    [32]byte
	hasPass bool
	timeout time.Duration
	width   int
	refresh time.Duration
	log     *slog.Logger
	now     func() time.Time
	pages   map[string]*template.Template
	mux     *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*session
	failures []time.Time
}

type session struct {
	csrf     string
	lastSeen time.Time
	flash    string
}

// New builds the console.
func New(opt Options) (*Console, error) {
	switch {
	case opt.Agent == nil:
		return nil, errors.New("console: an agent is required")
	case len(opt.Token.Reveal()) < 16:
		return nil, errors.New("console: api.token must be set: it signs in to the console")
	case opt.SessionTimeout <= 0:
		return nil, errors.New("console: a session timeout is required")
	}
	c := &Console{
		a: opt.Agent, token: sha256.Sum256([]byte(opt.Token.Reveal())), timeout: opt.SessionTimeout,
		width: opt.PaperWidth, refresh: opt.Refresh, log: opt.Logger, now: opt.Now, sessions: map[string]*session{},
	}
	if !opt.Password.IsZero() {
		c.pass, c.hasPass = sha256.Sum256([]byte(opt.Password.Reveal())), true
	}
	if c.width <= 0 {
		c.width = 384
	}
	if c.refresh <= 0 {
		c.refresh = 10 * time.Second
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	var err error
	if c.pages, err = parsePages(); err != nil {
		return nil, err
	}
	c.mux = c.routes()
	return c, nil
}

func (c *Console) routes() *http.ServeMux {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	// Browsers ask for /favicon.ico on their own; the pages name the icon.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/icon.svg", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("GET /lang/{lang}", c.switchLang)
	in := func(pattern string, h func(http.ResponseWriter, *http.Request, *request)) {
		mux.Handle(pattern, c.signedIn(h))
	}
	in("POST /logout", c.logout)
	in("GET /{$}", c.overview)
	in("POST /demo/provider/{state}", c.demoProvider)
	in("GET /invoices", c.invoices)
	in("GET /invoices/{number}", c.invoice)
	in("GET /invoices/{number}/proof.png", c.proof)
	in("POST /invoices/{number}/reprint", c.reprint)
	in("POST /invoices/{number}/void", c.void)
	in("POST /invoices/{number}/allowance", c.allowance)
	in("POST /invoices/{number}/allowances/{allowance}/void", c.voidAllowance)
	in("GET /jobs", c.jobs)
	in("POST /jobs/{id}/revive", c.revive)
	in("POST /jobs/{id}/resolve", c.resolve)
	in("POST /provider/resume", c.resumeProvider)
	in("POST /config/reload", c.reloadConfig)
	in("GET /booklets", c.booklets)
	in("POST /booklets", c.addBooklet)
	in("GET /summary", c.summary)
	in("GET /summary.csv", c.summaryCSV)
	in("GET /reconcile", c.reconcilePage)
	in("POST /reconcile", c.reconcileNow)
	in("GET /reconcile/{file}", c.reconcileCSV)
	in("/", func(w http.ResponseWriter, r *http.Request, req *request) {
		c.fail(w, r, req, http.StatusNotFound, req.T("err.notfound"))
	})
	return mux
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the console with the headers every answer carries.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No script runs but our own file, nothing is framed (clickjacking on the
	// action buttons), no page is cached (they show invoices).
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/static/") {
		h.Set("Cache-Control", "no-store")
	}
	c.mux.ServeHTTP(w, r)
}

// request is what a signed-in handler knows about its request.
type request struct {
	lang string
	sid  string
	csrf string
	// flash is the message left by the last action, shown once.
	flash string
	// here is the page asked for, for the language switch to come back to.
	here string
}

// T translates a message key into the request's language.
func (q *request) T(key string) string { return tr(q.lang, key) }

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("console: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// newRequest starts what a handler knows: the language, and where the
// language switch comes back to (a GET's own page, else the overview).
func newRequest(r *http.Request) *request {
	q := &request{lang: langOf(r), here: "/"}
	if r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/login") {
		q.here = r.URL.RequestURI()
	}
	return q
}

func langOf(r *http.Request) string {
	if ck, err := r.Cookie(langCookie); err == nil && ck.Value == "en" {
		return "en"
	}
	return "zh"
}

// signedIn runs h for a request with a live session and, for a POST, the
// session's CSRF token; anything else goes to the sign-in page.
func (c *Console) signedIn(h func(http.ResponseWriter, *http.Request, *request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := newRequest(r)
		ck, err := r.Cookie(sessionCookie)
		var s *session
		if err == nil {
			// The overview's own reloads (?auto=1) do not keep a session
			// alive: a tablet left on it still signs out after the timeout.
			s = c.touch(ck.Value, r.Method != http.MethodGet || r.URL.Query().Get("auto") != "1")
		}
		if s == nil {
			expired := err == nil // a cookie, but no session behind it
			if r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, ".png") {
				to := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
				if expired {
					to += "&expired=1"
				}
				http.Redirect(w, r, to, http.StatusSeeOther)
				return
			}
			c.fail(w, r, req, http.StatusUnauthorized, req.T("err.signin"))
			return
		}
		req.sid = ck.Value
		c.mu.Lock()
		req.csrf, req.flash, s.flash = s.csrf, s.flash, ""
		c.mu.Unlock()
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if !sameOrigin(r) || !equalToken(r.PostFormValue("csrf"), req.csrf) {
				c.log.Warn("console: form refused: CSRF token missing or wrong", "path", r.URL.Path)
				c.fail(w, r, req, http.StatusForbidden, req.T("err.csrf"))
				return
			}
		}
		h(w, r, req)
	})
}

// sameOrigin refuses a form posted from another site when the browser says
// where it came from (Origin); the CSRF token is the check that always runs.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func equalToken(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// touch returns the live session of id, moving its expiry on when a person
// asked (active); an expired one is removed.
func (c *Console) touch(id string, active bool) *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sessions[id]
	if s == nil {
		return nil
	}
	now := c.now()
	if now.Sub(s.lastSeen) >= c.timeout {
		delete(c.sessions, id)
		return nil
	}
	if active {
		s.lastSeen = now
	}
	return s
}

func (c *Console) setFlash(sid, msg string) {
	c.mu.Lock()
	if s := c.sessions[sid]; s != nil {
		s.flash = msg
	}
	c.mu.Unlock()
}

// newSession starts a session, signing out the least recently used one when
// there are too many, and the expired ones.
func (c *Console) newSession() (id string, s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	var oldest string
	for k, v := range c.sessions {
		if now.Sub(v.lastSeen) >= c.timeout {
			delete(c.sessions, k)
			continue
		}
		if oldest == "" || v.lastSeen.Before(c.sessions[oldest].lastSeen) {
			oldest = k
		}
	}
	if len(c.sessions) >= maxSessions {
		delete(c.sessions, oldest)
	}
	id, s = randomToken(), &session{csrf: randomToken(), lastSeen: now}
	c.sessions[id] = s
	return id, s
}

// checkSecret says whether the secret is the API token or the console
// password. Both sides are hashed first, so the comparison takes the same
// time whatever the guess.
func (c *Console) checkSecret(secret string) bool {
	got := sha256.Sum256([]byte(secret))
	ok := subtle.ConstantTimeCompare(got[:], c.token[:]) == 1
	if c.hasPass {
		ok = subtle.ConstantTimeCompare(got[:], c.pass[:]) == 1 || ok
	}
	return ok && secret != ""
}

// throttled says whether sign-in is refused for too many recent failures.
func (c *Console) throttled() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	kept := c.failures[:0]
	for _, t := range c.failures {
		if now.Sub(t) < failureWindow {
			kept = append(kept, t)
		}
	}
	c.failures = kept
	return len(c.failures) >= maxFailures
}

func (c *Console) failed() {
	c.mu.Lock()
	c.failures = append(c.failures, c.now())
	c.mu.Unlock()
}

func (c *Console) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil}
}

// safeNext keeps a redirect after sign-in on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(next, "/login") {
		return "/"
	}
	return next
}

type loginView struct {
	Next, Message string
	Expired       bool
	HasPassword   bool
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	req := newRequest(r)
	if ck, err := r.Cookie(sessionCookie); err == nil && c.touch(ck.Value, false) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	c.showLogin(w, r, req, http.StatusOK, loginView{Next: safeNext(r.URL.Query().Get("next")),
		Expired: r.URL.Query().Get("expired") == "1"})
}

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, req *request, status int, v loginView) {
	// The sign-in form's CSRF token is bound to a cookie of its own: a form
	// posted from elsewhere cannot sign this browser in to someone's session.
	// A token already in this browser is kept: another tab's sign-in page
	// (or a request the browser makes on its own) must not spoil this one's.
	if ck, err := r.Cookie(loginCookie); err == nil && len(ck.Value) == 43 {
		req.csrf = ck.Value
	} else {
		req.csrf = randomToken()
	}
	http.SetCookie(w, c.cookie(r, loginCookie, req.csrf, 3600))
	v.HasPassword = c.hasPass
	c.render(w, req, status, "login", "", v)
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	req := newRequest(r)
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	next := safeNext(r.PostFormValue("next"))
	ck, err := r.Cookie(loginCookie)
	if err != nil || !sameOrigin(r) || !equalToken(r.PostFormValue("csrf"), ck.Value) {
		c.log.Warn("console: sign-in form refused: CSRF token missing or wrong")
		c.showLogin(w, r, req, http.StatusForbidden, loginView{Next: next, Message: req.T("err.csrf")})
		return
	}
	if c.throttled() {
		c.log.Warn("console: sign-in refused: too many wrong secrets")
		c.showLogin(w, r, req, http.StatusTooManyRequests, loginView{Next: next, Message: req.T("login.throttled")})
		return
	}
	if !c.checkSecret(r.PostFormValue("secret")) {
		c.failed()
		// The guess is never logged: it may be a real secret typed in the wrong place.
		c.log.Warn("console: sign-in with a wrong token or password", "remote", r.RemoteAddr)
		c.showLogin(w, r, req, http.StatusUnauthorized, loginView{Next: next, Message: req.T("login.wrong")})
		return
	}
	id, _ := c.newSession()
	c.log.Info("console: signed in", "remote", r.RemoteAddr)
	http.SetCookie(w, c.cookie(r, loginCookie, "", -1))
	// The cookie lives for the browser session; the server ends it sooner.
	http.SetCookie(w, c.cookie(r, sessionCookie, id, 0))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, req *request) {
	c.mu.Lock()
	delete(c.sessions, req.sid)
	c.mu.Unlock()
	http.SetCookie(w, c.cookie(r, sessionCookie, "", -1))
	c.log.Info("console: signed out", "remote", r.RemoteAddr)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// switchLang sets the language cookie and goes back. A GET is fine: it
// changes nothing but the words on the page.
func (c *Console) switchLang(w http.ResponseWriter, r *http.Request) {
	lang := r.PathValue("lang")
	if lang != "en" && lang != "zh" {
		lang = "zh"
	}
	ck := c.cookie(r, langCookie, lang, 365*24*3600)
	http.SetCookie(w, ck)
	http.Redirect(w, r, safeNext(r.URL.Query().Get("back")), http.StatusSeeOther)
}

// fail shows an error page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, req *request, status int, msg string) {
	c.render(w, req, status, "error", "", errorView{Message: msg, Back: r.Referer()})
}

type errorView struct{ Message, Back string }

// failErr shows an agent error: its kind picks the status, its message (in
// English, as the API gives it) follows the translated heading. Internal
// errors are logged and shown without their text.
func (c *Console) failErr(w http.ResponseWriter, r *http.Request, req *request, err error) {
	status, msg := errorStatus(err)
	if status == http.StatusInternalServerError {
		c.log.Error("console request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = req.T("err.internal")
	}
	c.fail(w, r, req, status, msg)
}

func (c *Console) render(w http.ResponseWriter, req *request, status int, name, nav string, data any) {
	t := c.pages[name]
	v := &view{req: req, Nav: nav, Data: data, Terminal: c.a.Terminal()}
	switch iv, ok := data.(invoiceView); {
	case name == "overview":
		v.Refresh = int(c.refresh.Seconds())
	case ok && (iv.R.Print.State == "pending" || iv.R.Print.State == "printing") && iv.R.Void == nil:
		// A proof on its way to the printer (printed in the background, or
		// waiting for paper): the page follows it until it is on paper.
		v.Refresh, v.RefreshURL = 2, "/invoices/"+iv.Number
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", v); err != nil {
		c.log.Error("console: render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprint(w, b.String())
}

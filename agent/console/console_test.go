package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/providers/fake"
)

func mustContain(t *testing.T, a answer, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(a.body, p) {
			t.Fatalf("page (%d) lacks %q:\n%s", a.status, p, a.body)
		}
	}
}

func wantStatus(t *testing.T, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d:\n%s", a.status, status, a.body)
	}
}

// Nothing but the sign-in page and static assets is served without a
// session; the token and the console password both sign in; a wrong one
// does not; the session cookie is HttpOnly and SameSite=Strict.
func TestSignIn(t *testing.T) {
	r := newRig(t)
	for _, path := range []string{"/", "/invoices", "/jobs", "/booklets", "/summary", "/summary.csv", "/invoices/ZZ00000000"} {
		a := r.get(path)
		if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s without a session: %d %q, want a redirect to /login", path, a.status, a.header.Get("Location"))
		}
	}
	wantStatus(t, r.get("/invoices/ZZ00000000/proof.png"), http.StatusUnauthorized)
	wantStatus(t, r.do(r.client, http.MethodPost, "/jobs/1/revive", url.Values{"confirm": {"yes"}}), http.StatusUnauthorized)
	css := r.get("/static/style.css")
	wantStatus(t, css, http.StatusOK)
	if !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Fatalf("style.css is %s", css.header.Get("Content-Type"))
	}

	cases := []struct {
		name   string
		secret string
		status int
		shows  string
	}{
		{"wrong password", "not-the-password", http.StatusUnauthorized, "密碼或權杖錯誤"},
		{"empty", "", http.StatusUnauthorized, "密碼或權杖錯誤"},
		{"token with a space", testToken + " ", http.StatusUnauthorized, "密碼或權杖錯誤"},
		{"api token", testToken, http.StatusSeeOther, ""},
		{"console password", testPassword, http.StatusSeeOther, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := r.newClient()
			a := r.tryLogin(c, tc.secret)
			wantStatus(t, a, tc.status)
			if tc.shows != "" {
				mustContain(t, a, tc.shows)
				if strings.Contains(a.body, tc.secret) && tc.secret != "" {
					t.Fatal("the sign-in page echoes the secret tried")
				}
				wantStatus(t, r.do(c, http.MethodGet, "/", nil), http.StatusSeeOther)
				return
			}
			var session *http.Cookie
			for _, ck := range (&http.Response{Header: a.header}).Cookies() {
				if ck.Name == "posagent_session" {
					session = ck
				}
			}
			if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" {
				t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", session)
			}
			if strings.Contains(session.Value, tc.secret) {
				t.Fatal("the session cookie carries the secret")
			}
			home := r.do(c, http.MethodGet, "/", nil)
			wantStatus(t, home, http.StatusOK)
			mustContain(t, home, "總覽", "測試咖啡")
		})
	}
}

// After the session timeout without a request, pages send the browser to
// sign in again and forms are refused; a request before it keeps it alive.
func TestSessionExpiry(t *testing.T) {
	r := newRig(t)
	r.signIn(r.client, testToken)
	page := r.get("/jobs")
	wantStatus(t, page, http.StatusOK)
	csrf := csrfOf(t, page.body)
	r.clock.Add(2*time.Hour - time.Minute)
	wantStatus(t, r.get("/"), http.StatusOK) // activity moves the expiry on
	r.clock.Add(2*time.Hour - time.Minute)
	wantStatus(t, r.get("/"), http.StatusOK)
	r.clock.Add(2 * time.Hour)
	a := r.get("/jobs")
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/login?next=%2Fjobs&expired=1" {
		t.Fatalf("expired session: %d %q", a.status, a.header.Get("Location"))
	}
	login := r.get("/login?next=%2Fjobs&expired=1")
	mustContain(t, login, "閒置太久")

	// The overview's own reloads do not keep the session alive.
	r.signIn(r.client, testToken)
	mustContain(t, r.get("/"), `content="1; url=/?auto=1"`)
	for range 2 {
		r.clock.Add(50 * time.Minute)
		wantStatus(t, r.get("/?auto=1"), http.StatusOK)
	}
	r.clock.Add(50 * time.Minute) // 2.5 h after the last click
	a = r.get("/?auto=1")
	if a.status != http.StatusSeeOther || !strings.Contains(a.header.Get("Location"), "expired=1") {
		t.Fatalf("reloads alone kept the session: %d %q", a.status, a.header.Get("Location"))
	}
	mustContain(t, login, "閒置太久")
	wantStatus(t, r.do(r.client, http.MethodPost, "/jobs/1/revive", url.Values{"csrf": {csrf}, "confirm": {"yes"}}), http.StatusUnauthorized)
}

// Signing out ends the session on the server, not only in the browser.
func TestSignOut(t *testing.T) {
	r := newRig(t)
	r.signIn(r.client, testToken)
	var sid string
	u, _ := url.Parse(r.base)
	for _, ck := range r.client.Jar.Cookies(u) {
		if ck.Name == "posagent_session" {
			sid = ck.Value
		}
	}
	a := r.post("/logout", nil)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/login" {
		t.Fatalf("sign out: %d %q", a.status, a.header.Get("Location"))
	}
	// The old cookie, replayed, opens nothing.
	c := r.newClient()
	c.Jar.SetCookies(u, []*http.Cookie{{Name: "posagent_session", Value: sid, Path: "/"}})
	wantStatus(t, r.do(c, http.MethodGet, "/", nil), http.StatusSeeOther)
}

// Every form is refused without the session's CSRF token, with another
// session's, or posted from another origin, and nothing changes.
func TestCSRFRefused(t *testing.T) {
	r := newRig(t)
	r.prov.FailNext(fake.Upload, 1, posagent.KindInvalid)
	dead := r.sell("csrf-dead", 100)
	inv := r.sell("csrf-1", 200)
	waitFor(t, "the dead job", func() bool { jobs, _ := r.agent.Jobs(context.Background(), agent.StateDead, 10); return len(jobs) == 1 })
	jobs, _ := r.agent.Jobs(context.Background(), agent.StateDead, 10)
	id := jobs[0].ID
	r.signIn(r.client, testToken)
	other := r.newClient()
	r.signIn(other, testPassword)
	otherCSRF := csrfOf(t, r.do(other, http.MethodGet, "/", nil).body)
	mine := csrfOf(t, r.get("/").body)
	n := string(inv.Number)
	forms := []struct {
		path string
		form url.Values
	}{
		{"/invoices/" + n + "/reprint", url.Values{}},
		{"/invoices/" + n + "/void", url.Values{"reason": {"打錯"}}},
		{"/invoices/" + n + "/allowance", url.Values{"item": {"退一杯"}, "amount": {"50"}}},
		{"/invoices/" + n + "/allowances/" + n + "-01/void", url.Values{"reason": {"打錯"}}},
		{"/jobs/" + itoa(id) + "/revive", url.Values{}},
		{"/jobs/" + itoa(id) + "/resolve", url.Values{"note": {"done"}}},
		{"/booklets", url.Values{"range": {"AB12345600-AB12345649"}}},
		{"/provider/resume", url.Values{}},
		{"/config/reload", url.Values{}},
		{"/logout", url.Values{}},
	}
	printed := r.printer.count()
	for _, f := range forms {
		for _, variant := range []struct {
			name, csrf, origin string
		}{
			{"no token", "", ""},
			{"another session's token", otherCSRF, ""},
			{"forged token", mine[:len(mine)-2] + "xx", ""},
			{"other origin", mine, "http://evil.example"},
		} {
			form := url.Values{"confirm": {"yes"}}
			for k, v := range f.form {
				form[k] = v
			}
			if variant.csrf != "" {
				form.Set("csrf", variant.csrf)
			}
			var hdr []string
			if variant.origin != "" {
				hdr = []string{"Origin", variant.origin}
			}
			a := r.do(r.client, http.MethodPost, f.path, form, hdr...)
			if a.status != http.StatusForbidden || !strings.Contains(a.body, "表單已過期") {
				t.Errorf("POST %s with %s: %d, want 403", f.path, variant.name, a.status)
			}
		}
	}
	rec, err := r.agent.Invoice(context.Background(), inv.Number)
	if err != nil || rec.Void != nil || len(rec.Allowances) != 0 {
		t.Fatalf("a refused form changed the invoice: %+v %v", rec.Void, err)
	}
	if r.printer.count() != printed {
		t.Fatal("a refused reprint printed")
	}
	if jobs, _ := r.agent.Jobs(context.Background(), agent.StateDead, 10); len(jobs) != 1 {
		t.Fatalf("a refused revive or resolve moved the dead job of %s", dead.Number)
	}
	if bs, _ := r.agent.Booklets(context.Background()); len(bs) != 1 {
		t.Fatalf("a refused form added a booklet: %+v", bs)
	}
	wantStatus(t, r.get("/"), http.StatusOK) // still signed in
	// The sign-in form has its own token, bound to a cookie.
	c := r.newClient()
	wantStatus(t, r.do(c, http.MethodPost, "/login", url.Values{"secret": {testToken}}), http.StatusForbidden)
	wantStatus(t, r.do(c, http.MethodPost, "/login", url.Values{"secret": {testToken}, "csrf": {mine}}), http.StatusForbidden)
}

// Ten wrong secrets in five minutes lock sign-in, even for the right one,
// until the window has passed.
func TestSignInThrottled(t *testing.T) {
	r := newRig(t)
	for range 10 {
		wantStatus(t, r.tryLogin(r.newClient(), "guess"), http.StatusUnauthorized)
	}
	a := r.tryLogin(r.newClient(), testToken)
	wantStatus(t, a, http.StatusTooManyRequests)
	mustContain(t, a, "錯誤次數太多")
	r.clock.Add(5 * time.Minute)
	r.signIn(r.newClient(), testToken)
}

func itoa(n int64) string { return strconvItoa(n) }

package invoicexpress_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/invoicexpress"
	"github.com/posagent/posagent/providers/invoicexpress/invoicexpresstest"
)

// env is one stand-in and the way to make clients for it, as a restarted
// agent would (a fresh client each time).
type env struct {
	t       *testing.T
	ctx     context.Context
	srv     *invoicexpresstest.Server
	timeout time.Duration
	logs    *syncBuffer
	// refuse, when set, makes the client's transport fail matching requests
	// with "connection refused" before anything is sent.
	refuse *refuser
	// arm sets the row's fault off (the fault matrix).
	arm    func()
	sleeps []time.Duration
	mu     sync.Mutex
}

func newEnv(t *testing.T, opt invoicexpresstest.Options) *env {
	t.Helper()
	srv := invoicexpresstest.New(opt)
	t.Cleanup(srv.Close)
	return &env{t: t, ctx: context.Background(), srv: srv, timeout: 5 * time.Second, logs: &syncBuffer{}}
}

// client is a fresh client of the stand-in. Retry waits are recorded, not slept.
func (e *env) client(opts ...invoicexpress.Option) *invoicexpress.Client {
	e.t.Helper()
	cfg := e.srv.Config()
	cfg.Timeout = e.timeout
	hc := e.srv.HTTPClient()
	if e.refuse != nil {
		e.refuse.next = hc.Transport
		hc = &http.Client{Transport: e.refuse}
	}
	base := []invoicexpress.Option{
		invoicexpress.WithHTTPClient(hc),
		invoicexpress.WithPacing(0),
		invoicexpress.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		invoicexpress.WithClock(nil, func(ctx context.Context, d time.Duration) error {
			e.mu.Lock()
			e.sleeps = append(e.sleeps, d)
			e.mu.Unlock()
			return ctx.Err()
		}),
	}
	c, err := invoicexpress.New(cfg, append(base, opts...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// sale is a Portuguese sale as the agent hands it over.
func sale(ref string) posagent.PTDocument {
	return posagent.PTDocument{
		Type: posagent.PTInvoiceReceipt, Reference: ref,
		Date: time.Date(2026, 12, 4, 0, 0, 0, 0, posagent.Lisbon),
		Lines: []posagent.PTLine{
			{SKU: "CAFE", Description: "Café", Quantity: posagent.MustDecimal("2"), UnitPrice: posagent.MustDecimal("0.81"), TaxName: "IVA23", VATRate: posagent.MustDecimal("23")},
			{SKU: "PAO-1", Description: "Pão de Deus", Quantity: posagent.MustDecimal("1"), UnitPrice: posagent.MustDecimal("1.35"), TaxName: "IVA6"},
		},
	}
}

// journal keeps one document's progress in memory, as the agent's store would.
type journal struct {
	mu        sync.Mutex
	p         invoicexpress.Progress
	creating  int
	drafted   int
	crashNext bool   // the next Drafted fails: the agent died before storing the id
	onDrafted func() // runs inside Drafted, after the id is stored
}

func newJournal(ref string, t posagent.PTDocType) *journal {
	return &journal{p: invoicexpress.Progress{Ref: ref, Type: t}}
}

func (j *journal) Creating(_ context.Context, ref string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if ref != j.p.Ref {
		return errors.New("journal: wrong reference")
	}
	j.p.Creating = true
	j.creating++
	return nil
}

func (j *journal) Drafted(_ context.Context, ref string, id int64) error {
	j.mu.Lock()
	if ref != j.p.Ref {
		j.mu.Unlock()
		return errors.New("journal: wrong reference")
	}
	if j.crashNext {
		j.crashNext = false
		j.mu.Unlock()
		return errors.New("journal: the agent died before the draft id was stored")
	}
	j.p.DraftID = id
	j.drafted++
	hook := j.onDrafted
	j.mu.Unlock()
	if hook != nil {
		hook()
	}
	return nil
}

func (j *journal) progress() invoicexpress.Progress {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.p
}

// issueUntilDone runs Issue as a restarted agent would, with the journal's
// progress and a fresh client each time, until it succeeds; it returns the
// document and the errors of the failed attempts.
func (e *env) issueUntilDone(j *journal, doc posagent.PTDocument) (posagent.PTDocument, []error) {
	e.t.Helper()
	var errs []error
	for attempt := 1; attempt <= 8; attempt++ {
		got, err := e.client().Issue(e.ctx, j.progress(), doc, j)
		if err == nil {
			return got, errs
		}
		errs = append(errs, err)
	}
	e.t.Fatalf("Issue still failing after 8 attempts: %v", errs)
	return posagent.PTDocument{}, errs
}

// checkOneFinal asserts the stand-in holds exactly one finalized document of
// type t with reference ref, no live draft beside it, and that got is it.
func (e *env) checkOneFinal(t posagent.PTDocType, ref string, got posagent.PTDocument) invoicexpresstest.Document {
	e.t.Helper()
	if n := e.srv.Finals(t, ref); n != 1 {
		e.t.Fatalf("%d finalized %s for %s at the stand-in, want exactly 1", n, t, ref)
	}
	if n := e.srv.Drafts(t, ref); n != 0 {
		e.t.Fatalf("%d drafts of %s for %s left at the stand-in, want 0 (duplicates deleted)", n, t, ref)
	}
	want, ok := e.srv.Document(got.ID)
	if !ok || want.Finalized == 0 || want.Reference != ref {
		e.t.Fatalf("Issue returned document %d, which the stand-in holds as %+v", got.ID, want)
	}
	if got.SequenceNumber != want.SequenceNumber || got.ATCUD != want.ATCUD || got.QRText != want.QRText || got.QRText == "" {
		e.t.Fatalf("Issue returned number %q ATCUD %q QR %q; the stand-in holds %q %q %q",
			got.SequenceNumber, got.ATCUD, got.QRText, want.SequenceNumber, want.ATCUD, want.QRText)
	}
	for _, f := range e.srv.Fallbacks() {
		if f.Kind == "nif" || f.Kind == "tax" {
			e.t.Fatalf("the stand-in applied a silent fallback: %+v", f)
		}
	}
	return want
}

// refuser fails the requests it matches with a dial error (connection
// refused), n times, before anything reaches the server.
type refuser struct {
	mu    sync.Mutex
	next  http.RoundTripper
	match func(method, path string, body []byte) bool
	n     int
}

func (r *refuser) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	r.mu.Lock()
	hit := r.n > 0 && r.match(req.Method, req.URL.Path, body)
	if hit {
		r.n--
	}
	r.mu.Unlock()
	if hit {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	return r.next.RoundTrip(req)
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

package invoicexpress_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/invoicexpress"
	"github.com/posagent/posagent/providers/invoicexpress/invoicexpresstest"
)

// fault is one column of the matrix: a server-side fault, or (refused) a
// connection refused before anything is sent.
type fault struct {
	name    string
	refused bool
	f       invoicexpresstest.Fault
	// short: the fault lasts until the client gives up, so the test runs
	// with a short timeout.
	short bool
}

var matrixFaults = []fault{
	{name: "connection refused", refused: true},
	{name: "hang-up before acting", f: invoicexpresstest.Fault{Kind: invoicexpresstest.FaultRefuse}},
	{name: "timeout before acting", f: invoicexpresstest.Fault{Kind: invoicexpresstest.FaultStall}, short: true},
	{name: "timeout after acting", f: invoicexpresstest.Fault{Kind: invoicexpresstest.FaultActThenStall}, short: true},
	{name: "answer dropped after acting", f: invoicexpresstest.Fault{Kind: invoicexpresstest.FaultLoseAnswer}},
	{name: "500", f: invoicexpresstest.Fault{Kind: invoicexpresstest.FaultStatus, Status: 500}},
	{name: "429", f: invoicexpresstest.Fault{Kind: invoicexpresstest.FaultStatus, Status: 429, RetryAfter: "2"}},
	{name: "422", f: invoicexpresstest.Fault{Kind: invoicexpresstest.FaultStatus, Status: 422,
		Body: `{"errors":[{"error":"Service is validating another document, try again"}]}`}},
}

// matrixOp is one row: an operation with the fault aimed at one request of it.
type matrixOp struct {
	name string
	op   invoicexpresstest.Op
	typ  posagent.PTDocType
	// run performs the operation until it succeeds, as restarted agents would,
	// then checks the stand-in holds exactly one finalized document.
	run func(e *env)
}

// issueSale issues the sale "S1" with no fault and returns it.
func issueSale(e *env) posagent.PTDocument {
	e.t.Helper()
	got, err := e.client().Issue(e.ctx, invoicexpress.Progress{Ref: "S1", Type: posagent.PTInvoiceReceipt}, sale("S1"), newJournal("S1", posagent.PTInvoiceReceipt))
	if err != nil {
		e.t.Fatal(err)
	}
	return got
}

func refund(owner posagent.PTDocument) posagent.PTDocument {
	d := sale("R1")
	d.Type, d.OwnerID, d.Lines = posagent.PTCreditNote, owner.ID, d.Lines[:1]
	return d
}

var matrixOps = []matrixOp{
	{"create", invoicexpresstest.OpCreate, posagent.PTInvoiceReceipt, func(e *env) {
		j := newJournal("S1", posagent.PTInvoiceReceipt)
		got, _ := e.issueUntilDone(j, sale("S1"))
		e.checkOneFinal(posagent.PTInvoiceReceipt, "S1", got)
	}},
	{"finalize", invoicexpresstest.OpFinalize, posagent.PTInvoiceReceipt, func(e *env) {
		j := newJournal("S1", posagent.PTInvoiceReceipt)
		got, _ := e.issueUntilDone(j, sale("S1"))
		e.checkOneFinal(posagent.PTInvoiceReceipt, "S1", got)
		if n := e.srv.Count(invoicexpresstest.OpCreate); n != 1 {
			e.t.Fatalf("%d creates for a fault on finalize, want 1", n)
		}
	}},
	{"cancel", invoicexpresstest.OpCancel, posagent.PTInvoiceReceipt, runCancel},
	{"credit note create", invoicexpresstest.OpCreate, posagent.PTCreditNote, runCreditNote},
	{"credit note finalize", invoicexpresstest.OpFinalize, posagent.PTCreditNote, runCreditNote},
}

// runCancel issues the sale without faults, arms the fault and cancels until
// done: one document, cancelled with the message.
func runCancel(e *env) {
	doc := issueSale(e)
	e.arm()
	var errs []error
	for attempt := 1; ; attempt++ {
		err := e.client().Cancel(e.ctx, doc.Type, doc.ID, "Devolução do cliente")
		if err == nil {
			break
		}
		if attempt == 8 {
			e.t.Fatalf("Cancel still failing: %v", append(errs, err))
		}
		errs = append(errs, err)
	}
	d, _ := e.srv.Document(doc.ID)
	if d.Status != invoicexpress.StateCanceled || d.CancelMessage != "Devolução do cliente" {
		e.t.Fatalf("after Cancel the stand-in holds %s %q", d.Status, d.CancelMessage)
	}
	if n := e.srv.Finals(posagent.PTInvoiceReceipt, "S1"); n != 1 || len(e.srv.Documents()) != 1 {
		e.t.Fatalf("%d finalized of %d documents, want exactly 1 of 1", n, len(e.srv.Documents()))
	}
}

// runCreditNote issues the sale without faults, arms the fault and issues a
// credit note for it until done: one final credit note naming the sale.
func runCreditNote(e *env) {
	owner := issueSale(e)
	e.arm()
	j := newJournal("R1", posagent.PTCreditNote)
	got, _ := e.issueUntilDone(j, refund(owner))
	want := e.checkOneFinal(posagent.PTCreditNote, "R1", got)
	if want.OwnerID != owner.ID || got.OwnerID != owner.ID {
		e.t.Fatalf("credit note owner %d (returned %d), want %d", want.OwnerID, got.OwnerID, owner.ID)
	}
	e.checkOneFinal(posagent.PTInvoiceReceipt, "S1", owner)
}

// TestFaultMatrix: for each operation × fault, the operation is retried with
// the journal's progress as a restarted agent would have it, and the
// stand-in ends with exactly one finalized document (no duplicate draft left,
// never two finals), the one Issue returned, with its QR.
func TestFaultMatrix(t *testing.T) {
	for _, op := range matrixOps {
		for _, f := range matrixFaults {
			t.Run(op.name+"/"+f.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, invoicexpresstest.Options{})
				if f.short {
					e.timeout = 1500 * time.Millisecond
				}
				e.refuse = &refuser{match: func(method, path string, body []byte) bool {
					return matchesOp(op.op, op.typ, method, path, body)
				}}
				fa := f.f
				fa.Op, fa.Type = op.op, op.typ
				e.arm = func() {
					if f.refused {
						e.refuse.mu.Lock()
						e.refuse.n = 1
						e.refuse.mu.Unlock()
						return
					}
					e.srv.Inject(fa, 1)
				}
				if op.name == "create" || op.name == "finalize" {
					e.arm()
				}
				op.run(e)
				if f.refused && e.refuse.n != 0 {
					t.Fatal("the refusal was never used: the row did not reach the operation")
				}
				if !f.refused {
					used := false
					for _, r := range e.srv.Requests() {
						used = used || r.Fault != ""
					}
					if !used {
						t.Fatal("the fault was never used: the row did not reach the operation")
					}
				}
				if strings.Contains(e.logs.String(), invoicexpresstest.DemoAPIKey) {
					t.Fatal("the API key reached the log")
				}
			})
		}
	}
}

// matchesOp reports whether a request is the operation op on type typ.
func matchesOp(op invoicexpresstest.Op, typ posagent.PTDocType, method, path string, body []byte) bool {
	switch op {
	case invoicexpresstest.OpCreate:
		return method == "POST" && path == "/"+string(typ)+".json"
	case invoicexpresstest.OpFinalize, invoicexpresstest.OpCancel:
		state := map[invoicexpresstest.Op]string{invoicexpresstest.OpFinalize: `"finalized"`, invoicexpresstest.OpCancel: `"canceled"`}[op]
		return method == "PUT" && strings.HasPrefix(path, "/"+string(typ)+"/") && bytes.Contains(body, []byte(state))
	}
	return false
}

// TestIssueCrashBeforeDrafted: the create landed but the agent died before
// storing the draft id (Creating set, no id). The next Issue finds the draft
// by reference and adopts it: one create in all.
func TestIssueCrashBeforeDrafted(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	j := newJournal("S1", posagent.PTInvoiceReceipt)
	j.crashNext = true
	if _, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j); err == nil {
		t.Fatal("Issue succeeded although the journal failed")
	}
	if p := j.progress(); !p.Creating || p.DraftID != 0 {
		t.Fatalf("progress after the crash %+v, want Creating and no draft id", p)
	}
	got, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j)
	if err != nil {
		t.Fatal(err)
	}
	e.checkOneFinal(posagent.PTInvoiceReceipt, "S1", got)
	if n := e.srv.Count(invoicexpresstest.OpCreate); n != 1 {
		t.Fatalf("%d creates, want 1 (the draft adopted)", n)
	}
	if got.ID != e.srv.Documents()[0].ID {
		t.Fatalf("issued %d, not the draft of the first attempt", got.ID)
	}
}

// TestIssueCrashAfterDrafted: the agent died between Drafted and the
// finalize; the next Issue finalizes that very draft.
func TestIssueCrashAfterDrafted(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	c := e.client()
	draft, err := c.Create(e.ctx, sale("S1"))
	if err != nil {
		t.Fatal(err)
	}
	j := newJournal("S1", posagent.PTInvoiceReceipt)
	j.p.Creating, j.p.DraftID = true, draft.ID
	got, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != draft.ID {
		t.Fatalf("issued %d, want the journaled draft %d", got.ID, draft.ID)
	}
	e.checkOneFinal(posagent.PTInvoiceReceipt, "S1", got)
}

// TestIssueLateCreateDeleted: a create held past the client's timeout lands
// after the next attempt has made its own draft; Issue deletes the late draft
// once its own is final.
func TestIssueLateCreateDeleted(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	e.timeout = 1500 * time.Millisecond
	e.srv.Inject(invoicexpresstest.Fault{Kind: invoicexpresstest.FaultHold, Op: invoicexpresstest.OpCreate}, 1)
	j := newJournal("S1", posagent.PTInvoiceReceipt)
	if _, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j); !posagent.IsKind(err, posagent.KindTransient) {
		t.Fatalf("held create: %v, want a transient error", err)
	}
	e.srv.WaitHeld(1)
	j.onDrafted = func() { e.srv.Release() } // the first create lands now, after the lookup missed it
	got, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j)
	if err != nil {
		t.Fatal(err)
	}
	e.checkOneFinal(posagent.PTInvoiceReceipt, "S1", got)
	docs := e.srv.ByReference(posagent.PTInvoiceReceipt, "S1")
	// The second attempt's draft was created first; the held one landed after it.
	if len(docs) != 2 || docs[0].ID != got.ID || docs[1].Status != invoicexpress.StateDeleted {
		t.Fatalf("stand-in holds %+v for S1, want the final one and the late draft deleted", docs)
	}
}

// TestIssueAdoptsOldestDraftDeletesOthers: two drafts with the reference
// (two creates landed) and no id journaled: the oldest is finalized and the
// other deleted; nothing is created.
func TestIssueAdoptsOldestDraftDeletesOthers(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	c := e.client()
	first, err := c.Create(e.ctx, sale("S1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(e.ctx, sale("S1")); err != nil {
		t.Fatal(err)
	}
	j := newJournal("S1", posagent.PTInvoiceReceipt)
	j.p.Creating = true
	got, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != first.ID || j.progress().DraftID != first.ID {
		t.Fatalf("issued %d (journal %d), want the oldest draft %d", got.ID, j.progress().DraftID, first.ID)
	}
	e.checkOneFinal(posagent.PTInvoiceReceipt, "S1", got)
	if n := e.srv.Count(invoicexpresstest.OpCreate); n != 2 {
		t.Fatalf("%d creates, want the 2 made before Issue", n)
	}
}

// TestIssueTwoFinalsNeedAPerson: if two final documents carry the reference
// (made outside posagent), Issue refuses with KindConflict and changes nothing.
func TestIssueTwoFinalsNeedAPerson(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	c := e.client()
	for range 2 {
		d, err := c.Create(e.ctx, sale("S1"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Finalize(e.ctx, d.Type, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	before := len(e.srv.Requests())
	j := newJournal("S1", posagent.PTInvoiceReceipt)
	j.p.Creating = true
	_, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j)
	if !posagent.IsKind(err, posagent.KindConflict) {
		t.Fatalf("Issue: %v, want KindConflict", err)
	}
	for _, r := range e.srv.Requests()[before:] {
		if r.Method != "GET" {
			t.Fatalf("Issue sent %s %s after finding two finals", r.Method, r.Path)
		}
	}
}

// TestIssueRefusesUnregisteredSeries: with the series' validation code N/D
// nothing is created or finalized; a draft left by an earlier attempt stays
// a draft.
func TestIssueRefusesUnregisteredSeries(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{ValidationCodes: map[posagent.PTDocType]string{posagent.PTInvoiceReceipt: invoicexpress.SeriesNotRegistered}})
	if code, err := e.client().SeriesCode(e.ctx, posagent.PTInvoiceReceipt); err != nil || code != "N/D" {
		t.Fatalf("SeriesCode = %q, %v; want N/D", code, err)
	}
	j := newJournal("S1", posagent.PTInvoiceReceipt)
	_, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j)
	if !posagent.IsKind(err, posagent.KindConfig) || !strings.Contains(err.Error(), "N/D") {
		t.Fatalf("Issue: %v, want KindConfig naming N/D", err)
	}
	if n := e.srv.Count(invoicexpresstest.OpCreate); n != 0 || j.progress().Creating {
		t.Fatalf("%d creates (journal %+v) under an N/D series, want none", n, j.progress())
	}
	// Another type's series is registered: it issues.
	k := newJournal("S2", posagent.PTSimplifiedInvoice)
	doc := sale("S2")
	doc.Type = posagent.PTSimplifiedInvoice
	got, err := e.client().Issue(e.ctx, k.progress(), doc, k)
	if err != nil {
		t.Fatal(err)
	}
	e.checkOneFinal(posagent.PTSimplifiedInvoice, "S2", got)
}

// TestCreateNeverRetried: a 500 on create is returned, not retried: only the
// next Issue's lookup may decide to create again.
func TestCreateNeverRetried(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	e.srv.Inject(invoicexpresstest.Fault{Kind: invoicexpresstest.FaultStatus, Op: invoicexpresstest.OpCreate, Status: 503}, 1)
	j := newJournal("S1", posagent.PTInvoiceReceipt)
	_, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j)
	if !posagent.IsKind(err, posagent.KindTransient) {
		t.Fatalf("Issue: %v, want KindTransient", err)
	}
	if n := e.srv.Count(invoicexpresstest.OpCreate); n != 1 {
		t.Fatalf("%d creates sent, want 1 (POST is never retried blindly)", n)
	}
	var ae *invoicexpress.APIError
	if !errors.As(err, &ae) || ae.HTTP != 503 {
		t.Fatalf("error %v does not carry the HTTP 503", err)
	}
}

// TestIssueRetryAfterHonoured: a 429 on a GET with a short Retry-After is
// waited out by the client (the wait recorded), a long one returned as
// KindRateLimited with the wait.
func TestIssueRetryAfterHonoured(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	e.srv.Inject(invoicexpresstest.Fault{Kind: invoicexpresstest.FaultStatus, Op: invoicexpresstest.OpTaxes, Status: 429, RetryAfter: "3"}, 1)
	if _, err := e.client().Taxes(e.ctx); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(e.sleeps) != "[3s]" {
		t.Fatalf("waits %v, want [3s]", e.sleeps)
	}
	e.srv.Inject(invoicexpresstest.Fault{Kind: invoicexpresstest.FaultStatus, Op: invoicexpresstest.OpTaxes, Status: 429, RetryAfter: "120"}, 1)
	_, err := e.client().Taxes(e.ctx)
	var pe *posagent.Error
	if !errors.As(err, &pe) || pe.Kind != posagent.KindRateLimited || pe.RetryAfter != 120*time.Second {
		t.Fatalf("Taxes: %#v, want KindRateLimited after 120s", err)
	}
}

// TestPacing: calls to the API are spaced by the pacing interval (the waits
// recorded on a stopped clock).
func TestPacing(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	c := e.client(invoicexpress.WithPacing(time.Second), invoicexpress.WithClock(func() time.Time { return at }, func(ctx context.Context, d time.Duration) error {
		e.sleeps = append(e.sleeps, d)
		return nil
	}))
	for range 3 {
		if _, err := c.SeriesCode(e.ctx, posagent.PTInvoice); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(e.sleeps) != "[1s 2s]" {
		t.Fatalf("waits %v, want [1s 2s] (the third call queued behind the second)", e.sleeps)
	}
	// Without WithPacing: none on loopback (a stand-in), 250 ms elsewhere.
	e.sleeps = nil
	sleep := func(ctx context.Context, d time.Duration) error { e.sleeps = append(e.sleeps, d); return nil }
	now := func() time.Time { return at }
	local, _ := invoicexpress.New(e.srv.Config(), invoicexpress.WithClock(now, sleep))
	remote, _ := invoicexpress.New(invoicexpress.Config{BaseURL: "https://x.invalid", APIKey: "k", Timeout: time.Millisecond},
		invoicexpress.WithClock(now, sleep), invoicexpress.WithRetry(1, 0, 0))
	for range 2 {
		local.SeriesCode(e.ctx, posagent.PTInvoice)
	}
	if len(e.sleeps) != 0 {
		t.Fatalf("a loopback stand-in paced: %v", e.sleeps)
	}
	for range 2 {
		remote.SeriesCode(e.ctx, posagent.PTInvoice)
	}
	if fmt.Sprint(e.sleeps) != "[250ms]" {
		t.Fatalf("remote waits %v, want [250ms]", e.sleeps)
	}
}

// TestDraftThenIssue: drafts-only mode. Draft makes one draft (even while the
// series is N/D: a draft has no fiscal value), a second Draft with the
// journal's progress returns the same one, and Issue later finalizes it.
func TestDraftThenIssue(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{ValidationCodes: map[posagent.PTDocType]string{posagent.PTInvoiceReceipt: invoicexpress.SeriesNotRegistered}})
	j := newJournal("S1", posagent.PTInvoiceReceipt)
	d, err := e.client().Draft(e.ctx, j.progress(), sale("S1"), j)
	if err != nil {
		t.Fatal(err)
	}
	if d.State != invoicexpress.StateDraft || d.ID == 0 || j.progress().DraftID != d.ID || d.Total.String() != "3.42" {
		t.Fatalf("Draft = %+v, journal %+v", d, j.progress())
	}
	again, err := e.client().Draft(e.ctx, j.progress(), sale("S1"), j)
	if err != nil || again.ID != d.ID {
		t.Fatalf("second Draft = %d, %v; want %d", again.ID, err, d.ID)
	}
	if _, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j); !posagent.IsKind(err, posagent.KindConfig) {
		t.Fatalf("Issue under N/D: %v", err)
	}
	e.srv.SetValidationCode(posagent.PTInvoiceReceipt, "AAJFJ3VNTN")
	got, err := e.client().Issue(e.ctx, j.progress(), sale("S1"), j)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != d.ID || e.srv.Count(invoicexpresstest.OpCreate) != 1 {
		t.Fatalf("issued %d after %d creates; want the draft %d, one create", got.ID, e.srv.Count(invoicexpresstest.OpCreate), d.ID)
	}
	e.checkOneFinal(posagent.PTInvoiceReceipt, "S1", got)
	if back, err := e.client().Draft(e.ctx, j.progress(), sale("S1"), j); err != nil || back.ID != got.ID || back.State != invoicexpress.StateSettled {
		t.Fatalf("Draft of an issued document: %+v, %v", back, err)
	}
}

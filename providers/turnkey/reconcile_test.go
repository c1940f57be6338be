package turnkey_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/reconciletest"
	"github.com/posagent/posagent/providers/mig"
)

var refOf = reconciletest.Ref

// Each state a message can be in at Turnkey, read back from its database.
func TestHoldingsFromTurnkeysDatabase(t *testing.T) {
	s := standIn(t)
	p := newProvider(t, config(t, s, ""))
	ctx := context.Background()
	a, b, c, d, e, f, g, h, x := sale(1), sale(2), sale(3), sale(4), sale(5), sale(6), sale(7), sale(8), sale(9)
	void := posagent.Void{Number: c.Number, VoidedAt: c.IssuedAt.Add(time.Hour), Reason: "顧客退貨"}
	al := posagent.Allowance{Number: "AL0004", InvoiceNumber: d.Number, IssuedAt: d.IssuedAt.Add(time.Hour), Items: d.Items, Total: 65, TaxAmount: 3}
	waitAll(t, 30*time.Second, map[string]func() error{
		"upload a": func() error { return p.Upload(ctx, a) },
		"void c": func() error {
			if err := p.Upload(ctx, c); err != nil {
				return err
			}
			return p.Void(ctx, c, void)
		},
		"void allowance d": func() error {
			if err := p.Upload(ctx, d); err != nil {
				return err
			}
			if err := p.Allow(ctx, d, al); err != nil {
				return err
			}
			return p.VoidAllowance(ctx, d, al, "折讓金額有誤")
		},
		"upload e": func() error { return p.Upload(ctx, e) },
	})
	// b: the platform rejects it.
	s.RejectNext(mig.TypeF0401, "E0103")
	if err := waitFor(t, 30*time.Second, func() error { return p.Upload(ctx, b) }); !posagent.IsKind(err, posagent.KindInvalid) {
		t.Fatalf("b: %v", err)
	}
	// x: Turnkey refuses the file itself (ERR): an element the XSD does not know.
	m, err := mig.F0401(x, mig.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(m.XML), "<PrintMark>Y</PrintMark>", "<PrintMark>Y</PrintMark><Bogus>1</Bogus>", 1)
	if err := waitFor(t, 30*time.Second, func() error { return p.DropRaw("F0401_"+string(x.Number), mig.TypeF0401, []byte(bad)) }); !posagent.IsKind(err, posagent.KindInvalid) {
		t.Fatalf("x: %v", err)
	}
	// e: Turnkey loses its rows after taking the file.
	if n, err := s.Forget(ctx, "F0401"+string(e.Number)+e.IssuedAt.In(posagent.Taipei).Format("20060102")); err != nil || n != 1 {
		t.Fatalf("forget e: %d %v", n, err)
	}
	// g: sent, the platform never answers.
	s.HoldAtG(true)
	if err := p.Upload(ctx, g); !posagent.IsKind(err, posagent.KindNotFound) {
		t.Fatalf("g: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for s.Counts()["G"] == 0 {
		if time.Now().After(deadline) {
			t.Fatal("g never reached G")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// h: Turnkey is not running: the file waits in SRC.
	s.Stop()
	if err := p.Upload(ctx, h); !posagent.IsKind(err, posagent.KindNotFound) {
		t.Fatalf("h: %v", err)
	}

	refs := []posagent.DocRef{
		refOf(posagent.DocInvoice, a, "", a.Total), refOf(posagent.DocInvoice, b, "", b.Total),
		refOf(posagent.DocInvoice, c, "", c.Total), refOf(posagent.DocVoid, c, "", c.Total),
		refOf(posagent.DocAllowance, d, al.Number, al.Total), refOf(posagent.DocAllowanceVoid, d, al.Number, al.Total),
		refOf(posagent.DocInvoice, e, "", e.Total), refOf(posagent.DocInvoice, f, "", f.Total),
		refOf(posagent.DocInvoice, g, "", g.Total), refOf(posagent.DocInvoice, h, "", h.Total),
		refOf(posagent.DocVoid, a, "", a.Total), refOf(posagent.DocInvoice, x, "", x.Total),
	}
	type want struct {
		found  bool
		accept posagent.Acceptance
		detail string
	}
	wants := []want{
		{true, posagent.AcceptAccepted, "STATUS=C"},
		{true, posagent.AcceptRejected, "the platform rejected it: E0103"},
		{true, posagent.AcceptAccepted, "F0401" + string(c.Number)}, {true, posagent.AcceptAccepted, "F0501" + string(c.Number)},
		{true, posagent.AcceptAccepted, "G0401AL0004"}, {true, posagent.AcceptAccepted, "G0501AL0004"},
		{false, "", "taken from SRC, but TURNKEY_MESSAGE_LOG has no F0401 row"},
		{false, "", "journal holds no drop"},
		{true, posagent.AcceptPending, "STATUS=G"},
		{true, posagent.AcceptPending, "in Turnkey's SRC folder"},
		{false, "", "no F0501 row"},
		{true, posagent.AcceptRejected, "Turnkey refused it (ERR)"},
	}
	hs := reconciletest.Ask(t, p, refs)
	for i, w := range wants {
		got := hs[i]
		if got.Found != w.found || got.Acceptance != w.accept || !strings.Contains(got.Detail, w.detail) || got.HasAmount {
			t.Errorf("ref %d (%s %s): %+v, want %+v", i, got.Ref.Kind, got.Ref.Number, got, w)
		}
	}
	if strings.Contains(fmt.Sprint(hs), s.Password()) {
		t.Fatal("a detail holds the database password")
	}
}

// 250 refs are asked in batches; the answers keep the order asked.
func TestHoldingsBatchesTurnkey(t *testing.T) {
	s := standIn(t)
	p := newProvider(t, config(t, s, ""))
	ctx := context.Background()
	calls := map[string]func() error{}
	var refs []posagent.DocRef
	held := map[posagent.InvoiceNumber]bool{}
	for i := 0; i < 250; i++ {
		inv := sale(i)
		if i%50 == 3 {
			calls[string(inv.Number)] = func() error { return p.Upload(ctx, inv) }
			held[inv.Number] = true
		}
		refs = append(refs, refOf(posagent.DocInvoice, inv, "", inv.Total))
	}
	waitAll(t, 30*time.Second, calls)
	start := time.Now()
	hs := reconciletest.Ask(t, p, refs)
	t.Logf("250 documents asked of Turnkey's database in %s", time.Since(start).Round(time.Microsecond))
	for _, h := range hs {
		if h.Found != held[h.Ref.Number] || (h.Found && h.Acceptance != posagent.AcceptAccepted) {
			t.Fatalf("%s: %+v", h.Ref.Number, h)
		}
	}
}

// Turnkey's database out of reach: an error, nothing concluded, no password in it.
func TestHoldingsTurnkeyFailures(t *testing.T) {
	s := standIn(t)
	p := newProvider(t, config(t, s, ""))
	inv := sale(1)
	s.LoseDB()
	hs, err := p.Holdings(context.Background(), []posagent.DocRef{refOf(posagent.DocInvoice, inv, "", inv.Total)})
	if hs != nil || !posagent.IsKind(err, posagent.KindTransient) || errors.Is(err, posagent.ErrNotReconcilable) {
		t.Fatalf("holdings %v, error %v", hs, err)
	}
	if strings.Contains(err.Error(), s.Password()) {
		t.Fatal("the error holds the database password")
	}
	if err := s.RestoreDB(); err != nil {
		t.Fatal(err)
	}
	// A password the database refuses: an error, and the password in none of it.
	cfg := config(t, s, "")
	const wrong = "not-the-password-7f3e"
	cfg.DSN = strings.Replace(cfg.DSN, s.Password(), wrong, 1)
	q := newProvider(t, cfg)
	_, err = q.Holdings(context.Background(), []posagent.DocRef{refOf(posagent.DocInvoice, inv, "", inv.Total)})
	if !posagent.IsKind(err, posagent.KindTransient) || strings.Contains(err.Error(), wrong) || strings.Contains(err.Error(), s.Password()) {
		t.Fatalf("wrong password: %v", err)
	}
	for _, r := range []posagent.DocRef{{Kind: posagent.DocInvoice, Number: "bad"}, {Kind: "receipt", Number: inv.Number},
		{Kind: posagent.DocAllowance, Number: inv.Number}} {
		_, err := p.Holdings(context.Background(), []posagent.DocRef{r})
		if !posagent.IsKind(err, posagent.KindInvalid) || !strings.HasPrefix(posagent.ErrorField(err), "refs[0].") {
			t.Fatalf("%+v: %v", r, err)
		}
	}
}

// The stand-in's day report read back, and one whose count disagrees.
func TestDaySummaryFromTheStandIn(t *testing.T) {
	s := standIn(t)
	p := newProvider(t, config(t, s, ""))
	ctx := context.Background()
	a, b, c := sale(1), sale(2), sale(3)
	void := posagent.Void{Number: a.Number, VoidedAt: a.IssuedAt.Add(time.Hour), Reason: "顧客退貨"}
	waitAll(t, 30*time.Second, map[string]func() error{
		"void a": func() error {
			if err := p.Upload(ctx, a); err != nil {
				return err
			}
			return p.Void(ctx, a, void)
		},
		"upload b": func() error { return p.Upload(ctx, b) },
	})
	s.RejectNext(mig.TypeF0401, "E0103")
	if err := waitFor(t, 30*time.Second, func() error { return p.Upload(ctx, c) }); !posagent.IsKind(err, posagent.KindInvalid) {
		t.Fatalf("c: %v", err)
	}
	today := time.Now()
	if _, ok, err := p.DaySummary(ctx, today); ok || err != nil {
		t.Fatalf("before the report: %v %v", ok, err)
	}
	if files, err := s.WriteSummaryResult(today); err != nil || len(files) != 1 {
		t.Fatalf("write: %v %v", files, err)
	}
	sum, ok, err := p.DaySummary(ctx, today)
	if err != nil || !ok {
		t.Fatalf("%v %v", ok, err)
	}
	want := map[string]posagent.MessageCount{"F0401": {Total: 3, Good: 2, Failed: 1}, "F0501": {Total: 1, Good: 1}}
	if len(sum.Messages) != 2 || sum.Messages["F0401"] != want["F0401"] || sum.Messages["F0501"] != want["F0501"] {
		t.Fatalf("summary %+v", sum.Messages)
	}
	// A later report that counts one F0401 fewer replaces the first.
	s.MiscountSummary(mig.TypeF0401, -1)
	if _, err := s.WriteSummaryResult(today); err != nil {
		t.Fatal(err)
	}
	sum, _, err = p.DaySummary(ctx, today)
	if err != nil || sum.Messages["F0401"] != (posagent.MessageCount{Total: 2, Good: 1, Failed: 1}) {
		t.Fatalf("after the miscount: %+v %v", sum.Messages, err)
	}
}

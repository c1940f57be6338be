package invoicexpress_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/invoicexpress"
	"github.com/posagent/posagent/providers/invoicexpress/invoicexpresstest"
)

func TestNewConfig(t *testing.T) {
	key := config.Secret("k-123")
	for _, tc := range []struct {
		name string
		cfg  invoicexpress.Config
		ok   bool
	}{
		{"account", invoicexpress.Config{Account: "minha-loja", APIKey: key}, true},
		{"loopback http", invoicexpress.Config{BaseURL: "http://127.0.0.1:9", APIKey: key}, true},
		{"https test host", invoicexpress.Config{BaseURL: "https://loja.macewindu.invoicexpress.com", APIKey: key}, true},
		{"no key", invoicexpress.Config{Account: "minha-loja"}, false},
		{"bad account", invoicexpress.Config{Account: "Minha Loja", APIKey: key}, false},
		{"plain http elsewhere", invoicexpress.Config{BaseURL: "http://loja.app.invoicexpress.com", APIKey: key}, false},
		{"query in base", invoicexpress.Config{BaseURL: "https://x.app.invoicexpress.com/?api_key=k-123", APIKey: key}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := invoicexpress.New(tc.cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New: %v, want ok=%v", err, tc.ok)
			}
			if err != nil && (!posagent.IsKind(err, posagent.KindConfig) || strings.Contains(err.Error(), "k-123")) {
				t.Fatalf("New: %v: want KindConfig without the key", err)
			}
		})
	}
}

// TestIssueEachType issues each document type and checks what the stand-in
// received (item name = SKU, description = name, reference = sale id,
// date dd/mm/yyyy Lisbon, buyer NIF) and what came back (number, ATCUD,
// totals, QR).
func TestIssueEachType(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	var owner posagent.PTDocument
	for i, typ := range []posagent.PTDocType{posagent.PTInvoiceReceipt, posagent.PTSimplifiedInvoice, posagent.PTInvoice, posagent.PTCreditNote} {
		ref := "S" + string(rune('1'+i))
		doc := sale(ref)
		doc.Type = typ
		doc.BuyerNIF, doc.BuyerName = "123456789", "Maria Silva"
		if typ == posagent.PTCreditNote {
			doc.OwnerID = owner.ID
		}
		j := newJournal(ref, typ)
		got, err := e.client().Issue(e.ctx, j.progress(), doc, j)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		held := e.checkOneFinal(typ, ref, got)
		if i == 0 {
			owner = got
		}
		wantState := invoicexpress.StateFinal
		if typ == posagent.PTInvoiceReceipt {
			wantState = invoicexpress.StateSettled
		}
		if got.State != wantState || got.SequenceNumber != "1/G" || got.ATCUD != invoicexpresstest.DemoValidationCodes[typ]+"-1" {
			t.Fatalf("%s: state %q number %q ATCUD %q", typ, got.State, got.SequenceNumber, got.ATCUD)
		}
		// 2 × 0.81 = 1.62 + 23 % (0.37); 1.35 + 6 % (0.08): 2.97 + 0.45 = 3.42.
		if got.Net.String() != "2.97" || got.VAT.String() != "0.45" || got.Total.String() != "3.42" {
			t.Fatalf("%s: totals %s + %s = %s", typ, got.Net, got.VAT, got.Total)
		}
		if held.Date != "04/12/2026" || held.NIF != "123456789" || held.ClientName != "Maria Silva" {
			t.Fatalf("%s: the stand-in received date %q NIF %q name %q", typ, held.Date, held.NIF, held.ClientName)
		}
		if l := held.Lines[0]; l.Name != "CAFE" || l.Description != "Café" || l.TaxName != "IVA23" {
			t.Fatalf("%s: line sent as %+v", typ, l)
		}
		if l := got.Lines[1]; l.SKU != "PAO-1" || l.Description != "Pão de Deus" || l.VATRate.String() != "6" || l.Net.String() != "1.35" {
			t.Fatalf("%s: line read back as %+v", typ, l)
		}
		if !got.Date.Equal(time.Date(2026, 12, 4, 0, 0, 0, 0, posagent.Lisbon)) || got.BuyerNIF != "123456789" || got.Reference != ref {
			t.Fatalf("%s: read back date %v NIF %q reference %q", typ, got.Date, got.BuyerNIF, got.Reference)
		}
		if !strings.HasPrefix(got.QRText, "A:"+invoicexpresstest.DemoSellerNIF+"*B:123456789*C:PT*") || !strings.Contains(got.QRText, "*O:3.42*") {
			t.Fatalf("%s: QR %q", typ, got.QRText)
		}
		if got.Permalink == "" {
			t.Fatalf("%s: no permalink", typ)
		}
	}
	if fb := e.srv.Fallbacks(); len(fb) != 2 || fb[0].Kind != "item_created" || fb[1].Kind != "item_created" {
		t.Fatalf("fallbacks %+v, want only the two items created on first sale", fb)
	}
}

// TestFinalConsumer: no buyer NIF → Consumidor Final 999999990, stated, not left to the fallback.
func TestFinalConsumer(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	d, err := e.client().Create(e.ctx, sale("S1"))
	if err != nil {
		t.Fatal(err)
	}
	held, _ := e.srv.Document(d.ID)
	if held.NIF != posagent.FinalConsumerNIF || held.ClientName != "Consumidor Final" || d.State != invoicexpress.StateDraft || d.SequenceNumber != "" {
		t.Fatalf("draft %+v held as %+v", d, held)
	}
	if _, err := e.client().QRText(e.ctx, d.ID); !posagent.IsKind(err, posagent.KindNotFound) {
		t.Fatalf("QRText of a draft: %v, want KindNotFound", err)
	}
}

// TestCreateRefusesWhatWouldFallBack: what InvoiceXpress would silently
// change or refuse is refused locally, naming the field; nothing is sent.
func TestCreateRefusesWhatWouldFallBack(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	zero := func(ex string) func(*posagent.PTDocument) {
		return func(d *posagent.PTDocument) { d.Lines[1].TaxName, d.Lines[1].Exemption = "IVA0", ex }
	}
	for _, tc := range []struct {
		name, field string
		mod         func(*posagent.PTDocument)
	}{
		{"bad NIF", "buyer_nif", func(d *posagent.PTDocument) { d.BuyerNIF = "123456780" }},
		{"short NIF", "buyer_nif", func(d *posagent.PTDocument) { d.BuyerNIF = "12345" }},
		{"unknown tax", "lines[0].tax_name", func(d *posagent.PTDocument) { d.Lines[0].TaxName = "IVA24" }},
		{"rate not the tax's", "lines[0].vat_rate", func(d *posagent.PTDocument) { d.Lines[0].VATRate = posagent.MustDecimal("13") }},
		{"0% without reason", "lines[1].exemption", zero("")},
		{"0% bad reason", "lines[1].exemption", zero("X01")},
		{"reason on a taxed line", "lines[0].exemption", func(d *posagent.PTDocument) { d.Lines[0].Exemption = "M07" }},
		{"two reasons", "lines[1].exemption", func(d *posagent.PTDocument) {
			d.Lines[0].TaxName, d.Lines[0].VATRate, d.Lines[0].Exemption = "IVA0", posagent.Decimal{}, "M07"
			d.Lines[1].TaxName, d.Lines[1].Exemption = "IVA0", "M16"
		}},
		{"no SKU", "lines[1].sku", func(d *posagent.PTDocument) { d.Lines[1].SKU = " " }},
		{"no name", "lines[0].description", func(d *posagent.PTDocument) { d.Lines[0].Description = "" }},
		{"zero quantity", "lines[0].quantity", func(d *posagent.PTDocument) { d.Lines[0].Quantity = posagent.MustDecimal("0") }},
		{"negative price", "lines[0].unit_price", func(d *posagent.PTDocument) { d.Lines[0].UnitPrice = posagent.MustDecimal("-1") }},
		{"no lines", "lines", func(d *posagent.PTDocument) { d.Lines = nil }},
		{"no reference", "reference", func(d *posagent.PTDocument) { d.Reference = "" }},
		{"has an id", "id", func(d *posagent.PTDocument) { d.ID = 7 }},
		{"credit note without owner", "owner_id", func(d *posagent.PTDocument) { d.Type = posagent.PTCreditNote }},
		{"owner on an invoice", "owner_id", func(d *posagent.PTDocument) { d.OwnerID = 5 }},
		{"unknown type", "type", func(d *posagent.PTDocument) { d.Type = "receipts" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := sale("S1")
			tc.mod(&d)
			_, err := e.client().Create(e.ctx, d)
			if !posagent.IsKind(err, posagent.KindInvalid) || posagent.ErrorField(err) != tc.field {
				t.Fatalf("Create: %v (field %q), want KindInvalid on %s", err, posagent.ErrorField(err), tc.field)
			}
		})
	}
	if n := e.srv.Count(invoicexpresstest.OpCreate); n != 0 {
		t.Fatalf("%d creates reached the stand-in", n)
	}
	// A 0% line with its reason goes through, as the document's tax_exemption.
	d := sale("S2")
	zero("M07")(&d)
	got, err := e.client().Create(e.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if held, _ := e.srv.Document(got.ID); held.TaxExemption != "M07" {
		t.Fatalf("tax_exemption sent %q", held.TaxExemption)
	}
}

// TestCancelNeedsMessage: refused locally, nothing sent; a draft cannot be
// cancelled (406 → KindConflict); a final one can, once.
func TestCancelNeedsMessage(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	c := e.client()
	d, err := c.Create(e.ctx, sale("S1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Cancel(e.ctx, d.Type, d.ID, "  "); !posagent.IsKind(err, posagent.KindInvalid) || posagent.ErrorField(err) != "message" {
		t.Fatalf("Cancel without a message: %v", err)
	}
	if n := e.srv.Count(invoicexpresstest.OpCancel); n != 0 {
		t.Fatalf("%d cancels sent", n)
	}
	if err := c.Cancel(e.ctx, d.Type, d.ID, "Erro"); !posagent.IsKind(err, posagent.KindConflict) {
		t.Fatalf("Cancel of a draft: %v, want KindConflict (406)", err)
	}
	if _, err := c.Finalize(e.ctx, d.Type, d.ID); err != nil {
		t.Fatal(err)
	}
	// Finalizing again is refused by the service but the document is final: done.
	if again, err := c.Finalize(e.ctx, d.Type, d.ID); err != nil || again.SequenceNumber != "1/G" {
		t.Fatalf("second Finalize: %+v, %v", again, err)
	}
	for range 2 { // the second is refused (406) and read back as cancelled: done
		if err := c.Cancel(e.ctx, d.Type, d.ID, "Erro"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.DeleteDraft(e.ctx, d.Type, d.ID); !posagent.IsKind(err, posagent.KindConflict) {
		t.Fatalf("DeleteDraft of a cancelled document: %v, want KindConflict", err)
	}
}

func TestDeleteDraftTwice(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	c := e.client()
	d, err := c.Create(e.ctx, sale("S1"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.DeleteDraft(e.ctx, d.Type, d.ID); err != nil {
			t.Fatal(err)
		}
	}
	if found, err := c.FindByReference(e.ctx, d.Type, "S1"); err != nil || len(found) != 0 {
		t.Fatalf("FindByReference after delete: %v, %v", found, err)
	}
}

// TestFindByReferencePages: the lookup pages through recent documents, and
// stops at its depth.
func TestFindByReferencePages(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	c := e.client()
	first, err := c.Create(e.ctx, sale("OLD"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 120 {
		if _, err := c.Create(e.ctx, sale("N"+string(rune('A'+i%26))+string(rune('A'+i/26)))); err != nil {
			t.Fatal(err)
		}
	}
	found, err := c.FindByReference(e.ctx, posagent.PTInvoiceReceipt, "OLD")
	if err != nil || len(found) != 1 || found[0].ID != first.ID {
		t.Fatalf("FindByReference(OLD) = %v, %v", found, err)
	}
	if n := e.srv.Count(invoicexpresstest.OpList); n != 3 {
		t.Fatalf("%d list pages read for 121 documents, want 3", n)
	}
	shallow := e.client(invoicexpress.WithLookupDepth(50))
	if found, err := shallow.FindByReference(e.ctx, posagent.PTInvoiceReceipt, "OLD"); err != nil || len(found) != 0 {
		t.Fatalf("a lookup 50 deep found %v, %v", found, err)
	}
}

// TestAPIKeyNeverShown: a transport error (its *url.Error names the URL
// with the key), a 401, a 422 and the logs never show the key.
func TestAPIKeyNeverShown(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	key := invoicexpresstest.DemoAPIKey

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	cfg := e.srv.Config()
	cfg.BaseURL = dead
	c, err := invoicexpress.New(cfg, invoicexpress.WithLogger(slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), invoicexpress.WithRetry(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(e.ctx, posagent.PTInvoiceReceipt, 1)
	var ue *url.Error
	if !posagent.IsKind(err, posagent.KindTransient) || !errors.As(err, &ue) {
		t.Fatalf("Get on a closed port: %v, want KindTransient wrapping a *url.Error", err)
	}
	if strings.Contains(err.Error(), key) || strings.Contains(ue.URL, key) || !strings.Contains(ue.URL, "api_key=%5Bredacted%5D") && !strings.Contains(ue.URL, "api_key=[redacted]") {
		t.Fatalf("transport error shows the key or no redaction: %v (URL %s)", err, ue.URL)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("the dial error is no longer reachable: %v", err)
	}

	bad := e.srv.Config()
	bad.APIKey = config.Secret("wrong-" + key)
	c2, _ := invoicexpress.New(bad, invoicexpress.WithHTTPClient(e.srv.HTTPClient()))
	_, err = c2.Taxes(e.ctx)
	if !posagent.IsKind(err, posagent.KindAuth) || strings.Contains(err.Error(), key) {
		t.Fatalf("wrong key: %v, want KindAuth without the key", err)
	}

	ctx, cancel := context.WithTimeout(e.ctx, time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := e.client().Taxes(ctx); err == nil || strings.Contains(err.Error(), key) {
		t.Fatalf("expired context: %v", err)
	}
	if strings.Contains(e.logs.String(), key) {
		t.Fatal("the key reached the log")
	}
	if !strings.Contains(e.logs.String(), "api_key=") {
		t.Fatal("the log shows no URL at all: the check above proves nothing")
	}
}

// TestErrorShapes: the three bodies of a 422 name the field and the message.
func TestErrorShapes(t *testing.T) {
	e := newEnv(t, invoicexpresstest.Options{})
	for _, tc := range []struct {
		body, field, msg string
		status           int
		kind             posagent.Kind
	}{
		{`{"errors":{"client":["is invalid"]}}`, "client", "client: is invalid", 422, posagent.KindInvalid},
		{`{"errors":[{"error":"Client is invalid"}]}`, "document", "Client is invalid", 422, posagent.KindInvalid},
		{`{"error":"Invoice has been settled so can't be changed anymore"}`, "document", "settled", 422, posagent.KindInvalid},
		{`<html>oops</html>`, "document", "Unprocessable", 422, posagent.KindInvalid},
		{`{"errors":[{"error":"Document in state final can't be finalized"}]}`, "", "state final", 406, posagent.KindConflict},
		{`{"errors":[{"error":"Not found"}]}`, "", "Not found", 404, posagent.KindNotFound},
		{``, "", "Found", 302, posagent.KindConfig},
		{`{"error":"Unauthorized"}`, "", "Unauthorized", 401, posagent.KindAuth},
	} {
		e.srv.Inject(invoicexpresstest.Fault{Kind: invoicexpresstest.FaultStatus, Op: invoicexpresstest.OpCreate, Status: tc.status, Body: tc.body}, 1)
		_, err := e.client().Create(e.ctx, sale("S1"))
		if !posagent.IsKind(err, tc.kind) || posagent.ErrorField(err) != tc.field || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%d %s: %v (kind %s field %q), want %s %q containing %q", tc.status, tc.body, err, posagent.ErrorKind(err), posagent.ErrorField(err), tc.kind, tc.field, tc.msg)
		}
	}
}

// TestMalformedAnswers: an answer without the type's key, a list without
// its key, a 200 that is HTML — errors, never "no document".
func TestMalformedAnswers(t *testing.T) {
	srv := newRaw(t, map[string]string{
		"/invoice_receipts/5.json": `{"invoice_receipt":null}`,
		"/invoice_receipts/6.json": `{"credit_note":{"id":6,"status":"final"},"other":1}`,
		"/invoice_receipts.json":   `{"pagination":{"total_pages":1}}`,
		"/credit_notes.json":       `<html>captive portal</html>`,
		"/sequences.json":          `{"sequences":[{"serie":"G","default_sequence":1}]}`,
	})
	c, err := invoicexpress.New(invoicexpress.Config{BaseURL: srv, APIKey: "k"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, err := range map[string]error{
		"null document":  func() error { _, err := c.Get(ctx, posagent.PTInvoiceReceipt, 5); return err }(),
		"wrong key":      func() error { _, err := c.Get(ctx, posagent.PTInvoiceReceipt, 6); return err }(),
		"list no key":    func() error { _, err := c.FindByReference(ctx, posagent.PTInvoiceReceipt, "S1"); return err }(),
		"html list":      func() error { _, err := c.FindByReference(ctx, posagent.PTCreditNote, "S1"); return err }(),
		"no series code": func() error { _, err := c.SeriesCode(ctx, posagent.PTInvoiceReceipt); return err }(),
	} {
		if !posagent.IsKind(err, posagent.KindTransient) || !strings.Contains(err.Error(), "not understood") {
			t.Errorf("%s: %v, want a transient 'answer not understood'", name, err)
		}
	}
}

// newRaw serves fixed bodies by path (200), for answers the stand-in never gives.
func newRaw(t *testing.T, bodies map[string]string) string {
	t.Helper()
	mux := http.NewServeMux()
	for p, b := range bodies {
		mux.HandleFunc(p, func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(b)) })
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &http.Server{Handler: mux}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return "http://" + ln.Addr().String()
}

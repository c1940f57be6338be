package invoicexpresstest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/invoicexpress/invoicexpresstest"
)

// raw is a bare HTTP client of the stand-in: it sends what posagent's client
// never would, to show the stand-in's own behaviour.
type raw struct {
	t   *testing.T
	srv *invoicexpresstest.Server
	key string
}

func (r raw) do(method, path, body string) (int, map[string]any, http.Header) {
	r.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	req, err := http.NewRequest(method, r.srv.URL()+path+sep+"api_key="+r.key, strings.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.srv.HTTPClient().Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out, resp.Header
}

func newRaw(t *testing.T, opt invoicexpresstest.Options) raw {
	srv := invoicexpresstest.New(opt)
	t.Cleanup(srv.Close)
	return raw{t: t, srv: srv, key: invoicexpresstest.DemoAPIKey}
}

const body = `{"invoice":{"date":"04/12/2026","due_date":"04/12/2026","reference":"%s",
 "client":{"name":"%s","code":"C1","fiscal_id":"%s"},%s
 "items":[{"name":"CAFE","description":"Café","unit_price":"0.81","quantity":"3","tax":{"name":"%s"}},
          {"name":"BOLO","description":"Bolo","unit_price":1.005,"quantity":1,"tax":{"name":"IVA13"}}]}}`

func create(r raw, typ posagent.PTDocType, ref, nif, tax, extra string) (int, map[string]any) {
	code, out, _ := r.do("POST", "/"+string(typ)+".json", fmt.Sprintf(body, ref, "Cliente", nif, extra, tax))
	return code, out
}

func docOf(out map[string]any, key string) map[string]any {
	d, _ := out[key].(map[string]any)
	return d
}

func TestAPIKeyRequired(t *testing.T) {
	r := newRaw(t, invoicexpresstest.Options{})
	r.key = "wrong"
	if code, _, _ := r.do("GET", "/taxes.json", ""); code != http.StatusUnauthorized {
		t.Fatalf("wrong key: %d", code)
	}
}

// TestTotalsAndNumbers: totals from the lines in cents, half-up; numbers per
// type in the series, ATCUD from the validation code; answers keyed by type.
func TestTotalsAndNumbers(t *testing.T) {
	r := newRaw(t, invoicexpresstest.Options{ValidationCodes: map[posagent.PTDocType]string{posagent.PTInvoice: "N/A"}})
	code, out := create(r, posagent.PTInvoiceReceipt, "S1", "123456789", "IVA23", "")
	d := docOf(out, "invoice_receipt")
	if code != http.StatusCreated || d == nil {
		t.Fatalf("create: %d %v", code, out)
	}
	// 3 × 0.81 = 2.43, VAT 23 % = 0.5589 → 0.56; 1.005 → 1.01 (half-up), VAT 13 % = 0.1313 → 0.13.
	if fmt.Sprint(d["before_taxes"], d["taxes"], d["total"]) != "3.44 0.69 4.13" || d["status"] != "draft" {
		t.Fatalf("draft totals %v %v %v status %v", d["before_taxes"], d["taxes"], d["total"], d["status"])
	}
	id := int64(d["id"].(float64))
	for i, want := range []string{"1/G", "2/G"} {
		if i == 1 {
			_, out = create(r, posagent.PTInvoiceReceipt, "S2", "", "IVA23", "")
			id = int64(docOf(out, "invoice_receipt")["id"].(float64))
		}
		code, out, _ := r.do("PUT", fmt.Sprintf("/invoice_receipts/%d/change-state.json", id), `{"invoice":{"state":"finalized"}}`)
		f := docOf(out, "invoice_receipt")
		if code != 200 || f["sequence_number"] != want || f["atcud"] != fmt.Sprintf("%s-%d", invoicexpresstest.DemoValidationCodes[posagent.PTInvoiceReceipt], i+1) || f["status"] != "settled" {
			t.Fatalf("finalize %d: %d %v", i, code, out)
		}
	}
	// Another type has its own sequence; N/A → ATCUD 0.
	_, out = create(r, posagent.PTInvoice, "S3", "", "IVA23", "")
	id = int64(docOf(out, "invoice")["id"].(float64))
	_, out, _ = r.do("PUT", fmt.Sprintf("/invoices/%d/change-state.json", id), `{"invoice":{"state":"finalized"}}`)
	if f := docOf(out, "invoice"); f["sequence_number"] != "1/G" || f["atcud"] != "0" || f["status"] != "final" {
		t.Fatalf("invoice finalized as %v", f)
	}
	// Asked under the wrong type: 404.
	if code, _, _ := r.do("GET", fmt.Sprintf("/credit_notes/%d.json", id), ""); code != 404 {
		t.Fatalf("document under another type: %d", code)
	}
}

// TestSilentFallbacks: what InvoiceXpress changes without a word, the
// stand-in changes too, and records.
func TestSilentFallbacks(t *testing.T) {
	r := newRaw(t, invoicexpresstest.Options{})
	_, out := create(r, posagent.PTInvoiceReceipt, "S1", "123456780", "IVA99", "")
	d := docOf(out, "invoice_receipt")
	cl, _ := d["client"].(map[string]any)
	items, _ := d["items"].([]any)
	tax := items[0].(map[string]any)["tax"].(map[string]any)
	if cl["fiscal_id"] != posagent.FinalConsumerNIF || cl["name"] != "Consumidor Final" || tax["name"] != "IVA23" {
		t.Fatalf("client %v, tax %v", cl, tax)
	}
	create(r, posagent.PTInvoiceReceipt, "S2", "", "IVA6", "") // CAFE known: updated with the new tax
	var kinds []string
	for _, f := range r.srv.Fallbacks() {
		kinds = append(kinds, f.Kind+":"+f.Reference)
	}
	if got := strings.Join(kinds, " "); got != "nif:S1 tax:S1 item_created:S1 item_created:S1 item_updated:S2" {
		t.Fatalf("fallbacks %s", got)
	}
}

// TestStateRules: the change-state rules and their answers.
func TestStateRules(t *testing.T) {
	r := newRaw(t, invoicexpresstest.Options{})
	_, out := create(r, posagent.PTInvoice, "S1", "", "IVA23", "")
	id := int64(docOf(out, "invoice")["id"].(float64))
	state := func(st, msg string) (int, string) {
		code, out, _ := r.do("PUT", fmt.Sprintf("/invoices/%d/change-state.json", id), fmt.Sprintf(`{"invoice":{"state":%q,"message":%q}}`, st, msg))
		b, _ := json.Marshal(out)
		return code, string(b)
	}
	for i, step := range []struct {
		state, msg string
		code       int
		says       string
	}{
		{"canceled", "x", 406, "can't be canceled"},
		{"bogus", "", 422, "is invalid"},
		{"finalized", "", 200, `"status":"final"`},
		{"finalized", "", 406, "can't be finalized"},
		{"deleted", "", 406, "can't be deleted"},
		{"settled", "", 200, `"status":"settled"`},
		{"unsettled", "", 200, `"status":"unsettled"`},
		{"settled", "", 200, `"status":"settled"`},
		{"finalized", "", 422, "has been settled"},
		{"canceled", "", 422, "Cancel message can't be blank"},
		{"canceled", "Erro no preço", 200, `"status":"canceled"`},
		{"canceled", "again", 406, "can't be canceled"},
	} {
		code, says := state(step.state, step.msg)
		if code != step.code || !strings.Contains(says, step.says) {
			t.Fatalf("step %d %s: %d %s, want %d %q", i, step.state, code, says, step.code, step.says)
		}
	}
	if d, _ := r.srv.Document(id); d.CancelMessage != "Erro no preço" || d.Finalized == 0 {
		t.Fatalf("held %+v", d)
	}
}

// TestCreditNotesAndExemption: a credit note names a final invoice; a 0 %
// line needs the document's tax_exemption.
func TestCreditNotesAndExemption(t *testing.T) {
	r := newRaw(t, invoicexpresstest.Options{})
	if code, out := create(r, posagent.PTCreditNote, "R1", "", "IVA23", `"owner_invoice_id":999,`); code != 422 || out["errors"] == nil {
		t.Fatalf("credit note of nothing: %d %v", code, out)
	}
	_, out := create(r, posagent.PTInvoiceReceipt, "S1", "", "IVA23", "")
	id := int64(docOf(out, "invoice_receipt")["id"].(float64))
	if code, _ := create(r, posagent.PTCreditNote, "R1", "", "IVA23", fmt.Sprintf(`"owner_invoice_id":%d,`, id)); code != 422 {
		t.Fatalf("credit note of a draft: %d", code)
	}
	r.do("PUT", fmt.Sprintf("/invoice_receipts/%d/change-state.json", id), `{"invoice":{"state":"finalized"}}`)
	code, out := create(r, posagent.PTCreditNote, "R1", "", "IVA23", fmt.Sprintf(`"owner_invoice_id":"%d",`, id))
	if code != 201 || docOf(out, "credit_note")["owner_invoice_id"] != float64(id) {
		t.Fatalf("credit note: %d %v", code, out)
	}
	if code, out := create(r, posagent.PTInvoiceReceipt, "S2", "", "IVA0", ""); code != 422 || !strings.Contains(fmt.Sprint(out), "tax_exemption") {
		t.Fatalf("0%% line without a reason: %d %v", code, out)
	}
	if code, _ := create(r, posagent.PTInvoiceReceipt, "S2", "", "IVA0", `"tax_exemption":"M07",`); code != 201 {
		t.Fatalf("0%% line with M07: %d", code)
	}
}

// TestListPages: most recent first, pages, deleted drafts not listed.
func TestListPages(t *testing.T) {
	r := newRaw(t, invoicexpresstest.Options{MaxPerPage: 2})
	var ids []int64
	for i := range 5 {
		_, out := create(r, posagent.PTInvoiceReceipt, fmt.Sprint("S", i), "", "IVA23", "")
		ids = append(ids, int64(docOf(out, "invoice_receipt")["id"].(float64)))
	}
	r.do("PUT", fmt.Sprintf("/invoice_receipts/%d/change-state.json", ids[4]), `{"invoice":{"state":"deleted"}}`)
	_, out, _ := r.do("GET", "/invoice_receipts.json?page=1&per_page=50", "")
	list, _ := out["invoice_receipts"].([]any)
	pg, _ := out["pagination"].(map[string]any)
	if len(list) != 2 || list[0].(map[string]any)["id"] != float64(ids[3]) || pg["total_pages"] != float64(2) || pg["total_entries"] != float64(4) {
		t.Fatalf("page 1: %v", out)
	}
	_, out, _ = r.do("GET", "/invoice_receipts.json?page=3&per_page=2", "")
	if list, ok := out["invoice_receipts"].([]any); !ok || len(list) != 0 {
		t.Fatalf("page past the end: %v", out)
	}
}

// TestQRImage: the QR of a final document is a PNG at ECC M that decodes to
// the AT payload with the document's ATCUD; a draft has none.
func TestQRImage(t *testing.T) {
	r := newRaw(t, invoicexpresstest.Options{})
	_, out := create(r, posagent.PTSimplifiedInvoice, "S1", "123456789", "IVA23", "")
	id := int64(docOf(out, "simplified_invoice")["id"].(float64))
	if code, _, _ := r.do("GET", fmt.Sprintf("/api/qr_codes/%d.json", id), ""); code != 404 {
		t.Fatalf("QR of a draft: %d", code)
	}
	r.do("PUT", fmt.Sprintf("/simplified_invoices/%d/change-state.json", id), `{"invoice":{"state":"finalized"}}`)
	_, out, _ = r.do("GET", fmt.Sprintf("/api/qr_codes/%d.json", id), "")
	u := out["qr_code"].(map[string]any)["url"].(string)
	resp, err := r.srv.HTTPClient().Get(u) // no api_key: an image URL is fetched bare
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		t.Fatal(err)
	}
	d, _ := r.srv.Document(id)
	if res.GetText() != d.QRText {
		t.Fatalf("QR %q, held %q", res.GetText(), d.QRText)
	}
	if ec := res.GetResultMetadata()[gozxing.ResultMetadataType_ERROR_CORRECTION_LEVEL]; fmt.Sprint(ec) != "M" {
		t.Fatalf("ECC %v, want M", ec)
	}
	hash := d.Hash
	want := fmt.Sprintf("A:%s*B:123456789*C:PT*D:FS*E:N*F:20261204*G:FS 1/G*H:%s-1*I1:PT*I5:1.01*I6:0.13*I7:2.43*I8:0.56*N:0.69*O:4.13*Q:%c%c%c%c*R:0000",
		invoicexpresstest.DemoSellerNIF, invoicexpresstest.DemoValidationCodes[posagent.PTSimplifiedInvoice], hash[0], hash[10], hash[20], hash[30])
	if d.QRText != want {
		t.Fatalf("QR text\n got %s\nwant %s", d.QRText, want)
	}
}

// TestFaults: each fault kind does what it says about acting.
func TestFaults(t *testing.T) {
	r := newRaw(t, invoicexpresstest.Options{})
	r.srv.Inject(invoicexpresstest.Fault{Kind: invoicexpresstest.FaultStatus, Op: invoicexpresstest.OpTaxes, Status: 429, RetryAfter: "7"}, 1)
	if code, _, h := r.do("GET", "/taxes.json", ""); code != 429 || h.Get("Retry-After") != "7" {
		t.Fatalf("429: %d %v", code, h)
	}
	if code, out, _ := r.do("GET", "/taxes.json", ""); code != 200 || out["taxes"] == nil {
		t.Fatalf("after the fault: %d", code)
	}
	r.srv.Inject(invoicexpresstest.Fault{Kind: invoicexpresstest.FaultRefuse, Op: invoicexpresstest.OpCreate}, 1)
	req, _ := http.NewRequest("POST", r.srv.URL()+"/invoices.json?api_key="+r.key, strings.NewReader(fmt.Sprintf(body, "S1", "C", "", "", "IVA23")))
	if _, err := r.srv.HTTPClient().Do(req); err == nil {
		t.Fatal("refused create answered")
	}
	if n := len(r.srv.Documents()); n != 0 {
		t.Fatalf("a refused create made %d documents", n)
	}
	r.srv.Inject(invoicexpresstest.Fault{Kind: invoicexpresstest.FaultLoseAnswer, Op: invoicexpresstest.OpCreate, Type: posagent.PTInvoice}, 1)
	req, _ = http.NewRequest("POST", r.srv.URL()+"/invoices.json?api_key="+r.key, strings.NewReader(fmt.Sprintf(body, "S1", "C", "", "", "IVA23")))
	if _, err := r.srv.HTTPClient().Do(req); err == nil {
		t.Fatal("lost answer arrived")
	}
	if n := len(r.srv.Documents()); n != 1 || r.srv.Drafts(posagent.PTInvoice, "S1") != 1 {
		t.Fatalf("a create whose answer was lost made %d documents", n)
	}
	if r.srv.Count(invoicexpresstest.OpCreate) != 2 {
		t.Fatalf("creates counted %d", r.srv.Count(invoicexpresstest.OpCreate))
	}
}

// TestDownUp: while down nothing is acted on; once up, requests are served.
func TestDownUp(t *testing.T) {
	r := newRaw(t, invoicexpresstest.Options{})
	r.srv.Down()
	req, _ := http.NewRequest("POST", r.srv.URL()+"/invoices.json?api_key="+r.key, strings.NewReader(fmt.Sprintf(body, "S1", "C", "", "", "IVA23")))
	if _, err := r.srv.HTTPClient().Do(req); err == nil {
		t.Fatal("answered while down")
	}
	if n := len(r.srv.Documents()); n != 0 {
		t.Fatalf("%d documents made while down", n)
	}
	r.srv.Up()
	r.srv.SetLatency(time.Millisecond)
	if code, _ := create(r, posagent.PTInvoice, "S1", "", "IVA23", ""); code != http.StatusCreated {
		t.Fatalf("after Up: %d", code)
	}
}

// TestDateOrder: a document dated before the series' last final one is not finalized.
func TestDateOrder(t *testing.T) {
	r := newRaw(t, invoicexpresstest.Options{})
	_, out := create(r, posagent.PTInvoice, "S1", "", "IVA23", "")
	id1 := int64(docOf(out, "invoice")["id"].(float64))
	older := strings.Replace(fmt.Sprintf(body, "S0", "C", "", "", "IVA23"), "04/12/2026", "03/12/2026", 2)
	_, out, _ = r.do("POST", "/invoices.json", older)
	id0 := int64(docOf(out, "invoice")["id"].(float64))
	if code, _, _ := r.do("PUT", fmt.Sprintf("/invoices/%d/change-state.json", id1), `{"invoice":{"state":"finalized"}}`); code != 200 {
		t.Fatalf("finalize 04/12: %d", code)
	}
	if code, out, _ := r.do("PUT", fmt.Sprintf("/invoices/%d/change-state.json", id0), `{"invoice":{"state":"finalized"}}`); code != 422 || !strings.Contains(fmt.Sprint(out), "date") {
		t.Fatalf("finalize 03/12 after 04/12: %d %v", code, out)
	}
}

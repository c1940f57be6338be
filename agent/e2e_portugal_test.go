package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/emulator"
	"github.com/posagent/posagent/providers/invoicexpress"
	"github.com/posagent/posagent/providers/invoicexpress/invoicexpresstest"
	"github.com/posagent/posagent/queue"
)

// The Portuguese regime end to end: the local API, the SQLite store, the
// issuing loop, the real InvoiceXpress client against its stand-in, and a
// printer that keeps every job (drawn by the emulator to read the QR back).

const ptToken = "pt-e2e-token-8d2f61c0a4b7e935"

// ptPrinter keeps every job; out of paper while paperOut is set.
type ptPrinter struct {
	mu       sync.Mutex
	jobs     [][]byte
	paperOut bool
}

func (p *ptPrinter) Print(_ context.Context, job []byte) agent.PrintOutcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paperOut {
		return agent.PrintOutcome{Reason: "paper_out"}
	}
	p.jobs = append(p.jobs, append([]byte(nil), job...))
	return agent.PrintOutcome{Printed: true}
}

func (p *ptPrinter) Status(context.Context) agent.PrinterStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paperOut {
		return agent.PrinterStatus{Reason: "paper_out"}
	}
	return agent.PrinterStatus{Ready: true}
}

func (p *ptPrinter) all() [][]byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([][]byte(nil), p.jobs...)
}

type ptE2E struct {
	ix      *invoicexpresstest.Server
	store   *queue.Store
	agent   *agent.Agent
	handler http.Handler
	printer *ptPrinter
	cfg     config.Config
}

func ptConfig(dir string) config.Config {
	cfg := config.DefaultConfig()
	cfg.Terminal.Regime = "pt"
	cfg.Portugal.Seller = config.PTSeller{Name: "Café Exemplo, Lda.", NIF: invoicexpresstest.DemoSellerNIF, Address: "Rua Exemplo 1, 1000-001 Lisboa"}
	cfg.Portugal.InvoiceXpress = config.InvoiceXpress{BaseURL: "http://127.0.0.1:1", APIKey: invoicexpresstest.DemoAPIKey,
		Timeout: config.Duration{Duration: 5 * time.Second}}
	cfg.Portugal.Certification = "Processado por programa certificado n.º 0000/AT"
	cfg.Printer.Profile = "pt-58mm"
	cfg.API.Token = ptToken
	cfg.Store.Path = filepath.Join(dir, "posagent.db")
	cfg.Sync.BackoffBase = config.Duration{Duration: 5 * time.Millisecond}
	cfg.Sync.BackoffCap = config.Duration{Duration: 100 * time.Millisecond}
	cfg.Sync.CallTimeout = config.Duration{Duration: 5 * time.Second}
	return cfg
}

// startPT runs a Portuguese agent on a fresh store against a fresh stand-in.
// The agent reaches the stand-in once before the test starts (taxes cached).
func startPT(t testing.TB, edit func(*config.Config), ixo invoicexpresstest.Options) *ptE2E {
	t.Helper()
	dir := t.TempDir()
	ix := invoicexpresstest.New(ixo)
	t.Cleanup(ix.Close)
	cfg := ptConfig(dir)
	cfg.Portugal.InvoiceXpress.BaseURL = ix.URL()
	if edit != nil {
		edit(&cfg)
	}
	require.NoError(t, cfg.Validate())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	client, err := invoicexpress.New(invoicexpress.Config{BaseURL: ix.URL(), APIKey: cfg.Portugal.InvoiceXpress.APIKey,
		Timeout: cfg.Portugal.InvoiceXpress.Timeout.Duration},
		invoicexpress.WithHTTPClient(ix.HTTPClient()), invoicexpress.WithRetry(2, 5*time.Millisecond, time.Second),
		invoicexpress.WithLogger(log))
	require.NoError(t, err)
	st, err := queue.Open(cfg.Store.Path, queue.Options{})
	require.NoError(t, err)
	profile, err := printer.LookupPTProfile(cfg.Printer.Profile)
	require.NoError(t, err)
	pr := &ptPrinter{}
	a, err := agent.New(agent.Options{Config: cfg, Store: &agent.QueueStore{S: st}, Printer: pr, Logger: log,
		PollInterval: 10 * time.Millisecond, Jitter: func() float64 { return 1 },
		Portugal: &agent.PTOptions{Store: st, Issuer: client, Profile: profile}})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	e := &ptE2E{ix: ix, store: st, agent: a, handler: a.Handler(), printer: pr, cfg: cfg}
	e.waitFor(t, "the taxes cached", func() bool {
		taxes, err := st.PTTaxes(context.Background())
		return err == nil && len(taxes) > 0
	})
	return e
}

func (e *ptE2E) do(t testing.TB, method, path, body string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	req.Header.Set("Authorization", "Bearer "+ptToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	var out map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), "body %s", rec.Body.String())
	return rec.Code, out
}

// silentChanges are the stand-in's fallbacks that change a document: a NIF
// turned into the final consumer, an unknown tax replaced by the default.
// (An item created for a new SKU is how InvoiceXpress keeps products matched
// by SKU, and is expected.)
func (e *ptE2E) silentChanges() []invoicexpresstest.Fallback {
	var out []invoicexpresstest.Fallback
	for _, f := range e.ix.Fallbacks() {
		if f.Kind == "nif" || f.Kind == "tax" {
			out = append(out, f)
		}
	}
	return out
}

func (e *ptE2E) waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	require.Eventually(t, ok, 60*time.Second, 5*time.Millisecond, "waiting for %s", what)
}

func (e *ptE2E) entry(t testing.TB, ref string) queue.PTEntry {
	t.Helper()
	en, err := e.store.PTEntry(context.Background(), ref)
	require.NoError(t, err)
	return en
}

func (e *ptE2E) waitIssued(t testing.TB, ref string) queue.PTEntry {
	t.Helper()
	e.waitFor(t, ref+" issued and printed", func() bool {
		en, err := e.store.PTEntry(context.Background(), ref)
		return err == nil && en.State == queue.PTIssued && en.Print.State == "printed"
	})
	return e.entry(t, ref)
}

func ptSale(id string, extra string) string {
	return fmt.Sprintf(`{"sale_id": %q, %s"items": [
		{"sku": "CAFE", "name": "Café", "quantity": 2, "unit_price": "0.81", "vat_rate": 23},
		{"sku": "PAO", "name": "Pão de Deus", "quantity": "1", "unit_price": "1.20", "vat_rate": 6}]}`, id, extra)
}

// decodeReceiptQR draws a job on paper and reads its one QR code.
func decodeReceiptQR(t testing.TB, job []byte) string {
	t.Helper()
	res, err := emulator.Render(job, emulator.Options{Width: 384})
	require.NoError(t, err)
	var img image.Image = res.Image
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	got, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	require.NoError(t, err, "the receipt's QR does not scan")
	return got.GetText()
}

func TestPTSaleIssuedExactlyOnceAndPrinted(t *testing.T) {
	e := startPT(t, nil, invoicexpresstest.Options{})
	code, out := e.do(t, http.MethodPost, "/v1/sales", ptSale("S-1", `"buyer": {"nif": "501442600", "name": "Cliente, S.A."}, `))
	require.Equal(t, http.StatusCreated, code, "%v", out)
	sale := out["sale"].(map[string]any)
	require.Equal(t, "pending", sale["state"], "answered at once, before InvoiceXpress")
	require.Equal(t, false, sale["invoice"])
	require.Contains(t, sale["message"], "not yet an invoice")

	en := e.waitIssued(t, "S-1")
	require.Equal(t, 1, e.ix.Finals(posagent.PTInvoiceReceipt, "S-1"))
	require.Equal(t, "501442600", en.Document.BuyerNIF)
	require.NotEmpty(t, en.Document.ATCUD)
	require.True(t, en.Print.OriginalSpent)
	jobs := e.printer.all()
	require.Len(t, jobs, 1)
	require.Equal(t, en.Document.QRText, decodeReceiptQR(t, jobs[0]), "the QR on paper is the stand-in's")
	docs := e.ix.ByReference(posagent.PTInvoiceReceipt, "S-1")
	require.Len(t, docs, 1)
	require.Equal(t, docs[0].QRText, en.Document.QRText)
	require.Equal(t, "CAFE", docs[0].Lines[0].Name, "the item's name at InvoiceXpress is its SKU")
	require.Equal(t, "Café", docs[0].Lines[0].Description)
	require.Empty(t, e.silentChanges(), "posagent never relies on a silent fallback")

	code, out = e.do(t, http.MethodGet, "/v1/sales/S-1", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "issued", out["state"])
	require.Equal(t, true, out["invoice"])

	// The same sale again: the stored one, no second document; changed: conflict.
	code, out = e.do(t, http.MethodPost, "/v1/sales", ptSale("S-1", `"buyer": {"nif": "501442600", "name": "Cliente, S.A."}, `))
	require.Equal(t, http.StatusOK, code, "%v", out)
	require.Equal(t, true, out["replayed"])
	code, _ = e.do(t, http.MethodPost, "/v1/sales", ptSale("S-1", ""))
	require.Equal(t, http.StatusConflict, code)

	// A reprint is a copy.
	code, out = e.do(t, http.MethodPost, "/v1/sales/S-1/reprint", "")
	require.Equal(t, http.StatusOK, code, "%v", out)
	require.Equal(t, true, out["reprint"])
	require.Len(t, e.printer.all(), 2)
	require.Equal(t, 1, e.ix.Finals(posagent.PTInvoiceReceipt, "S-1"))
}

func TestPTNIFVectors(t *testing.T) {
	for _, tc := range []struct {
		name, buyer, policy string
		status              int
		field, nif, note    string
	}{
		{"valid company NIF", `{"nif": "501442600", "name": "Empresa"}`, "refuse", 201, "", "501442600", ""},
		{"valid personal NIF", `{"nif": "123456789"}`, "refuse", 201, "", "123456789", ""},
		{"final consumer", `{"nif": "999999990"}`, "refuse", 201, "", "999999990", ""},
		{"bad check digit refused", `{"nif": "123456780"}`, "refuse", 422, "buyer.nif", "", ""},
		{"eight digits refused", `{"nif": "12345678"}`, "refuse", 422, "buyer.nif", "", ""},
		{"leading zero refused", `{"nif": "012345678"}`, "refuse", 422, "buyer.nif", "", ""},
		{"name without NIF refused", `{"name": "Alguém"}`, "refuse", 422, "buyer.nif", "", ""},
		{"bad NIF to the final consumer, said so", `{"nif": "123456780", "name": "X"}`, "final_consumer", 201, "", "", "final consumer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startPT(t, func(c *config.Config) { c.Portugal.InvalidNIF = tc.policy }, invoicexpresstest.Options{})
			code, out := e.do(t, http.MethodPost, "/v1/sales", ptSale("N-1", `"buyer": `+tc.buyer+`, `))
			require.Equal(t, tc.status, code, "%v", out)
			if tc.status != 201 {
				require.Equal(t, tc.field, out["field"])
				_, err := e.store.PTEntry(context.Background(), "N-1")
				require.True(t, posagent.IsKind(err, posagent.KindNotFound), "a refused sale is not stored")
				return
			}
			sale := out["sale"].(map[string]any)
			if tc.note != "" {
				require.Contains(t, sale["note"], tc.note)
			}
			en := e.waitIssued(t, "N-1")
			docs := e.ix.ByReference(posagent.PTInvoiceReceipt, "N-1")
			require.Len(t, docs, 1)
			want := tc.nif
			if want == "" {
				want = posagent.FinalConsumerNIF
			}
			require.Equal(t, want, docs[0].NIF)
			require.Equal(t, tc.nif, strings.TrimPrefix(en.Request.BuyerNIF, ""))
			require.Empty(t, e.silentChanges(), "InvoiceXpress never had to fall back")
		})
	}
}

func TestPTTaxesAndExemptions(t *testing.T) {
	item := func(rate, exemption string) string {
		ex := ""
		if exemption != "" {
			ex = fmt.Sprintf(`, "exemption": %q`, exemption)
		}
		return fmt.Sprintf(`{"sale_id": "T-1", "items": [{"sku": "X1", "name": "Artigo", "quantity": 1, "unit_price": "10.00", "vat_rate": %s%s}]}`, rate, ex)
	}
	for _, tc := range []struct {
		name, region, sale string
		status             int
		field, tax         string
	}{
		{"mainland 23", "PT", item("23", ""), 201, "", "IVA23"},
		{"mainland 13", "PT", item("13", ""), 201, "", "IVA13"},
		{"mainland 6", "PT", item("6", ""), 201, "", "IVA6"},
		{"exempt with reason", "PT", item("0", "M07"), 201, "", "IVA0"},
		{"a rate the account lacks (InvoiceXpress would apply IVA23)", "PT", item("24", ""), 422, "items[0].vat_rate", ""},
		{"Madeira rate on a mainland till", "PT", item("22", ""), 422, "items[0].vat_rate", ""},
		{"Madeira 22", "PT-MA", item("22", ""), 201, "", "IVA22-MA"},
		{"mainland rate in Madeira", "PT-MA", item("23", ""), 422, "items[0].vat_rate", ""},
		{"Azores 16", "PT-AC", item("16", ""), 201, "", "IVA16-AC"},
		{"exempt in the Azores", "PT-AC", item("0", "M16"), 201, "", "IVA0"},
		{"0 % without reason", "PT", item("0", ""), 422, "items[0].exemption", ""},
		{"reason out of range", "PT", item("0", "M100"), 422, "items[0].exemption", ""},
		{"reason on a taxed line", "PT", item("23", "M07"), 422, "items[0].exemption", ""},
		{"unit price with tenths of a cent", "PT", strings.Replace(item("23", ""), `"10.00"`, `"10.001"`, 1), 422, "items[0].unit_price", ""},
		{"price as a float-looking exponent", "PT", strings.Replace(item("23", ""), `"10.00"`, `1e3`, 1), 422, "items[0].unit_price", ""},
		{"unknown key", "PT", strings.Replace(item("23", ""), `"name"`, `"nome": "x", "name"`, 1), 400, "items[0].nome", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startPT(t, func(c *config.Config) { c.Portugal.Region = tc.region }, invoicexpresstest.Options{})
			code, out := e.do(t, http.MethodPost, "/v1/sales", tc.sale)
			require.Equal(t, tc.status, code, "%v", out)
			if tc.status != 201 {
				require.Equal(t, tc.field, out["field"], "%v", out)
				return
			}
			e.waitIssued(t, "T-1")
			docs := e.ix.ByReference(posagent.PTInvoiceReceipt, "T-1")
			require.Len(t, docs, 1)
			require.Equal(t, tc.tax, docs[0].Lines[0].TaxName)
			require.Empty(t, e.silentChanges(), "InvoiceXpress never had to fall back")
		})
	}
}

// TestPTOffline200ThenOnline: the till sells 200 sales with InvoiceXpress out
// of reach, each answered at once; back online, every one is issued exactly
// once, numbered in sale order, printed once as the original, and the QR on
// each paper is the stand-in's.
func TestPTOffline200ThenOnline(t *testing.T) {
	e := startPT(t, nil, invoicexpresstest.Options{})
	e.ix.Down()
	const n = 200
	answers := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		code, out := e.do(t, http.MethodPost, "/v1/sales", ptSale(fmt.Sprintf("OFF-%03d", i), ""))
		answers = append(answers, time.Since(start))
		require.Equal(t, http.StatusCreated, code, "%v", out)
		require.Equal(t, "pending", out["sale"].(map[string]any)["state"])
	}
	code, st := e.do(t, http.MethodGet, "/v1/status", "")
	require.Equal(t, http.StatusOK, code)
	pt := st["portugal"].(map[string]any)
	require.EqualValues(t, n, pt["pending"])
	require.Empty(t, e.printer.all(), "nothing that looks like an invoice is printed offline")
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+ptToken)
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	require.Contains(t, rec.Body.String(), `posagent_pt_documents{state="pending"} 200`)
	require.Contains(t, rec.Body.String(), "posagent_pt_oldest_pending_seconds")
	require.Empty(t, e.ix.Documents(), "nothing reached InvoiceXpress")

	e.ix.Up()
	online := time.Now()
	code, _ = e.do(t, http.MethodPost, "/v1/provider/resume", "")
	require.Equal(t, http.StatusOK, code)
	e.waitFor(t, "200 receipts", func() bool { return len(e.printer.all()) == n })
	slices.Sort(answers)
	// Figures for the README, not assertions.
	t.Logf("offline sale answered in %v median (max %v); %d documents issued and printed %v after the link came back",
		answers[n/2], answers[n-1], n, time.Since(online).Round(time.Millisecond))

	jobs := e.printer.all()
	prev := 0
	for i := range n {
		ref := fmt.Sprintf("OFF-%03d", i)
		en := e.entry(t, ref)
		require.Equal(t, queue.PTIssued, en.State)
		require.Equal(t, 1, en.Print.Attempts, "%s printed once", ref)
		require.Equal(t, 1, e.ix.Finals(posagent.PTInvoiceReceipt, ref), "%s issued once", ref)
		seq, err := strconv.Atoi(strings.SplitN(en.Document.SequenceNumber, "/", 2)[0])
		require.NoError(t, err)
		require.Greater(t, seq, prev, "%s numbered in sale order", ref)
		prev = seq
		require.Equal(t, en.Document.QRText, decodeReceiptQR(t, jobs[i]), "%s: the QR on paper", ref)
	}
	require.Len(t, e.ix.Documents(), n, "no duplicate draft or document left")
}

// TestPTFaultMatrix: every fault the stand-in knows, on create and on
// finalize, ends with exactly one final document for the sale.
func TestPTFaultMatrix(t *testing.T) {
	faults := []invoicexpresstest.Fault{
		{Kind: invoicexpresstest.FaultStatus, Status: 500},
		{Kind: invoicexpresstest.FaultStatus, Status: 429, RetryAfter: "0"},
		{Kind: invoicexpresstest.FaultRefuse},
		{Kind: invoicexpresstest.FaultStall},
		{Kind: invoicexpresstest.FaultLoseAnswer},
		{Kind: invoicexpresstest.FaultActThenStall},
	}
	for _, op := range []invoicexpresstest.Op{invoicexpresstest.OpCreate, invoicexpresstest.OpFinalize, invoicexpresstest.OpQR} {
		for _, f := range faults {
			f.Op = op
			t.Run(string(op)+"/"+f.Kind.String()+strconv.Itoa(f.Status), func(t *testing.T) {
				e := startPT(t, func(c *config.Config) {
					c.Portugal.InvoiceXpress.Timeout = config.Duration{Duration: 300 * time.Millisecond}
				}, invoicexpresstest.Options{})
				e.ix.Inject(f, 1)
				code, out := e.do(t, http.MethodPost, "/v1/sales", ptSale("F-1", ""))
				require.Equal(t, http.StatusCreated, code, "%v", out)
				e.waitIssued(t, "F-1")
				require.Equal(t, 1, e.ix.Finals(posagent.PTInvoiceReceipt, "F-1"))
				require.Equal(t, 0, e.ix.Drafts(posagent.PTInvoiceReceipt, "F-1"), "duplicate drafts are deleted")
				require.Len(t, e.printer.all(), 1)
			})
		}
	}
}

// A document InvoiceXpress refuses is held for a person; the sales behind it
// are issued; once fixed and retried it is issued too.
func TestPTRefusedDocumentHeldQueueGoesOn(t *testing.T) {
	e := startPT(t, nil, invoicexpresstest.Options{})
	e.ix.Inject(invoicexpresstest.Fault{Kind: invoicexpresstest.FaultStatus, Op: invoicexpresstest.OpCreate, Status: 422,
		Body: `{"errors":[{"error":"Client is invalid"}]}`}, 1)
	code, _ := e.do(t, http.MethodPost, "/v1/sales", ptSale("H-1", ""))
	require.Equal(t, http.StatusCreated, code)
	code, _ = e.do(t, http.MethodPost, "/v1/sales", ptSale("H-2", ""))
	require.Equal(t, http.StatusCreated, code)
	e.waitIssued(t, "H-2")
	require.Equal(t, queue.PTHeld, e.entry(t, "H-1").State)
	code, st := e.do(t, http.MethodGet, "/v1/status", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "critical", st["level"])
	require.Contains(t, fmt.Sprint(st["alarms"]), "pt_held")
	code, out := e.do(t, http.MethodGet, "/v1/sales/H-1", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "held", out["state"])
	require.Contains(t, out["last_error"], "Client is invalid")

	code, _ = e.do(t, http.MethodPost, "/v1/sales/H-1/retry", "")
	require.Equal(t, http.StatusOK, code)
	e.waitIssued(t, "H-1")
	require.Equal(t, 1, e.ix.Finals(posagent.PTInvoiceReceipt, "H-1"))
}

// A series without AT validation code (N/D) stops issuing (nothing is sent)
// and raises the alarm; sales are still accepted; registered, they go out.
func TestPTSeriesNotRegistered(t *testing.T) {
	e := startPT(t, nil, invoicexpresstest.Options{ValidationCodes: map[posagent.PTDocType]string{posagent.PTInvoiceReceipt: "N/D"}})
	code, _ := e.do(t, http.MethodPost, "/v1/sales", ptSale("ND-1", ""))
	require.Equal(t, http.StatusCreated, code)
	e.waitFor(t, "the alarm", func() bool {
		_, st := e.do(t, http.MethodGet, "/v1/status", "")
		return strings.Contains(fmt.Sprint(st["alarms"]), "pt_series")
	})
	require.Equal(t, queue.PTPending, e.entry(t, "ND-1").State)
	require.Empty(t, e.ix.Documents(), "nothing is created for a series AT does not know")
	e.ix.SetValidationCode(posagent.PTInvoiceReceipt, "AAJFJ3VNTN")
	code, _ = e.do(t, http.MethodPost, "/v1/pt/taxes/refresh", "")
	require.Equal(t, http.StatusOK, code)
	code, _ = e.do(t, http.MethodPost, "/v1/provider/resume", "")
	require.Equal(t, http.StatusOK, code)
	e.waitIssued(t, "ND-1")
}

func TestPTDraftsOnlyThenFinalizeInOrder(t *testing.T) {
	e := startPT(t, func(c *config.Config) { c.Portugal.DraftsOnly = true }, invoicexpresstest.Options{})
	for i := range 3 {
		code, _ := e.do(t, http.MethodPost, "/v1/sales", ptSale(fmt.Sprintf("D-%d", i), ""))
		require.Equal(t, http.StatusCreated, code)
	}
	e.waitFor(t, "3 drafts", func() bool {
		_, out := e.do(t, http.MethodGet, "/v1/pt/drafts", "")
		ds, _ := out["drafts"].([]any)
		return len(ds) == 3
	})
	for i := range 3 {
		require.Equal(t, 1, e.ix.Drafts(posagent.PTInvoiceReceipt, fmt.Sprintf("D-%d", i)))
		require.Equal(t, 0, e.ix.Finals(posagent.PTInvoiceReceipt, fmt.Sprintf("D-%d", i)))
	}
	require.Empty(t, e.printer.all(), "a draft is not an invoice: nothing printed")
	code, out := e.do(t, http.MethodPost, "/v1/pt/drafts/finalize", "")
	require.Equal(t, http.StatusAccepted, code)
	require.EqualValues(t, 3, out["queued"])
	prev := 0
	for i := range 3 {
		en := e.waitIssued(t, fmt.Sprintf("D-%d", i))
		require.Equal(t, 1, e.ix.Finals(posagent.PTInvoiceReceipt, en.Ref))
		require.Equal(t, 0, e.ix.Drafts(posagent.PTInvoiceReceipt, en.Ref))
		seq, _ := strconv.Atoi(strings.SplitN(en.Document.SequenceNumber, "/", 2)[0])
		require.Greater(t, seq, prev)
		prev = seq
	}
}

func TestPTCancelAndCreditNote(t *testing.T) {
	e := startPT(t, nil, invoicexpresstest.Options{})
	for _, id := range []string{"C-1", "C-2"} {
		code, _ := e.do(t, http.MethodPost, "/v1/sales", ptSale(id, ""))
		require.Equal(t, http.StatusCreated, code)
	}
	sale1 := e.waitIssued(t, "C-1")
	sale2 := e.waitIssued(t, "C-2")

	code, out := e.do(t, http.MethodPost, "/v1/sales/C-1/cancel", `{"message": ""}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Equal(t, "message", out["field"])
	code, _ = e.do(t, http.MethodPost, "/v1/sales/C-1/cancel", `{"message": "Venda anulada pelo cliente"}`)
	require.Equal(t, http.StatusAccepted, code)
	e.waitFor(t, "the cancel", func() bool { return e.entry(t, "C-1").CancelState == "done" })
	d, ok := e.ix.Document(sale1.Document.ID)
	require.True(t, ok)
	require.Equal(t, "canceled", d.Status)
	require.Equal(t, "Venda anulada pelo cliente", d.CancelMessage)
	code, _ = e.do(t, http.MethodPost, "/v1/sales/C-1/cancel", `{"message": "outra vez"}`)
	require.Equal(t, http.StatusConflict, code)

	code, out = e.do(t, http.MethodPost, "/v1/sales/C-2/credit-notes", `{"refund_id": "C-2-R"}`)
	require.Equal(t, http.StatusAccepted, code, "%v", out)
	cn := e.waitIssued(t, "C-2-R")
	require.Equal(t, posagent.PTCreditNote, cn.Document.Type)
	require.Equal(t, 1, e.ix.Finals(posagent.PTCreditNote, "C-2-R"))
	notes := e.ix.ByReference(posagent.PTCreditNote, "C-2-R")
	require.Len(t, notes, 1)
	require.Equal(t, sale2.Document.ID, notes[0].OwnerID, "linked by owner_invoice_id")
	code, _ = e.do(t, http.MethodPost, "/v1/sales/C-2/credit-notes", `{"refund_id": "C-2-R2"}`)
	require.Equal(t, http.StatusConflict, code, "a sale is refunded once")
	code, _ = e.do(t, http.MethodPost, "/v1/sales/C-2/credit-notes", `{"refund_id": "C-2-R"}`)
	require.Equal(t, http.StatusAccepted, code, "the same refund asked again is the same credit note")
	require.Equal(t, 1, e.ix.Finals(posagent.PTCreditNote, "C-2-R"))
}

func TestPTNoTaxesYetRefusesSale(t *testing.T) {
	e := startPT(t, nil, invoicexpresstest.Options{})
	require.NoError(t, e.store.PTSetTaxes(context.Background(), nil))
	code, out := e.do(t, http.MethodPost, "/v1/sales", ptSale("X-1", ""))
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, "taxes_unknown", out["code"])
}

func TestPTSecretNeverInAnswers(t *testing.T) {
	e := startPT(t, nil, invoicexpresstest.Options{})
	e.ix.Down()
	code, _ := e.do(t, http.MethodPost, "/v1/sales", ptSale("K-1", ""))
	require.Equal(t, http.StatusCreated, code)
	e.waitFor(t, "a failed attempt", func() bool { return e.entry(t, "K-1").Attempts > 0 })
	for _, path := range []string{"/v1/status", "/v1/sales/K-1", "/v1/pt/documents"} {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+ptToken)
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		require.NotContains(t, rec.Body.String(), invoicexpresstest.DemoAPIKey, path)
	}
	require.NotContains(t, e.entry(t, "K-1").LastError, invoicexpresstest.DemoAPIKey)
	// Retried again and again, the head of the queue raises the alarm.
	var alarms string
	e.waitFor(t, "the retry alarm", func() bool {
		_, st := e.do(t, http.MethodGet, "/v1/status", "")
		alarms = fmt.Sprint(st["alarms"])
		return strings.Contains(alarms, "pt_retrying")
	})
	require.NotContains(t, alarms, invoicexpresstest.DemoAPIKey)
}

// Offline with pending_slip: a sale that waits gets the "not an invoice"
// slip; back online with the printer out of paper, the documents are issued
// and their receipts print once the paper is back, each once, as the original.
func TestPTPendingSlipAndPaperOut(t *testing.T) {
	e := startPT(t, func(c *config.Config) { c.Portugal.PendingSlip = true }, invoicexpresstest.Options{})
	e.ix.Down()
	code, _ := e.do(t, http.MethodPost, "/v1/sales", ptSale("P-1", ""))
	require.Equal(t, http.StatusCreated, code)
	e.waitFor(t, "a failed attempt", func() bool { return e.entry(t, "P-1").Attempts > 0 })
	code, out := e.do(t, http.MethodPost, "/v1/sales", ptSale("P-2", ""))
	require.Equal(t, http.StatusCreated, code)
	sale := out["sale"].(map[string]any)
	require.Equal(t, "pending", sale["state"])
	require.Equal(t, true, sale["slip"].(map[string]any)["printed"], "%v", sale)
	jobs := e.printer.all()
	require.Len(t, jobs, 1)
	require.Contains(t, string(jobs[0]), "Este documento\nn\x84o serve de\nfatura", "the slip says it is not an invoice (CP860)")
	require.NotContains(t, string(jobs[0]), "ATCUD", "nothing on the slip looks like a document")

	e.printer.mu.Lock()
	e.printer.paperOut = true
	e.printer.mu.Unlock()
	e.ix.Up()
	code, _ = e.do(t, http.MethodPost, "/v1/provider/resume", "")
	require.Equal(t, http.StatusOK, code)
	e.waitFor(t, "both issued", func() bool {
		return e.entry(t, "P-1").State == queue.PTIssued && e.entry(t, "P-2").State == queue.PTIssued
	})
	e.printer.mu.Lock()
	e.printer.paperOut = false
	e.printer.mu.Unlock()
	e.waitIssued(t, "P-1")
	e.waitIssued(t, "P-2")
	jobs = e.printer.all()
	require.Len(t, jobs, 3, "the slip, then each receipt once")
	for _, j := range jobs[1:] {
		require.Contains(t, string(j), "Original")
		require.NotContains(t, string(j), " via", "not a copy: nothing reached paper while it was out")
	}
}

// The same faults on a credit note's create and finalize and on a cancel:
// one final credit note, linked to its sale; the document cancelled once.
func TestPTFaultMatrixCreditNoteAndCancel(t *testing.T) {
	faults := []invoicexpresstest.Fault{
		{Kind: invoicexpresstest.FaultStatus, Status: 500},
		{Kind: invoicexpresstest.FaultStatus, Status: 429, RetryAfter: "0"},
		{Kind: invoicexpresstest.FaultRefuse},
		{Kind: invoicexpresstest.FaultLoseAnswer},
		{Kind: invoicexpresstest.FaultActThenStall},
	}
	for _, f := range faults {
		for _, op := range []invoicexpresstest.Op{invoicexpresstest.OpCreate, invoicexpresstest.OpFinalize, invoicexpresstest.OpCancel} {
			f := f
			f.Op = op
			if op != invoicexpresstest.OpCancel {
				f.Type = posagent.PTCreditNote
			}
			t.Run(string(op)+"/"+f.Kind.String()+strconv.Itoa(f.Status), func(t *testing.T) {
				e := startPT(t, func(c *config.Config) {
					c.Portugal.InvoiceXpress.Timeout = config.Duration{Duration: 300 * time.Millisecond}
				}, invoicexpresstest.Options{})
				code, _ := e.do(t, http.MethodPost, "/v1/sales", ptSale("M-1", ""))
				require.Equal(t, http.StatusCreated, code)
				sale := e.waitIssued(t, "M-1")
				e.ix.Inject(f, 1)
				if op == invoicexpresstest.OpCancel {
					code, _ = e.do(t, http.MethodPost, "/v1/sales/M-1/cancel", `{"message": "Erro de registo"}`)
					require.Equal(t, http.StatusAccepted, code)
					e.waitFor(t, "the cancel", func() bool { return e.entry(t, "M-1").CancelState == "done" })
					d, ok := e.ix.Document(sale.Document.ID)
					require.True(t, ok)
					require.Equal(t, "canceled", d.Status)
					return
				}
				code, _ = e.do(t, http.MethodPost, "/v1/sales/M-1/credit-notes", `{"refund_id": "M-1-R"}`)
				require.Equal(t, http.StatusAccepted, code)
				e.waitIssued(t, "M-1-R")
				require.Equal(t, 1, e.ix.Finals(posagent.PTCreditNote, "M-1-R"))
				require.Equal(t, 0, e.ix.Drafts(posagent.PTCreditNote, "M-1-R"))
				notes := e.ix.ByReference(posagent.PTCreditNote, "M-1-R")
				require.Len(t, notes, 1)
				require.Equal(t, sale.Document.ID, notes[0].OwnerID)
			})
		}
	}
}

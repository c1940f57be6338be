package agent_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/ecpay"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
	"github.com/posagent/posagent/qr"
	"github.com/posagent/posagent/queue"
)

// Two sellers on one till (a food-court counter): a café, the default, and
// a bakery, each with its own ECPay merchant (a stand-in of its own, its own
// tracks), its own QR key and booklets.
const (
	cafeTaxID   = "24634102"
	bakeryTaxID = "53212539"
	bakeryQRKey = "0A1B2C3D4E5F60718293A4B5C6D7E8F9"
)

type sellerE2E struct {
	*e2e
	stands map[string]*ecpaytest.Server
	provs  map[string]*recorder
}

// startSellersE2E runs an agent for the café and the bakery against two
// ECPay stand-ins, each seller leasing from its own; edits change the
// configuration before it is validated.
func startSellersE2E(t *testing.T, edits ...func(*config.Config)) *sellerE2E {
	t.Helper()
	e := &sellerE2E{e2e: &e2e{t: t, dir: t.TempDir(), logs: &lockedBuffer{}, client: &http.Client{Timeout: 30 * time.Second}},
		stands: map[string]*ecpaytest.Server{}, provs: map[string]*recorder{}}
	log := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	now := time.Now()
	p := posagent.PeriodOf(now)
	pool := func(header string, start int) []ecpaytest.Allocation {
		var out []ecpaytest.Allocation
		for _, q := range []posagent.Period{p, p.Next()} {
			out = append(out, ecpaytest.Allocation{Year: q.Year, Term: q.Term(), InvType: "07", Header: header, Start: start, End: start + 9999})
		}
		return out
	}
	e.stands[cafeTaxID] = ecpaytest.New(ecpaytest.Options{Logger: log, Pool: pool("ZZ", 10000000)})
	e.stands[bakeryTaxID] = ecpaytest.New(ecpaytest.Options{Logger: log, Pool: pool("YY", 20000000),
		MerchantID: "3002607", HashKey: "pwFHCqoQZGmho4w6", HashIV: "EkRm7iFT261dpevs"})
	for _, s := range e.stands {
		t.Cleanup(s.Close)
	}

	cfg := config.DefaultConfig()
	cfg.Terminal.MachineID = e2eMachine
	cfg.Printer.Profile = "58mm"
	cfg.Store.Path = filepath.Join(e.dir, "posagent.db")
	cfg.API.Token = e2eToken
	cfg.Sync.BackoffBase = config.Duration{Duration: 50 * time.Millisecond}
	cfg.Sync.BackoffCap = config.Duration{Duration: 500 * time.Millisecond}
	cfg.Sync.CallTimeout = config.Duration{Duration: 2 * time.Second}
	cfg.Reconcile.Enabled = false // tests reconcile on demand, on the day they sold
	for _, s := range []struct{ taxID, name, key string }{{cafeTaxID, "美食街咖啡", e2eQRKey}, {bakeryTaxID, "美食街麵包", bakeryQRKey}} {
		stand := e.stands[s.taxID]
		ec := stand.Config(e2eMachine)
		seller := config.Seller{TaxID: s.taxID, Name: s.name, QR: config.QR{Key: config.Secret(s.key), Encoding: "utf8"},
			Provider: config.Provider{Name: "ecpay", ECPay: config.ECPay{MerchantID: ec.MerchantID, HashKey: config.Secret(ec.HashKey),
				HashIV: config.Secret(ec.HashIV), BaseURL: stand.URL(), Timeout: config.Duration{Duration: 5 * time.Second}}},
			Booklets: config.Booklets{LowWater: 50, Lease: 2, LeaseAhead: config.Duration{Duration: time.Hour}}}
		cfg.Sellers = append(cfg.Sellers, seller)
	}
	cfg.Sellers[0].Default = true
	for _, edit := range edits {
		edit(&cfg)
	}
	require.NoError(t, cfg.Validate())
	e.cfg = cfg

	kits := map[string]agent.ProofKit{}
	var sellers []agent.SellerOptions
	for _, s := range cfg.SellerList() {
		kit, err := agent.NewProofKit(cfg.ForSeller(s), log)
		require.NoError(t, err)
		kits[s.TaxID] = kit
		ec := e.stands[s.TaxID].Config(e2eMachine)
		ec.Logger, ec.Timeout = log, 2*time.Second
		client, err := ecpay.New(ec)
		require.NoError(t, err)
		e.provs[s.TaxID] = &recorder{Client: client}
		sellers = append(sellers, agent.SellerOptions{TaxID: s.TaxID, Coder: kit.Coder, Provider: e.provs[s.TaxID]})
	}
	var err error
	e.store, err = queue.Open(cfg.Store.Path, queue.Options{Logger: log})
	require.NoError(t, err)
	e.agent, err = agent.New(agent.Options{Config: cfg, Store: &agent.QueueStore{S: e.store}, Printer: discardPrinter{},
		Render: agent.RenderBySeller(kits, cafeTaxID), Sellers: sellers, Logger: log,
		PollInterval: 20 * time.Millisecond, ShutdownGrace: 2 * time.Second})
	require.NoError(t, err)

	e.serve() // each seller leases from its own stand-in first
	return e
}

// sellFor sells for a seller: taxID "" names none (the default's).
func (e *sellerE2E) sellFor(id, taxID string) map[string]any {
	e.t.Helper()
	seller := ""
	if taxID != "" {
		seller = fmt.Sprintf(`"seller":{"tax_id":%q},`, taxID)
	}
	code, body := e.call("POST", "/v1/sales", fmt.Sprintf(`{"sale_id":%q,%s"items":[{"name":"拿鐵","quantity":1,"unit_price":%d}]}`, id, seller, 60+len(id)))
	require.Equal(e.t, http.StatusCreated, code, "%v", body)
	return body
}

type sold struct {
	number, left, right string
}

// Two sellers sell at once from one till: each invoice takes its number
// from its seller's booklets, carries its seller's QR key and reaches its
// seller's provider alone; numbers and uploads never cross.
func TestTwoSellersSellAtOnce(t *testing.T) {
	t.Parallel()
	e := startSellersE2E(t)
	const perSeller = 40
	results := map[string][]sold{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, taxID := range []string{cafeTaxID, bakeryTaxID} {
		for w := range 2 {
			wg.Go(func() {
				for i := range perSeller / 2 {
					name := taxID
					if taxID == cafeTaxID && i%2 == 0 {
						name = "" // the default seller, unnamed
					}
					ans := e.sellFor(fmt.Sprintf("%s-%d-%d", taxID, w, i), name)
					inv := ans["invoice"].(map[string]any)
					require.Equal(t, taxID, inv["seller"].(map[string]any)["tax_id"])
					mu.Lock()
					results[taxID] = append(results[taxID], sold{ans["number"].(string), ans["qr_left"].(string), ans["qr_right"].(string)})
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	e.waitUploaded(60 * time.Second)

	tracks := map[string]string{cafeTaxID: "ZZ", bakeryTaxID: "YY"}
	keys := map[string]string{cafeTaxID: e2eQRKey, bakeryTaxID: bakeryQRKey}
	for taxID, list := range results {
		other := cafeTaxID
		if taxID == cafeTaxID {
			other = bakeryTaxID
		}
		require.Len(t, list, perSeller)
		key, err := qr.ParseKey(keys[taxID])
		require.NoError(t, err)
		otherKey, err := qr.ParseKey(keys[other])
		require.NoError(t, err)
		want := map[string]bool{}
		for _, s := range list {
			require.True(t, strings.HasPrefix(s.number, tracks[taxID]), "%s sold %s from another seller's booklets", taxID, s.number)
			f, err := qr.Decode(s.left, s.right)
			require.NoError(t, err)
			require.Equal(t, taxID, f.SellerTaxID)
			require.NoError(t, f.Verify(key), "%s: the QR's AES field is not its seller's", s.number)
			require.Error(t, f.Verify(otherKey))
			want[s.number] = true
		}
		// Each stand-in holds its seller's invoices, and only those.
		got := map[string]bool{}
		for _, inv := range e.stands[taxID].Invoices() {
			require.False(t, got[inv.Number], "%s uploaded twice", inv.Number)
			got[inv.Number] = true
		}
		require.Equal(t, want, got, "seller %s's provider", taxID)
	}

	// The booklets say whose they are; status and metrics break down by seller.
	bs, err := e.store.Booklets(context.Background(), posagent.Period{})
	require.NoError(t, err)
	for _, b := range bs {
		require.Equal(t, map[string]string{"ZZ": cafeTaxID, "YY": bakeryTaxID}[b.Track], b.Seller, "%s", b)
	}
	code, st := e.call("GET", "/v1/status", "")
	require.Equal(t, 200, code)
	sellers := st["sellers"].([]any)
	require.Len(t, sellers, 2)
	for i, taxID := range []string{cafeTaxID, bakeryTaxID} {
		sv := sellers[i].(map[string]any)
		require.Equal(t, taxID, sv["tax_id"])
		require.Equal(t, i == 0, sv["default"])
		require.Equal(t, true, sv["provider"].(map[string]any)["online"])
		require.Equal(t, float64(0), sv["queue"].(map[string]any)["pending"])
		left := sv["numbers"].([]any)[0].(map[string]any)["left"].(float64)
		require.Equal(t, float64(100-perSeller), left, "%s leased 2 booklets and sold %d", taxID, perSeller)
	}
	_, m := e.call("GET", "/metrics", "")
	for _, taxID := range []string{cafeTaxID, bakeryTaxID} {
		require.Contains(t, m["text"], fmt.Sprintf(`posagent_seller_sales_total{seller="%s"} %d`, taxID, perSeller))
		require.Contains(t, m["text"], fmt.Sprintf(`posagent_seller_numbers_left{period="%s",seller="%s"} %d`,
			posagent.PeriodOf(time.Now()).Code(), taxID, 100-perSeller))
		require.Contains(t, m["text"], fmt.Sprintf(`posagent_seller_provider_online{provider="ecpay",seller="%s"} 1`, taxID))
	}
	// No secret of either seller in status, metrics or the log.
	for _, secret := range []string{e2eQRKey, bakeryQRKey, "pwFHCqoQZGmho4w6", "EkRm7iFT261dpevs", ecpaytest.StageHashKey, ecpaytest.StageHashIV} {
		require.NotContains(t, fmt.Sprint(st), secret)
		require.NotContains(t, m["text"], secret)
		require.NotContains(t, e.logs.String(), secret)
	}
}

// One seller's provider down does not stop the other's uploads: the bakery's
// stand-in is down, the café's invoices reach its provider at once while the
// bakery's queue up, and drain when its provider is back.
func TestOneSellersProviderDownTheOtherUploads(t *testing.T) {
	t.Parallel()
	e := startSellersE2E(t)
	e.stands[bakeryTaxID].Down()
	var cafe, bakery []string
	for i := range 10 {
		bakery = append(bakery, e.sellFor(fmt.Sprintf("b-%d", i), bakeryTaxID)["number"].(string))
		cafe = append(cafe, e.sellFor(fmt.Sprintf("c-%d", i), "")["number"].(string))
	}
	require.Eventually(t, func() bool { return len(e.stands[cafeTaxID].Invoices()) == len(cafe) }, 30*time.Second, 20*time.Millisecond,
		"the café's uploads waited for the bakery's provider")
	require.Empty(t, e.stands[bakeryTaxID].Invoices())
	require.Eventually(t, func() bool {
		_, st := e.call("GET", "/v1/status", "")
		sv := st["sellers"].([]any)
		return sv[1].(map[string]any)["provider"].(map[string]any)["online"] == false
	}, 10*time.Second, 20*time.Millisecond, "the bakery's provider is not seen down")
	_, st := e.call("GET", "/v1/status", "")
	sv := st["sellers"].([]any)
	require.Equal(t, true, sv[0].(map[string]any)["provider"].(map[string]any)["online"], "the café's provider")
	require.Equal(t, float64(0), sv[0].(map[string]any)["queue"].(map[string]any)["pending"])
	bq := sv[1].(map[string]any)["queue"].(map[string]any)
	require.Equal(t, float64(len(bakery)), bq["pending"].(float64)+bq["in_flight"].(float64))
	require.Equal(t, bakery[0], bq["oldest_unsent"].(map[string]any)["number"])
	var offline bool
	for _, al := range st["alarms"].([]any) {
		a := al.(map[string]any)
		if a["code"] == "provider_offline" {
			require.Equal(t, bakeryTaxID, a["seller"])
			require.Contains(t, a["message"], "seller "+bakeryTaxID)
			offline = true
		}
	}
	require.True(t, offline, "no alarm for the bakery's provider: %v", st["alarms"])

	e.stands[bakeryTaxID].Up()
	e.waitUploaded(60 * time.Second)
	got := map[string]bool{}
	for _, inv := range e.stands[bakeryTaxID].Invoices() {
		got[inv.Number] = true
	}
	for _, n := range bakery {
		require.True(t, got[n], "%s not uploaded", n)
	}
	require.Len(t, e.stands[cafeTaxID].Invoices(), len(cafe), "the café's provider got another seller's invoices")
}

// A sale for a seller the till does not sell for is refused before a
// number is spent; voids follow the invoice's seller to its provider.
func TestSellerRefusedAndVoidFollowsTheInvoice(t *testing.T) {
	t.Parallel()
	e := startSellersE2E(t)
	code, body := e.call("POST", "/v1/sales", `{"sale_id":"x-1","seller":{"tax_id":"12345675"},"items":[{"name":"水","quantity":1,"unit_price":20}]}`)
	require.Equal(t, 422, code, "%v", body)
	require.Equal(t, "seller.tax_id", body["field"])
	require.Contains(t, body["message"], cafeTaxID+", "+bakeryTaxID)

	n := e.sellFor("v-1", bakeryTaxID)["number"].(string)
	code, body = e.call("POST", "/v1/invoices/"+n+"/void", `{"reason":"打錯"}`)
	require.Equal(t, 202, code, "%v", body)
	e.waitUploaded(30 * time.Second)
	require.Equal(t, []string{"upload " + n, "void " + n}, e.provs[bakeryTaxID].calls())
	require.Empty(t, e.provs[cafeTaxID].calls())
	for _, inv := range e.stands[bakeryTaxID].Invoices() {
		require.True(t, inv.Voided)
	}
}

// Each seller may keep its own guard rails (ho600 keeps them per seller); a
// seller without [sellers.guard] has the till's.
func TestGuardRailsPerSeller(t *testing.T) {
	t.Parallel()
	e := startSellersE2E(t, func(cfg *config.Config) {
		cfg.Guard = config.Guard{ConfirmAbove: 1000}
		cfg.Sellers[1].Guard = &config.Guard{ConfirmAbove: 50000, RefuseAbove: 100000}
	})
	sale := func(id, taxID string, price int, confirmed bool) (int, map[string]any) {
		return e.call("POST", "/v1/sales", fmt.Sprintf(`{"sale_id":%q,"seller":{"tax_id":%q},"confirmed":%t,"items":[{"name":"蛋糕","quantity":1,"unit_price":%d}]}`,
			id, taxID, confirmed, price))
	}
	for i, tc := range []struct {
		name, taxID string
		price       int
		confirmed   bool
		status      int
		code, key   string
	}{
		{"the café has the till's rails", cafeTaxID, 2000, false, 409, agent.CodeNeedsConfirmation, "(guard.confirm_above)"},
		{"the café confirmed", cafeTaxID, 2000, true, 201, "", ""},
		{"the bakery's own rails let it through", bakeryTaxID, 2000, false, 201, "", ""},
		{"the bakery's confirm threshold", bakeryTaxID, 60000, false, 409, agent.CodeNeedsConfirmation, "(sellers[1].guard.confirm_above)"},
		{"the bakery's limit", bakeryTaxID, 150000, true, 422, agent.CodeOverLimit, "(sellers[1].guard.refuse_above)"},
		{"the café has no limit", cafeTaxID, 150000, true, 201, "", ""},
	} {
		code, body := sale(fmt.Sprintf("gs-%d", i), tc.taxID, tc.price, tc.confirmed)
		require.Equal(t, tc.status, code, "%s: %v", tc.name, body)
		if tc.code != "" {
			require.Equal(t, tc.code, body["code"], tc.name)
			require.Contains(t, body["message"], tc.key, tc.name)
		}
	}
}

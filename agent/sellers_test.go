package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/queue"
)

const otherSeller = "53212539"

// blankRecorder is a fake provider that takes blank-number reports.
type blankRecorder struct {
	*fakeProvider
	mu      sync.Mutex
	reports []string
}

func (b *blankRecorder) ReportBlank(ctx context.Context, p posagent.Period, ranges []posagent.Booklet) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range ranges {
		b.reports = append(b.reports, r.String())
	}
	return nil
}

// twoSellers is a till selling for testSeller (the default) and otherSeller,
// each on its own fake provider, on a real SQLite store.
func twoSellers(t *testing.T, c *clock) (*Agent, *queue.Store, map[string]*blankRecorder) {
	t.Helper()
	cfg := testConfig()
	cfg.Sellers = []config.Seller{
		{TaxID: testSeller, Name: "測試咖啡", QR: cfg.QR, Provider: cfg.Provider, Booklets: config.Booklets{Lease: 1}},
		{TaxID: otherSeller, Name: "測試麵包", QR: config.QR{Key: "0A1B2C3D4E5F60718293A4B5C6D7E8F9", Encoding: "utf8"},
			Provider: cfg.Provider, Booklets: config.Booklets{Lease: 1}},
	}
	st, err := queue.Open(filepath.Join(t.TempDir(), "posagent.db"), queue.Options{Now: c.Now})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	provs := map[string]*blankRecorder{}
	var sellers []SellerOptions
	for _, s := range cfg.SellerList() {
		provs[s.TaxID] = &blankRecorder{fakeProvider: newFakeProvider(c.Now)}
		sellers = append(sellers, SellerOptions{TaxID: s.TaxID, Coder: fakeCoder, Provider: provs[s.TaxID]})
	}
	a, err := New(Options{Config: cfg, Store: &QueueStore{S: st}, Sellers: sellers, Now: c.Now, Jitter: func() float64 { return 1 }})
	require.NoError(t, err)
	return a, st, provs
}

// addSellersBooklets gives each seller a booklet of this period: AA is
// testSeller's, BB otherSeller's. It returns the period.
func addSellersBooklets(t *testing.T, a *Agent, c *clock) posagent.Period {
	t.Helper()
	p := posagent.PeriodOf(c.Now())
	for seller, track := range map[string]string{testSeller: "AA", otherSeller: "BB"} {
		require.NoError(t, a.AddBooklet(context.Background(), posagent.Booklet{Track: track, First: 0, Last: 49, Period: p, Seller: seller}))
	}
	return p
}

// drain runs every due job of every seller once, as the sync loop would.
func drain(t *testing.T, a *Agent) {
	t.Helper()
	for _, s := range a.sellers {
		jobs, err := a.store.Claim(context.Background(), a.claimKeys(s), 100, time.Minute)
		require.NoError(t, err)
		for _, j := range jobs {
			a.runJob(context.Background(), s, j)
		}
	}
}

// Deadline alarms and blank-number reports are each seller's: a seller
// whose provider fails is the one alarmed, and each seller's unused numbers
// go to its own provider at the period's end.
func TestSellersDeadlinesAndBlankNumbersApart(t *testing.T) {
	ctx := context.Background()
	c := taipeiClock()
	a, st, provs := twoSellers(t, c)
	p := addSellersBooklets(t, a, c)
	err := a.AddBooklet(ctx, posagent.Booklet{Track: "CC", First: 0, Last: 49, Period: p, Seller: "12345675"})
	require.True(t, posagent.IsKind(err, posagent.KindInvalid), "%v", err)
	for i, seller := range []string{testSeller, otherSeller, testSeller} {
		sale, err := a.PrepareSale(decodeSaleDoc(fmt.Sprintf(`{"sale_id":"s-%d","seller":{"tax_id":%q},"items":[{"name":"茶","quantity":1,"unit_price":35}]}`, i, seller)))
		require.NoError(t, err)
		_, err = a.Sell(ctx, sale)
		require.NoError(t, err)
	}
	provs[otherSeller].fn = func(call) error { return posagent.Errorf(posagent.KindTransient, "connection refused") }
	drain(t, a)
	require.Len(t, provs[testSeller].callList(), 2)
	require.Len(t, provs[otherSeller].callList(), 1)

	c.t = c.t.Add(25 * time.Hour)
	s, err := a.Status(ctx)
	require.NoError(t, err)
	var deadline []Alarm
	for _, al := range s.Alarms {
		if al.Code == "upload_deadline" {
			deadline = append(deadline, al)
		}
	}
	require.Len(t, deadline, 1, "%v", s.Alarms)
	require.Equal(t, otherSeller, deadline[0].Seller)
	require.Equal(t, LevelWarning, deadline[0].Level)
	require.Contains(t, deadline[0].Message, "BB00000000")
	require.Equal(t, LevelOK, s.Sellers[0].Level)
	require.Equal(t, LevelWarning, s.Sellers[1].Level)
	require.Nil(t, s.Sellers[0].Queue.OldestUnsent)
	require.Equal(t, "BB00000000", s.Sellers[1].Queue.OldestUnsent.Number)

	// The period ends: each seller's blank numbers go to its own provider.
	provs[otherSeller].fn = nil
	c.t = p.End().Add(25 * time.Hour)
	a.keepBooklets(ctx)
	for range 3 { // the upload, then the blank report behind nothing
		c.t = c.t.Add(time.Hour)
		drain(t, a)
	}
	require.Equal(t, []string{"AA00000002-AA00000049"}, provs[testSeller].reports)
	require.Equal(t, []string{"BB00000001-BB00000049"}, provs[otherSeller].reports)
	counts, err := st.JobCounts(ctx)
	require.NoError(t, err)
	require.Equal(t, 0, counts[queue.JobPending]+counts[queue.JobDead]+counts[queue.JobClaimed])
}

// A reload that brings no provider for a seller changes nothing.
func TestReloadNeedsEverySellersProvider(t *testing.T) {
	c := taipeiClock()
	a, _, provs := twoSellers(t, c)
	cfg := *a.conf()
	a.reload = func(ctx context.Context) (config.Config, Providers, error) {
		return cfg, Providers{testSeller: newFakeProvider(c.Now)}, nil
	}
	_, err := a.Reload(context.Background())
	require.ErrorContains(t, err, "no provider for seller "+otherSeller)
	require.Same(t, provs[testSeller], a.defaultSeller().prov())

	a.reload = func(ctx context.Context) (config.Config, Providers, error) {
		next := cfg
		next.Sellers = append([]config.Seller(nil), cfg.Sellers...)
		next.Sellers[1].QR.Key = testQRKey
		return next, Providers{testSeller: provs[testSeller], otherSeller: provs[otherSeller]}, nil
	}
	_, err = a.Reload(context.Background())
	require.True(t, posagent.IsKind(err, posagent.KindInvalid), "%v", err)
	require.ErrorContains(t, err, "sellers")
	require.NotContains(t, err.Error(), testQRKey)

	fresh := &blankRecorder{fakeProvider: newFakeProvider(c.Now)}
	a.reload = func(ctx context.Context) (config.Config, Providers, error) {
		next := cfg
		next.Sellers = append([]config.Seller(nil), cfg.Sellers...)
		next.Sellers[1].Booklets.LowWater = 7
		return next, Providers{testSeller: provs[testSeller], otherSeller: fresh}, nil
	}
	res, err := a.Reload(context.Background())
	require.NoError(t, err)
	require.Equal(t, []string{"sellers"}, res.Changed)
	require.Same(t, fresh, a.sellerByTax(otherSeller).prov())
	require.Equal(t, 7, a.sellerConf(a.sellerByTax(otherSeller)).Booklets.LowWater)
	require.Len(t, res.Sellers, 2)
}

// At the counter, every step follows its seller: a reissue of the bakery's
// invoice (the correction naming no seller) is issued from the bakery's
// booklets, a correction for another seller is refused, and an order taken
// for the bakery is numbered from its booklets when issued.
func TestCounterFollowsTheSeller(t *testing.T) {
	ctx := context.Background()
	c := taipeiClock()
	a, _, provs := twoSellers(t, c)
	addSellersBooklets(t, a, c)
	h := &harness{agent: a, handler: a.Handler()}
	code, body := h.do(t, "POST", "/v1/sales", `{"sale_id":"b-1","seller":{"tax_id":"`+otherSeller+`"},"items":[{"name":"可頌","quantity":1,"unit_price":45}]}`)
	require.Equal(t, 201, code, "%v", body)
	require.Equal(t, "BB00000000", body["number"])

	code, body = h.do(t, "POST", "/v1/invoices/BB00000000/reissue", `{"reason":"統編","sale_id":"b-1r","buyer":{"tax_id":"24634102","name":"客戶"},"items":[{"name":"可頌","quantity":1,"unit_price":45}]}`)
	require.Equal(t, 201, code, "%v", body)
	require.Equal(t, "BB00000001", body["number"], "the correction came from another seller's booklets")
	inv := body["reissued"].(map[string]any)["invoice"].(map[string]any)
	require.Equal(t, otherSeller, inv["seller"].(map[string]any)["tax_id"])

	code, body = h.do(t, "POST", "/v1/invoices/BB00000001/reissue", `{"reason":"錯","sale_id":"b-1rr","seller":{"tax_id":"`+testSeller+`"},"items":[{"name":"可頌","quantity":1,"unit_price":45}]}`)
	require.Equal(t, 422, code, "%v", body)
	require.Equal(t, "seller.tax_id", body["field"])
	rec, err := a.Invoice(ctx, "BB00000001")
	require.NoError(t, err)
	require.Nil(t, rec.Void, "a refused reissue voided the invoice")

	code, body = h.do(t, "POST", "/v1/orders", `{"sale_id":"o-1","seller":{"tax_id":"`+otherSeller+`"},"items":[{"name":"蛋糕","quantity":1,"unit_price":300}]}`)
	require.Equal(t, 201, code, "%v", body)
	code, body = h.do(t, "POST", "/v1/orders/o-1/issue", "")
	require.Equal(t, 201, code, "%v", body)
	require.Equal(t, "BB00000002", body["number"])

	drain(t, a)
	for _, cl := range provs[testSeller].callList() {
		require.NotEqual(t, "BB", cl.Number.Track(), "the café's provider got %v", cl)
	}
	require.NotEmpty(t, provs[otherSeller].callList())
}

package agent

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/internal/testmysql"
	"github.com/posagent/posagent/providers/hq"
	"github.com/posagent/posagent/queue"
)

// Two tills of one shop share a MySQL head office: each leases its booklets
// there through the booklet keeper, uploads to its own provider, and sells
// until the head office has nothing left. Promise 2 across terminals: every
// number is issued once, by the terminal that leased it.
func TestTwoTerminalsShareAHeadOffice(t *testing.T) {
	ctx := context.Background()
	office, _ := openOffice(t)

	c := taipeiClock()
	p := posagent.PeriodOf(c.Now())
	const booklets = 6
	require.NoError(t, office.AddRange(ctx, testSeller, posagent.Booklet{
		Track: "QX", First: 40000000, Last: 40000000 + booklets*posagent.BookletSize - 1, Period: p}))

	type till struct {
		id       string
		agent    *Agent
		provider *fakeProvider
		sold     []posagent.InvoiceNumber
	}
	newTill := func(id string) *till {
		prov := newFakeProvider(c.Now)
		cfg := testConfig()
		cfg.Terminal.MachineID = id
		cfg.Booklets.Lease = 1
		cfg.Booklets.LowWater = 10
		a, err := New(Options{
			Config: cfg, Store: newMemStore(c.Now), Printer: &fakePrinter{status: PrinterStatus{Ready: true}},
			Render: fakeRender, Coder: fakeCoder, Provider: prov,
			BookletSource: hq.Source{HQ: office, Seller: testSeller, Terminal: id},
			Now:           c.Now, Jitter: func() float64 { return 1 },
		})
		require.NoError(t, err)
		return &till{id: id, agent: a, provider: prov}
	}
	tills := []*till{newTill("POS01"), newTill("POS02")}
	// Each till leases before its first sale, as Serve does on a fresh install.
	for _, tl := range tills {
		tl.agent.keepBooklets(ctx)
	}

	var wg sync.WaitGroup
	errs := make([]error, len(tills))
	for i, tl := range tills {
		wg.Go(func() {
			for n := 0; ; n++ {
				tl.agent.keepBooklets(ctx)
				sale, err := tl.agent.PrepareSale(decodeSaleDoc(saleJSON(fmt.Sprintf("%s-%d", tl.id, n), 55)))
				if err != nil {
					errs[i] = err
					return
				}
				res, err := tl.agent.Sell(ctx, sale)
				if posagent.IsKind(err, posagent.KindExhausted) {
					return
				}
				if err != nil {
					errs[i] = err
					return
				}
				tl.sold = append(tl.sold, res.Invoice.Number)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, tills[i].id)
	}

	leases, err := office.Leases(ctx, testSeller, p)
	require.NoError(t, err)
	require.Len(t, leases, booklets, "one booklet per lease, all of the range")
	unleased, err := office.Unleased(ctx, testSeller, p)
	require.NoError(t, err)
	require.Empty(t, unleased)

	seen := map[posagent.InvoiceNumber]string{}
	for _, tl := range tills {
		require.NotEmpty(t, tl.sold, "%s sold nothing", tl.id)
		for _, n := range tl.sold {
			if other, dup := seen[n]; dup {
				t.Fatalf("%s issued by %s and %s", n, other, tl.id)
			}
			seen[n] = tl.id
			require.Equal(t, tl.id, leaseHolder(t, leases, n), "%s sold %s, leased to another terminal", tl.id, n)
		}
	}
	t.Logf("POS01 sold %d, POS02 sold %d", len(tills[0].sold), len(tills[1].sold))
	require.Len(t, seen, booklets*posagent.BookletSize, "every number of the range is sold once")
}

// openOffice opens a fresh head office on the test server.
func openOffice(t *testing.T) (*hq.HeadOffice, string) {
	t.Helper()
	dsn := testmysql.DSN(t)
	office, err := hq.Open(context.Background(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { office.Close() })
	office.Logger = slog.New(slog.DiscardHandler)
	return office, dsn
}

func decodeSaleDoc(doc string) posagent.Invoice {
	var inv posagent.Invoice
	if err := inv.UnmarshalJSON([]byte(doc)); err != nil {
		panic(err)
	}
	return inv
}

func leaseHolder(t *testing.T, leases []hq.Lease, n posagent.InvoiceNumber) string {
	t.Helper()
	for _, l := range leases {
		if l.Contains(n) {
			return l.Terminal
		}
	}
	t.Fatalf("%s lies in no lease", n)
	return ""
}

// One till sells for two sellers whose head office is the same MySQL: each
// seller leases its own booklets there (the ledger names the seller), and
// every number the till issues lies in a lease of the invoice's seller.
func TestTwoSellersOnOneTillShareAHeadOffice(t *testing.T) {
	ctx := context.Background()
	office, dsn := openOffice(t)

	c := taipeiClock()
	p := posagent.PeriodOf(c.Now())
	const other = "53212539"
	tracks := map[string]string{testSeller: "QX", other: "QY"}
	for seller, track := range tracks {
		require.NoError(t, office.AddRange(ctx, seller, posagent.Booklet{Track: track, First: 40000000, Last: 40000000 + 3*posagent.BookletSize - 1, Period: p}))
	}

	cfg := testConfig()
	cfg.Sellers = []config.Seller{
		{TaxID: testSeller, Name: "測試咖啡", Default: true, QR: cfg.QR, Provider: cfg.Provider,
			Booklets: config.Booklets{LowWater: 10, Lease: 1}, HQ: config.HQ{DSN: config.Secret(dsn), Terminal: "POS01"}},
		{TaxID: other, Name: "測試麵包", QR: config.QR{Key: "0A1B2C3D4E5F60718293A4B5C6D7E8F9", Encoding: "utf8"}, Provider: cfg.Provider,
			Booklets: config.Booklets{LowWater: 10, Lease: 1}, HQ: config.HQ{DSN: config.Secret(dsn), Terminal: "POS01"}},
	}
	st, err := queue.Open(filepath.Join(t.TempDir(), "posagent.db"), queue.Options{Now: c.Now})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	provs := map[string]*fakeProvider{testSeller: newFakeProvider(c.Now), other: newFakeProvider(c.Now)}
	var sellers []SellerOptions
	for _, s := range cfg.SellerList() {
		sellers = append(sellers, SellerOptions{TaxID: s.TaxID, Coder: fakeCoder, Provider: provs[s.TaxID],
			BookletSource: hq.Source{HQ: office, Seller: s.TaxID, Terminal: s.HQ.Terminal}})
	}
	a, err := New(Options{Config: cfg, Store: &QueueStore{S: st}, Sellers: sellers, Now: c.Now, Jitter: func() float64 { return 1 }})
	require.NoError(t, err)
	a.keepBooklets(ctx)

	sold := map[string][]posagent.InvoiceNumber{}
	var wg sync.WaitGroup
	errs := map[string]error{}
	var mu sync.Mutex
	for seller := range tracks {
		wg.Go(func() {
			for n := 0; ; n++ {
				a.keepBooklets(ctx)
				sale, err := a.PrepareSale(decodeSaleDoc(fmt.Sprintf(`{"sale_id":"%s-%d","seller":{"tax_id":%q},"items":[{"name":"茶","quantity":1,"unit_price":35}]}`, seller, n, seller)))
				if err == nil {
					var res SaleResult
					if res, err = a.Sell(ctx, sale); err == nil {
						mu.Lock()
						sold[seller] = append(sold[seller], res.Invoice.Number)
						mu.Unlock()
						continue
					}
				}
				if !posagent.IsKind(err, posagent.KindExhausted) {
					mu.Lock()
					errs[seller] = err
					mu.Unlock()
				}
				return
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	for seller, track := range tracks {
		leases, err := office.Leases(ctx, seller, p)
		require.NoError(t, err)
		require.Len(t, leases, 3, "%s leased its three booklets, one at a time", seller)
		require.Len(t, sold[seller], 3*posagent.BookletSize, "%s sold every number of its range", seller)
		for _, n := range sold[seller] {
			require.Equal(t, track, n.Track(), "%s sold %s", seller, n)
			require.Equal(t, "POS01", leaseHolder(t, leases, n))
		}
	}
	// Status names each seller's numbers (none left) and alarms per seller.
	s, err := a.Status(ctx)
	require.NoError(t, err)
	require.Len(t, s.Sellers, 2)
	exhausted := 0
	for _, al := range s.Alarms {
		if al.Code == "numbers_exhausted" {
			exhausted++
			require.Contains(t, []string{testSeller, other}, al.Seller)
		}
		require.NotContains(t, al.Message, dsn)
	}
	require.Equal(t, 2, exhausted)
}

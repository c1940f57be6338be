package agent

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/testmysql"
	"github.com/posagent/posagent/providers/hq"
)

// Two tills of one shop share a MySQL head office: each leases its booklets
// there through the booklet keeper, uploads to its own provider, and sells
// until the head office has nothing left. Promise 2 across terminals: every
// number is issued once, by the terminal that leased it.
func TestTwoTerminalsShareAHeadOffice(t *testing.T) {
	dsn := testmysql.DSN(t)
	ctx := context.Background()
	office, err := hq.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { office.Close() })
	office.Logger = slog.New(slog.DiscardHandler)

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

package amego_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/providers/amego/amegotest"
)

// BenchmarkUploadRoundTrip is one f0401_custom upload through the real client
// against the stand-in on loopback: JSON, signing, the HTTP round trip, the
// stand-in's checks and QR computation, decoding and the QR key check.
func BenchmarkUploadRoundTrip(b *testing.B) {
	p := posagent.PeriodOf(time.Now())
	srv := amegotest.New(amegotest.Options{Pool: []amegotest.Allocation{{Period: p, Track: "ZZ", Start: 10000000, End: 19999999}}})
	defer srv.Close()
	c, err := amego.New(srv.Config())
	if err != nil {
		b.Fatal(err)
	}
	e := &env{t: b, ctx: b.Context(), srv: srv, c: c}
	sales := make([]posagent.Invoice, 0, 1024)
	i := 0
	for b.Loop() {
		b.StopTimer()
		if len(sales) == 0 {
			bs, err := c.LeaseBooklets(e.ctx, posagent.LeaseRequest{Period: p, Booklets: 20})
			if err != nil {
				b.Fatal(err)
			}
			e.book, e.next = bs[0], 0
			for range bs[0].Count() {
				sales = append(sales, e.sale(fmt.Sprintf("bench-%d", i)))
				i++
			}
		}
		inv := sales[0]
		sales = sales[1:]
		b.StartTimer()
		if err := c.Upload(e.ctx, inv); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHoldings250 is one reconciliation question of 250 invoices (25
// held) through the client to the stand-in: five invoice_status calls.
func BenchmarkHoldings250(b *testing.B) {
	srv := amegotest.New(amegotest.Options{})
	defer srv.Close()
	c, err := amego.New(srv.Config())
	if err != nil {
		b.Fatal(err)
	}
	e := &env{t: b, ctx: b.Context(), srv: srv, c: c}
	refs := make([]posagent.DocRef, 250)
	for i := range refs {
		inv := e.sale(fmt.Sprintf("hold-%d", i))
		if i%10 == 0 {
			e.upload(inv)
		}
		refs[i] = refOf(posagent.DocInvoice, inv, "", inv.Total)
	}
	for b.Loop() {
		if _, err := c.Holdings(e.ctx, refs); err != nil {
			b.Fatal(err)
		}
	}
}

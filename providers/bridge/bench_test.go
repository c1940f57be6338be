package bridge_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/bridge"
	"github.com/posagent/posagent/providers/bridge/bridgetest"
)

// benchClient is a client over transport tr to a fresh reference receiver.
func benchClient(b *testing.B, tr string) (*bridgetest.Server, *bridge.Client) {
	b.Helper()
	srv := bridgetest.New(bridgetest.Options{})
	cfg := bridge.Config{Transport: tr, SellerTaxID: testSeller, MachineID: "POS01", Texts: texts, Timeout: 10 * time.Second,
		Credentials: map[string]string{"pid": credPID}}
	if tr == bridge.TransportHTTP {
		cfg.URL, cfg.Secret = srv.URL(), bridgetest.DemoSecret
	} else {
		cfg.Command = execCommand(b, srv)
		cfg.Credentials["relay_secret"] = bridgetest.DemoSecret
	}
	c, err := bridge.New(cfg)
	if err != nil {
		srv.Close()
		b.Fatal(err)
	}
	return srv, c
}

// BenchmarkUpload measures one invoice handed over, through the client to
// the reference receiver on loopback: building the document (MOF texts
// included), signing, the HTTP exchange or the relay program's run, the
// receiver's checks, and the answer's mapping.
func BenchmarkUpload(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr, func(b *testing.B) {
			srv, c := benchClient(b, tr)
			defer srv.Close()
			invs := make([]posagent.Invoice, b.N)
			for i := range invs {
				inv := sampleSale(fmt.Sprintf("B%d", i))
				inv.Number = posagent.MakeInvoiceNumber("AB", 10000000+i)
				inv.RandomCode = "4821"
				inv.IssuedAt = time.Now().Add(-time.Second).Truncate(time.Second)
				invs[i] = inv
			}
			b.ResetTimer()
			for i := range b.N {
				if err := c.Upload(b.Context(), invs[i]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHoldings250 is one reconciliation question of 250 documents (25
// held) through the client to the reference receiver: three status calls.
func BenchmarkHoldings250(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr, func(b *testing.B) {
			srv, c := benchClient(b, tr)
			defer srv.Close()
			refs := make([]posagent.DocRef, 250)
			for i := range refs {
				inv := sampleSale(fmt.Sprintf("H%d", i))
				inv.Number = posagent.MakeInvoiceNumber("AB", 10000000+i)
				inv.RandomCode = "4821"
				inv.IssuedAt = time.Now().Add(-time.Second).Truncate(time.Second)
				if i%10 == 0 {
					if err := c.Upload(b.Context(), inv); err != nil {
						b.Fatal(err)
					}
				}
				refs[i] = refOf(posagent.DocInvoice, inv, "", inv.Total)
			}
			for b.Loop() {
				if _, err := c.Holdings(b.Context(), refs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

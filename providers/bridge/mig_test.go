package bridge_test

import (
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/testxml"
	"github.com/posagent/posagent/providers/bridge"
	"github.com/posagent/posagent/providers/bridge/bridgetest"
)

const testAddress = "臺北市中正區重慶南路一段2號"

// TestMIG: with MIG set, invoices, voids, allowances and blank reports carry
// their MIG 4.1 message, which the receiver reads back and the MOF XSD
// accepts; an allowance void carries none.
func TestMIG(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			e := newEnv(t, tr, func(o *bridgetest.Options, c *bridge.Config) {
				if o != nil {
					o.RequireMIG = true
				}
				if c != nil {
					c.MIG, c.SellerName, c.SellerAddress = true, "好日子雜貨店", testAddress
				}
			})
			inv := e.sale("G1")
			inv.Seller.Address = testAddress
			a := allowanceOf(inv, "A1")
			for _, err := range []error{
				e.c.Upload(e.ctx, inv),
				e.c.Allow(e.ctx, inv, a),
				e.c.VoidAllowance(e.ctx, inv, a, "開錯"),
				e.c.Void(e.ctx, inv, voidOf(inv)),
				e.c.ReportBlank(e.ctx, period(), []posagent.Booklet{{Track: "AB", First: 12345610, Last: 12345649, Period: period()},
					{Track: "AC", First: 100, Last: 149, Period: period()}}),
			} {
				if err != nil {
					t.Fatal(err)
				}
			}
			want := map[bridge.Kind][]string{bridge.KindInvoice: {"F0401"}, bridge.KindAllowance: {"G0401"},
				bridge.KindAllowanceVoid: nil, bridge.KindVoid: {"F0501"}, bridge.KindBlank: {"E0402", "E0402"}}
			docs := e.srv.Documents()
			if len(docs) != len(want) {
				t.Fatalf("%d documents", len(docs))
			}
			for _, d := range docs {
				var types []string
				for _, m := range d.Doc.MIG {
					types = append(types, m.Type)
					if !strings.HasPrefix(m.XML, "<?xml") {
						t.Fatalf("%s: %.80s", d.Kind, m.XML)
					}
					testxml.Valid(t, m.Type, []byte(m.XML))
				}
				if strings.Join(types, ",") != strings.Join(want[d.Kind], ",") {
					t.Fatalf("%s carries %v, want %v", d.Kind, types, want[d.Kind])
				}
			}
		})
	}
	// Turnkey refuses an invoice without the seller's address: so does New.
	_, err := bridge.New(bridge.Config{Transport: bridge.TransportHTTP, URL: "https://relay.example.com", Secret: bridgetest.DemoSecret,
		SellerTaxID: testSeller, SellerName: "店", MachineID: "POS01", Texts: texts, MIG: true})
	if posagent.ErrorKind(err) != posagent.KindConfig || !strings.Contains(err.Error(), "seller.address") {
		t.Fatalf("New without an address = %v", err)
	}
	// A receiver that requires MIG refuses a document without it.
	e := newEnv(t, bridge.TransportHTTP, func(o *bridgetest.Options, _ *bridge.Config) {
		if o != nil {
			o.RequireMIG = true
		}
	})
	err = e.c.Upload(e.ctx, e.sale("G2"))
	e.checkErr(err, posagent.KindInvalid)
	if !strings.Contains(err.Error(), "mig is required") {
		t.Fatal(err)
	}
}

package invoicexpress_test

import (
	"fmt"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/invoicexpress"
	"github.com/posagent/posagent/providers/invoicexpress/invoicexpresstest"
)

// BenchmarkIssue is one sale issued through the real client against the
// stand-in on loopback: the series check, create, journal, finalize, the
// read-back, the QR answer, the image download and its decoding.
func BenchmarkIssue(b *testing.B) {
	srv := invoicexpresstest.New(invoicexpresstest.Options{})
	defer srv.Close()
	c, err := invoicexpress.New(srv.Config(), invoicexpress.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		i++
		ref := fmt.Sprintf("B%06d", i)
		j := newJournal(ref, posagent.PTInvoiceReceipt)
		if _, err := c.Issue(b.Context(), j.progress(), sale(ref), j); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQRText is the QR step alone: the answer, the PNG and its decoding.
func BenchmarkQRText(b *testing.B) {
	srv := invoicexpresstest.New(invoicexpresstest.Options{})
	defer srv.Close()
	c, err := invoicexpress.New(srv.Config(), invoicexpress.WithHTTPClient(srv.HTTPClient()))
	if err != nil {
		b.Fatal(err)
	}
	j := newJournal("Q1", posagent.PTInvoiceReceipt)
	doc, err := c.Issue(b.Context(), j.progress(), sale("Q1"), j)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if txt, err := c.QRText(b.Context(), doc.ID); err != nil || txt != doc.QRText {
			b.Fatal(txt, err)
		}
	}
}

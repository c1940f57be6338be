package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"strings"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
)

// At the counter: reissue, orders, and the request options of a sale.

// saleFlags are the request options `sell`, `reissue` and `order` add to a
// sale file.
type saleFlags struct {
	confirmed  bool
	background bool
	wait       bool
}

func (f *saleFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.confirmed, "confirmed", false, `the cashier confirmed a total above guard.confirm_above (sends "confirmed": true)`)
	fs.BoolVar(&f.background, "background", false, `answer once the sale is stored and print in the background (sends "print_mode": "after_commit")`)
	fs.BoolVar(&f.wait, "wait-print", false, `answer once the proof printed (sends "print_mode": "after_print")`)
}

// fields are the keys the flags add to the request body, in order.
func (f saleFlags) fields() ([][2]string, error) {
	var out [][2]string
	if f.confirmed {
		out = append(out, [2]string{"confirmed", "true"})
	}
	switch {
	case f.background && f.wait:
		return nil, usagef("--background and --wait-print exclude each other")
	case f.background:
		out = append(out, [2]string{"print_mode", `"after_commit"`})
	case f.wait:
		out = append(out, [2]string{"print_mode", `"after_print"`})
	}
	return out, nil
}

// withFields adds top-level keys (raw JSON values) to a JSON object
// document, keeping the rest byte for byte. A key the document already has
// is then given twice, which the agent refuses by name.
func withFields(doc []byte, fields [][2]string) ([]byte, error) {
	if len(fields) == 0 {
		return doc, nil
	}
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, fmt.Errorf("the sale must be a JSON object {…}")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(f[0])
		b.Write(name)
		b.WriteByte(':')
		b.WriteString(f[1])
	}
	rest := bytes.TrimSpace(trimmed[1:])
	if len(rest) > 0 && rest[0] != '}' {
		b.WriteByte(',')
	}
	b.Write(rest)
	return b.Bytes(), nil
}

// readSaleWith reads a sale file and adds the flags' keys to it.
func readSaleWith(std stdio, name string, sf saleFlags, extra ...[2]string) ([]byte, error) {
	fields, err := sf.fields()
	if err != nil {
		return nil, err
	}
	body, err := readDoc(std, name)
	if err != nil {
		return nil, err
	}
	body, err = withFields(body, append(extra, fields...))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", inputName(name), err)
	}
	return body, nil
}

// runReissue: posagent reissue NUMBER FILE|- [--reason R]
func runReissue(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	var sf saleFlags
	fs := newFlags("reissue", std, `reissue NUMBER FILE|- [--reason R] [--confirmed] [--background] [--json]
       (作廢重開: voids the invoice and issues the corrected sale in FILE, which needs a sale_id of its own;
        the reason is --reason or "reason" in the file)`)
	cf.register(fs)
	sf.register(fs)
	reason := fs.String("reason", "", "why the invoice is voided (≤ 20 characters)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return usagef("reissue needs the invoice number and a file with the corrected sale (or -)")
	}
	n, err := parseNumberArg(rest[0])
	if err != nil {
		return err
	}
	var extra [][2]string
	if *reason != "" {
		r, _ := json.Marshal(*reason)
		extra = append(extra, [2]string{"reason", string(r)})
	}
	body, err := readSaleWith(std, rest[1], sf, extra...)
	if err != nil {
		return err
	}
	var a agent.ReissueAnswer
	if printed, err := cf.call(ctx, std, "POST", "/v1/invoices/"+string(n)+"/reissue", body, &a); printed || err != nil {
		return err
	}
	again := ""
	if a.Replayed {
		again = " (done before; same invoices)"
	}
	fmt.Fprintf(std.out, "invoice %s voided (%s)%s\n", posagent.InvoiceNumber(a.Voided).Printed(), a.Void.Reason, again)
	s := a.Invoice
	fmt.Fprintf(std.out, "reissued as %s  random code %s  %s  NT$%d\n", posagent.InvoiceNumber(s.Number).Printed(),
		s.RandomCode, s.PeriodLabel, s.Total)
	writePrint(std.out, s.Print)
	fmt.Fprintln(std.out, "uploads go in order: the invoice, its void, then the new invoice")
	return nil
}

// runOrder: posagent order add FILE|- | list [--state S] | cancel ID --reason R | issue ID
func runOrder(ctx context.Context, std stdio, args []string) error {
	var cf clientFlags
	var sf saleFlags
	fs := newFlags("order", std, `order add FILE|- [--confirmed]      take an order (預購): a sale issued later
       order list [--state open|issued|cancelled]
       order cancel ID --reason R        no invoice, ever
       order issue ID [--background]     issue it now, in this period, and print`)
	cf.register(fs)
	sf.register(fs)
	reason := fs.String("reason", "", "order cancel: why (≤ 20 characters; required)")
	state := fs.String("state", "", "order list: open, issued or cancelled (default: all)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usagef("order needs add, list, cancel or issue")
	}
	switch verb, rest := rest[0], rest[1:]; verb {
	case "add":
		if len(rest) != 1 {
			return usagef("order add needs one sale file, or - for standard input")
		}
		if sf.background || sf.wait {
			return usagef("--background and --wait-print belong to `order issue`: nothing prints when an order is taken")
		}
		body, err := readSaleWith(std, rest[0], sf)
		if err != nil {
			return err
		}
		var o agent.Order
		if printed, err := cf.call(ctx, std, "POST", "/v1/orders", body, &o); printed || err != nil {
			return err
		}
		fmt.Fprintf(std.out, "order %s taken: NT$%d, %s; issue it with: posagent order issue %s\n", o.ID, o.Sale.Total, o.State, o.ID)
	case "list":
		if len(rest) != 0 {
			return usagef("order list takes no arguments")
		}
		var list struct {
			Orders []agent.Order `json:"orders"`
		}
		if printed, err := cf.call(ctx, std, "GET", "/v1/orders?state="+url.QueryEscape(*state), nil, &list); printed || err != nil {
			return err
		}
		if len(list.Orders) == 0 {
			fmt.Fprintln(std.out, "no orders")
		}
		for _, o := range list.Orders {
			line := fmt.Sprintf("%-24s %-9s NT$%-8d taken %s", o.ID, o.State, o.Sale.Total, o.CreatedAt.In(posagent.Taipei).Format("2006-01-02 15:04"))
			switch {
			case o.Invoice != "":
				line += "  invoice " + posagent.InvoiceNumber(o.Invoice).Printed()
			case o.CancelReason != "":
				line += "  (" + o.CancelReason + ")"
			}
			fmt.Fprintln(std.out, strings.TrimRight(line, " "))
		}
	case "cancel":
		if len(rest) != 1 {
			return usagef("order cancel needs one order id")
		}
		if *reason == "" {
			return usagef("--reason is required")
		}
		body, _ := json.Marshal(map[string]string{"reason": *reason})
		var o agent.Order
		if printed, err := cf.call(ctx, std, "POST", "/v1/orders/"+url.PathEscape(rest[0])+"/cancel", body, &o); printed || err != nil {
			return err
		}
		fmt.Fprintf(std.out, "order %s cancelled (%s): it will have no invoice\n", o.ID, o.CancelReason)
	case "issue":
		if len(rest) != 1 {
			return usagef("order issue needs one order id")
		}
		if sf.confirmed {
			return usagef("--confirmed belongs to `order add`: the amount was confirmed when the order was taken")
		}
		fields, err := sf.fields()
		if err != nil {
			return err
		}
		body, _ := withFields([]byte("{}"), fields)
		var s agent.SaleAnswer
		if printed, err := cf.call(ctx, std, "POST", "/v1/orders/"+url.PathEscape(rest[0])+"/issue", body, &s); printed || err != nil {
			return err
		}
		again := ""
		if s.Replayed {
			again = " (issued before; same invoice)"
		}
		fmt.Fprintf(std.out, "order %s issued as invoice %s  random code %s  %s  NT$%d%s\n", rest[0], posagent.InvoiceNumber(s.Number).Printed(),
			s.RandomCode, s.PeriodLabel, s.Total, again)
		writePrint(std.out, s.Print)
	default:
		return usagef("order needs add, list, cancel or issue, not %q", verb)
	}
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/internal/private"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/providers/invoicexpress"
	"github.com/posagent/posagent/queue"
)

// buildPortugal wires a Portuguese terminal: the store, the printer with a
// Portuguese profile, and the InvoiceXpress client (through hc when given:
// the demo's switchable network). The operator console is Taiwan's and is
// not mounted.
func buildPortugal(cfg config.Config, log *slog.Logger, demo agent.DemoControl, hc *http.Client) (*agent.Agent, func(), error) {
	profile, err := printer.LookupPTProfile(cfg.Printer.Profile)
	if err != nil {
		return nil, nil, fmt.Errorf("printer.profile: %w", err)
	}
	ix := cfg.Portugal.InvoiceXpress
	opts := []invoicexpress.Option{invoicexpress.WithLogger(log)}
	if hc != nil {
		opts = append(opts, invoicexpress.WithHTTPClient(hc))
	}
	client, err := invoicexpress.New(invoicexpress.Config{Account: ix.Account, APIKey: ix.APIKey, BaseURL: ix.BaseURL,
		Timeout: ix.Timeout.Duration}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("portugal.invoicexpress: %w", err)
	}
	var pr agent.Printer
	var dev printer.Device
	if cfg.Printer.Device != "none" {
		dev, err = printer.NewDevice(printer.DeviceConfig{
			Address: cfg.Printer.Device, Baud: cfg.Printer.Baud, DataBits: cfg.Printer.DataBits,
			Parity: printer.Parity(cfg.Printer.Parity), StopBits: strconv.Itoa(cfg.Printer.StopBits),
			BufferSize: profile.BufferSize, Logger: log.With("component", "printer"),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("printer.device: %w", err)
		}
		pr = agent.DevicePrinter{D: dev}
	}
	closeDev := func() {
		if dev != nil {
			dev.Close()
		}
	}
	if dir := filepath.Dir(cfg.Store.Path); dir != "" {
		if err := private.MkdirAll(dir); err != nil {
			closeDev()
			return nil, nil, fmt.Errorf("store.path: %w", err)
		}
	}
	st, err := queue.Open(cfg.Store.Path, queue.Options{Logger: log.With("component", "store")})
	if err != nil {
		closeDev()
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	if cfg.Console.Enabled {
		log.Info("the operator console is not served on a Portuguese terminal: use the API and `posagent pt`")
	}
	a, err := agent.New(agent.Options{Config: cfg, Store: &agent.QueueStore{S: st}, Printer: pr, Logger: log, Demo: demo,
		Portugal: &agent.PTOptions{Store: st, Issuer: client, Profile: profile}})
	if err != nil {
		st.Close()
		closeDev()
		return nil, nil, err
	}
	return a, closeDev, nil
}

const ptUsage = `pt COMMAND   (a Portuguese terminal's documents; every command takes --json, --config or --addr/--token)
  pt show SALE_ID                     a sale or credit note: state, document, ATCUD, print
  pt list [--state pending|draft|issued|held]
  pt drafts                           the drafts kept (drafts_only)
  pt finalize                         finalize every kept draft, in sale order
  pt cancel SALE_ID --message TEXT    cancel the sale's document at InvoiceXpress (message required)
  pt refund SALE_ID --refund-id ID [--item SKU=QTY]…
                                      a credit note linked to the sale's document: the items named
                                      (--item CAFE=1; --item '#2=1' names line 2, 0-based, when a SKU
                                      repeats), or without --item everything not yet refunded
  pt reprint SALE_ID                  print the receipt again, marked "2ª via"
  pt retry SALE_ID                    try a document InvoiceXpress refused again, once fixed
  pt taxes [--refresh]                the account's taxes as cached (--refresh: read them now)`

// runPT: posagent pt COMMAND …
func runPT(ctx context.Context, std stdio, args []string) error {
	if len(args) == 0 {
		return usagef("%s", ptUsage)
	}
	var cf clientFlags
	fs := newFlags("pt "+args[0], std, ptUsage)
	cf.register(fs)
	state := fs.String("state", "", "pt list: pending, draft, issued or held")
	message := fs.String("message", "", "pt cancel: why the document is cancelled (required)")
	refundID := fs.String("refund-id", "", "pt refund: the credit note's own id (required)")
	refresh := fs.Bool("refresh", false, "pt taxes: read the taxes from InvoiceXpress now")
	var items []posagent.PTRefundItem
	fs.Func("item", "pt refund: SKU=QTY (or #LINE=QTY) to refund, repeatable; none: everything left", func(v string) error {
		it, err := parsePTRefundItem(v)
		items = append(items, it)
		return err
	})
	rest, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	one := func() (string, error) {
		if len(rest) != 1 {
			return "", usagef("pt %s needs one sale id", args[0])
		}
		return url.PathEscape(rest[0]), nil
	}
	var v agent.PTSaleView
	switch args[0] {
	case "show", "reprint", "retry", "cancel", "refund":
		id, err := one()
		if err != nil {
			return err
		}
		method, path, body := "POST", "/v1/sales/"+id+"/"+args[0], []byte(nil)
		switch args[0] {
		case "show":
			method, path = "GET", "/v1/sales/"+id
		case "cancel":
			if *message == "" {
				return usagef("pt cancel needs --message: InvoiceXpress refuses a cancel without a reason")
			}
			body, _ = json.Marshal(map[string]string{"message": *message})
		case "refund":
			if *refundID == "" {
				return usagef("pt refund needs --refund-id (the credit note's own id, e.g. the POS's refund number)")
			}
			path = "/v1/sales/" + id + "/credit-notes"
			body, _ = json.Marshal(struct {
				RefundID string                  `json:"refund_id"`
				Items    []posagent.PTRefundItem `json:"items,omitempty"`
			}{*refundID, items})
		case "reprint":
			var p agent.PrintReport
			if printed, err := cf.call(ctx, std, method, path, nil, &p); printed || err != nil {
				return err
			}
			writePTPrint(std.out, p)
			return nil
		}
		if printed, err := cf.call(ctx, std, method, path, body, &v); printed || err != nil {
			return err
		}
		writePTSale(std.out, v)
		return nil
	case "list", "drafts":
		path := "/v1/pt/documents?state=" + url.QueryEscape(*state)
		key := "documents"
		if args[0] == "drafts" {
			path, key = "/v1/pt/drafts", "drafts"
		}
		var out map[string][]agent.PTSaleView
		if printed, err := cf.call(ctx, std, "GET", path, nil, &out); printed || err != nil {
			return err
		}
		if len(out[key]) == 0 {
			fmt.Fprintln(std.out, "none")
		}
		for _, d := range out[key] {
			writePTLine(std.out, d)
		}
		return nil
	case "finalize":
		var out struct {
			Queued int `json:"queued"`
		}
		if printed, err := cf.call(ctx, std, "POST", "/v1/pt/drafts/finalize", nil, &out); printed || err != nil {
			return err
		}
		fmt.Fprintf(std.out, "%d drafts queued to be finalized in sale order; their receipts print as they are issued\n", out.Queued)
		return nil
	case "taxes":
		path, method := "/v1/pt/taxes", "GET"
		if *refresh {
			path, method = "/v1/pt/taxes/refresh", "POST"
		}
		var out struct {
			Region string            `json:"region"`
			Taxes  []agent.PTTaxView `json:"taxes"`
		}
		if printed, err := cf.call(ctx, std, method, path, nil, &out); printed || err != nil {
			return err
		}
		fmt.Fprintf(std.out, "region %s\n", out.Region)
		for _, t := range out.Taxes {
			mark := ""
			if t.Default {
				mark = "  (InvoiceXpress's default)"
			}
			fmt.Fprintf(std.out, "  %-10s %5s%%  %s%s\n", t.Name, t.Value, t.Region, mark)
		}
		return nil
	}
	return usagef("unknown pt command %q\n%s", args[0], ptUsage)
}

func writePTLine(w io.Writer, v agent.PTSaleView) {
	what := ""
	if d := v.Document; d != nil && d.SequenceNumber != "" {
		what = " " + d.SequenceNumber + " ATCUD " + d.ATCUD
	} else if v.DraftID != 0 {
		what = fmt.Sprintf(" draft %d", v.DraftID)
	}
	fmt.Fprintf(w, "%-24s %-10s %s %s EUR%s\n", v.Ref, v.State, v.AcceptedAt.Format("2006-01-02 15:04"), v.Total.Cents(), what)
}

func writePTSale(w io.Writer, v agent.PTSaleView) {
	fmt.Fprintf(w, "%s %s: %s — %s\n", v.Kind, v.Ref, v.State, v.Message)
	if v.Note != "" {
		fmt.Fprintf(w, "note       %s\n", v.Note)
	}
	if d := v.Document; d != nil {
		fmt.Fprintf(w, "document   %s %s  ATCUD %s  total %s EUR (VAT %s)\n", d.Type, d.SequenceNumber, d.ATCUD, d.Total.Cents(), d.VAT.Cents())
		if d.Permalink != "" {
			fmt.Fprintf(w, "permalink  %s\n", d.Permalink)
		}
	} else {
		fmt.Fprintf(w, "expected   %s EUR (InvoiceXpress's total is the one that counts)\n", v.Total.Cents())
	}
	if v.LastError != "" && v.State != agent.PTStateIssued {
		fmt.Fprintf(w, "last error %s (attempt %d)\n", v.LastError, v.Attempts)
	}
	if v.Cancel != nil {
		fmt.Fprintf(w, "cancel     %s: %s\n", v.Cancel.State, v.Cancel.Message)
	}
	for _, cn := range v.CreditNote {
		fmt.Fprintf(w, "refunded   by credit note %s\n", cn)
	}
	if v.Print.State != "waiting" {
		fmt.Fprintf(w, "receipt    %s\n", v.Print.State)
	}
	if v.Slip != nil && v.Slip.Printed {
		fmt.Fprintln(w, "slip       printed: \"Este documento não serve de fatura\"")
	}
}

func writePTPrint(w io.Writer, p agent.PrintReport) {
	switch {
	case p.Printed && p.Reprint:
		fmt.Fprintln(w, "receipt: printed (2ª via)")
	case p.Printed:
		fmt.Fprintln(w, "receipt: printed")
	default:
		fmt.Fprintf(w, "receipt: NOT printed — %s\n", p.Message)
	}
}

// writePTStatus is the Portuguese part of `posagent status`.
func writePTStatus(w io.Writer, p *agent.PTStatusView) {
	fmt.Fprintf(w, "portugal   %s, region %s", p.DocumentType, p.Region)
	if p.DraftsOnly {
		fmt.Fprint(w, ", drafts only")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "documents  %d pending, %d drafts, %d issued, %d held\n", p.Pending, p.Drafts, p.Issued, p.Held)
	if !p.OldestPending.IsZero() {
		fmt.Fprintf(w, "oldest     accepted %s (%s ago), not yet an invoice\n", p.OldestPending.Format("2006-01-02 15:04:05"), p.OldestPendingAge)
	}
	series := p.Series
	if series == "" {
		series = "not read yet"
	}
	fmt.Fprintf(w, "series     AT validation code %s; %d taxes cached", series, p.Taxes)
	if !p.TaxesFetchedAt.IsZero() {
		fmt.Fprintf(w, " (read %s)", p.TaxesFetchedAt.Format("2006-01-02 15:04"))
	}
	fmt.Fprintln(w)
	if p.CancelsPending+p.CancelsHeld > 0 {
		fmt.Fprintf(w, "cancels    %d waiting, %d held\n", p.CancelsPending, p.CancelsHeld)
	}
}

// ptDemoSale is rung up at every start of the Portuguese demo.
const ptDemoSale = `{
  "sale_id": "demo-%d",
  "items": [
    {"sku": "CAFE", "name": "Café expresso", "quantity": 2, "unit_price": "0.65", "vat_rate": 23},
    {"sku": "PASTEL", "name": "Pastel de nata", "quantity": 2, "unit_price": "1.10", "vat_rate": 6}
  ]
}`

// ptDemoFirstSale rings up the sample sale and waits (briefly) for its receipt.
func ptDemoFirstSale(ctx context.Context, a *agent.Agent, waitReceipt func(context.Context) string) string {
	sale, err := posagent.DecodePTSale(fmt.Appendf(nil, ptDemoSale, time.Now().Unix()))
	if err != nil {
		return "sample sale: " + err.Error()
	}
	p, err := a.PreparePTSale(ctx, sale)
	if err != nil {
		return "sample sale: " + err.Error()
	}
	res, err := a.SellPT(ctx, p)
	if err != nil {
		return "sample sale: " + err.Error()
	}
	out := fmt.Sprintf("sale %s, %s EUR, %s", res.View.Ref, res.View.Total.Cents(), res.View.State)
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if png := waitReceipt(wctx); png != "" {
		out += ", receipt " + png
	}
	return out
}

// parsePTRefundItem reads --item SKU=QTY, or #LINE=QTY for a line by its
// 0-based index in the sale (when the sale holds a SKU twice).
func parsePTRefundItem(v string) (posagent.PTRefundItem, error) {
	i := strings.LastIndex(v, "=") // a SKU may hold "=", a quantity never
	if i <= 0 || i == len(v)-1 {
		return posagent.PTRefundItem{}, fmt.Errorf("%q: want SKU=QUANTITY (CAFE=1) or #LINE=QUANTITY (#0=1)", v)
	}
	name, qty := v[:i], v[i+1:]
	q, err := posagent.ParseDecimal(qty)
	if err != nil {
		return posagent.PTRefundItem{}, fmt.Errorf("%q: the quantity %q is not a decimal number", v, qty)
	}
	it := posagent.PTRefundItem{Quantity: q}
	if n, isLine := strings.CutPrefix(name, "#"); isLine {
		line, err := strconv.Atoi(n)
		if err != nil || line < 0 {
			return posagent.PTRefundItem{}, fmt.Errorf("%q: #%s is not a line index (0, 1, …)", v, n)
		}
		it.Line = &line
		return it, nil
	}
	it.SKU = name
	return it, nil
}

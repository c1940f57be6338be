package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/mig"
)

const migUsage = `mig F0401 INVOICE.json                       the issue message of an issued invoice
       mig F0501 INVOICE.json --reason R [--at T]    its void (作廢)
       mig F0701 INVOICE.json --reason R [--at T]    its 註銷 (a new F0401 with the same number follows)
       mig G0401 INVOICE.json ALLOWANCE.json         an allowance (折讓) against it
       mig G0501 INVOICE.json ALLOWANCE.json --reason R [--at T]   that allowance's void
       mig E0402 --ban BAN [--head-ban BAN] --period 11404 RANGE...   blank numbers (AB12345681-AB12345699)
       mig check FILE.xml                            Turnkey's local rules, and the XSD when xmllint is installed
   (INVOICE.json is the invoice JSON of the README, - for standard input; -o OUT writes a file)`

func migFromConfig(cfg config.Config) map[string][]string {
	m := map[string][]string{}
	if cfg.Terminal.SellerAddress != "" {
		m["seller-address"] = []string{cfg.Terminal.SellerAddress}
	}
	if cfg.Terminal.SellerTaxID != "" {
		m["ban"] = []string{cfg.Terminal.SellerTaxID}
	}
	return m
}

// runMig prints a MIG 4.1 message for integrators: the XML the Turnkey
// provider drops, from the same JSON the agent takes.
func runMig(ctx context.Context, std stdio, args []string) error {
	fs := newFlags("mig", std, migUsage)
	reason := fs.String("reason", "", "F0501, F0701, G0501: why (1 to 20 characters)")
	at := fs.String("at", "", "F0501, F0701, G0501: when, RFC 3339 (default: now)")
	address := fs.String("seller-address", "", "the seller's address when the invoice lacks one (default: terminal.seller_address of the config)")
	memberType := fs.String("member-carrier-type", "", "F0401: the platform's CarrierType code of the seller's member carrier")
	customs := fs.String("customs", "", "F0401 zero-rated: CustomsClearanceMark, 1 (not through customs, default) or 2")
	ban := fs.String("ban", "", "E0402: the branch's 統編 (default: terminal.seller_tax_id of the config)")
	headBan := fs.String("head-ban", "", "E0402: the head office's 統編 (default: --ban)")
	period := fs.String("period", "", "E0402: the period, ROC year and even month (11404)")
	out := fs.String("o", "-", "output file (default: standard output)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := configDefaults(fs, std, migFromConfig); err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("which message? usage: posagent %s", migUsage)
	}
	when := time.Now()
	if *at != "" {
		if when, err = time.Parse(time.RFC3339, *at); err != nil {
			return usagef("--at %q is not an RFC 3339 time such as 2025-04-17T13:20:05+08:00", *at)
		}
	}
	kind, rest := strings.ToUpper(pos[0]), pos[1:]
	readInv := func() (posagent.Invoice, error) {
		if len(rest) == 0 {
			return posagent.Invoice{}, usagef("%s needs the invoice JSON file (- for standard input)", kind)
		}
		in, err := openInput(std, rest[0])
		if err != nil {
			return posagent.Invoice{}, err
		}
		defer in.Close()
		inv, err := posagent.ReadInvoice(in)
		if err != nil {
			return posagent.Invoice{}, fmt.Errorf("%s: %w", inputName(rest[0]), err)
		}
		if inv.Seller.Address == "" {
			inv.Seller.Address = *address
		}
		return inv, nil
	}
	needReason := func() error {
		if *reason == "" {
			return usagef("%s needs --reason (1 to 20 characters)", kind)
		}
		return nil
	}
	var msg mig.Message
	switch kind {
	case mig.TypeF0401:
		if len(rest) != 1 {
			return usagef("F0401 takes one invoice file")
		}
		inv, err := readInv()
		if err != nil {
			return err
		}
		if msg, err = mig.F0401(inv, mig.Options{MemberCarrierType: *memberType, CustomsClearanceMark: *customs}); err != nil {
			return err
		}
	case mig.TypeF0501, mig.TypeF0701:
		if len(rest) != 1 {
			return usagef("%s takes one invoice file", kind)
		}
		if err := needReason(); err != nil {
			return err
		}
		inv, err := readInv()
		if err != nil {
			return err
		}
		if kind == mig.TypeF0501 {
			msg, err = mig.F0501(inv, posagent.Void{Number: inv.Number, VoidedAt: when, Reason: *reason})
		} else {
			msg, err = mig.F0701(inv, when, *reason)
		}
		if err != nil {
			return err
		}
	case mig.TypeG0401, mig.TypeG0501:
		if len(rest) != 2 {
			return usagef("%s takes an invoice file and an allowance file", kind)
		}
		inv, err := readInv()
		if err != nil {
			return err
		}
		al, err := readAllowance(std, rest[1], inv)
		if err != nil {
			return err
		}
		if kind == mig.TypeG0401 {
			msg, err = mig.G0401(inv, al)
		} else {
			if err := needReason(); err != nil {
				return err
			}
			msg, err = mig.G0501(inv, al, when, *reason)
		}
		if err != nil {
			return err
		}
	case mig.TypeE0402:
		if msg, err = blankMessage(*ban, *headBan, *period, rest); err != nil {
			return err
		}
	case "CHECK":
		return migCheck(ctx, std, rest)
	default:
		return usagef("%q is not a message type: %s, or check", pos[0], strings.Join(mig.Types, ", "))
	}
	return writeOutput(std, *out, msg.XML)
}

// allowanceDoc is the allowance JSON: the API's allowance body with its number and date.
type allowanceDoc struct {
	Number    string          `json:"number"`
	IssuedAt  string          `json:"issued_at"`
	Items     []posagent.Item `json:"items"`
	Total     *int64          `json:"total"`
	TaxAmount *int64          `json:"tax_amount"`
	Reason    string          `json:"reason"`
	Provider  string          `json:"provider_number"`
	Invoice   string          `json:"invoice_number"`
}

func readAllowance(std stdio, name string, inv posagent.Invoice) (posagent.Allowance, error) {
	in, err := openInput(std, name)
	if err != nil {
		return posagent.Allowance{}, err
	}
	defer in.Close()
	data, err := io.ReadAll(io.LimitReader(in, posagent.MaxInvoiceJSON))
	if err != nil {
		return posagent.Allowance{}, err
	}
	var doc allowanceDoc
	// The one strict decoder: duplicate or miscased keys and invalid UTF-8 are errors.
	if err := posagent.DecodeJSON(data, &doc); err != nil {
		return posagent.Allowance{}, fmt.Errorf("%s: not an allowance: %w", inputName(name), err)
	}
	al := posagent.Allowance{Number: doc.Number, InvoiceNumber: inv.Number, Reason: doc.Reason}
	if doc.IssuedAt == "" {
		return al, fmt.Errorf("%s: %w", inputName(name), posagent.Invalid("issued_at", "is required: when the allowance was made"))
	}
	if al.IssuedAt, err = time.Parse(time.RFC3339, doc.IssuedAt); err != nil || al.IssuedAt.IsZero() {
		return al, fmt.Errorf("%s: %w", inputName(name), posagent.Invalid("issued_at", "%q is not an RFC 3339 time", doc.IssuedAt))
	}
	for _, it := range doc.Items {
		if it.Amount.IsZero() {
			it.Amount = it.Quantity.Mul(it.UnitPrice)
		}
		al.Items = append(al.Items, it)
	}
	for i, it := range al.Items {
		if err := posagent.ValidateItem(it); err != nil {
			return al, fmt.Errorf("%s: items[%d]: %w", inputName(name), i, err)
		}
	}
	// Every line is within its limits now, so the sum fits; RoundNTD says if not.
	var ok bool
	if al.Total, ok = posagent.SumAmounts(al.Items).RoundNTD(); !ok {
		return al, fmt.Errorf("%s: %w", inputName(name), posagent.Invalid("total", "the lines add up to more than an allowance can carry"))
	}
	if doc.Total != nil {
		al.Total = *doc.Total
	}
	al.TaxAmount = posagent.AllowanceTax(inv, al.Total)
	if doc.TaxAmount != nil {
		al.TaxAmount = *doc.TaxAmount
	}
	return al, nil
}

func blankMessage(ban, headBan, periodCode string, ranges []string) (mig.Message, error) {
	if ban == "" {
		return mig.Message{}, usagef("E0402 needs --ban (the branch's 統編)")
	}
	if headBan == "" {
		headBan = ban
	}
	p, err := posagent.ParsePeriod(periodCode)
	if err != nil {
		return mig.Message{}, usagef("--period: %v", err)
	}
	if len(ranges) == 0 {
		return mig.Message{}, usagef("E0402 needs at least one range of unused numbers, e.g. AB12345681-AB12345699")
	}
	var unused []posagent.Booklet
	for _, r := range ranges {
		first, last, ok := strings.Cut(r, "-")
		if !ok {
			first, last = r, r
		}
		a, err := posagent.ParseInvoiceNumber(first)
		if err != nil {
			return mig.Message{}, usagef("range %q: %v", r, err)
		}
		b, err := posagent.ParseInvoiceNumber(last)
		if err != nil {
			return mig.Message{}, usagef("range %q: %v", r, err)
		}
		if a.Track() != b.Track() || b.Seq() < a.Seq() {
			return mig.Message{}, usagef("range %q: one track, first number before the last", r)
		}
		unused = append(unused, posagent.Booklet{Track: a.Track(), First: a.Seq(), Last: b.Seq(), Period: p})
	}
	reports, err := mig.BlankReports(headBan, ban, p, unused)
	if err != nil {
		return mig.Message{}, err
	}
	if len(reports) != 1 {
		return mig.Message{}, usagef("one E0402 holds one track: give the ranges of one track per run")
	}
	return mig.E0402(reports[0])
}

// migCheck reads a message as Turnkey would: local rules, then the XSD.
func migCheck(ctx context.Context, std stdio, rest []string) error {
	if len(rest) != 1 {
		return usagef("check takes one XML file (- for standard input)")
	}
	in, err := openInput(std, rest[0])
	if err != nil {
		return err
	}
	data, err := io.ReadAll(in)
	in.Close()
	if err != nil {
		return err
	}
	info, err := mig.Inspect(data)
	if err != nil {
		return fmt.Errorf("%s: Turnkey would put it in ERR: %w", inputName(rest[0]), err)
	}
	xsd := "XSD-valid"
	if err := mig.ValidateXSD(ctx, info.Type, bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))); errors.Is(err, mig.ErrNoXmllint) {
		xsd = "XSD not checked (install libxml2-utils for xmllint)"
	} else if err != nil {
		return fmt.Errorf("%s: %w", inputName(rest[0]), err)
	}
	fmt.Fprintf(std.out, "%s %s: local rules pass, %s\n", info.Type, info.Identifier, xsd)
	return nil
}

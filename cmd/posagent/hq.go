package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/hq"
)

const hqUsage = "hq add-range AB12345600-AB12345999 --period 11410 --seller 24634102  |  hq leases --period 11410 --seller 24634102\n" +
	"  (the head office's DSN from --dsn or, better, $POSAGENT_HQ_DSN: a flag's value shows in the process list)"

// runHQ manages the shop's MySQL head office: add-range records a range the
// MOF assigned (E0501) so that terminals can lease it; leases lists who holds
// what and what is still unleased.
func runHQ(ctx context.Context, std stdio, args []string) error {
	fs := newFlags("hq", std, hqUsage)
	dsn := fs.String("dsn", "", "the head office's MySQL DSN (default $POSAGENT_HQ_DSN)")
	period := fs.String("period", "", "the period of the range, e.g. 11410")
	seller := fs.String("seller", "", "the seller's 統一編號 the range was assigned to")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(rest) == 2 && rest[0] == "add-range":
	case len(rest) == 1 && rest[0] == "leases":
	default:
		return usagef("usage: posagent %s", hqUsage)
	}
	if *dsn == "" {
		*dsn = os.Getenv("POSAGENT_HQ_DSN")
	}
	switch {
	case *dsn == "":
		return usagef("the head office's DSN is required: set $POSAGENT_HQ_DSN (or --dsn)")
	case *period == "":
		return usagef("--period is required, e.g. --period 11410")
	case *seller == "":
		return usagef("--seller is required: the 統一編號 the range belongs to")
	}
	p, err := posagent.ParsePeriod(*period)
	if err != nil {
		return err
	}
	if !posagent.ValidTaxID(*seller) {
		return posagent.Invalid("seller", "%q is not a valid 統一編號", *seller)
	}
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	office, err := hq.Open(octx, *dsn)
	if err != nil {
		return err
	}
	defer office.Close()
	office.Logger = slog.New(slog.DiscardHandler) // this command says what it did itself
	if rest[0] == "add-range" {
		b, err := posagent.ParseRange(rest[1])
		if err != nil {
			return err
		}
		b.Period = p
		if err := office.AddRange(octx, *seller, b); err != nil {
			return err
		}
		fmt.Fprintf(std.out, "range %s (%d booklets) added for %s, period %s\n", b, b.Booklets(), *seller, p.Code())
		return nil
	}
	leases, err := office.Leases(octx, *seller, p)
	if err != nil {
		return err
	}
	unleased, err := office.Unleased(octx, *seller, p)
	if err != nil {
		return err
	}
	if len(leases) == 0 && len(unleased) == 0 {
		fmt.Fprintf(std.out, "no ranges for %s in period %s: add one with `posagent hq add-range`\n", *seller, p.Code())
		return nil
	}
	for _, l := range leases {
		fmt.Fprintf(std.out, "%s  %s  leased to %s at %s\n", p.Code(), l.Booklet, l.Terminal, l.LeasedAt.In(posagent.Taipei).Format(time.DateTime))
	}
	for _, b := range unleased {
		fmt.Fprintf(std.out, "%s  %s  unleased\n", p.Code(), b)
	}
	return nil
}

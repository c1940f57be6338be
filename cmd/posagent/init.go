package main

import (
	"context"
	"fmt"

	"github.com/posagent/posagent/config"
)

// runInit: posagent init [PATH]
func runInit(_ context.Context, std stdio, args []string) error {
	fs := newFlags("init", std, "init [--provider ecpay|amego|bridge|turnkey | --sellers] [PATH]   (default posagent.toml; never overwrites)")
	provider := fs.String("provider", "ecpay", "the e-invoice provider whose section to write: ecpay, amego, bridge (Wixtar and other services through the POS vendor's relay) or turnkey (the MOF's Turnkey program)")
	sellers := fs.Bool("sellers", false, "write an example of two sellers on one till ([[sellers]]: one on ECPay, one on Amego)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 1 {
		return usagef("init takes at most one path")
	}
	path := "posagent.toml"
	if len(rest) == 1 {
		path = rest[0]
	}
	if *provider != "ecpay" && *provider != "amego" && *provider != "bridge" && *provider != "turnkey" {
		return usagef("init --provider must be ecpay, amego, bridge or turnkey")
	}
	if *sellers {
		if *provider != "ecpay" {
			return usagef("init --sellers writes each seller's provider section; edit them rather than passing --provider")
		}
		if err := config.WriteExampleFor(path, "sellers"); err != nil {
			return err
		}
		fmt.Fprintf(std.out, "wrote %s (mode 0600) with a fresh API token.\n", path)
		fmt.Fprintln(std.out, "Next: fill in each [[sellers]] entry, set POSAGENT_QR_KEY, ECPAY_HASH_KEY, ECPAY_HASH_IV, BAKERY_QR_KEY and")
		fmt.Fprintf(std.out, "BAKERY_AMEGO_APP_KEY in the agent's environment, point [printer] at the printer, then: posagent run --config %s\n", path)
		return nil
	}
	if err := config.WriteExampleFor(path, *provider); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "wrote %s (mode 0600) with a fresh API token.\n", path)
	if *provider == "bridge" {
		fmt.Fprintln(std.out, "Next: fill in [terminal] and [provider.bridge] (the relay's URL or program), set POSAGENT_QR_KEY")
		fmt.Fprintln(std.out, "and POSAGENT_BRIDGE_SECRET in the agent's environment, point [printer] at the printer,")
		fmt.Fprintf(std.out, "then: posagent run --config %s\n", path)
		return nil
	}
	if *provider == "amego" {
		fmt.Fprintln(std.out, "Next: fill in [terminal], set POSAGENT_QR_KEY (the key Amego holds for the seller) and AMEGO_APP_KEY in the")
		fmt.Fprintf(std.out, "agent's environment, point [printer] at the printer, then: posagent run --config %s\n", path)
		return nil
	}
	if *provider == "turnkey" {
		fmt.Fprintln(std.out, "Next: fill in [terminal] (seller_address is required), set the [provider.turnkey] folders as")
		fmt.Fprintln(std.out, "Turnkey's screens show them, set POSAGENT_QR_KEY and TURNKEY_DB_DSN (read-only) in the agent's")
		fmt.Fprintf(std.out, "environment, point [printer] at the printer, then: posagent run --config %s\n", path)
		return nil
	}
	fmt.Fprintln(std.out, "Next: fill in [terminal], set POSAGENT_QR_KEY, ECPAY_HASH_KEY and ECPAY_HASH_IV in the")
	fmt.Fprintf(std.out, "agent's environment, point [printer] at the printer, then: posagent run --config %s\n", path)
	return nil
}

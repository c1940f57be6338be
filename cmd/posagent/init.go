package main

import (
	"context"
	"fmt"

	"github.com/posagent/posagent/config"
)

// runInit: posagent init [PATH]
func runInit(_ context.Context, std stdio, args []string) error {
	fs := newFlags("init", std, "init [PATH]   (default posagent.toml; never overwrites)")
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
	if err := config.WriteExample(path); err != nil {
		return err
	}
	fmt.Fprintf(std.out, "wrote %s (mode 0600) with a fresh API token.\n", path)
	fmt.Fprintln(std.out, "Next: fill in [terminal], set POSAGENT_QR_KEY, ECPAY_HASH_KEY and ECPAY_HASH_IV in the")
	fmt.Fprintf(std.out, "agent's environment, point [printer] at the printer, then: posagent run --config %s\n", path)
	return nil
}

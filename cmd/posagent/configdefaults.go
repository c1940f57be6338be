package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/printer"
)

// The integrator tools print what the agent prints: flags a command was not
// given take their values from the agent's config file, found as the operator
// commands find it ($POSAGENT_CONFIG, ./posagent.toml, ./var/posagent.toml,
// /etc/posagent/posagent.toml). An explicit flag, then the environment, win.

// configDefaults sets each flag of fs that was not given to the values from
// the config file, if there is one. A repeatable flag gets every value.
func configDefaults(fs *flag.FlagSet, std stdio, values func(config.Config) map[string][]string) error {
	path := findConfig("")
	if path == "" {
		return nil
	}
	cfg, err := config.LoadLoose(path)
	if err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, vals := range values(cfg) {
		if given[name] || fs.Lookup(name) == nil {
			continue
		}
		for _, v := range vals {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%s: %s from the config: %w", path, name, err)
			}
		}
	}
	return nil
}

// keyFromConfig is the QR key unless the environment already gives one.
func keyFromConfig(cfg config.Config) []string {
	if os.Getenv(qrKeyEnv) != "" || cfg.QR.Key.IsZero() {
		return nil
	}
	return []string{cfg.QR.Key.Reveal()}
}

func receiptFromConfig(cfg config.Config) map[string][]string {
	m := map[string][]string{"key": keyFromConfig(cfg), "footer": cfg.Printer.Footer}
	if cfg.Printer.Profile != "" {
		m["profile"] = []string{cfg.Printer.Profile}
	}
	if cfg.Printer.Details {
		m["details"] = []string{"true"}
	}
	if cfg.Printer.Logo != "" {
		m["logo"] = []string{cfg.Printer.Logo}
	}
	if cfg.Printer.Code39 != "" {
		m["code39"] = []string{cfg.Printer.Code39}
	}
	return m
}

func qrEncodeFromConfig(cfg config.Config) map[string][]string {
	m := map[string][]string{"key": keyFromConfig(cfg)}
	if cfg.QR.Encoding != "" {
		m["encoding"] = []string{cfg.QR.Encoding}
	}
	// As the agent encodes: the QR version limit and padding are the printer's.
	if p, err := printer.LookupProfile(cfg.Printer.Profile); err == nil {
		m["max-version"] = []string{strconv.Itoa(p.MaxQRVersion)}
		if p.QR == printer.QRPage {
			m["pad-right"] = []string{"true"}
		}
	}
	return m
}

func printerFromConfig(cfg config.Config) map[string][]string {
	p := cfg.Printer
	m := map[string][]string{
		"baud": {strconv.Itoa(p.Baud)}, "data-bits": {strconv.Itoa(p.DataBits)}, "parity": {p.Parity},
		"stop-bits": {strconv.Itoa(p.StopBits)}, "timeout": {p.Timeout.Duration.String()},
	}
	if p.Profile != "" {
		m["profile"] = []string{p.Profile}
	}
	// $POSAGENT_PRINTER, the flag's own default, wins over the file.
	if p.Device != "" && p.Device != "none" && os.Getenv("POSAGENT_PRINTER") == "" {
		m["device"] = []string{p.Device}
	}
	return m
}

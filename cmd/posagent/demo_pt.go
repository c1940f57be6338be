package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/invoicexpress/invoicexpresstest"
)

// runPTDemo is `posagent run --demo --regime pt`: a Portuguese terminal on
// the InvoiceXpress stand-in and the printer simulator, in-process, with its
// store and receipts (PNG) under dir.
func runPTDemo(ctx context.Context, std stdio, dir, addr string) error {
	ln, err := listenDemo(std, addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	receipts, err := freshDemoDir(dir)
	if err != nil {
		return err
	}
	log := newLogger(std.err, config.Log{Level: "info", Format: "text"})
	srv := invoicexpresstest.New(invoicexpresstest.Options{Logger: log})
	defer srv.Close()
	sim, err := startDemoPrinter(receipts, log)
	if err != nil {
		return err
	}
	defer sim.Close()
	token, err := config.NewToken()
	if err != nil {
		return err
	}
	cfg := ptDemoConfig(dir, srv.URL(), sim.Path(), token)
	cfg.API.Address = ln.Addr().String()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	cfgPath := filepath.Join(dir, "posagent.toml")
	doc := fmt.Sprintf("# Written by `posagent run --demo --regime pt` at every start: how the operator commands\n# reach the demo agent. Not a full configuration (see `posagent init --regime pt`).\n[api]\naddress = %q\ntoken = %q\n",
		cfg.API.Address, token)
	if err := os.WriteFile(cfgPath, []byte(doc), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", cfgPath, err)
	}
	demo := &demoProvider{srv: srv}
	a, closeAll, err := buildPortugal(cfg, log, demo, srv.HTTPClient())
	if err != nil {
		return err
	}
	defer closeAll()
	// The taxes are read before the first sale (an offline first start would refuse sales).
	if _, err := a.PTRefreshTaxes(ctx); err != nil {
		return fmt.Errorf("demo: read the stand-in's taxes: %w", err)
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.Serve(ctx, ln) }()
	sold := ptDemoFirstSale(ctx, a, func(wctx context.Context) string {
		if jobs, err := sim.WaitJobs(wctx, 1); err == nil && len(jobs) > 0 {
			return jobs[len(jobs)-1].PNGPath
		}
		return ""
	})
	fmt.Fprintf(std.out, `
posagent demo (Portugal) is running — Ctrl-C to stop.

  local API      http://%s/v1/   (token in %s)
  InvoiceXpress  stand-in %s   (in-process; take the till offline: posagent demo provider down)
  printer        simulator on %s, receipts as PNG in %s/
  store          %s
  first sale     %s

Try:  ./bin/posagent sell testdata/sales/pt-cafe.json
      ./bin/posagent pt show pt-cafe-1
      ./bin/posagent demo provider down   (sell a few: accepted, not yet invoices; then: demo provider up)
      ./bin/posagent status

`, ln.Addr(), cfgPath, srv.URL(), sim.Path(), receipts, cfg.Store.Path, sold)
	return <-serveErr
}

func ptDemoConfig(dir, standURL, simPath, token string) config.Config {
	cfg := config.DefaultConfig()
	cfg.Terminal.Regime = "pt"
	cfg.Terminal.MachineID = "DEMO01"
	cfg.Portugal.Seller = config.PTSeller{Name: "posagent Café Demonstração", NIF: invoicexpresstest.DemoSellerNIF,
		Address: "Rua da Demonstração 1, 1100-001 Lisboa"}
	cfg.Portugal.InvoiceXpress = config.InvoiceXpress{BaseURL: standURL, APIKey: invoicexpresstest.DemoAPIKey,
		Timeout: config.Duration{Duration: 5 * time.Second}}
	cfg.Portugal.Certification = "Processado por programa certificado n.º " + invoicexpresstest.DemoCertificate + "/AT (demo)"
	cfg.Portugal.PendingSlip = true
	cfg.Printer.Device = "serial:" + simPath
	cfg.Printer.Baud = 115200
	cfg.Printer.Profile = "pt-58mm"
	cfg.Printer.Timeout = config.Duration{Duration: 10 * time.Second}
	cfg.Store.Path = filepath.Join(dir, "posagent.db")
	cfg.API.Token = config.Secret(token)
	cfg.Console.Enabled = false
	cfg.Sync.BackoffBase = config.Duration{Duration: time.Second}
	cfg.Sync.BackoffCap = config.Duration{Duration: 15 * time.Second}
	cfg.Sync.CallTimeout = config.Duration{Duration: 10 * time.Second}
	return cfg
}

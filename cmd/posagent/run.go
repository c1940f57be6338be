package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/agent/console"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/internal/private"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/providers/ecpay"
	"github.com/posagent/posagent/providers/fake"
	"github.com/posagent/posagent/providers/mig"
	"github.com/posagent/posagent/providers/turnkey"
	"github.com/posagent/posagent/qr"
	"github.com/posagent/posagent/queue"
)

const runUsage = "run [--config PATH] [--demo [--provider ecpay|amego|bridge] [--dir var] [--addr HOST:PORT]]"

// runRun is the daemon: `posagent run --config /etc/posagent/posagent.toml`,
// or `posagent run --demo` for the self-contained demo (make run).
func runRun(ctx context.Context, std stdio, args []string) error {
	fs := newFlags("run", std, runUsage)
	cfgPath := fs.String("config", "", "config file (default: $POSAGENT_CONFIG, ./posagent.toml, "+config.SystemConfigPath()+")")
	demo := fs.Bool("demo", false, "run the demo: a provider stand-in (ECPay's, Amego's with --provider amego, the bridge's reference receiver with --provider bridge) and printer simulator in-process, store under --dir")
	dir := fs.String("dir", "var", "the demo's folder (store, receipts, config)")
	provider := fs.String("provider", "", "with --demo: the provider stand-in to run, ecpay (default), amego or bridge")
	addr := fs.String("addr", "", "the demo's API address (default "+config.DefaultAddress+", or a free loopback port when that one is taken)")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return usagef("run takes no arguments; usage: posagent %s", runUsage)
	}
	if *demo {
		return runDemoAgent(ctx, std, *dir, *addr, *provider)
	}
	if *addr != "" {
		return usagef("--addr is the demo's; a configured agent listens on api.address")
	}
	if *provider != "" {
		return usagef("--provider goes with --demo; a configured agent takes [provider] name from its config file")
	}
	path := *cfgPath
	if path == "" {
		if path = findConfig(""); path == "" || path == "var/posagent.toml" {
			return usagef("no config file: write one with `posagent init`, then `posagent run --config PATH` (or try `posagent run --demo`)")
		}
	}
	boot := newLogger(std.err, config.DefaultConfig().Log)
	cfg, err := config.Load(path, boot)
	if err != nil {
		return err
	}
	if left := cfg.ExampleLeftovers(); len(left) > 0 {
		return fmt.Errorf("config %s still holds the example's values of `posagent init`; a till would issue invoices as the example shop. Edit:\n  %s",
			path, strings.Join(left, "\n  "))
	}
	log := newLogger(std.err, cfg.Log)
	if cfg.OnTestPlatform() {
		log.Warn("invoices go to ECPay's TEST platform: they are not legal invoices; for real sales set provider.ecpay.base_url to https://"+config.ECPayProductionHost+" with your merchant's id and keys",
			"base_url", cfg.Provider.ECPay.BaseURL)
	}
	a, closeAll, err := buildAgent(ctx, cfg, log, nil, fileReloader(path, log))
	if err != nil {
		return err
	}
	defer closeAll()
	stopHUP := reloadOnHUP(ctx, a, log)
	defer stopHUP()
	return a.Run(ctx)
}

// fileReloader reads and validates the config file again and builds its
// sellers' providers, for agent.Reload; it changes nothing itself.
func fileReloader(path string, log *slog.Logger) agent.Reloader {
	return func(ctx context.Context) (config.Config, agent.Providers, error) {
		cfg, err := config.Load(path, log)
		if err != nil {
			return config.Config{}, nil, err
		}
		if left := cfg.ExampleLeftovers(); len(left) > 0 {
			return config.Config{}, nil, fmt.Errorf("config %s holds the example's values of `posagent init`; edit %s",
				path, strings.Join(left, ", "))
		}
		provs := agent.Providers{}
		for i, s := range cfg.SellerList() {
			prov, err := newSellerProvider(ctx, cfg, i, s, log)
			if err != nil {
				return config.Config{}, nil, err
			}
			provs[s.TaxID] = prov
		}
		return cfg, provs, nil
	}
}

// newSellerProvider builds the provider of seller s, the i-th of
// cfg.SellerList; with several sellers its errors name the seller.
func newSellerProvider(ctx context.Context, cfg config.Config, i int, s config.Seller, log *slog.Logger) (posagent.Provider, error) {
	view := cfg.ForSeller(s)
	if len(cfg.Sellers) > 1 && view.Provider.Name == "turnkey" && view.Provider.Turnkey.StateDir == "" {
		// Each seller's Turnkey drop journal apart: "turnkey-<tax id>" beside the store.
		abs, err := filepath.Abs(filepath.Join(filepath.Dir(cfg.Store.Path), "turnkey-"+s.TaxID))
		if err != nil {
			return nil, fmt.Errorf("sellers[%d].provider.turnkey.state_dir: %w", i, err)
		}
		view.Provider.Turnkey.StateDir = abs
	}
	plog := log
	if len(cfg.Sellers) > 0 {
		plog = log.With("seller", s.TaxID)
	}
	prov, err := newProvider(ctx, view, plog)
	if err != nil && len(cfg.Sellers) > 0 {
		return nil, fmt.Errorf("seller %s: %w", s.TaxID, err)
	}
	return prov, err
}

// reloadOnHUP reloads the configuration on SIGHUP, the daemon convention
// (systemctl reload). The returned func stops listening.
func reloadOnHUP(ctx context.Context, a *agent.Agent, log *slog.Logger) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-hup:
				if !ok {
					return
				}
				log.Info("SIGHUP: reloading the configuration")
				if _, err := a.Reload(ctx); err != nil {
					log.Error("SIGHUP: the configuration was not reloaded; the running one stays", "err", err)
				}
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(hup)
		<-done
	}
}

// newLogger makes the daemon's logger; LOG_LEVEL overrides the config.
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	level := slog.LevelInfo
	name := c.Level
	if env := os.Getenv("LOG_LEVEL"); env != "" {
		name = env
	}
	switch strings.ToLower(name) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opt := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opt)
	if c.Format == "json" {
		h = slog.NewJSONHandler(w, opt)
	}
	if serviceEventLog != nil {
		h = slog.NewMultiHandler(h, serviceEventLog)
	}
	return slog.New(h)
}

// serviceEventLog is set when posagent runs as a Windows service: the
// agent's warnings and errors go to the event log as well as the log file.
var serviceEventLog slog.Handler

// buildAgent wires the store, printer, and for each seller its proof kit,
// provider and, with [hq], its head office as booklet source from cfg. The
// returned func closes what the agent does not (the printer device, the
// providers, the head offices' pools); call it after Run returns, when the
// booklet loop has stopped.
func buildAgent(ctx context.Context, cfg config.Config, log *slog.Logger, demo agent.DemoControl, reload agent.Reloader) (*agent.Agent, func(), error) {
	list := cfg.SellerList()
	kits := map[string]agent.ProofKit{}
	var sellers []agent.SellerOptions
	var offices []*headOffice
	closeProvider := func() {
		for _, s := range sellers {
			if c, ok := s.Provider.(io.Closer); ok {
				c.Close()
			}
		}
		for _, o := range offices {
			if err := o.Close(); err != nil {
				log.Warn("close head office", "err", err)
			}
		}
	}
	for i, s := range list {
		view := cfg.ForSeller(s)
		kit, err := agent.NewProofKit(view, log)
		if err != nil {
			closeProvider()
			return nil, nil, err
		}
		kits[s.TaxID] = kit
		prov, err := newSellerProvider(ctx, cfg, i, s, log)
		if err != nil {
			closeProvider()
			return nil, nil, err
		}
		opt := agent.SellerOptions{TaxID: s.TaxID, Coder: kit.Coder, Provider: prov}
		sellers = append(sellers, opt)
		if s.HQ.Enabled() {
			// The seller's own head office: its ledger, its booklets.
			office, err := connectHeadOffice(ctx, s.HQ.DSN.Reveal(), s.TaxID, s.HQ.Terminal, log.With("component", "hq", "seller", s.TaxID))
			if err != nil {
				closeProvider()
				return nil, nil, err
			}
			offices = append(offices, office)
			sellers[len(sellers)-1].BookletSource = office
		}
	}
	kit := kits[list[0].TaxID] // the printer's profile is the till's, alike in every kit
	var pr agent.Printer
	var dev printer.Device
	if cfg.Printer.Device != "none" {
		var err error
		dev, err = printer.NewDevice(printer.DeviceConfig{
			Address: cfg.Printer.Device, Baud: cfg.Printer.Baud, DataBits: cfg.Printer.DataBits,
			Parity: printer.Parity(cfg.Printer.Parity), StopBits: strconv.Itoa(cfg.Printer.StopBits),
			BufferSize: kit.Profile.BufferSize, Logger: log.With("component", "printer"),
		})
		if err != nil {
			closeProvider()
			return nil, nil, fmt.Errorf("printer.device: %w", err)
		}
		pr = agent.DevicePrinter{D: dev}
	}
	closeRest := func() {
		closeProvider()
		if dev != nil {
			dev.Close()
		}
	}
	if dir := filepath.Dir(cfg.Store.Path); dir != "" {
		// The store holds buyer data: its folder is private (0700, or on
		// Windows an access-control list), unless it existed already.
		if err := private.MkdirAll(dir); err != nil {
			closeRest()
			return nil, nil, fmt.Errorf("store.path: %w", err)
		}
	}
	st, err := queue.Open(cfg.Store.Path, queue.Options{Logger: log.With("component", "store")})
	if err != nil {
		closeRest()
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	a, err := agent.New(agent.Options{
		Config: cfg, Store: &agent.QueueStore{S: st}, Printer: pr, Render: agent.RenderBySeller(kits, list[0].TaxID),
		Sellers: sellers, Logger: log, Demo: demo, Reload: reload,
	})
	if err != nil {
		st.Close()
		closeRest()
		return nil, nil, err
	}
	if cfg.Console.Enabled {
		c, err := console.New(console.Options{Agent: a, Token: cfg.API.Token, Password: cfg.Console.Password,
			SessionTimeout: cfg.Console.SessionTimeout.Duration, PaperWidth: kit.Profile.Dots,
			Logger: log.With("component", "console")})
		if err != nil {
			st.Close()
			closeRest()
			return nil, nil, err
		}
		a.MountConsole(c)
	}
	return a, closeRest, nil
}

func newProvider(ctx context.Context, cfg config.Config, log *slog.Logger) (posagent.Provider, error) {
	switch cfg.Provider.Name {
	case "turnkey":
		t := cfg.Provider.Turnkey
		state := t.StateDir
		if state == "" {
			abs, err := filepath.Abs(filepath.Join(filepath.Dir(cfg.Store.Path), "turnkey"))
			if err != nil {
				return nil, fmt.Errorf("provider.turnkey.state_dir: %w", err)
			}
			state = abs
		}
		if t.DSN.IsZero() {
			log.Warn("provider.turnkey.dsn is not set: outcomes are read from Turnkey's BAK and ERR folders only, and an invoice is never known accepted (C); voids and allowances wait for it")
		}
		p, err := turnkey.New(ctx, turnkey.Config{
			B2SRoot: t.B2SRoot, B2PRoot: t.B2PRoot, UnpackRoot: t.UnpackRoot, TempDir: t.TempDir, StateDir: state,
			DSN: t.DSN.Reveal(), HeadBan: t.HeadBan, StuckAfter: t.StuckAfter.Duration,
			Seller: posagent.Seller{TaxID: cfg.Terminal.SellerTaxID, Name: cfg.Terminal.SellerName, Address: cfg.Terminal.SellerAddress},
			MIG:    mig.Options{MemberCarrierType: t.MemberCarrierType, CustomsClearanceMark: t.CustomsClearanceMark},
			Logger: log.With("provider", "turnkey"),
		})
		if err != nil {
			return nil, fmt.Errorf("provider.turnkey: %w", err)
		}
		return p, nil
	case "fake":
		log.Warn("provider is fake: invoices are kept in memory and never reach the MOF")
		return fake.New(fake.Options{Logger: log.With("provider", "fake")}), nil
	case "ecpay":
		e := cfg.Provider.ECPay
		c, err := ecpay.New(ecpay.Config{BaseURL: e.BaseURL, MerchantID: e.MerchantID, HashKey: e.HashKey.Reveal(),
			HashIV: e.HashIV.Reveal(), MachineID: cfg.Terminal.MachineID, Timeout: e.Timeout.Duration, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("provider.ecpay: %w", err)
		}
		return c, nil
	case "amego":
		a := cfg.Provider.Amego
		seller := a.SellerTaxID
		if seller == "" {
			seller = cfg.Terminal.SellerTaxID
		}
		// The till's QR key: each upload's answer is checked against it.
		key, err := qr.ParseKey(cfg.QR.Key.Reveal())
		if err != nil {
			return nil, errors.New("qr.key: not a 32-hex-digit AES key")
		}
		c, err := amego.New(amego.Config{BaseURL: a.BaseURL, Seller: seller, AppKey: a.AppKey.Reveal(), QRKey: key,
			TrackAPICode: a.TrackAPICode, Timeout: a.Timeout.Duration, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("provider.amego: %w", err)
		}
		return c, nil
	case "bridge":
		return newBridge(cfg, log)
	}
	return nil, errors.New("provider.name: must be ecpay, amego, bridge, turnkey or fake")
}

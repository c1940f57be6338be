package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/printer/emulator"
	"github.com/posagent/posagent/printer/printersim"
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/providers/amego/amegotest"
	"github.com/posagent/posagent/providers/bridge/bridgetest"
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
)

// The demo's fixed set-up: the MOF test key (vector a) and a valid seller.
const (
	demoQRKey     = "F1A618ED8685B1A3B81E6CB6884617F4"
	demoSeller    = "24634102"
	demoMachineID = "DEMO01"
)

// demoSale is rung up at every start, so that a receipt appears at once.
const demoSale = `{
  "sale_id": "demo-%d",
  "items": [
    {"name": "熱拿鐵 Hot latte", "quantity": 1, "unit": "杯", "unit_price": 65},
    {"name": "可頌 Croissant", "quantity": 2, "unit": "個", "unit_price": 45}
  ]
}`

// standIn is a provider stand-in the demo runs in-process.
type standIn interface {
	URL() string
	Down()
	Up()
	Close()
}

// demoProvider switches the in-process stand-in off and on.
type demoProvider struct {
	srv  standIn
	down atomic.Bool
}

func (d *demoProvider) SetProviderDown(down bool) {
	d.down.Store(down)
	if down {
		d.srv.Down()
	} else {
		d.srv.Up()
	}
}

func (d *demoProvider) ProviderDown() bool { return d.down.Load() }

// demoDefaultAddress is where the demo listens unless --addr says otherwise
// (a variable so that tests can make it a port that is taken).
var demoDefaultAddress = config.DefaultAddress

// listenDemo takes the demo's API address: addr when given (and only it), or
// the default, or, when another process holds the default (a posagent
// already running), a free loopback port.
func listenDemo(std stdio, addr string) (net.Listener, error) {
	if addr != "" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("the demo's API address %s (--addr): %w", addr, err)
		}
		return ln, nil
	}
	ln, err := net.Listen("tcp", demoDefaultAddress)
	if err == nil {
		return ln, nil
	}
	ln, err2 := net.Listen("tcp", "127.0.0.1:0")
	if err2 != nil {
		return nil, fmt.Errorf("the demo's API address %s is taken (%v), and no other loopback port is free: %w", demoDefaultAddress, err, err2)
	}
	fmt.Fprintf(std.out, "%s is taken (another posagent running?): the demo listens on %s instead.\n", demoDefaultAddress, ln.Addr())
	return ln, nil
}

// runDemoAgent runs the agent with a provider stand-in (ECPay's, Amego's
// with provider "amego", or the bridge's reference receiver with provider
// "bridge") and a printer simulator in-process, a store and
// receipts under dir, until ctx ends (Ctrl-C). It
// holds its API port before it touches dir: the folder's posagent.toml tells
// the operator commands where the demo is and its token, and must never send
// them to another agent.
func runDemoAgent(ctx context.Context, std stdio, dir, addr, provider string) error {
	title := "ECPay"
	switch provider {
	case "ecpay", "":
		provider = "ecpay"
	case "amego":
		title = "Amego"
	case "bridge":
		title = "bridge"
	default:
		return usagef("run --demo --provider must be ecpay, amego or bridge")
	}
	ln, err := listenDemo(std, addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	receipts := filepath.Join(dir, "receipts")
	// The stand-in keeps nothing between runs (machine, tracks, invoices), so
	// the demo's store and receipts start afresh too: numbers and uploads must
	// agree with what the stand-in knows.
	for _, pattern := range []string{"posagent.db*", filepath.Join("receipts", "*.bin"), filepath.Join("receipts", "*.png")} {
		old, _ := filepath.Glob(filepath.Join(dir, pattern))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				return fmt.Errorf("demo folder: %w", err)
			}
		}
	}
	if err := os.MkdirAll(receipts, 0o700); err != nil {
		return fmt.Errorf("demo folder: %w", err)
	}
	log := newLogger(std.err, config.Log{Level: "info", Format: "text"})

	var stand standIn
	switch provider {
	case "amego":
		// The stand-in holds the demo's QR key, as Amego must hold the till's.
		stand = amegotest.New(amegotest.Options{Seller: demoSeller})
	case "bridge":
		stand = bridgetest.New(bridgetest.Options{Logger: log})
	default:
		stand = ecpaytest.New(ecpaytest.Options{})
	}
	defer stand.Close()
	sim, err := printersim.Start(printersim.Options{
		Dir: receipts,
		Render: func(job []byte, w io.Writer) error {
			res, err := emulator.Render(job, emulator.Options{Width: 384})
			if err != nil {
				return err
			}
			return res.WritePNG(w)
		},
		Logger: log.With("component", "printer-sim"),
	})
	if err != nil {
		return fmt.Errorf("start the printer simulator: %w", err)
	}
	defer sim.Close()

	token, err := config.NewToken()
	if err != nil {
		return err
	}
	cfg := demoConfig(dir, stand.URL(), sim.Path(), token)
	cfg.API.Address = ln.Addr().String()
	if provider == "amego" {
		cfg.Provider.Name = "amego"
		cfg.Provider.Amego = config.Amego{AppKey: amego.TestAppKey, BaseURL: stand.URL(), Timeout: config.Duration{Duration: 5 * time.Second}}
	}
	if provider == "bridge" {
		// The reference receiver over HTTP, leasing the demo's booklets.
		cfg.Provider.Name = "bridge"
		cfg.Provider.Bridge = config.Bridge{Transport: "http", URL: stand.URL(), Secret: bridgetest.DemoSecret,
			Timeout: config.Duration{Duration: 5 * time.Second}, Lease: true,
			Credentials: map[string]config.Secret{"store_code": "DEMO", "pos_code": demoMachineID}}
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	// The operator commands (posagent status, sell, …) find the agent through this file.
	cfgPath := filepath.Join(dir, "posagent.toml")
	doc := fmt.Sprintf("# Written by `posagent run --demo` at every start: how the operator commands\n# reach the demo agent. Not a full configuration (see `posagent init`).\n[api]\naddress = %q\ntoken = %q\n",
		cfg.API.Address, token)
	if err := os.WriteFile(cfgPath, []byte(doc), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", cfgPath, err)
	}

	demo := &demoProvider{srv: stand}
	a, closeAll, err := buildAgent(ctx, cfg, log, demo, nil)
	if err != nil {
		return err
	}
	defer closeAll()
	// Lease the demo booklet through the real provider client before the first sale.
	a.KeepBooklets(ctx)
	sold, first := demoFirstSale(ctx, a, sim)
	reissue := "./bin/posagent reissue NUMBER testdata/sales/coffee-taxid.json"
	if first != "" {
		reissue = "./bin/posagent reissue " + first.Printed() + " testdata/sales/coffee-taxid.json"
	}

	fmt.Fprintf(std.out, `
posagent demo is running — Ctrl-C to stop.

  console        http://%s/   (open it in a browser; sign in with the token in %s)
  local API      http://%s/v1/   (token in %s)
  %-14s %s   (in-process; switch it off: posagent demo provider down)
  printer        simulator on %s, receipts as PNG in %s/
  store          %s
  first sale     %s

Try:  ./bin/posagent sell testdata/sales/coffee.json
      %s
                                        (作廢重開: the buyer asks for a 統編 after the proof printed)
      ./bin/posagent order add testdata/sales/preorder.json   (預購; then: order list, order issue pre-20251230-0007)
      ./bin/posagent sell --background testdata/sales/business.json   (answered before the paper)
      a sale above NT$%d needs --confirmed (guard rails)
      ./bin/posagent status
      ./bin/posagent demo provider down   (sell a few, watch status, then: demo provider up)

`, ln.Addr(), cfgPath, ln.Addr(), cfgPath, title+" stand-in", stand.URL(), sim.Path(), receipts, cfg.Store.Path, sold,
		reissue, cfg.Guard.ConfirmAbove)
	return a.Serve(ctx, ln)
}

func demoConfig(dir, standURL, simPath, token string) config.Config {
	cfg := config.DefaultConfig()
	cfg.Terminal = config.Terminal{SellerTaxID: demoSeller, SellerName: "posagent 示範咖啡", SellerAddress: "台北市中正區示範路1號",
		MachineID: demoMachineID}
	cfg.QR.Key = config.Secret(demoQRKey)
	cfg.Provider.Name = "ecpay"
	cfg.Provider.ECPay = config.ECPay{MerchantID: ecpaytest.StageMerchantID, HashKey: ecpaytest.StageHashKey,
		HashIV: ecpaytest.StageHashIV, BaseURL: standURL, Timeout: config.Duration{Duration: 5 * time.Second}}
	cfg.Printer.Device = "serial:" + simPath
	cfg.Printer.Baud = 115200
	cfg.Printer.Profile = "58mm"
	cfg.Printer.Details = true
	cfg.Printer.Footer = []string{"posagent demo — 謝謝光臨"}
	cfg.Printer.Timeout = config.Duration{Duration: 10 * time.Second}
	cfg.Store.Path = filepath.Join(dir, "posagent.db")
	cfg.Booklets.LowWater = 20
	cfg.API.Token = config.Secret(token)
	cfg.Sync.BackoffBase = config.Duration{Duration: time.Second}
	cfg.Sync.BackoffCap = config.Duration{Duration: 15 * time.Second}
	cfg.Sync.CallTimeout = config.Duration{Duration: 10 * time.Second}
	// Guard rails a café would set: a mistyped NT$15,000 for NT$150 asks
	// for a confirmation; nothing above NT$200,000 is rung up here.
	cfg.Guard = config.Guard{ConfirmAbove: 10000, RefuseAbove: 200000}
	return cfg
}

// demoFirstSale rings up the sample sale and says where its receipt is,
// with the invoice's number ("" when it failed).
func demoFirstSale(ctx context.Context, a *agent.Agent, sim *printersim.Sim) (string, posagent.InvoiceNumber) {
	var sale posagent.Invoice
	if err := sale.UnmarshalJSON([]byte(fmt.Sprintf(demoSale, time.Now().Unix()))); err != nil {
		return "sample sale: " + err.Error(), ""
	}
	sale, err := a.PrepareSale(sale)
	if err != nil {
		return "sample sale: " + err.Error(), ""
	}
	res, err := a.Sell(ctx, sale)
	if err != nil {
		return "sample sale: " + err.Error(), ""
	}
	out := fmt.Sprintf("invoice %s, NT$%d", res.Invoice.Number.Printed(), res.Invoice.Total)
	if !res.Print.Printed {
		return out + ", not printed: " + res.Print.Message, res.Invoice.Number
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if jobs, err := sim.WaitJobs(wctx, len(sim.Jobs())); err == nil && len(jobs) > 0 && jobs[len(jobs)-1].PNGPath != "" {
		out += ", receipt " + jobs[len(jobs)-1].PNGPath
	}
	return out, res.Invoice.Number
}

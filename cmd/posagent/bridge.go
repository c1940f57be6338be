package main

import (
	"fmt"
	"log/slog"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/agent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/bridge"
)

// newBridge opens the bridge provider of [provider.bridge]. The MOF texts it
// sends are computed by the same proof kit that prints them, so the receiver
// gets exactly what the buyer holds.
func newBridge(cfg config.Config, log *slog.Logger) (posagent.Provider, error) {
	kit, err := agent.NewProofKit(cfg, log)
	if err != nil {
		return nil, err
	}
	b := cfg.Provider.Bridge
	creds := make(map[string]string, len(b.Credentials))
	for name, v := range b.Credentials {
		creds[name] = v.Reveal()
	}
	p, err := bridge.Open(bridge.Config{
		Transport: b.Transport, URL: b.URL, Secret: b.Secret.Reveal(), Command: b.Command, Timeout: b.Timeout.Duration,
		SellerTaxID: cfg.Terminal.SellerTaxID, MachineID: cfg.Terminal.MachineID, Credentials: creds,
		Texts: func(inv posagent.Invoice) (bridge.Texts, error) {
			p, err := kit.Coder(inv)
			if err != nil {
				return bridge.Texts{}, err
			}
			return bridge.Texts{Barcode: p.Barcode, QRLeft: p.QRLeft, QRRight: p.QRRight}, nil
		},
		Lease: b.Lease, NumberedAllowances: b.NumberedAllowances, MIG: b.MIG,
		SellerName: cfg.Terminal.SellerName, SellerAddress: cfg.Terminal.SellerAddress,
		// A relay that echoes the QR key or the API token must not put it in a job's history.
		Redact: []string{cfg.QR.Key.Reveal(), cfg.API.Token.Reveal()},
		Logger: log,
	})
	if err != nil {
		return nil, fmt.Errorf("provider.bridge: %w", err)
	}
	return p, nil
}

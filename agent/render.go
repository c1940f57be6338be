package agent

import (
	"fmt"
	"image/png"
	"log/slog"
	"os"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/escpos"
	"github.com/posagent/posagent/qr"
)

// ProofKit is what the agent derives from the configuration to number,
// encode and print proofs: the QR coder and the ESC/POS renderer agree on
// every QR option, so the texts stored with an invoice are the ones printed.
type ProofKit struct {
	Profile printer.Profile
	Coder   Coder
	Render  Renderer
}

// NewProofKit reads the key, QR options, printer profile, logo and footer from cfg.
func NewProofKit(cfg config.Config, log *slog.Logger) (ProofKit, error) {
	key, err := qr.ParseKey(cfg.QR.Key.Reveal())
	if err != nil {
		// The parse error may quote the value: say only which field is wrong.
		return ProofKit{}, fmt.Errorf("qr.key: not a 32-hex-digit AES key")
	}
	profile, err := printer.LookupProfile(cfg.Printer.Profile)
	if err != nil {
		return ProofKit{}, fmt.Errorf("printer.profile: %w", err)
	}
	if profile, err = profile.WithCode39(printer.Code39Mode(cfg.Printer.Code39)); err != nil {
		return ProofKit{}, fmt.Errorf("printer.code39: %w", err)
	}
	qopt := qr.DefaultOptions()
	switch cfg.QR.Encoding {
	case "big5":
		qopt.Encoding = qr.Big5
	case "base64":
		qopt.Encoding = qr.Base64
	default:
		qopt.Encoding = qr.UTF8
	}
	// As printer.RenderReceipt sets them: properties of the printer.
	qopt.MaxVersion = profile.MaxQRVersion
	qopt.PadRight = profile.QR == printer.QRPage
	var logo *escpos.Bitmap
	if cfg.Printer.Logo != "" {
		f, err := os.Open(cfg.Printer.Logo)
		if err != nil {
			return ProofKit{}, fmt.Errorf("printer.logo: %w", err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			return ProofKit{}, fmt.Errorf("printer.logo: %s is not a PNG: %w", cfg.Printer.Logo, err)
		}
		logo = escpos.BitmapFromImage(img)
	}
	ropt := printer.RenderOptions{Key: key, QR: &qopt, Details: cfg.Printer.Details, Logo: logo,
		Footer: cfg.Printer.Footer, Logger: log}
	return ProofKit{
		Profile: profile,
		Coder: func(inv posagent.Invoice) (Proof, error) {
			c, err := qr.Encode(inv, key, qopt)
			if err != nil {
				return Proof{}, err
			}
			return Proof{Barcode: c.Barcode, QRLeft: c.Left, QRRight: c.Right, QRVersion: c.Version}, nil
		},
		Render: func(inv posagent.Invoice, reprint bool) ([]byte, error) {
			o := ropt
			o.Reprint = reprint
			return printer.Render(inv, profile, o)
		},
	}, nil
}

// RenderBySeller draws each invoice with the proof kit of its seller (its QR
// key; the printer's settings are the till's): kits by seller tax id, and
// fallback for an invoice of a seller not among them (the default seller's).
func RenderBySeller(kits map[string]ProofKit, fallback string) Renderer {
	return func(inv posagent.Invoice, reprint bool) ([]byte, error) {
		kit, ok := kits[inv.Seller.TaxID]
		if !ok {
			kit = kits[fallback]
		}
		return kit.Render(inv, reprint)
	}
}

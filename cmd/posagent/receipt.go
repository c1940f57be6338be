package main

import (
	"context"
	"fmt"
	"image/png"
	"log/slog"
	"os"
	"strings"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/escpos"
	"github.com/posagent/posagent/qr"
)

const receiptUsage = "receipt [--profile NAME] [--key HEX] [--reprint] [--details] [--logo PNG] [--footer LINE]... FILE|- [-o OUT.bin]"

// footerLines collects the repeatable --footer flag.
type footerLines []string

func (l *footerLines) String() string     { return strings.Join(*l, "\n") }
func (l *footerLines) Set(s string) error { *l = append(*l, s); return nil }

// runReceipt turns an issued invoice (JSON) into the ESC/POS job that prints
// its proof: the bytes go to -o or to standard output. Characters the printer
// cannot print are warned about on stderr.
func runReceipt(_ context.Context, std stdio, args []string) error {
	fs := newFlags("receipt", std, receiptUsage)
	profileName := fs.String("profile", printer.DefaultProfile, "printer profile: "+strings.Join(printer.ProfileNames(), ", "))
	keyHex := fs.String("key", "", "QR AES key, 32 hex characters (default: $"+qrKeyEnv+")")
	reprint := fs.Bool("reprint", false, "print 補印: every print after the original")
	details := fs.Bool("details", false, "print the 交易明細 for a consumer too")
	code39 := fs.String("code39", "", "the barcode: raster (drawn by posagent, for printers without GS k) or native (GS k); default: the profile's")
	logoPath := fs.String("logo", "", "1-bit PNG logo to print instead of the seller's name")
	var footer footerLines
	fs.Var(&footer, "footer", "a line to print at the end (repeatable)")
	out := fs.String("o", "", "output file (default: standard output)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if err := configDefaults(fs, std, receiptFromConfig); err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one invoice file (- for standard input); usage: posagent %s", receiptUsage)
	}
	profile, err := printer.LookupProfile(*profileName)
	if err != nil {
		return usagef("--profile: %v", err)
	}
	if profile, err = profile.WithCode39(printer.Code39Mode(*code39)); err != nil {
		return usagef("--code39: %v", err)
	}

	in, err := openInput(std, pos[0])
	if err != nil {
		return err
	}
	inv, err := posagent.ReadInvoice(in)
	in.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", inputName(pos[0]), err)
	}

	opt := printer.RenderOptions{
		Reprint: *reprint,
		Details: *details,
		Footer:  footer,
		Logger:  slog.New(slog.NewTextHandler(std.err, nil)),
	}
	if inv.Print {
		// Only a proof carries the QR codes that need the key.
		if opt.Key, err = receiptKey(*keyHex); err != nil {
			return err
		}
	}
	if *logoPath != "" {
		if opt.Logo, err = loadLogo(*logoPath); err != nil {
			return err
		}
	}
	job, err := printer.Render(inv, profile, opt)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = "-"
	}
	return writeOutput(std, *out, job)
}

// receiptKey takes the key from the flag, else from the environment. Errors
// never repeat the key.
func receiptKey(flagValue string) (qr.Key, error) {
	source, value := "--key", flagValue
	if value == "" {
		source, value = "$"+qrKeyEnv, os.Getenv(qrKeyEnv)
	}
	if value == "" {
		return qr.Key{}, usagef("the proof's QR codes need the QR AES key: pass --key HEX or set %s", qrKeyEnv)
	}
	key, err := qr.ParseKey(strings.TrimSpace(value))
	if err != nil {
		return qr.Key{}, fmt.Errorf("%s: %w", source, err)
	}
	return key, nil
}

func loadLogo(path string) (*escpos.Bitmap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("logo: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("logo %s: %w", path, err)
	}
	return escpos.BitmapFromImage(img), nil
}

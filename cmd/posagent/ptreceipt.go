package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/printer"
)

const ptReceiptUsage = "pt-receipt [--profile NAME] [--copy] FILE|- [-o OUT.bin] [--preview OUT.png]\n" +
	"       posagent pt-receipt --pending --sale ID --total EUR [--at RFC3339] [--profile NAME] [-o OUT.bin] [--preview OUT.png]"

// runPTReceipt renders a Portuguese document (the JSON of printer.PTReceipt:
// the final document, the seller, the certification line) as the ESC/POS job
// of a Portuguese printer profile, or the "not an invoice" slip of a sale
// still waiting for its document. The job goes to -o or standard output;
// --preview draws it as the paper it prints (then the job is written only
// with -o).
func runPTReceipt(_ context.Context, std stdio, args []string) error {
	fs := newFlags("pt-receipt", std, ptReceiptUsage)
	profileName := fs.String("profile", printer.DefaultPTProfile, "Portuguese printer profile: "+strings.Join(printer.PTProfileNames(), ", "))
	copyMark := fs.Bool("copy", false, "a reprint: mark it 2ª via")
	pending := fs.Bool("pending", false, "the slip of a sale not yet issued (Este documento não serve de fatura)")
	sale := fs.String("sale", "", "with --pending: the sale id")
	total := fs.String("total", "", "with --pending: the amount in EUR (12.30)")
	at := fs.String("at", "", "with --pending: when the sale was made, RFC 3339 (default: now)")
	out := fs.String("o", "", "output file for the ESC/POS job (default: standard output)")
	preview := fs.String("preview", "", "also draw the receipt as a PNG (- for standard output)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	profile, err := printer.LookupPTProfile(*profileName)
	if err != nil {
		return usagef("--profile: %v", err)
	}
	var job []byte
	if *pending {
		if len(pos) != 0 || *copyMark {
			return usagef("--pending takes --sale, --total and --at, no file and no --copy; usage: posagent %s", ptReceiptUsage)
		}
		if job, err = ptPendingJob(*sale, *total, *at, profile); err != nil {
			return err
		}
	} else {
		if len(pos) != 1 || *sale != "" || *total != "" || *at != "" {
			return usagef("want one document file (- for standard input); usage: posagent %s", ptReceiptUsage)
		}
		if job, err = ptReceiptJob(std, pos[0], *copyMark, profile); err != nil {
			return err
		}
	}
	if *preview != "" {
		var png bytes.Buffer
		problems, err := printer.PreviewPNG(&png, job, profile)
		if err != nil {
			return err
		}
		for _, p := range problems {
			fmt.Fprintf(std.err, "posagent pt-receipt: preview: %s\n", p)
		}
		if err := writeOutput(std, *preview, png.Bytes()); err != nil {
			return err
		}
		if *out == "" {
			return nil
		}
	}
	if *out == "" {
		*out = "-"
	}
	return writeOutput(std, *out, job)
}

func ptReceiptJob(std stdio, name string, copyMark bool, profile printer.Profile) ([]byte, error) {
	in, err := openInput(std, name)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	var r printer.PTReceipt
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", inputName(name), err)
	}
	r.Copy = r.Copy || copyMark
	r.Logger = slog.New(slog.NewTextHandler(std.err, nil))
	return printer.RenderPT(r, profile)
}

func ptPendingJob(sale, total, at string, profile printer.Profile) ([]byte, error) {
	amount, err := posagent.ParseDecimal(total)
	if err != nil {
		return nil, usagef("--total: %v", err)
	}
	when := time.Now()
	if at != "" {
		if when, err = time.Parse(time.RFC3339, at); err != nil {
			return nil, usagef("--at: %v", err)
		}
	}
	return printer.RenderPTPending(sale, amount, when, profile)
}

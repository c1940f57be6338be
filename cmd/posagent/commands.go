package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
)

// stdio is what a command reads and writes; tests pass buffers.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

type command struct {
	summary string
	run     func(ctx context.Context, std stdio, args []string) error
}

// commands is every subcommand; each lives in a file of its own.
var commands = map[string]command{
	"version":     {"print the version", runVersion},
	"init":        {"write a commented config file with a fresh API token", runInit},
	"status":      {"show the running agent's queue, numbers, printer and alarms", runStatus},
	"sell":        {"ring up a sale through the running agent", runSell},
	"void":        {"void an invoice", runVoid},
	"allow":       {"record an allowance (partial refund) against an invoice, or void one (allow void)", runAllow},
	"reprint":     {"print an invoice's proof again (補印)", runReprint},
	"reissue":     {"void an invoice and issue the corrected sale in one step (作廢重開)", runReissue},
	"order":       {"orders issued later (預購, 取貨): add, list, cancel, issue", runOrder},
	"jobs":        {"list upload jobs (--dead: those needing a person) or revive one", runJobs},
	"booklets":    {"list invoice number booklets or add one", runBooklets},
	"reconcile":   {"check a day with the provider and locally now (--date), or list what is open", runReconcile},
	"demo":        {"switch the demo's provider stand-in down or up", runDemo},
	"reload":      {"make the running agent read its config file again (as SIGHUP does)", runReload},
	"resume":      {"end a paused provider's pause once fixed at the provider", runResume},
	"run":         {"run the agent daemon (--demo: the self-contained demo)", runRun},
	"hq":          {"the MySQL head office: add a number range, list leases", runHQ},
	"pt":          {"a Portuguese terminal's documents: show, list, drafts, finalize, cancel, refund, reprint, retry, taxes", runPT},
	"qr":          {"MOF barcode and QR texts: key, encode, decode", runQR},
	"ecpay":       {"encrypt or decrypt ECPay Data (stdin to stdout)", runECPay},
	"mig":         {"print a MIG 4.1 message (F0401 F0501 F0701 G0401 G0501 E0402) or check one", runMig},
	"receipt":     {"render an invoice's proof as ESC/POS bytes for a printer profile", runReceipt},
	"pt-receipt":  {"render a Portuguese document (or the not-an-invoice slip) as ESC/POS bytes, or preview it", runPTReceipt},
	"preview":     {"draw an ESC/POS stream as the printer would print it (PNG)", runPreview},
	"printer":     {"ask a printer's status, or print an ESC/POS job with the status handshake", runPrinter},
	"turnkey-sim": {"a stand-in for the MOF's Turnkey (folders + MariaDB tables) and a config to file through it", runTurnkeySim},
	"printer-sim": {"a receipt printer on a pseudo-terminal, saving each job as PNG", runPrinterSim},
	"service":     {"install, start, stop, query or remove the Windows service", runService},
}

// usageError makes run print the message and exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitError ends the command with a code and no message of its own: the
// command has already said what happened (e.g. "verification: mismatch").
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// run executes one command line and returns the exit code: 0 success, 1 failure,
// 2 usage error.
func run(ctx context.Context, args []string, std stdio) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(std.out)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(std.err, "posagent: unknown command %q\n\n", args[0])
		printHelp(std.err)
		return 2
	}
	err := cmd.run(ctx, std, args[1:])
	var usage usageError
	var exit exitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		fmt.Fprintf(std.err, "posagent %s: %s\n", args[0], usage.msg)
		return 2
	case errors.As(err, &exit):
		return exit.code
	}
	fmt.Fprintf(std.err, "posagent %s: %v\n", args[0], err)
	return 1
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "posagent — MOF e-invoice agent for point-of-sale terminals")
	fmt.Fprintln(w, "\nusage: posagent COMMAND [ARGS]   (posagent COMMAND -h for a command's flags)")
	fmt.Fprintln(w)
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-12s %s\n", name, commands[name].summary)
	}
}

// newFlags returns a flag set that reports errors instead of exiting.
func newFlags(name string, std stdio, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(std.err)
	fs.Usage = func() {
		fmt.Fprintf(std.err, "usage: posagent %s\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args and returns the positional arguments, allowing flags
// after them ("qr encode FILE --key K"), where the flag package would stop.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// openInput opens the named file, or standard input for "-".
func openInput(std stdio, name string) (io.ReadCloser, error) {
	if name == "-" {
		return io.NopCloser(std.in), nil
	}
	return os.Open(name)
}

// inputName is how errors name an input: "stdin" for "-".
func inputName(name string) string {
	if name == "-" {
		return "stdin"
	}
	return name
}

// writeOutput writes data to the named file, or to standard output for "-".
// A file is written through a temporary file in the same directory and a
// rename, so a failed run leaves the old file, or none, never half of one.
func writeOutput(std stdio, name string, data []byte) error {
	if name == "-" {
		_, err := std.out.Write(data)
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644) // CreateTemp makes 0600; an output file is an ordinary file
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), name)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

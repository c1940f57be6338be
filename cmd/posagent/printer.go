package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/posagent/posagent/printer"
)

const printerUsage = `printer status [DEVICE FLAGS]
       posagent printer print [DEVICE FLAGS] FILE.bin|-

Device flags:
  --device ADDR     /dev/ttyUSB0 (serial), tcp://HOST[:9100], lp:/dev/usb/lp0, file:OUT.bin
                    (default: $POSAGENT_PRINTER)
  --baud N --data-bits N --parity none|odd|even|mark|space --stop-bits 1|1.5|2
  --flow dsr|cts    also wait while the printer's busy line says so (XON/XOFF is always honoured)
  --profile NAME    take the buffer size from a printer profile
  --buffer BYTES    the printer's receive buffer (default 4096)
  --timeout D       how long to wait for the printer to finish a job (default 10s)
  --status-timeout D  how long to wait for each status reply (default 1s)
  --no-asb          do not enable automatic status back (GS a)`

// runPrinter talks to a printer: its status, or one job.
func runPrinter(ctx context.Context, std stdio, args []string) error {
	if len(args) == 0 {
		return usagef("want status or print; usage: posagent %s", printerUsage)
	}
	switch args[0] {
	case "status":
		return runPrinterStatus(ctx, std, args[1:])
	case "print":
		return runPrinterPrint(ctx, std, args[1:])
	case "-h", "--help", "help":
		fmt.Fprintf(std.out, "usage: posagent %s\n", printerUsage)
		return nil
	}
	return usagef("unknown printer command %q; usage: posagent %s", args[0], printerUsage)
}

// deviceFlags are the settings of a printer device given on the command line.
type deviceFlags struct {
	device, parity, stopBits, profile string
	flow                              string
	baud, dataBits, buffer            int
	timeout, statusTimeout            time.Duration
	noASB                             bool
}

func addDeviceFlags(fs *flag.FlagSet) *deviceFlags {
	d := &deviceFlags{}
	fs.StringVar(&d.device, "device", os.Getenv("POSAGENT_PRINTER"), "printer address (serial path, tcp://HOST:PORT, lp:PATH, file:PATH)")
	fs.IntVar(&d.baud, "baud", 9600, "serial speed")
	fs.IntVar(&d.dataBits, "data-bits", 8, "serial data bits")
	fs.StringVar(&d.parity, "parity", "none", "serial parity: none, odd, even, mark, space")
	fs.StringVar(&d.stopBits, "stop-bits", "1", "serial stop bits: 1, 1.5, 2")
	fs.StringVar(&d.flow, "flow", "", "hardware flow control besides XON/XOFF: dsr (DTR/DSR printers) or cts")
	fs.StringVar(&d.profile, "profile", "", "printer profile to take the buffer size from")
	fs.IntVar(&d.buffer, "buffer", 0, "printer receive buffer in bytes (default: the profile's, else 4096)")
	fs.DurationVar(&d.timeout, "timeout", 10*time.Second, "wait this long for the printer to finish a job")
	fs.DurationVar(&d.statusTimeout, "status-timeout", time.Second, "wait this long for each status reply")
	fs.BoolVar(&d.noASB, "no-asb", false, "do not enable automatic status back (GS a), for printers without it")
	return d
}

func (d *deviceFlags) open() (printer.Device, error) {
	if d.device == "" {
		return nil, usagef("--device is required (or set POSAGENT_PRINTER)")
	}
	buffer := d.buffer
	if d.profile != "" || buffer == 0 {
		p, err := printer.LookupProfile(d.profile)
		if err != nil {
			return nil, usagef("--profile: %v", err)
		}
		if buffer == 0 {
			buffer = p.BufferSize
		}
	}
	if d.timeout <= 0 || d.statusTimeout <= 0 {
		return nil, usagef("--timeout and --status-timeout must be positive")
	}
	dev, err := printer.NewDevice(printer.DeviceConfig{
		Address:           d.device,
		Baud:              d.baud,
		DataBits:          d.dataBits,
		Parity:            printer.Parity(d.parity),
		StopBits:          d.stopBits,
		FlowControl:       d.flow,
		BufferSize:        buffer,
		CompletionTimeout: d.timeout,
		StatusTimeout:     d.statusTimeout,
		NoASB:             d.noASB,
	})
	if err != nil {
		return nil, usagef("%v", err)
	}
	return dev, nil
}

// openPrinter parses the device flags of a printer subcommand, fills what they
// leave out from the config file, checks the positional arguments, and only
// then opens the device.
func openPrinter(std stdio, name string, args []string, wantArgs int, argsUsage string) (printer.Device, []string, error) {
	fs := newFlags(name, std, printerUsage)
	d := addDeviceFlags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return nil, nil, err
	}
	if err := configDefaults(fs, std, printerFromConfig); err != nil {
		return nil, nil, err
	}
	if len(pos) != wantArgs {
		return nil, nil, usagef("%s; usage: posagent %s", argsUsage, printerUsage)
	}
	dev, err := d.open()
	if err != nil {
		return nil, nil, err
	}
	return dev, pos, nil
}

func runPrinterStatus(ctx context.Context, std stdio, args []string) error {
	dev, _, err := openPrinter(std, "printer status", args, 0, "printer status takes no arguments")
	if err != nil {
		return err
	}
	defer dev.Close()
	st, err := dev.Status(ctx)
	switch {
	case errors.Is(err, printer.ErrNoAnswer):
		fmt.Fprintln(std.out, "no answer")
		fmt.Fprintf(std.err, "posagent printer status: %v (switched off, wrong port or wrong baud rate?)\n", err)
		return exitError{1}
	case errors.Is(err, printer.ErrDeviceGone):
		fmt.Fprintln(std.out, "device gone")
		fmt.Fprintf(std.err, "posagent printer status: %v\n", err)
		return exitError{1}
	case err != nil:
		return err
	}
	fmt.Fprintln(std.out, st.String())
	if !st.Ready() {
		return exitError{1}
	}
	return nil
}

func runPrinterPrint(ctx context.Context, std stdio, args []string) error {
	dev, pos, err := openPrinter(std, "printer print", args, 1, "want one job file (- for standard input)")
	if err != nil {
		return err
	}
	defer dev.Close()
	in, err := openInput(std, pos[0])
	if err != nil {
		return err
	}
	job, err := io.ReadAll(in)
	in.Close()
	if err != nil {
		return fmt.Errorf("read %s: %w", inputName(pos[0]), err)
	}
	out := dev.Print(ctx, job)
	fmt.Fprintln(std.out, strings.TrimSpace(out.String()))
	if !out.Printed {
		return exitError{1}
	}
	return nil
}

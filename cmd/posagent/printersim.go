package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent/printer/printersim"
)

const printerSimUsage = `printer-sim [--dir DIR] [--baud N] [--buffer BYTES] [--print-speed BYTES/S]
                   [--paper-out-after N] [--profile NAME | --width DOTS] [--link PATH] [--control SOCKET]
       posagent printer-sim ctl [--dir DIR | --control SOCKET] COMMAND

Runs a receipt printer on a pseudo-terminal until Ctrl-C. The first line on
standard output is the device path to print to. Every job is saved as
DIR/NNNN.bin and DIR/NNNN.png.

Faults at run time, through the control socket (DIR/control.sock by default):
  posagent printer-sim ctl paper-out on|off      posagent printer-sim ctl cover open|closed
  posagent printer-sim ctl near-end on|off       posagent printer-sim ctl silent on|off
  posagent printer-sim ctl paper-out-after-jobs N
  posagent printer-sim ctl paper-out-after-bytes N   (mid-job)
  posagent printer-sim ctl print-speed BYTES/S   posagent printer-sim ctl unplug|replug
  posagent printer-sim ctl status
or by signal: SIGUSR1 toggles paper out, SIGUSR2 toggles the cover.`

func runPrinterSim(ctx context.Context, std stdio, args []string) error {
	if len(args) > 0 && args[0] == "ctl" {
		return runPrinterSimCtl(std, args[1:])
	}
	fs := newFlags("printer-sim", std, printerSimUsage)
	dir := fs.String("dir", "var/printer-sim", "folder for NNNN.bin and NNNN.png")
	baud := fs.Int("baud", 0, "wire speed in baud (0: no delay)")
	buffer := fs.Int("buffer", 4096, "receive buffer in bytes")
	speed := fs.Int("print-speed", 0, "bytes printed per second (0: as fast as they come)")
	paperOutAfter := fs.Int("paper-out-after", 0, "run out of paper after N jobs (0: never)")
	profile := fs.String("profile", "", "printer profile for the PNG width")
	width := fs.Int("width", 0, "PNG width in dots (instead of --profile)")
	link := fs.String("link", "", "keep a symlink to the device here (survives unplug/replug)")
	control := fs.String("control", "", "control socket (default DIR/control.sock)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("printer-sim takes no arguments; usage: posagent %s", printerSimUsage)
	}
	dots, err := previewWidth(*profile, *width)
	if err != nil {
		return err
	}
	if *control == "" {
		*control = filepath.Join(*dir, "control.sock")
	}
	log := slog.New(slog.NewTextHandler(std.err, nil))
	sim, err := printersim.Start(printersim.Options{
		Dir:               *dir,
		Link:              *link,
		Baud:              *baud,
		BufferSize:        *buffer,
		PrintSpeed:        *speed,
		PaperOutAfterJobs: *paperOutAfter,
		Width:             dots,
		Logger:            log,
	})
	if err != nil {
		return err
	}
	defer sim.Close()

	ln, err := listenControl(*control)
	if err != nil {
		return err
	}
	defer ln.Close()
	defer os.Remove(*control)
	go serveControl(ln, sim, log)

	fmt.Fprintln(std.out, sim.Path())
	fmt.Fprintf(std.err, "printer-sim: print with  posagent printer print --device %s FILE.bin\n", sim.Path())
	fmt.Fprintf(std.err, "printer-sim: jobs go to %s; faults: posagent printer-sim ctl --control %s paper-out on\n", *dir, *control)

	sigs := make(chan os.Signal, 1)
	if len(simFaultSignals) == 2 {
		signal.Notify(sigs, simFaultSignals...)
		defer signal.Stop(sigs)
	}
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintln(std.err, "printer-sim: stopped")
			return nil
		case sig := <-sigs:
			st := sim.Status()
			if sig == simFaultSignals[0] {
				sim.SetPaperOut(!st.PaperOut)
			} else {
				sim.SetCoverOpen(!st.CoverOpen)
			}
			fmt.Fprintf(std.err, "printer-sim: %s\n", sim.Status())
		}
	}
}

// listenControl opens the control socket, replacing a stale one left by a
// simulator that was killed, but never one that still answers.
func listenControl(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: another printer-sim is running", path)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return ln, nil
}

func serveControl(ln net.Listener, sim *printersim.Sim, log *slog.Logger) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			line, err := bufio.NewReader(conn).ReadString('\n')
			if err != nil && !errors.Is(err, io.EOF) {
				return
			}
			reply := controlCommand(sim, strings.Fields(line))
			log.Info("printer-sim control", "command", strings.TrimSpace(line), "reply", reply)
			fmt.Fprintln(conn, reply)
		}()
	}
}

// controlCommand runs one fault switch and answers "ok: STATUS" or
// "error: …".
func controlCommand(sim *printersim.Sim, words []string) string {
	if len(words) == 0 {
		return "error: empty command"
	}
	onOff := func(on, off string) (bool, error) {
		if len(words) != 2 {
			return false, fmt.Errorf("%s wants %s or %s", words[0], on, off)
		}
		switch words[1] {
		case on:
			return true, nil
		case off:
			return false, nil
		}
		return false, fmt.Errorf("%s wants %s or %s, not %q", words[0], on, off, words[1])
	}
	number := func() (int, error) {
		if len(words) != 2 {
			return 0, fmt.Errorf("%s wants a number", words[0])
		}
		n, err := strconv.Atoi(words[1])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s wants a number ≥ 0, not %q", words[0], words[1])
		}
		return n, nil
	}
	var err error
	switch words[0] {
	case "paper-out":
		var on bool
		if on, err = onOff("on", "off"); err == nil {
			sim.SetPaperOut(on)
		}
	case "near-end":
		var on bool
		if on, err = onOff("on", "off"); err == nil {
			sim.SetPaperNearEnd(on)
		}
	case "cover":
		var open bool
		if open, err = onOff("open", "closed"); err == nil {
			sim.SetCoverOpen(open)
		}
	case "silent":
		var on bool
		if on, err = onOff("on", "off"); err == nil {
			sim.SetSilent(on)
		}
	case "paper-out-after-jobs":
		var n int
		if n, err = number(); err == nil {
			sim.PaperOutAfterJobs(n)
		}
	case "paper-out-after-bytes":
		var n int
		if n, err = number(); err == nil {
			sim.PaperOutAfterBytes(n)
		}
	case "print-speed":
		var n int
		if n, err = number(); err == nil {
			sim.SetPrintSpeed(n)
		}
	case "unplug":
		sim.Unplug()
	case "replug":
		err = sim.Replug()
	case "status":
	default:
		err = fmt.Errorf("unknown command %q", words[0])
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok: " + describeSim(sim)
}

func describeSim(sim *printersim.Sim) string {
	st := sim.Stats()
	return fmt.Sprintf("%s; %d jobs, %d bytes received, %d lost, path %s", sim.Status(), len(sim.Jobs()), st.Received, st.Overruns, sim.TTY())
}

func runPrinterSimCtl(std stdio, args []string) error {
	fs := newFlags("printer-sim ctl", std, printerSimUsage)
	dir := fs.String("dir", "var/printer-sim", "the simulator's folder")
	control := fs.String("control", "", "control socket (default DIR/control.sock)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want a command; usage: posagent %s", printerSimUsage)
	}
	if *control == "" {
		*control = filepath.Join(*dir, "control.sock")
	}
	conn, err := net.DialTimeout("unix", *control, 2*time.Second)
	if err != nil {
		return fmt.Errorf("no printer-sim at %s: %w", *control, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintln(conn, strings.Join(pos, " ")); err != nil {
		return err
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("printer-sim control: %w", err)
	}
	reply = strings.TrimSpace(reply)
	if msg, failed := strings.CutPrefix(reply, "error: "); failed {
		return usagef("%s", msg)
	}
	fmt.Fprintln(std.out, strings.TrimPrefix(reply, "ok: "))
	return nil
}

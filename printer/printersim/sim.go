// Package printersim is an ESC/POS receipt printer on a pseudo-terminal: the
// agent opens the slave side as if it were a serial printer. The simulator
// answers DLE EOT and GS r like a real printer (escpos.md §9), sends XON/XOFF
// and automatic status back, saves every job it prints as NNNN.bin (and
// NNNN.png through a renderer), and can be told at run time to run out of
// paper, open its cover, go silent, print slowly with a small buffer, or be
// unplugged and plugged back in. Tests, demos and integrators use it instead
// of hardware.
//
// Two goroutines model the two halves of a printer. The receiver takes bytes
// off the wire at the baud rate, answers real-time requests (DLE EOT) at once
// (one between commands is taken out of the stream; one inside image data is
// answered too, as real printers do, and stays data), and queues the rest in
// a finite receive buffer, dropping what does not fit (an overrun, as a real printer
// does). The engine prints from the buffer at the print speed with a
// command-aware scanner, so bytes inside raster data are data; a job ends at
// its GS r, which is answered when the engine reaches it. A third goroutine
// draws the PNGs after the reply, as a real printer's answer does not wait
// for anyone to look at the paper.
package printersim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/emulator"
)

// Options configure a simulator. The zero value is a fast printer with a
// 4 KB buffer that keeps jobs in memory only.
type Options struct {
	// Dir receives NNNN.bin (and NNNN.png) per job; empty keeps jobs in memory
	// only. Numbering continues after the highest NNNN.bin already there.
	Dir string
	// Link, if set, is a symlink kept pointing at the current slave path, so
	// a device survives Unplug/Replug the way /dev/serial/by-id does.
	Link string
	// Baud is the wire speed in bits per second (10 bits a byte, 8N1); 0
	// means no wire delay.
	Baud int
	// BufferSize is the receive buffer in bytes (default 4096).
	BufferSize int
	// XOFFAt and XONAt are free-space thresholds in bytes: XOFF when fewer
	// than XOFFAt are free, XON again at XONAt (defaults: a quarter and half
	// of the buffer).
	XOFFAt, XONAt int
	// PrintSpeed is how many bytes a second the engine prints; 0 means as
	// fast as they come.
	PrintSpeed int
	// PaperOutAfterJobs runs out of paper once this many jobs have printed
	// (0: never).
	PaperOutAfterJobs int
	// Width is the printable width in dots the PNGs are drawn at (default
	// 384, 58 mm paper; 576 for 80 mm).
	Width int
	// Render draws a job as PNG; nil uses the ESC/POS emulator at Width.
	// NoPNG saves .bin files only.
	Render func(job []byte, w io.Writer) error
	NoPNG  bool
	Logger *slog.Logger
}

// Job is one job the simulator printed.
type Job struct {
	Index int
	Data  []byte
	// Complete: the job ended with its GS r. A job cut short (the host
	// abandoned it and reset the printer with ESC @) is saved with Complete
	// false: that part is on paper too.
	Complete bool
	BinPath  string // empty when Options.Dir is empty
	PNGPath  string // empty without a renderer
	// RenderErr is why the PNG could not be drawn, if it could not.
	RenderErr error
	PrintedAt time.Time
}

// Stats count what the simulator saw.
type Stats struct {
	Received       int // bytes taken off the wire
	Overruns       int // bytes dropped because the buffer was full
	XOFFs          int // XOFF bytes sent
	StatusRequests int // DLE EOT requests answered
	ASBEnables     int // GS a commands that switched ASB on
	Markers        int // GS r requests answered
	MaxBuffered    int // the fullest the buffer got
}

// Sim is a running simulated printer.
type Sim struct {
	opt Options
	log *slog.Logger

	wmu    sync.Mutex // serialises writes to the master
	master *os.File
	slave  *os.File
	path   string

	mu   sync.Mutex
	wake *sync.Cond // the engine waits on it
	// renderCond wakes the renderer, and Jobs when a render is done.
	renderCond *sync.Cond
	changed    chan struct{}
	closed     bool

	// Printer state, guarded by mu.
	paperOut, nearEnd, coverOpen, silent bool
	paperOutAfterJobs                    int
	paperOutAfterBytes                   int // -1: not armed
	asbOn                                bool
	powerCycled                          bool // the engine forgets its job
	xoffSent                             bool
	buf                                  []byte // receive buffer (FIFO)
	printSpeed                           int
	stats                                Stats

	// The job being printed; the engine's own.
	cur      []byte
	curStart int // offset of the job's first real command, -1 before it
	jobs     []Job
	next     int
	// completeJobs counts complete jobs, drawn or not (paper-out-after-N).
	completeJobs int
	// renderQ holds finished jobs waiting for their PNG; pendingRenders
	// counts them and the one being drawn.
	renderQ        []Job
	pendingRenders int

	wg     sync.WaitGroup
	recvWG sync.WaitGroup
	// plugMu serialises Unplug, Replug and Close, which stop and start the
	// receiver.
	plugMu    sync.Mutex
	unplugged bool
}

// Start opens a pseudo-terminal and starts the printer on it.
func Start(opt Options) (*Sim, error) {
	if opt.BufferSize == 0 {
		opt.BufferSize = 4096
	}
	if opt.BufferSize < 32 {
		return nil, fmt.Errorf("printer-sim buffer: %d bytes is below 32", opt.BufferSize)
	}
	if opt.XOFFAt == 0 {
		opt.XOFFAt = opt.BufferSize / 4
	}
	if opt.XONAt == 0 {
		opt.XONAt = opt.BufferSize / 2
	}
	if opt.XONAt < opt.XOFFAt || opt.XONAt > opt.BufferSize {
		return nil, fmt.Errorf("printer-sim XON threshold %d must lie between XOFF %d and the buffer %d", opt.XONAt, opt.XOFFAt, opt.BufferSize)
	}
	if opt.Baud < 0 || opt.PrintSpeed < 0 || opt.PaperOutAfterJobs < 0 {
		return nil, errors.New("printer-sim: baud, print speed and paper-out-after must not be negative")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Width == 0 {
		opt.Width = 384
	}
	if opt.Width < 8 || opt.Width > emulator.MaxWidth {
		return nil, fmt.Errorf("printer-sim width: %d dots is not 8–%d", opt.Width, emulator.MaxWidth)
	}
	if opt.Render == nil && !opt.NoPNG {
		opt.Render = EmulatorPNG(opt.Width)
	}
	if opt.NoPNG {
		opt.Render = nil
	}
	s := &Sim{
		opt:                opt,
		log:                opt.Logger,
		changed:            make(chan struct{}),
		paperOutAfterJobs:  opt.PaperOutAfterJobs,
		paperOutAfterBytes: -1,
		printSpeed:         opt.PrintSpeed,
		curStart:           -1,
		next:               1,
	}
	s.wake = sync.NewCond(&s.mu)
	s.renderCond = sync.NewCond(&s.mu)
	if opt.Dir != "" {
		if err := os.MkdirAll(opt.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("printer-sim dir: %w", err)
		}
		n, err := highestJob(opt.Dir)
		if err != nil {
			return nil, err
		}
		s.next = n + 1
	}
	if err := s.plug(); err != nil {
		return nil, err
	}
	s.wg.Add(2)
	go s.engine()
	go s.renderer()
	return s, nil
}

// EmulatorPNG draws jobs with the ESC/POS emulator at width dots. Problems
// the emulator finds (unknown commands) are logged by the caller's job
// record, not fatal: the picture shows what the paper would.
func EmulatorPNG(width int) func(job []byte, w io.Writer) error {
	return func(job []byte, w io.Writer) error {
		res, err := emulator.Render(job, emulator.Options{Width: width})
		if err != nil {
			return err
		}
		return res.WritePNG(w)
	}
}

var jobFile = regexp.MustCompile(`^(\d{4,})\.bin$`)

func highestJob(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("printer-sim dir: %w", err)
	}
	high := 0
	for _, e := range entries {
		if m := jobFile.FindStringSubmatch(e.Name()); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n > high {
				high = n
			}
		}
	}
	return high, nil
}

// plug opens a fresh pseudo-terminal and starts receiving on it.
func (s *Sim) plug() error {
	master, slave, err := openPTY()
	if err != nil {
		return fmt.Errorf("printer-sim: %w", err)
	}
	path := slave.Name()
	if s.opt.Link != "" {
		tmp := s.opt.Link + ".new"
		os.Remove(tmp)
		if err := os.Symlink(path, tmp); err != nil {
			master.Close()
			slave.Close()
			return fmt.Errorf("printer-sim link: %w", err)
		}
		if err := os.Rename(tmp, s.opt.Link); err != nil {
			master.Close()
			slave.Close()
			return fmt.Errorf("printer-sim link: %w", err)
		}
	}
	s.wmu.Lock()
	s.master, s.slave, s.path = master, slave, path
	s.wmu.Unlock()
	s.mu.Lock()
	s.unplugged = false
	s.mu.Unlock()
	s.recvWG.Add(1)
	go s.receive(master)
	s.log.Info("printer-sim ready", "path", s.Path())
	return nil
}

// Path is where a device opens the printer: the link if one was asked for,
// else the slave of the current pseudo-terminal.
func (s *Sim) Path() string {
	if s.opt.Link != "" {
		return s.opt.Link
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.path
}

// TTY is the slave path of the current pseudo-terminal.
func (s *Sim) TTY() string {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.path
}

// Close stops the printer. Jobs already saved stay.
func (s *Sim) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.wake.Broadcast()
	s.renderCond.Broadcast()
	s.mu.Unlock()
	s.unplug()
	s.wg.Wait()
	if s.opt.Link != "" {
		os.Remove(s.opt.Link)
	}
	return nil
}

// Unplug closes the pseudo-terminal, as pulling a USB serial adapter does:
// the host's reads fail and its writes go nowhere. The printer's state and
// buffer stay.
func (s *Sim) Unplug() {
	s.unplug()
	s.log.Info("printer-sim unplugged")
}

func (s *Sim) unplug() {
	s.plugMu.Lock()
	defer s.plugMu.Unlock()
	s.mu.Lock()
	s.unplugged = true
	s.mu.Unlock()
	s.wmu.Lock()
	master, slave := s.master, s.slave
	s.master, s.slave = nil, nil
	s.wmu.Unlock()
	if master != nil {
		master.Close()
		slave.Close()
	}
	s.recvWG.Wait()
}

// Replug opens a new pseudo-terminal (a new /dev/pts path; the Link follows
// it), as a re-enumerated adapter appears again.
func (s *Sim) Replug() error {
	s.mu.Lock()
	closed, unplugged := s.closed, s.unplugged
	s.mu.Unlock()
	if closed {
		return errors.New("printer-sim: closed")
	}
	if !unplugged {
		return nil
	}
	s.plugMu.Lock()
	defer s.plugMu.Unlock()
	return s.plug()
}

// send writes bytes to the host. A printer that is unplugged or silent
// says nothing.
func (s *Sim) send(b ...byte) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.master == nil {
		return
	}
	if _, err := s.master.Write(b); err != nil {
		s.log.Debug("printer-sim write failed", "err", err)
	}
}

// statusLocked is the printer's state as it reports it.
func (s *Sim) statusLocked() printer.Status {
	offline := s.paperOut || s.coverOpen
	return printer.Status{
		Offline:      offline,
		CoverOpen:    s.coverOpen,
		PaperOut:     s.paperOut,
		PaperNearEnd: s.nearEnd,
		Known:        printer.KnownPrinter | printer.KnownOffline | printer.KnownError | printer.KnownPaper,
	}
}

// Status is the printer's current state.
func (s *Sim) Status() printer.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statusLocked()
}

// stateChangedLocked reports a change the way a printer does: ASB if the
// host enabled it, and XOFF/XON. Called with mu held.
func (s *Sim) stateChangedLocked() {
	if s.asbOn && !s.silent {
		b := s.statusLocked().ASBBytes()
		s.send(b[:]...)
	}
	s.flowLocked()
	s.wake.Broadcast()
}

// flowLocked sends XOFF when the buffer is nearly full or the printer is
// offline, and XON when both have passed.
func (s *Sim) flowLocked() {
	if s.silent {
		return
	}
	free := s.opt.BufferSize - len(s.buf)
	offline := s.paperOut || s.coverOpen
	switch {
	case !s.xoffSent && (offline || free < s.opt.XOFFAt):
		s.xoffSent = true
		s.stats.XOFFs++
		s.send(printer.XOFF)
	case s.xoffSent && !offline && free >= s.opt.XONAt:
		s.xoffSent = false
		s.send(printer.XON)
	}
}

// SetPaperOut empties or refills the paper roll.
func (s *Sim) SetPaperOut(out bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paperOut == out {
		return
	}
	s.paperOut = out
	if !out {
		s.paperOutAfterBytes = -1
	}
	s.log.Info("printer-sim paper", "out", out)
	s.stateChangedLocked()
}

// SetPaperNearEnd sets the near-end sensor; the printer keeps printing.
func (s *Sim) SetPaperNearEnd(near bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nearEnd == near {
		return
	}
	s.nearEnd = near
	s.stateChangedLocked()
}

// SetCoverOpen opens or closes the cover.
func (s *Sim) SetCoverOpen(open bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.coverOpen == open {
		return
	}
	s.coverOpen = open
	s.log.Info("printer-sim cover", "open", open)
	s.stateChangedLocked()
}

// SetSilent makes the printer say nothing and lose what it receives, as a
// printer switched off at the end of a serial cable does.
func (s *Sim) SetSilent(silent bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.silent = silent
	s.log.Info("printer-sim silent", "silent", silent)
	if !silent {
		s.xoffSent = false
		s.flowLocked()
	}
}

// PowerCycle switches the printer off and on: what it held in its buffer
// and a job it was printing are lost, and it comes back with its power-on
// settings (ASB off), its paper, cover and sensors as they were.
func (s *Sim) PowerCycle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = nil
	s.asbOn = false
	s.xoffSent = false
	s.powerCycled = true
	s.log.Info("printer-sim switched off and on")
	s.flowLocked()
	s.wake.Broadcast()
}

// PaperOutAfterJobs runs out of paper once n more jobs have printed (0
// disarms).
func (s *Sim) PaperOutAfterJobs(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paperOutAfterJobs = 0
	if n > 0 {
		s.paperOutAfterJobs = s.jobCountLocked() + n
	}
}

// PaperOutAfterBytes runs out of paper after n more bytes have printed: in
// the middle of the next job, for n smaller than it.
func (s *Sim) PaperOutAfterBytes(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paperOutAfterBytes = n
}

// SetPrintSpeed changes how many bytes a second the engine prints (0: no
// limit).
func (s *Sim) SetPrintSpeed(bytesPerSecond int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.printSpeed = max(bytesPerSecond, 0)
	s.wake.Broadcast()
}

func (s *Sim) jobCountLocked() int { return s.completeJobs }

// Jobs returns the jobs printed so far, in order, once their PNGs are drawn.
func (s *Sim) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.pendingRenders > 0 {
		s.renderCond.Wait()
	}
	return append([]Job(nil), s.jobs...)
}

// WaitJobs waits until at least n jobs (complete or cut short) have printed.
func (s *Sim) WaitJobs(ctx context.Context, n int) ([]Job, error) {
	for {
		s.mu.Lock()
		jobs, changed := append([]Job(nil), s.jobs...), s.changed
		s.mu.Unlock()
		if len(jobs) >= n {
			return jobs, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return jobs, fmt.Errorf("printer-sim: %d of %d jobs printed: %w", len(jobs), n, ctx.Err())
		}
	}
}

// Stats returns the counters so far.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

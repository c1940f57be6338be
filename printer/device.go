package printer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"time"
)

// Device is a receipt printer the agent sends jobs to. Implementations run one
// job at a time: concurrent calls queue, and jobs never interleave.
type Device interface {
	// Print sends one job (a whole ESC/POS stream) and tells how it went.
	Print(ctx context.Context, job []byte) Outcome
	// Status asks the printer how it is.
	Status(ctx context.Context) (Status, error)
	Close() error
}

// Reason says why a job was not printed, in words a cashier can read.
type Reason string

const (
	ReasonPaperOut  Reason = "paper out"
	ReasonCoverOpen Reason = "cover open"
	ReasonOffline   Reason = "offline"
	// ReasonError: a cutter, mechanical or other printer error.
	ReasonError Reason = "printer error"
	// ReasonNoAnswer: the printer did not answer the status request before the
	// job (switched off, wrong port, wrong baud rate, unplugged cable).
	ReasonNoAnswer Reason = "no answer"
	// ReasonNotConfirmed: the job was sent but the printer never confirmed
	// it had processed it.
	ReasonNotConfirmed Reason = "not confirmed"
	// ReasonStalled: the printer held the line paused (XOFF) for too long.
	ReasonStalled Reason = "printer stopped taking data"
	// ReasonDeviceGone: the port could not be opened, or vanished (USB adapter
	// unplugged, network printer unreachable).
	ReasonDeviceGone Reason = "device gone"
	// ReasonCanceled: the caller gave up (context canceled or expired).
	ReasonCanceled Reason = "canceled"
	// ReasonBadJob: the job is empty or ends inside a command; nothing was sent.
	ReasonBadJob Reason = "malformed job"
)

// Outcome is what became of one job.
type Outcome struct {
	// Printed: the job was processed. On a two-way device the printer
	// confirmed it (Confirmed is true); on a write-only device it was written.
	Printed   bool
	Confirmed bool
	// Reason says why the job was not printed; empty when Printed.
	Reason Reason
	// MayHaveReachedPaper is false only when no byte of the job reached the
	// printer: the agent may then print the original again. When true (and
	// Printed is false) any further print of this invoice must say 補印.
	MayHaveReachedPaper bool
	// Sent and Total count the job's bytes written and to write.
	Sent, Total int
	// Status is the last status seen: before the job, from ASB or polls
	// during it, or from the completion reply (paper near end).
	Status Status
	// Elapsed is from the call to the outcome.
	Elapsed time.Duration
	// Err carries the detail behind Reason, if any.
	Err error
}

func (o Outcome) String() string {
	var b strings.Builder
	if o.Printed {
		b.WriteString("printed")
		if !o.Confirmed {
			b.WriteString(" (written; this device cannot confirm)")
		}
	} else {
		fmt.Fprintf(&b, "not printed: %s", o.Reason)
		if o.MayHaveReachedPaper {
			b.WriteString(" (part of it may be on paper: a reprint must say 補印)")
		} else {
			b.WriteString(" (nothing reached the printer)")
		}
	}
	fmt.Fprintf(&b, "; %d of %d bytes sent in %s", o.Sent, o.Total, o.Elapsed.Round(time.Millisecond))
	if o.Status.Known != 0 && (o.Status.PaperNearEnd || !o.Printed) {
		fmt.Fprintf(&b, "; printer: %s", o.Status)
	}
	if o.Err != nil && !o.Printed {
		fmt.Fprintf(&b, "; %v", o.Err)
	}
	return b.String()
}

// Errors from Status; match with errors.Is.
var (
	ErrNoAnswer          = errors.New("printer did not answer")
	ErrDeviceGone        = errors.New("printer device gone")
	ErrStatusUnsupported = errors.New("this device cannot report status (write-only)")
)

// Parity of a serial line.
type Parity string

const (
	ParityNone  Parity = "none"
	ParityOdd   Parity = "odd"
	ParityEven  Parity = "even"
	ParityMark  Parity = "mark"
	ParitySpace Parity = "space"
)

// Hardware flow control lines (DeviceConfig.FlowControl).
const (
	FlowDSR = "dsr"
	FlowCTS = "cts"
)

// DeviceConfig says where a printer is and how to talk to it. The agent fills
// it from its configuration and the printer's profile (BufferSize, Baud).
type DeviceConfig struct {
	// Address is one of
	//   /dev/ttyUSB0, COM3           a serial port (anything without a scheme)
	//   serial:/dev/ttyS0            the same, explicitly
	//   tcp://192.168.1.50:9100      a network printer (port 9100 when omitted)
	//   lp:/dev/usb/lp0              a line-printer device node, write-only
	//                                (/dev/usb/lp* and /dev/lp* are taken as such)
	//   file:out.bin                 a plain file jobs are appended to (tests, dry runs)
	//   winspool:EPSON TM-T82III     a printer installed in Windows, through the
	//                                spooler in RAW mode (write-only, see device_spool.go)
	//   COM3, \\.\COM12              a serial port on Windows
	Address string

	// Serial line settings: Baud (default 9600), DataBits (default 8), Parity
	// (default none), StopBits 1, 1.5 or 2 (as "1", "1.5", "2"; default "1").
	Baud     int
	DataBits int
	Parity   Parity
	StopBits string

	// FlowControl is how the printer says "wait" besides XON/XOFF, which is
	// always honoured: "" (XON/XOFF only), "dsr" (the printer's DTR/BUSY line
	// on the host's DSR, the usual DTR/DSR setting) or "cts" (its RTS on the
	// host's CTS). Serial only; the line is read before every chunk.
	FlowControl string

	// BufferSize is the printer's receive buffer in bytes (from its profile;
	// default 4096). Writes go in chunks small enough that what is in flight
	// when the printer says XOFF still fits.
	BufferSize int

	// StatusTimeout bounds the wait for each status reply (default 1 s).
	StatusTimeout time.Duration
	// CompletionTimeout bounds the wait for the completion marker after the
	// last byte left (default 10 s).
	CompletionTimeout time.Duration
	// StallTimeout bounds one XOFF pause (default 15 s: a cut or a hot head
	// pauses for seconds).
	StallTimeout time.Duration
	// PollInterval is how often status is asked while waiting for completion
	// (default 1 s).
	PollInterval time.Duration
	// NoASB stops the device from enabling automatic status back, for printers
	// that do not support GS a.
	NoASB bool

	Logger *slog.Logger
}

func (c *DeviceConfig) setDefaults() {
	if c.Baud == 0 {
		c.Baud = 9600
	}
	if c.DataBits == 0 {
		c.DataBits = 8
	}
	if c.Parity == "" {
		c.Parity = ParityNone
	}
	if c.StopBits == "" {
		c.StopBits = "1"
	}
	if c.BufferSize == 0 {
		c.BufferSize = 4096
	}
	if c.StatusTimeout == 0 {
		c.StatusTimeout = time.Second
	}
	if c.CompletionTimeout == 0 {
		c.CompletionTimeout = 10 * time.Second
	}
	if c.StallTimeout == 0 {
		c.StallTimeout = 15 * time.Second
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c *DeviceConfig) validate() error {
	if c.Address == "" {
		return fmt.Errorf("printer address: empty")
	}
	if c.Baud < 50 || c.Baud > 4_000_000 {
		return fmt.Errorf("printer baud: %d is not a serial speed (50–4000000)", c.Baud)
	}
	if c.DataBits < 5 || c.DataBits > 8 {
		return fmt.Errorf("printer data bits: %d is not 5–8", c.DataBits)
	}
	switch c.Parity {
	case ParityNone, ParityOdd, ParityEven, ParityMark, ParitySpace:
	default:
		return fmt.Errorf("printer parity: %q is not none, odd, even, mark or space", c.Parity)
	}
	switch c.StopBits {
	case "1", "1.5", "2":
	default:
		return fmt.Errorf("printer stop bits: %q is not 1, 1.5 or 2", c.StopBits)
	}
	switch c.FlowControl {
	case "", FlowDSR, FlowCTS:
	default:
		return fmt.Errorf("printer flow control: %q is not dsr or cts (XON/XOFF is always on)", c.FlowControl)
	}
	if c.BufferSize < 64 {
		return fmt.Errorf("printer buffer size: %d bytes is below 64", c.BufferSize)
	}
	return nil
}

// bitsPerByte is the wire cost of one byte: start bit, data, parity, stop.
func (c *DeviceConfig) bitsPerByte() float64 {
	bits := 1 + float64(c.DataBits)
	if c.Parity != ParityNone {
		bits++
	}
	switch c.StopBits {
	case "1.5":
		bits += 1.5
	case "2":
		bits += 2
	default:
		bits++
	}
	return bits
}

// NewDevice returns the device at cfg.Address. Nothing is opened until the
// first job or status request, so an unplugged printer does not stop the agent
// from starting.
func NewDevice(cfg DeviceConfig) (Device, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	addr := cfg.Address
	switch {
	case strings.HasPrefix(addr, "tcp://"):
		host := strings.TrimPrefix(addr, "tcp://")
		return newTCPDevice(cfg, host)
	case strings.HasPrefix(addr, "file:"):
		return newFileDevice(cfg, strings.TrimPrefix(addr, "file:"), false)
	case strings.HasPrefix(addr, "lp:"):
		return newFileDevice(cfg, strings.TrimPrefix(addr, "lp:"), true)
	case strings.HasPrefix(addr, "winspool:"):
		if runtime.GOOS != "windows" {
			return nil, fmt.Errorf("printer address: %q: winspool: printers exist only on Windows", addr)
		}
		return newSpoolDevice(cfg, strings.TrimPrefix(addr, "winspool:"), systemSpooler())
	case strings.HasPrefix(addr, "serial:"):
		return newSerialDevice(cfg, strings.TrimPrefix(addr, "serial:"))
	case strings.HasPrefix(addr, "/dev/usb/lp"), strings.HasPrefix(addr, "/dev/lp"):
		// Line-printer nodes are no serial ports (no termios): write-only.
		return newFileDevice(cfg, addr, true)
	case strings.Contains(addr, "://"):
		return nil, fmt.Errorf("printer address: %q has an unknown scheme (serial:, tcp://, lp:, file:, winspool:)", addr)
	}
	return newSerialDevice(cfg, addr)
}

// markerCommand is GS r 1, appended to every job: it runs in sequence, so its
// reply means the printer processed everything before it.
var markerCommand = []byte{gs, 'r', '1'}

// prepareJob checks that job is whole commands and appends the completion
// marker unless the job already ends with one. It returns the bytes to send
// and how many marker replies they will bring.
func prepareJob(job []byte) (out []byte, markers int, err error) {
	if len(job) == 0 {
		return nil, 0, errors.New("empty job")
	}
	var sc CommandScanner
	last := false
	for _, b := range job {
		if cmd, ok := sc.Feed(b); ok {
			last = cmd.Len == 3 && cmd.Is(gs, 'r')
			if last {
				markers++
			}
		}
	}
	if sc.InCommand() {
		return nil, 0, errors.New("job ends inside a command (truncated file?)")
	}
	if last {
		return job, markers, nil
	}
	out = make([]byte, 0, len(job)+len(markerCommand))
	out = append(append(out, job...), markerCommand...)
	return out, markers + 1, nil
}

// deviceLock is a mutex a waiter can give up on.
type deviceLock chan struct{}

func newDeviceLock() deviceLock { return make(deviceLock, 1) }

func (l deviceLock) lock(ctx context.Context) error {
	select {
	case l <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l deviceLock) unlock() { <-l }

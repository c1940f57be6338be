package printer

import (
	"errors"
	"fmt"
	"time"

	"go.bug.st/serial"
	"syscall"
)

// serialReadTimeout bounds each Read so the reader notices a closed port
// even where closing does not wake a blocked read.
const serialReadTimeout = 200 * time.Millisecond

func newSerialDevice(cfg DeviceConfig, path string) (Device, error) {
	mode, err := serialMode(cfg)
	if err != nil {
		return nil, err
	}
	open := func() (transport, error) {
		// No InitialStatusBits: opening with them fails on pseudo-terminals
		// and USB adapters without modem lines (escpos.md §10).
		sp, err := serial.Open(path, mode)
		if err != nil {
			return nil, err
		}
		if err := sp.SetReadTimeout(serialReadTimeout); err != nil {
			sp.Close()
			return nil, err
		}
		// Whatever the printer said before we listened answers nothing we ask.
		_ = sp.ResetInputBuffer()
		return serialTransport{sp}, nil
	}
	return newPort(cfg, path, true, open), nil
}

func serialMode(cfg DeviceConfig) (*serial.Mode, error) {
	m := &serial.Mode{BaudRate: cfg.Baud, DataBits: cfg.DataBits}
	switch cfg.Parity {
	case ParityNone:
		m.Parity = serial.NoParity
	case ParityOdd:
		m.Parity = serial.OddParity
	case ParityEven:
		m.Parity = serial.EvenParity
	case ParityMark:
		m.Parity = serial.MarkParity
	case ParitySpace:
		m.Parity = serial.SpaceParity
	default:
		return nil, fmt.Errorf("printer parity: %q is not none, odd, even, mark or space", cfg.Parity)
	}
	switch cfg.StopBits {
	case "1":
		m.StopBits = serial.OneStopBit
	case "1.5":
		m.StopBits = serial.OnePointFiveStopBits
	case "2":
		m.StopBits = serial.TwoStopBits
	default:
		return nil, fmt.Errorf("printer stop bits: %q is not 1, 1.5 or 2", cfg.StopBits)
	}
	return m, nil
}

// serialTransport adapts go.bug.st/serial: Read already returns (0, nil) on
// timeout and PortError{PortClosed} when the device is gone.
type serialTransport struct{ p serial.Port }

func (s serialTransport) Read(b []byte) (int, error) {
	n, err := s.p.Read(b)
	var pe *serial.PortError
	if errors.As(err, &pe) && pe.Code() == serial.PortClosed {
		return n, fmt.Errorf("serial port closed or unplugged: %w", err)
	}
	return n, err
}

// Write and Drain are single system calls in go.bug.st/serial; the Go
// runtime's preemption signals interrupt them (EINTR), which is no failure.
func (s serialTransport) Write(b []byte) (int, error) {
	for {
		n, err := s.p.Write(b)
		if errors.Is(err, syscall.EINTR) && n == 0 {
			continue
		}
		return n, err
	}
}

func (s serialTransport) Drain() error {
	for {
		if err := s.p.Drain(); !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func (s serialTransport) Close() error { return s.p.Close() }

func (s serialTransport) clearToSend(line string) (bool, error) {
	bits, err := s.p.GetModemStatusBits()
	if err != nil {
		return false, err
	}
	if line == FlowCTS {
		return bits.CTS, nil
	}
	return bits.DSR, nil
}

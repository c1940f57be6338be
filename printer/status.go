package printer

import "strings"

// Status is what a printer said about itself, decoded from the real-time
// DLE EOT replies or an automatic status back (ASB) block (escpos.md §9).
// The zero value means "nothing known"; Known tells which parts were asked.
type Status struct {
	// Offline: the printer does not print now (cover open, paper end, error,
	// FEED pressed). A printer that answered and has Offline false is online.
	Offline bool
	// CoverOpen: the platen or roll cover is open.
	CoverOpen bool
	// PaperOut: the roll has ended and the printer stopped.
	PaperOut bool
	// PaperNearEnd: the near-end sensor sees little paper left; printing goes on.
	PaperNearEnd bool
	// CutterError: the auto-cutter jammed or failed.
	CutterError bool
	// MechanicalError: a mechanical error other than the cutter (ASB only).
	MechanicalError bool
	// Unrecoverable: an error that needs the power switched off and on.
	Unrecoverable bool
	// AutoRecoverable: an error the printer clears by itself (head too hot,
	// cover opened while printing).
	AutoRecoverable bool
	// WaitingRecovery: the printer waits for DLE ENQ after an error.
	WaitingRecovery bool
	// FeedPressed: the FEED button is held.
	FeedPressed bool
	// ErrorOccurred: the offline cause says "error" (details in the fields above
	// when the error cause was asked for).
	ErrorOccurred bool

	// Known is a bit set of the parts this status holds: KnownPrinter (n=1),
	// KnownOffline (n=2), KnownError (n=3), KnownPaper (n=4), KnownASB,
	// KnownSpooler.
	Known uint8
}

// The parts of a Status, for Status.Known.
const (
	KnownPrinter uint8 = 1 << iota // DLE EOT 1 answered
	KnownOffline                   // DLE EOT 2 answered
	KnownError                     // DLE EOT 3 answered
	KnownPaper                     // DLE EOT 4 answered
	KnownASB                       // an ASB block arrived
	// KnownSpooler: the Windows print spooler's word on the printer (its
	// driver's, really); see device_spool.go for how far that goes.
	KnownSpooler
)

// Real-time status request DLE EOT n (escpos.md §9).
const (
	StatusPrinter byte = 1 // printer status
	StatusOffline byte = 2 // offline cause
	StatusError   byte = 3 // error cause
	StatusPaper   byte = 4 // roll paper sensor
)

// ValidStatusReply reports whether b has the fixed bits of a DLE EOT reply
// (0xx1xx10).
func ValidStatusReply(b byte) bool { return b&0x93 == 0x12 }

// ApplyStatusReply folds the reply byte to DLE EOT n into s. It returns false,
// leaving s alone, when n is unknown or b is not a DLE EOT reply.
func (s *Status) ApplyStatusReply(n, b byte) bool {
	if !ValidStatusReply(b) {
		return false
	}
	switch n {
	case StatusPrinter:
		s.Offline = b&0x08 != 0
		s.WaitingRecovery = b&0x20 != 0
		s.FeedPressed = b&0x40 != 0
		s.Known |= KnownPrinter
	case StatusOffline:
		s.CoverOpen = b&0x04 != 0
		// Bit 3 is "paper being fed by FEED": not a fault.
		if b&0x20 != 0 {
			s.PaperOut = true
		}
		s.ErrorOccurred = b&0x40 != 0
		s.Known |= KnownOffline
	case StatusError:
		s.CutterError = b&0x08 != 0
		s.Unrecoverable = b&0x20 != 0
		s.AutoRecoverable = b&0x40 != 0
		s.Known |= KnownError
	case StatusPaper:
		s.PaperNearEnd = b&0x0C != 0
		// Paper end from the roll sensor; n=2 bit 5 may have set it already.
		s.PaperOut = s.PaperOut || b&0x60 != 0
		s.Known |= KnownPaper
	default:
		return false
	}
	return true
}

// StatusFromASB decodes a four-byte automatic status back block.
func StatusFromASB(asb [4]byte) Status {
	s := Status{Known: KnownASB}
	s.Offline = asb[0]&0x08 != 0
	s.CoverOpen = asb[0]&0x20 != 0
	s.FeedPressed = asb[0]&0x40 != 0
	s.MechanicalError = asb[1]&0x04 != 0
	s.CutterError = asb[1]&0x08 != 0
	s.Unrecoverable = asb[1]&0x20 != 0
	s.AutoRecoverable = asb[1]&0x40 != 0
	s.ErrorOccurred = asb[1]&0x6C != 0
	s.PaperNearEnd = asb[2]&0x03 != 0
	s.PaperOut = asb[2]&0x0C != 0
	return s
}

// ASBBytes encodes s as the four bytes a printer sends as automatic status
// back; the simulator uses it, and it is the inverse of StatusFromASB.
func (s Status) ASBBytes() [4]byte {
	b := [4]byte{0x10, 0x00, 0x00, 0x00}
	set := func(i int, cond bool, bit byte) {
		if cond {
			b[i] |= bit
		}
	}
	set(0, s.Offline, 0x08)
	set(0, s.CoverOpen, 0x20)
	set(0, s.FeedPressed, 0x40)
	set(1, s.MechanicalError, 0x04)
	set(1, s.CutterError, 0x08)
	set(1, s.Unrecoverable, 0x20)
	set(1, s.AutoRecoverable, 0x40)
	set(2, s.PaperNearEnd, 0x03)
	set(2, s.PaperOut, 0x0C)
	return b
}

// StatusReplyByte encodes the reply a printer in state s gives to DLE EOT n;
// the simulator uses it, and ApplyStatusReply is its inverse.
func (s Status) StatusReplyByte(n byte) byte {
	b := byte(0x12)
	set := func(cond bool, bit byte) {
		if cond {
			b |= bit
		}
	}
	switch n {
	case StatusPrinter:
		set(s.Offline, 0x08)
		set(s.WaitingRecovery, 0x20)
		set(s.FeedPressed, 0x40)
	case StatusOffline:
		set(s.CoverOpen, 0x04)
		set(s.PaperOut, 0x20)
		set(s.Failed(), 0x40)
	case StatusError:
		set(s.CutterError, 0x08)
		set(s.Unrecoverable, 0x20)
		set(s.AutoRecoverable, 0x40)
	case StatusPaper:
		set(s.PaperNearEnd, 0x0C)
		set(s.PaperOut, 0x60)
	}
	return b
}

// Failed reports an error condition (cutter, mechanical, unrecoverable,
// auto-recoverable, or an offline cause of "error").
func (s Status) Failed() bool {
	return s.ErrorOccurred || s.CutterError || s.MechanicalError || s.Unrecoverable || s.AutoRecoverable
}

// Ready reports whether a job may start: the printer answered and is online,
// with its cover closed, paper in and no error. Paper near end is ready.
func (s Status) Ready() bool {
	return s.Known != 0 && !s.Offline && !s.CoverOpen && !s.PaperOut && !s.Failed()
}

// Conditions lists the printer's state in plain words, worst first, as a
// cashier would read them: "cover open", "paper out", "paper near end",
// "ready", …
func (s Status) Conditions() []string {
	if s.Known == 0 {
		return []string{"unknown"}
	}
	var c []string
	add := func(cond bool, words string) {
		if cond {
			c = append(c, words)
		}
	}
	add(s.CoverOpen, "cover open")
	add(s.PaperOut, "paper out")
	add(s.CutterError, "cutter error")
	add(s.MechanicalError, "mechanical error")
	add(s.Unrecoverable, "unrecoverable error")
	add(s.AutoRecoverable, "auto-recoverable error")
	add(s.ErrorOccurred && !s.CutterError && !s.MechanicalError && !s.Unrecoverable && !s.AutoRecoverable, "error")
	add(s.WaitingRecovery, "waiting for recovery")
	add(s.FeedPressed, "feed button pressed")
	// "offline" alone when no cause explains it.
	add(s.Offline && len(c) == 0, "offline")
	add(s.PaperNearEnd, "paper near end")
	if s.Ready() {
		c = append([]string{"ready"}, c...)
	}
	return c
}

// String is the conditions joined by commas: "paper out", "ready, paper near end".
func (s Status) String() string { return strings.Join(s.Conditions(), ", ") }

// blockingReason names why a job must not start in state s, or "" when it may.
func (s Status) blockingReason() Reason {
	switch {
	case s.CoverOpen:
		return ReasonCoverOpen
	case s.PaperOut:
		return ReasonPaperOut
	case s.Failed():
		return ReasonError
	case s.Offline:
		return ReasonOffline
	}
	return ""
}

// midJobFault names a condition reported during a job that ends it. Offline
// alone does not: a printer is offline for a moment while paper is fed with
// the FEED button (escpos.md §9, DLE EOT 2 bit 3), and XOFF or the stall
// timeout deal with an offline that lasts.
func (s Status) midJobFault() Reason {
	if s.CoverOpen || s.PaperOut || s.Failed() {
		return s.blockingReason()
	}
	return ""
}

package printer

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// A printer installed in Windows (typically USB with the vendor's driver) is
// reached through the print spooler: `winspool:EPSON TM-T82III Receipt`. The
// job goes in RAW mode, so the driver passes our ESC/POS bytes untouched.
//
// The spooler is one-way as far as we are concerned: it cannot answer DLE EOT,
// and the printer status it keeps is whatever the driver (or its language
// monitor) reports, which for most receipt-printer drivers is nothing until a
// job fails. So a spooler device is treated like an lp: node: a job handed to
// the spooler is printed but unconfirmed. What the spooler does say is used:
//   - before a job, a printer it reports offline, paper out, door open, in
//     error or paused refuses the job (nothing reaches paper);
//   - after the job, its status is read for up to StatusTimeout; a job the
//     spooler marks in error, offline, paper out, blocked or waiting for the
//     user is deleted from the queue, so it cannot come out later behind the
//     agent's back, and reported not printed with "part of it may be on
//     paper" (a reprint says 補印). [U] Whether a given driver sets these job
//     flags at all is not confirmed; the safe reading of silence is "printed,
//     unconfirmed", as for lp:.

// spooler is the part of the Windows print spooler (winspool.drv) a spooler
// device uses. spool_windows.go calls the real one; tests use a fake.
type spooler interface {
	// Open is OpenPrinterW.
	Open(name string) (spoolHandle, error)
}

// spoolHandle is an open printer.
type spoolHandle interface {
	// Status is GetPrinterW level 6: the PRINTER_STATUS_* flags.
	Status() (uint32, error)
	// StartDoc is StartDocPrinterW level 1 with the RAW datatype; it
	// returns the spooler's job id. StartPage is StartPagePrinter.
	StartDoc(docName string) (jobID uint32, err error)
	StartPage() error
	// Write is WritePrinter: n bytes were accepted.
	Write(p []byte) (n int, err error)
	// EndPage and EndDoc are EndPagePrinter and EndDocPrinter; Abort is
	// AbortPrinter (drops a document not ended yet).
	EndPage() error
	EndDoc() error
	Abort() error
	// Job is GetJobW level 1: the JOB_STATUS_* flags; gone is true when the
	// spooler no longer knows the job (it was printed and removed).
	Job(id uint32) (status uint32, gone bool, err error)
	// Delete is SetJobW with JOB_CONTROL_DELETE.
	Delete(id uint32) error
	Close() error
}

// PRINTER_STATUS_* flags (winspool.h).
const (
	spoolPrinterPaused          = 0x00000001
	spoolPrinterError           = 0x00000002
	spoolPrinterPaperJam        = 0x00000008
	spoolPrinterPaperOut        = 0x00000010
	spoolPrinterPaperProblem    = 0x00000040
	spoolPrinterOffline         = 0x00000080
	spoolPrinterNotAvailable    = 0x00001000
	spoolPrinterUserIntervetion = 0x00100000
	spoolPrinterDoorOpen        = 0x00400000
)

// JOB_STATUS_* flags (winspool.h).
const (
	spoolJobError            = 0x00000002
	spoolJobDeleting         = 0x00000004
	spoolJobOffline          = 0x00000020
	spoolJobPaperOut         = 0x00000040
	spoolJobPrinted          = 0x00000080
	spoolJobDeleted          = 0x00000100
	spoolJobBlocked          = 0x00000200
	spoolJobUserIntervention = 0x00000400
	spoolJobComplete         = 0x00001000
)

// spoolDocName is the document name the spooler's queue shows.
const spoolDocName = "posagent receipt"

// spoolPoll is how often a job's status is read after it was handed over.
const spoolPoll = 100 * time.Millisecond

type spoolDevice struct {
	cfg     DeviceConfig
	name    string
	spooler spooler
	lock    deviceLock
}

func newSpoolDevice(cfg DeviceConfig, name string, sp spooler) (Device, error) {
	if name == "" {
		return nil, fmt.Errorf("printer address: %q names no printer (winspool:PRINTER NAME, as in Settings > Printers)", cfg.Address)
	}
	return &spoolDevice{cfg: cfg, name: name, spooler: sp, lock: newDeviceLock()}, nil
}

// spoolStatus reads the spooler's printer flags as a Status.
func spoolStatus(flags uint32) Status {
	s := Status{Known: KnownSpooler}
	s.PaperOut = flags&spoolPrinterPaperOut != 0
	s.CoverOpen = flags&spoolPrinterDoorOpen != 0
	s.ErrorOccurred = flags&(spoolPrinterError|spoolPrinterPaperJam|spoolPrinterPaperProblem|spoolPrinterUserIntervetion) != 0
	s.Offline = s.PaperOut || s.CoverOpen || s.ErrorOccurred ||
		flags&(spoolPrinterOffline|spoolPrinterPaused|spoolPrinterNotAvailable) != 0
	return s
}

// jobFault names a job status that stops the job, or "" when none does.
func jobFault(flags uint32) Reason {
	switch {
	case flags&spoolJobPaperOut != 0:
		return ReasonPaperOut
	case flags&spoolJobOffline != 0:
		return ReasonOffline
	case flags&(spoolJobError|spoolJobBlocked|spoolJobUserIntervention) != 0:
		return ReasonError
	}
	return ""
}

func (d *spoolDevice) Print(ctx context.Context, job []byte) Outcome {
	start := time.Now()
	out := Outcome{Total: len(job)}
	defer func() { out.Elapsed = time.Since(start) }()
	if _, _, err := prepareJob(job); err != nil {
		out.Reason, out.Err = ReasonBadJob, err
		return out
	}
	if err := d.lock.lock(ctx); err != nil {
		out.Reason, out.Err = ReasonCanceled, err
		return out
	}
	defer d.lock.unlock()
	h, err := d.spooler.Open(d.name)
	if err != nil {
		out.Reason, out.Err = ReasonDeviceGone, fmt.Errorf("%w: open printer %q: %w", ErrDeviceGone, d.name, err)
		return out
	}
	defer h.Close()
	if flags, err := h.Status(); err == nil {
		out.Status = spoolStatus(flags)
		if r := out.Status.blockingReason(); r != "" {
			out.Reason, out.Err = r, fmt.Errorf("the spooler reports printer %q %s", d.name, out.Status)
			return out
		}
	}
	id, err := h.StartDoc(spoolDocName)
	if err != nil {
		out.Reason, out.Err = ReasonDeviceGone, fmt.Errorf("%w: start a RAW document on %q: %w", ErrDeviceGone, d.name, err)
		return out
	}
	if err := d.write(ctx, h, job, &out); err != nil {
		// The document is dropped; what the spooler already passed on
		// may be on paper.
		_ = h.Abort()
		out.MayHaveReachedPaper = out.Sent > 0
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			out.Reason, out.Err = ReasonCanceled, err
		} else {
			out.Reason, out.Err = ReasonDeviceGone, fmt.Errorf("%w: write to %q: %w", ErrDeviceGone, d.name, err)
		}
		return out
	}
	out.MayHaveReachedPaper = true
	d.watch(ctx, h, id, &out)
	return out
}

// write hands the job to the spooler as one page of one RAW document.
func (d *spoolDevice) write(ctx context.Context, h spoolHandle, job []byte, out *Outcome) error {
	if err := h.StartPage(); err != nil {
		return err
	}
	for out.Sent < len(job) {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := h.Write(job[out.Sent:])
		out.Sent += n
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("the spooler took no bytes")
		}
	}
	if err := h.EndPage(); err != nil {
		return err
	}
	return h.EndDoc()
}

// watch reads the job's status until the spooler is done with it, it fails,
// or StatusTimeout passes (then it counts as printed, unconfirmed).
func (d *spoolDevice) watch(ctx context.Context, h spoolHandle, id uint32, out *Outcome) {
	deadline := time.Now().Add(d.cfg.StatusTimeout)
	for {
		flags, gone, err := h.Job(id)
		switch {
		case err != nil:
			// No job status from this spooler: as lp:.
			d.cfg.Logger.Debug("spooler job status unavailable", "printer", d.name, "job", id, "err", err)
			out.Printed = true
			return
		case gone, flags&(spoolJobPrinted|spoolJobComplete) != 0:
			out.Printed = true
			return
		case flags&(spoolJobDeleting|spoolJobDeleted) != 0:
			// Someone deleted it in the queue window before it printed.
			out.Reason, out.Err = ReasonCanceled, fmt.Errorf("job %d was deleted from the queue of %q", id, d.name)
			return
		}
		if r := jobFault(flags); r != "" {
			if err := h.Delete(id); err != nil {
				d.cfg.Logger.Warn("could not delete the failed job from the spooler: it may still print",
					"printer", d.name, "job", id, "err", err)
			}
			out.Reason, out.Err = r, fmt.Errorf("the spooler reports job %d on %q: %s", id, d.name, r)
			if st, err := h.Status(); err == nil {
				out.Status = spoolStatus(st)
			}
			return
		}
		if !time.Now().Before(deadline) {
			out.Printed = true
			return
		}
		select {
		case <-ctx.Done():
			// The job is with the spooler; stopping our watch does not
			// stop it.
			out.Printed = true
			return
		case <-time.After(spoolPoll):
		}
	}
}

// Status is the spooler's word on the printer. A printer whose driver
// reports nothing reads as ready: only a job can tell.
func (d *spoolDevice) Status(ctx context.Context) (Status, error) {
	if err := d.lock.lock(ctx); err != nil {
		return Status{}, err
	}
	defer d.lock.unlock()
	h, err := d.spooler.Open(d.name)
	if err != nil {
		return Status{}, fmt.Errorf("%w: open printer %q: %w", ErrDeviceGone, d.name, err)
	}
	defer h.Close()
	flags, err := h.Status()
	if err != nil {
		return Status{}, fmt.Errorf("printer %q: spooler status: %w", d.name, err)
	}
	return spoolStatus(flags), nil
}

func (d *spoolDevice) Close() error { return nil }

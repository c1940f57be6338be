package agent

import (
	"context"
	"errors"

	"github.com/posagent/posagent/printer"
)

// DevicePrinter is the agent's Printer on a printer.Device.
type DevicePrinter struct {
	D printer.Device
}

var _ Printer = DevicePrinter{}

// Print sends one job and reports its outcome in the agent's terms.
func (p DevicePrinter) Print(ctx context.Context, job []byte) PrintOutcome {
	o := p.D.Print(ctx, job)
	return PrintOutcome{Printed: o.Printed, Reason: string(o.Reason), MayHaveReachedPaper: !o.Printed && o.MayHaveReachedPaper}
}

// Status asks the printer; a write-only device counts as ready (it cannot
// say otherwise, and each job's outcome will).
func (p DevicePrinter) Status(ctx context.Context) PrinterStatus {
	s, err := p.D.Status(ctx)
	switch {
	case errors.Is(err, printer.ErrStatusUnsupported):
		return PrinterStatus{Ready: true}
	case errors.Is(err, printer.ErrDeviceGone):
		return PrinterStatus{Reason: string(printer.ReasonDeviceGone)}
	case err != nil:
		return PrinterStatus{Reason: string(printer.ReasonNoAnswer)}
	case s.Ready():
		return PrinterStatus{Ready: true}
	case s.PaperOut:
		return PrinterStatus{Reason: string(printer.ReasonPaperOut)}
	case s.CoverOpen:
		return PrinterStatus{Reason: string(printer.ReasonCoverOpen)}
	case s.Offline:
		return PrinterStatus{Reason: string(printer.ReasonOffline)}
	}
	return PrinterStatus{Reason: string(printer.ReasonError)}
}

package agent

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/posagent/posagent"
)

// Reason codes the agent itself gives for a proof that did not print.
const (
	ReasonNoPrinter = "no_printer"
	ReasonRender    = "render_failed"
	ReasonStore     = "store_failed"
)

// maxAutoPrintAttempts stops the retry loop from printing one proof forever
// (a render bug, say); the cashier can still ask for a reprint.
const maxAutoPrintAttempts = 20

// printerState is the last status the agent saw, for status and metrics.
type printerState struct {
	v atomic.Pointer[PrinterStatus]
}

func (p *printerState) set(s PrinterStatus) { p.v.Store(&s) }
func (p *printerState) get() (PrinterStatus, bool) {
	s := p.v.Load()
	if s == nil {
		return PrinterStatus{}, false
	}
	return *s, true
}

// printProof prints one invoice's proof: 補印 when asked, or when the store
// says an original may already be on paper. Jobs never interleave.
func (a *Agent) printProof(ctx context.Context, inv posagent.Invoice, forceReprint bool) PrintReport {
	a.printMu.Lock()
	defer a.printMu.Unlock()
	rep := PrintReport{Required: true}
	if a.printer == nil {
		rep.Reason, rep.Message = ReasonNoPrinter, cashierMessage(ReasonNoPrinter)
		return rep
	}
	if !forceReprint {
		// The sale path and the retry loop may both reach for a proof: the
		// one that comes second finds it printed and leaves it.
		if ps, err := a.store.PrintState(ctx, inv.Number); err == nil && ps.State == "printed" {
			rep.Printed = true
			return rep
		}
	}
	reprint, err := a.store.BeginPrint(ctx, inv.Number)
	if err != nil {
		a.log.Error("begin print", "number", inv.Number, "err", err)
		rep.Reason, rep.Message, rep.WillRetry = ReasonStore, cashierMessage(ReasonStore), true
		return rep
	}
	rep.Reprint = reprint || forceReprint
	data, err := a.render(inv, rep.Reprint)
	if err != nil {
		a.log.Error("render proof", "number", inv.Number, "err", err)
		a.finishPrint(ctx, inv.Number, PrintOutcome{Reason: ReasonRender})
		rep.Reason, rep.Message = ReasonRender, cashierMessage(ReasonRender)
		return rep
	}
	pctx, cancel := context.WithTimeout(ctx, a.printTimeout(len(data)))
	out := a.printer.Print(pctx, data)
	cancel()
	a.finishPrint(ctx, inv.Number, out)
	a.printerSeen(out)
	if out.Printed {
		rep.Printed = true
		a.log.Info("proof printed", "number", inv.Number, "reprint", rep.Reprint)
		return rep
	}
	rep.Reason, rep.Message, rep.WillRetry = out.Reason, cashierMessage(out.Reason), true
	a.log.Warn("proof not printed; it prints when the printer is back", "number", inv.Number,
		"reason", out.Reason, "may_have_reached_paper", out.MayHaveReachedPaper)
	wake(a.printWake)
	return rep
}

// printTimeout bounds one job: the configured time plus what the bytes take
// on a serial line, so that a long receipt at 9600 baud is not cut short.
func (a *Agent) printTimeout(bytes int) time.Duration {
	t := a.conf().Printer.Timeout.Duration
	if baud := a.conf().Printer.Baud; baud > 0 {
		t += time.Duration(bytes) * 10 * time.Second / time.Duration(baud)
	}
	return t
}

func (a *Agent) finishPrint(ctx context.Context, n posagent.InvoiceNumber, out PrintOutcome) {
	if err := a.store.FinishPrint(ctx, n, out.Printed, out.Reason, out.MayHaveReachedPaper); err != nil {
		a.log.Error("record print outcome", "number", n, "err", err)
	}
}

func (a *Agent) printerSeen(out PrintOutcome) {
	if out.Printed {
		a.printerStatus.set(PrinterStatus{Ready: true})
	} else {
		a.printerStatus.set(PrinterStatus{Ready: false, Reason: out.Reason})
	}
}

// printLoop watches the printer and prints the proofs left pending (paper
// out, cover open, …) once it is ready again, oldest first.
func (a *Agent) printLoop(ctx context.Context) {
	if a.printer == nil {
		return
	}
	idleEvery := 5 * a.poll
	lastStatus := time.Time{}
	t := time.NewTicker(a.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.printWake:
		}
		st, err := a.store.Stats(ctx)
		if err != nil {
			continue
		}
		if st.PrintsPending == 0 && time.Since(lastStatus) < idleEvery {
			continue
		}
		lastStatus = time.Now()
		status := a.printerStatusNow(ctx)
		if !status.Ready || st.PrintsPending == 0 {
			continue
		}
		a.printPending(ctx)
	}
}

func (a *Agent) printerStatusNow(ctx context.Context) PrinterStatus {
	a.printMu.Lock()
	sctx, cancel := context.WithTimeout(ctx, a.conf().Printer.Timeout.Duration)
	s := a.printer.Status(sctx)
	cancel()
	a.printMu.Unlock()
	a.printerStatus.set(s)
	return s
}

// printPending prints waiting proofs until one fails.
func (a *Agent) printPending(ctx context.Context) {
	numbers, err := a.store.PendingPrints(ctx, 50)
	if err != nil {
		a.log.Error("list pending prints", "err", err)
		return
	}
	for _, n := range numbers {
		if ctx.Err() != nil || a.stopping.Load() {
			return
		}
		rec, err := a.store.Invoice(ctx, n)
		if err != nil {
			a.log.Error("load invoice to print", "number", n, "err", err)
			return
		}
		if rec.Print.Attempts >= maxAutoPrintAttempts || rec.Void != nil {
			continue
		}
		if rep := a.printProof(ctx, rec.Invoice, false); !rep.Printed {
			return
		}
	}
}

// cashierMessage turns a printer reason into words for the cashier, in
// Chinese and English.
func cashierMessage(reason string) string {
	r := strings.ToLower(strings.ReplaceAll(reason, " ", "_"))
	switch {
	case r == "":
		return ""
	case r == ReasonPrinting:
		return "證明聯列印中 / the proof is printing"
	case strings.Contains(r, "paper"):
		return "印表機缺紙 / printer is out of paper"
	case strings.Contains(r, "cover"):
		return "印表機上蓋未關 / printer cover is open"
	case r == ReasonNoPrinter:
		return "未設定印表機 / no printer is configured"
	case strings.Contains(r, "gone"), strings.Contains(r, "disconnect"), strings.Contains(r, "no_device"),
		strings.Contains(r, "not_found"):
		return "找不到印表機，請檢查連接線 / printer is not connected"
	case strings.Contains(r, "answer"), strings.Contains(r, "timeout"), strings.Contains(r, "silent"):
		return "印表機沒有回應 / printer does not answer"
	case strings.Contains(r, "offline"):
		return "印表機離線 / printer is offline"
	case strings.Contains(r, "cutter"):
		return "印表機裁刀故障 / printer cutter error"
	case r == ReasonRender, r == ReasonStore:
		return "系統錯誤，請聯絡管理員 / system error, call the supervisor"
	}
	return "印表機錯誤 / printer error (" + reason + ")"
}

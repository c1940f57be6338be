package printer

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeSpooler stands in for winspool.drv: it records the calls a device makes
// and answers as the test says.
type fakeSpooler struct {
	openErr  error
	printer  uint32 // PRINTER_STATUS_* flags
	docErr   error
	writeMax int   // bytes WritePrinter accepts per call (0: all)
	writeErr error // returned once written reaches failAt
	failAt   int
	// jobs is the JOB_STATUS_* flags GetJob returns, one per call; past
	// the end the job is gone. jobErr fails GetJob instead.
	jobs   []uint32
	jobErr error

	calls   []string
	doc     string
	written bytes.Buffer
	deleted []uint32
	open    int // handles not closed
}

func (f *fakeSpooler) Open(name string) (spoolHandle, error) {
	f.calls = append(f.calls, "OpenPrinter "+name)
	if f.openErr != nil {
		return nil, f.openErr
	}
	f.open++
	return &fakeHandle{f}, nil
}

type fakeHandle struct{ f *fakeSpooler }

const fakeJobID = 42

func (h *fakeHandle) Status() (uint32, error) {
	h.f.calls = append(h.f.calls, "GetPrinter")
	return h.f.printer, nil
}

func (h *fakeHandle) StartDoc(name string) (uint32, error) {
	h.f.calls = append(h.f.calls, "StartDocPrinter RAW")
	h.f.doc = name
	return fakeJobID, h.f.docErr
}

func (h *fakeHandle) StartPage() error {
	h.f.calls = append(h.f.calls, "StartPagePrinter")
	return nil
}

func (h *fakeHandle) Write(p []byte) (int, error) {
	n := len(p)
	if h.f.writeMax > 0 && n > h.f.writeMax {
		n = h.f.writeMax
	}
	if h.f.writeErr != nil && h.f.written.Len()+n >= h.f.failAt {
		n = h.f.failAt - h.f.written.Len()
		h.f.written.Write(p[:n])
		return n, h.f.writeErr
	}
	h.f.written.Write(p[:n])
	return n, nil
}

func (h *fakeHandle) EndPage() error {
	h.f.calls = append(h.f.calls, "EndPagePrinter")
	return nil
}

func (h *fakeHandle) EndDoc() error {
	h.f.calls = append(h.f.calls, "EndDocPrinter")
	return nil
}

func (h *fakeHandle) Abort() error {
	h.f.calls = append(h.f.calls, "AbortPrinter")
	return nil
}

func (h *fakeHandle) Job(id uint32) (uint32, bool, error) {
	h.f.calls = append(h.f.calls, "GetJob")
	if id != fakeJobID {
		return 0, false, errors.New("wrong job id")
	}
	if h.f.jobErr != nil {
		return 0, false, h.f.jobErr
	}
	if len(h.f.jobs) == 0 {
		return 0, true, nil
	}
	s := h.f.jobs[0]
	h.f.jobs = h.f.jobs[1:]
	return s, false, nil
}

func (h *fakeHandle) Delete(id uint32) error {
	h.f.calls = append(h.f.calls, "SetJob DELETE")
	h.f.deleted = append(h.f.deleted, id)
	return nil
}

func (h *fakeHandle) Close() error {
	h.f.open--
	return nil
}

func spoolJob() []byte {
	job := []byte{esc, '@'}
	job = append(job, bytes.Repeat([]byte("統一發票 receipt line\n"), 40)...)
	return append(job, gs, 'V', 66, 0)
}

func newFakeSpoolDevice(t *testing.T, f *fakeSpooler) Device {
	t.Helper()
	cfg := DeviceConfig{Address: "winspool:EPSON TM-T82III Receipt", StatusTimeout: 300 * time.Millisecond}
	cfg.setDefaults()
	d, err := newSpoolDevice(cfg, "EPSON TM-T82III Receipt", f)
	require.NoError(t, err)
	return d
}

func TestSpoolPrint(t *testing.T) {
	job := spoolJob()
	for _, tc := range []struct {
		name    string
		f       fakeSpooler
		printed bool
		reason  Reason
		paper   bool // MayHaveReachedPaper
		written int  // bytes the spooler got
		calls   []string
	}{
		{name: "handed over, then printed and removed", f: fakeSpooler{writeMax: 100, jobs: []uint32{0x10 /* printing */}},
			printed: true, paper: true, written: len(job),
			calls: []string{"OpenPrinter EPSON TM-T82III Receipt", "GetPrinter", "StartDocPrinter RAW", "StartPagePrinter",
				"EndPagePrinter", "EndDocPrinter", "GetJob", "GetJob"}},
		{name: "kept printed documents", f: fakeSpooler{jobs: []uint32{spoolJobPrinted}}, printed: true, paper: true, written: len(job)},
		{name: "still printing at the timeout: as lp:", f: fakeSpooler{jobs: []uint32{0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10}},
			printed: true, paper: true, written: len(job)},
		{name: "no job status from the spooler: as lp:", f: fakeSpooler{jobErr: errors.New("access denied")},
			printed: true, paper: true, written: len(job)},
		{name: "paper out before the job", f: fakeSpooler{printer: spoolPrinterPaperOut},
			reason: ReasonPaperOut, calls: []string{"OpenPrinter EPSON TM-T82III Receipt", "GetPrinter"}},
		{name: "door open before the job", f: fakeSpooler{printer: spoolPrinterDoorOpen}, reason: ReasonCoverOpen},
		{name: "queue paused", f: fakeSpooler{printer: spoolPrinterPaused}, reason: ReasonOffline},
		{name: "printer offline", f: fakeSpooler{printer: spoolPrinterOffline}, reason: ReasonOffline},
		{name: "printer in error", f: fakeSpooler{printer: spoolPrinterError}, reason: ReasonError},
		{name: "no such printer", f: fakeSpooler{openErr: errors.New("ERROR_INVALID_PRINTER_NAME")}, reason: ReasonDeviceGone,
			calls: []string{"OpenPrinter EPSON TM-T82III Receipt"}},
		{name: "the spooler refuses the document", f: fakeSpooler{docErr: errors.New("ERROR_ACCESS_DENIED")}, reason: ReasonDeviceGone},
		{name: "write fails part way", f: fakeSpooler{writeMax: 64, writeErr: errors.New("ERROR_PRINT_CANCELLED"), failAt: 200},
			reason: ReasonDeviceGone, paper: true, written: 200,
			calls: []string{"OpenPrinter EPSON TM-T82III Receipt", "GetPrinter", "StartDocPrinter RAW", "StartPagePrinter", "AbortPrinter"}},
		{name: "paper out during the job: deleted from the queue", f: fakeSpooler{jobs: []uint32{0x10, spoolJobPaperOut | spoolJobError}},
			reason: ReasonPaperOut, paper: true, written: len(job),
			calls: []string{"OpenPrinter EPSON TM-T82III Receipt", "GetPrinter", "StartDocPrinter RAW", "StartPagePrinter",
				"EndPagePrinter", "EndDocPrinter", "GetJob", "GetJob", "SetJob DELETE", "GetPrinter"}},
		{name: "printer went offline with the job", f: fakeSpooler{jobs: []uint32{spoolJobOffline}}, reason: ReasonOffline, paper: true, written: len(job)},
		{name: "job blocked", f: fakeSpooler{jobs: []uint32{spoolJobBlocked}}, reason: ReasonError, paper: true, written: len(job)},
		{name: "deleted by someone in the queue window", f: fakeSpooler{jobs: []uint32{spoolJobDeleting}}, reason: ReasonCanceled, paper: true, written: len(job)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			out := newFakeSpoolDevice(t, &f).Print(context.Background(), job)
			require.Equal(t, tc.printed, out.Printed, "%s", out)
			require.False(t, out.Confirmed, "the spooler never confirms paper")
			require.Equal(t, tc.reason, out.Reason, "%s", out)
			require.Equal(t, tc.paper, out.MayHaveReachedPaper, "%s", out)
			require.Equal(t, tc.written, f.written.Len())
			require.Equal(t, string(job[:tc.written]), f.written.String(), "the bytes go to the spooler unchanged (RAW, no marker)")
			require.Equal(t, tc.written, out.Sent)
			require.Equal(t, len(job), out.Total)
			require.Zero(t, f.open, "every printer handle is closed")
			if tc.printed {
				require.Contains(t, out.String(), "this device cannot confirm")
				require.Equal(t, spoolDocName, f.doc)
			} else {
				require.Error(t, out.Err)
			}
			if tc.calls != nil {
				require.Equal(t, tc.calls, f.calls)
			}
			if tc.reason != "" && tc.written == len(job) && tc.reason != ReasonCanceled {
				require.Equal(t, []uint32{fakeJobID}, f.deleted, "a failed job must not print later")
			} else {
				require.Empty(t, f.deleted)
			}
		})
	}
}

func TestSpoolPrintBadJobTouchesNothing(t *testing.T) {
	f := &fakeSpooler{}
	out := newFakeSpoolDevice(t, f).Print(context.Background(), []byte{gs, 'V'})
	require.Equal(t, ReasonBadJob, out.Reason)
	require.False(t, out.MayHaveReachedPaper)
	require.Empty(t, f.calls)
}

func TestSpoolPrintCanceledWhileWaitingForTheDevice(t *testing.T) {
	f := &fakeSpooler{}
	d := newFakeSpoolDevice(t, f)
	require.NoError(t, d.(*spoolDevice).lock.lock(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	out := d.Print(ctx, spoolJob())
	require.Equal(t, ReasonCanceled, out.Reason)
	require.False(t, out.MayHaveReachedPaper)
	require.Empty(t, f.calls)
}

func TestSpoolStatus(t *testing.T) {
	for _, tc := range []struct {
		flags  uint32
		ready  bool
		reason Reason
		words  string
	}{
		{0, true, "", "ready"},
		{0x400 /* printing */, true, "", "ready"},
		{spoolPrinterPaperOut, false, ReasonPaperOut, "paper out"},
		{spoolPrinterDoorOpen, false, ReasonCoverOpen, "cover open"},
		{spoolPrinterPaperJam, false, ReasonError, "error"},
		{spoolPrinterUserIntervetion, false, ReasonError, "error"},
		{spoolPrinterOffline, false, ReasonOffline, "offline"},
		{spoolPrinterPaused, false, ReasonOffline, "offline"},
		{spoolPrinterNotAvailable, false, ReasonOffline, "offline"},
	} {
		f := &fakeSpooler{printer: tc.flags}
		s, err := newFakeSpoolDevice(t, f).Status(context.Background())
		require.NoError(t, err)
		require.Equal(t, KnownSpooler, s.Known)
		require.Equal(t, tc.ready, s.Ready(), "%#x", tc.flags)
		require.Equal(t, tc.reason, s.blockingReason(), "%#x", tc.flags)
		require.Equal(t, tc.words, s.Conditions()[0], "%#x", tc.flags)
	}

	f := &fakeSpooler{openErr: errors.New("ERROR_INVALID_PRINTER_NAME")}
	_, err := newFakeSpoolDevice(t, f).Status(context.Background())
	require.ErrorIs(t, err, ErrDeviceGone)
	require.Contains(t, err.Error(), "EPSON TM-T82III Receipt")
}

func TestNewSpoolDevice(t *testing.T) {
	_, err := NewDevice(DeviceConfig{Address: "winspool:"})
	require.Error(t, err)
	if runtime.GOOS != "windows" {
		_, err = NewDevice(DeviceConfig{Address: "winspool:EPSON"})
		require.ErrorContains(t, err, "only on Windows")
	} else {
		require.ErrorContains(t, err, "names no printer")
		d, err := NewDevice(DeviceConfig{Address: "winspool:posagent no such printer"})
		require.NoError(t, err, "nothing is opened before the first job")
		out := d.Print(context.Background(), spoolJob())
		require.Equal(t, ReasonDeviceGone, out.Reason, "%s", out)
		require.False(t, out.MayHaveReachedPaper)
		require.True(t, strings.Contains(out.Err.Error(), "OpenPrinter"), out.Err.Error())
	}
}

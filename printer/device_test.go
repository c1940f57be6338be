package printer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/printersim"
)

// Guards promise 5 (one original proof): every outcome says truthfully
// whether any of the job may be on paper.

func startSim(t *testing.T, opt printersim.Options) *printersim.Sim {
	t.Helper()
	if opt.Link == "" {
		opt.Link = filepath.Join(t.TempDir(), "printer")
	}
	sim, err := printersim.Start(opt)
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	return sim
}

// fastConfig keeps the waits short so a failing test fails in seconds; only
// the completion wait is long, since a loaded machine (CI runs packages in
// parallel with a browser) can delay the simulator past a few seconds.
func fastConfig(address string) printer.DeviceConfig {
	return printer.DeviceConfig{
		Address:           address,
		Baud:              115200,
		StatusTimeout:     700 * time.Millisecond,
		CompletionTimeout: 15 * time.Second, // tests of this timeout set their own
		StallTimeout:      2 * time.Second,
		PollInterval:      200 * time.Millisecond,
	}
}

func newDevice(t *testing.T, cfg printer.DeviceConfig) printer.Device {
	t.Helper()
	dev, err := printer.NewDevice(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { dev.Close() })
	return dev
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// textJob is a small receipt: init, Kanji mode, a line, a cut.
func textJob(line string) []byte {
	b := []byte{0x1B, 0x40, 0x1C, 0x26}
	b = append(b, line...)
	b = append(b, '\n')
	return append(b, 0x1D, 0x56, 0x42, 0x00)
}

// rasterJob is a receipt with one GS v 0 band of 48 bytes × rows, filled
// with pattern repeated.
func rasterJob(rows int, pattern []byte) []byte {
	b := []byte{0x1B, 0x40, 0x1D, 0x76, 0x30, 0x00, 48, 0, byte(rows), byte(rows >> 8)}
	for i := 0; i < 48*rows; i++ {
		b = append(b, pattern[i%len(pattern)])
	}
	return append(b, '\n', 0x1D, 0x56, 0x42, 0x00)
}

var marker = []byte{0x1D, 0x72, 0x31}

func withMarker(job []byte) []byte { return append(bytes.Clone(job), marker...) }

// requireBytes compares streams without dumping kilobytes of raster.
func requireBytes(t *testing.T, want, got []byte, msg string) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	t.Fatalf("%s: %d bytes, want %d; first difference at offset %d:\ngot  % x\nwant % x", msg, len(got), len(want), i,
		got[i:min(i+16, len(got))], want[i:min(i+16, len(want))])
}

func TestPrintNormalJob(t *testing.T) {
	sim := startSim(t, printersim.Options{Dir: t.TempDir()})
	dev := newDevice(t, fastConfig(sim.Path()))
	job := textJob("電子發票證明聯")

	out := dev.Print(testCtx(t), job)
	require.True(t, out.Printed, out.String())
	require.True(t, out.Confirmed)
	require.Empty(t, out.Reason)
	require.True(t, out.MayHaveReachedPaper)
	require.Equal(t, len(job), out.Sent)
	require.Equal(t, len(job), out.Total)

	jobs := sim.Jobs()
	require.Len(t, jobs, 1)
	require.True(t, jobs[0].Complete)
	requireBytes(t, withMarker(job), jobs[0].Data, "the printer receives the job and its completion marker, nothing else")
	require.FileExists(t, jobs[0].BinPath)
	require.Equal(t, "0001.bin", filepath.Base(jobs[0].BinPath))

	st, err := dev.Status(testCtx(t))
	require.NoError(t, err)
	require.True(t, st.Ready())
	require.Equal(t, "ready", st.String())
}

func TestPrintRefusedBeforeStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  func(*printersim.Sim)
		reason printer.Reason
		words  string
	}{
		{"paper out", func(s *printersim.Sim) { s.SetPaperOut(true) }, printer.ReasonPaperOut, "paper out"},
		{"cover open", func(s *printersim.Sim) { s.SetCoverOpen(true) }, printer.ReasonCoverOpen, "cover open"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSim(t, printersim.Options{})
			dev := newDevice(t, fastConfig(sim.Path()))
			tc.fault(sim)

			out := dev.Print(testCtx(t), textJob("x"))
			require.False(t, out.Printed)
			require.Equal(t, tc.reason, out.Reason, out.String())
			require.False(t, out.MayHaveReachedPaper, "nothing was sent: the original may be printed again")
			require.Zero(t, out.Sent)
			require.Empty(t, sim.Jobs())
			require.Zero(t, sim.Stats().Overruns)

			st, err := dev.Status(testCtx(t))
			require.NoError(t, err)
			require.False(t, st.Ready())
			require.Contains(t, st.Conditions(), tc.words)
			require.True(t, st.Offline)
		})
	}
}

func TestPaperOutAfterJobs(t *testing.T) {
	sim := startSim(t, printersim.Options{PaperOutAfterJobs: 1})
	dev := newDevice(t, fastConfig(sim.Path()))

	first := dev.Print(testCtx(t), textJob("one"))
	require.True(t, first.Printed, first.String())

	second := dev.Print(testCtx(t), textJob("two"))
	require.False(t, second.Printed)
	require.Equal(t, printer.ReasonPaperOut, second.Reason)
	require.False(t, second.MayHaveReachedPaper)

	sim.SetPaperOut(false)
	third := dev.Print(testCtx(t), textJob("two"))
	require.True(t, third.Printed, third.String())
	require.Len(t, sim.Jobs(), 2)
}

func TestPaperOutMidJob(t *testing.T) {
	sim := startSim(t, printersim.Options{Baud: 115200})
	dev := newDevice(t, fastConfig(sim.Path()))
	job := rasterJob(90, []byte{0xAA, 0x55}) // 4,336 bytes
	sim.PaperOutAfterBytes(1000)

	out := dev.Print(testCtx(t), job)
	require.False(t, out.Printed)
	require.Equal(t, printer.ReasonPaperOut, out.Reason, out.String())
	require.True(t, out.MayHaveReachedPaper, "a third of the receipt is on paper: a reprint must say 補印")
	require.Greater(t, out.Sent, 1000)
	require.Less(t, out.Sent, len(job))
	require.True(t, out.Status.PaperOut)

	// While the paper is out the printer still answers.
	st, err := dev.Status(testCtx(t))
	require.NoError(t, err)
	require.Equal(t, "paper out", st.String())

	// Paper reloaded: the printer finishes what it held; the device
	// completes the cut raster with NULs and resets before the next job,
	// which arrives intact.
	sim.SetPaperOut(false)
	next := rasterJob(20, []byte{0x10, 0x04, 0x01}) // status bytes in the data too
	out = dev.Print(testCtx(t), next)
	require.True(t, out.Printed, out.String())

	jobs := sim.Jobs()
	require.Len(t, jobs, 2)
	require.False(t, jobs[0].Complete, "the cut job printed in part")
	requireBytes(t, job[:100], jobs[0].Data[:100], "the start of the cut job")
	require.True(t, jobs[1].Complete)
	requireBytes(t, withMarker(next), jobs[1].Data, "job bytes")
	require.Zero(t, sim.Stats().Overruns)
}

func TestSilentPrinter(t *testing.T) {
	sim := startSim(t, printersim.Options{})
	dev := newDevice(t, fastConfig(sim.Path()))

	// Silent before the job: no answer, nothing sent.
	sim.SetSilent(true)
	out := dev.Print(testCtx(t), textJob("x"))
	require.False(t, out.Printed)
	require.Equal(t, printer.ReasonNoAnswer, out.Reason, out.String())
	require.False(t, out.MayHaveReachedPaper)
	require.Zero(t, out.Sent)
	_, err := dev.Status(testCtx(t))
	require.ErrorIs(t, err, printer.ErrNoAnswer)

	// Back again: prints.
	sim.SetSilent(false)
	out = dev.Print(testCtx(t), textJob("y"))
	require.True(t, out.Printed, out.String())
}

func TestSilentDuringJob(t *testing.T) {
	sim := startSim(t, printersim.Options{Baud: 19200})
	cfg := fastConfig(sim.Path())
	cfg.Baud = 19200
	cfg.CompletionTimeout = 700 * time.Millisecond
	dev := newDevice(t, cfg)
	job := rasterJob(30, []byte{0xF0}) // 0.75 s on the wire

	go func() {
		time.Sleep(200 * time.Millisecond) // the job is on its way
		sim.SetSilent(true)
	}()
	out := dev.Print(testCtx(t), job)
	require.False(t, out.Printed)
	require.Contains(t, []printer.Reason{printer.ReasonNotConfirmed, printer.ReasonStalled}, out.Reason, out.String())
	require.True(t, out.MayHaveReachedPaper, "the printer took bytes and went quiet: they may be on paper")
	require.Greater(t, out.Sent, 0)

	// Still quiet: the next job does not start, and says so.
	out = dev.Print(testCtx(t), textJob("not yet"))
	require.False(t, out.Printed)
	require.Equal(t, printer.ReasonNoAnswer, out.Reason, out.String())
	require.False(t, out.MayHaveReachedPaper)
	require.Zero(t, out.Sent)

	// Back: the device resets the printer (NULs, ESC @) and the next job
	// prints intact.
	sim.SetSilent(false)
	next := textJob("after")
	out = dev.Print(testCtx(t), next)
	require.True(t, out.Printed, out.String())
	jobs := sim.Jobs()
	require.NotEmpty(t, jobs)
	requireBytes(t, withMarker(next), jobs[len(jobs)-1].Data, "job bytes")
}

func TestSlowPrinterFullBuffer(t *testing.T) {
	// The wire is 115200 baud (11.5 kB/s) but the printer prints 8 kB/s from
	// a 1 KB buffer: it must say XOFF, and the device must listen.
	sim := startSim(t, printersim.Options{Baud: 115200, BufferSize: 1024, PrintSpeed: 8000})
	cfg := fastConfig(sim.Path())
	cfg.BufferSize = 1024
	dev := newDevice(t, cfg)
	job := rasterJob(150, []byte{0x01, 0x80, 0xFF, 0x00, 0x3C}) // 7,216 bytes

	out := dev.Print(testCtx(t), job)
	require.True(t, out.Printed, out.String())
	require.True(t, out.MayHaveReachedPaper)
	require.Empty(t, out.Reason)
	st := sim.Stats()
	require.Greater(t, st.XOFFs, 0, "the buffer filled: the printer paused the host")
	require.Zero(t, st.Overruns, "no byte lost")
	require.LessOrEqual(t, st.MaxBuffered, 1024)
	jobs := sim.Jobs()
	require.Len(t, jobs, 1)
	requireBytes(t, withMarker(job), jobs[0].Data, "bytes arrive intact")
}

func TestDeviceVanishesAndReturns(t *testing.T) {
	sim := startSim(t, printersim.Options{})
	dev := newDevice(t, fastConfig(sim.Path()))
	require.True(t, dev.Print(testCtx(t), textJob("one")).Printed)

	sim.Unplug()
	out := dev.Print(testCtx(t), textJob("two"))
	require.False(t, out.Printed)
	require.Equal(t, printer.ReasonDeviceGone, out.Reason, out.String())
	require.False(t, out.MayHaveReachedPaper)
	_, err := dev.Status(testCtx(t))
	require.ErrorIs(t, err, printer.ErrDeviceGone)

	require.NoError(t, sim.Replug())
	out = dev.Print(testCtx(t), textJob("two"))
	require.True(t, out.Printed, out.String())
	require.Len(t, sim.Jobs(), 2)
}

func TestUnplugMidJob(t *testing.T) {
	sim := startSim(t, printersim.Options{Baud: 19200})
	cfg := fastConfig(sim.Path())
	cfg.Baud = 19200
	dev := newDevice(t, cfg)
	job := rasterJob(60, []byte{0x0F})
	go func() {
		time.Sleep(300 * time.Millisecond)
		sim.Unplug()
	}()
	out := dev.Print(testCtx(t), job)
	require.False(t, out.Printed)
	require.Equal(t, printer.ReasonDeviceGone, out.Reason, out.String())
	require.True(t, out.MayHaveReachedPaper)
	require.Greater(t, out.Sent, 0)
	require.Less(t, out.Sent, len(job))

	require.NoError(t, sim.Replug())
	next := textJob("after")
	out = dev.Print(testCtx(t), next)
	require.True(t, out.Printed, out.String())
	jobs := sim.Jobs()
	requireBytes(t, withMarker(next), jobs[len(jobs)-1].Data, "job bytes")
}

func TestJobsNeverInterleave(t *testing.T) {
	sim := startSim(t, printersim.Options{Baud: 115200})
	dev := newDevice(t, fastConfig(sim.Path()))
	a := rasterJob(40, []byte{0xAA})
	b := rasterJob(40, []byte{0x55})

	var wg sync.WaitGroup
	outs := make([]printer.Outcome, 2)
	for i, job := range [][]byte{a, b} {
		wg.Go(func() { outs[i] = dev.Print(testCtx(t), job) })
	}
	wg.Wait()
	for _, out := range outs {
		require.True(t, out.Printed, out.String())
		require.True(t, out.MayHaveReachedPaper)
		require.Equal(t, out.Total, out.Sent)
	}
	jobs := sim.Jobs()
	require.Len(t, jobs, 2)
	got := [][]byte{jobs[0].Data, jobs[1].Data}
	if !bytes.Equal(got[0], withMarker(a)) {
		got[0], got[1] = got[1], got[0]
	}
	requireBytes(t, withMarker(a), got[0], "job bytes")
	requireBytes(t, withMarker(b), got[1], "job bytes")
}

func TestStatusBytesInsideRasterData(t *testing.T) {
	sim := startSim(t, printersim.Options{Baud: 115200})
	dev := newDevice(t, fastConfig(sim.Path()))
	// Every real-time request, a GS r and an ASB enable hidden in image data.
	job := rasterJob(30, []byte{0x10, 0x04, 0x02, 0x10, 0x04, 0x04, 0x1D, 0x72, 0x31, 0x1D, 0x61, 0xFF, 0x13, 0x11})

	out := dev.Print(testCtx(t), job)
	require.True(t, out.Printed, out.String())
	require.True(t, out.Confirmed)
	require.True(t, out.MayHaveReachedPaper)
	jobs := sim.Jobs()
	require.Len(t, jobs, 1, "the GS r inside the image did not end the job")
	require.True(t, jobs[0].Complete)
	requireBytes(t, withMarker(job), jobs[0].Data, "job bytes")
	require.Greater(t, sim.Stats().StatusRequests, 3, "the printer answered the requests in the data, and the device ignored the replies")

	st, err := dev.Status(testCtx(t))
	require.NoError(t, err)
	require.True(t, st.Ready(), st.String())
}

func TestPaperNearEndIsReported(t *testing.T) {
	sim := startSim(t, printersim.Options{})
	dev := newDevice(t, fastConfig(sim.Path()))
	sim.SetPaperNearEnd(true)
	out := dev.Print(testCtx(t), textJob("x"))
	require.True(t, out.Printed, out.String())
	require.True(t, out.Status.PaperNearEnd)
	st, err := dev.Status(testCtx(t))
	require.NoError(t, err)
	require.Equal(t, "ready, paper near end", st.String())
}

func TestMalformedJobIsNotSent(t *testing.T) {
	sim := startSim(t, printersim.Options{})
	dev := newDevice(t, fastConfig(sim.Path()))
	for _, job := range [][]byte{nil, {0x1D, 0x76, 0x30, 0x00, 48, 0, 10, 0, 0xFF}} {
		out := dev.Print(testCtx(t), job)
		require.False(t, out.Printed)
		require.Equal(t, printer.ReasonBadJob, out.Reason)
		require.False(t, out.MayHaveReachedPaper)
	}
	require.Zero(t, sim.Stats().Received)
}

func TestCanceledWhileQueued(t *testing.T) {
	sim := startSim(t, printersim.Options{Baud: 9600})
	dev := newDevice(t, fastConfig(sim.Path()))
	done := make(chan printer.Outcome)
	go func() { done <- dev.Print(testCtx(t), rasterJob(20, []byte{1})) }()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	out := dev.Print(ctx, textJob("late"))
	require.Equal(t, printer.ReasonCanceled, out.Reason)
	require.False(t, out.MayHaveReachedPaper)
	require.True(t, (<-done).Printed)
}

func TestNoDeviceAtPath(t *testing.T) {
	dev := newDevice(t, fastConfig(filepath.Join(t.TempDir(), "ttyUSB9")))
	out := dev.Print(testCtx(t), textJob("x"))
	require.Equal(t, printer.ReasonDeviceGone, out.Reason)
	require.False(t, out.MayHaveReachedPaper)
}

func TestPrinterLeftInsideACommandByAnotherProcess(t *testing.T) {
	sim := startSim(t, printersim.Options{Baud: 115200})
	// A previous agent died after sending the head of an image: the printer
	// waits for 4,800 bytes of data that will never come.
	f, err := os.OpenFile(sim.TTY(), os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{0x1B, 0x40, 0x1D, 0x76, 0x30, 0x00, 48, 0, 100, 0, 0xFF, 0xFF})
	require.NoError(t, err)
	require.NoError(t, f.Close())

	dev := newDevice(t, fastConfig(sim.Path()))
	job := textJob("the next sale")
	out := dev.Print(testCtx(t), job)
	require.True(t, out.Printed, out.String())
	jobs := sim.Jobs()
	require.Len(t, jobs, 2)
	require.False(t, jobs[0].Complete, "the dead process's image, completed with NULs")
	requireBytes(t, withMarker(job), jobs[1].Data, "the job is not swallowed by the image")
}

func TestReadyPrinterCostsOneStatusRequestPerJob(t *testing.T) {
	// A printer that says it is online is asked nothing more before a job:
	// cover open, paper out and errors all take it offline. ASB is waited
	// for once on the link and then re-armed in front of each job.
	sim := startSim(t, printersim.Options{Baud: 115200})
	dev := newDevice(t, fastConfig(sim.Path()))
	for i := range 3 {
		job := textJob("job")
		out := dev.Print(testCtx(t), job)
		require.True(t, out.Printed, out.String())
		require.Equal(t, len(job), out.Sent, "the GS a in front is not the job's")
		st := sim.Stats()
		require.Equal(t, i+1, st.StatusRequests, "DLE EOT requests after job %d", i+1)
		require.Equal(t, i+1, st.ASBEnables, "GS a after job %d", i+1)
		require.Equal(t, i+2, st.Markers, "the first GS r proves sync on the new link, then one per job")
	}
	for i, j := range sim.Jobs() {
		requireBytes(t, withMarker(textJob("job")), j.Data, fmt.Sprintf("job %d", i+1))
	}
}

func TestOfflinePrinterIsAskedWhy(t *testing.T) {
	// DLE EOT 1 says only "offline": the causes are asked for before the
	// refusal, and again on the next job once the printer is back.
	sim := startSim(t, printersim.Options{})
	dev := newDevice(t, fastConfig(sim.Path()))
	require.True(t, dev.Print(testCtx(t), textJob("one")).Printed)
	asked := sim.Stats().StatusRequests

	sim.SetCoverOpen(true)
	out := dev.Print(testCtx(t), textJob("two"))
	require.False(t, out.Printed)
	require.Equal(t, printer.ReasonCoverOpen, out.Reason, out.String())
	require.True(t, out.Status.CoverOpen)
	require.Equal(t, asked+3, sim.Stats().StatusRequests, "DLE EOT 1, then 2 and 4 for the cause")
	enables := sim.Stats().ASBEnables

	sim.SetCoverOpen(false)
	out = dev.Print(testCtx(t), textJob("three"))
	require.True(t, out.Printed, out.String())
	require.Equal(t, asked+4, sim.Stats().StatusRequests, "online again: DLE EOT 1 alone")
	require.Equal(t, enables+1, sim.Stats().ASBEnables, "ASB asked for again after the refusal")
}

func TestPaperOutMidJobReportedByASBOnALaterJob(t *testing.T) {
	// On the second job the device does not wait for GS a: the GS a in
	// front of the job must still arm ASB, even in a printer that was
	// switched off and on, so paper out mid-job is news at once rather than
	// after a poll or a stall.
	sim := startSim(t, printersim.Options{Baud: 115200})
	cfg := fastConfig(sim.Path())
	cfg.PollInterval = time.Minute
	cfg.StallTimeout = time.Minute
	cfg.CompletionTimeout = time.Minute
	dev := newDevice(t, cfg)
	require.True(t, dev.Print(testCtx(t), textJob("one")).Printed)
	// Switched off and on between the jobs, unseen by the device: ASB is off
	// in the printer.
	sim.PowerCycle()

	job := rasterJob(90, []byte{0xAA, 0x55})
	sim.PaperOutAfterBytes(1000)
	out := dev.Print(testCtx(t), job)
	require.False(t, out.Printed)
	require.Equal(t, printer.ReasonPaperOut, out.Reason, out.String())
	require.NotZero(t, out.Status.Known&printer.KnownASB, "the news came by ASB: %+v", out.Status)
	require.True(t, out.MayHaveReachedPaper)
	require.Less(t, out.Sent, len(job))
}

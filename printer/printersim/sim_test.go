package printersim_test

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.bug.st/serial"

	"github.com/posagent/posagent/printer"
	"github.com/posagent/posagent/printer/printersim"
)

// openRaw opens the simulator as a careless host would: no handshake, no
// flow control.
func openRaw(t *testing.T, sim *printersim.Sim) serial.Port {
	t.Helper()
	p, err := serial.Open(sim.Path(), &serial.Mode{BaudRate: 115200})
	require.NoError(t, err)
	require.NoError(t, p.SetReadTimeout(500*time.Millisecond))
	t.Cleanup(func() { p.Close() })
	return p
}

func readByte(t *testing.T, p serial.Port) byte {
	t.Helper()
	b := make([]byte, 1)
	n, err := p.Read(b)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the simulator answered nothing")
	return b[0]
}

func start(t *testing.T, opt printersim.Options) *printersim.Sim {
	t.Helper()
	sim, err := printersim.Start(opt)
	require.NoError(t, err)
	t.Cleanup(func() { sim.Close() })
	return sim
}

func TestAnswersLikeAPrinter(t *testing.T) {
	dir := t.TempDir()
	sim := start(t, printersim.Options{Dir: dir})
	p := openRaw(t, sim)

	for n, want := range map[byte]byte{1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12} {
		_, err := p.Write([]byte{0x10, 0x04, n})
		require.NoError(t, err)
		require.Equal(t, want, readByte(t, p), "DLE EOT %d", n)
	}
	sim.SetCoverOpen(true)
	require.Equal(t, printer.XOFF, readByte(t, p), "offline: the printer pauses the host")
	_, err := p.Write([]byte{0x10, 0x04, 2})
	require.NoError(t, err)
	require.Equal(t, byte(0x16), readByte(t, p), "cover open, as receiptio tests it (&0x97 == 0x16)")
	sim.SetCoverOpen(false)
	require.Equal(t, printer.XON, readByte(t, p))

	// A job ends at its GS r, answered once it is printed; it is saved as
	// .bin and drawn as .png.
	job := []byte("\x1b@\x1ba\x01HELLO\n\x1dVB\x00\x1dr1")
	_, err = p.Write(job)
	require.NoError(t, err)
	require.Equal(t, byte(0x00), readByte(t, p))
	jobs, err := sim.WaitJobs(context.Background(), 1)
	require.NoError(t, err)
	require.Equal(t, job, jobs[0].Data)
	require.Equal(t, filepath.Join(dir, "0001.bin"), jobs[0].BinPath)
	f, err := os.Open(filepath.Join(dir, "0001.png"))
	require.NoError(t, err)
	img, err := png.Decode(f)
	f.Close()
	require.NoError(t, err)
	require.Equal(t, 384, img.Bounds().Dx())

	// ASB on request: four bytes at once, then on each change.
	_, err = p.Write([]byte{0x1D, 'a', 0x0E})
	require.NoError(t, err)
	var block [4]byte
	for i := range block {
		block[i] = readByte(t, p)
	}
	require.Equal(t, [4]byte{0x10, 0, 0, 0}, block)
	sim.SetPaperOut(true)
	for i := range block {
		block[i] = readByte(t, p)
	}
	require.Equal(t, "paper out", printer.StatusFromASB(block).String())
	require.Equal(t, printer.XOFF, readByte(t, p))
}

func TestHostIgnoringXOFFLosesBytes(t *testing.T) {
	// A slow printer with a small buffer and a host that does not listen:
	// the simulator drops what does not fit, as a real printer does, and
	// counts it.
	sim := start(t, printersim.Options{BufferSize: 256, PrintSpeed: 2000, NoPNG: true})
	p := openRaw(t, sim)
	data := make([]byte, 2000)
	_, err := p.Write(append([]byte{0x1B, 0x40}, data...))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return sim.Stats().Received >= 2002 }, 5*time.Second, 10*time.Millisecond)
	st := sim.Stats()
	require.Greater(t, st.XOFFs, 0)
	require.Greater(t, st.Overruns, 1000)
	require.LessOrEqual(t, st.MaxBuffered, 256)
}

func TestNumberingContinuesInAnOldFolder(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "0041.bin"), []byte("old"), 0o644))
	sim := start(t, printersim.Options{Dir: dir, NoPNG: true})
	p := openRaw(t, sim)
	_, err := p.Write([]byte("\x1b@X\n\x1dr1"))
	require.NoError(t, err)
	require.Equal(t, byte(0), readByte(t, p))
	require.FileExists(t, filepath.Join(dir, "0042.bin"))
	require.NoFileExists(t, filepath.Join(dir, "0042.png"))
}

func TestOptionsAreChecked(t *testing.T) {
	for _, opt := range []printersim.Options{
		{BufferSize: 8},
		{BufferSize: 1000, XOFFAt: 500, XONAt: 100},
		{Baud: -1},
		{Width: 2},
	} {
		_, err := printersim.Start(opt)
		require.Error(t, err, "%+v", opt)
	}
}

func TestAnswersBeforeDrawing(t *testing.T) {
	// The GS r reply goes out when the job is printed, not when its PNG is
	// drawn; Jobs waits for the drawing.
	dir := t.TempDir()
	release := make(chan struct{})
	sim := start(t, printersim.Options{Dir: dir, Render: func(job []byte, w io.Writer) error {
		<-release
		_, err := w.Write([]byte("png"))
		return err
	}})
	p := openRaw(t, sim)
	_, err := p.Write([]byte("\x1b@X\n\x1dr1"))
	require.NoError(t, err)
	require.Equal(t, byte(0), readByte(t, p), "answered while the PNG is still being drawn")
	require.FileExists(t, filepath.Join(dir, "0001.bin"), "the .bin is in place when the reply comes")
	require.NoFileExists(t, filepath.Join(dir, "0001.png"))
	close(release)
	jobs := sim.Jobs()
	require.Len(t, jobs, 1)
	require.Equal(t, filepath.Join(dir, "0001.png"), jobs[0].PNGPath)
	require.FileExists(t, jobs[0].PNGPath)
}

func TestAnswersAfterTheWireTime(t *testing.T) {
	// At 115200 baud 2,304 bytes take 200 ms on the wire: the completion
	// reply cannot come sooner, however fast the host wrote them.
	sim := start(t, printersim.Options{Baud: 115200, NoPNG: true})
	p := openRaw(t, sim)
	job := append([]byte("\x1b@"), bytes.Repeat([]byte("X"), 2304-5)...)
	job = append(job, 0x1D, 'r', '1')
	start := time.Now()
	_, err := p.Write(job)
	require.NoError(t, err)
	require.Equal(t, byte(0), readByte(t, p))
	require.GreaterOrEqual(t, time.Since(start), 199*time.Millisecond+900*time.Microsecond)
}

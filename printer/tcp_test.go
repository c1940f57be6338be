package printer_test

import (
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/printer"
)

// netPrinter is a port-9100 printer on loopback: it answers DLE EOT and
// GS r and keeps what it received.
type netPrinter struct {
	ln       net.Listener
	mu       sync.Mutex
	paperOut bool
	received []byte
	conns    []net.Conn
}

func startNetPrinter(t *testing.T) *netPrinter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &netPrinter{ln: ln}
	t.Cleanup(func() { ln.Close(); p.dropAll() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.conns = append(p.conns, conn)
			p.mu.Unlock()
			go p.serve(conn)
		}
	}()
	return p
}

func (p *netPrinter) serve(conn net.Conn) {
	var sc printer.CommandScanner
	buf := make([]byte, 1024)
	for {
		n, err := conn.Read(buf)
		for _, b := range buf[:n] {
			cmd, ok := sc.Feed(b)
			p.mu.Lock()
			st := printer.Status{PaperOut: p.paperOut, Offline: p.paperOut, Known: 1}
			p.received = append(p.received, b)
			switch {
			case ok && cmd.Len == 3 && cmd.Is(0x10, 0x04):
				conn.Write([]byte{st.StatusReplyByte(cmd.Head[2])})
				p.received = p.received[:len(p.received)-3] // real-time, not data
			case ok && cmd.Len == 3 && cmd.Is(0x1D, 'r'):
				conn.Write([]byte{0x00})
			}
			p.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (p *netPrinter) dropAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func TestTCPPrinter(t *testing.T) {
	np := startNetPrinter(t)
	cfg := fastConfig("tcp://" + np.ln.Addr().String())
	dev := newDevice(t, cfg)
	job := rasterJob(20, []byte{0x10, 0x04, 0x01})

	out := dev.Print(testCtx(t), job)
	require.True(t, out.Printed, out.String())
	require.True(t, out.Confirmed)
	np.mu.Lock()
	got := append([]byte(nil), np.received...)
	np.mu.Unlock()
	// Before the job: GS r (is the printer between commands?) and GS a
	// (ASB, which this printer ignores).
	require.Equal(t, []byte{0x1D, 'r', '1', 0x1D, 'a', 0x0E}, got[:6])
	requireBytes(t, withMarker(job), got[6:], "job bytes")

	np.mu.Lock()
	np.paperOut = true
	np.mu.Unlock()
	out = dev.Print(testCtx(t), job)
	require.Equal(t, printer.ReasonPaperOut, out.Reason)
	require.False(t, out.MayHaveReachedPaper)

	// The printer drops the connection (rebooted): the next job reconnects.
	np.mu.Lock()
	np.paperOut = false
	np.mu.Unlock()
	np.dropAll()
	out = dev.Print(testCtx(t), textJob("again"))
	if !out.Printed {
		// The first attempt may find the dead connection; it says so and
		// sent nothing, and the next one reconnects.
		require.Equal(t, printer.ReasonDeviceGone, out.Reason, out.String())
		require.False(t, out.MayHaveReachedPaper)
		out = dev.Print(testCtx(t), textJob("again"))
	}
	require.True(t, out.Printed, out.String())
}

func TestTCPPrinterUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	dev := newDevice(t, fastConfig("tcp://"+addr))
	out := dev.Print(testCtx(t), textJob("x"))
	require.Equal(t, printer.ReasonDeviceGone, out.Reason)
	require.False(t, out.MayHaveReachedPaper)
}

func TestFileDevice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jobs.bin")
	dev := newDevice(t, printer.DeviceConfig{Address: "file:" + path})
	a, b := textJob("one"), textJob("two")
	for _, job := range [][]byte{a, b} {
		out := dev.Print(testCtx(t), job)
		require.True(t, out.Printed)
		require.False(t, out.Confirmed, "a file cannot confirm")
		require.True(t, out.MayHaveReachedPaper)
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, append(append([]byte(nil), a...), b...), got, "jobs appended exactly, no marker")
	_, err = dev.Status(testCtx(t))
	require.ErrorIs(t, err, printer.ErrStatusUnsupported)

	missing := newDevice(t, printer.DeviceConfig{Address: "lp:" + filepath.Join(t.TempDir(), "lp0")})
	out := missing.Print(testCtx(t), a)
	require.Equal(t, printer.ReasonDeviceGone, out.Reason, "a line printer node is never created")
	require.False(t, out.MayHaveReachedPaper)
}

func TestDeviceConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  printer.DeviceConfig
		want string
	}{
		{printer.DeviceConfig{}, "address: empty"},
		{printer.DeviceConfig{Address: "/dev/ttyS0", Baud: 10}, "baud: 10"},
		{printer.DeviceConfig{Address: "/dev/ttyS0", DataBits: 9}, "data bits: 9"},
		{printer.DeviceConfig{Address: "/dev/ttyS0", Parity: "sometimes"}, `parity: "sometimes"`},
		{printer.DeviceConfig{Address: "/dev/ttyS0", StopBits: "3"}, `stop bits: "3"`},
		{printer.DeviceConfig{Address: "/dev/ttyS0", BufferSize: 10}, "buffer size: 10"},
		{printer.DeviceConfig{Address: "http://printer"}, "unknown scheme"},
		{printer.DeviceConfig{Address: "tcp://"}, "needs a host"},
		{printer.DeviceConfig{Address: "file:"}, "names no file"},
	} {
		_, err := printer.NewDevice(tc.cfg)
		require.ErrorContains(t, err, tc.want)
	}
}

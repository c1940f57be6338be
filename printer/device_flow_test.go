package printer

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// lineTransport is an in-memory printer with a DSR line: it answers DLE EOT
// and GS r, and records what it was sent. No pseudo-terminal has modem
// lines (escpos.md §10), so this is how DTR/DSR flow control is tested.
type lineTransport struct {
	busy    atomic.Bool
	replies chan []byte
	closed  chan struct{}
	once    sync.Once

	mu   sync.Mutex
	sc   CommandScanner
	data []byte
}

func newLineTransport() *lineTransport {
	return &lineTransport{replies: make(chan []byte, 64), closed: make(chan struct{})}
}

func (t *lineTransport) Read(p []byte) (int, error) {
	select {
	case r := <-t.replies:
		return copy(p, r), nil
	case <-t.closed:
		return 0, errors.New("closed")
	}
}

func (t *lineTransport) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, b := range p {
		t.data = append(t.data, b)
		cmd, ok := t.sc.Feed(b)
		switch {
		case ok && cmd.Len == 3 && cmd.Is(dle, 0x04):
			t.replies <- []byte{0x12}
			t.data = t.data[:len(t.data)-3]
		case ok && cmd.Len == 3 && cmd.Is(gs, 'r'):
			t.replies <- []byte{0x00}
		}
	}
	return len(p), nil
}

func (t *lineTransport) received() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return bytes.Clone(t.data)
}

func (t *lineTransport) Drain() error { return nil }
func (t *lineTransport) Close() error { t.once.Do(func() { close(t.closed) }); return nil }

func (t *lineTransport) clearToSend(line string) (bool, error) {
	if line != FlowDSR {
		return false, errors.New("only DSR is wired")
	}
	return !t.busy.Load(), nil
}

func TestDSRBusyHoldsTheJob(t *testing.T) {
	lt := newLineTransport()
	cfg := DeviceConfig{Address: "fake", Baud: 115200, FlowControl: FlowDSR, NoASB: true,
		StatusTimeout: 500 * time.Millisecond, StallTimeout: 2 * time.Second}
	cfg.setDefaults()
	require.NoError(t, cfg.validate())
	p := newPort(cfg, "fake", true, func() (transport, error) { return lt, nil })
	defer p.Close()
	job := append([]byte{esc, '@'}, bytes.Repeat([]byte("0123456789"), 100)...)

	lt.busy.Store(true)
	done := make(chan Outcome)
	go func() { done <- p.Print(context.Background(), job) }()
	time.Sleep(150 * time.Millisecond)
	require.Equal(t, markerCommand, lt.received(), "only the sync GS r went out while the printer is busy")

	lt.busy.Store(false)
	out := <-done
	require.True(t, out.Printed, out.String())
	require.Equal(t, append(append(bytes.Clone(markerCommand), job...), markerCommand...), lt.received())

	// Busy for longer than the stall timeout: the job stops, some of it sent.
	p.cfg.StallTimeout = 200 * time.Millisecond
	go func() {
		time.Sleep(5 * time.Millisecond)
		lt.busy.Store(true)
	}()
	long := append([]byte{esc, '@'}, bytes.Repeat([]byte("x"), 20000)...)
	out = p.Print(context.Background(), long)
	require.False(t, out.Printed)
	require.Equal(t, ReasonStalled, out.Reason, out.String())
	require.True(t, out.MayHaveReachedPaper)
	require.Greater(t, out.Sent, 0)
	require.Less(t, out.Sent, len(long))
}

// unpluggedTransport is a link whose writes fail (the printer was pulled
// out) and whose reader, like a serial read with a timeout, returns only
// when released, not when the link is closed.
type unpluggedTransport struct{ release chan struct{} }

func (t *unpluggedTransport) Read([]byte) (int, error) {
	<-t.release
	return 0, errors.New("read timed out on a closed port")
}
func (t *unpluggedTransport) Write([]byte) (int, error) { return 0, errors.New("input/output error") }
func (t *unpluggedTransport) Drain() error              { return nil }
func (t *unpluggedTransport) Close() error              { return nil }

// A write that fails shuts the link. The next job must open a new one even
// while the old reader is still in its last read: a printer plugged back in
// meanwhile prints it (it used to fail on the shut link, "bad file
// descriptor", until the reader's read timed out).
func TestFailedWriteReopensTheLink(t *testing.T) {
	gone := &unpluggedTransport{release: make(chan struct{})}
	back := newLineTransport()
	var opens atomic.Int32
	cfg := DeviceConfig{Address: "fake", Baud: 115200, NoASB: true,
		StatusTimeout: 500 * time.Millisecond, StallTimeout: 2 * time.Second}
	cfg.setDefaults()
	require.NoError(t, cfg.validate())
	p := newPort(cfg, "fake", true, func() (transport, error) {
		if opens.Add(1) == 1 {
			return gone, nil
		}
		return back, nil
	})
	defer p.Close()

	out := p.Print(context.Background(), []byte("one\n"))
	require.False(t, out.Printed)
	require.Equal(t, ReasonDeviceGone, out.Reason, out.String())

	// The old reader leaves its read a little later, as a read timeout would.
	released := make(chan struct{})
	go func() {
		time.Sleep(50 * time.Millisecond)
		close(released)
		close(gone.release)
	}()
	out = p.Print(context.Background(), []byte("two\n"))
	require.True(t, out.Printed, out.String())
	require.EqualValues(t, 2, opens.Load(), "the second job opened a new link")
	select {
	case <-released:
	default:
		t.Fatal("the second job printed before the old link's reader left: it cannot have waited for it")
	}
	require.Contains(t, string(back.received()), "two\n")
}

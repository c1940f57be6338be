package printer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// transport is a two-way byte link to a printer: a serial port or a TCP
// connection. Read returns (0, nil) when nothing came within its own short
// timeout, and an error once the link is gone.
type transport interface {
	Read(p []byte) (int, error)
	Write(p []byte) (int, error)
	// Drain waits until written bytes have left the host (tcdrain).
	Drain() error
	Close() error
}

// modemLines is a transport with modem status lines (a serial port).
type modemLines interface {
	// clearToSend reports whether the named input line (FlowDSR, FlowCTS)
	// is asserted.
	clearToSend(line string) (bool, error)
}

// port is a two-way printer with the status handshake (escpos.md §10,
// after receiptio):
//
//  1. finish any abandoned job (NULs to complete a half-sent command, ESC @);
//  2. DLE EOT 1: refuse to start when the printer is offline, which cover
//     open, paper out and errors all make it; only then DLE EOT 2, 4 (and 3
//     on error) to name the cause;
//  3. on a new connection, a GS r proves the printer is between commands;
//  4. GS a to enable automatic status back, so paper out during the job is
//     reported at once (skipped when the printer never answers it). The
//     first time on a connection, and after a reset or a failed job, the
//     device waits for the printer's ASB block; otherwise the GS a goes in
//     front of the job, unanswered, costing no round trip;
//  5. the job in small chunks paced to the baud rate, pausing on XOFF;
//  6. wait for the reply to the GS r 1 appended to the job, polling status.
type port struct {
	cfg  DeviceConfig
	log  *slog.Logger
	name string
	open func() (transport, error)
	// paced: the link has a fixed bit rate to pace to (serial); TCP has its
	// own flow control.
	paced bool

	lock deviceLock

	// Guarded by lock.
	conn *portConn
	// recoverPending: an abandoned job may have left a command half sent;
	// recoverNULs is how many NULs complete it.
	recoverPending bool
	recoverNULs    int
	asbUnsupported bool
	closed         bool
}

var _ Device = (*port)(nil)

func newPort(cfg DeviceConfig, name string, paced bool, open func() (transport, error)) *port {
	return &port{
		cfg:   cfg,
		log:   cfg.Logger.With("printer", name),
		name:  name,
		open:  open,
		paced: paced,
		lock:  newDeviceLock(),
	}
}

// portConn is one open transport and the goroutine reading it.
type portConn struct {
	t       transport
	replies chan byte   // DLE EOT replies
	markers chan byte   // GS r replies
	asb     chan Status // completed ASB blocks
	gone    chan struct{}
	goneErr error // set before gone is closed

	// synced: the printer answered a GS r on this connection, so its parser
	// stands between commands. Guarded by the port's lock.
	synced bool
	// asbArmed: the printer answered GS a on this connection since the last
	// reset or failed job, so it is known to send ASB. Later jobs re-arm it
	// without waiting (a GS a in front of the job: a printer switched off
	// and on between two jobs comes back with ASB off). Guarded by the
	// port's lock.
	asbArmed bool

	mu         sync.Mutex
	paused     bool          // XOFF seen, no XON since
	resume     chan struct{} // closed at XON
	closed     bool
	closeCause error
}

func (p *port) connect() (*portConn, error) {
	if p.closed {
		return nil, fmt.Errorf("%w: %s was closed", ErrDeviceGone, p.name)
	}
	if p.conn != nil {
		select {
		case <-p.conn.gone:
			p.log.Warn("printer link lost; reopening", "err", p.conn.goneErr)
		default:
			cause := p.conn.shutCause()
			if cause == nil {
				return p.conn, nil
			}
			// Shut after a failed write while its reader is still in its
			// last read (up to the read timeout, longer on a loaded
			// machine): the link is gone all the same, and a printer
			// plugged back in meanwhile takes this job on a new one.
			p.log.Warn("printer link lost; reopening", "err", cause)
		}
		p.conn.close()
		p.conn = nil
	}
	t, err := p.open()
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrDeviceGone, p.name, err)
	}
	c := &portConn{
		t:       t,
		replies: make(chan byte, 16),
		markers: make(chan byte, 64),
		asb:     make(chan Status, 16),
		gone:    make(chan struct{}),
	}
	go c.readLoop(p.log)
	p.conn = c
	return c, nil
}

func (c *portConn) readLoop(log *slog.Logger) {
	var cl ByteClassifier
	buf := make([]byte, 256)
	for {
		n, err := c.t.Read(buf)
		for _, b := range buf[:n] {
			kind, block, complete := cl.Classify(b)
			switch kind {
			case ByteXOFF:
				c.mu.Lock()
				if !c.paused {
					c.paused = true
					c.resume = make(chan struct{})
				}
				c.mu.Unlock()
			case ByteXON:
				c.setResumed()
			case ByteStatusReply:
				offer(c.replies, b)
			case ByteMarker:
				offer(c.markers, b)
			case ByteASB:
				if complete {
					offer(c.asb, StatusFromASB(block))
				}
			case ByteUnknown:
				log.Debug("printer sent an unexpected byte", "byte", fmt.Sprintf("%#02x", b))
			}
		}
		if err != nil {
			c.mu.Lock()
			if c.closed {
				err = c.closeCause
			}
			c.mu.Unlock()
			c.goneErr = err
			close(c.gone)
			// A link that is gone pauses no one.
			c.setResumed()
			return
		}
	}
}

// offer sends v without blocking; a full channel means nobody is listening,
// and stale replies are worth nothing.
func offer[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

func drainChan[T any](ch chan T) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

func (c *portConn) setResumed() {
	c.mu.Lock()
	if c.paused {
		c.paused = false
		close(c.resume)
	}
	c.mu.Unlock()
}

func (c *portConn) close() {
	c.shut(errors.New("closed"))
	<-c.gone
}

// shut closes the transport; the reader then reports cause as the reason
// the link is gone, and the next job opens a new one.
func (c *portConn) shut(cause error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed, c.closeCause = true, cause
	c.mu.Unlock()
	c.t.Close()
}

// shutCause is why the link was shut, or nil while it is open.
func (c *portConn) shutCause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		return nil
	}
	return c.closeCause
}

// errGone wraps the cause of a lost link.
func (c *portConn) errGone() error {
	return fmt.Errorf("%w: %v", ErrDeviceGone, c.goneErr)
}

// write writes all of b, turning a failed write into a lost link.
func (c *portConn) write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := c.t.Write(b[done:])
		done += n
		if err == nil && n == 0 {
			err = errors.New("write made no progress")
		}
		if err != nil {
			err = fmt.Errorf("%w: write: %w", ErrDeviceGone, err)
			c.shut(err)
			return done, err
		}
	}
	return done, nil
}

// faultError is a printer condition that ends a job.
type faultError struct {
	reason Reason
	status Status
}

func (e *faultError) Error() string { return "printer reports " + e.status.String() }

var errStalled = errors.New("XOFF held too long")

// waitWritable blocks while the printer holds XOFF, up to limit.
func (p *port) waitWritable(ctx context.Context, c *portConn, limit time.Duration) error {
	c.mu.Lock()
	paused, resume := c.paused, c.resume
	c.mu.Unlock()
	if !paused {
		return nil
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		select {
		case <-resume:
			return nil
		case st := <-c.asb:
			if r := st.midJobFault(); r != "" {
				return &faultError{r, st}
			}
		case <-c.gone:
			return c.errGone()
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return errStalled
		}
	}
}

// lineBusyPoll is how often a busy DSR/CTS line is looked at again: about
// one chunk's wire time at 9600 baud.
const lineBusyPoll = 5 * time.Millisecond

// waitLine blocks while the hardware flow-control line says busy, up to the
// stall timeout.
func (p *port) waitLine(ctx context.Context, c *portConn) error {
	lines, ok := c.t.(modemLines)
	if p.cfg.FlowControl == "" || !ok {
		return nil
	}
	var deadline time.Time
	for {
		ready, err := lines.clearToSend(p.cfg.FlowControl)
		if err != nil {
			return fmt.Errorf("%w: read %s: %w", ErrDeviceGone, p.cfg.FlowControl, err)
		}
		if ready {
			return nil
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(p.cfg.StallTimeout)
		} else if time.Now().After(deadline) {
			return errStalled
		}
		if err := p.sleepUntil(ctx, c, time.Now().Add(lineBusyPoll)); err != nil {
			return err
		}
	}
}

// sleepUntil waits for t, watching for ASB faults and a lost link.
func (p *port) sleepUntil(ctx context.Context, c *portConn, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case <-timer.C:
			return nil
		case st := <-c.asb:
			if r := st.midJobFault(); r != "" {
				return &faultError{r, st}
			}
		case <-c.gone:
			return c.errGone()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// chunkSize is the most written before looking at flow control again: about
// 10 ms of wire time, and at most an eighth of the printer's buffer, so
// bytes already on their way when XOFF comes still fit.
func (p *port) chunkSize() int {
	if !p.paced {
		return 1024
	}
	n := int(float64(p.cfg.Baud) / p.cfg.bitsPerByte() / 100)
	n = min(n, p.cfg.BufferSize/8, 512)
	return max(n, 8)
}

// send writes b in paced chunks. It returns how many bytes were written.
//
// b goes out only when the printer's buffer is empty (the reply to the last
// GS r proved it processed everything before). When b fits that buffer no
// pause of the printer can overrun it, so the writer may run one chunk
// ahead of the byte clock, which hides the timer's oversleep (up to a
// millisecond) behind the wire time of the chunk in flight. Pacing itself
// stays: tcdrain on a pseudo-terminal or a USB adapter returns before the
// bytes have crossed the wire, and without the clock the whole job would sit
// in the kernel at once, Sent would no longer tell how far a job cut short
// got, and the completion timeout would start while the wire is still busy.
func (p *port) send(ctx context.Context, c *portConn, b []byte) (int, error) {
	chunk := p.chunkSize()
	byteTime := time.Duration(p.cfg.bitsPerByte() * float64(time.Second) / float64(p.cfg.Baud))
	var lead time.Duration
	if len(b) <= p.cfg.BufferSize {
		lead = time.Duration(chunk) * byteTime
	}
	var due time.Time // when the bytes written so far have left the wire
	sent := 0
	for sent < len(b) {
		select {
		case st := <-c.asb:
			if r := st.midJobFault(); r != "" {
				return sent, &faultError{r, st}
			}
		default:
		}
		if err := p.waitWritable(ctx, c, p.cfg.StallTimeout); err != nil {
			return sent, err
		}
		if err := p.waitLine(ctx, c); err != nil {
			return sent, err
		}
		end := min(sent+chunk, len(b))
		n, err := c.write(b[sent:end])
		sent += n
		if err != nil {
			return sent, err
		}
		if p.paced && sent < len(b) {
			if err := c.t.Drain(); err != nil {
				err = fmt.Errorf("%w: drain: %w", ErrDeviceGone, err)
				c.shut(err)
				return sent, err
			}
			// tcdrain says the UART is empty; a pseudo-terminal or a USB
			// adapter with its own FIFO says so early, so pace by the clock too.
			// Short oversleeps are caught up on the next chunks; after a
			// real pause (XOFF, a slow drain) the clock starts afresh.
			if now := time.Now(); now.Sub(due) > paceSlack {
				due = now
			}
			due = due.Add(time.Duration(n) * byteTime)
			if err := p.sleepUntil(ctx, c, due.Add(-lead)); err != nil {
				return sent, err
			}
		}
	}
	return sent, nil
}

// paceSlack is how far behind the byte clock the writer may fall and still
// catch up: enough to absorb timer oversleep, too little to matter to a
// printer's buffer.
const paceSlack = 20 * time.Millisecond

// query asks DLE EOT n for each n and folds the replies into one Status. It
// asks for the error cause too when the offline cause says "error".
func (p *port) query(ctx context.Context, c *portConn, ns ...byte) (Status, error) {
	return p.queryOnto(ctx, c, Status{}, ns...)
}

// queryOnto is query folding the replies into what st already holds.
func (p *port) queryOnto(ctx context.Context, c *portConn, st Status, ns ...byte) (Status, error) {
	askedError := st.Known&KnownError != 0
	for i := 0; i < len(ns); i++ {
		n := ns[i]
		askedError = askedError || n == StatusError
		drainChan(c.replies)
		// Real-time: sent even under XOFF, the printer takes it on receipt.
		if _, err := c.write([]byte{dle, 0x04, n}); err != nil {
			return st, err
		}
		timer := time.NewTimer(p.cfg.StatusTimeout)
		select {
		case b := <-c.replies:
			timer.Stop()
			st.ApplyStatusReply(n, b)
		case <-timer.C:
			return st, fmt.Errorf("%w to DLE EOT %d within %s", ErrNoAnswer, n, p.cfg.StatusTimeout)
		case <-c.gone:
			timer.Stop()
			return st, c.errGone()
		case <-ctx.Done():
			timer.Stop()
			return st, ctx.Err()
		}
		if n == StatusOffline && st.ErrorOccurred && !askedError {
			ns = append(ns[:i+1:i+1], append([]byte{StatusError}, ns[i+1:]...)...)
		}
	}
	return st, nil
}

func (p *port) fullStatus(ctx context.Context, c *portConn) (Status, error) {
	return p.query(ctx, c, StatusPrinter, StatusOffline, StatusPaper)
}

// readyStatus is the check before a job: DLE EOT 1 alone while the printer
// says it is online (cover open, paper end and errors all take it offline,
// escpos.md §9-§10), the offline, paper and error causes only when it is
// not, so the refusal names the cause. Paper near end, which does not stop
// a job, comes with the job's completion reply.
func (p *port) readyStatus(ctx context.Context, c *portConn) (Status, error) {
	st, err := p.query(ctx, c, StatusPrinter)
	if err != nil || (!st.Offline && !st.WaitingRecovery) {
		return st, err
	}
	return p.queryOnto(ctx, c, st, StatusOffline, StatusPaper)
}

// recover leaves the printer at a command boundary with a clean state after
// an abandoned job: NULs complete a half-sent command (an image waiting for
// data swallows them), ESC @ resets modes. The NULs wait for XON like any
// data: pushed into a printer that is offline they would overflow its buffer
// and be lost, leaving it inside the command to eat the next job. While the
// printer stays paused recover returns errStalled and stays pending.
func (p *port) recover(ctx context.Context, c *portConn) error {
	if !p.recoverPending {
		return nil
	}
	if err := p.waitWritable(ctx, c, p.cfg.StatusTimeout); err != nil {
		return err
	}
	// ASB news from before the printer came back is stale.
	drainChan(c.asb)
	b := make([]byte, p.recoverNULs, p.recoverNULs+len(markerCommand)+2)
	b = append(b, esc, '@')
	b = append(b, markerCommand...)
	p.log.Info("resetting printer after an abandoned job", "nuls", p.recoverNULs)
	drainChan(c.markers)
	if _, err := p.send(ctx, c, b); err != nil {
		return err
	}
	// The marker's reply proves the printer came out of any half-sent
	// command and has caught up; without it the reset stays pending and the
	// next attempt sends more NULs.
	if _, err := p.awaitCompletion(ctx, c, 1); err != nil {
		return fmt.Errorf("printer reset: %w", err)
	}
	c.synced = true
	// ESC @ went out: ask for ASB again and wait for it.
	c.asbArmed = false
	p.recoverPending = false
	p.recoverNULs = 0
	return nil
}

// abandon records that job was cut after sent bytes, so the next use of the
// printer first completes the command it was cut in. When bytes may have been
// lost on the way (the printer went quiet, or the link broke), the printer
// may be inside any command sent so far, so the NULs cover the longest one.
func (p *port) abandon(job []byte, sent int, lossPossible bool) {
	var sc CommandScanner
	longest := 0
	for _, b := range job[:sent] {
		if cmd, ok := sc.Feed(b); ok {
			longest = max(longest, cmd.Len)
		}
	}
	nuls, ok := sc.Remaining()
	if !ok {
		nuls = 1024 // a header cut short: more than any parameter list
	}
	if lossPossible {
		nuls = max(nuls, longest)
	}
	// Slack for a few lost bytes; bounded so recovery stays quick.
	nuls = min(nuls+64, maxRecoveryNULs)
	p.recoverNULs = max(p.recoverNULs, nuls)
	p.recoverPending = true
}

// maxRecoveryNULs bounds the recovery: 16 KB is 17 s at 9600 baud, and
// covers a full-width raster band of 340 rows.
const maxRecoveryNULs = 16384

// Print runs the handshake around one job.
func (p *port) Print(ctx context.Context, job []byte) Outcome {
	start := time.Now()
	out := Outcome{Total: len(job)}
	finish := func() Outcome {
		out.Elapsed = time.Since(start)
		if out.Printed {
			p.log.Info("job printed", "bytes", out.Total, "elapsed", out.Elapsed)
		} else {
			p.log.Warn("job not printed", "reason", out.Reason, "may_have_reached_paper", out.MayHaveReachedPaper,
				"sent", out.Sent, "bytes", out.Total, "err", out.Err)
		}
		return out
	}
	wire, markers, err := prepareJob(job)
	if err != nil {
		out.Reason, out.Err = ReasonBadJob, err
		return finish()
	}
	if err := p.lock.lock(ctx); err != nil {
		out.Reason, out.Err = ReasonCanceled, err
		return finish()
	}
	defer p.lock.unlock()

	c, err := p.connect()
	if err != nil {
		out.Reason, out.Err = ReasonDeviceGone, err
		return finish()
	}
	defer func() {
		if !out.Printed {
			// Whatever went wrong (silence, a fault, a reset by the user)
			// may have switched ASB off: the next job waits for it again.
			c.asbArmed = false
		}
	}()
	if err := p.recover(ctx, c); err != nil {
		out.Reason, out.Err = reasonOf(err), err
		if out.Reason != ReasonDeviceGone && out.Reason != ReasonCanceled {
			// Paused or quiet since the last job: say why, if the printer will.
			st, qerr := p.fullStatus(ctx, c)
			out.Status = st
			switch {
			case qerr != nil:
				out.Reason = reasonOf(qerr)
			case st.blockingReason() != "":
				out.Reason = st.blockingReason()
			}
		}
		return finish()
	}
	st, err := p.readyStatus(ctx, c)
	out.Status = st
	if err != nil {
		out.Reason, out.Err = reasonOf(err), err
		return finish()
	}
	if r := st.blockingReason(); r != "" {
		out.Reason, out.Err = r, fmt.Errorf("printer reports %s", st)
		return finish()
	}
	if err := p.sync(ctx, c); err != nil {
		out.Reason, out.Err = reasonOf(err), err
		return finish()
	}
	rearm := c.asbArmed
	if err := p.enableASB(ctx, c); err != nil {
		var fault *faultError
		if errors.As(err, &fault) {
			out.Status = fault.status
		}
		out.Reason, out.Err = reasonOf(err), err
		return finish()
	}
	prefix := 0
	if rearm {
		// The printer answered GS a before on this link; it is asked again
		// in front of the job, in sequence, and its ASB block is news
		// during the job like any other.
		wire = append(append(make([]byte, 0, len(asbCommand)+len(wire)), asbCommand...), wire...)
		prefix = len(asbCommand)
	}

	drainChan(c.markers)
	drainChan(c.asb)
	wireSent, err := p.send(ctx, c, wire)
	out.Sent = min(max(wireSent-prefix, 0), len(job))
	if err != nil {
		// Bytes went out: only the printer's word could prove they did not
		// print, and it gives none.
		out.MayHaveReachedPaper = out.Sent > 0
		out.Reason, out.Err = reasonOf(err), err
		var fault *faultError
		if errors.As(err, &fault) {
			out.Status = fault.status
		}
		p.abandonAndLearn(ctx, c, wire, wireSent, &out)
		return finish()
	}
	out.MayHaveReachedPaper = true
	reply, err := p.awaitCompletion(ctx, c, markers)
	if err != nil {
		out.Reason, out.Err = reasonOf(err), err
		var fault *faultError
		if errors.As(err, &fault) {
			out.Status = fault.status
		}
		p.abandonAndLearn(ctx, c, wire, wireSent, &out)
		return finish()
	}
	out.Printed, out.Confirmed = true, true
	// The GS r 1 reply carries the paper sensor bits (ASB byte 3 layout).
	out.Status.PaperNearEnd = reply&0x03 != 0
	return finish()
}

// abandonAndLearn marks the job abandoned, so the next use of the printer
// first brings it back to a clean state, and, when the reason is vague, asks
// the printer for a better one. The reset is not attempted here: the printer
// is paused, silent or gone, and the cashier is waiting for the outcome.
func (p *port) abandonAndLearn(ctx context.Context, c *portConn, wire []byte, wireSent int, out *Outcome) {
	// A printer that reported a fault was alive and took every byte.
	var fault *faultError
	p.abandon(wire, wireSent, !errors.As(out.Err, &fault))
	if out.Reason != ReasonNotConfirmed && out.Reason != ReasonStalled {
		return
	}
	if st, err := p.fullStatus(context.WithoutCancel(ctx), c); err == nil {
		out.Status = st
		if r := st.blockingReason(); r != "" {
			out.Reason = r
		}
	}
}

// sync makes sure, once per connection, that the printer's parser stands
// between commands before a job goes out. Another process (a previous run
// of the agent that died mid-job) may have left it inside an image, which
// would swallow the start of our job. A GS r answered proves it is not; an
// unanswered one gets the full reset.
func (p *port) sync(ctx context.Context, c *portConn) error {
	if c.synced {
		return nil
	}
	drainChan(c.markers)
	if _, err := c.write(markerCommand); err != nil {
		return err
	}
	timer := time.NewTimer(p.cfg.StatusTimeout)
	defer timer.Stop()
	select {
	case <-c.markers:
		c.synced = true
		return nil
	case <-timer.C:
	case <-c.gone:
		return c.errGone()
	case <-ctx.Done():
		return ctx.Err()
	}
	p.log.Warn("printer did not answer GS r before the first job; it may be inside a command left by another process: resetting it")
	p.recoverPending = true
	p.recoverNULs = maxRecoveryNULs
	if err := p.recover(ctx, c); err != nil {
		return err
	}
	c.synced = true
	return nil
}

// enableASB sends GS a (online, error, paper) and waits for the first ASB
// block, which comes in sequence and so also proves the printer is
// processing data. A printer that never answers is remembered and not asked
// again.
func (p *port) enableASB(ctx context.Context, c *portConn) error {
	if p.cfg.NoASB || p.asbUnsupported || c.asbArmed {
		return nil
	}
	drainChan(c.asb)
	if _, err := c.write(asbCommand); err != nil {
		return err
	}
	timer := time.NewTimer(p.cfg.StatusTimeout)
	defer timer.Stop()
	select {
	case st := <-c.asb:
		if r := st.blockingReason(); r != "" {
			return &faultError{r, st}
		}
		c.asbArmed = true
		return nil
	case <-timer.C:
		p.log.Info("printer does not send automatic status back (GS a); relying on XOFF and status polls")
		p.asbUnsupported = true
		return nil
	case <-c.gone:
		return c.errGone()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// asbCommand enables ASB for online/offline, errors and paper sensors.
var asbCommand = []byte{gs, 'a', 0x0E}

// takeMarkers takes the marker replies already read, without waiting.
func takeMarkers(c *portConn, markers int, reply *byte) int {
	for markers > 0 {
		select {
		case *reply = <-c.markers:
			markers--
		default:
			return markers
		}
	}
	return markers
}

var errNotConfirmed = errors.New("no completion reply (GS r) in time")

// awaitCompletion waits for the replies to the job's GS r markers, polling
// status so a printer stopped at paper end is told apart from a slow one.
func (p *port) awaitCompletion(ctx context.Context, c *portConn, markers int) (byte, error) {
	deadline := time.NewTimer(p.cfg.CompletionTimeout)
	defer deadline.Stop()
	poll := time.NewTicker(p.cfg.PollInterval)
	defer poll.Stop()
	var reply byte
	for markers > 0 {
		select {
		case reply = <-c.markers:
			markers--
		case st := <-c.asb:
			if r := st.midJobFault(); r != "" {
				// The reader offers bytes in order: a marker that came before
				// this news (the job's last, then paper out) is waiting.
				if markers = takeMarkers(c, markers, &reply); markers == 0 {
					return reply, nil
				}
				return 0, &faultError{r, st}
			}
		case <-poll.C:
			st, err := p.query(ctx, c, StatusOffline, StatusPaper)
			if err == nil {
				if r := st.blockingReason(); r != "" {
					if markers = takeMarkers(c, markers, &reply); markers == 0 {
						return reply, nil
					}
					return 0, &faultError{r, st}
				}
			} else if errors.Is(err, ErrDeviceGone) || ctx.Err() != nil {
				return 0, err
			}
		case <-deadline.C:
			return 0, errNotConfirmed
		case <-c.gone:
			if markers = takeMarkers(c, markers, &reply); markers == 0 {
				return reply, nil
			}
			return 0, c.errGone()
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return reply, nil
}

func reasonOf(err error) Reason {
	var fault *faultError
	switch {
	case errors.As(err, &fault):
		return fault.reason
	case errors.Is(err, ErrDeviceGone):
		return ReasonDeviceGone
	case errors.Is(err, ErrNoAnswer):
		return ReasonNoAnswer
	case errors.Is(err, errStalled):
		return ReasonStalled
	case errors.Is(err, errNotConfirmed):
		return ReasonNotConfirmed
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ReasonCanceled
	}
	return ReasonError
}

// Status asks the printer. An abandoned job is finished first, so the
// request is not swallowed as data by a half-sent command.
func (p *port) Status(ctx context.Context) (Status, error) {
	if err := p.lock.lock(ctx); err != nil {
		return Status{}, err
	}
	defer p.lock.unlock()
	c, err := p.connect()
	if err != nil {
		return Status{}, err
	}
	// A printer still paused or quiet is asked anyway: DLE EOT is real-time.
	if err := p.recover(ctx, c); err != nil {
		if r := reasonOf(err); r == ReasonDeviceGone || r == ReasonCanceled {
			return Status{}, err
		}
		p.log.Warn("printer reset after an abandoned job did not complete", "err", err)
	}
	st, err := p.fullStatus(ctx, c)
	if err != nil {
		// Quiet or gone: it may come back reset, with ASB off.
		c.asbArmed = false
	}
	return st, err
}

// Close closes the link. A job in progress finishes first.
func (p *port) Close() error {
	p.lock <- struct{}{}
	defer p.lock.unlock()
	p.closed = true
	if p.conn != nil {
		p.conn.close()
		p.conn = nil
	}
	return nil
}

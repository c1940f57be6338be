package printersim

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/posagent/posagent/printer"
)

const (
	esc = 0x1B
	gs  = 0x1D
	dle = 0x10
)

// receive takes bytes off the wire at the baud rate.
func (s *Sim) receive(master *os.File) {
	defer s.recvWG.Done()
	var r rx
	chunk := 512
	var byteTime time.Duration
	if s.opt.Baud > 0 {
		byteTime = 10 * time.Second / time.Duration(s.opt.Baud)
		chunk = max(1, s.opt.Baud/10/200) // 5 ms of wire
	}
	buf := make([]byte, chunk)
	// due is when the bytes read so far have crossed the wire; lastRead is
	// when the previous read returned (at first, now), the earliest moment
	// bytes found waiting in the next read can have been written.
	var due time.Time
	lastRead := time.Now()
	for {
		before := time.Now()
		n, err := master.Read(buf)
		after := time.Now()
		if n > 0 && byteTime > 0 {
			// The bytes arrive when their last bit has crossed the wire, so a
			// GS r is answered no earlier than a real printer could. Their
			// first bit left no earlier than the line was free, and no earlier
			// than they were written: when the read waited for them, just
			// before it returned; when they were waiting (the receiver
			// overslept, or the host wrote during the sleep), as early as the
			// previous read. An idle line banks no time.
			written := lastRead
			if after.Sub(before) > blockedRead {
				written = after
			}
			if due.Before(written) {
				due = written
			}
			due = due.Add(time.Duration(n) * byteTime)
			waitUntil(due)
		}
		lastRead = after
		if n > 0 {
			s.take(buf[:n], &r)
		}
		if err != nil {
			return
		}
	}
}

// blockedRead is how long a read must take to count as having waited for
// its bytes rather than finding them queued.
const blockedRead = 20 * time.Microsecond

// minSleep is the shortest wait left to a timer, which wakes up to a
// millisecond late (the runtime's poller counts in milliseconds); shorter
// waits yield the processor until the moment has passed.
const minSleep = time.Millisecond

// waitUntil returns at t, not before, and not much after.
func waitUntil(t time.Time) {
	if d := time.Until(t); d > minSleep {
		time.Sleep(d - minSleep)
	}
	for time.Now().Before(t) {
		runtime.Gosched()
	}
}

// rx is the receiver's parsing state.
type rx struct {
	sc           printer.CommandScanner
	held         []byte // a DLE command between commands, until it is whole
	prev1, prev2 byte   // the last two bytes, to spot DLE EOT inside data
}

// take handles bytes as they arrive. A real-time request between commands is
// answered at once and not queued. Inside another command's data (a raster
// image) the bytes are data and stay in the job; like a real printer
// (escpos.md §9) the simulator still answers a DLE EOT it sees there unless
// its buffer is full, so a host gets unsolicited replies it must ignore.
func (s *Sim) take(in []byte, r *rx) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range in {
		s.stats.Received++
		if s.silent {
			r.sc.Reset()
			r.held = r.held[:0]
			continue
		}
		between := !r.sc.InCommand()
		inDataRequest := !between && r.prev2 == dle && r.prev1 == 0x04 && b >= 1 && b <= 4
		r.prev2, r.prev1 = r.prev1, b
		cmd, done := r.sc.Feed(b)
		if (between && b == dle) || len(r.held) > 0 {
			// A DLE command might be real-time: hold it until it is whole.
			r.held = append(r.held, b)
			if !done {
				continue
			}
			if !s.realTimeLocked(cmd) {
				for _, h := range r.held {
					s.enqueueLocked(h)
				}
			}
			r.held = r.held[:0]
			continue
		}
		if inDataRequest && len(s.buf) < s.opt.BufferSize {
			s.stats.StatusRequests++
			s.send(s.statusLocked().StatusReplyByte(b))
		}
		s.enqueueLocked(b)
	}
	s.flowLocked()
	s.wake.Broadcast()
}

// realTimeLocked executes a real-time command and reports whether cmd was one.
func (s *Sim) realTimeLocked(cmd printer.Command) bool {
	switch {
	case cmd.Len == 3 && cmd.Is(dle, 0x04):
		n := cmd.Head[2]
		if n >= 1 && n <= 4 {
			s.stats.StatusRequests++
			s.send(s.statusLocked().StatusReplyByte(n))
		}
		return true
	case cmd.Is(dle, 0x05), cmd.Is(dle, 0x14):
		// DLE ENQ (error recovery) and DLE DC4: no error state to clear here.
		return true
	}
	return false
}

func (s *Sim) enqueueLocked(b byte) {
	if len(s.buf) >= s.opt.BufferSize {
		if s.stats.Overruns == 0 {
			s.log.Warn("printer-sim buffer overrun: the host ignored XOFF; bytes are lost")
		}
		s.stats.Overruns++
		return
	}
	s.buf = append(s.buf, b)
	s.stats.MaxBuffered = max(s.stats.MaxBuffered, len(s.buf))
}

// engine prints from the buffer.
func (s *Sim) engine() {
	defer s.wg.Done()
	var sc printer.CommandScanner
	s.mu.Lock()
	for {
		for !s.closed && (len(s.buf) == 0 || s.paperOut || s.coverOpen) {
			s.wake.Wait()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		if s.powerCycled {
			s.powerCycled = false
			sc.Reset()
			s.cur, s.curStart = s.cur[:0], -1
		}
		k := len(s.buf)
		speed := s.printSpeed
		if speed > 0 {
			k = min(k, max(1, speed/100)) // 10 ms of printing
		}
		if s.paperOutAfterBytes == 0 {
			s.paperOutAfterBytes = -1
			s.paperOut = true
			s.log.Info("printer-sim ran out of paper")
			s.stateChangedLocked()
			continue
		}
		if s.paperOutAfterBytes > 0 {
			k = min(k, s.paperOutAfterBytes)
			s.paperOutAfterBytes -= k
		}
		chunk := append([]byte(nil), s.buf[:k]...)
		s.buf = s.buf[k:]
		if len(s.buf) == 0 {
			s.buf = nil // let the backing array go
		}
		s.flowLocked()
		s.mu.Unlock()

		for _, b := range chunk {
			s.cur = append(s.cur, b)
			if cmd, ok := sc.Feed(b); ok {
				s.execute(cmd)
			}
		}
		if speed > 0 {
			time.Sleep(time.Duration(k) * time.Second / time.Duration(speed))
		}
		s.mu.Lock()
	}
}

// execute runs one command the engine reached; cmd's bytes end s.cur.
func (s *Sim) execute(cmd printer.Command) {
	start := len(s.cur) - cmd.Len
	switch {
	case cmd.Len == 3 && cmd.Is(gs, 'r'):
		if s.curStart >= 0 && hasContent(s.cur[s.curStart:start]) {
			s.finishJob(s.cur[s.curStart:], true)
		}
		s.cur, s.curStart = s.cur[:0], -1
		s.mu.Lock()
		reply := byte(0x00)
		if n := cmd.Head[2]; (n == 1 || n == '1') && s.nearEnd {
			reply |= 0x03
		}
		s.stats.Markers++
		s.send(reply)
		s.afterJobLocked()
		s.mu.Unlock()
		return
	case cmd.Len == 3 && cmd.Is(gs, 'a'):
		s.mu.Lock()
		s.asbOn = cmd.Head[2] != 0
		if s.asbOn {
			s.stats.ASBEnables++
			b := s.statusLocked().ASBBytes()
			s.send(b[:]...)
		}
		s.mu.Unlock()
	case cmd.Len == 2 && cmd.Is(esc, '@'):
		// ESC @ starts a job. Content before it is a job the host cut short
		// (and completed with NULs): that part printed too.
		if s.curStart >= 0 && hasContent(s.cur[s.curStart:start]) {
			s.finishJob(s.cur[s.curStart:start], false)
		}
		s.cur = append(s.cur[:0], esc, '@')
		s.curStart = 0
		return
	case cmd.Len == 1 && cmd.Head[0] == 0x00:
		// NUL: nothing to print.
	default:
		if s.curStart < 0 {
			s.curStart = start
		}
	}
	if s.curStart < 0 {
		// Only bytes that print nothing so far: keep none of them.
		s.cur = s.cur[:0]
	}
}

// hasContent reports whether b holds anything but ESC @, NULs and GS a.
func hasContent(b []byte) bool {
	var sc printer.CommandScanner
	for _, x := range b {
		cmd, ok := sc.Feed(x)
		if !ok {
			continue
		}
		switch {
		case cmd.Len == 1 && cmd.Head[0] == 0:
		case cmd.Len == 2 && cmd.Is(esc, '@'):
		case cmd.Len == 3 && cmd.Is(gs, 'a'):
		default:
			return true
		}
	}
	return sc.InCommand()
}

// afterJobLocked runs the paper-out-after-N-jobs switch.
func (s *Sim) afterJobLocked() {
	if s.paperOutAfterJobs > 0 && s.jobCountLocked() >= s.paperOutAfterJobs {
		s.paperOutAfterJobs = 0
		s.paperOut = true
		s.log.Info("printer-sim ran out of paper", "after_jobs", s.jobCountLocked())
		s.stateChangedLocked()
	}
}

// finishJob records a printed job. Its .bin is written before the GS r reply
// goes out, so a host that saw the reply finds it in place; the PNG is drawn
// by the renderer afterwards, off the engine, so the reply is not held up by
// the drawing (a real printer answers when the paper has moved, not later).
// Jobs and WaitJobs return a job once its PNG is drawn.
func (s *Sim) finishJob(data []byte, complete bool) {
	s.mu.Lock()
	job := Job{Index: s.next, Data: bytes.Clone(data), Complete: complete, PrintedAt: time.Now()}
	s.next++
	if complete {
		s.completeJobs++
	}
	s.mu.Unlock()
	if s.opt.Dir == "" {
		s.record(job)
		return
	}
	if err := s.saveBin(&job); err != nil {
		s.log.Error("printer-sim could not save a job", "job", job.Index, "err", err)
	}
	if s.opt.Render == nil {
		s.record(job)
		return
	}
	s.mu.Lock()
	s.renderQ = append(s.renderQ, job)
	s.pendingRenders++
	s.renderCond.Broadcast()
	s.mu.Unlock()
}

// record makes a finished job visible to Jobs and WaitJobs.
func (s *Sim) record(job Job) {
	s.log.Info("printer-sim printed a job", "job", job.Index, "bytes", len(job.Data), "complete", job.Complete, "bin", job.BinPath, "png", job.PNGPath)
	s.mu.Lock()
	s.jobs = append(s.jobs, job)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// renderer draws the PNGs of finished jobs in order. On Close it finishes
// the jobs already queued.
func (s *Sim) renderer() {
	defer s.wg.Done()
	s.mu.Lock()
	for {
		for !s.closed && len(s.renderQ) == 0 {
			s.renderCond.Wait()
		}
		if len(s.renderQ) == 0 {
			s.mu.Unlock()
			return
		}
		job := s.renderQ[0]
		s.renderQ = s.renderQ[1:]
		s.mu.Unlock()
		if err := s.savePNG(&job); err != nil {
			s.log.Error("printer-sim could not draw a job", "job", job.Index, "err", err)
		}
		s.record(job)
		s.mu.Lock()
		s.pendingRenders--
		s.renderCond.Broadcast()
	}
}

func (s *Sim) saveBin(job *Job) error {
	bin := filepath.Join(s.opt.Dir, fmt.Sprintf("%04d.bin", job.Index))
	if err := writeFileAtomic(bin, job.Data); err != nil {
		return err
	}
	job.BinPath = bin
	return nil
}

func (s *Sim) savePNG(job *Job) error {
	var png bytes.Buffer
	if err := s.opt.Render(job.Data, &png); err != nil {
		job.RenderErr = err
		return fmt.Errorf("render job %d: %w", job.Index, err)
	}
	pngPath := filepath.Join(s.opt.Dir, fmt.Sprintf("%04d.png", job.Index))
	if err := writeFileAtomic(pngPath, png.Bytes()); err != nil {
		return err
	}
	job.PNGPath = pngPath
	return nil
}

// writeFileAtomic writes via a temporary file, so a reader never sees half a
// job.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

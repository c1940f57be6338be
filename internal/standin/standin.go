// Package standin holds what the providers' stand-in servers (ecpaytest,
// amegotest, bridgetest) share: a queue of injected faults and a way to hang
// up without an answer. The protocols stay each stand-in's own.
package standin

import "net/http"

// Faults is a queue of injected faults, each used a number of times. It is
// not safe for concurrent use: the stand-in's own mutex guards it.
type Faults[F any] struct {
	pending []pending[F]
}

type pending[F any] struct {
	fault F
	left  int
}

// Add queues f for the next n requests it matches (at least one).
func (q *Faults[F]) Add(f F, n int) {
	q.pending = append(q.pending, pending[F]{fault: f, left: n})
}

// Take returns the first queued fault that matches, using it up once.
func (q *Faults[F]) Take(matches func(F) bool) (F, bool) {
	for i := range q.pending {
		p := &q.pending[i]
		if !matches(p.fault) {
			continue
		}
		f := p.fault
		p.left--
		if p.left <= 0 {
			q.pending = append(q.pending[:i], q.pending[i+1:]...)
		}
		return f, true
	}
	var zero F
	return zero, false
}

// Reset forgets every queued fault.
func (q *Faults[F]) Reset() { q.pending = nil }

// Drop closes the connection without an answer: a request whose answer is lost.
func Drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// Package offline is a switch in front of an HTTP transport that makes the
// network unreachable on demand, as a till's link going down looks to a
// client: every request fails at once with "connection refused", before
// anything is sent. The demo's "provider down" and the tests of offline
// selling use it with stand-ins that have no down switch of their own.
package offline

import (
	"errors"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
)

// Switch is an http.RoundTripper that passes requests to Next unless it is down.
type Switch struct {
	Next http.RoundTripper // nil: http.DefaultTransport
	down atomic.Bool
}

// SetDown takes the network down (true) or brings it back.
func (s *Switch) SetDown(down bool) { s.down.Store(down) }

// Down reports whether the network is down.
func (s *Switch) Down() bool { return s.down.Load() }

// RoundTrip fails with a refused connection while the switch is down.
func (s *Switch) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.down.Load() {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	}
	next := s.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// Client returns a copy of c whose transport goes through s.
func (s *Switch) Client(c *http.Client) *http.Client {
	out := *c
	if s.Next == nil {
		s.Next = c.Transport
	}
	out.Transport = s
	return &out
}

// IsRefused reports whether err is the switch's refusal.
func IsRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

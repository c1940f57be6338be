//go:build !windows

package queue_test

import (
	"os"
	"syscall"
)

// killHard ends p the way a power cut or the OOM killer would: no chance to
// run anything.
func killHard(p *os.Process) error { return p.Signal(syscall.SIGKILL) }

// killedHard reports whether the process ended by killHard rather than by
// itself.
func killedHard(st *os.ProcessState) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

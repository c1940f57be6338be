//go:build unix

package bridge

import (
	"os/exec"
	"syscall"
)

// killGroup starts the program in a process group of its own and makes the
// time limit kill the whole group, so that a shell script's children or an
// SDK's helper processes cannot outlive it holding a connection open.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		// The group's id is the program's pid (Setpgid with Pgid 0).
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
}

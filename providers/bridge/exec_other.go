//go:build !unix

package bridge

import "os/exec"

// killGroup kills the program at the time limit. On Windows only the program
// itself is killed [U: processes it started survive; a job object would be
// needed to end them, so a Windows relay should not leave children behind].
func killGroup(cmd *exec.Cmd) {
	cmd.Cancel = func() error { return cmd.Process.Kill() }
}

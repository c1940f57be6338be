package queue_test

import (
	"os"

	"golang.org/x/sys/windows"
)

// killedExitCode is the exit code killHard gives: none of the child's own
// (0, 2, 3) nor Go's panic (2) or os.Process.Kill's (1).
const killedExitCode = 0xDEAD

// killHard ends p with TerminateProcess, Windows' SIGKILL: the process runs
// nothing more, its open files are closed by the kernel.
func killHard(p *os.Process) error {
	h, err := windows.OpenProcess(windows.PROCESS_TERMINATE, false, uint32(p.Pid))
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	return windows.TerminateProcess(h, killedExitCode)
}

func killedHard(st *os.ProcessState) bool { return st.ExitCode() == killedExitCode }

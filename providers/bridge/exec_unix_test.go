//go:build unix

package bridge_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent"
)

// gone reports whether pid no longer runs (a zombie waiting for its reaper
// counts as gone: it runs no code).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return os.IsNotExist(err)
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(rest, "Z")
}

// TestExecHangKilledAtLimit: a program that hangs, with a child of its own,
// is killed with its whole process group at the time limit.
func TestExecHangKilledAtLimit(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "child.pid")
	c := execClient(t, 700*time.Millisecond, "-hang", "-pidfile", pidfile)
	e := &env{t: t}
	start := time.Now()
	err := c.Upload(t.Context(), e.sale("H1"))
	took := time.Since(start)
	e.checkErr(err, posagent.KindTransient)
	if !strings.Contains(err.Error(), "killed after") || !strings.Contains(err.Error(), "time limit 700ms") {
		t.Fatalf("error = %v", err)
	}
	if took > 5*time.Second {
		t.Fatalf("the call took %v with a 700ms limit", took)
	}
	data, rerr := os.ReadFile(pidfile)
	if rerr != nil {
		t.Fatalf("the program did not start its child: %v", rerr)
	}
	pid, _ := strconv.Atoi(string(data))
	deadline := time.Now().Add(5 * time.Second)
	for !gone(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the program's child %d survived the time limit", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

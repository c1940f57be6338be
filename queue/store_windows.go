package queue

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/windows"
)

// diskFullErrno and readOnlyErrno classify the Windows error (GetLastError)
// SQLite saw behind an I/O error.
func diskFullErrno(e syscall.Errno) bool {
	return e == syscall.Errno(windows.ERROR_DISK_FULL) || e == syscall.Errno(windows.ERROR_HANDLE_DISK_FULL)
}

func readOnlyErrno(e syscall.Errno) bool { return e == syscall.Errno(windows.ERROR_WRITE_PROTECT) }

// unwritable explains why the store's file or directory cannot be written,
// or returns "" when both can (or the file does not exist yet). Windows has
// no access(2): the answer comes from trying, as the service's own account,
// to open the file for writing and to create a file in the folder; both are
// undone at once.
func (s *Store) unwritable() string {
	f, err := os.OpenFile(s.path, os.O_WRONLY, 0)
	if err == nil {
		f.Close()
	} else if why := unwritableWhy(s.path, err); why != "" {
		return why
	}
	dir := filepath.Dir(s.path)
	probe, err := os.CreateTemp(dir, ".posagent-probe-*")
	if err != nil {
		return unwritableWhy(dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return ""
}

func unwritableWhy(p string, err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return ""
	case errors.Is(err, windows.ERROR_WRITE_PROTECT):
		return "the disk holding " + p + " is write-protected"
	case errors.Is(err, os.ErrPermission), errors.Is(err, windows.ERROR_ACCESS_DENIED):
		return "no permission to write " + p
	}
	return ""
}

package queue

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/windows"

	"github.com/posagent/posagent/internal/private"
)

// protectFilesACL is the Windows form of protectFiles' 0600: modes mean
// nothing there, so the store's file and an existing -wal and -shm get a
// private access-control list (SYSTEM, Administrators, the owner). SQLite's
// later -wal and -shm inherit their folder's list instead, which is private
// when posagent created the folder or `posagent service install` did.
func protectFilesACL(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := private.Restrict(p); err != nil {
			return err
		}
	}
	return nil
}

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

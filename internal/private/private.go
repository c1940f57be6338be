// Package private makes files and folders that hold secrets or buyer data
// readable by their owner and administrators only, and says when one is not.
//
// On Unix that is the mode: 0700 for a folder, 0600 for a file. On Windows
// modes mean nothing (only the read-only attribute), so the same intent is a
// protected access-control list: full control for SYSTEM (the account the
// service runs as), the Administrators group and the user who runs posagent,
// nothing inherited from the parent (%ProgramData% lets every user read), and
// inherited by whatever is created inside (the store's -wal and -shm files).
package private

import (
	"os"
	"syscall"
)

// MkdirAll creates dir and its parents and makes dir private. A dir that
// already exists is left as it is: it may be /etc or C:\ProgramData, whose
// access is not ours to change.
func MkdirAll(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return &os.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return Restrict(dir)
}

// Restrict makes an existing file or folder private.
func Restrict(path string) error { return restrict(path) }

// RestrictToSystem is Restrict for the service's own folder: on Windows only
// SYSTEM (the account the service runs as) and Administrators, not the user
// who ran the installer; on Unix the same as Restrict.
func RestrictToSystem(path string) error { return restrictToSystem(path) }

// Exposed returns why path is not private ("mode -rw-r--r--", or the
// Windows accounts that may read it), or "" when it is.
func Exposed(path string) (string, error) { return exposed(path) }

// Hint says how an operator makes a file private by hand.
const Hint = hint

// Wine reports whether this is Windows emulated by Wine, which does not keep
// access-control lists (it makes them up from Unix modes): tests that read
// one back cannot run there.
func Wine() bool { return wine() }

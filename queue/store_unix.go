//go:build !windows

package queue

import (
	"errors"
	"path/filepath"
	"syscall"
)

// diskFullErrno and readOnlyErrno classify the system error SQLite saw
// behind an I/O error.
func diskFullErrno(e syscall.Errno) bool { return e == syscall.ENOSPC }
func readOnlyErrno(e syscall.Errno) bool { return e == syscall.EROFS }

// unwritable explains why the store's file or directory cannot be written,
// or returns "" when both can (or the file does not exist yet).
func (s *Store) unwritable() string {
	const wOK = 2
	dir := filepath.Dir(s.path)
	for _, p := range []string{s.path, dir} {
		err := syscall.Access(p, wOK)
		switch {
		case err == nil, errors.Is(err, syscall.ENOENT):
			continue
		case errors.Is(err, syscall.EROFS):
			return "the file system holding " + p + " is read-only"
		case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
			return "no permission to write " + p
		}
	}
	return ""
}

// protectFilesACL is Windows' form of protectFiles; modes suffice here.
func protectFilesACL(string) error { return nil }

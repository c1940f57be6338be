// Package logfile is a log file that rotates itself by size: the Windows
// service's log (%ProgramData%\posagent\logs\posagent.log), where no journald
// or logrotate keeps it in bounds.
package logfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/posagent/posagent/internal/private"
)

// File appends to path; a write that would take it past MaxBytes first moves
// path to path.1 (path.1 to path.2, …, dropping the oldest beyond Keep). It
// is safe for concurrent use. Rotation closes the file before renaming it,
// as Windows does not rename an open file.
type File struct {
	path     string
	maxBytes int64
	keep     int

	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (creating, with its folder) the log at path. maxBytes below 1
// KiB is taken as 1 KiB; keep below 1 as 1. The folder is private: logs name
// invoices and sometimes buyers.
func Open(path string, maxBytes int64, keep int) (*File, error) {
	if maxBytes < 1024 {
		maxBytes = 1024
	}
	if keep < 1 {
		keep = 1
	}
	if err := private.MkdirAll(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	l := &File{path: path, maxBytes: maxBytes, keep: keep}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *File) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("log file: %w", err)
	}
	l.f, l.size = f, fi.Size()
	return nil
}

// Write appends p whole (a log record is never split across files).
func (l *File) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return 0, errors.New("log file: closed")
	}
	if l.size > 0 && l.size+int64(len(p)) > l.maxBytes {
		if err := l.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := l.f.Write(p)
	l.size += int64(n)
	return n, err
}

func (l *File) rotate() error {
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("log file: %w", err)
	}
	l.f = nil
	// Shift path.keep-1 → path.keep, …, path → path.1; the oldest goes.
	os.Remove(l.path + "." + strconv.Itoa(l.keep))
	for i := l.keep - 1; i >= 1; i-- {
		from := l.path + "." + strconv.Itoa(i)
		if _, err := os.Stat(from); err == nil {
			if err := os.Rename(from, l.path+"."+strconv.Itoa(i+1)); err != nil {
				return l.reopenAfter(err)
			}
		}
	}
	if err := os.Rename(l.path, l.path+".1"); err != nil {
		return l.reopenAfter(err)
	}
	return l.open()
}

// reopenAfter keeps logging to the current file when rotation failed (a
// reader holding the old file open on Windows): losing rotation beats
// losing the log.
func (l *File) reopenAfter(err error) error {
	if oerr := l.open(); oerr != nil {
		return errors.Join(fmt.Errorf("log file: rotate: %w", err), oerr)
	}
	return nil
}

// Close closes the file.
func (l *File) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

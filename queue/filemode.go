package queue

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// storeFileMode is the mode of the store's file and of SQLite's -wal and -shm
// files beside it: the invoices hold buyers' 統編 and carrier ids, which no
// other local user may read even when the directory is 0755 (systemd's
// StateDirectory= default, or a directory an installer made).
const storeFileMode fs.FileMode = 0o600

// openDirectory says why the store's directory lets other local users
// remove or swap the store's files (the files' own 0600 does not stop that),
// or returns "" when it does not. A directory posagent makes is 0700; one an
// operator made may be anything, so this is a warning, not a refusal.
func openDirectory(path string) string {
	if runtime.GOOS == "windows" {
		return "" // ACLs, not these bits, say who may write there
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil || !fi.IsDir() {
		return ""
	}
	m := fi.Mode()
	if m.Perm()&0o022 != 0 && m&fs.ModeSticky == 0 {
		return fmt.Sprintf("the directory is %v: group or others may write to it; chmod go-w it", m.Perm())
	}
	return ""
}

// protectFiles creates the store's file with storeFileMode when it does not
// exist yet, and narrows the modes of an existing file and of its -wal and
// -shm (stores written by an older posagent were 0644).
//
// SQLite creates -wal and -shm with the mode of the database file (unix VFS,
// findCreateFileMode and unixOpenSharedMemory), so creating the database file
// 0600 ourselves, before SQLite opens it, covers the files it makes later. An
// empty file is a valid empty SQLite database.
func protectFiles(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, storeFileMode)
	switch {
	case err == nil:
		// The umask may have narrowed the mode further; it cannot widen it.
		return f.Close()
	case errors.Is(err, fs.ErrExist):
	default:
		// A missing directory, a read-only file system: SQLite's own open
		// reports these with the store's error mapping.
		return nil
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if fi.Mode().Perm()&^storeFileMode == 0 {
			continue
		}
		if err := os.Chmod(p, fi.Mode().Perm()&storeFileMode); err != nil {
			// Not the owner (a store shared on purpose): say so rather than
			// refuse to run.
			return fmt.Errorf("narrow the mode of %s from %v to %v: %w", p, fi.Mode().Perm(), fi.Mode().Perm()&storeFileMode, err)
		}
	}
	return nil
}

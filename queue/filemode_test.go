//go:build unix

package queue_test

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/posagent/posagent/queue"
)

// storeFiles returns the modes of the store's file, -wal and -shm (all three
// must exist: the store is open and has written).
func storeFiles(t *testing.T, path string) map[string]fs.FileMode {
	t.Helper()
	modes := map[string]fs.FileMode{}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(p), err)
		}
		modes[filepath.Base(p)] = fi.Mode().Perm()
	}
	return modes
}

// The invoices hold buyers' 統編 and carrier ids: the store's files are
// readable by their owner only, whatever the umask and even in a directory
// any local user may list (systemd's StateDirectory= is 0755).
func TestStoreFilesOwnerOnly(t *testing.T) {
	old := syscall.Umask(0) // the most permissive umask: nothing narrows for us
	t.Cleanup(func() { syscall.Umask(old) })

	for _, tc := range []struct {
		name string
		// prepare makes the situation before Open; it returns the store path.
		prepare func(t *testing.T, dir string) string
	}{
		{"new store in a 0755 directory", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "agent.db")
		}},
		{"new store in a new sub-directory made 0755", func(t *testing.T, dir string) string {
			sub := filepath.Join(dir, "state")
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(sub, "agent.db")
		}},
		{"store an older posagent left 0644, -wal and -shm included", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "agent.db")
			// Another process holds the store open, so that -wal and -shm
			// exist, with the modes older versions gave them.
			other, err := queue.Open(path, queue.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { other.Close() })
			if _, err := other.AddBooklet(context.Background(), booklet("AB", 0, 1, p11410)); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if err := os.Chmod(p, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return path
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			path := tc.prepare(t, dir)
			c := newClock(t0)
			s := mustReopen(t, path, c)
			ctx := context.Background()
			if _, err := s.AddBooklet(ctx, booklet("CD", 0, 1, p11410)); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Issue(ctx, sale("mode-1", 100), queue.IssueOptions{}); err != nil {
				t.Fatal(err)
			}
			for name, mode := range storeFiles(t, path) {
				if mode != 0o600 {
					t.Errorf("%s is %v, want -rw-------", name, mode)
				}
			}
		})
	}
}

// A directory others may write to lets them delete or swap the store's
// files whatever the files' modes: the store says so in the log, and opens.
func TestStoreDirectoryWritableByOthersWarns(t *testing.T) {
	for _, tc := range []struct {
		mode fs.FileMode
		warn bool
	}{{0o700, false}, {0o755, false}, {0o775, true}, {0o777, true}, {0o777 | fs.ModeSticky, false}} {
		dir := t.TempDir()
		if err := os.Chmod(dir, tc.mode); err != nil {
			t.Fatal(err)
		}
		var logs strings.Builder
		s, err := queue.Open(filepath.Join(dir, "agent.db"), queue.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("%v: %v", tc.mode, err)
		}
		s.Close()
		if got := strings.Contains(logs.String(), "can delete or replace"); got != tc.warn {
			t.Errorf("directory %v: warned %v, want %v: %s", tc.mode, got, tc.warn, logs.String())
		}
	}
}

package queue_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/queue"
)

// mountTmpfs mounts a small tmpfs at a fresh directory, or skips the test
// when this machine does not let us (not root, no CAP_SYS_ADMIN).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); TestDiskFullByPageLimit covers a full store", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// checkAfterFailure verifies that a store that refused a write still holds
// exactly what was committed before: every sale, no gaps, intact pages.
func checkAfterFailure(t *testing.T, s *queue.Store, issued []string) {
	t.Helper()
	ctx := context.Background()
	if err := s.Check(ctx); err != nil {
		t.Fatalf("integrity: %v", err)
	}
	for _, id := range issued {
		if _, err := s.InvoiceBySale(ctx, id); err != nil {
			t.Fatalf("sale %s lost: %v", id, err)
		}
	}
	b, err := s.Booklets(ctx, p11410)
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, r := range b {
		used += r.Next - r.First
	}
	if used != len(issued) {
		t.Fatalf("cursors say %d numbers used, %d sales committed", used, len(issued))
	}
}

// fillUntilFailure issues sales until one fails, and returns the committed
// sale ids and the failure.
func fillUntilFailure(t *testing.T, s *queue.Store, max int) ([]string, error) {
	t.Helper()
	ctx := context.Background()
	var issued []string
	for i := range max {
		inv := sale(fmt.Sprintf("fill-%d", i), 100)
		inv.Remark = strings.Repeat("備註", 90) // big rows fill the disk sooner
		if _, err := s.Issue(ctx, inv, queue.IssueOptions{}); err != nil {
			return issued, err
		}
		issued = append(issued, inv.SaleID)
	}
	t.Fatalf("%d sales fitted: the disk never filled", max)
	return nil, nil
}

// Promise 1 at the edge: a full disk gives a clear error, loses nothing
// committed and leaves the store intact.
func TestDiskFullOnTmpfs(t *testing.T) {
	dir := mountTmpfs(t, "600k")
	c := newClock(t0)
	path := filepath.Join(dir, "agent.db")
	s := mustReopen(t, path, c)
	if _, err := s.AddBooklet(context.Background(), booklet("AB", 0, 40, p11410)); err != nil {
		t.Fatal(err)
	}
	issued, err := fillUntilFailure(t, s, 2000)
	if !errors.Is(err, queue.ErrDiskFull) || posagent.ErrorKind(err) != posagent.KindStorageFull {
		t.Fatalf("the write on a full disk failed with %v (kind %s), want ErrDiskFull, KindStorageFull", err, posagent.ErrorKind(err))
	}
	if !strings.Contains(err.Error(), "full") || !strings.Contains(err.Error(), "nothing was written") {
		t.Errorf("unclear message: %v", err)
	}
	t.Logf("%d sales before the disk filled: %v", len(issued), err)
	checkAfterFailure(t, s, issued)
	s.Close()
	s = mustReopen(t, path, c)
	checkAfterFailure(t, s, issued)
}

// The same without a file system of our own: SQLite's page limit stands in
// for the disk, so it runs anywhere.
func TestDiskFullByPageLimit(t *testing.T) {
	s, c := mustOpen(t)
	if _, err := s.AddBooklet(context.Background(), booklet("AB", 0, 40, p11410)); err != nil {
		t.Fatal(err)
	}
	pages, err := queue.PageCount(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := queue.LimitPages(s, pages+40); err != nil {
		t.Fatal(err)
	}
	issued, err := fillUntilFailure(t, s, 2000)
	if !errors.Is(err, queue.ErrDiskFull) || posagent.ErrorKind(err) != posagent.KindStorageFull {
		t.Fatalf("the write past the limit failed with %v (kind %s), want ErrDiskFull, KindStorageFull", err, posagent.ErrorKind(err))
	}
	checkAfterFailure(t, s, issued)
	path := s.Path()
	s.Close()
	checkAfterFailure(t, mustReopen(t, path, c), issued)
}

// A file system that turned read-only (an SD card the kernel remounted after
// errors) gives a clear error at Open, and the store is intact once it is
// writable again. (Linux refuses to remount read-only under a file open for
// writing, so the store is closed first.)
func TestReadOnlyFileSystem(t *testing.T) {
	dir := mountTmpfs(t, "8m")
	c := newClock(t0)
	path := filepath.Join(dir, "agent.db")
	s := mustReopen(t, path, c)
	ctx := context.Background()
	if _, err := s.AddBooklet(ctx, booklet("AB", 0, 1, p11410)); err != nil {
		t.Fatal(err)
	}
	var issued []string
	for i := range 5 {
		id := fmt.Sprintf("ro-%d", i)
		if _, err := s.Issue(ctx, sale(id, 100), queue.IssueOptions{}); err != nil {
			t.Fatal(err)
		}
		issued = append(issued, id)
	}
	s.Close()
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot remount read-only: %v %s", err, out)
	}
	_, err := queue.Open(path, queue.Options{Now: c.Now})
	if !errors.Is(err, queue.ErrReadOnly) || posagent.ErrorKind(err) != posagent.KindInternal {
		t.Fatalf("Open on a read-only file system: %v, want ErrReadOnly", err)
	}
	t.Logf("open refused: %v", err)

	if out, err := exec.Command("mount", "-o", "remount,rw", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount rw: %v %s", err, out)
	}
	s = mustReopen(t, path, c)
	checkAfterFailure(t, s, issued)
}

// A directory we may not write to (checked as a normal user; root ignores
// permission bits, so the mount test above covers root).
func TestReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores permission bits; TestReadOnlyFileSystem covers this")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	_, err := queue.Open(filepath.Join(dir, "agent.db"), queue.Options{})
	if !errors.Is(err, queue.ErrReadOnly) {
		t.Fatalf("Open in a read-only directory: %v, want ErrReadOnly", err)
	}
}

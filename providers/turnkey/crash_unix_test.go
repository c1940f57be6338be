//go:build unix

package turnkey_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/turnkey"
)

const crashMessages = 12

func crashConfig(dir string) turnkey.Config {
	return turnkey.Config{
		B2SRoot: filepath.Join(dir, "UpCast", "B2SSTORAGE"), B2PRoot: filepath.Join(dir, "UpCast", "B2PMESSAGE"),
		TempDir: filepath.Join(dir, "tmp"), StateDir: filepath.Join(dir, "state"), Seller: seller,
	}
}

// TestCrashChild is the child process of TestSIGKILLBetweenRenameAndRecord:
// it uploads the messages and kills itself with SIGKILL right after the
// rename of the n-th file into SRC, before the record after it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("TURNKEY_CRASH_DIR")
	if dir == "" {
		t.Skip("child process of TestSIGKILLBetweenRenameAndRecord")
	}
	at, _ := strconv.Atoi(os.Getenv("TURNKEY_CRASH_AT"))
	renames := 0
	turnkey.SetAfterRename(func() {
		renames++
		if renames == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	})
	p, err := turnkey.New(context.Background(), crashConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < crashMessages; i++ {
		if err := p.Upload(context.Background(), sale(i)); !posagent.IsKind(err, posagent.KindNotFound) {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
}

// TestSIGKILLBetweenRenameAndRecord: the provider is killed, again and
// again, between renaming a file into SRC and recording that it did; after
// each restart it carries on, and in the end every message is in SRC exactly
// once (Turnkey would upload a second copy).
func TestSIGKILLBetweenRenameAndRecord(t *testing.T) {
	dir := t.TempDir()
	for _, at := range []int{1, 2, 1, 3, 1} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "TURNKEY_CRASH_DIR="+dir, "TURNKEY_CRASH_AT="+strconv.Itoa(at))
		out, err := cmd.CombinedOutput()
		ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if err == nil || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("child (kill at rename %d) was not killed: %v\n%s", at, err, out)
		}
		turnkeyTakes(t, dir)
	}
	// The last run, uninterrupted.
	p, err := turnkey.New(context.Background(), crashConfig(dir))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < crashMessages; i++ {
		if err := p.Upload(context.Background(), sale(i)); !posagent.IsKind(err, posagent.KindNotFound) {
			t.Fatalf("upload %d: %v", i, err)
		}
	}
	turnkeyTakes(t, dir)
	var entries []string
	filepath.WalkDir(filepath.Join(crashConfig(dir).B2SRoot, "F0401"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			entries = append(entries, d.Name())
		}
		return err
	})
	per := map[string]int{}
	for _, name := range entries {
		parts := strings.Split(name, "_")
		per[parts[1]]++
	}
	for i := 0; i < crashMessages; i++ {
		if n := per[string(sale(i).Number)]; n != 1 {
			t.Errorf("%s: %d files in SRC, want exactly 1", sale(i).Number, n)
		}
	}
	if len(entries) != crashMessages {
		t.Errorf("%d files dropped, want %d", len(entries), crashMessages)
	}
	if tmp, _ := os.ReadDir(crashConfig(dir).TempDir); len(tmp) != 0 {
		t.Errorf("temp files left: %v", tmp)
	}
}

// turnkeyTakes moves every file in F0401/SRC to BAK/yyyyMMdd/HH, as Turnkey
// does between the crash and the restart.
func turnkeyTakes(t *testing.T, dir string) {
	t.Helper()
	base := filepath.Join(crashConfig(dir).B2SRoot, "F0401")
	bak := filepath.Join(base, "BAK", "20251103", "08")
	if err := os.MkdirAll(bak, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(base, "SRC"))
	for _, e := range entries {
		target := filepath.Join(bak, e.Name())
		if _, err := os.Stat(target); err == nil {
			target += ".dup" // Turnkey's suffix on a collision: counted as a second file
		}
		if err := os.Rename(filepath.Join(base, "SRC", e.Name()), target); err != nil {
			t.Fatal(err)
		}
	}
}

// TestJournalKeepsAcceptedMessagesForAWhile: records of accepted messages
// stay a year and more (voids and allowances look there first), then go.
func TestJournalKeepsAcceptedMessagesForAWhile(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, posagent.Taipei)
	cfg := crashConfig(dir)
	cfg.Now = func() time.Time { return now }
	p, err := turnkey.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"F0401_AB11223300", "F0401_AB11223301"} {
		if err := p.MarkAccepted(key); err != nil {
			t.Fatal(err)
		}
	}
	journal := filepath.Join(cfg.StateDir, "journal")
	for _, tc := range []struct {
		after time.Duration
		files int
	}{{300 * 24 * time.Hour, 2}, {401 * 24 * time.Hour, 0}} {
		now = time.Date(2025, 1, 1, 0, 0, 0, 0, posagent.Taipei).Add(tc.after)
		if _, err := turnkey.New(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		if entries, _ := os.ReadDir(journal); len(entries) != tc.files {
			t.Fatalf("after %s: %d records, want %d", tc.after, len(entries), tc.files)
		}
	}
}

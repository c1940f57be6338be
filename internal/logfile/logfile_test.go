package logfile_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/internal/logfile"
)

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

func TestRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	path := filepath.Join(dir, "posagent.log")
	l, err := logfile.Open(path, 1024, 2)
	require.NoError(t, err)
	line := strings.Repeat("x", 99) + "\n" // 100 bytes
	for i := range 25 {
		_, err := fmt.Fprintf(l, "%02d%s", i, line[2:])
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())

	// 10 lines per file: 0–9 rotated twice (to .2), 10–19 to .1, 20–24 current.
	cur, one, two := read(t, path), read(t, path+".1"), read(t, path+".2")
	require.Equal(t, 500, len(cur))
	require.True(t, strings.HasPrefix(cur, "20"), cur[:10])
	require.True(t, strings.HasPrefix(one, "10"))
	require.Equal(t, 1000, len(one))
	require.True(t, strings.HasPrefix(two, "00"))
	_, err = os.Stat(path + ".3")
	require.ErrorIs(t, err, os.ErrNotExist, "keep=2 keeps two old files")

	// More writes push the oldest out.
	l, err = logfile.Open(path, 1024, 2)
	require.NoError(t, err)
	for i := range 10 {
		_, err := fmt.Fprintf(l, "%02d%s", 30+i, line[2:])
		require.NoError(t, err)
	}
	require.NoError(t, l.Close())
	require.True(t, strings.HasPrefix(read(t, path+".2"), "10"))
	require.True(t, strings.HasPrefix(read(t, path+".1"), "20"))
	require.True(t, strings.HasPrefix(read(t, path), "35"))

	_, err = l.Write([]byte("late"))
	require.ErrorContains(t, err, "closed")
}

// A record bigger than the limit goes whole into a file of its own.
func TestRecordNeverSplit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.log")
	l, err := logfile.Open(path, 1024, 1)
	require.NoError(t, err)
	defer l.Close()
	_, err = l.Write([]byte("first\n"))
	require.NoError(t, err)
	big := strings.Repeat("y", 3000) + "\n"
	_, err = l.Write([]byte(big))
	require.NoError(t, err)
	require.Equal(t, big, read(t, path))
	require.Equal(t, "first\n", read(t, path+".1"))
}

func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.log")
	l, err := logfile.Open(path, 4096, 3)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				_, err := fmt.Fprintf(l, "g%d line %03d %s\n", g, i, strings.Repeat("z", 40))
				require.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	require.NoError(t, l.Close())
	// Every line is whole in some file.
	var all string
	for _, p := range []string{path, path + ".1", path + ".2", path + ".3"} {
		if b, err := os.ReadFile(p); err == nil {
			all += string(b)
		}
	}
	for _, ln := range strings.Split(strings.TrimSpace(all), "\n") {
		require.Len(t, ln, len("g0 line 000 ")+40, ln)
	}
}

func TestOpenFailure(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := logfile.Open(filepath.Join(file, "posagent.log"), 1024, 1)
	require.ErrorContains(t, err, "log file")
}

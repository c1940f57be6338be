//go:build !windows

package private_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/internal/private"
)

func TestExposedByMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(path, []byte("token"), 0o600))
	require.NoError(t, os.Chmod(path, 0o644))
	why, err := private.Exposed(path)
	require.NoError(t, err)
	require.Contains(t, why, "-rw-r--r--")

	require.NoError(t, private.Restrict(path))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// A folder MkdirAll creates is 0700; one that existed (/etc) is left
	// alone.
	parent := filepath.Join(t.TempDir(), "etc")
	require.NoError(t, os.Mkdir(parent, 0o755))
	dir := filepath.Join(parent, "posagent")
	require.NoError(t, private.MkdirAll(dir))
	require.NoError(t, private.MkdirAll(parent))
	for p, want := range map[string]os.FileMode{dir: 0o700, parent: 0o755} {
		fi, err := os.Stat(p)
		require.NoError(t, err)
		require.Equal(t, want, fi.Mode().Perm(), p)
	}
}

package private_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/internal/private"
)

func TestMkdirAllAndRestrict(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "programdata", "posagent")
	require.NoError(t, private.MkdirAll(dir))
	requirePrivate(t, dir)

	// A file created inside the private folder is private too: on Windows by
	// inheritance, on Unix because the store and config create theirs 0600.
	path := filepath.Join(dir, "posagent.toml")
	require.NoError(t, os.WriteFile(path, []byte("token"), 0o600))
	requirePrivate(t, path)

	require.Error(t, private.MkdirAll(path), "a file is no folder")
}

// requirePrivate reads path's access back; Wine keeps no access-control
// lists, so there only the calls' success is tested (README: what was not run).
func requirePrivate(t *testing.T, path string) {
	t.Helper()
	if private.Wine() {
		t.Logf("Wine keeps no access-control lists: not reading back %s", path)
		return
	}
	why, err := private.Exposed(path)
	require.NoError(t, err)
	require.Empty(t, why)
}

func TestExposedAndRestrictFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(path, []byte("token"), 0o600))
	require.NoError(t, private.Restrict(path))
	requirePrivate(t, path)
	// Restrict is idempotent.
	require.NoError(t, private.Restrict(path))
	require.NoError(t, private.RestrictToSystem(path))
}

func TestMissing(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope")
	_, err := private.Exposed(missing)
	require.Error(t, err)
	require.Error(t, private.Restrict(missing))
}

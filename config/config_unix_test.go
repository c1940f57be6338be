//go:build !windows

package config_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/config"
)

func TestLoadWarnsAboutReadableFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "posagent.toml")
	require.NoError(t, os.WriteFile(path, []byte(valid), 0o644))
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	_, err := config.Load(path, log)
	require.NoError(t, err)
	require.Contains(t, logs.String(), "others may read it")
	require.Contains(t, logs.String(), "chmod 600")

	logs.Reset()
	require.NoError(t, os.Chmod(path, 0o600))
	_, err = config.Load(path, log)
	require.NoError(t, err)
	require.Empty(t, logs.String())

	_, err = config.Load(filepath.Join(dir, "missing.toml"), log)
	require.ErrorContains(t, err, "read config")
}

package config_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"

	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/internal/private"
)

// The Windows form of the 0600 warning: a config whose access-control list
// lets Users read it is reported, naming them; a restricted one is not.
func TestLoadWarnsAboutReadableFile(t *testing.T) {
	if private.Wine() {
		t.Skip("Wine keeps no access-control lists (README: what was not run)")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "posagent.toml")
	require.NoError(t, os.WriteFile(path, []byte(valid), 0o600))
	sd, err := windows.SecurityDescriptorFromString("D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;BU)")
	require.NoError(t, err)
	dacl, _, err := sd.DACL()
	require.NoError(t, err)
	require.NoError(t, windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil))
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	_, err = config.Load(path, log)
	require.NoError(t, err)
	require.Contains(t, logs.String(), "others may read it")
	require.Contains(t, logs.String(), "icacls")

	logs.Reset()
	require.NoError(t, private.Restrict(path))
	_, err = config.Load(path, log)
	require.NoError(t, err)
	require.Empty(t, logs.String())
}

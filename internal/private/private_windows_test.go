package private

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

func TestPrivateSDDL(t *testing.T) {
	require.Equal(t, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", privateSDDL("S-1-5-18"))
	require.Equal(t, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;S-1-5-21-1-2-3-1001)", privateSDDL("S-1-5-21-1-2-3-1001"))
}

// A file everyone may read (an explicit entry for Users, as %ProgramData%
// hands down) is reported, naming the group; Restrict takes it away.
func TestExposedToUsers(t *testing.T) {
	if Wine() {
		t.Skip("Wine keeps no access-control lists (README: what was not run)")
	}
	path := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(path, []byte("token"), 0o600))
	sd, err := windows.SecurityDescriptorFromString("D:P(A;;FA;;;SY)(A;;FR;;;BU)")
	require.NoError(t, err)
	dacl, _, err := sd.DACL()
	require.NoError(t, err)
	require.NoError(t, windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, nil, nil, dacl, nil))

	why, err := Exposed(path)
	require.NoError(t, err)
	require.True(t, strings.Contains(why, "Users") || strings.Contains(why, "S-1-5-32-545"), why)

	require.NoError(t, Restrict(path))
	why, err = Exposed(path)
	require.NoError(t, err)
	require.Empty(t, why)
}

func TestWineDetected(t *testing.T) {
	// cross-test.sh runs this binary under Wine only; on real Windows the
	// variable is unset.
	if os.Getenv("WINEPREFIX") != "" {
		require.True(t, Wine())
	}
}

package winsvc

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// What install asks the service manager for, checked on any OS.
func TestNewSpec(t *testing.T) {
	s := NewSpec(`C:\Program Files\posagent\posagent.exe`, `C:\ProgramData\posagent\posagent.toml`)
	require.NoError(t, s.Validate())
	require.Equal(t, "posagent", s.Name)
	require.Equal(t, []string{"service", "run", "--config", `C:\ProgramData\posagent\posagent.toml`}, s.Args)
	require.Equal(t, []time.Duration{5 * time.Second, 30 * time.Second, 60 * time.Second}, s.Restart)
	require.Equal(t, 24*time.Hour, s.ResetAfter)
	require.NotEmpty(t, s.DisplayName)
	require.NotEmpty(t, s.Description)
}

func TestSpecValidate(t *testing.T) {
	good := NewSpec(`C:\posagent\posagent.exe`, `D:/data/posagent.toml`)
	require.NoError(t, good.Validate())
	for _, tc := range []struct {
		edit func(*Spec)
		want string
	}{
		{func(s *Spec) { s.Name = "" }, "service name"},
		{func(s *Spec) { s.Name = "pos agent" }, "service name"},
		{func(s *Spec) { s.Exe = "posagent.exe" }, "absolute path"},
		{func(s *Spec) { s.Exe = `\posagent.exe` }, "service executable"},
		{func(s *Spec) { s.Args = []string{"run", "--config", "posagent.toml"} }, "service config path"},
		{func(s *Spec) { s.Args = []string{"run", "--config"} }, "service config path"},
	} {
		s := good
		tc.edit(&s)
		require.ErrorContains(t, s.Validate(), tc.want)
	}
}

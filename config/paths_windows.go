package config

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// ProgramDataDir is %ProgramData%\posagent, the service's folder. The known
// folder is asked first: a service's environment is not the installer's
// (under Wine it even names another folder).
func ProgramDataDir() string {
	base, err := windows.KnownFolderPath(windows.FOLDERID_ProgramData, 0)
	if err != nil || base == "" {
		base = os.Getenv("ProgramData")
	}
	if base == "" {
		base = `C:\ProgramData` // its place since Windows Vista
	}
	return filepath.Join(base, "posagent")
}

func systemConfigPath() string { return filepath.Join(ProgramDataDir(), "posagent.toml") }

func defaultStorePath() string { return filepath.Join(ProgramDataDir(), "posagent.db") }

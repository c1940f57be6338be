package config

import (
	"os"
	"path/filepath"
)

// ProgramDataDir is %ProgramData%\posagent, the service's folder.
func ProgramDataDir() string {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData` // its place since Windows Vista
	}
	return filepath.Join(base, "posagent")
}

func systemConfigPath() string { return filepath.Join(ProgramDataDir(), "posagent.toml") }

func defaultStorePath() string { return filepath.Join(ProgramDataDir(), "posagent.db") }

package bridgetest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// ExecPackage is the import path of the reference exec program.
const ExecPackage = "github.com/posagent/posagent/providers/bridge/bridgetest/bridgeexec"

// Build compiles the reference exec program into dir and returns its
// absolute path. It needs the go command (tests have it), except when
// POSAGENT_BRIDGEEXEC names a build of it made beforehand: test binaries run
// under Wine have no go command (scripts/cross-test.sh builds it for them).
func Build(dir string) (string, error) {
	if prebuilt := os.Getenv("POSAGENT_BRIDGEEXEC"); prebuilt != "" {
		return filepath.Abs(prebuilt)
	}
	name := "bridgeexec"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	out, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	cmd := exec.Command(gobin, "build", "-o", out, ExecPackage)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %v\n%s", ExecPackage, err, msg)
	}
	return out, nil
}

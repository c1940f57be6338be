//go:build !windows

package private

import (
	"fmt"
	"os"
)

func restrict(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	mode := os.FileMode(0o600)
	if fi.IsDir() {
		mode = 0o700
	}
	if fi.Mode().Perm() == mode {
		return nil
	}
	return os.Chmod(path, mode)
}

func exposed(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if fi.Mode().Perm()&0o077 == 0 {
		return "", nil
	}
	return fmt.Sprintf("mode %s: group or others may read it", fi.Mode().Perm()), nil
}

const hint = "chmod 600 it"

func wine() bool { return false }

func restrictToSystem(path string) error { return restrict(path) }

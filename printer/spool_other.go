//go:build !windows

package printer

import "errors"

// noSpooler stands where Windows has its print spooler.
type noSpooler struct{}

func systemSpooler() spooler { return noSpooler{} }

func (noSpooler) Open(string) (spoolHandle, error) {
	return nil, errors.New("winspool: printers exist only on Windows")
}

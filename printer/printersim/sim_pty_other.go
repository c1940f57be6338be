//go:build !linux

package printersim

import (
	"errors"
	"os"
)

func openPTY() (master, slave *os.File, err error) {
	return nil, nil, errors.New("the printer simulator needs Linux pseudo-terminals")
}

//go:build linux

package printersim

import (
	"fmt"
	"os"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair with the slave in raw mode and the
// master pollable.
func openPTY() (master, slave *os.File, err error) {
	ptmx, slave, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("open pseudo-terminal: %w", err)
	}
	// Raw mode before anyone opens the slave: with the default ECHO the
	// line discipline would send our own replies back to us.
	if err := makeRaw(int(slave.Fd())); err != nil {
		ptmx.Close()
		slave.Close()
		return nil, nil, fmt.Errorf("raw mode: %w", err)
	}
	master, err = pollable(ptmx)
	if err != nil {
		slave.Close()
		return nil, nil, fmt.Errorf("pseudo-terminal: %w", err)
	}
	return master, slave, nil
}

// pollable reopens the master as a non-blocking descriptor, so Go's poller
// runs its reads and Close wakes a blocked reader (Unplug relies on that).
func pollable(f *os.File) (*os.File, error) {
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "/dev/ptmx"), nil
}

func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.IXOFF
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

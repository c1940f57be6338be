//go:build !windows

package main

import (
	"os"
	"syscall"
)

// simFaultSignals toggle the simulator's paper (first) and cover (second).
var simFaultSignals = []os.Signal{syscall.SIGUSR1, syscall.SIGUSR2}

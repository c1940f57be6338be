//go:build !windows

package main

import "github.com/posagent/posagent/internal/winsvc"

// serviceRun: only Windows has a service manager to start posagent.
func serviceRun(string, string) error { return winsvc.ErrNotWindows }

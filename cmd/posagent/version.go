package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set by the Makefile's -ldflags from git describe.
var version = "dev"

func runVersion(_ context.Context, std stdio, args []string) error {
	if len(args) != 0 {
		return usagef("version takes no arguments")
	}
	v := version
	if v == "dev" {
		if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
	}
	fmt.Fprintf(std.out, "posagent %s (%s/%s)\n", v, runtime.GOOS, runtime.GOARCH)
	return nil
}

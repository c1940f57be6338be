//go:build !windows

package winsvc

import (
	"context"
	"log/slog"
	"time"
)

func Install(Spec) error                    { return ErrNotWindows }
func Uninstall(string, time.Duration) error { return ErrNotWindows }
func Start(string, time.Duration) error     { return ErrNotWindows }
func Stop(string, time.Duration) error      { return ErrNotWindows }
func Query(string) (Status, error)          { return Status{}, ErrNotWindows }

func Run(string, func(context.Context) error, *slog.Logger) error { return ErrNotWindows }

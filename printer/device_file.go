package printer

import (
	"context"
	"fmt"
	"os"
	"time"
)

// fileDevice writes jobs to a file: a plain file (appended, for tests and dry
// runs) or a line-printer node such as /dev/usb/lp0. It cannot read status:
// the usblp driver's two-way mode depends on the printer, so the agent treats
// a written job as printed but unconfirmed.
type fileDevice struct {
	cfg  DeviceConfig
	path string
	node bool // a device node: no create, no append, no fsync
	lock deviceLock
}

func newFileDevice(cfg DeviceConfig, path string, node bool) (Device, error) {
	if path == "" {
		return nil, fmt.Errorf("printer address: %q names no file", cfg.Address)
	}
	return &fileDevice{cfg: cfg, path: path, node: node, lock: newDeviceLock()}, nil
}

func (d *fileDevice) Print(ctx context.Context, job []byte) Outcome {
	start := time.Now()
	out := Outcome{Total: len(job)}
	if _, _, err := prepareJob(job); err != nil {
		out.Reason, out.Err = ReasonBadJob, err
		out.Elapsed = time.Since(start)
		return out
	}
	if err := d.lock.lock(ctx); err != nil {
		out.Reason, out.Err = ReasonCanceled, err
		out.Elapsed = time.Since(start)
		return out
	}
	defer d.lock.unlock()
	flags := os.O_WRONLY | os.O_APPEND | os.O_CREATE
	if d.node {
		flags = os.O_WRONLY
	}
	f, err := os.OpenFile(d.path, flags, 0o644)
	if err != nil {
		out.Reason, out.Err = ReasonDeviceGone, fmt.Errorf("%w: %w", ErrDeviceGone, err)
		out.Elapsed = time.Since(start)
		return out
	}
	n, err := f.Write(job)
	out.Sent = n
	if err == nil && !d.node {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	out.MayHaveReachedPaper = n > 0
	if err != nil {
		out.Reason, out.Err = ReasonDeviceGone, fmt.Errorf("%w: write %s: %w", ErrDeviceGone, d.path, err)
	} else {
		out.Printed = true
	}
	out.Elapsed = time.Since(start)
	return out
}

func (d *fileDevice) Status(context.Context) (Status, error) {
	return Status{}, fmt.Errorf("%s: %w", d.path, ErrStatusUnsupported)
}

func (d *fileDevice) Close() error { return nil }

package main

import (
	"bufio"
	"bytes"
	"context"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func runPrinterCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code = run(ctx, args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

// startSimCLI runs `posagent printer-sim` in-process, as a user would in a
// second terminal, and returns the device path it prints.
func startSimCLI(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		code := run(ctx, []string{"printer-sim", "--dir", dir, "--baud", "115200"}, stdio{in: strings.NewReader(""), out: pw, err: io.Discard})
		pw.Close()
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		go io.Copy(io.Discard, pr)
		select {
		case code := <-done:
			require.Equal(t, 0, code, "printer-sim exits cleanly on Ctrl-C")
		case <-time.After(5 * time.Second):
			t.Error("printer-sim did not stop")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	path := strings.TrimSpace(line)
	require.True(t, strings.HasPrefix(path, "/dev/pts/"), path)
	return path
}

func TestPrinterSimEndToEnd(t *testing.T) {
	dir := t.TempDir()
	dev := startSimCLI(t, dir)
	proof := filepath.Join("..", "..", "testdata", "receipts", "mof-example.58mm.bin")
	deviceFlags := []string{"--device", dev, "--baud", "115200", "--timeout", "3s", "--status-timeout", "300ms"}

	code, stdout, stderr := runPrinterCLI(t, append([]string{"printer", "status"}, deviceFlags...)...)
	require.Equal(t, 0, code, stderr)
	require.Equal(t, "ready\n", stdout)

	code, stdout, stderr = runPrinterCLI(t, append([]string{"printer", "print", proof}, deviceFlags...)...)
	require.Equal(t, 0, code, stderr)
	require.True(t, strings.HasPrefix(stdout, "printed;"), stdout)

	// The rendered proof is on "paper": its PNG, drawn by the emulator just
	// after the simulator answered the job's GS r.
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(dir, "0001.png"))
		return err == nil
	}, 5*time.Second, 5*time.Millisecond)
	f, err := os.Open(filepath.Join(dir, "0001.png"))
	require.NoError(t, err)
	img, err := png.Decode(f)
	f.Close()
	require.NoError(t, err)
	require.Equal(t, 384, img.Bounds().Dx())
	require.Greater(t, img.Bounds().Dy(), 300)
	want, err := os.ReadFile(proof)
	require.NoError(t, err)
	got, err := os.ReadFile(filepath.Join(dir, "0001.bin"))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(got, want), "the job arrived intact")

	code, stdout, stderr = runPrinterCLI(t, "printer-sim", "ctl", "--dir", dir, "paper-out", "on")
	require.Equal(t, 0, code, stderr)
	require.True(t, strings.HasPrefix(stdout, "paper out;"), stdout)

	code, stdout, _ = runPrinterCLI(t, append([]string{"printer", "status"}, deviceFlags...)...)
	require.Equal(t, 1, code)
	require.Equal(t, "paper out\n", stdout)

	code, stdout, _ = runPrinterCLI(t, append([]string{"printer", "print", proof}, deviceFlags...)...)
	require.Equal(t, 1, code)
	require.Contains(t, stdout, "not printed: paper out (nothing reached the printer)")

	code, _, stderr = runPrinterCLI(t, "printer-sim", "ctl", "--dir", dir, "cover", "ajar")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `cover wants open or closed, not "ajar"`)
	code, stdout, _ = runPrinterCLI(t, "printer-sim", "ctl", "--dir", dir, "paper-out", "off")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(stdout, "ready;"), stdout)
}

func TestPrinterPrintToFileAndStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out.bin")
	job := "\x1b@HELLO\n\x1dVB\x00"
	var so, se bytes.Buffer
	code := run(context.Background(), []string{"printer", "print", "--device", "file:" + out, "-"},
		stdio{in: strings.NewReader(job), out: &so, err: &se})
	require.Equal(t, 0, code, se.String())
	require.Contains(t, so.String(), "printed (written; this device cannot confirm)")
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, job, string(got))

	code, _, stderr := runPrinterCLI(t, "printer", "status", "--device", "file:"+out)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "cannot report status")
}

func TestPrinterUsageErrors(t *testing.T) {
	t.Setenv("POSAGENT_PRINTER", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"printer"}, "want status or print"},
		{[]string{"printer", "eject"}, `unknown printer command "eject"`},
		{[]string{"printer", "status"}, "--device is required"},
		{[]string{"printer", "print", "--device", "/dev/null"}, "want one job file"},
		{[]string{"printer", "status", "--device", "/dev/ttyUSB0", "--parity", "maybe"}, `parity: "maybe"`},
		{[]string{"printer", "status", "--device", "/dev/ttyUSB0", "--baud", "7"}, "baud: 7"},
		{[]string{"printer", "status", "--device", "ftp://x"}, "unknown scheme"},
		{[]string{"printer", "status", "--device", "/dev/ttyUSB0", "--profile", "nope"}, `profile "nope"`},
	} {
		code, _, stderr := runPrinterCLI(t, tc.args...)
		require.Equal(t, 2, code, "%v: %s", tc.args, stderr)
		require.Contains(t, stderr, tc.want, "%v", tc.args)
	}
}

func TestPrinterStatusWhenDeviceIsMissing(t *testing.T) {
	code, stdout, stderr := runPrinterCLI(t, "printer", "status", "--device", filepath.Join(t.TempDir(), "ttyUSB0"))
	require.Equal(t, 1, code)
	require.Equal(t, "device gone\n", stdout)
	require.Contains(t, stderr, "no such file")
}

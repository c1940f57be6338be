package main

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runPreviewCLI(t *testing.T, stdin []byte, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, stdio{in: bytes.NewReader(stdin), out: &out, err: &errb})
	return code, out.String(), errb.String()
}

func TestPreviewWritesTheReceiptPicture(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "r.bin")
	require.NoError(t, os.WriteFile(in, []byte("\x1b@\x1ba\x01HELLO\n\x1dVB\x00"), 0o644))
	for _, tc := range []struct {
		args  []string
		width int
	}{
		{nil, 384},
		{[]string{"--profile", "58mm-page"}, 384},
		{[]string{"--profile", "80mm"}, 576},
		{[]string{"--width", "416"}, 416},
	} {
		outPNG := filepath.Join(dir, "r.png")
		code, stdout, stderr := runPreviewCLI(t, nil, append([]string{"preview", in, "-o", outPNG}, tc.args...)...)
		require.Equal(t, 0, code, stderr)
		require.Empty(t, stdout)
		require.Empty(t, stderr)
		f, err := os.Open(outPNG)
		require.NoError(t, err)
		img, err := png.Decode(f)
		f.Close()
		require.NoError(t, err)
		require.Equal(t, tc.width, img.Bounds().Dx(), "%v", tc.args)
		require.Equal(t, 30+9, img.Bounds().Dy())
	}
}

func TestPreviewReadsStdinAndWritesStdout(t *testing.T) {
	code, stdout, stderr := runPreviewCLI(t, []byte("AB\n"), "preview", "-", "-o", "-")
	require.Equal(t, 0, code, stderr)
	img, err := png.Decode(strings.NewReader(stdout))
	require.NoError(t, err)
	require.Equal(t, 384, img.Bounds().Dx())
}

func TestPreviewProblemsAreWarningsUnlessStrict(t *testing.T) {
	dir := t.TempDir()
	outPNG := filepath.Join(dir, "r.png")
	stream := []byte("AB\x1b\x01\n\x1dv0\x00\xff\xff\xff\xff")
	code, _, stderr := runPreviewCLI(t, stream, "preview", "-", "-o", outPNG)
	require.Equal(t, 0, code)
	require.Equal(t, "posagent preview: stdin: offset 2 (0x0002): unknown command ESC 0x01\n"+
		"posagent preview: stdin: offset 5 (0x0005): GS v 0: 65535×65535 bytes of raster need 4294836225 data bytes, the stream has 0 left\n", stderr)
	require.FileExists(t, outPNG)

	require.NoError(t, os.Remove(outPNG))
	code, _, stderr = runPreviewCLI(t, stream, "preview", "--strict", "-", "-o", outPNG)
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "2 problems (--strict)")
	require.FileExists(t, outPNG, "the picture is written even so, to look at")

	code, _, stderr = runPreviewCLI(t, []byte("A\n"), "preview", "--strict", "-", "-o", outPNG)
	require.Equal(t, 0, code, stderr)
}

func TestPreviewErrors(t *testing.T) {
	dir := t.TempDir()
	outPNG := filepath.Join(dir, "r.png")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no input", []string{"preview", "-o", outPNG}, 2, "want one input file"},
		{"no output", []string{"preview", "-"}, 2, "-o OUT.png is required"},
		{"unknown profile", []string{"preview", "-", "-o", outPNG, "--profile", "99mm"}, 2, `--profile: printer profile "99mm" does not exist; choose one of 58mm, 58mm-page, 80mm`},
		{"profile and width", []string{"preview", "-", "-o", outPNG, "--profile", "80mm", "--width", "576"}, 2, "exclude each other"},
		{"bad width", []string{"preview", "-", "-o", outPNG, "--width", "5000"}, 2, "--width 5000: must be 8 to 1024 dots"},
		{"missing file", []string{"preview", filepath.Join(dir, "nope.bin"), "-o", outPNG}, 1, "no such file"},
		{"unwritable output", []string{"preview", "-", "-o", filepath.Join(dir, "no", "dir", "r.png")}, 1, "write "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runPreviewCLI(t, []byte("A\n"), tc.args...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, tc.stderr)
			require.NoFileExists(t, outPNG)
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "no temporary file is left behind")
}

// The README's one-liner: posagent receipt … | posagent preview - -o r.png.
func TestReceiptPipesIntoPreview(t *testing.T) {
	for _, tc := range []struct {
		profile string
		width   int
	}{{"58mm", 384}, {"58mm-page", 384}, {"80mm", 576}} {
		code, job, stderr := runPreviewCLI(t, nil, "receipt", "--profile", tc.profile, "--key", "F1A618ED8685B1A3B81E6CB6884617F4", "../../testdata/invoices/consumer.json")
		require.Equal(t, 0, code, stderr)
		code, out, stderr := runPreviewCLI(t, []byte(job), "preview", "--strict", "--profile", tc.profile, "-", "-o", "-")
		require.Equal(t, 0, code, "the layout's stream has no problems: %s", stderr)
		img, err := png.Decode(strings.NewReader(out))
		require.NoError(t, err)
		require.Equal(t, tc.width, img.Bounds().Dx())
		require.Greater(t, img.Bounds().Dy(), 500, "a whole proof")
	}
}

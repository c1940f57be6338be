package main

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const ptDir = "../../printer/testdata/pt"

func ptGolden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ptDir, name))
	require.NoError(t, err)
	return string(b)
}

func TestPTReceiptMatchesGolden(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		golden string
	}{
		{[]string{"pt-receipt", ptDir + "/fr-consumer.json"}, "fr-consumer.pt-58mm.bin"},
		{[]string{"pt-receipt", ptDir + "/nc-credit.json", "--profile", "pt-80mm-native"}, "nc-credit.pt-80mm-native.bin"},
		{[]string{"pt-receipt", "--profile", "pt-58mm-native", "-"}, "fs-buyer.pt-58mm-native.bin"},
		{[]string{"pt-receipt", "--pending", "--sale", "POS1-000124", "--total", "12.3", "--at", "2026-12-04T14:05:09Z"}, "pending.pt-58mm.bin"},
		{[]string{"pt-receipt", "--pending", "--profile", "pt-80mm", "--sale", "POS1-000124", "--total", "12.30", "--at", "2026-12-04T14:05:09+00:00"}, "pending.pt-80mm.bin"},
	} {
		stdin := ""
		if tc.args[len(tc.args)-1] == "-" {
			stdin = ptGolden(t, "fs-buyer.json")
		}
		code, out, errOut := runCLI(t, stdin, tc.args...)
		require.Equal(t, 0, code, errOut)
		require.Equal(t, ptGolden(t, tc.golden), out, "%v", tc.args)
	}
}

// --copy marks a reprint: the same document with 2ª via instead of Original.
func TestPTReceiptCopy(t *testing.T) {
	_, original, _ := runCLI(t, "", "pt-receipt", ptDir+"/fr-consumer.json")
	code, copied, errOut := runCLI(t, "", "pt-receipt", "--copy", ptDir+"/fr-consumer.json")
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, original, "2\xa6 via") // PC860: ª is A6
	require.Contains(t, copied, "2\xa6 via")
	require.Equal(t, strings.Replace(original, "Original", "2\xa6 via", 1)[:200], copied[:200])
}

// --preview draws the paper: a PNG of the profile's width, and no job on
// standard output unless -o asks for it.
func TestPTReceiptPreview(t *testing.T) {
	dir := t.TempDir()
	pngPath, binPath := filepath.Join(dir, "r.png"), filepath.Join(dir, "r.bin")
	code, out, errOut := runCLI(t, "", "pt-receipt", "--profile", "pt-80mm", ptDir+"/ft-exempt.json", "--preview", pngPath)
	require.Equal(t, 0, code, errOut)
	require.Empty(t, out)
	require.Empty(t, errOut)
	f, err := os.ReadFile(pngPath)
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(f))
	require.NoError(t, err)
	require.Equal(t, 576, img.Bounds().Dx())

	code, _, errOut = runCLI(t, "", "pt-receipt", "--pending", "--sale", "S1", "--total", "1", "--preview", "-", "-o", binPath)
	require.Equal(t, 0, code, errOut)
	job, err := os.ReadFile(binPath)
	require.NoError(t, err)
	require.Contains(t, string(job), "Este documento\nn\x84o serve de\nfatura") // PC860: ã is 84
}

func TestPTReceiptErrors(t *testing.T) {
	dir := t.TempDir()
	draft := strings.Replace(ptGolden(t, "fr-consumer.json"), `"state": "final"`, `"state": "draft"`, 1)
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"unknown profile", "", []string{"pt-receipt", "--profile", "58mm", ptDir + "/fr-consumer.json"}, 2, `Portuguese printer profile "58mm" does not exist; choose one of pt-58mm, pt-58mm-native, pt-80mm, pt-80mm-native`},
		{"no file", "", []string{"pt-receipt"}, 2, "want one document file"},
		{"two files", "", []string{"pt-receipt", "a.json", "b.json"}, 2, "want one document file"},
		{"pending with a file", "", []string{"pt-receipt", "--pending", "a.json"}, 2, "--pending takes"},
		{"missing file", "", []string{"pt-receipt", filepath.Join(dir, "nope.json")}, 1, "no such file"},
		{"not JSON", "{", []string{"pt-receipt", "-"}, 1, "stdin: unexpected EOF"},
		{"unknown field", `{"doc":{},"shop":1}`, []string{"pt-receipt", "-"}, 1, `unknown field "shop"`},
		{"a draft", draft, []string{"pt-receipt", "-"}, 1, `doc.state`},
		{"pending without sale", "", []string{"pt-receipt", "--pending", "--total", "1"}, 1, "sale_id"},
		{"pending bad total", "", []string{"pt-receipt", "--pending", "--sale", "S1", "--total", "1,5"}, 2, "--total"},
		{"pending bad time", "", []string{"pt-receipt", "--pending", "--sale", "S1", "--total", "1", "--at", "yesterday"}, 2, "--at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, tc.args...)
			require.Equal(t, tc.code, code, errOut)
			require.Contains(t, errOut, tc.want)
			require.Empty(t, out)
		})
	}
}

// The README's other way: pt-receipt's job piped into posagent preview with
// a Portuguese profile.
func TestPTReceiptPipesIntoPreview(t *testing.T) {
	code, job, errOut := runCLI(t, "", "pt-receipt", "--profile", "pt-80mm", ptDir+"/fs-buyer.json")
	require.Equal(t, 0, code, errOut)
	code, out, errOut := runCLI(t, job, "preview", "--strict", "--profile", "pt-80mm", "-", "-o", "-")
	require.Equal(t, 0, code, errOut)
	img, err := png.Decode(strings.NewReader(out))
	require.NoError(t, err)
	require.Equal(t, 576, img.Bounds().Dx())
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	testQRKey   = "F1A618ED8685B1A3B81E6CB6884617F4"
	receiptsDir = "../../testdata/receipts"
)

// runCLI is in ecpay_test.go.

func golden(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(receiptsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReceiptMatchesGolden(t *testing.T) {
	t.Setenv(qrKeyEnv, "")
	for _, tc := range []struct {
		args   []string
		golden string
	}{
		{[]string{"receipt", "--key", testQRKey, receiptsDir + "/mof-example.json"}, "mof-example.58mm.bin"},
		{[]string{"receipt", receiptsDir + "/mof-example.json", "--key", testQRKey, "--profile", "58mm-page"}, "mof-example.58mm-page.bin"},
		{[]string{"receipt", "--profile", "80mm", "--key", strings.ToLower(testQRKey), "--details", receiptsDir + "/long-names.json"}, "long-names.80mm.bin"},
		{[]string{"receipt", "--key", testQRKey, "--reprint", receiptsDir + "/reprint.json"}, "reprint.58mm.bin"},
		{[]string{"receipt", "--key", testQRKey, "--details", "--logo", receiptsDir + "/logo.png",
			"--footer", "退貨須憑證明聯正本辦理", "--footer", "謝謝光臨 www.example.com.tw", receiptsDir + "/logo-footer.json"}, "logo-footer.58mm.bin"},
		// No proof, so no key needed.
		{[]string{"receipt", receiptsDir + "/carrier-mobile.json"}, "carrier-mobile.58mm.bin"},
	} {
		code, out, stderr := runCLI(t, "", tc.args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", tc.args, code, stderr)
			continue
		}
		if out != golden(t, tc.golden) {
			t.Errorf("%v: output differs from %s", tc.args, tc.golden)
		}
	}
}

func TestReceiptKeyFromEnvironmentAndStdin(t *testing.T) {
	t.Setenv(qrKeyEnv, testQRKey)
	in := golden(t, "business.json")
	code, out, stderr := runCLI(t, in, "receipt", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if out != golden(t, "business.58mm.bin") {
		t.Error("output differs from business.58mm.bin")
	}
}

func TestReceiptWritesFile(t *testing.T) {
	t.Setenv(qrKeyEnv, "")
	dir := t.TempDir()
	path := filepath.Join(dir, "r.bin")
	code, out, stderr := runCLI(t, "", "receipt", receiptsDir+"/consumer.json", "-o", path, "--key", testQRKey)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if out != "" {
		t.Errorf("wrote %d bytes to stdout with -o", len(out))
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != golden(t, "consumer.58mm.bin") {
		t.Error("file differs from consumer.58mm.bin")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}

func TestReceiptWarnsAboutReplacedCharacters(t *testing.T) {
	code, _, stderr := runCLI(t, "", "receipt", "--key", testQRKey, "--details", receiptsDir+"/long-names.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{"level=WARN", "items[3].name", "汉", "AB11223355"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
}

func TestReceiptFailures(t *testing.T) {
	t.Setenv(qrKeyEnv, "")
	dir := t.TempDir()
	badJSON := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badJSON, []byte(`{"number": "AB12345678", "items": [], "total": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	wrongKey := "0123456789abcdef0123456789abcdeX"
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no key", []string{"receipt", receiptsDir + "/consumer.json"}, 2, qrKeyEnv},
		{"bad key", []string{"receipt", "--key", wrongKey, receiptsDir + "/consumer.json"}, 1, "32 hex characters"},
		{"short key", []string{"receipt", "--key", "F1A6", receiptsDir + "/consumer.json"}, 1, "not 4"},
		{"unknown profile", []string{"receipt", "--profile", "tm-t88", "--key", testQRKey, receiptsDir + "/consumer.json"}, 2, "58mm-page"},
		{"no file", []string{"receipt", "--key", testQRKey}, 2, "one invoice file"},
		{"two files", []string{"receipt", "--key", testQRKey, "a.json", "b.json"}, 2, "one invoice file"},
		{"missing file", []string{"receipt", "--key", testQRKey, filepath.Join(dir, "none.json")}, 1, "no such file"},
		{"invalid invoice", []string{"receipt", "--key", testQRKey, badJSON, "-o", filepath.Join(dir, "out.bin")}, 1, "random_code"},
		{"reprint of a carrier invoice", []string{"receipt", "--reprint", receiptsDir + "/carrier-mobile.json"}, 1, "reprint"},
		{"missing logo", []string{"receipt", "--key", testQRKey, "--logo", filepath.Join(dir, "none.png"), receiptsDir + "/consumer.json"}, 1, "logo"},
		{"logo not a PNG", []string{"receipt", "--key", testQRKey, "--logo", badJSON, receiptsDir + "/consumer.json"}, 1, "logo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, "", tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d: %s", code, tc.code, stderr)
			}
			if out != "" {
				t.Errorf("wrote %d bytes to stdout", len(out))
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr lacks %q: %s", tc.want, stderr)
			}
			if strings.Contains(stderr, wrongKey) || strings.Contains(stderr, testQRKey) {
				t.Errorf("the key is in the message: %s", stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out.bin")); !os.IsNotExist(err) {
		t.Errorf("output file written despite the error: %v", err)
	}
}

func TestReceiptEnvironmentKeyErrorNamesTheSource(t *testing.T) {
	t.Setenv(qrKeyEnv, "nothex")
	code, _, stderr := runCLI(t, "", "receipt", receiptsDir+"/consumer.json")
	if code != 1 || !strings.Contains(stderr, "$"+qrKeyEnv) || strings.Contains(stderr, "nothex") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// --code39 raster draws the bars on the host on a profile that would send
// GS k, for a printer without it; the config's printer.code39 does the same.
func TestReceiptRasterCode39(t *testing.T) {
	t.Setenv("POSAGENT_CONFIG", "")
	inv := filepath.Join("..", "..", "testdata", "invoices", "consumer.json")
	gsk := []byte{0x1d, 'k'}
	code, native, errOut := runOperator(t, "", "receipt", "--key", "F1A618ED8685B1A3B81E6CB6884617F4", "--profile", "58mm-page", inv)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, native, string(gsk), "58mm-page sends GS k")
	code, raster, errOut := runOperator(t, "", "receipt", "--key", "F1A618ED8685B1A3B81E6CB6884617F4", "--profile", "58mm-page", "--code39", "raster", inv)
	require.Equal(t, 0, code, errOut)
	require.NotContains(t, raster, string(gsk), "--code39 raster still sends GS k")

	path := filepath.Join(t.TempDir(), "agent.toml")
	require.NoError(t, os.WriteFile(path, []byte("[printer]\nprofile = \"58mm-page\"\ncode39 = \"raster\"\n"), 0o600))
	t.Setenv("POSAGENT_CONFIG", path)
	code, fromConfig, errOut := runOperator(t, "", "receipt", "--key", "F1A618ED8685B1A3B81E6CB6884617F4", inv)
	require.Equal(t, 0, code, errOut)
	require.Equal(t, raster, fromConfig)

	code, _, errOut = runOperator(t, "", "receipt", "--key", "F1A618ED8685B1A3B81E6CB6884617F4", "--profile", "58mm", "--code39", "native", inv)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "GS w 1")
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The ECPay documentation vector (ecpay.md §3).
const (
	ecpayKey  = "ejCk326UnaZWKisg"
	ecpayIV   = "q9jcZX8Ib9LM8wYk"
	ecpayJSON = `{"Name":"Test","ID":"A123456789"}`
	ecpayData = "uvI4yrErM37XNQkXGAgRgJAgHn2t72jahaMZzYhWL1HmvH4WV18VJDP2i9pTbC+tby5nxVExLLFyAkbjbS2Dvg=="
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, stdio{in: strings.NewReader(stdin), out: &o, err: &e})
	return code, o.String(), e.String()
}

func TestECPayVectorThroughCLI(t *testing.T) {
	code, out, errOut := runCLI(t, ecpayJSON+"\n", "ecpay", "encrypt", "--hash-key", ecpayKey, "--hash-iv", ecpayIV)
	if code != 0 || out != ecpayData+"\n" {
		t.Fatalf("encrypt: code %d, out %q, err %q", code, out, errOut)
	}
	// Pretty-printed JSON is compacted first, so it gives the same Data.
	code, out, _ = runCLI(t, "{\n  \"Name\": \"Test\",\n  \"ID\": \"A123456789\"\n}\n", "ecpay", "encrypt", "--hash-key", ecpayKey, "--hash-iv", ecpayIV)
	if code != 0 || out != ecpayData+"\n" {
		t.Fatalf("encrypt pretty: code %d, out %q", code, out)
	}
	code, out, errOut = runCLI(t, ecpayData, "ecpay", "decrypt", "--hash-key", ecpayKey, "--hash-iv", ecpayIV)
	if code != 0 || out != ecpayJSON+"\n" {
		t.Fatalf("decrypt: code %d, out %q, err %q", code, out, errOut)
	}
	// A whole captured envelope, with the flags after the file name.
	dir := t.TempDir()
	capture := filepath.Join(dir, "answer.json")
	os.WriteFile(capture, []byte(`{"MerchantID":"2000132","RpHeader":{"Timestamp":1},"TransCode":1,"Data":"`+ecpayData+`"}`), 0o600)
	code, out, _ = runCLI(t, "", "ecpay", "decrypt", capture, "--hash-key", ecpayKey, "--hash-iv", ecpayIV)
	if code != 0 || out != ecpayJSON+"\n" {
		t.Fatalf("decrypt envelope: code %d, out %q", code, out)
	}
}

func TestECPayKeysFromEnvironment(t *testing.T) {
	t.Setenv("ECPAY_HASH_KEY", ecpayKey)
	t.Setenv("ECPAY_HASH_IV", ecpayIV)
	code, out, errOut := runCLI(t, ecpayJSON, "ecpay", "encrypt")
	if code != 0 || out != ecpayData+"\n" {
		t.Fatalf("code %d, out %q, err %q", code, out, errOut)
	}
	code, _, errOut = runCLI(t, "", "ecpay", "encrypt", "-h")
	if code != 0 || strings.Contains(errOut, ecpayKey) || strings.Contains(errOut, ecpayIV) || !strings.Contains(errOut, "hash-key") {
		t.Fatalf("help: code %d, %q", code, errOut)
	}
}

func TestECPayCLIErrorsNeverShowKeys(t *testing.T) {
	wrongKey := "0123456789abcdef"
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"no action", "", []string{"ecpay"}, 2},
		{"bad action", "", []string{"ecpay", "sign"}, 2},
		{"no keys", ecpayJSON, []string{"ecpay", "encrypt"}, 2},
		{"short key", ecpayJSON, []string{"ecpay", "encrypt", "--hash-key", "short-key", "--hash-iv", ecpayIV}, 2},
		{"wrong key", ecpayData, []string{"ecpay", "decrypt", "--hash-key", wrongKey, "--hash-iv", ecpayIV}, 1},
		{"not base64", "%%%", []string{"ecpay", "decrypt", "--hash-key", ecpayKey, "--hash-iv", ecpayIV}, 1},
		{"json without Data", `{"a":1}`, []string{"ecpay", "decrypt", "--hash-key", ecpayKey, "--hash-iv", ecpayIV}, 1},
		{"two files", "", []string{"ecpay", "decrypt", "a", "b", "--hash-key", ecpayKey, "--hash-iv", ecpayIV}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("ECPAY_HASH_KEY", "")
			t.Setenv("ECPAY_HASH_IV", "")
			code, out, errOut := runCLI(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("code %d, want %d (err %q)", code, tt.code, errOut)
			}
			for _, s := range []string{ecpayKey, ecpayIV, wrongKey, "short-key"} {
				if strings.Contains(out+errOut, s) {
					t.Fatalf("output shows a key: %q %q", out, errOut)
				}
			}
		})
	}
}

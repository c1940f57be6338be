package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const migGolden = "../../providers/mig/testdata/golden"

func TestMigCommandMatchesGolden(t *testing.T) {
	t.Setenv("POSAGENT_CONFIG", "")
	addr := "臺北市中正區重慶南路一段2號"
	dir := t.TempDir()
	allowance := filepath.Join(dir, "al.json")
	os.WriteFile(allowance, []byte(`{"number":"AL0001","issued_at":"2025-11-04T08:05:09+08:00",
		"items":[{"name":"美式咖啡","quantity":1,"unit_price":65,"amount":65}]}`), 0o600)
	for _, tc := range []struct {
		args   []string
		golden string
	}{
		{[]string{"mig", "F0401", receiptsDir + "/business.json"}, "business.F0401.xml"},
		{[]string{"mig", "f0401", receiptsDir + "/mixed-tax.json", "--seller-address", addr}, "mixed-tax.F0401.xml"},
		{[]string{"mig", "F0501", receiptsDir + "/consumer.json", "--reason", "顧客退貨", "--at", "2025-11-03T09:05:09+08:00"}, "consumer.F0501.xml"},
		{[]string{"mig", "F0701", receiptsDir + "/consumer.json", "--reason", "載具號碼輸入錯誤", "--at", "2025-11-03T10:05:09+08:00"}, "consumer.F0701.xml"},
		{[]string{"mig", "G0401", receiptsDir + "/consumer.json", allowance, "--seller-address", addr}, "consumer.G0401.xml"},
		{[]string{"mig", "G0501", receiptsDir + "/consumer.json", allowance, "--reason", "折讓金額有誤", "--at", "2025-11-04T09:05:09+08:00"}, "consumer.G0501.xml"},
		{[]string{"mig", "E0402", "--ban", "24634102", "--period", "11410", "AB11223500-AB11223549", "AB11223360-AB11223399", "AB11223400-AB11223449"}, "blank.E0402.xml"},
	} {
		code, out, stderr := runCLI(t, "", tc.args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", tc.args, code, stderr)
			continue
		}
		want, err := os.ReadFile(filepath.Join(migGolden, tc.golden))
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("%v: output differs from %s:\n%s", tc.args, tc.golden, out)
		}
	}
}

func TestMigCommandRefusals(t *testing.T) {
	t.Setenv("POSAGENT_CONFIG", "")
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.xml")
	good, err := os.ReadFile(filepath.Join(migGolden, "consumer.F0501.xml"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bad, []byte(strings.Replace(string(good), "<CancelReason>顧客退貨</CancelReason>", "<CancelReason></CancelReason>", 1)), 0o600)
	okFile := filepath.Join(dir, "ok.xml")
	os.WriteFile(okFile, good, 0o600)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"mig", "F0401", receiptsDir + "/consumer.json"}, 1, "seller.address"},
		{[]string{"mig", "F0501", receiptsDir + "/consumer.json"}, 2, "--reason"},
		{[]string{"mig", "C0401", receiptsDir + "/consumer.json"}, 2, "not a message type"},
		{[]string{"mig", "E0402", "--ban", "24634102", "AB11223500-AB11223549"}, 2, "--period"},
		{[]string{"mig", "E0402", "--ban", "24634102", "--period", "11410", "AB11223500-CD11223549"}, 2, "one track"},
		{[]string{"mig", "check", bad}, 1, "CancelReason"},
		{[]string{"mig", "check", okFile}, 0, "F0501 F0501AB1122335020251103: local rules pass"},
	} {
		code, out, stderr := runCLI(t, "", tc.args...)
		if code != tc.code || !strings.Contains(out+stderr, tc.want) {
			t.Errorf("%v: exit %d (want %d), output %q %q, want %q", tc.args, code, tc.code, out, stderr, tc.want)
		}
	}
}

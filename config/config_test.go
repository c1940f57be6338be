package config_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/internal/private"
)

const (
	testQRKey   = "F1A618ED8685B1A3B81E6CB6884617F4"
	testHashKey = "ejCk326UnaZWKisg"
	testHashIV  = "q9jcZX8Ib9LM8wYk"
)

// valid is a minimal complete file; cases below change one line of it.
const valid = `
[terminal]
seller_tax_id = "24634102"
seller_name = "範例商店"
machine_id = "POS01"
[qr]
key = "F1A618ED8685B1A3B81E6CB6884617F4"
[provider]
name = "ecpay"
[provider.ecpay]
merchant_id = "2000132"
hash_key = "ejCk326UnaZWKisg"
hash_iv = "q9jcZX8Ib9LM8wYk"
base_url = "https://einvoice-stage.ecpay.com.tw"
[api]
token = "0123456789abcdef0123"
`

func TestParseValidUsesDefaults(t *testing.T) {
	cfg, err := config.Parse([]byte(valid))
	require.NoError(t, err)
	require.Equal(t, "24634102", cfg.Terminal.SellerTaxID)
	require.Equal(t, config.DefaultAddress, cfg.API.Address)
	require.Equal(t, 24*time.Hour, cfg.Alarms.UploadWarning.Duration)
	require.Equal(t, 40*time.Hour, cfg.Alarms.UploadCritical.Duration)
	require.Equal(t, 9600, cfg.Printer.Baud)
	require.Equal(t, testQRKey, cfg.QR.Key.Reveal())
}

func TestExampleParses(t *testing.T) {
	t.Setenv("POSAGENT_QR_KEY", testQRKey)
	t.Setenv("ECPAY_HASH_KEY", testHashKey)
	t.Setenv("ECPAY_HASH_IV", testHashIV)
	cfg, err := config.Parse([]byte(config.Example("tok-0123456789abcdef")))
	require.NoError(t, err)
	require.Equal(t, testHashKey, cfg.Provider.ECPay.HashKey.Reveal())
	require.Equal(t, "tok-0123456789abcdef", cfg.API.Token.Reveal())
	require.Equal(t, []string{"謝謝光臨"}, cfg.Printer.Footer)
	// The OS's own place, written so that a Windows path's backslashes
	// survive TOML.
	require.Equal(t, config.DefaultStorePath(), cfg.Store.Path)
	require.True(t, filepath.IsAbs(cfg.Store.Path), cfg.Store.Path)
}

func TestParseErrorsNameTheField(t *testing.T) {
	cases := []struct {
		name, old, new, field string
	}{
		{"unknown key", `[api]`, "[api]\nadress = \"x\"", "api.adress"},
		{"unknown section", `[api]`, "[apii]\nx=1\n[api]", "apii"},
		{"bad tax id", `seller_tax_id = "24634102"`, `seller_tax_id = "12345678"`, "terminal.seller_tax_id"},
		{"no seller name", `seller_name = "範例商店"`, `seller_name = " "`, "terminal.seller_name"},
		{"bad machine id", `machine_id = "POS01"`, `machine_id = "POS 01"`, "terminal.machine_id"},
		{"short qr key", `key = "F1A618ED8685B1A3B81E6CB6884617F4"`, `key = "F1A6"`, "qr.key"},
		{"bad provider", `name = "ecpay"`, `name = "wixtar2"`, "provider.name"},
		{"short hash key", `hash_key = "ejCk326UnaZWKisg"`, `hash_key = "abc"`, "provider.ecpay.hash_key"},
		{"short hash iv", `hash_iv = "q9jcZX8Ib9LM8wYk"`, `hash_iv = "abc"`, "provider.ecpay.hash_iv"},
		{"http base url", `https://einvoice-stage`, `http://einvoice-stage`, "provider.ecpay.base_url"},
		{"bad baud", `[api]`, "[printer]\nbaud = 9601\n[api]", "printer.baud"},
		{"bad parity", `[api]`, "[printer]\nparity = \"x\"\n[api]", "printer.parity"},
		{"bad device", `[api]`, "[printer]\ndevice = \"lpt1\"\n[api]", "printer.device"},
		{"bad tcp device", `[api]`, "[printer]\ndevice = \"tcp://:9100\"\n[api]", "printer.device"},
		{"empty file device", `[api]`, "[printer]\ndevice = \"file:\"\n[api]", "printer.device"},
		{"empty winspool device", `[api]`, "[printer]\ndevice = \"winspool: \"\n[api]", "printer.device"},
		{"missing logo", `[api]`, "[printer]\nlogo = \"/nonexistent/logo.png\"\n[api]", "printer.logo"},
		{"remote address", `[api]`, "[api]\naddress = \"0.0.0.0:8765\"", "api.address"},
		{"short token", `token = "0123456789abcdef0123"`, `token = "short"`, "api.token"},
		{"short console password", `[api]`, "[console]\npassword = \"short-pw\"\n[api]", "console.password"},
		{"console password is the token", `[api]`, "[console]\npassword = \"0123456789abcdef0123\"\n[api]", "console.password"},
		{"console session too short", `[api]`, "[console]\nsession_timeout = \"30s\"\n[api]", "console.session_timeout"},
		{"console session too long", `[api]`, "[console]\nsession_timeout = \"48h\"\n[api]", "console.session_timeout"},
		{"bad duration", `[api]`, "[sync]\nbackoff_base = \"soon\"\n[api]", ""},
		{"cap below base", `[api]`, "[sync]\nbackoff_cap = \"1s\"\nbackoff_base = \"5s\"\n[api]", "sync.backoff_cap"},
		{"critical at 48h", `[api]`, "[alarms]\nupload_critical = \"48h\"\n[api]", "alarms.upload_critical"},
		{"critical before warning", `[api]`, "[alarms]\nupload_critical = \"20h\"\n[api]", "alarms.upload_critical"},
		{"reconcile at not a time", `[api]`, "[reconcile]\nat = \"3:30am\"\n[api]", "reconcile.at"},
		{"reconcile at out of range", `[api]`, "[reconcile]\nat = \"24:30\"\n[api]", "reconcile.at"},
		{"close-out days negative", `[api]`, "[reconcile]\nclose_out_days = -1\n[api]", "reconcile.close_out_days"},
		{"zero concurrency", `[api]`, "[sync]\nconcurrency = 0\n[api]", "sync.concurrency"},
		{"lease zero", `[api]`, "[booklets]\nlease = 0\n[api]", "booklets.lease"},
		{"log level", `[api]`, "[log]\nlevel = \"loud\"\n[api]", "log.level"},
		{"printer answer", `[api]`, "[printer]\nanswer = \"later\"\n[api]", "printer.answer"},
		{"negative confirm", `[api]`, "[guard]\nconfirm_above = -1\n[api]", "guard.confirm_above"},
		{"refuse above the largest total", `[api]`, "[guard]\nrefuse_above = 4294967296\n[api]", "guard.refuse_above"},
		{"confirm not below refuse", `[api]`, "[guard]\nconfirm_above = 5000\nrefuse_above = 5000\n[api]", "guard.confirm_above"},
		{"stale after zero", `[api]`, "[orders]\nstale_after = \"0s\"\n[api]", "orders.stale_after"},
		{"wrong type", `[api]`, "[printer]\nbaud = \"fast\"\n[api]", ""},
		{"syntax", `[api]`, "[api", ""},
		// Keys are exact: the decoder would match them in any case, and a second
		// [API] TOKEN would silently replace [api] token.
		{"miscased section", `[api]`, "[API]", "API"},
		{"miscased key", `seller_name = "範例商店"`, `Seller_Name = "範例商店"`, "terminal.Seller_Name"},
		{"miscased nested key", `merchant_id = "2000132"`, `MERCHANT_ID = "2000132"`, "provider.ecpay.MERCHANT_ID"},
		{"same key in two cases", `[api]`, "[API]\nTOKEN = \"fedcba9876543210fedc\"\n[api]", "API"},
		{"duplicate key", `machine_id = "POS01"`, "machine_id = \"POS01\"\nmachine_id = \"POS02\"", ""},
		{"invalid UTF-8", `seller_name = "範例商店"`, "seller_name = \"\xff\"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(valid, tc.old, tc.new, 1)
			require.NotEqual(t, valid, doc, "case does not change the document")
			_, err := config.Parse([]byte(doc))
			require.Error(t, err)
			if tc.field != "" {
				require.True(t, strings.HasPrefix(err.Error(), tc.field+": "), "error %q does not start with %q", err, tc.field)
			}
			for _, secret := range []string{testQRKey, testHashKey, testHashIV, "0123456789abcdef0123", "short-pw"} {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
}

// Every form of printer address the README shows is accepted, on any OS (a
// Windows config can be checked on Linux).
func TestPrinterDevices(t *testing.T) {
	for _, d := range []string{"/dev/ttyUSB0", "serial:/dev/ttyS0", "COM3", "com12", `\\.\COM12`,
		"tcp://192.168.1.50:9100", "lp:/dev/usb/lp0", "winspool:EPSON TM-T82III Receipt", "file:out.bin", "none"} {
		doc := strings.Replace(valid, "[api]", "[printer]\ndevice = '"+d+"'\n[api]", 1)
		cfg, err := config.Parse([]byte(doc))
		require.NoError(t, err, d)
		require.Equal(t, d, cfg.Printer.Device)
	}
}

// The console is on by default, with a two-hour session; a password is optional.
func TestCounterDefaults(t *testing.T) {
	cfg, err := config.Parse([]byte(valid))
	require.NoError(t, err)
	require.Equal(t, config.AnswerAfterPrint, cfg.Printer.Answer)
	require.Equal(t, config.Guard{}, cfg.Guard, "guard rails are off unless configured")
	require.Equal(t, 72*time.Hour, cfg.Orders.StaleAfter.Duration)
	cfg, err = config.Parse([]byte(strings.Replace(valid, "[api]",
		"[guard]\nconfirm_above = 10000\nrefuse_above = 100000\n[printer]\nanswer = \"after_commit\"\n[api]", 1)))
	require.NoError(t, err)
	require.Equal(t, config.Guard{ConfirmAbove: 10000, RefuseAbove: 100000}, cfg.Guard)
	require.Equal(t, config.AnswerAfterCommit, cfg.Printer.Answer)
}

func TestConsoleDefaults(t *testing.T) {
	cfg, err := config.Parse([]byte(valid))
	require.NoError(t, err)
	require.True(t, cfg.Console.Enabled)
	require.True(t, cfg.Console.Password.IsZero())
	require.Equal(t, 2*time.Hour, cfg.Console.SessionTimeout.Duration)
	cfg, err = config.Parse([]byte(strings.Replace(valid, "[api]", "[console]\nenabled = false\npassword = \"long-enough-pw\"\nsession_timeout = \"15m\"\n[api]", 1)))
	require.NoError(t, err)
	require.False(t, cfg.Console.Enabled)
	require.Equal(t, "long-enough-pw", cfg.Console.Password.Reveal())
	require.Equal(t, 15*time.Minute, cfg.Console.SessionTimeout.Duration)
}

func TestBaudMessageListsChoices(t *testing.T) {
	_, err := config.Parse([]byte(strings.Replace(valid, "[api]", "[printer]\nbaud = 1\n[api]", 1)))
	require.EqualError(t, err, "printer.baud: must be one of 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200")
}

func TestEnvExpansion(t *testing.T) {
	t.Setenv("T_HASH_KEY", testHashKey)
	doc := strings.Replace(valid, `hash_key = "ejCk326UnaZWKisg"`, `hash_key = "${T_HASH_KEY}"`, 1)
	cfg, err := config.Parse([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, testHashKey, cfg.Provider.ECPay.HashKey.Reveal())

	doc = strings.Replace(valid, `hash_key = "ejCk326UnaZWKisg"`, `hash_key = "${T_UNSET_VARIABLE_X}"`, 1)
	_, err = config.Parse([]byte(doc))
	require.EqualError(t, err, "provider.ecpay.hash_key: refers to ${T_UNSET_VARIABLE_X}, which is not set in the environment")

	// A lone $ is kept: passwords may contain it.
	t.Setenv("T_TOKEN", "0123456789abcdef")
	doc = strings.Replace(valid, `token = "0123456789abcdef0123"`, `token = "$x${T_TOKEN}"`, 1)
	cfg, err = config.Parse([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, "$x0123456789abcdef", cfg.API.Token.Reveal())
}

func TestSecretNeverPrints(t *testing.T) {
	s := config.Secret("hunter2-very-secret")
	for _, got := range []string{
		s.String(), fmt.Sprint(s), fmt.Sprintf("%v %s %q %x %d %+v %#v", s, s, s, s, s, s, s),
		fmt.Sprintf("%v", struct{ K config.Secret }{s}), fmt.Sprintf("%+v", &struct{ K config.Secret }{s}),
	} {
		require.NotContains(t, got, "hunter2")
	}
	j, err := json.Marshal(map[string]config.Secret{"k": s})
	require.NoError(t, err)
	require.JSONEq(t, `{"k":"[redacted]"}`, string(j))

	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "secret", s)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "secret", s)
	require.NotContains(t, buf.String(), "hunter2")

	cfg, err := config.Parse([]byte(valid))
	require.NoError(t, err)
	j, err = json.Marshal(cfg)
	require.NoError(t, err)
	for _, secret := range []string{testQRKey, testHashKey, testHashIV, "0123456789abcdef0123"} {
		require.NotContains(t, string(j), secret)
		require.NotContains(t, fmt.Sprintf("%+v", cfg), secret)
	}
}

func TestWriteExample(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "etc", "posagent.toml")
	require.NoError(t, config.WriteExample(path))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}
	if !private.Wine() { // Wine keeps no access-control lists
		why, err := private.Exposed(path)
		require.NoError(t, err)
		require.Empty(t, why, "the config holds the API token")
	}
	err := config.WriteExample(path)
	require.ErrorContains(t, err, "already exists")

	// Two inits give two different tokens.
	other := filepath.Join(dir, "other.toml")
	require.NoError(t, config.WriteExample(other))
	a, _ := os.ReadFile(path)
	b, _ := os.ReadFile(other)
	require.NotEqual(t, tokenLine(string(a)), tokenLine(string(b)))
	require.GreaterOrEqual(t, len(tokenLine(string(a))), 40)
}

func tokenLine(doc string) string {
	for line := range strings.SplitSeq(doc, "\n") {
		if strings.HasPrefix(line, "token") {
			return line
		}
	}
	return ""
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte(config.Example("0123456789abcdef0123")))
	f.Add([]byte("[printer]\nbaud = 9600\nfooter = [\"a\", \"${X}\"]"))
	f.Add([]byte("a = ["))
	f.Add([]byte(twoSellers))
	f.Add([]byte("[[sellers]]\ntax_id = \"24634102\"\n[[sellers]]\ndefault = true"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(data)
		if err != nil {
			return
		}
		// Whatever parses is valid and keeps its promises.
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects: %v", err)
		}
		if cfg.Alarms.UploadCritical.Duration >= 48*time.Hour {
			t.Fatalf("critical alarm %s at or past the legal limit", cfg.Alarms.UploadCritical.Duration)
		}
		// One default seller, first; no seller twice; the top level is the default's.
		seen := map[string]bool{}
		for i, s := range cfg.SellerList() {
			if s.Default != (i == 0) || seen[s.TaxID] {
				t.Fatalf("seller %d (%s): default %v, seen before %v", i, s.TaxID, s.Default, seen[s.TaxID])
			}
			seen[s.TaxID] = true
		}
		if cfg.Terminal.SellerTaxID != cfg.DefaultSeller().TaxID {
			t.Fatalf("the top level names %s, the default seller is %s", cfg.Terminal.SellerTaxID, cfg.DefaultSeller().TaxID)
		}
	})
}

func TestReadAPIIgnoresTheRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posagent.toml")
	doc := strings.Replace(valid, `hash_key = "ejCk326UnaZWKisg"`, `hash_key = "${T_NOT_SET_IN_THIS_SHELL}"`, 1)
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	api, err := config.ReadAPI(path)
	require.NoError(t, err)
	require.Equal(t, config.DefaultAddress, api.Address)
	require.Equal(t, "0123456789abcdef0123", api.Token.Reveal())
}

func TestLoadLoose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posagent.toml")
	t.Setenv("T_LOOSE_KEY", testQRKey)
	doc := "[qr]\nkey = \"${T_LOOSE_KEY}\"\n[printer]\nprofile = \"80mm\"\nfooter = [\"謝謝\"]\n[provider.ecpay]\nhash_key = \"${T_UNSET_LOOSE}\"\n[future]\nx = 1\n"
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	cfg, err := config.LoadLoose(path)
	require.NoError(t, err)
	require.Equal(t, testQRKey, cfg.QR.Key.Reveal())
	require.Equal(t, "80mm", cfg.Printer.Profile)
	require.Equal(t, []string{"謝謝"}, cfg.Printer.Footer)
	require.True(t, cfg.Provider.ECPay.HashKey.IsZero())
	_, err = config.LoadLoose(filepath.Join(t.TempDir(), "missing.toml"))
	require.Error(t, err)
}

const hqDSN = "posagent:s3cret-hq-pass@tcp(10.0.0.5:3306)/posagent"

func TestHQSection(t *testing.T) {
	t.Run("absent: no head office", func(t *testing.T) {
		cfg, err := config.Parse([]byte(valid))
		require.NoError(t, err)
		require.False(t, cfg.HQ.Enabled())
		require.Empty(t, cfg.HQ.Terminal)
	})
	t.Run("dsn from the environment, terminal defaults to machine id", func(t *testing.T) {
		t.Setenv("POSAGENT_HQ_DSN", hqDSN)
		cfg, err := config.Parse([]byte(valid + "[hq]\ndsn = \"${POSAGENT_HQ_DSN}\"\n"))
		require.NoError(t, err)
		require.True(t, cfg.HQ.Enabled())
		require.Equal(t, hqDSN, cfg.HQ.DSN.Reveal())
		require.Equal(t, "POS01", cfg.HQ.Terminal)
	})
	t.Run("explicit terminal", func(t *testing.T) {
		cfg, err := config.Parse([]byte(valid + "[hq]\ndsn = \"" + hqDSN + "\"\nterminal = \"front-till-2\"\n"))
		require.NoError(t, err)
		require.Equal(t, "front-till-2", cfg.HQ.Terminal)
	})
	cases := []struct{ name, section, field string }{
		{"terminal without dsn", "[hq]\nterminal = \"POS01\"\n", "hq.dsn"},
		{"not a dsn", "[hq]\ndsn = \"s3cret-hq-pass@localhost\"\n", "hq.dsn"},
		{"unset variable", "[hq]\ndsn = \"${POSAGENT_HQ_DSN_UNSET_X}\"\n", "hq.dsn"},
		{"long terminal", "[hq]\ndsn = \"" + hqDSN + "\"\nterminal = \"" + strings.Repeat("x", 65) + "\"\n", "hq.terminal"},
		{"padded terminal", "[hq]\ndsn = \"" + hqDSN + "\"\nterminal = \" POS01\"\n", "hq.terminal"},
		{"unknown key", "[hq]\ndsn = \"" + hqDSN + "\"\npassword = \"x\"\n", "hq.password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(valid + tc.section))
			var fe *config.FieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Field)
			require.NotContains(t, err.Error(), "s3cret-hq-pass", "the DSN's password leaked into the error")
		})
	}
}

// The DSN holds the head office's password: no way of printing or logging the
// configuration may show it.
func TestHQDSNIsRedacted(t *testing.T) {
	cfg, err := config.Parse([]byte(valid + "[hq]\ndsn = \"" + hqDSN + "\"\n"))
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "hq", cfg.HQ, "cfg", cfg)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "hq", cfg.HQ, "dsn", cfg.HQ.DSN)
	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	for _, out := range []string{
		logs.String(), string(j), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg.HQ),
	} {
		require.NotContains(t, out, "s3cret-hq-pass")
	}
	require.Contains(t, logs.String(), "[redacted]")
}

func TestExampleHQSectionParsesWhenUncommented(t *testing.T) {
	t.Setenv("POSAGENT_QR_KEY", testQRKey)
	t.Setenv("ECPAY_HASH_KEY", testHashKey)
	t.Setenv("ECPAY_HASH_IV", testHashIV)
	t.Setenv("POSAGENT_HQ_DSN", hqDSN)
	ex := config.Example("tok-0123456789abcdef")
	require.Contains(t, ex, "# [hq]")
	uncommented := strings.NewReplacer("# [hq]", "[hq]", "# dsn ", "dsn ", "# terminal ", "terminal ").Replace(ex)
	cfg, err := config.Parse([]byte(uncommented))
	require.NoError(t, err)
	require.Equal(t, hqDSN, cfg.HQ.DSN.Reveal())
	require.Equal(t, "POS01", cfg.HQ.Terminal)
}

func TestTurnkeyProviderConfig(t *testing.T) {
	t.Setenv("POSAGENT_QR_KEY", testQRKey)
	t.Setenv("TURNKEY_DB_DSN", "turnkey_ro:s3cret-pw@tcp(127.0.0.1:3306)/EINVOICE")
	ex, err := config.ExampleFor("turnkey", "tok-0123456789abcdef")
	require.NoError(t, err)
	cfg, err := config.Parse([]byte(ex))
	require.NoError(t, err)
	require.Equal(t, "turnkey", cfg.Provider.Name)
	require.Equal(t, "/opt/EINVTurnkey/UpCast/B2SSTORAGE", cfg.Provider.Turnkey.B2SRoot)
	require.Equal(t, "turnkey_ro:s3cret-pw@tcp(127.0.0.1:3306)/EINVOICE", cfg.Provider.Turnkey.DSN.Reveal())
	require.NotContains(t, fmt.Sprintf("%v %+v", cfg, cfg), "s3cret-pw")

	for _, tc := range []struct{ from, to, field string }{
		{`seller_address = "臺北市中正區重慶南路一段2號"`, `seller_address = ""`, "terminal.seller_address"},
		{`b2s_root    = "/opt/EINVTurnkey/UpCast/B2SSTORAGE"`, `b2s_root = ""`, "provider.turnkey.b2s_root"},
		{`b2p_root    = "/opt/EINVTurnkey/UpCast/B2PMESSAGE"`, `b2p_root = "UpCast"`, "provider.turnkey.b2p_root"},
		{`temp_dir    = "/opt/EINVTurnkey/posagent-tmp"`, `temp_dir = ""`, "provider.turnkey.temp_dir"},
		{`head_ban    = ""`, `head_ban = "12345678"`, "provider.turnkey.head_ban"},
		{`customs_clearance_mark = "1"`, `customs_clearance_mark = "3"`, "provider.turnkey.customs_clearance_mark"},
	} {
		bad := strings.Replace(ex, tc.from, tc.to, 1)
		require.NotEqual(t, ex, bad, tc.from)
		_, err := config.Parse([]byte(bad))
		require.Error(t, err, tc.field)
		require.Contains(t, err.Error(), tc.field)
	}
}

package config_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/config"
)

const testBridgeSecret = "0123456789abcdef0123456789abcdef-bridge"

// validBridge is a complete file with the bridge provider over HTTP.
const validBridge = `
[terminal]
seller_tax_id = "24634102"
seller_name = "範例商店"
machine_id = "POS01"
[qr]
key = "F1A618ED8685B1A3B81E6CB6884617F4"
[provider]
name = "bridge"
[provider.bridge]
transport = "http"
url = "https://relay.example.com/posagent"
secret = "0123456789abcdef0123456789abcdef-bridge"
[provider.bridge.credentials]
pid = "PID-secret-1"
[api]
token = "0123456789abcdef0123"
`

func TestBridgeSection(t *testing.T) {
	cfg, err := config.Parse([]byte(validBridge))
	require.NoError(t, err)
	b := cfg.Provider.Bridge
	require.Equal(t, "http", b.Transport)
	require.Equal(t, 15*time.Second, b.Timeout.Duration)
	require.Equal(t, testBridgeSecret, b.Secret.Reveal())
	require.Equal(t, "PID-secret-1", b.Credentials["pid"].Reveal())
	// Secrets never print, not even inside the credentials map.
	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	for _, s := range []string{testBridgeSecret, "PID-secret-1"} {
		require.NotContains(t, string(out), s)
		require.NotContains(t, fmt.Sprintf("%v %+v", cfg, cfg), s)
	}

	tests := []struct {
		name, old, new, field string
	}{
		{"no transport", `transport = "http"`, ``, "provider.bridge.transport"},
		{"bad transport", `transport = "http"`, `transport = "ftp"`, "provider.bridge.transport"},
		{"no url", `url = "https://relay.example.com/posagent"`, ``, "provider.bridge.url"},
		{"plain http", `url = "https://relay.example.com/posagent"`, `url = "http://relay.example.com/"`, "provider.bridge.url"},
		{"password in url", `url = "https://relay.example.com/posagent"`, `url = "https://u:pw@relay.example.com/"`, "provider.bridge.url"},
		{"query", `url = "https://relay.example.com/posagent"`, `url = "https://relay.example.com/?k=1"`, "provider.bridge.url"},
		{"short secret", `secret = "0123456789abcdef0123456789abcdef-bridge"`, `secret = "short-secret"`, "provider.bridge.secret"},
		{"command with http", `[provider.bridge.credentials]`, "command = [\"/bin/true\"]\n[provider.bridge.credentials]", "provider.bridge.command"},
		{"exec without command", `transport = "http"`, `transport = "exec"`, "provider.bridge.command"},
		{"timeout", `transport = "http"`, "transport = \"http\"\ntimeout = \"0s\"", "provider.bridge.timeout"},
		{"timeout over call timeout", `transport = "http"`, "transport = \"http\"\ntimeout = \"1m\"", "provider.bridge.timeout"},
		{"credential name", `pid = "PID-secret-1"`, `PID = "x"`, "provider.bridge.credentials.PID"},
		{"empty credential", `pid = "PID-secret-1"`, `pid = ""`, "provider.bridge.credentials.pid"},
		{"mig without address", `transport = "http"`, "transport = \"http\"\nmig = true", "terminal.seller_address"},
		{"unknown key", `transport = "http"`, "transport = \"http\"\nsignature = \"x\"", "provider.bridge.signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(validBridge, tt.old, tt.new, 1)
			require.NotEqual(t, validBridge, doc)
			_, err := config.Parse([]byte(doc))
			var fe *config.FieldError
			require.ErrorAs(t, err, &fe, "%v", err)
			require.Equal(t, tt.field, fe.Field, "%v", err)
			require.NotContains(t, err.Error(), testBridgeSecret)
			require.NotContains(t, err.Error(), "pw@")
		})
	}

	exec := strings.NewReplacer(`transport = "http"`, `transport = "exec"`,
		`url = "https://relay.example.com/posagent"`, `command = ["/opt/relay/bin/relay", "--sandbox"]`).Replace(validBridge)
	cfg, err = config.Parse([]byte(exec))
	require.NoError(t, err)
	require.Equal(t, []string{"/opt/relay/bin/relay", "--sandbox"}, cfg.Provider.Bridge.Command)
	_, err = config.Parse([]byte(strings.Replace(exec, `"/opt/relay/bin/relay"`, `"relay"`, 1)))
	require.ErrorContains(t, err, "provider.bridge.command: the program \"relay\" must be an absolute path")
}

// TestCredentialsFromEnv: ${ENV} is expanded inside the credentials map, and
// an unset variable names the credential.
func TestCredentialsFromEnv(t *testing.T) {
	t.Setenv("T_BRIDGE_PID", "pid-from-env")
	doc := strings.Replace(validBridge, `pid = "PID-secret-1"`, `pid = "${T_BRIDGE_PID}"`, 1)
	cfg, err := config.Parse([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, "pid-from-env", cfg.Provider.Bridge.Credentials["pid"].Reveal())
	_, err = config.Parse([]byte(strings.Replace(doc, "T_BRIDGE_PID", "T_BRIDGE_UNSET_X", 1)))
	require.EqualError(t, err, "provider.bridge.credentials.pid: refers to ${T_BRIDGE_UNSET_X}, which is not set in the environment")
}

// TestWixtarExample: the README's Wixtar configuration parses once its
// environment is set.
func TestWixtarExample(t *testing.T) {
	for k, v := range map[string]string{"WIXTAR_AES_KEY": testQRKey, "WIXTAR_STORE_CODE": "S001", "WIXTAR_POS_CODE": "P01",
		"WIXTAR_PID": "pid", "WIXTAR_RID": "rid", "WIXTAR_PNAME": "pname", "POSAGENT_API_TOKEN": "0123456789abcdef0123"} {
		t.Setenv(k, v)
	}
	data, err := os.ReadFile("../testdata/config/wixtar.toml")
	require.NoError(t, err)
	cfg, err := config.Parse(data)
	require.NoError(t, err)
	require.Equal(t, "bridge", cfg.Provider.Name)
	require.Equal(t, "exec", cfg.Provider.Bridge.Transport)
	require.Len(t, cfg.Provider.Bridge.Credentials, 5)
	require.Equal(t, testQRKey, cfg.QR.Key.Reveal())
}

// TestExampleForBridge: `posagent init --provider bridge` writes a file that
// parses once its environment is set, with the bridge in place of ECPay.
func TestExampleForBridge(t *testing.T) {
	t.Setenv("POSAGENT_QR_KEY", testQRKey)
	t.Setenv("POSAGENT_BRIDGE_SECRET", testBridgeSecret)
	doc, err := config.ExampleFor("bridge", "tok-0123456789abcdef")
	require.NoError(t, err)
	require.NotContains(t, doc, "[provider.ecpay]")
	cfg, err := config.Parse([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, "bridge", cfg.Provider.Name)
	require.Equal(t, "https://relay.example.com/posagent", cfg.Provider.Bridge.URL)
	// The commented Wixtar credentials parse when uncommented.
	t.Setenv("WIXTAR_STORE_CODE", "S1")
	t.Setenv("WIXTAR_POS_CODE", "P1")
	t.Setenv("WIXTAR_PID", "pid")
	t.Setenv("WIXTAR_RID", "rid")
	t.Setenv("WIXTAR_PNAME", "pname")
	var lines []string
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, "# [provider.bridge.credentials]") || strings.HasPrefix(l, "# store_code") ||
			strings.HasPrefix(l, "# pos_code") || strings.HasPrefix(l, "# pid ") || strings.HasPrefix(l, "# rid ") ||
			strings.HasPrefix(l, "# pname") {
			l = strings.TrimPrefix(l, "# ")
		}
		lines = append(lines, l)
	}
	cfg, err = config.Parse([]byte(strings.Join(lines, "\n")))
	require.NoError(t, err)
	require.Len(t, cfg.Provider.Bridge.Credentials, 5)

	path := t.TempDir() + "/posagent.toml"
	require.NoError(t, config.WriteExampleFor(path, "bridge"))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), `name = "bridge"`)
	_, err = config.ExampleFor("smtp", "tok")
	require.ErrorContains(t, err, "--provider must be one of")
}

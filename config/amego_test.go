package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/config"
)

const testAppKey = "sHeq7t8G1wiQvhAuIM27"

// validAmego is a minimal complete file for an Amego till.
const validAmego = `
[terminal]
seller_tax_id = "24634102"
seller_name = "範例商店"
machine_id = "POS01"
[qr]
key = "F1A618ED8685B1A3B81E6CB6884617F4"
[provider]
name = "amego"
[provider.amego]
app_key = "sHeq7t8G1wiQvhAuIM27"
[api]
token = "0123456789abcdef0123"
`

func TestAmegoSection(t *testing.T) {
	cfg, err := config.Parse([]byte(validAmego))
	require.NoError(t, err)
	require.Equal(t, "amego", cfg.Provider.Name)
	require.Equal(t, "https://invoice-api.amego.tw", cfg.Provider.Amego.BaseURL)
	require.Equal(t, 15*time.Second, cfg.Provider.Amego.Timeout.Duration)
	require.Equal(t, testAppKey, cfg.Provider.Amego.AppKey.Reveal())
	// The app key is a Secret: never printed.
	require.NotContains(t, fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), testAppKey)

	cases := []struct{ name, old, new, field string }{
		{"no app key", `app_key = "sHeq7t8G1wiQvhAuIM27"`, `app_key = ""`, "provider.amego.app_key"},
		{"spaced app key", `app_key = "sHeq7t8G1wiQvhAuIM27"`, `app_key = "sHeq7t8G1 wiQvhAuIM27"`, "provider.amego.app_key"},
		{"seller not 8 digits", `[provider.amego]`, "[provider.amego]\nseller_tax_id = \"1234\"", "provider.amego.seller_tax_id"},
		{"seller not the terminal's", `[provider.amego]`, "[provider.amego]\nseller_tax_id = \"53212539\"", "provider.amego.seller_tax_id"},
		{"http base url", `[provider.amego]`, "[provider.amego]\nbase_url = \"http://invoice-api.amego.tw\"", "provider.amego.base_url"},
		{"zero timeout", `[provider.amego]`, "[provider.amego]\ntimeout = \"0s\"", "provider.amego.timeout"},
		{"long track code", `[provider.amego]`, "[provider.amego]\ntrack_api_code = \"" + strings.Repeat("A", 21) + "\"", "provider.amego.track_api_code"},
		{"unknown key", `[provider.amego]`, "[provider.amego]\nappkey = \"x\"", "provider.amego.appkey"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(validAmego, tc.old, tc.new, 1)
			require.NotEqual(t, validAmego, doc)
			_, err := config.Parse([]byte(doc))
			require.Error(t, err)
			require.True(t, strings.HasPrefix(err.Error(), tc.field+": "), "error %q does not start with %q", err, tc.field)
			require.NotContains(t, err.Error(), testAppKey)
		})
	}
	// The seller may be written out when it is the terminal's; loopback http is a stand-in.
	doc := strings.Replace(validAmego, "[provider.amego]", "[provider.amego]\nseller_tax_id = \"24634102\"\nbase_url = \"http://127.0.0.1:9000\"", 1)
	_, err = config.Parse([]byte(doc))
	require.NoError(t, err)
}

func TestWriteExampleForAmego(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posagent.toml")
	require.NoError(t, config.WriteExampleFor(path, "amego"))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), "[provider.amego]")
	require.NotContains(t, string(data), "[provider.ecpay]")
	t.Setenv("POSAGENT_QR_KEY", testQRKey)
	t.Setenv("AMEGO_APP_KEY", testAppKey)
	cfg, err := config.Parse(data)
	require.NoError(t, err)
	require.Equal(t, "amego", cfg.Provider.Name)
	require.Equal(t, testAppKey, cfg.Provider.Amego.AppKey.Reveal())
	require.Equal(t, 1, cfg.Sync.Concurrency)
	_, err = config.ExampleFor("wixtar9", "tok")
	require.Error(t, err)
}

package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/config"
	"github.com/posagent/posagent/providers/amego"
	"github.com/posagent/posagent/providers/amego/amegotest"
)

func TestInitWritesAnAmegoConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posagent.toml")
	code, out, errOut := runOperator(t, "", "init", "--provider", "amego", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "AMEGO_APP_KEY")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	t.Setenv("POSAGENT_QR_KEY", demoQRKey)
	t.Setenv("AMEGO_APP_KEY", amego.TestAppKey)
	cfg, err := config.Parse(data)
	require.NoError(t, err)
	require.Equal(t, "amego", cfg.Provider.Name)

	code, _, errOut = runOperator(t, "", "init", "--provider", "wixtar9", filepath.Join(t.TempDir(), "x.toml"))
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "ecpay, amego, bridge or turnkey")
	// --provider picks a demo's stand-in; a configured agent reads its file.
	code, _, errOut = runOperator(t, "", "run", "--provider", "amego", "--config", path)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "--demo")
}

// The configured Amego provider is the real client, with the till's QR key,
// and leases from the stand-in.
func TestNewProviderAmego(t *testing.T) {
	stand := amegotest.New(amegotest.Options{Seller: demoSeller})
	defer stand.Close()
	cfg := demoConfig(t.TempDir(), stand.URL(), "/dev/null", "0123456789abcdef0123")
	cfg.Provider.Name = "amego"
	cfg.Provider.Amego = config.Amego{AppKey: amego.TestAppKey, BaseURL: stand.URL(), Timeout: config.Duration{Duration: 5 * time.Second}}
	require.NoError(t, cfg.Validate())
	prov, err := newProvider(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Equal(t, "amego", prov.Name())
	src, ok := prov.(posagent.BookletSource)
	require.True(t, ok)
	bs, err := src.LeaseBooklets(context.Background(), posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now()), Booklets: 1})
	require.NoError(t, err)
	require.Len(t, bs, 1)
	_, ok = prov.(posagent.AlarmReporter)
	require.True(t, ok)
	// A wrong app key is refused by Amego as set-up (code 16), not by us.
	cfg.Provider.Amego.AppKey = "wrong-key-000000"
	prov, err = newProvider(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	_, err = prov.(posagent.BookletSource).LeaseBooklets(context.Background(), posagent.LeaseRequest{Period: posagent.PeriodOf(time.Now())})
	require.True(t, posagent.IsKind(err, posagent.KindConfig), "%v", err)
	require.NotContains(t, err.Error(), "wrong-key-000000")
}

// TestDemoOnAmego is the README's Amego demo: `posagent run --demo --provider
// amego`, a sale from the shell, printed and uploaded to the Amego stand-in.
func TestDemoOnAmego(t *testing.T) {
	t.Setenv("POSAGENT_ADDR", "")
	t.Setenv("POSAGENT_TOKEN", "")
	t.Setenv("POSAGENT_CONFIG", "")
	dir := t.TempDir()
	code, _, errOut := runOperator(t, "", "run", "--demo", "--provider", "turnkey9", "--dir", dir)
	require.Equal(t, 2, code, errOut)

	out, errs := startDemo(t, dir, "--provider", "amego")
	require.Contains(t, out.String(), "Amego stand-in")
	require.Contains(t, out.String(), "receipt ")
	cfgPath := filepath.Join(dir, "posagent.toml")
	sale := filepath.Join(t.TempDir(), "sale.json")
	require.NoError(t, os.WriteFile(sale, []byte(`{"sale_id":"amego-demo-1","items":[{"name":"拿鐵","quantity":1,"unit_price":65}]}`), 0o600))
	code, sold, errOut := runOperator(t, "", "sell", sale, "--config", cfgPath)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, sold, "proof: printed")
	require.Eventually(t, func() bool {
		code, status, _ := runOperator(t, "", "status", "--json", "--config", cfgPath)
		return code == 0 && strings.Contains(status, `"name": "amego"`) && strings.Contains(status, `"pending": 0`) &&
			strings.Contains(status, `"done": 2`)
	}, 20*time.Second, 100*time.Millisecond, "the sales were not uploaded to the Amego stand-in")
	require.NotContains(t, errs.String(), amego.TestAppKey)
}

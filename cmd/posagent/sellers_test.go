package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
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
	"github.com/posagent/posagent/providers/ecpay/ecpaytest"
	"github.com/posagent/posagent/qr"
)

const (
	bakerySeller = "53212539"
	bakeryQRKey  = "0A1B2C3D4E5F60718293A4B5C6D7E8F9"
)

func TestInitWritesTwoSellers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posagent.toml")
	code, out, errOut := runOperator(t, "", "init", "--sellers", path)
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "BAKERY_AMEGO_APP_KEY")
	t.Setenv("POSAGENT_QR_KEY", demoQRKey)
	t.Setenv("ECPAY_HASH_KEY", ecpaytest.StageHashKey)
	t.Setenv("ECPAY_HASH_IV", ecpaytest.StageHashIV)
	t.Setenv("BAKERY_QR_KEY", bakeryQRKey)
	t.Setenv("BAKERY_AMEGO_APP_KEY", amego.TestAppKey)
	cfg, err := config.Load(path, nil)
	require.NoError(t, err)
	require.Len(t, cfg.SellerList(), 2)
	// An unedited example does not run: it would sell as the example shops.
	code, _, errOut = runOperator(t, "", "run", "--config", path)
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "sellers[1].name")
	code, _, errOut = runOperator(t, "", "init", "--sellers", "--provider", "amego", filepath.Join(t.TempDir(), "x.toml"))
	require.Equal(t, 2, code, errOut)
}

// A till configured from a file with two sellers — a café on ECPay (the
// default) and a bakery on Amego — sells for both from the shell; each
// stand-in receives its seller's invoices only, each QR carries its seller's
// key, and status lists both.
func TestTwoSellersFromTheConfigFile(t *testing.T) {
	p := posagent.PeriodOf(time.Now())
	ecp := ecpaytest.New(ecpaytest.Options{})
	defer ecp.Close()
	bkey, err := qr.ParseKey(bakeryQRKey)
	require.NoError(t, err)
	amg := amegotest.New(amegotest.Options{Seller: bakerySeller, QRKey: bkey, Pool: []amegotest.Allocation{
		{Period: p, Track: "YY", Start: 20000000, End: 20009999}, {Period: p.Next(), Track: "YY", Start: 20000000, End: 20009999}}})
	defer amg.Close()

	dir := t.TempDir()
	path := filepath.Join(dir, "posagent.toml")
	token := "sellers-token-0123456789"
	doc := fmt.Sprintf(`
[terminal]
machine_id = "POS01"
[printer]
device = "none"
[store]
path = %q
[api]
token = %q
[sync]
backoff_base = "50ms"
backoff_cap = "500ms"
[[sellers]]
tax_id = %q
name = "美食街咖啡"
[sellers.qr]
key = %q
[sellers.provider]
name = "ecpay"
[sellers.provider.ecpay]
merchant_id = %q
hash_key = "${SELLERS_ECPAY_KEY}"
hash_iv = "${SELLERS_ECPAY_IV}"
base_url = %q
[sellers.booklets]
low_water = 20
[[sellers]]
tax_id = %q
name = "美食街麵包"
[sellers.qr]
key = "${SELLERS_BAKERY_QR}"
[sellers.provider]
name = "amego"
[sellers.provider.amego]
app_key = "${SELLERS_AMEGO_KEY}"
base_url = %q
[sellers.booklets]
low_water = 20
lease = 1
`, filepath.Join(dir, "posagent.db"), token, demoSeller, demoQRKey, ecpaytest.StageMerchantID, ecp.URL(), bakerySeller, amg.URL())
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	t.Setenv("SELLERS_ECPAY_KEY", ecpaytest.StageHashKey)
	t.Setenv("SELLERS_ECPAY_IV", ecpaytest.StageHashIV)
	t.Setenv("SELLERS_BAKERY_QR", bakeryQRKey)
	t.Setenv("SELLERS_AMEGO_KEY", amego.TestAppKey)
	cfg, err := config.Load(path, nil)
	require.NoError(t, err)

	logs := &lockedWriter{}
	ctx, cancel := context.WithCancel(context.Background())
	a, closeAll, err := buildAgent(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), nil, fileReloader(path, slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
		closeAll()
	}()
	t.Setenv("POSAGENT_ADDR", ln.Addr().String())
	t.Setenv("POSAGENT_TOKEN", token)
	t.Setenv("POSAGENT_CONFIG", "")

	sale := filepath.Join(dir, "sale.json")
	sold := map[string][]string{}
	for i := range 6 {
		require.NoError(t, os.WriteFile(sale, fmt.Appendf(nil, `{"sale_id":"s-%d","items":[{"name":"豆漿","quantity":1,"unit_price":%d}]}`, i, 30+i), 0o600))
		args := []string{"sell", sale, "--json"}
		seller := demoSeller
		if i%2 == 1 {
			args, seller = append(args, "--seller", bakerySeller), bakerySeller
		}
		var code int
		var out, errOut string
		require.Eventually(t, func() bool { // the first lease may still be on its way
			code, out, errOut = runOperator(t, "", args...)
			return code == 0 || !strings.Contains(out+errOut, "exhausted")
		}, 10*time.Second, 50*time.Millisecond)
		require.Equal(t, 0, code, "%s %s", out, errOut)
		require.Contains(t, out, `"tax_id": "`+seller+`"`)
		sold[seller] = append(sold[seller], jsonField(t, out, "number"))
	}
	require.Eventually(t, func() bool {
		return len(ecp.Invoices()) == len(sold[demoSeller]) && len(amg.Invoices()) == len(sold[bakerySeller])
	}, 30*time.Second, 50*time.Millisecond, "uploads: ECPay %d, Amego %d", len(ecp.Invoices()), len(amg.Invoices()))
	for _, inv := range ecp.Invoices() {
		require.Contains(t, sold[demoSeller], inv.Number)
	}
	for _, inv := range amg.Invoices() {
		require.Contains(t, sold[bakerySeller], inv.Number, "the bakery's provider got another seller's invoice")
	}
	code, out, errOut := runOperator(t, "", "status")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, "seller     "+demoSeller+" 美食街咖啡 (default) — OK: provider ecpay online")
	require.Contains(t, out, "seller     "+bakerySeller+" 美食街麵包 — OK: provider amego online")
	// The Amego client checks each upload's QR against the bakery's key:
	// no QR key alarm means every bakery invoice carried the bakery's key.
	require.NotContains(t, out, "QR verification field")
	for _, secret := range []string{demoQRKey, bakeryQRKey, ecpaytest.StageHashKey, ecpaytest.StageHashIV, amego.TestAppKey} {
		require.NotContains(t, logs.String(), secret)
	}

	// --seller that contradicts the sale's own seller is refused before a call.
	require.NoError(t, os.WriteFile(sale, []byte(`{"sale_id":"x","seller":{"tax_id":"24634102"},"items":[]}`), 0o600))
	code, _, errOut = runOperator(t, "", "sell", sale, "--seller", bakerySeller)
	require.Equal(t, 2, code)
	require.Contains(t, errOut, "the sale names seller 24634102")
}

package config_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/posagent/posagent/config"
)

const (
	secondQRKey  = "0A1B2C3D4E5F60718293A4B5C6D7E8F9"
	secondAppKey = "amego-app-key-of-the-second-seller"
)

// twoSellers is a food-court counter selling for a café (ECPay, the
// default) and a bakery (Amego, with its own head office).
const twoSellers = `
[terminal]
machine_id = "POS01"
[api]
token = "0123456789abcdef0123"

[[sellers]]
tax_id = "24634102"
name = "範例咖啡"
[sellers.qr]
key = "F1A618ED8685B1A3B81E6CB6884617F4"
[sellers.provider]
name = "ecpay"
[sellers.provider.ecpay]
merchant_id = "2000132"
hash_key = "ejCk326UnaZWKisg"
hash_iv = "q9jcZX8Ib9LM8wYk"
base_url = "https://einvoice-stage.ecpay.com.tw"

[[sellers]]
tax_id = "53212539"
name = "範例麵包"
address = "臺北市中正區重慶南路一段2號"
default = true
[sellers.qr]
key = "0A1B2C3D4E5F60718293A4B5C6D7E8F9"
encoding = "big5"
[sellers.provider]
name = "amego"
[sellers.provider.amego]
app_key = "amego-app-key-of-the-second-seller"
[sellers.booklets]
low_water = 20
[sellers.hq]
dsn = "shop:pw@tcp(127.0.0.1:3306)/bakery"
`

func TestTwoSellersParse(t *testing.T) {
	cfg, err := config.Parse([]byte(twoSellers))
	require.NoError(t, err)
	list := cfg.SellerList()
	require.Len(t, list, 2)
	// The default comes first; the top-level sections mirror it.
	require.Equal(t, "53212539", list[0].TaxID)
	require.True(t, list[0].Default)
	require.Equal(t, "24634102", list[1].TaxID)
	require.False(t, list[1].Default)
	require.Equal(t, "53212539", cfg.Terminal.SellerTaxID)
	require.Equal(t, "amego", cfg.Provider.Name)
	// Each seller has the defaults of a single-seller file for what it leaves out.
	require.Equal(t, "utf8", list[1].QR.Encoding)
	require.Equal(t, "big5", list[0].QR.Encoding)
	require.Equal(t, 100, list[1].Booklets.LowWater)
	require.Equal(t, 20, list[0].Booklets.LowWater)
	require.Equal(t, "https://invoice-api.amego.tw", list[0].Provider.Amego.BaseURL)
	require.Equal(t, secondAppKey, list[0].Provider.Amego.AppKey.Reveal())
	require.Equal(t, "POS01", list[0].HQ.Terminal, "hq.terminal defaults to the machine id")
	require.False(t, list[1].HQ.Enabled())
	// A seller's view is a single-seller config.
	v := cfg.ForSeller(list[1])
	require.Equal(t, "24634102", v.Terminal.SellerTaxID)
	require.Equal(t, "ecpay", v.Provider.Name)
	require.Empty(t, v.Sellers)
	require.Len(t, v.SellerList(), 1)
}

func TestSingleSellerIsAListOfOne(t *testing.T) {
	cfg, err := config.Parse([]byte(valid))
	require.NoError(t, err)
	require.Empty(t, cfg.Sellers)
	list := cfg.SellerList()
	require.Len(t, list, 1)
	require.Equal(t, config.Seller{TaxID: "24634102", Name: "範例商店", Default: true, QR: cfg.QR, Provider: cfg.Provider,
		Booklets: cfg.Booklets, HQ: cfg.HQ}, list[0])
	require.Equal(t, cfg, cfg.ForSeller(list[0]))
}

func TestFirstSellerIsTheDefaultUnlessOneSaysSo(t *testing.T) {
	cfg, err := config.Parse([]byte(strings.Replace(twoSellers, "default = true\n", "", 1)))
	require.NoError(t, err)
	require.Equal(t, "24634102", cfg.DefaultSeller().TaxID)
	require.Equal(t, "24634102", cfg.Terminal.SellerTaxID)
}

func TestSellersValidationNamesSellerAndField(t *testing.T) {
	cases := []struct {
		name, old, new, field, msg string
	}{
		{"bad qr key", `key = "0A1B2C3D4E5F60718293A4B5C6D7E8F9"`, `key = "nothex"`, "sellers[1].qr.key", "32 hexadecimal"},
		{"missing qr key", `key = "F1A618ED8685B1A3B81E6CB6884617F4"`, `key = ""`, "sellers[0].qr.key", "is required"},
		{"bad tax id", `tax_id = "53212539"`, `tax_id = "53212538"`, "sellers[1].tax_id", "check sum"},
		{"missing name", `name = "範例麵包"`, `name = " "`, "sellers[1].name", "is required"},
		{"same tax id twice", `tax_id = "53212539"`, `tax_id = "24634102"`, "sellers[1].tax_id", "already sellers[0]"},
		{"two defaults", "[[sellers]]\ntax_id = \"24634102\"", "[[sellers]]\ndefault = true\ntax_id = \"24634102\"", "sellers.default", "only one"},
		{"provider credentials", `hash_iv = "q9jcZX8Ib9LM8wYk"`, `hash_iv = "short"`, "sellers[0].provider.ecpay.hash_iv", "16-character"},
		{"unknown provider", `name = "amego"`, `name = "wixtar"`, "sellers[1].provider.name", "must be one of"},
		{"amego account of another seller", "app_key = ", "seller_tax_id = \"24634102\"\napp_key = ", "sellers[1].provider.amego.seller_tax_id", "sellers[1].tax_id"},
		{"booklets", "low_water = 20", "low_water = -1", "sellers[1].booklets.low_water", "0 or more"},
		{"hq", `dsn = "shop:pw@tcp(127.0.0.1:3306)/bakery"`, `dsn = "nonsense"`, "sellers[1].hq.dsn", "MySQL DSN"},
		{"guard", "low_water = 20", "low_water = 20\n[sellers.guard]\nconfirm_above = 5000\nrefuse_above = 5000", "sellers[1].guard.confirm_above", "below sellers[1].guard.refuse_above"},
		{"guard bound", "low_water = 20", "low_water = 20\n[sellers.guard]\nrefuse_above = 4294967296", "sellers[1].guard.refuse_above", "must be 0 (off) to 4294967295"},
		{"address is optional with amego", `address = "臺北市中正區重慶南路一段2號"`, `address = ""`, "", ""},
		{"top-level qr beside sellers", "[api]\n", "[qr]\nkey = \"F1A618ED8685B1A3B81E6CB6884617F4\"\n[api]\n", "qr", "inside each seller"},
		{"top-level seller beside sellers", "machine_id = \"POS01\"", "machine_id = \"POS01\"\nseller_tax_id = \"24634102\"", "terminal.seller_tax_id", "inside each seller"},
		{"misspelt key in a seller", "tax_id = \"53212539\"", "tax_id = \"53212539\"\ntaxid = \"1\"", "sellers.taxid", "unknown key"},
		{"key case in a seller", "tax_id = \"53212539\"", "TAX_ID = \"53212539\"", "sellers.TAX_ID", "exact"},
		{"shared machine id still checked", `machine_id = "POS01"`, `machine_id = "POS 01"`, "terminal.machine_id", "letters or digits"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			doc := strings.Replace(twoSellers, tc.old, tc.new, 1)
			require.NotEqual(t, twoSellers, doc, "the case changes nothing")
			_, err := config.Parse([]byte(doc))
			if tc.field == "" {
				require.NoError(t, err, "only turnkey and MIG need the address")
				return
			}
			require.Error(t, err)
			var fe *config.FieldError
			require.ErrorAs(t, err, &fe, "%v", err)
			require.Equal(t, tc.field, fe.Field, "%v", err)
			require.Contains(t, fe.Message, tc.msg)
			for _, secret := range []string{testQRKey, secondQRKey, secondAppKey, testHashKey, "pw@tcp"} {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestTooManySellers(t *testing.T) {
	var b strings.Builder
	b.WriteString("[terminal]\nmachine_id = \"POS01\"\n[api]\ntoken = \"0123456789abcdef0123\"\n")
	for range config.MaxSellers + 1 {
		b.WriteString("[[sellers]]\ntax_id = \"24634102\"\n")
	}
	_, err := config.Parse([]byte(b.String()))
	require.ErrorContains(t, err, "sellers: at most 16")
}

func TestSellersSecretsNeverPrint(t *testing.T) {
	t.Setenv("BAKERY_QR_KEY", secondQRKey)
	cfg, err := config.Parse([]byte(strings.Replace(twoSellers, `"`+secondQRKey+`"`, `"${BAKERY_QR_KEY}"`, 1)))
	require.NoError(t, err)
	require.Equal(t, secondQRKey, cfg.SellerList()[0].QR.Key.Reveal())
	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	for _, secret := range []string{testQRKey, secondQRKey, secondAppKey, testHashKey, testHashIV, "shop:pw"} {
		require.NotContains(t, string(j), secret)
		require.NotContains(t, fmt.Sprintf("%+v %v", cfg, cfg.SellerList()), secret)
	}
	// A missing variable names the seller's field.
	_, err = config.Parse([]byte(strings.Replace(twoSellers, `"`+secondQRKey+`"`, `"${POSAGENT_UNSET_FOR_TEST}"`, 1)))
	require.ErrorContains(t, err, "sellers[1].qr.key: refers to ${POSAGENT_UNSET_FOR_TEST}")
}

// `posagent init --sellers` writes this: it parses once the secrets are set,
// and `posagent run` refuses it until both example shops are replaced.
func TestSellersExampleParses(t *testing.T) {
	t.Setenv("POSAGENT_QR_KEY", testQRKey)
	t.Setenv("ECPAY_HASH_KEY", testHashKey)
	t.Setenv("ECPAY_HASH_IV", testHashIV)
	t.Setenv("BAKERY_QR_KEY", secondQRKey)
	t.Setenv("BAKERY_AMEGO_APP_KEY", secondAppKey)
	doc, err := config.ExampleFor("sellers", "0123456789abcdef0123")
	require.NoError(t, err)
	cfg, err := config.Parse([]byte(doc))
	require.NoError(t, err, doc)
	list := cfg.SellerList()
	require.Len(t, list, 2)
	require.Equal(t, []string{"ecpay", "amego"}, []string{list[0].Provider.Name, list[1].Provider.Name})
	require.Equal(t, "POS01", cfg.Terminal.MachineID)
	left := cfg.ExampleLeftovers()
	require.Len(t, left, 3, "%v", left)
	require.Contains(t, left[0], "sellers[0].name")
	require.Contains(t, left[1], "sellers[0].tax_id", "the example's 統編 on ECPay's real host")
	require.Contains(t, left[2], "sellers[1].name")
}

// The tools that borrow a few settings (posagent qr encode, receipt) see the
// default seller's key and identity in a [[sellers]] file.
func TestLoadLooseMirrorsTheDefaultSeller(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posagent.toml")
	require.NoError(t, os.WriteFile(path, []byte(twoSellers), 0o600))
	cfg, err := config.LoadLoose(path)
	require.NoError(t, err)
	require.Equal(t, "53212539", cfg.Terminal.SellerTaxID)
	require.Equal(t, secondQRKey, cfg.QR.Key.Reveal())
	require.Equal(t, "big5", cfg.QR.Encoding)
	require.Len(t, cfg.Sellers, 2)
}

func TestGuardForSeller(t *testing.T) {
	doc := strings.Replace(twoSellers, "low_water = 20", "low_water = 20\n[sellers.guard]\nconfirm_above = 30000\nrefuse_above = 90000", 1)
	doc = strings.Replace(doc, "[api]", "[guard]\nconfirm_above = 10000\n[api]", 1)
	cfg, err := config.Parse([]byte(doc))
	require.NoError(t, err)
	for _, tc := range []struct {
		taxID, key string
		want       config.Guard
	}{
		{"53212539", "sellers[1].guard", config.Guard{ConfirmAbove: 30000, RefuseAbove: 90000}}, // the bakery's own
		{"24634102", "guard", config.Guard{ConfirmAbove: 10000}},                                // the café has the till's
		{"", "guard", config.Guard{ConfirmAbove: 10000}},                                        // no seller: the till's
	} {
		g, key := cfg.GuardFor(tc.taxID)
		require.Equal(t, tc.want, g, tc.taxID)
		require.Equal(t, tc.key, key, tc.taxID)
	}
}

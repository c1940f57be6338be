package config_test

import (
	"strings"
	"testing"

	"github.com/posagent/posagent/config"
	"github.com/stretchr/testify/require"
)

// The file `posagent init` writes, unedited but for the secrets, is a valid
// configuration that would issue invoices as the example shop: the fields
// still at the example's values are named, and only those.
func TestExampleLeftovers(t *testing.T) {
	t.Setenv("POSAGENT_QR_KEY", testQRKey)
	t.Setenv("ECPAY_HASH_KEY", testHashKey)
	t.Setenv("ECPAY_HASH_IV", testHashIV)
	example := config.Example("tok-0123456789abcdef")
	edit := func(pairs ...string) string { return strings.NewReplacer(pairs...).Replace(example) }
	ownSeller := []string{`seller_tax_id  = "24634102"`, `seller_tax_id  = "53212539"`, `seller_name    = "範例商店"`, `seller_name    = "好日子雜貨店"`}
	production := []string{"https://einvoice-stage.ecpay.com.tw", "https://einvoice.ecpay.com.tw"}
	cases := []struct {
		name   string
		doc    string
		fields []string // the fields named, in order
		test   bool     // on ECPay's test platform
	}{
		{"unedited", example, []string{"terminal.seller_name", "terminal.seller_tax_id"}, true},
		{"only the name changed", edit(`seller_name    = "範例商店"`, `seller_name    = "好日子雜貨店"`), []string{"terminal.seller_tax_id"}, true},
		{"only the tax id changed", edit(`seller_tax_id  = "24634102"`, `seller_tax_id  = "53212539"`), []string{"terminal.seller_name"}, true},
		{"the name with spaces around it", edit(`seller_name    = "範例商店"`, `seller_name    = " 範例商店 "`), []string{"terminal.seller_name", "terminal.seller_tax_id"}, true},
		{"own seller on the test platform", edit(ownSeller...), nil, true},
		{"own seller, production, the test merchant", edit(append(ownSeller, production...)...), []string{"provider.ecpay.merchant_id"}, false},
		{"own seller, production, own merchant", edit(append(ownSeller, append(production, `merchant_id = "2000132"`, `merchant_id = "3085340"`)...)...), nil, false},
		{"example seller, production", edit(production...), []string{"terminal.seller_name", "terminal.seller_tax_id", "provider.ecpay.merchant_id"}, false},
		// The stand-in on loopback: no invoice leaves the machine (tests, demo).
		{"example tax id against a stand-in", edit(`seller_name    = "範例商店"`, `seller_name    = "測試"`, "https://einvoice-stage.ecpay.com.tw", "http://127.0.0.1:9"), nil, false},
		{"the fake provider", edit(`seller_name    = "範例商店"`, `seller_name    = "測試"`, `name = "ecpay"`, `name = "fake"`), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte(tc.doc))
			require.NoError(t, err, "the case must be a valid configuration")
			left := cfg.ExampleLeftovers()
			var fields []string
			for _, l := range left {
				field, why, ok := strings.Cut(l, ": ")
				require.True(t, ok && why != "", "%q does not say why", l)
				fields = append(fields, field)
			}
			require.Equal(t, tc.fields, fields, "%q", left)
			require.Equal(t, tc.test, cfg.OnTestPlatform())
		})
	}
}

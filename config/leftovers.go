package config

import (
	"fmt"
	"net/url"
	"strings"
)

// The example's placeholders (see exampleTemplate): values `posagent init`
// writes that no till may issue real invoices with.
const (
	// ExampleSellerTaxID is a 統一編號 with a valid check digit that
	// belongs to the example, not to the shop running posagent.
	ExampleSellerTaxID = "24634102"
	// ExampleSellerName is the example shop's name ("Example Shop").
	ExampleSellerName = "範例商店"
	// ExampleSecondSellerName is the second seller of the two-seller
	// example ("Example Bakery").
	ExampleSecondSellerName = "範例麵包"
	// ECPayStageMerchantID is ECPay's public test merchant; its invoices
	// are not legal invoices, and production refuses it.
	ECPayStageMerchantID = "2000132"
	// ECPayStageHost and ECPayProductionHost are ECPay's two e-invoice hosts.
	ECPayStageHost      = "einvoice-stage.ecpay.com.tw"
	ECPayProductionHost = "einvoice.ecpay.com.tw"
)

// ECPayHost is the host the ECPay provider talks to ("" when the provider is
// not ECPay or the URL does not parse).
func (c Config) ECPayHost() string {
	if c.Provider.Name != "ecpay" {
		return ""
	}
	u, err := url.Parse(c.Provider.ECPay.BaseURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// OnTestPlatform reports whether invoices go to ECPay's test platform
// (einvoice-stage): they are issued and uploaded there, but are not legal
// invoices. A trial set-up; `posagent run` alarms while it lasts.
func (c Config) OnTestPlatform() bool { return c.ECPayHost() == ECPayStageHost }

// ExampleLeftovers lists the example's placeholders still in c that would
// make a running till issue invoices as the example shop, each as
// "field: why". `posagent run` refuses to start while any is left: an
// unedited `posagent init` file validates (it is a well-formed config), and
// would otherwise issue invoices as 範例商店 through ECPay's test merchant.
//
// The example's 統一編號 alone is refused only against ECPay's real hosts:
// tests and the demo use it with the stand-in on loopback, where no invoice
// leaves the machine.
func (c Config) ExampleLeftovers() []string {
	if len(c.Sellers) == 0 {
		return c.exampleLeftovers("terminal.seller_", "provider.")
	}
	var left []string
	for i, s := range c.Sellers {
		prefix := fmt.Sprintf("sellers[%d].", i)
		left = append(left, c.ForSeller(s).exampleLeftovers(prefix, prefix+"provider.")...)
	}
	return left
}

// exampleLeftovers is ExampleLeftovers of one seller, its keys named with
// the prefixes of the seller's identity and provider.
func (c Config) exampleLeftovers(seller, provider string) []string {
	var left []string
	host := c.ECPayHost()
	realECPay := host == ECPayStageHost || host == ECPayProductionHost
	if name := strings.TrimSpace(c.Terminal.SellerName); name == ExampleSellerName || name == ExampleSecondSellerName {
		left = append(left, fmt.Sprintf("%sname: %q is the example shop's name; put your shop's registered name", seller, name))
	}
	if c.Terminal.SellerTaxID == ExampleSellerTaxID && realECPay {
		left = append(left, fmt.Sprintf("%stax_id: %s is the example's 統一編號; put your shop's", seller, ExampleSellerTaxID))
	}
	if c.Provider.ECPay.MerchantID == ECPayStageMerchantID && host == ECPayProductionHost {
		left = append(left, fmt.Sprintf("%secpay.merchant_id: %s is ECPay's public test merchant, which production refuses; put the merchant id ECPay gave your shop", provider, ECPayStageMerchantID))
	}
	return left
}

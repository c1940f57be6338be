package config

import (
	"fmt"
	"strings"
)

// The Portuguese example's placeholders: values `posagent init --regime pt`
// writes that no till may issue real documents with.
const (
	ExamplePTSellerName = "Loja Exemplo, Lda."
	// ExamplePTAccount is not an InvoiceXpress account of the shop's.
	ExamplePTAccount = "exemplo"
)

// ExamplePT is the commented configuration of a Portuguese terminal.
func ExamplePT(token string) string {
	return strings.NewReplacer("@TOKEN@", token, "@STORE@", DefaultStorePath()).Replace(examplePTTemplate)
}

// ptLeftovers are the Portuguese example's placeholders still in c.
func (c Config) ptLeftovers() []string {
	var left []string
	if strings.TrimSpace(c.Portugal.Seller.Name) == ExamplePTSellerName {
		left = append(left, fmt.Sprintf("portugal.seller.name: %q is the example shop's name; put your shop's registered name", ExamplePTSellerName))
	}
	if c.Portugal.InvoiceXpress.BaseURL == "" && c.Portugal.InvoiceXpress.Account == ExamplePTAccount {
		left = append(left, fmt.Sprintf("portugal.invoicexpress.account: %q is the example's; put your account's name", ExamplePTAccount))
	}
	return left
}

const examplePTTemplate = `# posagent configuration (TOML) for a till in Portugal. Written by
# "posagent init --regime pt"; readable by its owner only, because it holds
# the API token. Values of the form ${NAME} are read from the environment.
#
# In Portugal the till never numbers a document: InvoiceXpress (a certified
# program) does when it finalizes one. A sale is accepted and answered at
# once, issued in sale order when InvoiceXpress is reachable, and its receipt
# (ATCUD and the AT QR code) prints by itself then.

[terminal]
regime     = "pt"                     # tw (Taiwan, MOF e-invoices) or pt (Portugal, InvoiceXpress)
machine_id = "CAIXA1"                 # this till's name in logs and status

[portugal]
document_type = "invoice_receipts"    # invoice_receipts (Fatura-Recibo), simplified_invoices, invoices
region        = "PT"                  # PT (mainland 23/13/6/0 %), PT-MA (Madeira), PT-AC (Azores)
certification = "Processado por programa certificado n.º 0000/AT"   # InvoiceXpress's line, as its documents print it
drafts_only   = false                 # true: keep drafts for checking; "posagent pt finalize" issues them
invalid_nif   = "refuse"              # refuse (back to the cashier) or final_consumer (999999990, and say so)
pending_slip  = false                 # true: print "Este documento não serve de fatura" while a sale waits
tax_refresh   = "1h"                  # how often the account's taxes are read again

[portugal.seller]
name    = "Loja Exemplo, Lda."        # as registered; printed on every document
nif     = "508025338"                 # the shop's NIF (checked: 9 digits with a mod-11 check digit)
address = "Rua do Exemplo 1, 1000-001 Lisboa"

[portugal.invoicexpress]
account  = "exemplo"                  # {account}.app.invoicexpress.com
api_key  = "${INVOICEXPRESS_API_KEY}" # Settings → API; a secret, never logged
base_url = ""                         # empty: https://{account}.app.invoicexpress.com
timeout  = "20s"

[printer]
device    = "/dev/ttyUSB0"            # a serial port, tcp://HOST:9100, lp:/dev/usb/lp0, file:PATH or none
baud      = 9600
data_bits = 8
parity    = "none"
stop_bits = 1
profile   = "pt-58mm"                 # pt-58mm, pt-80mm (raster QR, CP860) or pt-58mm-native, pt-80mm-native
timeout   = "10s"

[store]
path = '@STORE@'                      # a TOML literal string: backslashes stay as they are

[api]
address = "127.0.0.1:8765"            # loopback only unless allow_remote = true
token   = "@TOKEN@"

[sync]
backoff_base = "2s"                   # first retry delay; doubles per attempt, with jitter
backoff_cap  = "10m"
max_attempts = 0                      # 0: retry until issued; refusals are held for a person at once
call_timeout = "20s"

[console]
enabled = false                       # the operator console is Taiwan's; a Portuguese till uses the API and CLI

[log]
level  = "info"
format = "text"
`

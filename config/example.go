package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/posagent/posagent/internal/private"
)

// NewToken returns a fresh API token: 32 random bytes, URL-safe base64.
func NewToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Example is a commented configuration with every key and its default. The
// seller, machine, QR key and ECPay credentials are placeholders the shop
// replaces; the secrets are read from the environment.
func Example(token string) string {
	return strings.NewReplacer("@TOKEN@", token, "@STORE@", DefaultStorePath()).Replace(exampleTemplate)
}

// Providers whose commented section ExampleFor can write.
var exampleProviders = []string{"ecpay", "amego", "bridge", "turnkey", "invoicexpress"}

// ExampleFor is Example with provider (ecpay, amego, bridge or turnkey) as [provider] name and
// that provider's section in place of ECPay's.
func ExampleFor(provider, token string) (string, error) {
	doc := Example(token)
	switch provider {
	case "ecpay", "":
		return doc, nil
	case "invoicexpress": // the Portuguese regime
		return ExamplePT(token), nil
	case "amego":
		start := strings.Index(doc, "[provider]\n")
		end := strings.Index(doc, "[printer]\n")
		doc = doc[:start] + amegoSection + doc[end:]
		doc = strings.Replace(doc, "provider calls in flight; ECPay wants 1 per merchant", "provider calls in flight; 1 keeps Amego's uploads in number order", 1)
		return doc, nil
	case "bridge":
		start := strings.Index(doc, "[provider]\n")
		end := strings.Index(doc, "[printer]\n")
		return doc[:start] + bridgeSection + doc[end:], nil
	case "sellers":
		return exampleSellers(doc), nil
	case "turnkey":
		start := strings.Index(doc, "[provider]\n")
		end := strings.Index(doc, "[printer]\n")
		doc = doc[:start] + turnkeySection + doc[end:]
		doc = strings.Replace(doc, `seller_address = ""`, `seller_address = "臺北市中正區重慶南路一段2號"   # required by Turnkey: the registered address`, 1)
		return doc, nil
	}
	return "", fmt.Errorf("--provider must be one of %s", strings.Join(exampleProviders, ", "))
}

// exampleSellers turns the single-seller example into one for two sellers
// on one till: the seller's sections move into [[sellers]] entries.
func exampleSellers(doc string) string {
	cut := func(from, to string) {
		start, end := strings.Index(doc, from), strings.Index(doc, to)
		doc = doc[:start] + doc[end:]
	}
	cut("seller_tax_id  =", "machine_id")
	cut("[qr]\n", "[printer]\n")
	cut("[booklets]\n", "# The operator console")
	return doc + sellersSection
}

const sellersSection = `
# Several sellers on one till (a shop-in-shop, a food-court counter): each
# [[sellers]] entry is one 統一編號 with its own QR key, provider and
# credentials, booklets and head office, as the top-level sections of a
# single-seller file. A sale names its seller ("seller":{"tax_id":…}) or is
# the default's. Secrets from the environment, one variable per seller.
[[sellers]]
tax_id  = "24634102"                  # the first shop's 統一編號
name    = "範例商店"                    # as registered; printed on its proofs
address = ""
default = true                        # a sale that names no seller is this one's
[sellers.qr]
key      = "${POSAGENT_QR_KEY}"
encoding = "utf8"
[sellers.provider]
name = "ecpay"
[sellers.provider.ecpay]
merchant_id = "2000132"
hash_key    = "${ECPAY_HASH_KEY}"
hash_iv     = "${ECPAY_HASH_IV}"
base_url    = "https://einvoice-stage.ecpay.com.tw"   # production: https://einvoice.ecpay.com.tw
timeout     = "15s"
[sellers.booklets]
low_water   = 100
lease       = 2
lease_ahead = "72h"

[[sellers]]
tax_id  = "53212539"                  # the second shop's 統一編號
name    = "範例麵包"
address = ""
[sellers.qr]
key      = "${BAKERY_QR_KEY}"
encoding = "utf8"
[sellers.provider]
name = "amego"
[sellers.provider.amego]
app_key  = "${BAKERY_AMEGO_APP_KEY}"
base_url = "https://invoice-api.amego.tw"
timeout  = "15s"
[sellers.booklets]
low_water = 50
lease     = 1
# Its own guard rails, if they differ from the till's [guard]:
# [sellers.guard]
# confirm_above = 3000
# refuse_above  = 30000
# Its own head office, if it has one:
# [sellers.hq]
# dsn = "${BAKERY_HQ_DSN}"
`

const amegoSection = `[provider]
name = "amego"                        # ecpay, amego, or fake (in memory, for trials)

[provider.amego]
seller_tax_id  = ""                   # the Amego account's 統一編號; empty: terminal.seller_tax_id
app_key        = "${AMEGO_APP_KEY}"   # Amego back office → API settings; a secret
base_url       = "https://invoice-api.amego.tw"   # one host for test and production accounts
track_api_code = ""                   # optional: the group of "API 配號" tracks to lease from
timeout        = "15s"

`

const turnkeySection = `[provider]
name = "turnkey"                      # ecpay, amego, turnkey (the MOF's Turnkey), or fake (in memory, for trials)

# Filing straight with the MOF through its Turnkey program: the folders as
# Turnkey's 上傳轉檔來源目錄 screens show them.
[provider.turnkey]
b2s_root    = "/opt/EINVTurnkey/UpCast/B2SSTORAGE"   # B2S: invoices, voids, allowances go to <root>/<Msg>/SRC
b2p_root    = "/opt/EINVTurnkey/UpCast/B2PMESSAGE"   # B2P: E0402 blank numbers
unpack_root = "/opt/EINVTurnkey/Unpack"              # checked against Turnkey's TASK_CONFIG
temp_dir    = "/opt/EINVTurnkey/posagent-tmp"        # same file system as the roots, outside SRC
state_dir   = ""                                     # the drop journal; default: "turnkey" beside the store
dsn         = "${TURNKEY_DB_DSN}"   # read-only: turnkey_ro:PASSWORD@tcp(127.0.0.1:3306)/EINVOICE
head_ban    = ""                    # head office 統編 on blank-number reports; default the seller's
member_carrier_type = ""            # the platform's code for your member carrier, if any
customs_clearance_mark = "1"        # zero-rated sales: 1 not through customs, 2 through customs
stuck_after = "2h"                  # alarm when a file is not accepted (C) this long after its drop
`

const bridgeSection = `[provider]
name = "bridge"                       # ecpay, amego, bridge, or fake (in memory, for trials)

# The bridge hands every document to the POS vendor's relay (Wixtar and other
# services without a public API; README "Wixtar and services without a public
# API"): over HTTP, or by running a program.
[provider.bridge]
transport = "http"                    # http or exec
url       = "https://relay.example.com/posagent"   # http: documents go to url/{kind}
secret    = "${POSAGENT_BRIDGE_SECRET}"            # http: at least 32 characters, shared with the receiver
# command = ["/opt/vendor-pos/bin/relay", "--sandbox"]   # exec, instead of url and secret: absolute path, arguments
timeout   = "15s"                     # one hand-over; at most sync.call_timeout
lease     = false                     # true: the receiver hands out booklets (kind lease)
numbered_allowances = false           # true: the receiver numbers allowances and needs the number to void them
mig       = false                     # true: add the MIG 4.1 XML (needs terminal.seller_address)

# Passed through in every document; every value is a secret. A Wixtar POS:
# [provider.bridge.credentials]
# store_code = "${WIXTAR_STORE_CODE}"
# pos_code   = "${WIXTAR_POS_CODE}"
# pid        = "${WIXTAR_PID}"
# rid        = "${WIXTAR_RID}"
# pname      = "${WIXTAR_PNAME}"

`

// WriteExample writes Example with a fresh token to path, readable by the
// owner only. It refuses to overwrite an existing file.
func WriteExample(path string) error { return WriteExampleFor(path, "ecpay") }

// WriteExampleFor is WriteExample with the provider's section (ExampleFor).
func WriteExampleFor(path, provider string) error {
	token, err := NewToken()
	if err != nil {
		return err
	}
	doc, err := ExampleFor(provider, token)
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := private.MkdirAll(dir); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s already exists; not overwriting it", path)
	}
	if err != nil {
		return fmt.Errorf("create config: %w", err)
	}
	if _, err := f.WriteString(doc); err != nil {
		f.Close()
		return fmt.Errorf("write config: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	// On Windows the 0600 above means nothing: the file would inherit its
	// folder's access, which in %ProgramData% lets every user read it.
	if err := private.Restrict(path); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

const exampleTemplate = `# posagent configuration (TOML). Written by "posagent init"; readable by its
# owner only, because it holds the API token. Values of the form ${NAME} are
# read from the environment, so secrets can stay out of the file.

[terminal]
seller_tax_id  = "24634102"          # the shop's 統一編號
seller_name    = "範例商店"            # as registered; printed on the proof
seller_address = ""
machine_id     = "POS01"             # this till, as registered at the provider

[qr]
# The AES key of the seller from the MOF e-invoice platform (32 hex digits).
key      = "${POSAGENT_QR_KEY}"
encoding = "utf8"                     # item names in the QR texts: utf8, big5, base64

[provider]
name = "ecpay"                        # ecpay, amego, turnkey (the MOF's Turnkey), or fake (in memory, for trials)

[provider.ecpay]
merchant_id = "2000132"
hash_key    = "${ECPAY_HASH_KEY}"
hash_iv     = "${ECPAY_HASH_IV}"
base_url    = "https://einvoice-stage.ecpay.com.tw"   # production: https://einvoice.ecpay.com.tw
timeout     = "15s"

[printer]
device    = "/dev/ttyUSB0"            # a serial port, tcp://HOST:9100, lp:/dev/usb/lp0, file:PATH or none
baud      = 9600
data_bits = 8
parity    = "none"                    # none, odd, even, mark, space
stop_bits = 1
profile   = "58mm"                    # 58mm, 58mm-page or 80mm (see "posagent receipt -h")
code39    = ""                        # "" the profile's; raster for a printer without GS k
logo      = ""                        # a PNG printed above the proof
footer    = ["謝謝光臨"]
details   = true                      # print the item lines under the proof
timeout   = "10s"
answer    = "after_print"             # after_commit: answer as soon as the sale is on disk, print in the background

[store]
path = '@STORE@'                      # a TOML literal string: backslashes stay as they are

[api]
address = "127.0.0.1:8765"            # loopback only unless allow_remote = true
token   = "@TOKEN@"

[sync]
concurrency  = 1                      # provider calls in flight; ECPay wants 1 per merchant
backoff_base = "2s"                   # first retry delay; doubles per attempt, with jitter
backoff_cap  = "10m"
max_attempts = 0                      # 0: retry transient errors until a person looks
call_timeout = "20s"

[alarms]
upload_warning  = "24h"               # an invoice not uploaded this long after issue
upload_critical = "40h"               # the legal limit is 48h

[reconcile]
enabled        = true                 # check yesterday with the provider every day at "at"
at             = "03:30"              # Asia/Taipei, HH:MM
close_out_days = 5                    # show the period close-out checklist this many days before its end

[booklets]
low_water   = 100                     # lease more below this many numbers left
lease       = 2                       # booklets of 50 per lease
lease_ahead = "72h"                   # lease the next period's numbers this early

# A shop with several tills shares one MySQL head office that leases each till
# its booklets (uploads still go to the provider above). Uncomment to use it.
# [hq]
# dsn      = "${POSAGENT_HQ_DSN}"       # user:pass@tcp(host:3306)/posagent; holds a password
# terminal = "POS01"                  # this till in the head office's ledger; default machine_id

# Guard rails against a mistyped amount (NT$15,000 for NT$150): above
# confirm_above a sale is refused unless the request says "confirmed": true;
# above refuse_above it is always refused. 0 switches a threshold off.
[guard]
confirm_above = 0
refuse_above  = 0

# Orders taken now and issued later (預購, 取貨): one left open longer than
# this shows in status and metrics.
[orders]
stale_after = "72h"

# The operator console in the browser: open http://<api.address>/ and sign in
# with api.token or this password.
[console]
enabled         = true
# password      = "${POSAGENT_CONSOLE_PASSWORD}"  # at least 10 characters; empty: api.token only
session_timeout = "2h"                # signed out after this long without a click

[log]
level  = "info"                       # debug, info, warn, error
format = "text"                       # text or json
`

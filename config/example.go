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
	return strings.ReplaceAll(strings.ReplaceAll(exampleTemplate, "@TOKEN@", token), "#@TURNKEY@", "#  ")
}

// ExampleFor is Example for a provider: "turnkey" names it in [provider] and
// writes [provider.turnkey] uncommented; anything else is Example.
func ExampleFor(provider, token string) string {
	if provider != "turnkey" {
		return Example(token)
	}
	s := strings.ReplaceAll(exampleTemplate, "@TOKEN@", token)
	s = strings.ReplaceAll(s, "#@TURNKEY@", "")
	s = strings.Replace(s, `name = "ecpay"                        # ecpay, turnkey`, `name = "turnkey"                      # ecpay, turnkey`, 1)
	// The ECPay section stays, commented out: its ${…} secrets would otherwise be required.
	if i := strings.Index(s, "[provider.ecpay]"); i >= 0 {
		end := i + strings.Index(s[i:], "\n\n")
		s = s[:i] + "# " + strings.ReplaceAll(s[i:end], "\n", "\n# ") + s[end:]
	}
	s = strings.Replace(s, `seller_address = ""`, `seller_address = "臺北市中正區重慶南路一段2號"   # required by Turnkey: the registered address`, 1)
	return s
}

// WriteExample writes Example with a fresh token to path, readable by the
// owner only. It refuses to overwrite an existing file.
func WriteExample(path string) error { return WriteExampleFor("", path) }

// WriteExampleFor is WriteExample with ExampleFor(provider).
func WriteExampleFor(provider, path string) error {
	token, err := NewToken()
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
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
	if _, err := f.WriteString(ExampleFor(provider, token)); err != nil {
		f.Close()
		return fmt.Errorf("write config: %w", err)
	}
	return f.Close()
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
name = "ecpay"                        # ecpay, turnkey (the MOF's Turnkey), or fake (in memory, for trials)

[provider.ecpay]
merchant_id = "2000132"
hash_key    = "${ECPAY_HASH_KEY}"
hash_iv     = "${ECPAY_HASH_IV}"
base_url    = "https://einvoice-stage.ecpay.com.tw"   # production: https://einvoice.ecpay.com.tw
timeout     = "15s"

# Filing straight with the MOF through its Turnkey program: name = "turnkey"
# above, terminal.seller_address set, and the folders as Turnkey's screens
# show them ("posagent init --provider turnkey" writes this uncommented).
#@TURNKEY@[provider.turnkey]
#@TURNKEY@b2s_root    = "/opt/EINVTurnkey/UpCast/B2SSTORAGE"   # 上傳轉檔來源目錄 of B2S; files go to <root>/<Msg>/SRC
#@TURNKEY@b2p_root    = "/opt/EINVTurnkey/UpCast/B2PMESSAGE"   # the same for B2P (E0402 blank numbers)
#@TURNKEY@unpack_root = "/opt/EINVTurnkey/Unpack"              # checked against Turnkey's TASK_CONFIG
#@TURNKEY@temp_dir    = "/opt/EINVTurnkey/posagent-tmp"        # same file system as the roots, outside SRC
#@TURNKEY@state_dir   = ""                                     # the drop journal; default: "turnkey" beside the store
#@TURNKEY@dsn         = "${TURNKEY_DB_DSN}"   # read-only: turnkey_ro:PASSWORD@tcp(127.0.0.1:3306)/EINVOICE
#@TURNKEY@head_ban    = ""                    # head office 統編 on blank-number reports; default the seller's
#@TURNKEY@member_carrier_type = ""            # the platform's code for your member carrier, if any
#@TURNKEY@customs_clearance_mark = "1"        # zero-rated sales: 1 not through customs, 2 through customs
#@TURNKEY@stuck_after = "2h"                  # alarm when a file is not accepted (C) this long after its drop

[printer]
device    = "/dev/ttyUSB0"            # a serial port, tcp://HOST:9100, lp:/dev/usb/lp0, file:PATH or none
baud      = 9600
data_bits = 8
parity    = "none"                    # none, odd, even, mark, space
stop_bits = 1
profile   = "58mm"                    # 58mm, 58mm-page or 80mm (see "posagent receipt -h")
logo      = ""                        # a PNG printed above the proof
footer    = ["謝謝光臨"]
details   = true                      # print the item lines under the proof
timeout   = "10s"

[store]
path = "/var/lib/posagent/posagent.db"

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

[booklets]
low_water   = 100                     # lease more below this many numbers left
lease       = 2                       # booklets of 50 per lease
lease_ahead = "72h"                   # lease the next period's numbers this early

# A shop with several tills shares one MySQL head office that leases each till
# its booklets (uploads still go to the provider above). Uncomment to use it.
# [hq]
# dsn      = "${POSAGENT_HQ_DSN}"       # user:pass@tcp(host:3306)/posagent; holds a password
# terminal = "POS01"                  # this till in the head office's ledger; default machine_id

[log]
level  = "info"                       # debug, info, warn, error
format = "text"                       # text or json
`

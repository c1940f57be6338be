// Package config reads the agent's one TOML configuration file: defaults
// first, then the file, strictly (an unknown key is an error naming it), with
// ${ENV} expansion for secrets and validation errors that name the field.
package config

import (
	"encoding"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/internal/endpoint"
	"github.com/posagent/posagent/internal/private"
)

// Config is the whole configuration of one terminal's agent.
type Config struct {
	Terminal Terminal `toml:"terminal"`
	QR       QR       `toml:"qr"`
	Provider Provider `toml:"provider"`
	Printer  Printer  `toml:"printer"`
	Store    Store    `toml:"store"`
	API      API      `toml:"api"`
	Sync     Sync     `toml:"sync"`
	Alarms   Alarms   `toml:"alarms"`
	Booklets Booklets `toml:"booklets"`
	HQ       HQ       `toml:"hq"`
	Console  Console  `toml:"console"`
	Guard    Guard    `toml:"guard"`
	Orders   Orders   `toml:"orders"`
	Log      Log      `toml:"log"`
	// Reconcile is the daily reconciliation with the provider and the
	// period close-out checklist.
	Reconcile Reconcile `toml:"reconcile"`
	// Sellers lists several sellers on one till (config/sellers.go); empty:
	// the one seller of [terminal], [qr], [provider], [booklets] and [hq].
	Sellers []Seller `toml:"sellers"`
	// Portugal is the Portuguese regime's set-up (terminal.regime = "pt").
	Portugal Portugal `toml:"portugal"`
}

// Terminal is the shop and this till.
type Terminal struct {
	SellerTaxID   string `toml:"seller_tax_id"`
	SellerName    string `toml:"seller_name"`
	SellerAddress string `toml:"seller_address"`
	// MachineID is the till as registered at the provider (ECPay's POS machine id).
	MachineID string `toml:"machine_id"`
	// Regime is "tw" (Taiwan's MOF e-invoices, the default) or "pt"
	// (Portugal: documents issued by InvoiceXpress, set up in [portugal]).
	Regime string `toml:"regime"`
}

// IsPortugal reports whether the terminal follows the Portuguese regime.
func (c *Config) IsPortugal() bool { return c.Terminal.Regime == string(posagent.RegimePortugal) }

// QR holds what the proof's two QR codes need.
type QR struct {
	// Key is the 32-hex-digit AES key the MOF issued to the seller.
	Key Secret `toml:"key"`
	// Encoding of the item names in the QR texts: "utf8" (default), "big5" or "base64".
	Encoding string `toml:"encoding"`
}

// Provider is the e-invoice service the agent uploads to.
type Provider struct {
	// Name is "ecpay", "amego", "bridge" (an integrator's receiver or program,
	// e.g. for Wixtar), "turnkey" (the MOF's Turnkey program, fed MIG 4.1
	// files) or "fake" (in memory, for trials without an account).
	Name    string  `toml:"name"`
	ECPay   ECPay   `toml:"ecpay"`
	Amego   Amego   `toml:"amego"`
	Bridge  Bridge  `toml:"bridge"`
	Turnkey Turnkey `toml:"turnkey"`
}

// Bridge hands every document to an integrator's receiver over HTTP or to a
// program (providers/bridge; the contract is in the README).
type Bridge struct {
	// Transport is "http" (POST to URL/{kind}, signed with Secret) or "exec"
	// (Command run with the document on standard input).
	Transport string `toml:"transport"`
	URL       string `toml:"url"`
	// Secret is the shared HMAC-SHA256 key of the http transport, at least 32 characters.
	Secret  Secret   `toml:"secret"`
	Command []string `toml:"command"`
	// Timeout bounds one hand-over (the program is killed when it runs out).
	Timeout Duration `toml:"timeout"`
	// Lease: the receiver hands out booklets (kind lease).
	Lease bool `toml:"lease"`
	// NumberedAllowances: the receiver numbers allowances and needs the number to void them.
	NumberedAllowances bool `toml:"numbered_allowances"`
	// MIG adds the MIG 4.1 XML (F0401, F0501, G0401, E0402) to the documents.
	MIG bool `toml:"mig"`
	// Credentials are passed through in every document (a Wixtar shop's store
	// code, POS code, PID, RID, PNAME); every value is a secret.
	Credentials map[string]Secret `toml:"credentials"`
}

// Amego holds the seller's Amego (光貿) API credentials.
type Amego struct {
	// SellerTaxID is the 統一編號 of the Amego account; empty is
	// terminal.seller_tax_id, and anything else must equal it.
	SellerTaxID string `toml:"seller_tax_id"`
	// AppKey signs every request (Amego back office → API settings).
	AppKey Secret `toml:"app_key"`
	// BaseURL is the API's root: https://invoice-api.amego.tw, or a stand-in.
	BaseURL string `toml:"base_url"`
	// TrackAPICode picks the group of "API 配號" tracks to lease from (optional).
	TrackAPICode string   `toml:"track_api_code"`
	Timeout      Duration `toml:"timeout"`
}

// Turnkey is where the MOF's Turnkey program takes files and keeps its
// database (providers/turnkey).
type Turnkey struct {
	// B2SRoot and B2PRoot are Turnkey's 上傳轉檔來源目錄 of B2S (STORAGE:
	// invoices, voids, allowances) and B2P (MESSAGE: blank numbers); files go
	// to <root>/<MessageType>/SRC.
	B2SRoot    string `toml:"b2s_root"`
	B2PRoot    string `toml:"b2p_root"`
	UnpackRoot string `toml:"unpack_root"`
	// TempDir is where files are written before their rename into SRC: on
	// the same file system, outside SRC.
	TempDir string `toml:"temp_dir"`
	// StateDir holds the drop journal; default "turnkey" beside the store.
	StateDir string `toml:"state_dir"`
	// DSN is the read-only MySQL/MariaDB DSN of Turnkey's database: it holds
	// a password, so it is a Secret. Empty: outcomes from the folders only.
	DSN Secret `toml:"dsn"`
	// HeadBan is the head office's 統編 on blank-number reports; default the seller's.
	HeadBan string `toml:"head_ban"`
	// MemberCarrierType is the CarrierType code the platform gave the
	// seller's member carrier, if it has one.
	MemberCarrierType string `toml:"member_carrier_type"`
	// CustomsClearanceMark for zero-rated sales: 1 (not through customs) or 2.
	CustomsClearanceMark string `toml:"customs_clearance_mark"`
	// StuckAfter raises the alarm for a message not accepted this long after its drop.
	StuckAfter Duration `toml:"stuck_after"`
}

// ECPay holds the merchant's ECPay credentials.
type ECPay struct {
	MerchantID string `toml:"merchant_id"`
	HashKey    Secret `toml:"hash_key"`
	HashIV     Secret `toml:"hash_iv"`
	// BaseURL is the API's root: ECPay's production or staging host, or a stand-in.
	BaseURL string   `toml:"base_url"`
	Timeout Duration `toml:"timeout"`
}

// Printer is the receipt printer.
type Printer struct {
	// Device: a serial port ("/dev/ttyUSB0", "serial:/dev/ttyS0"), a network
	// printer ("tcp://192.168.1.50:9100"), a write-only line printer node
	// ("lp:/dev/usb/lp0"), a printer installed in Windows, through its spooler
	// ("winspool:EPSON TM-T82III Receipt"), a file jobs are appended to
	// ("file:out.bin"), or "none" (no printer: proofs stay pending and the
	// answer says so). Windows serial ports are "COM3" or "\\.\COM12".
	Device   string   `toml:"device"`
	Baud     int      `toml:"baud"`
	DataBits int      `toml:"data_bits"`
	Parity   string   `toml:"parity"`
	StopBits int      `toml:"stop_bits"`
	Profile  string   `toml:"profile"`
	Logo     string   `toml:"logo"`
	Footer   []string `toml:"footer"`
	// Code39 overrides the profile's way of printing the barcode: "" (the
	// profile's), raster (bars drawn by posagent, for printers without GS k)
	// or native (GS k; only for a profile whose printer takes GS w 1).
	Code39 string `toml:"code39"`
	// Details prints the item lines under the proof.
	Details bool `toml:"details"`
	// Timeout bounds one job, status handshake included.
	Timeout Duration `toml:"timeout"`
	// Answer is when a sale is answered: "after_print" (the default: the
	// answer says whether the proof printed) or "after_commit" (as soon as
	// the sale is on disk, the proof printing in the background). A request
	// may choose for itself ("print_mode").
	Answer string `toml:"answer"`
}

// The values of printer.answer.
const (
	AnswerAfterPrint  = "after_print"
	AnswerAfterCommit = "after_commit"
)

// Guard is the guard rail against a mistyped amount (NT$15,000 for NT$150):
// a sale whose total is above ConfirmAbove is refused unless the request
// says it was confirmed; above RefuseAbove it is always refused. 0 switches
// a threshold off.
type Guard struct {
	ConfirmAbove int64 `toml:"confirm_above"`
	RefuseAbove  int64 `toml:"refuse_above"`
}

// validate checks the thresholds; key is where they sit in the file
// ("guard", "sellers[1].guard").
func (g Guard) validate(key string) error {
	switch {
	case g.ConfirmAbove < 0 || g.ConfirmAbove > posagent.MaxTotal:
		return fieldErr(key+".confirm_above", "must be 0 (off) to %d (NT$, whole dollars)", int64(posagent.MaxTotal))
	case g.RefuseAbove < 0 || g.RefuseAbove > posagent.MaxTotal:
		return fieldErr(key+".refuse_above", "must be 0 (off) to %d (NT$, whole dollars)", int64(posagent.MaxTotal))
	case g.RefuseAbove > 0 && g.ConfirmAbove >= g.RefuseAbove:
		return fieldErr(key+".confirm_above", "must be below %s.refuse_above (%d), or 0", key, g.RefuseAbove)
	}
	return nil
}

// Orders are sales accepted without a number and issued later.
type Orders struct {
	// StaleAfter: an order left open longer than this shows in status and metrics.
	StaleAfter Duration `toml:"stale_after"`
}

// Store is the terminal's SQLite database.
type Store struct {
	Path string `toml:"path"`
}

// API is the local HTTP API the POS software calls.
type API struct {
	Address string `toml:"address"`
	Token   Secret `toml:"token"`
	// AllowRemote must be set to bind to anything but loopback.
	AllowRemote bool `toml:"allow_remote"`
}

// Sync is the background upload loop.
type Sync struct {
	Concurrency int      `toml:"concurrency"`
	BackoffBase Duration `toml:"backoff_base"`
	BackoffCap  Duration `toml:"backoff_cap"`
	// MaxAttempts turns a job that keeps failing transiently into a dead one;
	// 0 keeps retrying until the deadline alarm calls a person.
	MaxAttempts int `toml:"max_attempts"`
	// CallTimeout bounds one call to the provider.
	CallTimeout Duration `toml:"call_timeout"`
}

// Alarms are the upload deadline alarms (the legal limit is 48 h after issue).
type Alarms struct {
	UploadWarning  Duration `toml:"upload_warning"`
	UploadCritical Duration `toml:"upload_critical"`
}

// Booklets is the keeping of invoice numbers.
type Booklets struct {
	// LowWater: lease more when fewer numbers than this are left in the current period.
	LowWater int `toml:"low_water"`
	// Lease is how many booklets of 50 to ask for at a time.
	Lease int `toml:"lease"`
	// LeaseAhead: lease the next period's booklets this long before it starts.
	LeaseAhead Duration `toml:"lease_ahead"`
}

// HQ is the shop's MySQL head office, for a shop with several tills: when DSN
// is set, the agent leases its booklets there instead of from the provider,
// and still uploads to the provider.
type HQ struct {
	// DSN is a go-sql-driver/mysql DSN ("user:pass@tcp(host:3306)/posagent"):
	// it holds the password, so it is a Secret.
	DSN Secret `toml:"dsn"`
	// Terminal is this till's name in the head office's ledger; empty is
	// terminal.machine_id.
	Terminal string `toml:"terminal"`
}

// Enabled reports whether a head office is configured.
func (h HQ) Enabled() bool { return !h.DSN.IsZero() }

// Console is the operator console in the browser, served under / on the
// API's address (loopback unless api.allow_remote).
type Console struct {
	// Enabled serves the console (default true); false leaves only the API.
	Enabled bool `toml:"enabled"`
	// Password signs in to the console besides api.token, so that the shop's
	// staff need not know the POS's token. Empty: the token only.
	Password Secret `toml:"password"`
	// SessionTimeout signs a browser out after this long without a request.
	SessionTimeout Duration `toml:"session_timeout"`
}

// Portugal is a Portuguese terminal's set-up: the shop, its InvoiceXpress
// account and how documents are issued (providers.md §2, §5.3).
type Portugal struct {
	Seller        PTSeller      `toml:"seller"`
	InvoiceXpress InvoiceXpress `toml:"invoicexpress"`
	// DocumentType is what a sale is issued as: "invoice_receipts"
	// (Fatura-Recibo, the default), "simplified_invoices" (Fatura
	// Simplificada) or "invoices" (Fatura).
	DocumentType string `toml:"document_type"`
	// Region picks the account's VAT rates: "PT" (mainland 23/13/6/0),
	// "PT-MA" (Madeira) or "PT-AC" (Azores); the rates are the account's
	// taxes of that region (GET /taxes.json).
	Region string `toml:"region"`
	// Certification is the line printed under the document ("Processado por
	// programa certificado n.º …/AT"): InvoiceXpress's certificate number,
	// which its API does not give.
	Certification string `toml:"certification"`
	// DraftsOnly keeps issued documents as drafts (no fiscal value) for the
	// shop to check; `posagent pt finalize` finalizes them, in sale order.
	DraftsOnly bool `toml:"drafts_only"`
	// InvalidNIF is what a sale with a NIF that fails its check digit gets:
	// "refuse" (default: back to the cashier) or "final_consumer" (issued to
	// 999999990, and the answer says so).
	InvalidNIF string `toml:"invalid_nif"`
	// PendingSlip prints a "not an invoice" slip for a sale that cannot be
	// issued at once (offline); its document prints by itself later.
	PendingSlip bool `toml:"pending_slip"`
	// TaxRefresh is how often the account's taxes are read again (default 1h).
	TaxRefresh Duration `toml:"tax_refresh"`
}

// PTSeller is the shop as its Portuguese receipts name it.
type PTSeller struct {
	Name    string `toml:"name"`
	NIF     string `toml:"nif"`
	Address string `toml:"address"`
}

// InvoiceXpress is the shop's InvoiceXpress account.
type InvoiceXpress struct {
	// Account is the first part of {account}.app.invoicexpress.com.
	Account string `toml:"account"`
	// APIKey is the account's API key (Settings → API); it travels in the
	// query string and is stripped from every log line and error.
	APIKey Secret `toml:"api_key"`
	// BaseURL overrides the account's URL (a stand-in): https, or http on loopback.
	BaseURL string   `toml:"base_url"`
	Timeout Duration `toml:"timeout"`
}

// Reconcile is the daily reconciliation run (README "Daily reconciliation and
// period close-out").
type Reconcile struct {
	// Enabled runs it every day at At (default true); `posagent reconcile`
	// runs it on demand either way.
	Enabled bool `toml:"enabled"`
	// At is the time of day, Asia/Taipei, "HH:MM": the run checks the day
	// before. Default 03:30, after the platform's day has closed.
	At string `toml:"at"`
	// CloseOutDays: the period close-out checklist shows from this many days
	// before the period's end until it is complete.
	CloseOutDays int `toml:"close_out_days"`
}

// Clock parses At into hour and minute.
func (r Reconcile) Clock() (hour, minute int, err error) {
	t, err := time.Parse("15:04", r.At)
	if err != nil || len(r.At) != 5 {
		return 0, 0, fieldErr("reconcile.at", "%q is not a time of day HH:MM (Asia/Taipei), e.g. 03:30", r.At)
	}
	return t.Hour(), t.Minute(), nil
}

// Log is the daemon's logging.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Duration is a time.Duration written as "24h", "500ms".
type Duration struct{ time.Duration }

// UnmarshalText reads a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as 30s, 5m or 24h", b)
	}
	d.Duration = v
	return nil
}

// MarshalText writes a Go duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.Duration.String()), nil }

// DefaultAddress is where the local API listens unless told otherwise.
const DefaultAddress = "127.0.0.1:8765"

// DefaultConfig is what the agent uses for everything a file leaves out.
func DefaultConfig() Config {
	return Config{
		QR: QR{Encoding: "utf8"},
		Provider: Provider{Name: "ecpay", ECPay: ECPay{Timeout: Duration{15 * time.Second}},
			Amego:  Amego{BaseURL: "https://invoice-api.amego.tw", Timeout: Duration{15 * time.Second}},
			Bridge: Bridge{Timeout: Duration{15 * time.Second}}},
		Printer: Printer{
			Device: "none", Baud: 9600, DataBits: 8, Parity: "none", StopBits: 1,
			Profile: "58mm", Timeout: Duration{10 * time.Second}, Answer: AnswerAfterPrint,
		},
		Store: Store{Path: DefaultStorePath()},
		API:   API{Address: DefaultAddress},
		Sync: Sync{
			// ECPay rate-limits per merchant and answers 403 to parallel requests
			// (ecpay.md §9): one call at a time unless the provider allows more.
			Concurrency: 1, BackoffBase: Duration{2 * time.Second}, BackoffCap: Duration{10 * time.Minute},
			CallTimeout: Duration{20 * time.Second},
		},
		Alarms:    Alarms{UploadWarning: Duration{24 * time.Hour}, UploadCritical: Duration{40 * time.Hour}},
		Booklets:  Booklets{LowWater: 100, Lease: 2, LeaseAhead: Duration{72 * time.Hour}},
		Console:   Console{Enabled: true, SessionTimeout: Duration{2 * time.Hour}},
		Orders:    Orders{StaleAfter: Duration{72 * time.Hour}},
		Log:       Log{Level: "info", Format: "text"},
		Reconcile: Reconcile{Enabled: true, At: "03:30", CloseOutDays: 5},
		Terminal:  Terminal{Regime: string(posagent.RegimeTaiwan)},
		Portugal: Portugal{DocumentType: string(posagent.PTInvoiceReceipt), Region: "PT", InvalidNIF: "refuse",
			TaxRefresh: Duration{time.Hour}, InvoiceXpress: InvoiceXpress{Timeout: Duration{20 * time.Second}}},
	}
}

// FieldError is a configuration error about one key, named as in the file
// ("printer.baud").
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Load reads the file at path over DefaultConfig and validates the result. A
// file that group or others may read is reported on log (a warning, not an
// error: the operator may have reasons).
func Load(path string, log *slog.Logger) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	if why, err := private.Exposed(path); err == nil && why != "" && log != nil {
		log.Warn("the config file holds secrets and others may read it; "+private.Hint,
			"path", path, "why", why)
	}
	cfg, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// Parse reads a configuration document over DefaultConfig, expands ${ENV}
// references in string values and validates.
func Parse(data []byte) (Config, error) {
	cfg := DefaultConfig()
	prepareSellers(&cfg)
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return Config{}, fmt.Errorf("line %d: %s", perr.Position.Line, perr.Message)
		}
		return Config{}, err
	}
	if err := exactKeys(md); err != nil {
		return Config{}, err
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Config{}, fieldErr(keys[0], "unknown key (check its spelling and section)")
	}
	if err := expandEnv(reflect.ValueOf(&cfg).Elem(), ""); err != nil {
		return Config{}, err
	}
	if err := finishSellers(&cfg, md); err != nil {
		return Config{}, err
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	cfg.defaultHQTerminal()
	return cfg, nil
}

// exactKeys refuses a key written in another case than documented
// ([API] TOKEN = …). The TOML decoder matches keys to fields in any case, so
// `[api] token` and `[API] TOKEN` in one file would both be taken, the last
// silently winning — the same fault as a duplicate key, which TOML refuses.
func exactKeys(md toml.MetaData) error {
	root := reflect.TypeFor[Config]()
	for _, key := range md.Keys() {
		t := root
		for i, seg := range key {
			f, exact, ok := tomlField(t, seg)
			if !ok {
				break // unknown: Undecoded names it
			}
			if !exact {
				return fieldErr(strings.Join(key[:i+1], "."), "keys are exact: write %q", tomlName(f))
			}
			t = f.Type
			if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct {
				t = t.Elem() // [[sellers]]: the keys of each entry
			}
			if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(textUnmarshaler) {
				break
			}
		}
	}
	return nil
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

func tomlName(f reflect.StructField) string {
	return strings.Split(f.Tag.Get("toml"), ",")[0]
}

// tomlField finds the field of struct t that seg names in the file, and
// whether seg spells its documented name exactly.
func tomlField(t reflect.Type, seg string) (f reflect.StructField, exact, ok bool) {
	if t.Kind() != reflect.Struct {
		return f, false, false
	}
	for i := range t.NumField() {
		switch n := tomlName(t.Field(i)); {
		case n == "" || n == "-":
		case n == seg:
			return t.Field(i), true, true
		case strings.EqualFold(n, seg):
			f, ok = t.Field(i), true
		}
	}
	return f, false, ok
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} in every string and Secret with the environment
// variable's value. Only the braced form is expanded, so a lone "$" in a
// password stays as written. An unset variable is an error naming the field.
func expandEnv(v reflect.Value, path string) error {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := strings.Split(f.Tag.Get("toml"), ",")[0]
			if name == "" {
				continue
			}
			p := name
			if path != "" {
				p = path + "." + name
			}
			if err := expandEnv(v.Field(i), p); err != nil {
				return err
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			if err := expandEnv(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		// Map values are not addressable: expand a copy and store it back.
		if v.Type().Elem().Kind() != reflect.String {
			return nil
		}
		for _, k := range v.MapKeys() {
			val := reflect.New(v.Type().Elem()).Elem()
			val.Set(v.MapIndex(k))
			if err := expandEnv(val, path+"."+k.String()); err != nil {
				return err
			}
			v.SetMapIndex(k, val)
		}
	case reflect.String:
		s := v.String()
		if !strings.Contains(s, "${") {
			return nil
		}
		var missing string
		out := envRef.ReplaceAllStringFunc(s, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			val, ok := os.LookupEnv(name)
			if !ok && missing == "" {
				missing = name
			}
			return val
		})
		if missing != "" {
			return fieldErr(path, "refers to ${%s}, which is not set in the environment", missing)
		}
		v.SetString(out)
	}
	return nil
}

var (
	parities    = []string{"none", "odd", "even", "mark", "space"}
	bauds       = []int{1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200}
	qrEncodings = []string{"utf8", "big5", "base64"}
	logLevels   = []string{"debug", "info", "warn", "error"}
	machineID   = regexp.MustCompile(`^[A-Za-z0-9]{1,10}$`)
	hexKey      = regexp.MustCompile(`^[0-9A-Fa-f]{32}$`)
)

// Validate checks every field and returns the first problem, naming the field.
func (c *Config) Validate() error {
	switch c.Terminal.Regime {
	case string(posagent.RegimeTaiwan), "": // "": a Config built in code, not read
		if len(c.Sellers) > 0 {
			if err := c.validateSellers(); err != nil {
				return err
			}
		} else if err := c.validateSeller(); err != nil {
			return err
		}
		if !machineID.MatchString(c.Terminal.MachineID) {
			return fieldErr("terminal.machine_id", "must be 1 to 10 letters or digits (the till's id at the provider)")
		}
	case string(posagent.RegimePortugal):
		if len(c.Sellers) > 0 {
			return fieldErr("sellers", "is Taiwan's: a Portuguese terminal has one seller, [portugal.seller]")
		}
		if err := c.validatePortugal(); err != nil {
			return err
		}
	default:
		return fieldErr("terminal.regime", "must be tw (Taiwan, MOF e-invoices) or pt (Portugal, InvoiceXpress)")
	}
	return c.validateTill()
}

// validateSeller checks what describes the seller: its identity, [qr],
// [provider], [booklets] and [hq] (for each of several sellers, its view).
func (c *Config) validateSeller() error {
	t := c.Terminal
	switch {
	case t.SellerTaxID == "":
		return fieldErr("terminal.seller_tax_id", "is required: the shop's 8-digit 統一編號")
	case !posagent.ValidTaxID(t.SellerTaxID):
		return fieldErr("terminal.seller_tax_id", "%q is not a valid 統一編號 (8 digits with a check sum)", t.SellerTaxID)
	case strings.TrimSpace(t.SellerName) == "":
		return fieldErr("terminal.seller_name", "is required: the shop's registered name")
	case len([]rune(t.SellerName)) > posagent.MaxName:
		return fieldErr("terminal.seller_name", "is longer than %d characters", posagent.MaxName)
	}
	switch {
	case c.QR.Key.IsZero():
		return fieldErr("qr.key", "is required: the 32-hex-digit AES key from the MOF e-invoice platform")
	case !hexKey.MatchString(c.QR.Key.Reveal()):
		// Never echo the value: it is a secret even when malformed.
		return fieldErr("qr.key", "must be 32 hexadecimal digits")
	case !slices.Contains(qrEncodings, c.QR.Encoding):
		return fieldErr("qr.encoding", "must be one of %s", strings.Join(qrEncodings, ", "))
	}
	if err := c.validateProvider(); err != nil {
		return err
	}
	b := c.Booklets
	switch {
	case b.LowWater < 0:
		return fieldErr("booklets.low_water", "must be 0 or more")
	case b.Lease < 1 || b.Lease > 100:
		return fieldErr("booklets.lease", "must be between 1 and 100 booklets of 50")
	case b.LeaseAhead.Duration < 0 || b.LeaseAhead.Duration > 30*24*time.Hour:
		return fieldErr("booklets.lease_ahead", "must be between 0 and 720h")
	}
	return c.validateHQ()
}

// validateTill checks what the till's sellers share.
func (c *Config) validateTill() error {
	if err := c.validatePrinter(); err != nil {
		return err
	}
	if strings.TrimSpace(c.Store.Path) == "" {
		return fieldErr("store.path", "is required")
	}
	if err := c.validateAPI(); err != nil {
		return err
	}
	if err := c.validateConsole(); err != nil {
		return err
	}
	s := c.Sync
	switch {
	case s.Concurrency < 1 || s.Concurrency > 64:
		return fieldErr("sync.concurrency", "must be between 1 and 64")
	case s.BackoffBase.Duration <= 0:
		return fieldErr("sync.backoff_base", "must be more than 0")
	case s.BackoffCap.Duration < s.BackoffBase.Duration:
		return fieldErr("sync.backoff_cap", "must be at least sync.backoff_base (%s)", s.BackoffBase.Duration)
	case s.MaxAttempts < 0:
		return fieldErr("sync.max_attempts", "must be 0 (no limit) or more")
	case s.CallTimeout.Duration <= 0:
		return fieldErr("sync.call_timeout", "must be more than 0")
	}
	a := c.Alarms
	switch {
	case a.UploadWarning.Duration <= 0:
		return fieldErr("alarms.upload_warning", "must be more than 0")
	case a.UploadCritical.Duration <= a.UploadWarning.Duration:
		return fieldErr("alarms.upload_critical", "must be later than alarms.upload_warning")
	case a.UploadCritical.Duration >= 48*time.Hour:
		return fieldErr("alarms.upload_critical", "must be under 48h, the legal upload limit")
	}
	if err := c.Guard.validate("guard"); err != nil {
		return err
	}
	if o := c.Orders.StaleAfter.Duration; o <= 0 || o > 90*24*time.Hour {
		return fieldErr("orders.stale_after", "must be more than 0 and at most 2160h (90 days)")
	}
	if _, _, err := c.Reconcile.Clock(); err != nil {
		return err
	}
	if d := c.Reconcile.CloseOutDays; d < 0 || d > 60 {
		return fieldErr("reconcile.close_out_days", "must be between 0 and 60 days")
	}
	switch {
	case !slices.Contains(logLevels, c.Log.Level):
		return fieldErr("log.level", "must be one of %s", strings.Join(logLevels, ", "))
	case c.Log.Format != "text" && c.Log.Format != "json":
		return fieldErr("log.format", "must be text or json")
	}
	return nil
}

var (
	ptDocTypes = []string{string(posagent.PTInvoiceReceipt), string(posagent.PTSimplifiedInvoice), string(posagent.PTInvoice)}
	ptRegions  = []string{"PT", "PT-MA", "PT-AC"}
)

// validatePortugal checks the [portugal] section of a Portuguese terminal.
func (c *Config) validatePortugal() error {
	p := c.Portugal
	ix := p.InvoiceXpress
	switch {
	case strings.TrimSpace(p.Seller.Name) == "":
		return fieldErr("portugal.seller.name", "is required: the shop's registered name, printed on every document")
	case utf8.RuneCountInString(p.Seller.Name) > posagent.MaxName:
		return fieldErr("portugal.seller.name", "is longer than %d characters", posagent.MaxName)
	case !posagent.ValidNIF(p.Seller.NIF) || p.Seller.NIF == posagent.FinalConsumerNIF:
		return fieldErr("portugal.seller.nif", "%q is not a valid Portuguese NIF (9 digits, the last a mod-11 check digit)", p.Seller.NIF)
	case strings.TrimSpace(p.Seller.Address) == "":
		return fieldErr("portugal.seller.address", "is required: printed on every document")
	case ix.BaseURL == "" && !ptAccount.MatchString(ix.Account):
		return fieldErr("portugal.invoicexpress.account", "is required: the first part of {account}.app.invoicexpress.com (lower-case letters, digits, -)")
	case strings.TrimSpace(ix.APIKey.Reveal()) == "":
		return fieldErr("portugal.invoicexpress.api_key", "is required: InvoiceXpress → Settings → API")
	case ix.BaseURL != "" && !strings.HasPrefix(ix.BaseURL, "https://") && !strings.HasPrefix(ix.BaseURL, "http://127.0.0.1") &&
		!strings.HasPrefix(ix.BaseURL, "http://localhost"):
		return fieldErr("portugal.invoicexpress.base_url", "must be an https:// URL (plain http only on loopback, for a stand-in)")
	case ix.Timeout.Duration <= 0:
		return fieldErr("portugal.invoicexpress.timeout", "must be more than 0")
	case !slices.Contains(ptDocTypes, p.DocumentType):
		return fieldErr("portugal.document_type", "must be one of %s", strings.Join(ptDocTypes, ", "))
	case !slices.Contains(ptRegions, p.Region):
		return fieldErr("portugal.region", "must be one of %s (mainland, Madeira, Azores)", strings.Join(ptRegions, ", "))
	case strings.TrimSpace(p.Certification) == "":
		return fieldErr("portugal.certification", "is required: the \"Processado por programa certificado n.º …/AT\" line of InvoiceXpress, printed on every document")
	case utf8.RuneCountInString(p.Certification) > 120:
		return fieldErr("portugal.certification", "is longer than 120 characters")
	case p.InvalidNIF != "refuse" && p.InvalidNIF != "final_consumer":
		return fieldErr("portugal.invalid_nif", "must be refuse (back to the cashier) or final_consumer (issue to 999999990 and say so)")
	case p.TaxRefresh.Duration < time.Minute:
		return fieldErr("portugal.tax_refresh", "must be at least 1m")
	case !strings.HasPrefix(c.Printer.Profile, "pt-"):
		return fieldErr("printer.profile", "%q is a Taiwanese profile: a Portuguese terminal prints on pt-58mm, pt-80mm, pt-58mm-native or pt-80mm-native", c.Printer.Profile)
	}
	return nil
}

var ptAccount = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func (c *Config) validateProvider() error {
	switch c.Provider.Name {
	case "fake":
		return nil
	case "turnkey":
		return c.validateTurnkey()
	case "bridge":
		return c.validateBridge()
	case "ecpay":
	case "amego":
		return c.validateAmego()
	default:
		return fieldErr("provider.name", "must be one of ecpay, amego, bridge, turnkey, fake")
	}
	e := c.Provider.ECPay
	switch {
	case e.MerchantID == "" || len(e.MerchantID) > 10:
		return fieldErr("provider.ecpay.merchant_id", "is required: the ECPay MerchantID (up to 10 characters)")
	case len(e.HashKey.Reveal()) != 16:
		return fieldErr("provider.ecpay.hash_key", "must be the 16-character HashKey from the ECPay back office")
	case len(e.HashIV.Reveal()) != 16:
		return fieldErr("provider.ecpay.hash_iv", "must be the 16-character HashIV from the ECPay back office")
	case !strings.HasPrefix(e.BaseURL, "https://") && !strings.HasPrefix(e.BaseURL, "http://127.0.0.1") &&
		!strings.HasPrefix(e.BaseURL, "http://localhost"):
		return fieldErr("provider.ecpay.base_url", "must be an https:// URL (plain http only on loopback, for a stand-in)")
	case e.Timeout.Duration <= 0:
		return fieldErr("provider.ecpay.timeout", "must be more than 0")
	}
	return nil
}

func (c *Config) validateTurnkey() error {
	t := c.Provider.Turnkey
	if strings.TrimSpace(c.Terminal.SellerAddress) == "" {
		return fieldErr("terminal.seller_address", "is required with provider turnkey: Turnkey refuses invoices without the seller's address")
	}
	for _, d := range []struct{ field, path string }{
		{"b2s_root", t.B2SRoot}, {"b2p_root", t.B2PRoot}, {"temp_dir", t.TempDir},
		{"unpack_root", t.UnpackRoot}, {"state_dir", t.StateDir},
	} {
		switch {
		case d.path == "" && (d.field == "unpack_root" || d.field == "state_dir"):
		case d.path == "":
			return fieldErr("provider.turnkey."+d.field, "is required: the folder as set in Turnkey's 上傳轉檔來源目錄 screens")
		case !filepath.IsAbs(d.path):
			return fieldErr("provider.turnkey."+d.field, "%q must be an absolute path", d.path)
		}
	}
	switch {
	case t.HeadBan != "" && !posagent.ValidTaxID(t.HeadBan):
		return fieldErr("provider.turnkey.head_ban", "%q is not a valid 統一編號", t.HeadBan)
	case len(t.MemberCarrierType) > 6:
		return fieldErr("provider.turnkey.member_carrier_type", "is a code of up to 6 characters")
	case t.CustomsClearanceMark != "" && t.CustomsClearanceMark != "1" && t.CustomsClearanceMark != "2":
		return fieldErr("provider.turnkey.customs_clearance_mark", "must be 1 (not through customs) or 2 (through customs)")
	case t.StuckAfter.Duration < 0:
		return fieldErr("provider.turnkey.stuck_after", "must not be negative")
	}
	return nil
}

var credentialName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

func (c *Config) validateBridge() error {
	b := c.Provider.Bridge
	switch b.Transport {
	case "http":
		u, err := url.Parse(b.URL)
		switch {
		case b.URL == "":
			return fieldErr("provider.bridge.url", "is required with transport http: the receiver's base URL (documents go to URL/{kind})")
		case err != nil || u.Host == "":
			// Never echo the value: a URL may hold a password.
			return fieldErr("provider.bridge.url", "is not an absolute URL such as https://relay.example.com/posagent")
		case u.User != nil:
			return fieldErr("provider.bridge.url", "must not hold a user or password (provider.bridge.secret signs every request)")
		case u.RawQuery != "" || u.Fragment != "":
			return fieldErr("provider.bridge.url", "must not have a query or fragment")
		case !endpoint.Allowed(u):
			return fieldErr("provider.bridge.url", "must be an https:// URL (plain http only on loopback, for a relay on this machine)")
		case len(b.Secret.Reveal()) < 32:
			return fieldErr("provider.bridge.secret", "must be at least 32 characters (the HMAC key shared with the receiver; e.g. openssl rand -hex 32)")
		case len(b.Command) > 0:
			return fieldErr("provider.bridge.command", "is only for transport exec")
		}
	case "exec":
		switch {
		case len(b.Command) == 0 || b.Command[0] == "":
			return fieldErr("provider.bridge.command", "is required with transport exec: the program and its arguments, e.g. [\"/opt/relay/bin/relay\", \"--sandbox\"]")
		case !filepath.IsAbs(b.Command[0]):
			return fieldErr("provider.bridge.command", "the program %q must be an absolute path", b.Command[0])
		case b.URL != "":
			return fieldErr("provider.bridge.url", "is only for transport http (pass a relay's URL to the program in provider.bridge.command)")
		}
	case "":
		return fieldErr("provider.bridge.transport", "is required: http or exec")
	default:
		return fieldErr("provider.bridge.transport", "must be http or exec")
	}
	switch {
	case b.Timeout.Duration <= 0:
		return fieldErr("provider.bridge.timeout", "must be more than 0")
	case b.Timeout.Duration > c.Sync.CallTimeout.Duration:
		return fieldErr("provider.bridge.timeout", "must be at most sync.call_timeout (%s), which bounds every provider call", c.Sync.CallTimeout.Duration)
	}
	if b.MIG && strings.TrimSpace(c.Terminal.SellerAddress) == "" {
		return fieldErr("terminal.seller_address", "is required with provider.bridge.mig: Turnkey refuses MIG invoices without the seller's address")
	}
	for name, v := range b.Credentials {
		if !credentialName.MatchString(name) {
			return fieldErr("provider.bridge.credentials."+name, "a credential name is 1 to 32 of a-z 0-9 _, starting with a letter")
		}
		if v.IsZero() {
			return fieldErr("provider.bridge.credentials."+name, "is empty")
		}
	}
	return nil
}

var amegoSeller = regexp.MustCompile(`^[0-9]{8}$`)

func (c *Config) validateAmego() error {
	a := c.Provider.Amego
	switch {
	case a.SellerTaxID != "" && !amegoSeller.MatchString(a.SellerTaxID):
		return fieldErr("provider.amego.seller_tax_id", "must be the 8-digit 統一編號 of the Amego account (or empty: terminal.seller_tax_id)")
	case a.SellerTaxID != "" && a.SellerTaxID != c.Terminal.SellerTaxID:
		return fieldErr("provider.amego.seller_tax_id", "%s is not terminal.seller_tax_id (%s): the till can only upload the invoices of the account's seller",
			a.SellerTaxID, c.Terminal.SellerTaxID)
	case strings.TrimSpace(a.AppKey.Reveal()) == "":
		// Never echo the value: it is a secret.
		return fieldErr("provider.amego.app_key", "is required: the App Key from the Amego back office (API settings)")
	case len(a.AppKey.Reveal()) > 128 || strings.ContainsAny(a.AppKey.Reveal(), " \t\r\n"):
		return fieldErr("provider.amego.app_key", "must be the App Key as Amego shows it, without spaces")
	case !strings.HasPrefix(a.BaseURL, "https://") && !strings.HasPrefix(a.BaseURL, "http://127.0.0.1") &&
		!strings.HasPrefix(a.BaseURL, "http://localhost"):
		return fieldErr("provider.amego.base_url", "must be an https:// URL (plain http only on loopback, for a stand-in)")
	case len(a.TrackAPICode) > 20:
		return fieldErr("provider.amego.track_api_code", "is at most 20 characters")
	case a.Timeout.Duration <= 0:
		return fieldErr("provider.amego.timeout", "must be more than 0")
	}
	return nil
}

func (c *Config) validateHQ() error {
	h := c.HQ
	if h.DSN.IsZero() {
		if h.Terminal != "" {
			return fieldErr("hq.dsn", "is required when hq.terminal is set: the head office's MySQL DSN")
		}
		return nil
	}
	// Only the shape is checked here, and the value is never echoed: it holds
	// the password. hq.Open parses it fully and also refuses it by field name.
	dsn := h.DSN.Reveal()
	if !strings.Contains(dsn, "/") {
		return fieldErr("hq.dsn", "must be a MySQL DSN such as user:pass@tcp(127.0.0.1:3306)/posagent")
	}
	if len(h.Terminal) > 64 || strings.TrimSpace(h.Terminal) != h.Terminal {
		return fieldErr("hq.terminal", "must be 1 to 64 characters without surrounding spaces (default: terminal.machine_id)")
	}
	return nil
}

func (c *Config) validatePrinter() error {
	p := c.Printer
	switch d := p.Device; {
	case d == "none":
	case strings.HasPrefix(d, "tcp://"):
		host := strings.TrimPrefix(d, "tcp://")
		if !strings.Contains(host, ":") {
			host += ":9100"
		}
		if h, _, err := net.SplitHostPort(host); err != nil || h == "" {
			return fieldErr("printer.device", "tcp:// needs a host, e.g. tcp://192.168.1.50:9100")
		}
	case strings.HasPrefix(d, "winspool:"):
		if strings.TrimSpace(strings.TrimPrefix(d, "winspool:")) == "" {
			return fieldErr("printer.device", "winspool: needs the printer's name as Windows shows it, e.g. winspool:EPSON TM-T82III Receipt")
		}
	case strings.HasPrefix(d, "serial:") || strings.HasPrefix(d, "lp:") || strings.HasPrefix(d, "file:"):
		if _, rest, _ := strings.Cut(d, ":"); rest == "" {
			return fieldErr("printer.device", "%s needs a path", d)
		}
	case strings.HasPrefix(d, "/") || strings.HasPrefix(strings.ToUpper(d), "COM") || strings.HasPrefix(strings.ToUpper(d), `\\.\COM`):
		// A bare serial port path: /dev/ttyUSB0, COM3, \\.\COM12.
	default:
		return fieldErr("printer.device", "must be a serial port (/dev/ttyUSB0, COM3, \\\\.\\COM12 or serial:/dev/ttyS0), tcp://HOST:9100, lp:/dev/usb/lp0, winspool:PRINTER NAME, file:PATH or none")
	}
	switch {
	case !slices.Contains(bauds, p.Baud):
		return fieldErr("printer.baud", "must be one of %s", joinInts(bauds))
	case p.DataBits != 7 && p.DataBits != 8:
		return fieldErr("printer.data_bits", "must be 7 or 8")
	case !slices.Contains(parities, p.Parity):
		return fieldErr("printer.parity", "must be one of %s", strings.Join(parities, ", "))
	case p.StopBits != 1 && p.StopBits != 2:
		return fieldErr("printer.stop_bits", "must be 1 or 2")
	case p.Profile == "":
		return fieldErr("printer.profile", "is required (e.g. 58mm, 58mm-page, 80mm)")
	case p.Code39 != "" && p.Code39 != "raster" && p.Code39 != "native":
		return fieldErr("printer.code39", "must be raster or native (or empty: the profile's)")
	case p.Timeout.Duration <= 0:
		return fieldErr("printer.timeout", "must be more than 0")
	case p.Answer != AnswerAfterPrint && p.Answer != AnswerAfterCommit:
		return fieldErr("printer.answer", "must be %s or %s", AnswerAfterPrint, AnswerAfterCommit)
	case len(p.Footer) > 10:
		return fieldErr("printer.footer", "at most 10 lines")
	}
	if p.Logo != "" {
		if _, err := os.Stat(p.Logo); errors.Is(err, fs.ErrNotExist) {
			return fieldErr("printer.logo", "%s does not exist", p.Logo)
		}
	}
	return nil
}

func (c *Config) validateAPI() error {
	host, port, err := net.SplitHostPort(c.API.Address)
	if err != nil || port == "" {
		return fieldErr("api.address", "must be host:port, e.g. %s", DefaultAddress)
	}
	if !c.API.AllowRemote {
		ip := net.ParseIP(host)
		if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fieldErr("api.address", "%s is not a loopback address; set api.allow_remote = true to expose the API beyond this machine", host)
		}
	}
	if len(c.API.Token.Reveal()) < 16 {
		return fieldErr("api.token", "must be at least 16 characters (posagent init writes a random one)")
	}
	return nil
}

func (c *Config) validateConsole() error {
	pw := c.Console.Password.Reveal()
	switch {
	case pw != "" && utf8.RuneCountInString(pw) < 10:
		// Never echo the value: only its rule.
		return fieldErr("console.password", "must be at least 10 characters, or empty to sign in with api.token only")
	case pw != "" && pw == c.API.Token.Reveal():
		return fieldErr("console.password", "must differ from api.token")
	case c.Console.SessionTimeout.Duration < time.Minute || c.Console.SessionTimeout.Duration > 24*time.Hour:
		return fieldErr("console.session_timeout", "must be between 1m and 24h")
	}
	return nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// ReadAPI reads only the [api] section of a configuration file, with ${ENV}
// expansion: what the operator commands need to reach the running agent,
// without the daemon's secrets having to be set in the operator's shell.
func ReadAPI(path string) (API, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return API{}, fmt.Errorf("read config: %w", err)
	}
	doc := struct {
		API API `toml:"api"`
	}{API: DefaultConfig().API}
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return API{}, fmt.Errorf("config %s: %w", path, err)
	}
	if err := expandEnv(reflect.ValueOf(&doc.API).Elem(), "api"); err != nil {
		return API{}, fmt.Errorf("config %s: %w", path, err)
	}
	return doc.API, nil
}

// LoadLoose reads a configuration file over DefaultConfig for the tools that
// only borrow a few settings from it (posagent receipt, qr encode): no
// validation, unknown keys ignored, and ${ENV} references to unset variables
// left empty rather than refused.
func LoadLoose(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg := DefaultConfig()
	prepareSellers(&cfg)
	if _, err := toml.Decode(string(data), &cfg); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	expandLoose(reflect.ValueOf(&cfg).Elem())
	if len(cfg.Sellers) == 0 {
		cfg.Sellers = nil
	}
	// The tools borrow the default seller's key and identity.
	cfg.mirrorDefault()
	return cfg, nil
}

func expandLoose(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				expandLoose(v.Field(i))
			}
		}
	case reflect.Slice:
		for i := range v.Len() {
			expandLoose(v.Index(i))
		}
	case reflect.String:
		v.SetString(envRef.ReplaceAllStringFunc(v.String(), func(ref string) string {
			return os.Getenv(envRef.FindStringSubmatch(ref)[1])
		}))
	}
}

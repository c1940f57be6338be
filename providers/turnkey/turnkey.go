// Package turnkey files e-invoices with the MOF through its free Turnkey
// program: each message (MIG 4.1 XML from providers/mig) is dropped as one
// file into Turnkey's UpCast folders, and its outcome is read back from
// Turnkey's database (read-only, MySQL/MariaDB) or, when the database cannot
// be reached, from Turnkey's BAK and ERR folders. docs: turnkey.md.
//
// The provider keeps what Turnkey does not:
//   - exactly one file per message: every drop is recorded before and after
//     the rename into SRC (see journal.go), because Turnkey uploads a file
//     dropped twice twice;
//   - order: a void, 註銷 or allowance is dropped only after its invoice is C
//     (accepted), an allowance void only after its allowance is C, since each
//     message type has its own folder and Turnkey orders nothing across them;
//   - blank numbers (E0402) once per period and track, after the period ends.
//
// A call returns nil once the platform accepted the message (C). While the
// message is on its way it returns a KindNotFound error saying where it is,
// so that the agent looks again later without marking the provider offline;
// a rejection is KindInvalid with the platform's code in words.
package turnkey

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/go-sql-driver/mysql" // Turnkey's database, read-only
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/mig"
)

// Config is what the provider needs. The roots are Turnkey's 上傳轉檔來源目錄
// (TASK_CONFIG.SRC_PATH): a message goes to <root>/<MessageType>/SRC.
type Config struct {
	// B2SRoot is the UpCast source root of category B2S (STORAGE): F0401,
	// F0501, F0701, G0401, G0501.
	B2SRoot string
	// B2PRoot is the UpCast source root of category B2P (MESSAGE): E0402.
	B2PRoot string
	// UnpackRoot is where Turnkey keeps the platform's replies; checked
	// against TASK_CONFIG, not read (the database is the outcome).
	UnpackRoot string
	// TempDir is where a file is written before its rename into SRC: outside
	// SRC (Turnkey takes any file there, finished or not) and on the same
	// file system (so that the rename is atomic).
	TempDir string
	// StateDir holds the drop journal.
	StateDir string
	// DSN is the read-only go-sql-driver/mysql DSN of Turnkey's database. It
	// holds a password: it never appears in logs or errors. Empty: outcomes
	// are read from the folders alone (accepted cannot then be known: see README).
	DSN string
	// Seller is the shop; its address is required (Turnkey refuses an F0401
	// without one).
	Seller posagent.Seller
	// HeadBan is the head office's 統編 for E0402; empty is the seller's.
	HeadBan string
	// MIG carries the member carrier code and the customs mark.
	MIG mig.Options
	// StuckAfter raises the alarm for a message not C this long after its
	// drop (turnkey.md §5: 24 h); default 2 h for a message still at G.
	StuckAfter time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Provider is the Turnkey provider. It is safe for concurrent use.
type Provider struct {
	cfg     Config
	db      *sql.DB // nil without a DSN
	journal journal
	log     *slog.Logger
	now     func() time.Time
	// mu guards the journal. It is shared by every Provider of one state
	// directory in the process: a configuration reload builds a new provider
	// while calls on the old one may still run, and two drops of one message
	// must never interleave.
	mu     *sync.Mutex
	alarms alarms
}

var journalLocks sync.Map // cleaned state dir → *sync.Mutex

// alarms are what the provider raises beyond one call (posagent.AlarmReporter):
// messages not accepted long after their drop, a blank report past its deadline.
type alarms struct {
	mu sync.Mutex
	m  map[string]posagent.ProviderAlarm // by journal key
}

func (a *alarms) set(key string, al posagent.ProviderAlarm) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if old, ok := a.m[key]; ok {
		al.Since = old.Since
	}
	a.m[key] = al
}

func (a *alarms) clear(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, key)
}

var (
	_ posagent.Provider      = (*Provider)(nil)
	_ posagent.BlankReporter = (*Provider)(nil)
	_ posagent.SaleChecker   = (*Provider)(nil)
	_ posagent.AlarmReporter = (*Provider)(nil)
)

// ProviderAlarms lists the messages Turnkey has not accepted long after their
// drop and blank-number reports past their deadline, oldest first.
func (p *Provider) ProviderAlarms() []posagent.ProviderAlarm {
	p.alarms.mu.Lock()
	defer p.alarms.mu.Unlock()
	out := make([]posagent.ProviderAlarm, 0, len(p.alarms.m))
	for _, al := range p.alarms.m {
		out = append(out, al)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}

func configErr(field, format string, args ...any) error {
	return &posagent.Error{Kind: posagent.KindConfig, Field: "provider.turnkey." + field, Message: fmt.Sprintf(format, args...)}
}

// New checks the configuration (a config error names the field), creates the
// SRC folders if Turnkey has not yet, proves that a rename from the temp
// directory into SRC works, and checks the roots against Turnkey's
// TASK_CONFIG when the database can be read. An unreachable database is not
// an error at start: the provider falls back to the folders.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := mig.CheckSeller(cfg.Seller); err != nil {
		return nil, &posagent.Error{Kind: posagent.KindConfig, Field: "terminal." + strings.ReplaceAll(posagent.ErrorField(err), "seller.", "seller_"),
			Message: strings.TrimPrefix(err.Error(), posagent.ErrorField(err)+": ")}
	}
	if err := cfg.MIG.Check(); err != nil {
		return nil, configErr(posagent.ErrorField(err), "%s", strings.TrimPrefix(err.Error(), posagent.ErrorField(err)+": "))
	}
	if cfg.HeadBan == "" {
		cfg.HeadBan = cfg.Seller.TaxID
	} else if !posagent.ValidTaxID(cfg.HeadBan) {
		return nil, configErr("head_ban", "%q is not a valid 統一編號", cfg.HeadBan)
	}
	for _, d := range []struct{ field, path string }{
		{"b2s_root", cfg.B2SRoot}, {"b2p_root", cfg.B2PRoot}, {"temp_dir", cfg.TempDir}, {"state_dir", cfg.StateDir},
	} {
		if d.path == "" {
			return nil, configErr(d.field, "is required")
		}
		if !filepath.IsAbs(d.path) {
			return nil, configErr(d.field, "%q must be an absolute path", d.path)
		}
	}
	if cfg.StuckAfter <= 0 {
		cfg.StuckAfter = 2 * time.Hour
	}
	lock, _ := journalLocks.LoadOrStore(filepath.Clean(cfg.StateDir), &sync.Mutex{})
	p := &Provider{cfg: cfg, journal: journal{dir: filepath.Join(cfg.StateDir, "journal")}, log: cfg.Logger, now: cfg.Now,
		mu: lock.(*sync.Mutex), alarms: alarms{m: map[string]posagent.ProviderAlarm{}}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	for _, dir := range []string{p.journal.dir, cfg.TempDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, configErr("state_dir", "cannot create %s: %v", dir, err)
		}
	}
	for _, t := range mig.Types {
		src := p.folder(t, "SRC")
		if err := os.MkdirAll(src, 0o755); err != nil {
			return nil, configErr(p.rootField(t), "cannot create %s: %v", src, err)
		}
		if err := p.probeRename(src); err != nil {
			return nil, configErr("temp_dir", "a file in %s cannot be renamed into %s (%v): the temp directory must be on the same file system as Turnkey's folders", cfg.TempDir, src, err)
		}
	}
	p.cleanTemp()
	if err := p.prune(); err != nil {
		return nil, err
	}
	if cfg.DSN != "" {
		db, err := sql.Open("mysql", cfg.DSN)
		if err != nil {
			return nil, configErr("dsn", "is not a MySQL DSN such as turnkey_ro:PASSWORD@tcp(127.0.0.1:3306)/EINVOICE")
		}
		db.SetMaxOpenConns(2)
		db.SetConnMaxIdleTime(time.Minute)
		p.db = db
		if err := p.checkTaskConfig(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	return p, nil
}

// Close releases the database.
func (p *Provider) Close() error {
	if p.db != nil {
		return p.db.Close()
	}
	return nil
}

// Name is "turnkey".
func (p *Provider) Name() string { return "turnkey" }

func (p *Provider) root(msgType string) string {
	if msgType == mig.TypeE0402 {
		return p.cfg.B2PRoot
	}
	return p.cfg.B2SRoot
}

func (p *Provider) rootField(msgType string) string {
	if msgType == mig.TypeE0402 {
		return "b2p_root"
	}
	return "b2s_root"
}

// folder is <root>/<Msg>/<sub> (sub: SRC, BAK, ERR).
func (p *Provider) folder(msgType, sub string) string {
	return filepath.Join(p.root(msgType), msgType, sub)
}

const tempPrefix = ".posagent-turnkey-"

func (p *Provider) probeRename(dir string) error {
	f, err := os.CreateTemp(p.cfg.TempDir, tempPrefix+"probe-*")
	if err != nil {
		return err
	}
	f.Close()
	// The probe goes next to SRC, never into it: Turnkey would take it.
	target := filepath.Join(filepath.Dir(dir), tempPrefix+"probe")
	if err := os.Rename(f.Name(), target); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Remove(target)
}

// cleanTemp removes temp files a crash left behind (never renamed into SRC:
// the journal knows their names and drops them again).
func (p *Provider) cleanTemp() {
	entries, _ := os.ReadDir(p.cfg.TempDir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tempPrefix) {
			os.Remove(filepath.Join(p.cfg.TempDir, e.Name()))
		}
	}
}

// checkTaskConfig compares the roots with Turnkey's own settings. Turnkey
// keeps them in TASK_CONFIG (turnkey.md §1.1); a root that differs means
// files would be dropped where Turnkey never looks.
func (p *Provider) checkTaskConfig(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	rows, err := p.db.QueryContext(ctx, `SELECT CATEGORY_TYPE, PROCESS_TYPE, TASK, SRC_PATH, VERSION FROM TASK_CONFIG`)
	if err != nil {
		p.log.Warn("turnkey: cannot read TASK_CONFIG at start; the folders are not checked against Turnkey's settings", "error", safeErr(err))
		return nil
	}
	defer rows.Close()
	want := map[string]struct{ field, path string }{
		"B2S/STORAGE/UpCast":  {"b2s_root", p.cfg.B2SRoot},
		"B2P/MESSAGE/UpCast":  {"b2p_root", p.cfg.B2PRoot},
		"B2B/EXCHANGE/Unpack": {"unpack_root", p.cfg.UnpackRoot},
	}
	for rows.Next() {
		var cat, proc, task, src, version sql.NullString
		if err := rows.Scan(&cat, &proc, &task, &src, &version); err != nil {
			return fmt.Errorf("turnkey: read TASK_CONFIG: %w", safeErr(err))
		}
		key := strings.ToUpper(cat.String) + "/" + strings.ToUpper(proc.String) + "/" + task.String
		w, ok := want[key]
		if !ok || w.path == "" {
			continue
		}
		if filepath.Clean(src.String) != filepath.Clean(w.path) {
			return configErr(w.field, "is %s but Turnkey's TASK_CONFIG (%s) says %s: files would be dropped where Turnkey never looks", w.path, key, src.String)
		}
		if key != "B2B/EXCHANGE/Unpack" && version.Valid && version.String != "" && !strings.EqualFold(version.String, "v41") {
			return configErr(w.field, "Turnkey's TASK_CONFIG (%s) has source version %s: set it to v41 in Turnkey (TKY 3.2 only accepts v4.1)", key, version.String)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("turnkey: read TASK_CONFIG: %w", safeErr(err))
	}
	return nil
}

// safeErr keeps a database error's words but never the DSN: the driver's
// errors name the address at most, never the password; this strips any
// "user:password@" that might come through anyway.
func safeErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if i := strings.Index(msg, "@tcp("); i >= 0 {
		start := strings.LastIndexAny(msg[:i], " \"'") + 1
		msg = msg[:start] + "***" + msg[i:]
	}
	return errors.New(msg)
}

// CheckSale refuses, before a number is spent, a sale Turnkey would put in ERR.
func (p *Provider) CheckSale(sale posagent.Invoice) error {
	return mig.CheckInvoice(sale, p.cfg.MIG)
}

// Upload drops the invoice's F0401 and answers nil once it is C.
func (p *Provider) Upload(ctx context.Context, inv posagent.Invoice) error {
	return p.send(ctx, mig.TypeF0401+"_"+string(inv.Number), func() (mig.Message, error) {
		return mig.F0401(inv, p.cfg.MIG)
	})
}

// Void drops the F0501 once the invoice's F0401 is C.
func (p *Provider) Void(ctx context.Context, inv posagent.Invoice, v posagent.Void) error {
	if err := p.after(ctx, mig.TypeF0401, string(inv.Number), "the void of "+string(inv.Number)); err != nil {
		return err
	}
	return p.send(ctx, mig.TypeF0501+"_"+string(inv.Number), func() (mig.Message, error) { return mig.F0501(inv, v) })
}

// Allow drops the G0401 once the invoice's F0401 is C.
func (p *Provider) Allow(ctx context.Context, inv posagent.Invoice, a posagent.Allowance) error {
	if err := p.after(ctx, mig.TypeF0401, string(inv.Number), "allowance "+a.Number); err != nil {
		return err
	}
	return p.send(ctx, mig.TypeG0401+"_"+a.Number, func() (mig.Message, error) { return mig.G0401(inv, a) })
}

// VoidAllowance drops the G0501 once the allowance's G0401 is C.
func (p *Provider) VoidAllowance(ctx context.Context, inv posagent.Invoice, a posagent.Allowance, reason string) error {
	if err := p.after(ctx, mig.TypeG0401, a.Number, "the void of allowance "+a.Number); err != nil {
		return err
	}
	at := p.now()
	return p.send(ctx, mig.TypeG0501+"_"+a.Number, func() (mig.Message, error) { return mig.G0501(inv, a, at, reason) })
}

// ReportBlank drops one E0402 per track for the numbers of period pd this
// till never used, once, after the period has ended, and answers nil when
// every one is C. Past the 10th-day deadline (Period.BlankReportDeadline) it
// still reports, and logs the alarm.
func (p *Provider) ReportBlank(ctx context.Context, pd posagent.Period, unused []posagent.Booklet) error {
	now := p.now()
	if now.Before(pd.End()) {
		return &posagent.Error{Kind: posagent.KindNotFound, RetryAfter: pd.End().Sub(now),
			Message: fmt.Sprintf("the blank numbers of %s are reported after the period ends (%s)", pd.Label(), pd.End().Format("2006-01-02"))}
	}
	reports, err := mig.BlankReports(p.cfg.HeadBan, p.cfg.Seller.TaxID, pd, unused)
	if err != nil {
		return err
	}
	late := now.After(pd.BlankReportDeadline())
	var waiting []string
	for _, b := range reports {
		err := p.send(ctx, mig.TypeE0402+"_"+pd.Code()+"_"+b.Track, func() (mig.Message, error) { return mig.E0402(b) })
		if err == nil {
			continue
		}
		if !posagent.IsKind(err, posagent.KindNotFound) {
			return err
		}
		waiting = append(waiting, err.Error())
	}
	if len(waiting) == 0 {
		p.alarms.clear("E0402_" + pd.Code())
		return nil
	}
	key := "E0402_" + pd.Code()
	if late {
		deadline := pd.BlankReportDeadline().Add(-time.Nanosecond).Format("2006-01-02")
		p.log.Error("turnkey: ALARM blank-number report past its deadline", "period", pd.Code(), "deadline", deadline)
		p.alarms.set(key, posagent.ProviderAlarm{Level: posagent.AlarmCritical, Code: "blank_report_late", Since: now,
			Message: fmt.Sprintf("the blank numbers (E0402) of %s are not accepted yet; the deadline was %s", pd.Label(), deadline)})
	}
	return &posagent.Error{Kind: posagent.KindNotFound, Message: strings.Join(waiting, "; ")}
}

// after returns nil when the message typ for id is C, else a waiting error
// for what depends on it.
func (p *Provider) after(ctx context.Context, typ, id, what string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, err := p.journal.load(typ + "_" + id)
	if err != nil {
		return err
	}
	if !rec.Accepted.IsZero() {
		return nil
	}
	if len(rec.Attempts) == 0 {
		// Sent before this provider kept a journal, or by hand: ask the database.
		if ok, err := p.acceptedElsewhere(ctx, typ, id); err == nil && ok {
			return nil
		}
	}
	return &posagent.Error{Kind: posagent.KindNotFound,
		Message: fmt.Sprintf("%s waits for %s %s to be accepted (C): Turnkey does not order message types", what, typ, id)}
}

// keepAccepted is how long the journal keeps a message after its C: long
// enough for the voids and allowances that wait on it to find it there (an
// allowance may come in a later period); older ones are asked of Turnkey's
// database instead. Without pruning the journal would grow by a file per
// message for ever.
const keepAccepted = 400 * 24 * time.Hour

// prune removes the records of messages accepted more than keepAccepted ago.
func (p *Provider) prune() error {
	recs, err := p.journal.all()
	if err != nil {
		return fmt.Errorf("turnkey: read journal: %w", err)
	}
	cutoff := p.now().Add(-keepAccepted)
	for _, r := range recs {
		if !r.Accepted.IsZero() && r.Accepted.Before(cutoff) {
			if err := os.Remove(p.journal.path(r.Key)); err != nil {
				return fmt.Errorf("turnkey: prune journal: %w", err)
			}
		}
	}
	return nil
}

// Package turnkeytest is a stand-in for the MOF's Turnkey program and the
// platform behind it, for tests and demos of providers/turnkey.
//
// Like Turnkey (turnkey.md §1) it watches <root>/<Msg>/SRC of every message
// type, recursively and oldest file first, takes any file there, validates it
// with the MIG XSDs (xmllint) and Turnkey's local rules (providers/mig), moves
// it to BAK or ERR under yyyyMMdd/HH keeping its name, and writes
// TURNKEY_MESSAGE_LOG, TURNKEY_MESSAGE_LOG_DETAIL and TURNKEY_SYSEVENT_LOG
// rows into a real MySQL/MariaDB database; then, after delays, moves each row
// P → G → C, or E with the platform's code: duplicates answer E0201/E1003,
// a void or allowance whose invoice the platform does not hold E0202/E0213.
//
// Faults: Stop/Start (Turnkey not running), LoseDB/RestoreDB (the provider's
// way to the database cut: the provider reaches the database through a proxy
// the stand-in owns), HoldAtG (the platform never answers: rows stay G).
package turnkeytest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/mig"
)

// Options configure the stand-in.
type Options struct {
	// Root is Turnkey's work directory: UpCast roots and Unpack live under it.
	Root string
	// AdminDSN reaches the database the stand-in owns (it creates Turnkey's
	// tables there) with rights to create a read-only user for the provider.
	AdminDSN string
	// Interval between scans of SRC and moves of statuses (default 50 ms).
	Interval time.Duration
	// SendDelay is how long a row stays P before G, AnswerDelay how long G
	// before the platform's C or E (defaults 100 ms and 200 ms).
	SendDelay, AnswerDelay time.Duration
	// RequireXSD fails every file when xmllint is missing instead of
	// checking the local rules alone.
	RequireXSD bool
	Logger     *slog.Logger
}

// Server is a running stand-in.
type Server struct {
	opt   Options
	admin *sql.DB
	log   *slog.Logger

	roUser, roPass, dbName string
	dbAddr                 string
	proxy                  *proxy

	mu      sync.Mutex
	stopped bool
	holdAtG bool
	seq     int
	rows    []*row
	// the platform's memory
	invoices   map[string]*platformInvoice
	allowances map[string]string // allowance number → "C" or "voided"
	blanks     map[string]bool
	counts     map[string]int // status → rows, for tests
	// rejects are codes the platform answers the next messages of a type with (RejectNext).
	rejects map[string][]string
	// miscount is added to the day report's counts of a type (MiscountSummary).
	miscount map[string]int
	reports  int // SummaryResult files written

	cancel context.CancelFunc
	done   chan struct{}
}

type platformInvoice struct {
	issued, voided bool
}

type row struct {
	seq, sub string
	msgType  string
	info     mig.Info
	status   string
	at       time.Time
	taken    time.Time // when UpCast took the file: the pack's time
	local    bool      // refused by Turnkey itself (ERR): never reached the platform
	code     string    // the platform's answer, once it came
}

// B2SRoot, B2PRoot and UnpackRoot are the folders to configure the provider with.
func (s *Server) B2SRoot() string    { return filepath.Join(s.opt.Root, "UpCast", "B2SSTORAGE") }
func (s *Server) B2PRoot() string    { return filepath.Join(s.opt.Root, "UpCast", "B2PMESSAGE") }
func (s *Server) UnpackRoot() string { return filepath.Join(s.opt.Root, "Unpack") }

// DSN is the provider's read-only DSN, through the stand-in's proxy.
func (s *Server) DSN() string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = s.roUser, s.roPass, "tcp", s.proxy.addr, s.dbName
	return c.FormatDSN()
}

// Password is the read-only user's password (for tests that check it never leaks).
func (s *Server) Password() string { return s.roPass }

// New creates the tables, the read-only user and the folders, and starts
// watching. Close stops it and drops the user.
func New(ctx context.Context, opt Options) (*Server, error) {
	if opt.Interval <= 0 {
		opt.Interval = 50 * time.Millisecond
	}
	if opt.SendDelay <= 0 {
		opt.SendDelay = 100 * time.Millisecond
	}
	if opt.AnswerDelay <= 0 {
		opt.AnswerDelay = 200 * time.Millisecond
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := mysql.ParseDSN(opt.AdminDSN)
	if err != nil {
		return nil, fmt.Errorf("turnkeytest: admin DSN: %w", err)
	}
	if cfg.DBName == "" {
		return nil, errors.New("turnkeytest: the admin DSN must name a database")
	}
	admin, err := sql.Open("mysql", opt.AdminDSN)
	if err != nil {
		return nil, err
	}
	s := &Server{opt: opt, admin: admin, log: opt.Logger, dbName: cfg.DBName, dbAddr: cfg.Addr,
		invoices: map[string]*platformInvoice{}, allowances: map[string]string{}, blanks: map[string]bool{}, counts: map[string]int{},
		rejects: map[string][]string{}, miscount: map[string]int{}}
	if err := s.setup(ctx); err != nil {
		admin.Close()
		return nil, err
	}
	if s.proxy, err = newProxy(s.dbAddr); err != nil {
		s.dropUser()
		admin.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go s.run(runCtx)
	return s, nil
}

// Schema is Turnkey's tables, as far as the provider reads them (turnkey.md
// §2.1; column names from Turnkey's own schema).
var Schema = []string{
	`CREATE TABLE IF NOT EXISTS TURNKEY_MESSAGE_LOG (
		SEQNO VARCHAR(8) NOT NULL, SUBSEQNO VARCHAR(5) NOT NULL, UUID VARCHAR(40), MESSAGE_TYPE VARCHAR(10),
		CATEGORY_TYPE VARCHAR(5), PROCESS_TYPE VARCHAR(10), FROM_PARTY_ID VARCHAR(10), TO_PARTY_ID VARCHAR(10),
		MESSAGE_DTS VARCHAR(17), CHARACTER_COUNT VARCHAR(10), STATUS VARCHAR(5), IN_OUT_BOUND VARCHAR(1),
		FROM_ROUTING_ID VARCHAR(39), TO_ROUTING_ID VARCHAR(39), INVOICE_IDENTIFIER VARCHAR(30),
		PRIMARY KEY (SEQNO, SUBSEQNO)) DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE IF NOT EXISTS TURNKEY_MESSAGE_LOG_DETAIL (
		SEQNO VARCHAR(8) NOT NULL, SUBSEQNO VARCHAR(5) NOT NULL, PROCESS_DTS VARCHAR(17), TASK VARCHAR(30) NOT NULL,
		STATUS VARCHAR(5), FILENAME VARCHAR(500), UUID VARCHAR(40),
		PRIMARY KEY (SEQNO, SUBSEQNO, TASK)) DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE IF NOT EXISTS TURNKEY_SYSEVENT_LOG (
		EVENTDTS VARCHAR(17), PARTY_ID VARCHAR(10), SEQNO VARCHAR(8), SUBSEQNO VARCHAR(5), ERRORCODE VARCHAR(5),
		UUID VARCHAR(40), MESSAGE1 VARCHAR(200), MESSAGE2 VARCHAR(200), MESSAGE3 VARCHAR(200),
		MESSAGE4 VARCHAR(200), MESSAGE5 VARCHAR(200), MESSAGE6 VARCHAR(200)) DEFAULT CHARSET=utf8mb4`,
	`CREATE TABLE IF NOT EXISTS TASK_CONFIG (
		CATEGORY_TYPE VARCHAR(5) NOT NULL, PROCESS_TYPE VARCHAR(10) NOT NULL, TASK VARCHAR(30) NOT NULL,
		SRC_PATH VARCHAR(500), TARGET_PATH VARCHAR(500), FILE_FORMAT VARCHAR(10), VERSION VARCHAR(5),
		ENCODING VARCHAR(10), TRANS_CHINESE_DATE VARCHAR(1),
		PRIMARY KEY (CATEGORY_TYPE, PROCESS_TYPE, TASK)) DEFAULT CHARSET=utf8mb4`,
}

func (s *Server) setup(ctx context.Context) error {
	for _, stmt := range Schema {
		if _, err := s.admin.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("turnkeytest: create tables: %w", err)
		}
	}
	for _, r := range [][3]string{
		{"B2S", "STORAGE", s.B2SRoot()}, {"B2P", "MESSAGE", s.B2PRoot()},
	} {
		if _, err := s.admin.ExecContext(ctx, `REPLACE INTO TASK_CONFIG (CATEGORY_TYPE, PROCESS_TYPE, TASK, SRC_PATH, VERSION)
			VALUES (?, ?, 'UpCast', ?, 'v41')`, r[0], r[1], r[2]); err != nil {
			return fmt.Errorf("turnkeytest: TASK_CONFIG: %w", err)
		}
	}
	if _, err := s.admin.ExecContext(ctx, `REPLACE INTO TASK_CONFIG (CATEGORY_TYPE, PROCESS_TYPE, TASK, SRC_PATH, VERSION)
		VALUES ('B2B', 'EXCHANGE', 'Unpack', ?, 'v41')`, s.UnpackRoot()); err != nil {
		return fmt.Errorf("turnkeytest: TASK_CONFIG: %w", err)
	}
	for _, t := range mig.Types {
		root := s.B2SRoot()
		if t == mig.TypeE0402 {
			root = s.B2PRoot()
		}
		for _, sub := range []string{"SRC", "BAK", "ERR"} {
			if err := os.MkdirAll(filepath.Join(root, t, sub), 0o755); err != nil {
				return err
			}
		}
	}
	if err := os.MkdirAll(s.UnpackRoot(), 0o755); err != nil {
		return err
	}
	// A read-only user: the provider must never need more.
	b := make([]byte, 4)
	rand.Read(b)
	s.roUser = "tk_ro_" + hex.EncodeToString(b)
	rand.Read(b)
	s.roPass = "ro-" + hex.EncodeToString(b) + "-secret"
	for _, stmt := range []string{
		fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", s.roUser, s.roPass),
		fmt.Sprintf("GRANT SELECT ON `%s`.* TO '%s'@'%%'", s.dbName, s.roUser),
	} {
		if _, err := s.admin.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("turnkeytest: read-only user: %w", err)
		}
	}
	return nil
}

func (s *Server) dropUser() {
	if s.roUser != "" {
		s.admin.Exec(fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", s.roUser))
	}
}

// Close stops the stand-in, its proxy, and drops the read-only user.
func (s *Server) Close() error {
	s.cancel()
	<-s.done
	s.proxy.close()
	s.dropUser()
	return s.admin.Close()
}

// Stop makes the stand-in stop taking files and moving statuses, as when
// Turnkey is not running; Start resumes.
func (s *Server) Stop()  { s.mu.Lock(); s.stopped = true; s.mu.Unlock() }
func (s *Server) Start() { s.mu.Lock(); s.stopped = false; s.mu.Unlock() }

// LoseDB cuts the provider's way to the database; RestoreDB mends it.
func (s *Server) LoseDB()           { s.proxy.down() }
func (s *Server) RestoreDB() error  { return s.proxy.up() }
func (s *Server) HoldAtG(hold bool) { s.mu.Lock(); s.holdAtG = hold; s.mu.Unlock() }

// Counts returns how many rows are in each status.
func (s *Server) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, r := range s.rows {
		out[r.status]++
	}
	return out
}

func (s *Server) run(ctx context.Context) {
	defer close(s.done)
	t := time.NewTicker(s.opt.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		stopped := s.stopped
		s.mu.Unlock()
		if stopped {
			continue
		}
		if err := s.upcast(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("turnkeytest: upcast", "error", err)
		}
		if err := s.advance(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("turnkeytest: advance", "error", err)
		}
	}
}

type srcFile struct {
	path, msgType string
	mod           time.Time
}

// upcast takes every file in every SRC, oldest first, as Turnkey's UpCast job.
func (s *Server) upcast(ctx context.Context) error {
	var files []srcFile
	for _, t := range mig.Types {
		src := filepath.Join(s.rootOf(t), t, "SRC")
		err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return nil // gone meanwhile
			}
			files = append(files, srcFile{path: path, msgType: t, mod: fi.ModTime()})
			return nil
		})
		if err != nil {
			return err
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].mod.Before(files[j].mod) })
	// One xmllint run per message type for all the files of a scan: a
	// process per file is what makes thousands of files slow.
	byType := map[string][]string{}
	for _, f := range files {
		byType[f.msgType] = append(byType[f.msgType], f.path)
	}
	xsd := map[string]error{}
	for t, paths := range byType {
		res, err := mig.ValidateXSDFiles(ctx, t, paths)
		switch {
		case errors.Is(err, mig.ErrNoXmllint):
			for _, p := range paths {
				xsd[p] = err
			}
		case err != nil:
			return err
		default:
			for p, e := range res {
				xsd[p] = e
			}
		}
	}
	for _, f := range files {
		if err := s.take(ctx, f, xsd[f.path]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) rootOf(msgType string) string {
	if msgType == mig.TypeE0402 {
		return s.B2PRoot()
	}
	return s.B2SRoot()
}

func stamp(t time.Time) string {
	t = t.In(posagent.Taipei)
	return t.Format("20060102150405") + fmt.Sprintf("%03d", t.Nanosecond()/1e6)
}

// take validates one file and files it in BAK or ERR with its rows.
func (s *Server) take(ctx context.Context, f srcFile, xerr error) error {
	data, err := os.ReadFile(f.path)
	if err != nil {
		return nil // taken by someone else or not readable yet: next round
	}
	now := time.Now()
	var info mig.Info
	problem := ""
	code := "-008"
	switch {
	case len(data) < 3:
		problem, code = "file shorter than 3 bytes", "-002"
	default:
		info, err = mig.Inspect(data)
		if err != nil {
			problem = "7001 XML驗證失敗: " + err.Error()
		} else if info.Type != f.msgType {
			problem = fmt.Sprintf("7001 a %s message in the %s folder", info.Type, f.msgType)
		} else if xerr != nil {
			if errors.Is(xerr, mig.ErrNoXmllint) {
				if s.opt.RequireXSD {
					problem = "xmllint is not installed: cannot validate"
				}
			} else {
				problem = "7001 XML驗證失敗: " + xerr.Error()
			}
		}
	}
	sub := "BAK"
	if problem != "" {
		sub = "ERR"
	}
	dir := filepath.Join(s.rootOf(f.msgType), f.msgType, sub, now.In(posagent.Taipei).Format("20060102"), now.In(posagent.Taipei).Format("15"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	target := nonDuplicate(filepath.Join(dir, filepath.Base(f.path)))
	if err := os.Rename(f.path, target); err != nil {
		return err
	}
	s.mu.Lock()
	s.seq++
	r := &row{seq: fmt.Sprintf("%08d", s.seq), sub: "00001", msgType: f.msgType, info: info, status: "P", at: now, taken: now}
	if problem != "" {
		r.status, r.local = "E", true
	}
	s.rows = append(s.rows, r)
	s.mu.Unlock()
	category := "B2S"
	if f.msgType == mig.TypeE0402 {
		category = "B2P"
	}
	if problem != "" {
		s.log.Info("turnkeytest: ERR", "file", target, "problem", problem)
		if err := s.event(ctx, r, code, "不合法的發票", problem); err != nil {
			return err
		}
	}
	if _, err := s.admin.ExecContext(ctx, `INSERT INTO TURNKEY_MESSAGE_LOG (SEQNO, SUBSEQNO, UUID, MESSAGE_TYPE, CATEGORY_TYPE,
		FROM_PARTY_ID, TO_PARTY_ID, MESSAGE_DTS, STATUS, IN_OUT_BOUND, INVOICE_IDENTIFIER) VALUES (?, ?, ?, ?, ?, ?, '00000000', ?, ?, 'O', ?)`,
		r.seq, r.sub, uuid(), f.msgType, category, info.SellerID, stamp(now), r.status, trim(info.Identifier, 30)); err != nil {
		return err
	}
	if err := s.detail(ctx, r, "UpCast", r.status, target); err != nil {
		return err
	}
	return nil
}

// nonDuplicate adds a suffix when the name is taken, as Turnkey does.
func nonDuplicate(path string) string {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return path
	}
	ext := filepath.Ext(path)
	base := strings.TrimSuffix(path, ext)
	for i := 1; ; i++ {
		p := fmt.Sprintf("%s(%d)%s", base, i, ext)
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return p
		}
	}
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func uuid() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Server) detail(ctx context.Context, r *row, task, status, file string) error {
	_, err := s.admin.ExecContext(ctx, `REPLACE INTO TURNKEY_MESSAGE_LOG_DETAIL (SEQNO, SUBSEQNO, PROCESS_DTS, TASK, STATUS, FILENAME, UUID)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.seq, r.sub, stamp(time.Now()), task, status, file, uuid())
	return err
}

func (s *Server) event(ctx context.Context, r *row, code string, messages ...string) error {
	m := make([]any, 6)
	for i := range m {
		m[i] = ""
		if i < len(messages) {
			m[i] = trim(messages[i], 200)
		}
	}
	_, err := s.admin.ExecContext(ctx, `INSERT INTO TURNKEY_SYSEVENT_LOG (EVENTDTS, PARTY_ID, SEQNO, SUBSEQNO, ERRORCODE, UUID,
		MESSAGE1, MESSAGE2, MESSAGE3, MESSAGE4, MESSAGE5, MESSAGE6) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append([]any{stamp(time.Now()), r.info.SellerID, r.seq, r.sub, code, uuid()}, m...)...)
	return err
}

// advance moves rows P → G after SendDelay, and G → C/E after AnswerDelay,
// in the order they were taken.
func (s *Server) advance(ctx context.Context) error {
	now := time.Now()
	s.mu.Lock()
	hold := s.holdAtG
	var todo []*row
	for _, r := range s.rows {
		if (r.status == "P" && now.Sub(r.at) >= s.opt.SendDelay) || (r.status == "G" && !hold && now.Sub(r.at) >= s.opt.AnswerDelay) {
			todo = append(todo, r)
		}
	}
	s.mu.Unlock()
	for _, r := range todo {
		if r.status == "P" {
			if err := s.setStatus(ctx, r, "G"); err != nil {
				return err
			}
			for _, task := range []string{"Pack", "SendFile"} {
				if err := s.detail(ctx, r, task, "G", ""); err != nil {
					return err
				}
			}
			continue
		}
		code := s.platform(r.info)
		s.mu.Lock()
		r.code = code
		s.mu.Unlock()
		status := "C"
		if code != "00000" {
			status = "E"
		}
		// The reason first, then the status: a reader seeing E finds why.
		if status == "E" {
			if err := s.event(ctx, r, "-022", "ProcessResult", code, r.info.Identifier); err != nil {
				return err
			}
		}
		if err := s.detail(ctx, r, "Unpack", status, ""); err != nil {
			return err
		}
		if err := s.setStatus(ctx, r, status); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) setStatus(ctx context.Context, r *row, status string) error {
	if _, err := s.admin.ExecContext(ctx, `UPDATE TURNKEY_MESSAGE_LOG SET STATUS = ? WHERE SEQNO = ? AND SUBSEQNO = ?`, status, r.seq, r.sub); err != nil {
		return err
	}
	s.mu.Lock()
	r.status, r.at = status, time.Now()
	s.mu.Unlock()
	return nil
}

// platform is the MOF platform's answer to a message it received.
func (s *Server) platform(info mig.Info) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if codes := s.rejects[info.Type]; len(codes) > 0 {
		s.rejects[info.Type] = codes[1:]
		return codes[0]
	}
	inv := s.invoices[info.Invoice]
	switch info.Type {
	case mig.TypeF0401:
		if inv != nil && inv.issued {
			if info.Consumer {
				return "E1003"
			}
			return "E0201"
		}
		s.invoices[info.Invoice] = &platformInvoice{issued: true}
	case mig.TypeF0501:
		switch {
		case inv == nil || !inv.issued:
			return "E0202"
		case inv.voided:
			return "E0213"
		}
		inv.voided = true
	case mig.TypeF0701:
		if inv == nil || !inv.issued {
			return "E0202"
		}
		inv.issued, inv.voided = false, false
	case mig.TypeG0401:
		switch {
		case inv == nil || !inv.issued:
			return "E0202"
		case inv.voided:
			return "E0211"
		case s.allowances[info.Allowance] != "":
			return "E0201"
		}
		s.allowances[info.Allowance] = "C"
	case mig.TypeG0501:
		switch s.allowances[info.Allowance] {
		case "":
			return "E0205"
		case "voided":
			return "E0218"
		}
		s.allowances[info.Allowance] = "voided"
	case mig.TypeE0402:
		if s.blanks[info.Identifier] {
			return "E0201"
		}
		s.blanks[info.Identifier] = true
	}
	return "00000"
}

// Files lists every file under the stand-in's root whose name contains
// substr, for tests counting drops.
func (s *Server) Files(substr string) []string {
	var out []string
	filepath.WalkDir(s.opt.Root, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(d.Name(), substr) {
			out = append(out, path)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// proxy forwards TCP to the database and can be cut.
type proxy struct {
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newProxy(target string) (*proxy, error) {
	p := &proxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	return p, nil
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *proxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) up() error {
	p.mu.Lock()
	if p.ln != nil {
		p.mu.Unlock()
		return nil
	}
	p.mu.Unlock()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.serve(ln)
	return nil
}

func (p *proxy) close() { p.down() }

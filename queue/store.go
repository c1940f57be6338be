package queue

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/posagent/posagent"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Logger receives migration notices; nil discards them.
	Logger *slog.Logger
	// Now is the store's clock for every time it records (job due times,
	// leases, events). Nil means time.Now. Tests inject a fake clock.
	Now func() time.Time
	// BusyTimeout is how long a connection waits for a lock held by another
	// process (a `posagent status` reading, a backup) before giving up.
	// Zero means 5 s.
	BusyTimeout time.Duration
	// Readers is the size of the read-only connection pool used by lookups
	// and status queries. Zero means 4.
	Readers int
}

// Store is the terminal's SQLite store. It is safe for concurrent use.
type Store struct {
	path   string
	writer *sql.DB // one connection: every write transaction, in turn
	reader *sql.DB // read-only pool: lookups and status
	now    func() time.Time
	log    *slog.Logger

	mu sync.Mutex
	// highWater is the latest clock reading written to a job. A clock that
	// reads earlier than this has been set back (see Claim).
	highWater int64
}

// ErrDiskFull is matched (errors.Is) by a write that failed because the disk
// or file system holding the store is full. The transaction was rolled back.
var ErrDiskFull = errors.New("the disk holding the store is full")

// ErrReadOnly is matched (errors.Is) by a write that failed because the
// store's file, directory or file system cannot be written. The transaction
// was rolled back.
var ErrReadOnly = errors.New("the store cannot be written (read-only file, directory or file system)")

// Open opens (creating if needed) the store at path and brings its schema up
// to date. It refuses a database whose schema is newer than this binary knows
// (KindConfig): an older posagent must not write to a newer store.
func Open(path string, opts Options) (*Store, error) {
	return open(path, opts, len(migrations()))
}

// open opens the store with the schema brought up to version target (tests
// build older schemas with it).
func open(path string, opts Options, target int) (*Store, error) {
	if path == "" {
		return nil, posagent.Invalid("path", "the store needs a file path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{path: abs, now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	busy := opts.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	readers := opts.Readers
	if readers <= 0 {
		readers = 4
	}

	if err := protectFiles(abs); err != nil {
		s.log.Warn("the store's files may be readable by other local users", "err", err)
	}
	if err := protectFilesACL(abs); err != nil {
		s.log.Warn("the store's files may be readable by other local users", "err", err)
	}
	if why := openDirectory(abs); why != "" {
		s.log.Warn("other local users can delete or replace the store's files", "dir", filepath.Dir(abs), "why", why)
	}
	s.writer, err = sql.Open(sqliteDriver, writerDSN(abs, busy))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	s.writer.SetMaxOpenConns(1)
	s.writer.SetMaxIdleConns(1)
	s.writer.SetConnMaxLifetime(0)
	s.writer.SetConnMaxIdleTime(0)

	// Processes opening a brand-new store at the same moment contend while
	// it switches to WAL, in ways SQLite reports as BUSY without waiting:
	// retry within the busy timeout.
	for start, wait := time.Now(), 5*time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err = s.migrate(context.Background(), target)
		if err == nil || !isBusy(err) || time.Since(start) > busy {
			break
		}
		time.Sleep(wait)
	}
	if err != nil {
		s.writer.Close()
		return nil, err
	}

	rq := url.Values{}
	rq.Set("mode", "ro")
	rq.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	rq.Set("_fk", "1")
	rq.Set("_stmt_cache_size", "64")
	s.reader, err = sql.Open(sqliteDriver, fileURI(abs, rq))
	if err != nil {
		s.writer.Close()
		return nil, fmt.Errorf("open store %s: %w", abs, err)
	}
	s.reader.SetMaxOpenConns(readers)
	s.reader.SetMaxIdleConns(readers)
	if err := s.reader.Ping(); err != nil {
		s.Close()
		return nil, s.storageError("open store for reading", err)
	}
	if target < 2 {
		return s, nil // before the outbox existed: only for tests of migrations
	}
	var hw sql.NullInt64
	if err := s.writer.QueryRow(`SELECT max(updated_at) FROM jobs`).Scan(&hw); err != nil {
		s.Close()
		return nil, s.storageError("open store", err)
	}
	s.highWater = hw.Int64
	return s, nil
}

// writerDSN is the write connection's DSN. The durability settings live in
// the DSN so that every connection the pool ever opens has them (an Exec of a
// PRAGMA reaches one connection). _journal=WAL on its own leaves synchronous
// at NORMAL, where a commit may roll back after a power cut; _sync=FULL
// fsyncs the WAL at each commit. _txlock=immediate takes the write lock at
// BEGIN, so a transaction that reads then writes cannot fail half-way with
// SQLITE_BUSY. _fk=1 enforces the schema's references. _stmt_cache_size
// keeps prepared statements per connection: parsing SQL was a quarter of the
// CPU an Issue took.
func writerDSN(abs string, busy time.Duration) string {
	q := url.Values{}
	q.Set("_journal", "WAL")
	q.Set("_sync", "FULL")
	q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
	q.Set("_txlock", "immediate")
	q.Set("_fk", "1")
	q.Set("_stmt_cache_size", "64")
	return fileURI(abs, q)
}

// fileURI builds an SQLite URI filename; the path is escaped so that '?' or
// '#' in a directory name cannot be taken for parameters.
func fileURI(abs string, q url.Values) string {
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		// A Windows path (C:/ProgramData/…): SQLite wants file:///C:/…,
		// not file://C:/…, whose "C:" it would take for a host.
		p = "/" + p
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: q.Encode()}
	return u.String()
}

// Path is the absolute path of the database file.
func (s *Store) Path() string { return s.path }

// Close closes the store. The last connection to close checkpoints the WAL
// into the database file.
func (s *Store) Close() error {
	var errs []error
	if s.reader != nil {
		errs = append(errs, s.reader.Close())
	}
	if s.writer != nil {
		errs = append(errs, s.writer.Close())
	}
	return errors.Join(errs...)
}

// Check runs SQLite's integrity check over the whole database and returns an
// error describing the first problems found. It reads every page: run it at
// start-up or on request, not on the sale path.
func (s *Store) Check(ctx context.Context) error {
	rows, err := s.reader.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return s.storageError("check store", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.storageError("check store", err)
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return s.storageError("check store", err)
	}
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], "…")
		}
		return posagent.Errorf(posagent.KindInternal, "store %s is damaged: %s", s.path, strings.Join(problems, "; "))
	}
	return nil
}

// ---- migrations ----

type migration struct {
	version int
	name    string
	sql     string
}

// SchemaVersion is the newest schema this binary knows.
func SchemaVersion() int { return len(migrations()) }

var (
	migrationsOnce sync.Once
	migrationList  []migration
)

// migrations lists the embedded files, named NNNN_name.sql and numbered
// 1, 2, 3… without gaps (a gap is a programming error and panics).
func migrations() []migration {
	migrationsOnce.Do(func() {
		entries, err := migrationFiles.ReadDir("migrations")
		if err != nil {
			panic(err)
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
		for i, e := range entries {
			name := strings.TrimSuffix(e.Name(), ".sql")
			v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
			if err != nil || v != i+1 {
				panic(fmt.Sprintf("queue: migration %s is out of sequence (want %04d_…)", e.Name(), i+1))
			}
			body, err := migrationFiles.ReadFile("migrations/" + e.Name())
			if err != nil {
				panic(err)
			}
			migrationList = append(migrationList, migration{version: v, name: name, sql: string(body)})
		}
	})
	return migrationList
}

// migrate applies the known migrations up to target that the database lacks,
// each in its own transaction together with its record in schema_migrations.
func (s *Store) migrate(ctx context.Context, target int) error {
	// One write transaction for the bookkeeping: a plain autocommit
	// statement that reads then writes can fail at once with BUSY_SNAPSHOT
	// when another process migrates the same new store.
	applied := map[int]string{}
	newest := 0
	err := func() error {
		tx, err := s.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at TEXT NOT NULL
		)`); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT version, name FROM schema_migrations ORDER BY version`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v int
			var name string
			if err := rows.Scan(&v, &name); err != nil {
				return err
			}
			applied[v] = name
			newest = max(newest, v)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		return tx.Commit()
	}()
	if err != nil {
		return s.storageError("read schema version", err)
	}
	known := migrations()
	if newest > len(known) {
		return &posagent.Error{Kind: posagent.KindConfig, Field: "store",
			Message: fmt.Sprintf("%s has schema version %d, newer than this posagent knows (%d): run the posagent that wrote it, or a newer one", s.path, newest, len(known))}
	}
	for _, m := range known[:target] {
		if name, ok := applied[m.version]; ok {
			if name != m.name {
				return &posagent.Error{Kind: posagent.KindConfig, Field: "store",
					Message: fmt.Sprintf("%s has migration %d %q where this posagent has %q: not a database this posagent wrote", s.path, m.version, name, m.name)}
			}
			continue
		}
		if err := s.applyMigration(ctx, m); err != nil {
			return err
		}
		s.log.Info("store migrated", "path", s.path, "version", m.version, "name", m.name)
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, m migration) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.storageError("migrate to "+m.name, err)
	}
	defer tx.Rollback()
	// Another process opening the same store may have applied it while we
	// waited for the write lock.
	var done int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&done); err != nil {
		return s.storageError("migrate to "+m.name, err)
	}
	if done > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return s.storageError("migrate to "+m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, s.now().UTC().Format(time.RFC3339Nano)); err != nil {
		return s.storageError("migrate to "+m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return s.storageError("migrate to "+m.name, err)
	}
	return nil
}

// ---- transactions and errors ----

// write runs fn in one write transaction (BEGIN IMMEDIATE) and commits. An
// error or panic in fn rolls back. The transaction runs to its end even if
// ctx is cancelled once it has begun: a sale half-way through is finished or
// rolled back by us, not cut by a client hanging up.
func (s *Store) write(ctx context.Context, op string, fn func(tx *sql.Tx, now int64) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	ctx = context.WithoutCancel(ctx)
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.storageError(op, err)
	}
	now := s.now().UnixNano()
	committed := false
	defer func() {
		if !committed {
			tx.Rollback()
		}
	}()
	if err := fn(tx, now); err != nil {
		return s.storageError(op, err)
	}
	if err := tx.Commit(); err != nil {
		return s.storageError(op, err)
	}
	committed = true
	s.mu.Lock()
	s.highWater = max(s.highWater, now)
	s.mu.Unlock()
	return nil
}

// storageError passes *posagent.Error values through (with op in front of
// a storage cause) and turns SQLite failures into clear errors: a full disk
// is KindStorageFull, anything else KindInternal.
func (s *Store) storageError(op string, err error) error {
	var pe *posagent.Error
	if errors.As(err, &pe) {
		return err
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull:
			return &posagent.Error{Kind: posagent.KindStorageFull, Message: op,
				Err: fmt.Errorf("%w (%s); nothing was written: %v", ErrDiskFull, s.path, se)}
		case sqlite3.ErrReadonly, sqlite3.ErrPerm:
			return &posagent.Error{Kind: posagent.KindInternal, Message: op,
				Err: fmt.Errorf("%w (%s); nothing was written: %v", ErrReadOnly, s.path, se)}
		case sqlite3.ErrCantOpen:
			if why := s.unwritable(); why != "" {
				return &posagent.Error{Kind: posagent.KindInternal, Message: op,
					Err: fmt.Errorf("%w: %s; nothing was written: %v", ErrReadOnly, why, se)}
			}
		case sqlite3.ErrIoErr:
			if diskFullErrno(se.SystemErrno) {
				return &posagent.Error{Kind: posagent.KindStorageFull, Message: op,
					Err: fmt.Errorf("%w (%s); nothing was written: %v", ErrDiskFull, s.path, se)}
			}
			if readOnlyErrno(se.SystemErrno) {
				return &posagent.Error{Kind: posagent.KindInternal, Message: op,
					Err: fmt.Errorf("%w (%s); nothing was written: %v", ErrReadOnly, s.path, se)}
			}
		}
	}
	return &posagent.Error{Kind: posagent.KindInternal, Message: op, Err: fmt.Errorf("%s: %w", s.path, err)}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// newToken returns a random claim token: a late acknowledgement from a worker
// whose lease ran out cannot be mistaken for the current holder's.
func newToken() int64 {
	var b [8]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		panic(fmt.Sprintf("queue: crypto/rand failed: %v", err))
	}
	return int64(binary.BigEndian.Uint64(b[:]) >> 1)
}

// column reads the one column of rows into a slice and closes rows.
func column[T any](rows *sql.Rows) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func fromNanos(ns int64) time.Time { return time.Unix(0, ns).In(posagent.Taipei) }

func fromNullNanos(ns sql.NullInt64) time.Time {
	if !ns.Valid {
		return time.Time{}
	}
	return fromNanos(ns.Int64)
}

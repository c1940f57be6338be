// Package hq is the head office: one MySQL (or MariaDB, or any MySQL-compatible
// cluster) shared by every terminal of a shop or chain. It holds the number
// ranges the MOF assigned to each seller tax id and leases them to terminals in
// whole booklets of 50, so that no two terminals ever hold the same number
// (promise 2: one number, one invoice).
//
// A terminal never issues against MySQL directly: it leases booklets ahead of
// need, keeps them in its own SQLite store and sells from there, online or not.
// MySQL is where numbers are handed out, not the terminal's queue.
package hq

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/posagent/posagent"
)

// HeadOffice hands out booklets from the ranges it holds.
type HeadOffice struct {
	db *sql.DB
	// Logger receives one line per lease and per range added. Never nil after Open.
	Logger *slog.Logger
	// Now is the clock for lease times; it can be replaced in tests.
	Now func() time.Time
}

// Open connects to MySQL with the DSN of github.com/go-sql-driver/mysql
// ("user:pass@tcp(host:3306)/db") and creates the tables if they are missing.
func Open(ctx context.Context, dsn string) (*HeadOffice, error) {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		// The driver's message may quote the DSN, password included: say only what failed.
		return nil, &posagent.Error{Kind: posagent.KindConfig, Field: "hq.dsn", Message: "not a MySQL DSN such as user:pass@tcp(127.0.0.1:3306)/posagent"}
	}
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, &posagent.Error{Kind: posagent.KindConfig, Field: "hq.dsn", Message: "unusable MySQL settings"}
	}
	db := sql.OpenDB(connector)
	// Middleboxes close idle connections: the driver's README calls a lifetime
	// under five minutes required.
	db.SetConnMaxLifetime(3 * time.Minute)
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	h := &HeadOffice{db: db, Logger: slog.Default(), Now: time.Now}
	if err := h.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return h, nil
}

// Close closes the connection pool.
func (h *HeadOffice) Close() error { return h.db.Close() }

var schema = []string{
	// One row per seller: locking it serialises every change to that seller's
	// numbers, in MySQL and MariaDB alike, without relying on gap locks.
	`CREATE TABLE IF NOT EXISTS hq_sellers (
		seller CHAR(8) NOT NULL PRIMARY KEY
	) ENGINE=InnoDB`,
	// The ranges the MOF assigned (E0501), and how far each has been leased.
	`CREATE TABLE IF NOT EXISTS hq_ranges (
		id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
		seller CHAR(8) NOT NULL,
		period CHAR(5) NOT NULL,
		track CHAR(2) NOT NULL,
		first_no INT NOT NULL,
		last_no INT NOT NULL,
		next_no INT NOT NULL,
		added_at DATETIME(6) NOT NULL,
		UNIQUE KEY hq_ranges_start (seller, period, track, first_no),
		KEY hq_ranges_open (seller, period, next_no)
	) ENGINE=InnoDB`,
	// Every lease, forever: the ledger that accounts for each number (promise 4).
	`CREATE TABLE IF NOT EXISTS hq_leases (
		id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
		range_id BIGINT NOT NULL,
		seller CHAR(8) NOT NULL,
		period CHAR(5) NOT NULL,
		track CHAR(2) NOT NULL,
		first_no INT NOT NULL,
		last_no INT NOT NULL,
		terminal VARCHAR(64) NOT NULL,
		leased_at DATETIME(6) NOT NULL,
		UNIQUE KEY hq_leases_start (seller, period, track, first_no),
		KEY hq_leases_terminal (seller, terminal, period),
		CONSTRAINT hq_leases_range FOREIGN KEY (range_id) REFERENCES hq_ranges (id)
	) ENGINE=InnoDB`,
}

func (h *HeadOffice) migrate(ctx context.Context) error {
	for _, stmt := range schema {
		if _, err := h.db.ExecContext(ctx, stmt); err != nil {
			return classify("create head-office tables", err)
		}
	}
	return nil
}

// AddRange records a number range the MOF assigned to seller. It must be whole
// booklets and must not overlap a range the head office already holds.
func (h *HeadOffice) AddRange(ctx context.Context, seller string, r posagent.Booklet) error {
	if !posagent.ValidTaxID(seller) {
		return posagent.Invalid("seller", "%q is not a valid 統一編號", seller)
	}
	if err := r.Validate(); err != nil {
		return err
	}
	return h.inSellerTx(ctx, seller, func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM hq_ranges
			WHERE seller = ? AND period = ? AND track = ? AND first_no <= ? AND last_no >= ?`,
			seller, r.Period.Code(), r.Track, r.Last, r.First).Scan(&n)
		if err != nil {
			return classify("check overlapping ranges", err)
		}
		if n > 0 {
			return posagent.Errorf(posagent.KindConflict, "range %s of period %s overlaps a range the head office already holds", r, r.Period)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO hq_ranges (seller, period, track, first_no, last_no, next_no, added_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, seller, r.Period.Code(), r.Track, r.First, r.Last, r.First, h.Now().UTC())
		if err != nil {
			return classify("add range", err)
		}
		h.Logger.Info("head office range added", "seller", seller, "period", r.Period.Code(), "range", r.String())
		return nil
	})
}

// Lease gives terminal up to req.Booklets booklets of seller's numbers for
// req.Period, taking ranges in order (track, then first number) and booklets in
// order within them. It gives fewer when fewer are left, and a KindExhausted
// error when none are. What it returns is committed before it returns: the
// terminal must store it before using a number, and numbers it never uses are
// reported blank at period end.
func (h *HeadOffice) Lease(ctx context.Context, seller, terminal string, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	switch {
	case !posagent.ValidTaxID(seller):
		return nil, posagent.Invalid("seller", "%q is not a valid 統一編號", seller)
	case terminal == "" || len(terminal) > 64:
		return nil, posagent.Invalid("terminal", "a terminal id is 1 to 64 characters")
	case req.Period.IsZero():
		return nil, posagent.Invalid("period", "is required")
	case req.Booklets < 1:
		return nil, posagent.Invalid("booklets", "ask for at least one booklet")
	}
	var leased []posagent.Booklet
	err := h.inSellerTx(ctx, seller, func(tx *sql.Tx) error {
		leased = leased[:0]
		rows, err := tx.QueryContext(ctx, `SELECT id, track, last_no, next_no FROM hq_ranges
			WHERE seller = ? AND period = ? AND next_no <= last_no
			ORDER BY track, first_no`, seller, req.Period.Code())
		if err != nil {
			return classify("find open ranges", err)
		}
		type open struct {
			id         int64
			track      string
			last, next int
		}
		var ranges []open
		for rows.Next() {
			var o open
			if err := rows.Scan(&o.id, &o.track, &o.last, &o.next); err != nil {
				rows.Close()
				return classify("read ranges", err)
			}
			ranges = append(ranges, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return classify("read ranges", err)
		}
		want := req.Booklets
		now := h.Now().UTC()
		for _, o := range ranges {
			if want == 0 {
				break
			}
			n := min(want, (o.last-o.next+1)/posagent.BookletSize)
			if n == 0 {
				continue
			}
			b := posagent.Booklet{Track: o.track, First: o.next, Last: o.next + n*posagent.BookletSize - 1, Period: req.Period, Source: "hq"}
			if _, err := tx.ExecContext(ctx, `UPDATE hq_ranges SET next_no = ? WHERE id = ?`, b.Last+1, o.id); err != nil {
				return classify("advance range", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO hq_leases (range_id, seller, period, track, first_no, last_no, terminal, leased_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, o.id, seller, req.Period.Code(), b.Track, b.First, b.Last, terminal, now); err != nil {
				return classify("record lease", err)
			}
			leased = append(leased, b)
			want -= n
		}
		if len(leased) == 0 {
			return posagent.Errorf(posagent.KindExhausted, "the head office has no numbers left for %s in period %s", seller, req.Period.Label())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, b := range leased {
		h.Logger.Info("booklets leased", "seller", seller, "terminal", terminal, "period", req.Period.Code(), "range", b.String())
	}
	return leased, nil
}

// Lease is one range leased to a terminal, as the head office's ledger holds it.
type Lease struct {
	posagent.Booklet
	Terminal string
	LeasedAt time.Time
}

// Leases lists the leases of seller in period, terminal by terminal, in number order.
func (h *HeadOffice) Leases(ctx context.Context, seller string, p posagent.Period) ([]Lease, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT track, first_no, last_no, terminal, leased_at FROM hq_leases
		WHERE seller = ? AND period = ? ORDER BY track, first_no`, seller, p.Code())
	if err != nil {
		return nil, classify("list leases", err)
	}
	defer rows.Close()
	var out []Lease
	for rows.Next() {
		l := Lease{Booklet: posagent.Booklet{Period: p, Source: "hq"}}
		if err := rows.Scan(&l.Track, &l.First, &l.Last, &l.Terminal, &l.LeasedAt); err != nil {
			return nil, classify("read leases", err)
		}
		out = append(out, l)
	}
	return out, classify("read leases", rows.Err())
}

// Unleased lists what is left of seller's ranges in period: the numbers no
// terminal holds, to be reported blank (E0402) if still unleased at period end.
func (h *HeadOffice) Unleased(ctx context.Context, seller string, p posagent.Period) ([]posagent.Booklet, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT track, next_no, last_no FROM hq_ranges
		WHERE seller = ? AND period = ? AND next_no <= last_no ORDER BY track, first_no`, seller, p.Code())
	if err != nil {
		return nil, classify("list unleased numbers", err)
	}
	defer rows.Close()
	var out []posagent.Booklet
	for rows.Next() {
		b := posagent.Booklet{Period: p, Source: "hq"}
		if err := rows.Scan(&b.Track, &b.First, &b.Last); err != nil {
			return nil, classify("read unleased numbers", err)
		}
		out = append(out, b)
	}
	return out, classify("read unleased numbers", rows.Err())
}

// Source is the head office seen by one terminal: a posagent.BookletSource.
type Source struct {
	HQ       *HeadOffice
	Seller   string // the seller tax id whose numbers the terminal uses
	Terminal string // this terminal's id, unique within the seller
}

var _ posagent.BookletSource = Source{}

// LeaseBooklets implements posagent.BookletSource.
func (s Source) LeaseBooklets(ctx context.Context, req posagent.LeaseRequest) ([]posagent.Booklet, error) {
	terminal := s.Terminal
	if req.MachineID != "" {
		terminal = req.MachineID
	}
	return s.HQ.Lease(ctx, s.Seller, terminal, req)
}

// Unleased lists the numbers of the terminal's seller in period p that no
// terminal took, for the period close-out (agent.UnleasedLister).
func (s Source) Unleased(ctx context.Context, p posagent.Period) ([]posagent.Booklet, error) {
	return s.HQ.Unleased(ctx, s.Seller, p)
}

// inSellerTx runs fn in a transaction holding the seller's row lock, so that
// changes to one seller's numbers happen one at a time across all terminals.
func (h *HeadOffice) inSellerTx(ctx context.Context, seller string, fn func(*sql.Tx) error) error {
	if _, err := h.db.ExecContext(ctx, `INSERT IGNORE INTO hq_sellers (seller) VALUES (?)`, seller); err != nil {
		return classify("register seller", err)
	}
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return classify("begin", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var locked string
	if err := tx.QueryRowContext(ctx, `SELECT seller FROM hq_sellers WHERE seller = ? FOR UPDATE`, seller).Scan(&locked); err != nil {
		return classify("lock seller", err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	return classify("commit", tx.Commit())
}

// classify wraps a database error with the step that failed and a kind: a
// server that cannot be reached or is busy is transient, refused credentials
// are configuration, anything else internal.
func classify(step string, err error) error {
	if err == nil {
		return nil
	}
	var pe *posagent.Error
	if errors.As(err, &pe) {
		return err
	}
	kind := posagent.KindTransient
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1045, 1044, 1142, 1049: // access denied, no such database
			kind = posagent.KindConfig
		case 1205, 1213, 1040, 2006, 2013: // lock wait, deadlock, too many connections, gone away
			kind = posagent.KindTransient
		default:
			kind = posagent.KindInternal
		}
	}
	return &posagent.Error{Kind: kind, Message: fmt.Sprintf("head office: %s", step), Err: err}
}

package queue

import "context"

// OpenAtVersion opens a store with its schema brought only up to version.
func OpenAtVersion(path string, opts Options, version int) (*Store, error) {
	return open(path, opts, version)
}

// LimitPages caps the database at n pages on the write connection: a full
// disk without needing one.
func LimitPages(s *Store, n int) error {
	_, err := s.writer.ExecContext(context.Background(), `PRAGMA max_page_count = `+itoa(n))
	return err
}

// PageCount is the database's size in pages.
func PageCount(s *Store) (int, error) {
	var n int
	err := s.writer.QueryRowContext(context.Background(), `PRAGMA page_count`).Scan(&n)
	return n, err
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// WriterDSN is the write connection's DSN for a database at abs: the bare
// commit benchmark uses the same settings.
func WriterDSN(abs string) string { return writerDSN(abs, 5e9) }

// FillOutbox adds n issued invoices with their upload jobs in one
// transaction (benchmark fixtures); one job in pendingEvery is pending, the
// others done (all pending when pendingEvery is 1). The invoices take numbers from a fresh track, and the
// booklet cursor moves with them.
func FillOutbox(s *Store, track string, n, pendingEvery int, doc func(number string) ([]byte, error)) error {
	ctx := context.Background()
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := s.now().UnixNano()
	size := (n + 49) / 50 * 50
	var bookletID int64
	if err := tx.QueryRow(`INSERT INTO booklets (track, first, last, period, source, next, added_at)
		VALUES (?, 0, ?, '11410', 'fixture', ?, ?) RETURNING id`, track, size-1, n, now).Scan(&bookletID); err != nil {
		return err
	}
	inv, err := tx.Prepare(`INSERT INTO invoices (sale_id, number, period, booklet_id, random_code, issued_at, total, doc, created_at)
		VALUES (?, ?, '11410', ?, '1234', ?, 100, ?, ?) RETURNING id`)
	if err != nil {
		return err
	}
	job, err := tx.Prepare(`INSERT INTO jobs (kind, invoice_id, state, next_at, created_at, updated_at, done_at)
		VALUES ('upload', ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := range n {
		var id int64
		number := track + pad8(i)
		d, err := doc(number)
		if err != nil {
			return err
		}
		if err := inv.QueryRow("fixture-"+number, number, bookletID, now, string(d), now).Scan(&id); err != nil {
			return err
		}
		state, doneAt := "done", any(now)
		if i%pendingEvery == 0 {
			state, doneAt = "pending", nil
		}
		if _, err := job.Exec(id, state, now+int64(i), now, now, doneAt); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// Start the benchmark from a checkpointed WAL, as a till in steady state.
	_, err = s.writer.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

func pad8(i int) string {
	s := itoa(i)
	for len(s) < 8 {
		s = "0" + s
	}
	return s
}

// ReadThroughWriter sends the store's reads through its one write
// connection, as a store without a read pool would (benchmark comparison).
func ReadThroughWriter(s *Store) (restore func()) {
	r := s.reader
	s.reader = s.writer
	return func() { s.reader = r }
}

// WriterPragma reads a PRAGMA on the write connection.
func WriterPragma(s *Store, name string) (string, error) {
	var v string
	err := s.writer.QueryRowContext(context.Background(), `PRAGMA `+name).Scan(&v)
	return v, err
}

// UseDriver makes stores opened from now on use the named database/sql
// driver; the returned func restores the default.
func UseDriver(name string) (restore func()) {
	old := sqliteDriver
	sqliteDriver = name
	return func() { sqliteDriver = old }
}

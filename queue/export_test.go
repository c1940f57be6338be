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

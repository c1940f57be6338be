package turnkey

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The drop journal: one small JSON file per message (an invoice's F0401, its
// F0501, an allowance's G0401, a period's E0402 for one track), under the
// provider's state directory. Each drop is recorded before the file is
// renamed into SRC and again after, so that after a crash the provider knows
// which name it was about to drop and can look for it before dropping again:
// Turnkey does not deduplicate (turnkey.md §1.2), so one message must make
// exactly one file.

// record is what the journal keeps of one message.
type record struct {
	Key        string    `json:"key"` // "F0401_AB12345678"
	Type       string    `json:"type"`
	Identifier string    `json:"identifier"` // TURNKEY_MESSAGE_LOG.INVOICE_IDENTIFIER
	Attempts   []attempt `json:"attempts"`
	// Accepted is set once Turnkey's database says C (or a duplicate answer
	// proves an earlier C).
	Accepted time.Time `json:"accepted,omitzero"`
	// Alarmed is set when the G-too-long alarm was raised, so it is logged once.
	Alarmed bool `json:"alarmed,omitempty"`
}

// attempt is one file dropped (or about to be) for a message.
type attempt struct {
	File      string    `json:"file"` // the name in SRC, never reused
	XML       []byte    `json:"xml"`
	Dropped   bool      `json:"dropped"` // false: recorded before the rename, not after
	DroppedAt time.Time `json:"dropped_at,omitzero"`
	// Failed is the definite failure of this attempt (ERR, or E with a code
	// other than a duplicate): a later call drops a new attempt.
	Failed string `json:"failed,omitempty"`
}

func (r *record) last() *attempt {
	if len(r.Attempts) == 0 {
		return nil
	}
	return &r.Attempts[len(r.Attempts)-1]
}

type journal struct{ dir string }

func (j journal) path(key string) string { return filepath.Join(j.dir, key+".json") }

// load returns the record of key, or a fresh one.
func (j journal) load(key string) (*record, error) {
	data, err := os.ReadFile(j.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return &record{Key: key}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("turnkey: read journal: %w", err)
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("turnkey: journal %s is damaged: %w", j.path(key), err)
	}
	return &r, nil
}

// save writes the record durably: temp file, fsync, rename, fsync of the directory.
func (j journal) save(r *record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := writeDurably(j.dir, r.Key+".json", data); err != nil {
		return fmt.Errorf("turnkey: write journal: %w", err)
	}
	return nil
}

// all lists every record (for status and tests).
func (j journal) all() ([]*record, error) {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, err
	}
	var out []*record
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		r, err := j.load(strings.TrimSuffix(e.Name(), ".json"))
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// writeDurably writes name in dir through a temporary file in dir.
func writeDurably(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. Windows cannot open a directory for
// fsync; there NTFS's own journal is all there is.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !isUnsupported(err) {
		return err
	}
	return nil
}

func isUnsupported(err error) bool {
	return strings.Contains(err.Error(), "not supported") || strings.Contains(err.Error(), "Access is denied") ||
		strings.Contains(err.Error(), "invalid argument")
}

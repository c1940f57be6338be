package turnkey

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/mig"
)

// afterRename runs between the rename into SRC and the record after it.
// Tests set it to kill the process right there.
var afterRename = func() {}

// send is the life of one message: build and drop it unless the journal
// already has a live attempt, then read where that attempt is.
func (p *Provider) send(ctx context.Context, key string, build func() (mig.Message, error)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, err := p.journal.load(key)
	if err != nil {
		return err
	}
	if !rec.Accepted.IsZero() {
		return nil
	}
	att := rec.last()
	if att == nil || att.Failed != "" {
		msg, err := build()
		if err != nil {
			return err // invalid: named field, nothing written
		}
		rec.Type, rec.Identifier = msg.Type, msg.Identifier
		rec.Attempts = append(rec.Attempts, attempt{File: p.fileName(msg, key, len(rec.Attempts)+1), XML: msg.XML})
		if err := p.journal.save(rec); err != nil { // the record before
			return err
		}
		att = rec.last()
	}
	if !att.Dropped {
		if err := p.drop(ctx, rec, att); err != nil {
			return err
		}
	}
	return p.settle(ctx, rec, att)
}

// fileName is <Msg>_<id>_<yyyyMMddHHmmss>_<attempt>-<random>.xml (the safe
// choice of turnkey.md §1.2 with a random tail): ASCII, never reused, not even
// by another till dropping the same number in the same second. The name is
// recorded before the drop, so a restart looks for exactly this name.
func (p *Provider) fileName(msg mig.Message, key string, n int) string {
	id := strings.TrimPrefix(key, msg.Type+"_")
	tail := make([]byte, 4)
	rand.Read(tail)
	return fmt.Sprintf("%s_%s_%s_%d-%s.xml", msg.Type, id, p.now().In(posagent.Taipei).Format("20060102150405"), n, hex.EncodeToString(tail))
}

// drop puts the attempt's file into SRC, unless an earlier run already did
// (it was killed between the rename and the record after it): then the file
// is in SRC, BAK or ERR, or in Turnkey's database, and is only recorded.
func (p *Provider) drop(ctx context.Context, rec *record, att *attempt) error {
	found, err := p.dropped(ctx, rec.Type, rec.Identifier, att.File, p.now())
	if err != nil {
		return err
	}
	if !found {
		if err := p.rename(rec.Type, att); err != nil {
			return err
		}
		afterRename()
	}
	att.Dropped, att.DroppedAt = true, p.now()
	if err := p.journal.save(rec); err != nil { // the record after
		return err
	}
	p.log.Info("turnkey: dropped", "type", rec.Type, "identifier", rec.Identifier, "file", att.File, "recovered", found)
	return nil
}

// rename writes the file outside SRC, fsyncs it and renames it in.
func (p *Provider) rename(msgType string, att *attempt) error {
	tmp, err := os.CreateTemp(p.cfg.TempDir, tempPrefix+"*")
	if err != nil {
		return transient("write the message in the temp directory", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(att.XML)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644) // Turnkey may run as another user
	}
	if err != nil {
		return transient("write the message in the temp directory", err)
	}
	src := p.folder(msgType, "SRC")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return transient("create "+src, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(src, att.File)); err != nil {
		return transient("move the message into "+src, err)
	}
	if err := syncDir(src); err != nil {
		return transient("sync "+src, err)
	}
	return nil
}

func transient(what string, err error) error {
	return &posagent.Error{Kind: posagent.KindTransient, Message: "turnkey: " + what, Err: err}
}

// dropped reports whether a file named name is anywhere Turnkey keeps it:
// SRC, BAK or ERR of its type (Turnkey keeps the name, adding a suffix only
// on a collision, which unique names do not meet), or a detail row of the
// database naming it.
func (p *Provider) dropped(ctx context.Context, msgType, identifier, name string, since time.Time) (bool, error) {
	if _, err := os.Stat(filepath.Join(p.folder(msgType, "SRC"), name)); err == nil {
		return true, nil
	}
	for _, sub := range []string{"BAK", "ERR"} {
		if where, err := findFile(p.folder(msgType, sub), name); err != nil {
			return false, err
		} else if where != "" {
			return true, nil
		}
	}
	if p.db != nil {
		if row, err := p.lookup(ctx, identifier, name, since); err == nil && row != nil {
			return true, nil
		}
	}
	return false, nil
}

// findFile looks for name under dir/yyyyMMdd/HH/ (Turnkey's BAK and ERR).
func findFile(dir, name string) (string, error) {
	base := strings.TrimSuffix(name, ".xml")
	var found string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() && (d.Name() == name || collisionName(d.Name(), base)) {
			found = path
			return filepath.SkipAll
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("turnkey: look in %s: %w", dir, err)
	}
	return found, nil
}

// collisionName reports whether file is base with the suffix Turnkey adds on
// a name collision: base, then something that is not a digit (our attempt
// numbers end the base with digits: _1 must not match _12).
func collisionName(file, base string) bool {
	if !strings.HasPrefix(file, base) || len(file) == len(base) {
		return false
	}
	c := file[len(base)]
	return c < '0' || c > '9'
}

package turnkey

import (
	"context"

	"github.com/posagent/posagent/providers/mig"
)

// SetAfterRename replaces the hook between the rename into SRC and the record after it.
func SetAfterRename(f func()) func() {
	old := afterRename
	afterRename = f
	return func() { afterRename = old }
}

// DropRaw sends data as a message of msgType under key, bypassing the
// builders' checks: how a test gets a file Turnkey refuses.
func (p *Provider) DropRaw(key, msgType string, data []byte) error {
	return p.send(context.Background(), key, func() (mig.Message, error) {
		return mig.Message{Type: msgType, Identifier: key, XML: data}, nil
	})
}

// MarkAccepted makes the journal say a message is C without sending it.
func (p *Provider) MarkAccepted(key string) error {
	rec, err := p.journal.load(key)
	if err != nil {
		return err
	}
	rec.Accepted = p.now()
	return p.journal.save(rec)
}

package turnkey

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/mig"
)

// logRow is what Turnkey's database says of one file.
type logRow struct {
	seqNo, subSeqNo string
	status          string
	identifier      string
	upcastFailed    bool // the UpCast detail row is E: a local rejection (ERR)
}

// lookup finds the TURNKEY_MESSAGE_LOG row of the file named name through its
// UpCast detail row, whose FILENAME is the BAK or ERR path of the file. The
// name is unique to one attempt, so the match is exact where an identifier
// alone would also find earlier attempts and other tills' drops. The rows are
// found by identifier (an equality Turnkey's tables answer quickly); a file
// Turnkey could not read has no identifier, and is then looked for by name
// among the rows since the day before the drop. nil, nil: not taken yet.
func (p *Provider) lookup(ctx context.Context, identifier, name string, since time.Time) (*logRow, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	const query = `
		SELECT l.SEQNO, l.SUBSEQNO, l.STATUS, COALESCE(l.INVOICE_IDENTIFIER, ''), COALESCE(d.STATUS, ''), COALESCE(d.FILENAME, '')
		FROM TURNKEY_MESSAGE_LOG l
		JOIN TURNKEY_MESSAGE_LOG_DETAIL d ON l.SEQNO = d.SEQNO AND l.SUBSEQNO = d.SUBSEQNO AND d.TASK = 'UpCast'
		WHERE l.IN_OUT_BOUND = 'O' AND `
	r, err := p.scanRows(ctx, name, query+`l.INVOICE_IDENTIFIER = ? ORDER BY l.MESSAGE_DTS DESC`, identifier)
	if r != nil || err != nil {
		return r, err
	}
	day := since.In(posagent.Taipei).Add(-24 * time.Hour).Format("20060102")
	return p.scanRows(ctx, name, query+`l.MESSAGE_DTS >= ? AND d.FILENAME LIKE ? ORDER BY l.MESSAGE_DTS DESC`, day, "%"+likeEscape(name))
}

func (p *Provider) scanRows(ctx context.Context, name, query string, args ...any) (*logRow, error) {
	rows, err := p.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, safeErr(err)
	}
	defer rows.Close()
	base := strings.TrimSuffix(name, ".xml")
	for rows.Next() {
		var r logRow
		var detail, file string
		if err := rows.Scan(&r.seqNo, &r.subSeqNo, &r.status, &r.identifier, &detail, &file); err != nil {
			return nil, safeErr(err)
		}
		f := filepath.Base(filepath.FromSlash(strings.ReplaceAll(file, `\`, "/")))
		if f != name && !collisionName(f, base) {
			continue
		}
		r.status = strings.TrimSpace(r.status)
		r.upcastFailed = strings.TrimSpace(detail) == "E"
		return &r, nil
	}
	return nil, safeErr(rows.Err())
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// sysEvent reads Turnkey's error for a row: ERRORCODE and MESSAGE1…6.
func (p *Provider) sysEvent(ctx context.Context, r *logRow) (errorCode string, messages []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	row := p.db.QueryRowContext(ctx, `
		SELECT COALESCE(ERRORCODE, ''), COALESCE(MESSAGE1, ''), COALESCE(MESSAGE2, ''), COALESCE(MESSAGE3, ''),
		       COALESCE(MESSAGE4, ''), COALESCE(MESSAGE5, ''), COALESCE(MESSAGE6, '')
		FROM TURNKEY_SYSEVENT_LOG WHERE SEQNO = ? AND SUBSEQNO = ? ORDER BY EVENTDTS DESC LIMIT 1`, r.seqNo, r.subSeqNo)
	m := make([]string, 6)
	if err := row.Scan(&errorCode, &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, nil
		}
		return "", nil, safeErr(err)
	}
	return errorCode, m, nil
}

// acceptedElsewhere asks whether any row for typ and id (an invoice number
// or allowance number, whatever its date) is C.
func (p *Provider) acceptedElsewhere(ctx context.Context, typ, id string) (bool, error) {
	if p.db == nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var n int
	err := p.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM TURNKEY_MESSAGE_LOG
		WHERE INVOICE_IDENTIFIER LIKE ? AND IN_OUT_BOUND = 'O' AND STATUS = 'C'`, likeEscape(typ+id)+"%").Scan(&n)
	if err != nil {
		return false, safeErr(err)
	}
	return n > 0, nil
}

// earlierAccepted asks whether an identifier has a C row other than seq.
func (p *Provider) earlierAccepted(ctx context.Context, identifier string, r *logRow) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var n int
	err := p.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM TURNKEY_MESSAGE_LOG
		WHERE INVOICE_IDENTIFIER = ? AND IN_OUT_BOUND = 'O' AND STATUS = 'C' AND NOT (SEQNO = ? AND SUBSEQNO = ?)`,
		identifier, r.seqNo, r.subSeqNo).Scan(&n)
	if err != nil {
		return false, safeErr(err)
	}
	return n > 0, nil
}

func waiting(format string, args ...any) error {
	return &posagent.Error{Kind: posagent.KindNotFound, Message: fmt.Sprintf(format, args...)}
}

// settle reads where a dropped attempt is and answers for it: nil when C, a
// waiting (KindNotFound) error while Turnkey and the platform work on it, and
// a rejection (KindInvalid, or KindConflict for a number the platform holds
// for another invoice) when it failed; a failed attempt is marked so that the
// next call (after a person revived the job) drops a new one.
func (p *Provider) settle(ctx context.Context, rec *record, att *attempt) error {
	what := rec.Type + " " + rec.Identifier
	age := p.now().Sub(att.DroppedAt)
	if _, err := os.Stat(filepath.Join(p.folder(rec.Type, "SRC"), att.File)); err == nil {
		return p.stuck(rec, att, waiting("%s is in Turnkey's SRC folder, not yet taken (dropped %s ago): is Turnkey's upload job running?", what, age.Round(time.Second)))
	}
	var row *logRow
	var dbErr error
	if p.db != nil {
		row, dbErr = p.lookup(ctx, rec.Identifier, att.File, att.DroppedAt)
	}
	if p.db == nil || dbErr != nil {
		return p.settleFromFolders(rec, att, dbErr)
	}
	if row == nil {
		return waiting("%s was taken by Turnkey, which has not recorded it yet", what)
	}
	switch row.status {
	case "C":
		p.alarms.clear(rec.Key)
		rec.Accepted = p.now()
		if err := p.journal.save(rec); err != nil {
			return err
		}
		p.log.Info("turnkey: accepted", "type", rec.Type, "identifier", rec.Identifier)
		return nil
	case "P":
		return p.stuck(rec, att, waiting("%s is at Turnkey, status P (處理中: taken, not yet sent)", what))
	case "G":
		return p.stuck(rec, att, waiting("%s is at Turnkey, status G (處理完成: sent, the platform's answer is pending)", what))
	case "I":
		return p.stuck(rec, att, waiting("%s is at Turnkey, status I (中斷: a job was interrupted; Turnkey resumes it)", what))
	case "E":
	default:
		return waiting("%s is at Turnkey with status %q", what, row.status)
	}
	code, messages, err := p.sysEvent(ctx, row)
	if err != nil {
		return waiting("%s was refused by Turnkey, whose reason cannot be read now: %v", what, err)
	}
	if code == "" && messages == nil && p.now().Sub(att.DroppedAt) < time.Minute {
		// Turnkey writes the status and its reason in separate statements.
		return waiting("%s was refused by Turnkey; its reason is not recorded yet", what)
	}
	code, text := explain(code, messages)
	if code == "E0201" || code == "E1003" || code == "E0402" {
		// A duplicate. An earlier C for the identifier means the platform has
		// this message (an earlier drop, e.g. before a lost journal): done.
		if ok, err := p.earlierAccepted(ctx, row.identifier, row); err == nil && ok {
			p.alarms.clear(rec.Key)
			rec.Accepted = p.now()
			if err := p.journal.save(rec); err != nil {
				return err
			}
			p.log.Info("turnkey: duplicate of an accepted message; adopted", "type", rec.Type, "identifier", rec.Identifier)
			return nil
		}
		if rec.Type == mig.TypeF0401 {
			return p.fail(rec, att, posagent.KindConflict, fmt.Sprintf(
				"the platform already holds another invoice under %s (%s): stop using this number range and check it with the MOF", rec.Identifier, text))
		}
	}
	local := row.upcastFailed || code == "-008"
	if local {
		return p.fail(rec, att, posagent.KindInvalid, fmt.Sprintf("Turnkey refused %s and put it in ERR: %s", what, text))
	}
	return p.fail(rec, att, posagent.KindInvalid, fmt.Sprintf("the platform rejected %s: %s", what, text))
}

// settleFromFolders answers from BAK and ERR when the database is out of reach.
func (p *Provider) settleFromFolders(rec *record, att *attempt, dbErr error) error {
	what := rec.Type + " " + rec.Identifier
	why := "no database configured"
	if dbErr != nil {
		why = "Turnkey's database is unreachable: " + dbErr.Error()
	}
	if where, err := findFile(p.folder(rec.Type, "ERR"), att.File); err != nil {
		return err
	} else if where != "" {
		return p.fail(rec, att, posagent.KindInvalid, fmt.Sprintf(
			"Turnkey refused %s and put it in %s (%s; the reason is in Turnkey's log)", what, where, why))
	}
	if _, err := os.Stat(filepath.Join(p.folder(rec.Type, "SRC"), att.File)); err == nil {
		return p.stuck(rec, att, waiting("%s is in Turnkey's SRC folder, not yet taken (%s)", what, why))
	}
	if where, err := findFile(p.folder(rec.Type, "BAK"), att.File); err != nil {
		return err
	} else if where != "" {
		return p.stuck(rec, att, waiting("%s passed Turnkey's checks (in BAK); the platform's answer is unknown while %s", what, why))
	}
	return waiting("%s is being taken by Turnkey (%s)", what, why)
}

// stuck raises the alarm, once, for a message not C long after its drop
// (turnkey.md §2.2: G for hours means Turnkey's download flow is not running
// or the platform never answered), and passes err on with the alarm in it.
func (p *Provider) stuck(rec *record, att *attempt, err error) error {
	age := p.now().Sub(att.DroppedAt)
	if age < p.cfg.StuckAfter {
		return err
	}
	msg := fmt.Sprintf("%s; ALARM: not accepted %s after the drop: check that Turnkey's download and Unpack jobs run (all five directory screens saved with v4.1)", err.Error(), age.Round(time.Minute))
	p.alarms.set(rec.Key, posagent.ProviderAlarm{Level: posagent.AlarmWarning, Code: "turnkey_not_accepted", Since: att.DroppedAt,
		Message: fmt.Sprintf("%s %s is not accepted by the MOF platform %s after it was handed to Turnkey (%s)", rec.Type, rec.Identifier,
			age.Round(time.Minute), err.Error())})
	if !rec.Alarmed {
		rec.Alarmed = true
		if serr := p.journal.save(rec); serr != nil {
			return serr
		}
		p.log.Error("turnkey: ALARM message not accepted", "type", rec.Type, "identifier", rec.Identifier, "file", att.File, "age", age.Round(time.Minute).String())
	}
	return &posagent.Error{Kind: posagent.KindNotFound, Message: msg}
}

// fail records a definite failure of the attempt and returns it.
func (p *Provider) fail(rec *record, att *attempt, kind posagent.Kind, msg string) error {
	p.alarms.clear(rec.Key) // the dead job is the alarm from now on
	att.Failed = msg
	if err := p.journal.save(rec); err != nil {
		return err
	}
	p.log.Error("turnkey: message refused", "type", rec.Type, "identifier", rec.Identifier, "file", att.File, "reason", msg)
	return &posagent.Error{Kind: kind, Message: msg}
}

// Pending lists the messages not yet accepted, oldest drop first, for status.
type Pending struct {
	Type       string    `json:"type"`
	Identifier string    `json:"identifier"`
	File       string    `json:"file"`
	DroppedAt  time.Time `json:"dropped_at"`
	Failed     string    `json:"failed,omitempty"`
}

// Pending returns every message dropped and not yet C.
func (p *Provider) Pending() ([]Pending, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	recs, err := p.journal.all()
	if err != nil {
		return nil, err
	}
	var out []Pending
	for _, r := range recs {
		if !r.Accepted.IsZero() || len(r.Attempts) == 0 {
			continue
		}
		a := r.last()
		out = append(out, Pending{Type: r.Type, Identifier: r.Identifier, File: a.File, DroppedAt: a.DroppedAt, Failed: a.Failed})
	}
	return out, nil
}

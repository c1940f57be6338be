package turnkey

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/providers/mig"
)

var (
	_ posagent.Reconciler    = (*Provider)(nil)
	_ posagent.DaySummarizer = (*Provider)(nil)
)

// reconcileBatch is how many documents one query to Turnkey's database asks
// about: a statement of a hundred LIKEs stays small for any database.
const reconcileBatch = 100

// statusWords are Turnkey's labels of TURNKEY_MESSAGE_LOG.STATUS (turnkey.md §2.2).
var statusWords = map[string]string{"P": "處理中: taken, not yet sent", "G": "處理完成: sent, the platform's answer is pending",
	"C": "確認: accepted by the platform", "E": "錯誤", "I": "中斷: a job was interrupted"}

// docAsk is what a DocRef is looked for by in Turnkey's database: the message
// type, its INVOICE_IDENTIFIER (whole for an F0401, whose date is the
// invoice's; a prefix for the others, whose date — the void's, the
// allowance's — a DocRef need not carry) and the earliest MESSAGE_DTS.
type docAsk struct {
	msgType, identifier string
	exact               bool
	since               string // yyyyMMdd, Turnkey's (Taipei) time
	journalKey          string
}

func askOf(at string, r posagent.DocRef) (docAsk, error) {
	if !r.Number.Valid() {
		return docAsk{}, posagent.Invalid(at+"number", "%q is not an invoice number", r.Number)
	}
	a := docAsk{}
	if !r.IssuedAt.IsZero() {
		// A message is dropped after what it is about was issued.
		a.since = r.IssuedAt.In(posagent.Taipei).Format("20060102")
	}
	id := string(r.Number)
	switch r.Kind {
	case posagent.DocInvoice:
		a.msgType, a.exact = mig.TypeF0401, !r.IssuedAt.IsZero()
		a.identifier = mig.TypeF0401 + id + a.since
	case posagent.DocVoid:
		a.msgType, a.identifier = mig.TypeF0501, mig.TypeF0501+id
	case posagent.DocAllowance, posagent.DocAllowanceVoid:
		if r.AllowanceNumber == "" {
			return docAsk{}, posagent.Invalid(at+"allowance_number", "is required for %s", r.Kind)
		}
		a.msgType, id = mig.TypeG0401, r.AllowanceNumber
		if r.Kind == posagent.DocAllowanceVoid {
			a.msgType = mig.TypeG0501
		}
		a.identifier = a.msgType + id
	default:
		return docAsk{}, posagent.Invalid(at+"kind", "%q is not a document kind", r.Kind)
	}
	a.journalKey = a.msgType + "_" + id
	return a, nil
}

// messageRow is one TURNKEY_MESSAGE_LOG row of a message posagent dropped.
type messageRow struct {
	logRow
	dts, file string
}

// Holdings implements posagent.Reconciler from Turnkey's database: for each
// document, the rows of its message (TURNKEY_MESSAGE_LOG, outbound, its
// INVOICE_IDENTIFIER, dropped after the document was issued). A C row
// anywhere means the platform accepted it (a later duplicate answered E0201
// does not undo that); else the latest row says where it is: P, G, I pending
// — never rejected for want of an answer (turnkey.md §7) —, E rejected with
// Turnkey's code or the platform's in Detail. A message with no row is held
// (pending) while its file waits in SRC (Turnkey not running); otherwise it
// is not held. Turnkey keeps no amounts: HasAmount is always false. Without a
// database (no DSN) nothing can be asked: the error carries
// posagent.ErrNotReconcilable.
func (p *Provider) Holdings(ctx context.Context, refs []posagent.DocRef) ([]posagent.Holding, error) {
	if p.db == nil {
		return nil, &posagent.Error{Kind: posagent.KindConfig, Err: posagent.ErrNotReconcilable,
			Message: "turnkey: reconciliation reads Turnkey's database: set provider.turnkey.dsn (a read-only user)"}
	}
	asks := make([]docAsk, len(refs))
	for i, r := range refs {
		a, err := askOf(fmt.Sprintf("refs[%d].", i), r)
		if err != nil {
			return nil, err
		}
		asks[i] = a
	}
	out := make([]posagent.Holding, len(refs))
	for start := 0; start < len(refs); start += reconcileBatch {
		end := min(start+reconcileBatch, len(refs))
		rows, err := p.messageRows(ctx, asks[start:end])
		if err != nil {
			return nil, &posagent.Error{Kind: posagent.KindTransient, Message: "turnkey: read TURNKEY_MESSAGE_LOG", Err: err}
		}
		for i := start; i < end; i++ {
			h, err := p.holding(ctx, refs[i], asks[i], rows)
			if err != nil {
				return nil, err
			}
			out[i] = h
		}
	}
	return out, nil
}

// messageRows reads every outbound row whose identifier one of asks names.
func (p *Provider) messageRows(ctx context.Context, asks []docAsk) ([]messageRow, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var where []string
	var args []any
	for _, a := range asks {
		pattern := likeEscape(a.identifier)
		if !a.exact {
			pattern += "%"
		}
		where = append(where, "l.INVOICE_IDENTIFIER LIKE ?")
		args = append(args, pattern)
	}
	rows, err := p.db.QueryContext(ctx, `
		SELECT l.SEQNO, l.SUBSEQNO, COALESCE(l.STATUS, ''), COALESCE(l.INVOICE_IDENTIFIER, ''), COALESCE(l.MESSAGE_DTS, ''),
		       COALESCE(d.STATUS, ''), COALESCE(d.FILENAME, '')
		FROM TURNKEY_MESSAGE_LOG l
		LEFT JOIN TURNKEY_MESSAGE_LOG_DETAIL d ON l.SEQNO = d.SEQNO AND l.SUBSEQNO = d.SUBSEQNO AND d.TASK = 'UpCast'
		WHERE l.IN_OUT_BOUND = 'O' AND (`+strings.Join(where, " OR ")+`)`, args...)
	if err != nil {
		return nil, safeErr(err)
	}
	defer rows.Close()
	var out []messageRow
	for rows.Next() {
		var r messageRow
		var detail string
		if err := rows.Scan(&r.seqNo, &r.subSeqNo, &r.status, &r.identifier, &r.dts, &detail, &r.file); err != nil {
			return nil, safeErr(err)
		}
		r.status = strings.TrimSpace(r.status)
		r.identifier = strings.TrimSpace(r.identifier)
		r.upcastFailed = strings.TrimSpace(detail) == "E"
		out = append(out, r)
	}
	return out, safeErr(rows.Err())
}

func (a docAsk) matches(r messageRow) bool {
	if a.exact && r.identifier != a.identifier || !strings.HasPrefix(r.identifier, a.identifier) {
		return false
	}
	return r.dts >= a.since
}

func (p *Provider) holding(ctx context.Context, ref posagent.DocRef, a docAsk, all []messageRow) (posagent.Holding, error) {
	h := posagent.Holding{Ref: ref}
	var mine []messageRow
	for _, r := range all {
		if a.matches(r) {
			mine = append(mine, r)
		}
	}
	if len(mine) == 0 {
		return p.unrecorded(h, a)
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].dts > mine[j].dts })
	h.Found = true
	row := mine[0]
	for _, r := range mine {
		if r.status == "C" {
			row = r
			break
		}
	}
	h.Detail = fmt.Sprintf("%s %s STATUS=%s", a.msgType, row.identifier, row.status)
	if w := statusWords[row.status]; w != "" && row.status != "E" {
		h.Detail += " (" + w + ")"
	}
	if len(mine) > 1 {
		h.Detail += fmt.Sprintf("; %d rows", len(mine))
	}
	switch row.status {
	case "C":
		h.Acceptance = posagent.AcceptAccepted
	case "P", "G", "I":
		h.Acceptance = posagent.AcceptPending
	case "E":
		h.Acceptance = posagent.AcceptRejected
		code, messages, err := p.sysEvent(ctx, &row.logRow)
		if err != nil {
			return h, &posagent.Error{Kind: posagent.KindTransient, Message: "turnkey: read TURNKEY_SYSEVENT_LOG", Err: err}
		}
		_, text := explain(code, messages)
		where := "the platform rejected it"
		if row.upcastFailed || strings.TrimSpace(code) == "-008" {
			where = "Turnkey refused it (ERR)"
		}
		h.Detail += fmt.Sprintf(" (錯誤: %s: %s)", where, text)
	}
	return h, nil
}

// unrecorded answers for a message with no row: held while its file waits in
// SRC (Turnkey not running), else not held.
func (p *Provider) unrecorded(h posagent.Holding, a docAsk) (posagent.Holding, error) {
	p.mu.Lock()
	rec, err := p.journal.load(a.journalKey)
	p.mu.Unlock()
	if err != nil {
		return h, err
	}
	att := rec.last()
	switch {
	case att == nil:
		h.Detail = fmt.Sprintf("no %s row for %s in TURNKEY_MESSAGE_LOG, and posagent's journal holds no drop of it", a.msgType, a.identifier)
	case !att.Dropped:
		h.Detail = fmt.Sprintf("no %s row for %s: posagent's drop of %s was cut short before the rename", a.msgType, a.identifier, att.File)
	default:
		if _, err := os.Stat(filepath.Join(p.folder(a.msgType, "SRC"), att.File)); err == nil {
			h.Found, h.Acceptance = true, posagent.AcceptPending
			h.Detail = fmt.Sprintf("%s is in Turnkey's SRC folder since %s, not yet taken: is Turnkey's upload job running?",
				att.File, att.DroppedAt.In(posagent.Taipei).Format("2006-01-02 15:04"))
			return h, nil
		}
		h.Detail = fmt.Sprintf("%s was dropped at %s and taken from SRC, but TURNKEY_MESSAGE_LOG has no %s row for %s",
			att.File, att.DroppedAt.In(posagent.Taipei).Format("2006-01-02 15:04"), a.msgType, a.identifier)
	}
	return h, nil
}

var _ posagent.Resender = (*Provider)(nil)

// Lost forgets that a document was accepted, because a reconciliation found
// no trace of it in Turnkey's database: the drop journal would otherwise
// answer the upload queued again as done without dropping a file. The last
// attempt is marked failed, so the next call drops a new file (a duplicate
// answer from the platform, should it hold the message after all, still
// counts as accepted).
func (p *Provider) Lost(ctx context.Context, ref posagent.DocRef) error {
	var key string
	switch ref.Kind {
	case posagent.DocInvoice:
		key = mig.TypeF0401 + "_" + string(ref.Number)
	case posagent.DocVoid:
		key = mig.TypeF0501 + "_" + string(ref.Number)
	case posagent.DocAllowance:
		key = mig.TypeG0401 + "_" + ref.AllowanceNumber
	case posagent.DocAllowanceVoid:
		key = mig.TypeG0501 + "_" + ref.AllowanceNumber
	default:
		return posagent.Invalid("kind", "%q is not a document Turnkey files", ref.Kind)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	rec, err := p.journal.load(key)
	if err != nil {
		return err
	}
	att := rec.last()
	if att == nil {
		return nil // never sent from here: the next call drops it anyway
	}
	rec.Accepted = time.Time{}
	if att.Failed == "" {
		att.Failed = "not in Turnkey's database at reconciliation: filed again"
	}
	return p.journal.save(rec)
}

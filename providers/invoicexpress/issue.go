package invoicexpress

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/posagent/posagent"
)

// Journal is where the caller records, durably, how far the issuing of one
// document got, so that Issue can resume after a crash at any point
// (providers.md §2.7). Both calls must be durable before they return.
type Journal interface {
	// Creating is recorded before a create is sent: a later attempt that
	// finds it set without a draft id must first look the reference up (the
	// earlier create may have landed). It is called again before every
	// create; it stays set once set.
	Creating(ctx context.Context, ref string) error
	// Drafted is recorded the moment a draft id is known, before finalizing.
	Drafted(ctx context.Context, ref string, id int64) error
}

// Progress is what the journal holds for one document, as Issue is given it
// on every attempt (the zero Creating and DraftID on the first).
type Progress struct {
	Ref      string             // the document's reference: the sale id (or the refund's id)
	Type     posagent.PTDocType // the type it is issued as
	Creating bool               // a create may have been sent
	DraftID  int64              // the draft's id, once known
}

// Issue creates and finalizes doc exactly once and returns the final
// document with its QR text. It is resumable: called again with the
// progress the journal holds after any failure or crash, it never makes a
// second final document.
//
//   - Progress with Creating or a DraftID (an earlier attempt): the documents
//     with the reference are looked up first. A final (or cancelled) one is
//     adopted; otherwise the recorded draft, or the oldest one found, is
//     finalized and every other draft with the reference is deleted.
//   - No draft: Creating is journaled, the draft created, its id journaled
//     (Drafted), then it is finalized by id. A create is never retried
//     blindly: a lost answer is resolved by the next attempt's lookup.
//   - A finalize whose answer is lost or refused (406/422) is resolved by
//     reading the document: already final → adopted.
//   - Refused with KindConfig while the series of the type has no AT
//     validation code ("N/D"); nothing is created or finalized then.
//
// Errors carry posagent kinds: KindTransient (retry later with the same
// progress), KindRateLimited (retry after RetryAfter), KindInvalid (the
// document breaks a rule; InvoiceXpress's 422 names the field: a person must
// look), KindAuth (401), KindConfig, KindConflict (two final documents for
// one reference: a person must look; nothing is issued).
//
// When the document is final but its QR cannot be read yet, Issue returns
// the final document (ID, State, SequenceNumber, ATCUD…; QRText empty) with
// a KindTransient error: store it, then call Issue again (it adopts the
// final document and reads the QR) or QRText. Calls for one reference must
// not run concurrently.
func (c *Client) Issue(ctx context.Context, p Progress, doc posagent.PTDocument, j Journal) (posagent.PTDocument, error) {
	doc, err := inProgress(p, doc)
	if err != nil {
		return posagent.PTDocument{}, err
	}
	log := c.log.With("type", string(p.Type), "reference", p.Ref)
	draftID, issued, resent, err := c.ensureDraft(ctx, log, p, doc, j, true)
	if err != nil {
		return posagent.PTDocument{}, err
	}
	if issued != nil {
		return c.complete(ctx, *issued)
	}

	final, err := c.Finalize(ctx, p.Type, draftID)
	if err != nil {
		return posagent.PTDocument{}, err
	}
	log.LogAttrs(ctx, slog.LevelInfo, "invoicexpress issued", slog.Int64("id", final.ID), slog.String("number", final.SequenceNumber), slog.String("atcud", final.ATCUD))
	if resent {
		// A create was sent again after one whose fate was unknown: if that
		// one landed late, its draft is deleted now (best effort; drafts have
		// no fiscal value, and the next lookup deletes any left).
		if found, err := c.FindByReference(ctx, p.Type, p.Ref); err == nil {
			c.deleteDrafts(ctx, log, found, 0)
		}
	}
	return c.complete(ctx, final)
}

// ensureDraft brings the document to a draft, exactly once: it resolves what
// earlier attempts left (adopting a draft, deleting duplicates, or returning
// the document already issued) and creates the draft when there is none,
// journaling Creating before and Drafted after. With checkSeries it refuses
// (KindConfig) before creating while the type's series is N/D. resent says
// a create was sent after one whose fate was unknown.
func (c *Client) ensureDraft(ctx context.Context, log *slog.Logger, p Progress, doc posagent.PTDocument, j Journal, checkSeries bool) (draftID int64, issued *posagent.PTDocument, resent bool, err error) {
	draftID = p.DraftID
	if p.Creating || p.DraftID != 0 {
		found, final, err := c.resolve(ctx, p)
		if err != nil {
			return 0, nil, false, err
		}
		if final != nil {
			log.LogAttrs(ctx, slog.LevelInfo, "invoicexpress adopting a document issued by an earlier attempt", slog.Int64("id", final.ID), slog.String("state", final.State))
			c.deleteDrafts(ctx, log, found, 0)
			return 0, final, false, nil
		}
		draftID = 0
		if i := slices.IndexFunc(found, func(d posagent.PTDocument) bool { return d.ID == p.DraftID }); i >= 0 {
			draftID = p.DraftID
		} else if len(found) > 0 {
			draftID = found[len(found)-1].ID // the oldest: found is most recent first
			if err := j.Drafted(ctx, p.Ref, draftID); err != nil {
				return 0, nil, false, fmt.Errorf("invoicexpress: journal draft %d of %s: %w", draftID, p.Ref, err)
			}
			log.LogAttrs(ctx, slog.LevelInfo, "invoicexpress adopting a draft of an earlier attempt", slog.Int64("id", draftID))
		}
		c.deleteDrafts(ctx, log, found, draftID)
	}

	if checkSeries {
		code, err := c.cachedSeriesCode(ctx, p.Type)
		if err != nil {
			return 0, nil, false, err
		}
		if code == SeriesNotRegistered {
			return 0, nil, false, posagent.Errorf(posagent.KindConfig,
				"invoicexpress: the series of %s is not registered with AT (validation code N/D): register it in InvoiceXpress before issuing", p.Type)
		}
	}

	if draftID == 0 {
		if err := j.Creating(ctx, p.Ref); err != nil {
			return 0, nil, false, fmt.Errorf("invoicexpress: journal the create of %s: %w", p.Ref, err)
		}
		resent = p.Creating
		draft, err := c.Create(ctx, doc)
		if err != nil {
			return 0, nil, false, err
		}
		draftID = draft.ID
		if err := j.Drafted(ctx, p.Ref, draftID); err != nil {
			return 0, nil, false, fmt.Errorf("invoicexpress: journal draft %d of %s: %w", draftID, p.Ref, err)
		}
	}

	return draftID, nil, resent, nil
}

// resolve looks up what earlier attempts left: the documents with the
// reference (drafts, most recent first) and the final one, if any.
func (c *Client) resolve(ctx context.Context, p Progress) (drafts []posagent.PTDocument, final *posagent.PTDocument, err error) {
	found, err := c.FindByReference(ctx, p.Type, p.Ref)
	if err != nil {
		return nil, nil, err
	}
	if p.DraftID != 0 && !slices.ContainsFunc(found, func(d posagent.PTDocument) bool { return d.ID == p.DraftID }) {
		// Beyond the lookup's depth, or listed late: ask for it by id.
		d, err := c.Get(ctx, p.Type, p.DraftID)
		switch {
		case posagent.IsKind(err, posagent.KindNotFound):
		case err != nil:
			return nil, nil, err
		case d.Reference != p.Ref:
			return nil, nil, posagent.Errorf(posagent.KindConflict, "invoicexpress: draft %d recorded for %q holds reference %q", d.ID, p.Ref, shorten(d.Reference))
		case d.State != StateDeleted:
			found = append(found, d)
		}
	}
	var issued []posagent.PTDocument
	for _, d := range found {
		switch {
		case IsFinal(d.State) || d.State == StateCanceled:
			issued = append(issued, d)
		case d.State == StateDraft:
			drafts = append(drafts, d)
		}
	}
	slices.SortFunc(drafts, func(a, b posagent.PTDocument) int { return -cmpInt(a.ID, b.ID) })
	switch len(issued) {
	case 0:
		return drafts, nil, nil
	case 1:
		return drafts, &issued[0], nil
	}
	ids := make([]int64, len(issued))
	for i, d := range issued {
		ids[i] = d.ID
	}
	return nil, nil, posagent.Errorf(posagent.KindConflict, "invoicexpress: %d issued %s carry reference %q (ids %v): a person must decide which stands", len(issued), p.Type, p.Ref, ids)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// deleteDrafts deletes the drafts among docs except keep (best effort: a
// draft left over has no fiscal value and the next lookup tries again).
func (c *Client) deleteDrafts(ctx context.Context, log *slog.Logger, docs []posagent.PTDocument, keep int64) {
	for _, d := range docs {
		if d.State != StateDraft || d.ID == keep {
			continue
		}
		if err := c.DeleteDraft(ctx, d.Type, d.ID); err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "invoicexpress duplicate draft not deleted", slog.Int64("id", d.ID), slog.String("error", err.Error()))
			continue
		}
		log.LogAttrs(ctx, slog.LevelInfo, "invoicexpress duplicate draft deleted", slog.Int64("id", d.ID))
	}
}

// complete reads the QR of an issued document and checks it names the
// document's ATCUD. On failure the document is returned with the error.
func (c *Client) complete(ctx context.Context, d posagent.PTDocument) (posagent.PTDocument, error) {
	if d.SequenceNumber == "" || d.ATCUD == "" {
		full, err := c.Get(ctx, d.Type, d.ID)
		if err != nil {
			return d, err
		}
		d = full
	}
	txt, err := c.QRText(ctx, d.ID)
	if err != nil {
		return d, err
	}
	if h, ok := ATField(txt, "H"); !ok || h != d.ATCUD {
		return d, posagent.Errorf(posagent.KindInternal, "invoicexpress: the QR of %s %d names ATCUD %q, the document %q", d.Type, d.ID, shorten(h), d.ATCUD)
	}
	d.QRText = txt
	return d, nil
}

// inProgress checks that doc is the document p is about, filling its type
// and reference when empty.
func inProgress(p Progress, doc posagent.PTDocument) (posagent.PTDocument, error) {
	if err := checkType(p.Type); err != nil {
		return doc, err
	}
	if p.Ref == "" {
		return doc, posagent.Invalid("reference", "the progress names no reference")
	}
	if doc.Type == "" {
		doc.Type = p.Type
	}
	if doc.Reference == "" {
		doc.Reference = p.Ref
	}
	if doc.Type != p.Type || doc.Reference != p.Ref {
		return doc, posagent.Invalid("reference", "the document (%s %q) is not the one in progress (%s %q)", doc.Type, shorten(doc.Reference), p.Type, shorten(p.Ref))
	}
	return doc, nil
}

// Draft is Issue without the finalize, for a shop that runs drafts-only
// while it checks its set-up (the seed's advice): it brings the document to
// exactly one draft, journaled like Issue's, and returns it. A draft has no
// fiscal value, so it is made even while the series is N/D. Finalize it
// later with Issue and the journal's progress (DraftID set): Issue adopts
// that draft. If an earlier attempt already issued the document, Draft
// returns the issued document (State final, settled or canceled).
func (c *Client) Draft(ctx context.Context, p Progress, doc posagent.PTDocument, j Journal) (posagent.PTDocument, error) {
	doc, err := inProgress(p, doc)
	if err != nil {
		return posagent.PTDocument{}, err
	}
	log := c.log.With("type", string(p.Type), "reference", p.Ref)
	draftID, issued, resent, err := c.ensureDraft(ctx, log, p, doc, j, false)
	if err != nil {
		return posagent.PTDocument{}, err
	}
	if issued != nil {
		return *issued, nil
	}
	if resent {
		if found, err := c.FindByReference(ctx, p.Type, p.Ref); err == nil {
			c.deleteDrafts(ctx, log, found, draftID)
		}
	}
	return c.Get(ctx, p.Type, draftID)
}

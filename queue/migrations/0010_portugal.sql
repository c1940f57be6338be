-- The Portuguese regime (issue 18). A Portuguese till never numbers a
-- document: InvoiceXpress does when it finalizes one. A sale is accepted into
-- pt_documents at once (state pending) and issued later, exactly once and in
-- seq order, by the agent's loop; creating and draft_id are the journal of the
-- exactly-once procedure (providers.md §2.7), each written in its own
-- committed transaction before the next network step.
CREATE TABLE pt_documents (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT, -- sale order: documents are issued in this order
    ref         TEXT    NOT NULL UNIQUE,           -- the document's reference at InvoiceXpress: the sale id, or the refund id of a credit note
    sale_id     TEXT    NOT NULL,                  -- the sale (a credit note: the sale it refunds)
    kind        TEXT    NOT NULL CHECK (kind IN ('sale', 'credit_note')),
    doc_type    TEXT    NOT NULL,
    request     TEXT    NOT NULL,                  -- JSON posagent.PTDocument: what is created
    sale        TEXT    NOT NULL,                  -- JSON of the sale (or refund) as accepted
    total       TEXT    NOT NULL,                  -- the expected total, VAT included (EUR)
    note        TEXT    NOT NULL DEFAULT '',       -- what the cashier was told besides (final consumer fallback)
    owner_ref   TEXT,                              -- a credit note: the ref of the document it corrects
    accepted_at INTEGER NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'drafted', 'issued', 'held')),
    finalize    INTEGER NOT NULL DEFAULT 0,        -- drafts_only: a person asked for this draft to be finalized
    creating    INTEGER NOT NULL DEFAULT 0,        -- a create may have been sent
    draft_id    INTEGER NOT NULL DEFAULT 0,        -- the draft's id at InvoiceXpress, once known
    attempts    INTEGER NOT NULL DEFAULT 0,
    next_at     INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    document    TEXT,                              -- JSON posagent.PTDocument: the final document
    doc_id      INTEGER,
    number      TEXT,
    atcud       TEXT,
    issued_at   INTEGER,
    print_state TEXT    NOT NULL DEFAULT 'waiting' CHECK (print_state IN ('waiting', 'pending', 'printing', 'printed', 'failed')),
    original_spent INTEGER NOT NULL DEFAULT 0,     -- the original may be on paper: every later print is a copy (2ª via)
    print_attempts INTEGER NOT NULL DEFAULT 0,
    print_error TEXT    NOT NULL DEFAULT '',
    slip_printed INTEGER NOT NULL DEFAULT 0,       -- the "not an invoice" slip went out
    cancel_message TEXT,
    cancel_state TEXT   CHECK (cancel_state IN ('pending', 'done', 'held')),
    cancel_error TEXT   NOT NULL DEFAULT '',
    canceled_at INTEGER
);
CREATE INDEX pt_documents_open ON pt_documents (state, seq) WHERE state IN ('pending', 'held', 'drafted');
CREATE INDEX pt_documents_print ON pt_documents (seq) WHERE print_state IN ('pending', 'printing', 'failed');
CREATE INDEX pt_documents_cancel ON pt_documents (seq) WHERE cancel_state = 'pending';
CREATE INDEX pt_documents_owner ON pt_documents (owner_ref) WHERE owner_ref IS NOT NULL;

-- The account's taxes (GET /taxes.json), cached so that an offline till can
-- still map a sale's VAT rate to a tax name; replaced whole on each refresh.
CREATE TABLE pt_taxes (
    name       TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    region     TEXT    NOT NULL,
    is_default INTEGER NOT NULL,
    fetched_at INTEGER NOT NULL
);

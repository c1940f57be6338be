-- The outbox (uploads, voids, allowances, blank-number reports), allowances
-- and print jobs.

CREATE TABLE allowances (
    id          INTEGER PRIMARY KEY,
    invoice_id  INTEGER NOT NULL REFERENCES invoices (id),
    number      TEXT    NOT NULL UNIQUE,
    total       INTEGER NOT NULL CHECK (total > 0),
    content     BLOB    NOT NULL, -- SHA-256 of the allowance, for repeated requests
    doc         TEXT    NOT NULL,
    issued_at   INTEGER NOT NULL,
    voided_at   INTEGER,
    void_reason TEXT,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX allowances_invoice ON allowances (invoice_id, id);
CREATE TRIGGER allowances_no_delete BEFORE DELETE ON allowances
BEGIN SELECT RAISE(ABORT, 'an allowance is never deleted'); END;

-- One row per document to send. For a claimed job next_at is the end of its
-- lease; for a pending one the earliest time to try. A job of an invoice is
-- handed out only when every earlier job of that invoice is done.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('upload', 'void', 'allowance', 'allowance_void', 'blank')),
    invoice_id   INTEGER REFERENCES invoices (id),
    allowance_id INTEGER REFERENCES allowances (id),
    payload      TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'claimed', 'done', 'dead')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    token        INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    done_at      INTEGER,
    CHECK ((kind = 'blank') = (invoice_id IS NULL))
) STRICT;
-- Jobs by state, oldest first: claiming walks the pending ones in order
-- (next_at is read from the index, not the table) and "oldest unsent" is
-- the first entry of each open state.
CREATE INDEX jobs_state ON jobs (state, id, next_at);
-- The jobs of an invoice in order: the ordering rule and per-invoice lists.
CREATE INDEX jobs_invoice ON jobs (invoice_id, id);
-- An allowance's jobs (partial: a sale's upload job does not touch it).
CREATE INDEX jobs_allowance ON jobs (allowance_id) WHERE allowance_id IS NOT NULL;
CREATE TRIGGER jobs_keep_open BEFORE DELETE ON jobs WHEN OLD.state <> 'done'
BEGIN SELECT RAISE(ABORT, 'a job that is not done is never deleted'); END;

-- The proof of a printed invoice lives in the invoice's own row: issuing
-- writes one row fewer, and the print state changes in place.
ALTER TABLE invoices ADD COLUMN print_state TEXT
    CHECK (print_state IN ('pending', 'printing', 'printed', 'failed')); -- NULL: not printed (carrier, donation)
-- The original proof has been printed, or an attempt at it may have reached
-- paper: every later print is 補印. Set before the bytes are sent.
ALTER TABLE invoices ADD COLUMN original_spent INTEGER NOT NULL DEFAULT 0;
-- The attempt in flight is the original (so a failure that certainly did not
-- reach paper can hand the original back).
ALTER TABLE invoices ADD COLUMN inflight_original INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN print_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN print_copies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN print_error TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN print_updated_at INTEGER;
ALTER TABLE invoices ADD COLUMN printed_at INTEGER;
-- Proofs still to print, for the retry list and status: partial, so it
-- holds only the few that wait.
CREATE INDEX invoices_unprinted ON invoices (id) WHERE print_state <> 'printed' AND voided_at IS NULL;

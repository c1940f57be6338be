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
-- Claiming walks due jobs in order without sorting.
CREATE INDEX jobs_due ON jobs (state, next_at, id);
-- Open (not done) jobs: per invoice for the ordering rule, and overall for
-- "oldest unsent". Partial, so they stay small however long the history.
CREATE INDEX jobs_open_invoice ON jobs (invoice_id, id) WHERE state <> 'done';
CREATE INDEX jobs_open ON jobs (id) WHERE state <> 'done';
CREATE INDEX jobs_invoice ON jobs (invoice_id);
CREATE TRIGGER jobs_keep_open BEFORE DELETE ON jobs WHEN OLD.state <> 'done'
BEGIN SELECT RAISE(ABORT, 'a job that is not done is never deleted'); END;

CREATE TABLE prints (
    invoice_id     INTEGER PRIMARY KEY REFERENCES invoices (id),
    state          TEXT    NOT NULL CHECK (state IN ('pending', 'printing', 'printed', 'failed')),
    -- The original proof has been printed, or an attempt at it may have
    -- reached paper: every later print is 補印. Set before the bytes are sent.
    original_spent INTEGER NOT NULL DEFAULT 0,
    -- The attempt in flight is the original (so a failure that certainly did
    -- not reach paper can hand the original back).
    inflight_original INTEGER NOT NULL DEFAULT 0,
    attempts       INTEGER NOT NULL DEFAULT 0,
    copies         INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT    NOT NULL DEFAULT '',
    updated_at     INTEGER NOT NULL,
    printed_at     INTEGER
) STRICT;
CREATE INDEX prints_open ON prints (state) WHERE state <> 'printed';

-- Numbers and invoices: the booklets leased to this terminal, the invoices
-- issued from them, and the append-only event log. Times are Unix nanoseconds.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

-- A booklet range and its cursor. next is the next sequence number to issue;
-- next = last + 1 when the range is used up. The cursor moves in the same
-- transaction as the invoice that takes the number.
CREATE TABLE booklets (
    id         INTEGER PRIMARY KEY,
    track      TEXT    NOT NULL CHECK (length(track) = 2),
    first      INTEGER NOT NULL,
    last       INTEGER NOT NULL,
    period     TEXT    NOT NULL,
    source     TEXT    NOT NULL DEFAULT '',
    next       INTEGER NOT NULL,
    added_at   INTEGER NOT NULL,
    retired_at INTEGER,
    CHECK (first % 50 = 0 AND (last + 1) % 50 = 0 AND first <= last AND last <= 99999999),
    CHECK (next BETWEEN first AND last + 1)
) STRICT;
CREATE INDEX booklets_period ON booklets (period, id);

CREATE TABLE invoices (
    id          INTEGER PRIMARY KEY,
    sale_id     TEXT    NOT NULL UNIQUE,
    number      TEXT    NOT NULL,
    period      TEXT    NOT NULL,
    booklet_id  INTEGER NOT NULL REFERENCES booklets (id),
    random_code TEXT    NOT NULL,
    issued_at   INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    doc         TEXT    NOT NULL, -- the issued invoice in its JSON shape
    derived     TEXT    NOT NULL DEFAULT '{}', -- caller's data computed from the numbered invoice
    voided_at   INTEGER,
    void_reason TEXT,
    created_at  INTEGER NOT NULL,
    UNIQUE (number, period) -- promise 2: one number, one invoice
) STRICT;

CREATE TABLE events (
    id         INTEGER PRIMARY KEY,
    invoice_id INTEGER REFERENCES invoices (id),
    at         INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX events_invoice ON events (invoice_id, id);

-- Nothing that accounts for a number is ever deleted or rewritten.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER invoices_no_delete BEFORE DELETE ON invoices
BEGIN SELECT RAISE(ABORT, 'an issued invoice is never deleted'); END;
CREATE TRIGGER invoices_number_fixed BEFORE UPDATE OF number, period, sale_id, random_code, doc, booklet_id ON invoices
BEGIN SELECT RAISE(ABORT, 'an issued invoice is never rewritten'); END;
CREATE TRIGGER booklets_no_delete BEFORE DELETE ON booklets
BEGIN SELECT RAISE(ABORT, 'a booklet is never deleted: its numbers must be accounted for'); END;
CREATE TRIGGER booklets_cursor_forward BEFORE UPDATE OF next ON booklets WHEN NEW.next < OLD.next
BEGIN SELECT RAISE(ABORT, 'a booklet cursor never moves back'); END;

-- At the counter: void and reissue (作廢重開) in one step, and orders issued
-- later (預購, 取貨).

-- The invoice a reissue replaced (voided in the same transaction). At most
-- one reissue per invoice.
ALTER TABLE invoices ADD COLUMN replaces INTEGER REFERENCES invoices (id);
CREATE UNIQUE INDEX invoices_replaces ON invoices (replaces) WHERE replaces IS NOT NULL;

-- A job that must be done before this one is handed out, besides the earlier
-- jobs of its own invoice: a reissued invoice's upload waits for the void of
-- the invoice it replaces (invoice → its void → the new invoice).
ALTER TABLE jobs ADD COLUMN after_job INTEGER REFERENCES jobs (id);

-- Orders: sales accepted without a number, issued (or cancelled) later. The
-- id is the POS's, and becomes the invoice's sale id when issued.
CREATE TABLE orders (
    id            TEXT    PRIMARY KEY,
    content       BLOB    NOT NULL, -- SHA-256 of the sale without number, random code and time
    doc           TEXT    NOT NULL, -- the sale in the invoice JSON shape, issued_at = when ordered
    total         INTEGER NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('open', 'issued', 'cancelled')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    invoice_id    INTEGER REFERENCES invoices (id),
    cancel_reason TEXT    NOT NULL DEFAULT '',
    CHECK ((state = 'issued') = (invoice_id IS NOT NULL))
) STRICT;
-- Lists by state, oldest first; the stale count reads the open ones.
CREATE INDEX orders_state ON orders (state, created_at);
CREATE UNIQUE INDEX orders_invoice ON orders (invoice_id) WHERE invoice_id IS NOT NULL;
CREATE TRIGGER orders_no_delete BEFORE DELETE ON orders
BEGIN SELECT RAISE(ABORT, 'an order is never deleted'); END;
CREATE TRIGGER orders_settled BEFORE UPDATE OF state ON orders WHEN OLD.state <> 'open'
BEGIN SELECT RAISE(ABORT, 'an issued or cancelled order stays so'); END;

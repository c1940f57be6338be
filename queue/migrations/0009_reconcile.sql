-- Daily reconciliation (README "Daily reconciliation and period close-out"):
-- each run, and the differences it found. A finding is one difference about
-- one document (or one number, one day's summary); a later run that sees it
-- again updates it, one that no longer sees it clears it. Times are Unix
-- nanoseconds; day is the Taipei day checked, YYYY-MM-DD.

CREATE TABLE reconcile_runs (
    id          INTEGER PRIMARY KEY,
    day         TEXT    NOT NULL,
    trigger     TEXT    NOT NULL CHECK (trigger IN ('schedule', 'demand')),
    provider    TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    documents   INTEGER NOT NULL, -- the day's documents looked at
    asked       INTEGER NOT NULL, -- of them, asked of the provider
    mended      INTEGER NOT NULL, -- jobs queued again
    findings    INTEGER NOT NULL, -- differences seen, mended ones included
    summary     TEXT    NOT NULL DEFAULT '', -- the platform's day summary, as compared
    error       TEXT    NOT NULL DEFAULT ''  -- why the provider could not be asked, if so
) STRICT;
CREATE INDEX reconcile_runs_day ON reconcile_runs (day, id);

CREATE TABLE reconcile_findings (
    id         INTEGER PRIMARY KEY,
    key        TEXT    NOT NULL, -- kind and document: the same difference again is the same finding
    day        TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    level      TEXT    NOT NULL,
    number     TEXT    NOT NULL DEFAULT '', -- the invoice
    document   TEXT    NOT NULL DEFAULT '', -- what about it: "invoice", "void", "allowance A1"
    difference TEXT    NOT NULL,
    fix        TEXT    NOT NULL,
    mended     INTEGER NOT NULL DEFAULT 0, -- posagent queued the fix itself
    issued_at  INTEGER, -- the document's issue time: the acceptance deadline counts from it
    first_run  INTEGER NOT NULL REFERENCES reconcile_runs (id),
    last_run   INTEGER NOT NULL REFERENCES reconcile_runs (id),
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    cleared_at INTEGER
) STRICT;
CREATE UNIQUE INDEX reconcile_findings_open ON reconcile_findings (key) WHERE cleared_at IS NULL;
CREATE INDEX reconcile_findings_run ON reconcile_findings (last_run);
CREATE INDEX reconcile_findings_day ON reconcile_findings (day, id);
-- The open findings, read on every status: partial, so that years of cleared
-- ones are never walked.
CREATE INDEX reconcile_findings_open_day ON reconcile_findings (day, id) WHERE cleared_at IS NULL;

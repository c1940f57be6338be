-- A till keeps its invoices for years: nothing run at start-up, on the sale
-- path or for status may read every job (BenchmarkStoreScale in agent).
-- Open reads the latest time written to a job (the clock's high-water mark,
-- see Claim) as max(updated_at): off this index it is one b-tree step, where
-- the table scan took most of a second on a million jobs.
CREATE INDEX jobs_updated ON jobs (updated_at);

-- The day's book (Activity, the operator console's list and summary) finds
-- the invoices issued, voided or given an allowance in a window off these
-- instead of reading every invoice. Voids are rare: their indexes hold only
-- the voided rows.
CREATE INDEX invoices_issued ON invoices (issued_at);
CREATE INDEX invoices_voided ON invoices (voided_at) WHERE voided_at IS NOT NULL;
CREATE INDEX allowances_issued ON allowances (issued_at);
CREATE INDEX allowances_voided ON allowances (voided_at) WHERE voided_at IS NOT NULL;

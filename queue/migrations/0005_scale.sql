-- A till keeps its invoices for years: nothing run at start-up, on the sale
-- path or for status may read every job (BenchmarkStoreScale in agent).
-- Open reads the latest time written to a job (the clock's high-water mark,
-- see Claim) as max(updated_at): off this index it is one b-tree step, where
-- the table scan took most of a second on a million jobs.
CREATE INDEX jobs_updated ON jobs (updated_at);

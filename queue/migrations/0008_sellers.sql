-- Several sellers on one till: every booklet belongs to one seller (its
-- 統一編號), and Issue takes a sale's number from its seller's booklets only.
-- Booklets stored before a till had several sellers have '' here: they are
-- the default seller's, and the agent hands them over (AdoptBooklets) before
-- the first sale, so that a later change of the default moves no numbers.
ALTER TABLE booklets ADD COLUMN seller TEXT NOT NULL DEFAULT '';

-- Each job's seller, for the sync loop's claims and status by seller: the
-- sale path writes it with the job; otherwise a trigger sets it when the job
-- is written (whatever path writes it), from its
-- invoice's document or, for a blank-number report, from the report; '' for
-- a report of no seller (the default seller's). Open jobs of an existing
-- store are given theirs here; done jobs are never read by seller.
ALTER TABLE jobs ADD COLUMN seller TEXT;
CREATE TRIGGER jobs_seller AFTER INSERT ON jobs WHEN NEW.seller IS NULL
BEGIN
    UPDATE jobs SET seller = coalesce(
        (SELECT json_extract(doc, '$.seller.tax_id') FROM invoices WHERE id = NEW.invoice_id),
        CASE WHEN NEW.kind = 'blank' THEN json_extract(NEW.payload, '$.seller') END, '')
    WHERE id = NEW.id;
END;
UPDATE jobs SET seller = coalesce(
    (SELECT json_extract(doc, '$.seller.tax_id') FROM invoices WHERE id = jobs.invoice_id),
    CASE WHEN kind = 'blank' THEN json_extract(payload, '$.seller') END, '')
WHERE state <> 'done';
-- Open jobs by seller (partial: done jobs leave it, so it stays small).
CREATE INDEX jobs_seller ON jobs (seller, state, id) WHERE state <> 'done';

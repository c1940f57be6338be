-- Several sellers on one till: every booklet belongs to one seller (its
-- 統一編號), and Issue takes a sale's number from its seller's booklets only.
-- Booklets stored before a till had several sellers have '' here: they are
-- the default seller's, and the agent hands them over (AdoptBooklets) before
-- the first sale, so that a later change of the default moves no numbers.
ALTER TABLE booklets ADD COLUMN seller TEXT NOT NULL DEFAULT '';

-- An invoice's seller is in its document (written once, never rewritten):
-- read from there, not copied, so every path that stores an invoice has it.
-- Virtual: the sale path writes nothing more.
ALTER TABLE invoices ADD COLUMN seller TEXT GENERATED ALWAYS AS (json_extract(doc, '$.seller.tax_id')) VIRTUAL;

-- The day's book (Activity, the operator console's list and summary) finds
-- the invoices issued, voided or given an allowance in a window off these
-- instead of reading every invoice. Voids are rare: their indexes hold only
-- the voided rows.
CREATE INDEX invoices_issued ON invoices (issued_at);
CREATE INDEX invoices_voided ON invoices (voided_at) WHERE voided_at IS NOT NULL;
CREATE INDEX allowances_issued ON allowances (issued_at);
CREATE INDEX allowances_voided ON allowances (voided_at) WHERE voided_at IS NOT NULL;

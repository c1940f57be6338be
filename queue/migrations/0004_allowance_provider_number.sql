-- The number the provider gave an allowance (ECPay's IA_Allow_No), which it
-- needs back to void the allowance. Written in the transaction that marks
-- the allowance's job done, so it is never lost between the provider's answer
-- and the job's end. Empty: not uploaded yet, a provider that does not number
-- allowances, or an allowance adopted after a lost answer.
ALTER TABLE allowances ADD COLUMN provider_number TEXT NOT NULL DEFAULT '';

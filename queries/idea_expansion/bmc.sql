-- Receipts against Buy Me a Coffee's payments (adminui bmc, grant --bmc, verify): the receipts
-- whose reference mentions a payment's number, and the receipts of a window. Which of them
-- really name the payment is decided by one rule, in adminui.ops.credits.payment_key (NFKC, only
-- letters and digits, no leading "bmc", the number without leading zeros: BMC-245731,
-- bmc 245731 and BMC-0245731 with an en dash are one payment), which no SQL of both dialects can spell; these
-- statements only narrow the receipts down to those that could.

-- name: receipts_mentioning
-- Every receipt, of any user and any status, whose reference holds :pattern (a LIKE pattern of
-- a payment's number, escaped): a superset of the receipts of that payment (the trigram index
-- on lower(bmc_reference), where it exists, finds them).
-- mode: read
-- params: pattern
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.status, pr.created_at
FROM payment_receipts pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE lower(pr.bmc_reference) LIKE CAST(:pattern AS text) ESCAPE '\'
ORDER BY pr.created_at, pr.id;

-- name: bmc_receipts_since
-- Every receipt created since :since, oldest first, for reconciling with BMC's payments.
-- mode: read
-- params: since
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.status, pr.created_at, pr.notes, pr.verified_by, pr.verified_at
FROM payment_receipts pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE pr.created_at >= CAST(:since AS timestamptz)
ORDER BY pr.created_at, pr.id;

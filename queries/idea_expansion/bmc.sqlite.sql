-- SQLite versions of bmc.sql (no casts; times are the schema's UTC text).

-- name: receipts_mentioning
-- Every receipt, of any user and any status, whose reference holds :pattern (a LIKE pattern of
-- a payment's number, escaped): a superset of the receipts of that payment.
-- mode: read
-- params: pattern
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.status, pr.created_at
FROM payment_receipts pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE lower(pr.bmc_reference) LIKE :pattern ESCAPE '\'
ORDER BY pr.created_at, pr.id;

-- name: bmc_receipts_since
-- Every receipt created since :since, oldest first, for reconciling with BMC's payments.
-- mode: read
-- params: since
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.status, pr.created_at, pr.notes, pr.verified_by, pr.verified_at
FROM payment_receipts pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE pr.created_at >= :since
ORDER BY pr.created_at, pr.id;

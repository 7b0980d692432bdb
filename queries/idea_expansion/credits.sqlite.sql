-- SQLite forms of credits.sql. A write transaction there is BEGIN IMMEDIATE, which already holds
-- the database's single write lock: no row locks or advisory locks are needed (or exist).

-- name: lock_reference
-- SQLite: the write transaction's lock already serializes grants; returns the reference.
-- mode: write
-- params: reference
SELECT :reference AS reference;

-- name: lock_usage
-- One user's credit balances (the write transaction holds the database's write lock).
-- mode: write
-- params: user_id
SELECT ut.free_expansions_remaining, ut.paid_credits_remaining
FROM usage_tracking ut
WHERE ut.user_id = :user_id;

-- name: lock_receipt
-- One receipt (the write transaction holds the database's write lock).
-- mode: write
-- params: receipt_id
SELECT pr.id, pr.user_id, pr.amount_usd, pr.credits_purchased, pr.bmc_reference, pr.notes,
       pr.status
FROM payment_receipts pr
WHERE pr.id = :receipt_id;

-- name: receipts_by_reference
-- Every receipt, of any user, whose bmc_reference is the given reference once both are folded
-- the same way (trimmed; adminui_fold, the connection's lower-casing as PostgreSQL's lower).
-- mode: read
-- params: reference
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.status, pr.created_at
FROM payment_receipts pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE adminui_fold(trim(pr.bmc_reference)) = adminui_fold(trim(:reference))
ORDER BY pr.created_at, pr.id;

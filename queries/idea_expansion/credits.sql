-- Credit grants: receipts created, pending receipts verified, receipts refunded. Every write
-- runs inside one transaction of adminui.ops.credits, which locks before it checks.

-- name: lock_reference
-- Serializes every grant of one bmc_reference until the transaction ends, so two operators can't
-- both pass the duplicate check (PostgreSQL advisory lock). The key is the reference as the
-- database folds it, lower(trim(...)): the very expression receipts_by_reference compares (and
-- the recommended index holds), so the lock and the duplicate check can't disagree on what is
-- the same reference (Python's str.lower folds `İ` and a final `Σ` otherwise). Qualified, with
-- the seed cast to bigint: an integer literal would let a hashtextextended(text, integer) of
-- the product schema match better than pg_catalog's (text, bigint), pinned path or not, and
-- answer every grant with its own key and code.
-- mode: write
-- params: reference
SELECT pg_catalog.pg_advisory_xact_lock(
         pg_catalog.hashtextextended(lower(trim(CAST(:reference AS text))), CAST(0 AS bigint)));

-- name: receipts_by_reference
-- Every receipt, of any user, whose bmc_reference is the given reference once both are folded
-- by the database the same way (trimmed, lower-case): the duplicate hazard shown before a grant.
-- mode: read
-- params: reference
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.status, pr.created_at
FROM payment_receipts pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE lower(trim(pr.bmc_reference)) = lower(trim(CAST(:reference AS text)))
ORDER BY pr.created_at, pr.id;

-- name: lock_usage
-- One user's credit balances, locked until the transaction ends.
-- mode: write
-- params: user_id
SELECT ut.free_expansions_remaining, ut.paid_credits_remaining
FROM usage_tracking ut
WHERE ut.user_id = :user_id
FOR UPDATE;

-- name: create_usage
-- Creates a missing usage_tracking row with the schema's defaults (as the sign-up trigger would),
-- for a user that exists (none for a missing one: sent with the reads that find the user, it
-- leaves the refusal to them rather than fail on the foreign key).
-- mode: write
-- params: user_id
INSERT INTO usage_tracking (user_id)
SELECT u.id FROM users u WHERE u.id = :user_id
ON CONFLICT (user_id) DO NOTHING;

-- name: insert_verified_receipt
-- Records a verified payment; returns the receipt as stored (get_receipt's columns but the
-- email), its read-back.
-- mode: write
-- params: user_id, amount_usd, credits, reference, notes, verified_by, now
INSERT INTO payment_receipts (user_id, amount_usd, credits_purchased, bmc_reference, notes,
                              verified_by, status, created_at, verified_at)
VALUES (:user_id, CAST(:amount_usd AS numeric), :credits, :reference, :notes, :verified_by,
        'verified', :now, :now)
RETURNING id, user_id, amount_usd, credits_purchased, bmc_reference, notes, verified_by, status,
          created_at, verified_at;

-- name: add_paid_credits
-- Adds paid credits to one user.
-- mode: write
-- params: user_id, credits
UPDATE usage_tracking
SET paid_credits_remaining = paid_credits_remaining + :credits
WHERE user_id = :user_id;

-- name: take_paid_credits
-- Takes paid credits back from one user, never below zero (0 rows when it would go below).
-- mode: write
-- params: user_id, credits
UPDATE usage_tracking
SET paid_credits_remaining = paid_credits_remaining - :credits
WHERE user_id = :user_id AND paid_credits_remaining >= :credits;

-- name: get_receipt
-- One receipt with its user's email.
-- mode: read
-- params: receipt_id
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.notes, pr.verified_by, pr.status, pr.created_at, pr.verified_at
FROM payment_receipts pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE pr.id = :receipt_id;

-- name: lock_receipt
-- One receipt, locked until the transaction ends.
-- mode: write
-- params: receipt_id
SELECT pr.id, pr.user_id, pr.amount_usd, pr.credits_purchased, pr.bmc_reference, pr.notes,
       pr.status
FROM payment_receipts pr
WHERE pr.id = :receipt_id
FOR UPDATE;

-- name: pending_receipts
-- Receipts waiting for verification, oldest first.
-- mode: read
-- params: limit
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.notes, pr.verified_by, pr.status, pr.created_at, pr.verified_at
FROM payment_receipts pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE pr.status = 'pending'
ORDER BY pr.created_at, pr.id
LIMIT :limit;

-- name: mark_receipt_verified
-- Marks a pending receipt verified, with its notes (0 rows if it is no longer pending).
-- mode: write
-- params: receipt_id, verified_by, now, notes
UPDATE payment_receipts
SET status = 'verified', verified_by = :verified_by, verified_at = :now, notes = :notes
WHERE id = :receipt_id AND status = 'pending';

-- name: mark_receipt_refunded
-- Marks a receipt refunded with its new notes (0 rows if its status changed meanwhile).
-- mode: write
-- params: receipt_id, from_status, notes
UPDATE payment_receipts
SET status = 'refunded', notes = :notes
WHERE id = :receipt_id AND status = :from_status;

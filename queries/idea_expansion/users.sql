-- User lookup: support staff finding one user and everything about their usage.

-- name: recent_users
-- The newest users with their credits (NULL without a usage_tracking row), for the lookup
-- screen before anything is typed.
-- mode: read
-- params: limit
SELECT u.id, u.email, u.name, u.created_at,
       ut.free_expansions_remaining, ut.paid_credits_remaining,
       ut.free_expansions_remaining + ut.paid_credits_remaining AS total
FROM users u
LEFT JOIN usage_tracking ut ON ut.user_id = u.id
ORDER BY u.created_at DESC NULLS LAST, u.id DESC
LIMIT :limit;

-- name: find_users
-- Users whose email, name or payment reference contains the pattern, or whose id falls in the
-- prefix range, newest first. The pattern is lower-cased and LIKE-escaped by the caller. Each
-- branch of the UNION can use its own index (pg_trgm GIN indexes where the database has them,
-- the primary key for the id range); credits are joined only for the rows returned.
-- mode: read
-- params: pattern, id_low, id_high, limit
SELECT u.id, u.email, u.name, u.created_at,
       ut.free_expansions_remaining, ut.paid_credits_remaining,
       ut.free_expansions_remaining + ut.paid_credits_remaining AS total
FROM (
  SELECT m.id, m.email, m.name, m.created_at
  FROM users m
  WHERE m.id IN (
    SELECT h.id FROM users h
    WHERE lower(h.email) LIKE :pattern ESCAPE '\' OR lower(h.name) LIKE :pattern ESCAPE '\'
    UNION
    SELECT h.id FROM users h WHERE h.id >= :id_low AND h.id <= :id_high
    UNION
    SELECT pr.user_id FROM payment_receipts pr
    WHERE lower(pr.bmc_reference) LIKE :pattern ESCAPE '\'
  )
  ORDER BY m.created_at DESC NULLS LAST, m.id DESC
  LIMIT :limit
) u
LEFT JOIN usage_tracking ut ON ut.user_id = u.id
ORDER BY u.created_at DESC NULLS LAST, u.id DESC;

-- name: user_ids_by_email
-- The id of the user with exactly this email (uses the email index).
-- mode: read
-- params: email
SELECT u.id FROM users u WHERE u.email = :email;

-- name: user_ids_by_email_ci
-- Ids of users whose email equals the text, ignoring case as the database folds it on both sides
-- (a full scan; the fallback).
-- mode: read
-- params: email
SELECT u.id FROM users u WHERE lower(u.email) = lower(CAST(:email AS text)) ORDER BY u.created_at DESC NULLS LAST;

-- name: get_user
-- One user's profile and credit balances; has_usage_tracking is false when the row is missing
-- (and the balances, their total among them, are NULL).
-- mode: read
-- params: user_id
SELECT u.id, u.email, u.name, u.timezone, u.created_at, u.updated_at,
       CASE WHEN ut.user_id IS NULL THEN 0 ELSE 1 END AS has_usage_tracking,
       ut.free_expansions_remaining, ut.paid_credits_remaining,
       ut.free_expansions_remaining + ut.paid_credits_remaining AS total,
       ut.total_expansions_used, ut.total_free_used, ut.total_paid_used
FROM users u
LEFT JOIN usage_tracking ut ON ut.user_id = u.id
WHERE u.id = :user_id;

-- name: user_content_counts
-- How many ideas and outputs one user has.
-- mode: read
-- params: user_id
SELECT (SELECT COUNT(*) FROM ideas i WHERE i.user_id = :user_id) AS ideas,
       (SELECT COUNT(*) FROM outputs o WHERE o.user_id = :user_id) AS outputs;

-- name: user_execution_summary
-- One user's executions by status and tokens (the seed's "User's execution summary", per user).
-- mode: read
-- params: user_id
SELECT COUNT(*) AS total_executions,
       COUNT(CASE WHEN e.status = 'completed' THEN 1 END) AS successful,
       COUNT(CASE WHEN e.status = 'failed' THEN 1 END) AS failed,
       COUNT(CASE WHEN e.status = 'partial' THEN 1 END) AS partial,
       COUNT(CASE WHEN e.status = 'running' THEN 1 END) AS running,
       COALESCE(SUM(e.tokens_used), 0) AS total_tokens
FROM executions e
WHERE e.user_id = :user_id;

-- name: user_recent_executions
-- One user's latest executions, newest first.
-- mode: read
-- params: user_id, limit
SELECT e.id, e.started_at, e.status, e.format_chosen, e.error_step, e.error_message AS error,
       e.tokens_used, e.duration_seconds
FROM executions e
WHERE e.user_id = :user_id
ORDER BY e.started_at DESC, e.id DESC
LIMIT :limit;

-- name: user_receipts
-- One user's payment receipts, newest first.
-- mode: read
-- params: user_id
SELECT pr.id, pr.created_at, pr.amount_usd, pr.credits_purchased, pr.bmc_reference, pr.status,
       pr.verified_by, pr.verified_at, pr.notes
FROM payment_receipts pr
WHERE pr.user_id = :user_id
ORDER BY pr.created_at DESC, pr.id DESC;

-- name: user_credentials
-- One user's credential providers and their state (never the encrypted value).
-- mode: read
-- params: user_id
SELECT c.provider, c.is_active, c.validation_status, c.created_at, c.updated_at
FROM credentials c
WHERE c.user_id = :user_id
ORDER BY c.provider;

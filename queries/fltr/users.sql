-- fltr's user lookup (seeds 003, 004): Better Auth's users with their balance (user_credits,
-- one row per user once credits were first granted or spent), team, API keys and ledger, and
-- what they hold in the fltr database. Text ids are compared exactly: 'usr_Twin' is not
-- 'usr_twin'.

-- name: recent_users
-- The newest users with their balance (NULL without a user_credits row), for the lookup screen
-- before anything is typed.
-- mode: read
-- params: limit
SELECT u.id, u.email, u.name, u.created_at, uc.credits, uc.total_credits_purchased, uc.team_id
FROM users u
LEFT JOIN user_credits uc ON uc.user_id = u.id
ORDER BY u.created_at DESC, u.id DESC
LIMIT :limit;

-- name: find_users
-- Users whose email, name or team's name contains the pattern (lower-cased and LIKE-escaped by
-- the caller), whose id is the text, or who hold the API key that is the text; newest first. Each
-- branch of the UNION can use its own index; balances are joined only for the rows returned.
-- mode: read
-- params: pattern, text, limit
SELECT u.id, u.email, u.name, u.created_at, uc.credits, uc.total_credits_purchased, uc.team_id
FROM (
  SELECT m.id, m.email, m.name, m.created_at
  FROM users m
  WHERE m.id IN (
    SELECT h.id FROM users h
    WHERE lower(h.email) LIKE :pattern ESCAPE '\' OR lower(h.name) LIKE :pattern ESCAPE '\'
    UNION
    SELECT h.id FROM users h WHERE h.id = :text
    UNION
    SELECT c.user_id FROM user_credits c JOIN teams t ON t.id = c.team_id
    WHERE lower(t.name) LIKE :pattern ESCAPE '\'
    UNION
    SELECT t.owner_id FROM teams t WHERE lower(t.name) LIKE :pattern ESCAPE '\'
    UNION
    SELECT k.user_id FROM api_key_credits k WHERE k.api_key = :text
  )
  ORDER BY m.created_at DESC, m.id DESC
  LIMIT :limit
) u
LEFT JOIN user_credits uc ON uc.user_id = u.id
ORDER BY u.created_at DESC, u.id DESC;

-- name: user_ids_by_email
-- The id of the user with exactly this email (uses the email's unique index).
-- mode: read
-- params: email
SELECT u.id FROM users u WHERE u.email = :email;

-- name: user_ids_by_email_ci
-- Ids of users whose email equals the text, ignoring case as the database folds it on both sides
-- (a full scan; the fallback).
-- mode: read
-- params: email
SELECT u.id FROM users u WHERE lower(u.email) = lower(CAST(:email AS text)) ORDER BY u.created_at DESC;

-- name: get_user
-- One user's profile, balance and team; has_credits_row is false when user_credits has no row
-- (and the balance columns are NULL).
-- mode: read
-- params: user_id
SELECT u.id, u.email, u.name, u.email_verified, u.created_at, u.updated_at,
       CASE WHEN uc.user_id IS NULL THEN 0 ELSE 1 END AS has_credits_row,
       uc.credits, uc.total_credits_purchased, uc.team_id, t.name AS team_name,
       t.credits AS team_credits
FROM users u
LEFT JOIN user_credits uc ON uc.user_id = u.id
LEFT JOIN teams t ON t.id = uc.team_id
WHERE u.id = :user_id;

-- name: user_ledger
-- One user's credit_transactions in all: how many, their sum (what the balance should be: not
-- counting grants adminui made to their team) and the latest one's time.
-- mode: read
-- params: user_id
SELECT COUNT(*) AS transaction_count,
       COALESCE(SUM(CASE WHEN (ct.transaction_metadata ->> 'account') IS DISTINCT FROM 'team'
                         THEN ct.amount END), 0) AS ledger_sum,
       MAX(ct.created_at) AS last_transaction_at
FROM credit_transactions ct
WHERE ct.user_id = :user_id;

-- name: user_api_keys
-- One user's API keys with their own credits and limits, newest first; a key shows as its first
-- eight characters (it is a secret: what a support screen needs is which key, not the key).
-- mode: read
-- params: user_id
SELECT substr(k.api_key, 1, 8) || '…' AS api_key, k.team_id, k.credits, k.daily_limit,
       k.monthly_limit, k.created_at
FROM api_key_credits k
WHERE k.user_id = :user_id
ORDER BY k.created_at DESC, k.api_key;

-- name: user_transactions
-- One user's latest credit_transactions, newest first.
-- mode: read
-- params: user_id, limit
SELECT ct.id, ct.created_at, ct.type, ct.operation, ct.amount, ct.team_id, ct.resource_id
FROM credit_transactions ct
WHERE ct.user_id = :user_id
ORDER BY ct.created_at DESC, ct.id DESC
LIMIT :limit;

-- name: user_data_counts
-- In the fltr database: one user's datasets, their documents (and how many failed) and the
-- documents' processing jobs.
-- mode: read
-- params: user_id
SELECT (SELECT COUNT(*) FROM datasets d WHERE d.user_id = :user_id) AS datasets,
       (SELECT COUNT(*) FROM documents doc JOIN datasets d ON d.id = doc.dataset_id
        WHERE d.user_id = :user_id) AS documents,
       (SELECT COUNT(*) FROM documents doc JOIN datasets d ON d.id = doc.dataset_id
        WHERE d.user_id = :user_id AND doc.status = 'failed') AS failed_documents,
       (SELECT COUNT(*) FROM processing_jobs j JOIN documents doc ON doc.id = j.document_id
        JOIN datasets d ON d.id = doc.dataset_id WHERE d.user_id = :user_id) AS processing_jobs;

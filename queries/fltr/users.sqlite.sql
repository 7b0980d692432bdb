-- SQLite forms of users.sql where text is folded: adminui_fold is the connection's lower-casing
-- as PostgreSQL's lower() does it (adminui/fold.py); SQLite's own lower() folds ASCII only.

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
    WHERE adminui_fold(h.email) LIKE :pattern ESCAPE '\' OR adminui_fold(h.name) LIKE :pattern ESCAPE '\'
    UNION
    SELECT h.id FROM users h WHERE h.id = :text
    UNION
    SELECT c.user_id FROM user_credits c JOIN teams t ON t.id = c.team_id
    WHERE adminui_fold(t.name) LIKE :pattern ESCAPE '\'
    UNION
    SELECT t.owner_id FROM teams t WHERE adminui_fold(t.name) LIKE :pattern ESCAPE '\'
    UNION
    SELECT k.user_id FROM api_key_credits k WHERE k.api_key = :text
  )
  ORDER BY m.created_at DESC, m.id DESC
  LIMIT :limit
) u
LEFT JOIN user_credits uc ON uc.user_id = u.id
ORDER BY u.created_at DESC, u.id DESC;

-- name: user_ids_by_email_ci
-- Ids of users whose email equals the text, ignoring case as the database folds it on both sides
-- (a full scan; the fallback).
-- mode: read
-- params: email
SELECT u.id FROM users u WHERE adminui_fold(u.email) = adminui_fold(:email) ORDER BY u.created_at DESC;

-- name: user_ledger
-- One user's credit_transactions in all: how many, their sum (what the balance should be: not
-- counting grants adminui made to their team) and the latest one's time.
-- mode: read
-- params: user_id
SELECT COUNT(*) AS transaction_count,
       COALESCE(SUM(CASE WHEN (CASE WHEN json_valid(ct.transaction_metadata)
                                    THEN json_extract(ct.transaction_metadata, '$.account')
                               END) IS NOT 'team'
                         THEN ct.amount END), 0) AS ledger_sum,
       MAX(ct.created_at) AS last_transaction_at
FROM credit_transactions ct
WHERE ct.user_id = :user_id;

-- SQLite forms of users.sql where text is folded: adminui_fold is the connection's lower-casing
-- as PostgreSQL's lower() does it (adminui/fold.py); SQLite's own lower() folds ASCII only.

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
    WHERE adminui_fold(h.email) LIKE :pattern ESCAPE '\' OR adminui_fold(h.name) LIKE :pattern ESCAPE '\'
    UNION
    SELECT h.id FROM users h WHERE h.id >= :id_low AND h.id <= :id_high
    UNION
    SELECT pr.user_id FROM payment_receipts pr
    WHERE adminui_fold(pr.bmc_reference) LIKE :pattern ESCAPE '\'
  )
  ORDER BY m.created_at DESC NULLS LAST, m.id DESC
  LIMIT :limit
) u
LEFT JOIN usage_tracking ut ON ut.user_id = u.id
ORDER BY u.created_at DESC NULLS LAST, u.id DESC;

-- name: user_ids_by_email_ci
-- Ids of users whose email equals the text, ignoring case as the database folds it on both sides
-- (a full scan; the fallback).
-- mode: read
-- params: email
SELECT u.id FROM users u WHERE adminui_fold(u.email) = adminui_fold(:email) ORDER BY u.created_at DESC NULLS LAST;

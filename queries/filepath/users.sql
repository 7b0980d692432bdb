-- filepath's user lookup (SQLite, as D1 runs it: no functions of adminui's own). Times are
-- ordered by the instant each names, by the rule queries/omnichat/users.sql spells out (epoch
-- seconds or milliseconds, or ISO text; NULL for anything else, last newest first). Text is
-- matched as D1 does it: LIKE ignores the case of ASCII letters only, lower() folds ASCII only.

-- name: recent_users
-- The newest users (by the instant of created_at).
-- mode: read
-- params: limit
SELECT u.id, u.email, u.name, u.credit_balance, u.stripe_customer_id, u.created_at
FROM user u
ORDER BY COALESCE(CASE WHEN u.created_at NOT GLOB '*[^0-9]*' AND length(u.created_at) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(u.created_at) >= 12 THEN u.created_at / 1000.0
                                           ELSE u.created_at + 0 END, 'unixepoch') END,
                  CASE WHEN u.created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(u.created_at) END) DESC,
         u.id DESC
LIMIT :limit;

-- name: find_users
-- Users whose email or name contains the pattern (LIKE-escaped by the caller; LIKE ignores the
-- case of ASCII letters only), whose id is the text, who hold an API key whose name contains
-- the pattern, or whose key starts as the text does (its stored first characters, `start`, or
-- its prefix): newest first.
-- mode: read
-- params: pattern, text, limit
SELECT u.id, u.email, u.name, u.credit_balance, u.stripe_customer_id, u.created_at
FROM user u
WHERE u.id IN (
  SELECT h.id FROM user h
  WHERE h.email LIKE :pattern ESCAPE '\' OR h.name LIKE :pattern ESCAPE '\' OR h.id = :text
  UNION
  SELECT k.user_id FROM apikey k
  WHERE k.name LIKE :pattern ESCAPE '\' OR k.prefix = :text OR k.start = :text
     OR (length(k.start) >= 4 AND substr(:text, 1, length(k.start)) = k.start)
)
ORDER BY COALESCE(CASE WHEN u.created_at NOT GLOB '*[^0-9]*' AND length(u.created_at) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(u.created_at) >= 12 THEN u.created_at / 1000.0
                                           ELSE u.created_at + 0 END, 'unixepoch') END,
                  CASE WHEN u.created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(u.created_at) END) DESC,
         u.id DESC
LIMIT :limit;

-- name: user_ids_by_email
-- Ids of users whose email is exactly the text (the UNIQUE index answers).
-- mode: read
-- params: email
SELECT u.id FROM user u WHERE u.email = :email;

-- name: user_ids_by_email_ci
-- Ids of users whose email equals the text ignoring the case of ASCII letters (D1's lower()),
-- on both sides: the fallback, a full scan.
-- mode: read
-- params: email
SELECT u.id FROM user u WHERE lower(u.email) = lower(:email) ORDER BY u.id;

-- name: get_user
-- One user, whole (the product's column names).
-- mode: read
-- params: user_id
SELECT u.id, u.name, u.email, u.email_verified, u.image, u.created_at, u.updated_at,
       u.credit_balance, u.stripe_customer_id
FROM user u
WHERE u.id = :user_id;

-- name: user_counts
-- The user's sessions (and those not expired at :now), passkeys, API keys and the credit they
-- hold.
-- mode: read
-- params: user_id, now
SELECT (SELECT COUNT(*) FROM session s WHERE s.user_id = :user_id) AS sessions,
       (SELECT COUNT(*) FROM session s
        WHERE s.user_id = :user_id
          AND COALESCE(CASE WHEN s.expires_at NOT GLOB '*[^0-9]*' AND length(s.expires_at) BETWEEN 9 AND 13
                            THEN julianday(CASE WHEN length(s.expires_at) >= 12 THEN s.expires_at / 1000.0
                                                ELSE s.expires_at + 0 END, 'unixepoch') END,
                       CASE WHEN s.expires_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(s.expires_at) END)
              > julianday(:now)) AS active_sessions,
       (SELECT COUNT(*) FROM passkey p WHERE p.user_id = :user_id) AS passkeys,
       (SELECT COUNT(*) FROM apikey k WHERE k.user_id = :user_id) AS api_key_count,
       (SELECT COALESCE(SUM(k.credit_balance), 0) FROM apikey k WHERE k.user_id = :user_id)
         AS api_key_credits;

-- name: user_api_keys
-- The user's API keys, newest first: name, first characters and prefix, whether enabled, when
-- they expire, their credit and budget cap, and their last request. Never the key's hash or its
-- encrypted secrets.
-- mode: read
-- params: user_id
SELECT k.id, k.name, k.start, k.prefix, k.enabled, k.expires_at, k.credit_balance, k.budget_cap,
       k.last_request, k.request_count, k.created_at
FROM apikey k
WHERE k.user_id = :user_id
ORDER BY COALESCE(CASE WHEN k.created_at NOT GLOB '*[^0-9]*' AND length(k.created_at) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(k.created_at) >= 12 THEN k.created_at / 1000.0
                                           ELSE k.created_at + 0 END, 'unixepoch') END,
                  CASE WHEN k.created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(k.created_at) END) DESC,
         k.id DESC;

-- OmniChat's user lookup (SQLite, as D1 runs it: no functions of adminui's own, so the same
-- text runs on a local copy and over D1's API).
--
-- Times are text in several forms, so a list is ordered by the instant each names, never by its
-- text ('2024-05-01T09:00:00+02:00' is before '2024-05-01 08:30:00'). The instant of a time t:
--   COALESCE(CASE WHEN t NOT GLOB '*[^0-9]*' AND length(t) BETWEEN 9 AND 13
--                 THEN julianday(CASE WHEN length(t) >= 12 THEN t / 1000.0 ELSE t + 0 END,
--                                'unixepoch') END,
--            CASE WHEN t GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(t) END)
-- whole seconds (9 to 11 digits) or milliseconds (12 or 13) since the epoch, else an ISO 8601 or
-- 'YYYY-MM-DD HH:MM:SS' text (Z, an offset or none: UTC); NULL for anything else, which sorts
-- last newest first. adminui.ops.values.as_instant reads the values shown by the same rule.
--
-- Text is matched as D1 does it: LIKE ignores the case of ASCII letters only (the pattern is
-- the text as typed, LIKE-escaped: [lookup] case = "ascii"), lower() folds ASCII only.

-- name: recent_users
-- The newest users (by the instant of createdAt), with their battery balance.
-- mode: read
-- params: limit
SELECT u.id, u.email, u.name, u.tier, u.stripeCustomerId, u.createdAt, b.total_balance
FROM users u
LEFT JOIN user_battery b ON b.user_id = u.id
ORDER BY COALESCE(CASE WHEN u.createdAt NOT GLOB '*[^0-9]*' AND length(u.createdAt) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(u.createdAt) >= 12 THEN u.createdAt / 1000.0
                                           ELSE u.createdAt + 0 END, 'unixepoch') END,
                  CASE WHEN u.createdAt GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(u.createdAt) END) DESC,
         u.id DESC
LIMIT :limit;

-- name: find_users
-- Users whose email or name contains the pattern (LIKE-escaped by the caller; LIKE ignores the
-- case of ASCII letters only), whose id is the text, or whose Stripe customer id (on the user or
-- a subscription) is the text; newest first.
-- mode: read
-- params: pattern, text, limit
SELECT u.id, u.email, u.name, u.tier, u.stripeCustomerId, u.createdAt, b.total_balance
FROM users u
LEFT JOIN user_battery b ON b.user_id = u.id
WHERE u.id IN (
  SELECT h.id FROM users h
  WHERE h.email LIKE :pattern ESCAPE '\' OR h.name LIKE :pattern ESCAPE '\'
  UNION
  SELECT h.id FROM users h WHERE h.id = :text OR h.stripeCustomerId = :text
  UNION
  SELECT s.user_id FROM user_subscriptions s WHERE s.stripe_customer_id = :text
)
ORDER BY COALESCE(CASE WHEN u.createdAt NOT GLOB '*[^0-9]*' AND length(u.createdAt) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(u.createdAt) >= 12 THEN u.createdAt / 1000.0
                                           ELSE u.createdAt + 0 END, 'unixepoch') END,
                  CASE WHEN u.createdAt GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(u.createdAt) END) DESC,
         u.id DESC
LIMIT :limit;

-- name: user_ids_by_email
-- Ids of users whose email is exactly the text (the UNIQUE index answers).
-- mode: read
-- params: email
SELECT u.id FROM users u WHERE u.email = :email;

-- name: user_ids_by_email_ci
-- Ids of users whose email equals the text ignoring the case of ASCII letters (D1's lower()),
-- on both sides: the fallback, a full scan.
-- mode: read
-- params: email
SELECT u.id FROM users u WHERE lower(u.email) = lower(:email) ORDER BY u.id;

-- name: get_user
-- One user, whole (the product's column names), with their battery row if they have one.
-- mode: read
-- params: user_id
SELECT u.id, u.email, u.name, u.avatarUrl, u.stripeCustomerId, u.subscriptionStatus,
       u.subscriptionId, u.tier, u.createdAt, u.updatedAt,
       b.user_id IS NOT NULL AS has_battery_row, b.total_balance, b.daily_allowance,
       b.last_daily_reset
FROM users u
LEFT JOIN user_battery b ON b.user_id = u.id
WHERE u.id = :user_id;

-- name: user_subscription
-- The user's latest subscription (by the instant its period ends) and its plan: one row, empty
-- when they never subscribed.
-- mode: read
-- params: user_id
SELECT s.plan_id, p.name AS plan_name, s.status AS subscription_status,
       s.current_period_start, s.current_period_end, s.cancel_at, s.stripe_subscription_id
FROM (SELECT 1) AS one
LEFT JOIN (
  SELECT * FROM user_subscriptions x
  WHERE x.user_id = :user_id
  ORDER BY COALESCE(CASE WHEN x.current_period_end NOT GLOB '*[^0-9]*'
                              AND length(x.current_period_end) BETWEEN 9 AND 13
                         THEN julianday(CASE WHEN length(x.current_period_end) >= 12
                                             THEN x.current_period_end / 1000.0
                                             ELSE x.current_period_end + 0 END, 'unixepoch') END,
                    CASE WHEN x.current_period_end GLOB '[0-9][0-9][0-9][0-9]-*'
                         THEN julianday(x.current_period_end) END) DESC,
           x.id DESC
  LIMIT 1
) AS s ON 1
LEFT JOIN subscription_plans p ON p.id = s.plan_id;

-- name: user_counts
-- How much the user has: conversations, messages, requests in the 30 days before :now, battery
-- transactions, and the balance_after of the latest of those (by the instant of created_at).
-- mode: read
-- params: user_id, now
SELECT (SELECT COUNT(*) FROM conversations c WHERE c.userId = :user_id) AS conversations,
       (SELECT COUNT(*) FROM messages m JOIN conversations c ON c.id = m.conversationId
        WHERE c.userId = :user_id) AS messages,
       (SELECT COUNT(*) FROM api_usage a
        WHERE a.user_id = :user_id
          AND date(a.date) > date(:now, '-30 days') AND date(a.date) <= date(:now)) AS requests_30d,
       (SELECT COUNT(*) FROM battery_transactions t WHERE t.user_id = :user_id) AS transaction_count,
       (SELECT t.balance_after FROM battery_transactions t
        WHERE t.user_id = :user_id
        ORDER BY COALESCE(CASE WHEN t.created_at NOT GLOB '*[^0-9]*' AND length(t.created_at) BETWEEN 9 AND 13
                               THEN julianday(CASE WHEN length(t.created_at) >= 12 THEN t.created_at / 1000.0
                                                   ELSE t.created_at + 0 END, 'unixepoch') END,
                          CASE WHEN t.created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(t.created_at) END) DESC,
                 t.id DESC
        LIMIT 1) AS last_balance_after;

-- name: user_battery_transactions
-- The user's latest battery transactions (by the instant of created_at), with the reference a
-- grant recorded in its metadata, else its Stripe payment intent.
-- mode: read
-- params: user_id, limit
SELECT t.id, t.created_at, t.type, t.amount, t.balance_after, t.stripe_payment_intent_id,
       COALESCE(CASE WHEN json_valid(t.metadata) THEN json_extract(t.metadata, '$.reference') END,
                t.stripe_payment_intent_id) AS reference
FROM battery_transactions t
WHERE t.user_id = :user_id
ORDER BY COALESCE(CASE WHEN t.created_at NOT GLOB '*[^0-9]*' AND length(t.created_at) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(t.created_at) >= 12 THEN t.created_at / 1000.0
                                           ELSE t.created_at + 0 END, 'unixepoch') END,
                  CASE WHEN t.created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(t.created_at) END) DESC,
         t.id DESC
LIMIT :limit;

-- name: user_usage_by_model
-- The user's api_usage in the 30 days before :now, by model: requests, tokens, battery used and
-- the share of cached answers (cached stored as 0/1 or as 'true'/'false'), most battery first.
-- mode: read
-- params: user_id, now
SELECT a.model, COUNT(*) AS requests, SUM(a.input_tokens) AS input_tokens,
       SUM(a.output_tokens) AS output_tokens, SUM(a.battery_used) AS battery_used,
       ROUND(100.0 * SUM(CASE WHEN lower(a.cached) IN ('1', 'true') THEN 1 ELSE 0 END) / COUNT(*), 1)
         AS cached_percent
FROM api_usage a
WHERE a.user_id = :user_id
  AND date(a.date) > date(:now, '-30 days') AND date(a.date) <= date(:now)
GROUP BY a.model
ORDER BY battery_used DESC, a.model;

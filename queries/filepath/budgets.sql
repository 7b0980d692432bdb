-- filepath's budgets (seed 000): API keys holding credit they should not. Times are read by the
-- instant rule of users.sql (epoch seconds or milliseconds, or ISO text); `enabled` is 0/1, or
-- the text 'true'/'false' some writers store. Never the key itself or its encrypted_secrets.

-- name: budget_over_cap
-- API keys whose credit_balance is above their budget_cap (a NULL cap is uncapped), the most over
-- first; `found` counts them all, before the limit.
-- mode: read
-- params: limit
SELECT k.user_id, u.email, k.id, k.name, k.start, k.credit_balance, k.budget_cap,
       k.credit_balance - k.budget_cap AS over_cap, k.enabled, COUNT(*) OVER () AS found
FROM apikey k
LEFT JOIN user u ON u.id = k.user_id
WHERE k.budget_cap IS NOT NULL AND k.credit_balance > k.budget_cap
ORDER BY over_cap DESC, k.id
LIMIT :limit;

-- name: budget_idle_credit
-- Disabled keys, and keys expired by :now, that still hold credit: money no request can spend.
-- mode: read
-- params: now, limit
SELECT k.user_id, u.email, k.id, k.name, k.start, k.credit_balance, k.enabled, k.expires_at,
       CASE WHEN k.idle_disabled AND k.idle_expired THEN 'disabled, expired'
            WHEN k.idle_disabled THEN 'disabled' ELSE 'expired' END AS why,
       COUNT(*) OVER () AS found
FROM (
  SELECT a.*, lower(CAST(a.enabled AS TEXT)) IN ('0', 'false') AS idle_disabled,
         COALESCE(CASE WHEN a.expires_at NOT GLOB '*[^0-9]*' AND length(a.expires_at) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(a.expires_at) >= 12 THEN a.expires_at / 1000.0
                                           ELSE a.expires_at + 0 END, 'unixepoch') END,
                  CASE WHEN a.expires_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(a.expires_at) END)
           < julianday(:now) AS idle_expired
  FROM apikey a
  WHERE a.credit_balance > 0
) k
LEFT JOIN user u ON u.id = k.user_id
WHERE k.idle_disabled OR k.idle_expired
ORDER BY k.credit_balance DESC, k.id
LIMIT :limit;

-- OmniChat's ledger health (seed 002): battery_transactions is a signed ledger whose balance_after
-- is the balance after each row, so two checks hold it to account, each ordered by the instant a
-- row's created_at names (its text order lies: the forms are mixed; the instant rule of users.sql).

-- name: ledger_unbalanced
-- Users whose user_battery.total_balance is not their ledger's last balance_after (the latest by
-- instant, then id), side by side; a balance with no ledger row is held to 0. `found` counts them
-- all, before the limit.
-- mode: read
-- params: limit
WITH t AS (
  SELECT b.id, b.user_id, b.balance_after, b.created_at,
         COALESCE(CASE WHEN b.created_at NOT GLOB '*[^0-9]*' AND length(b.created_at) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(b.created_at) >= 12 THEN b.created_at / 1000.0
                                           ELSE b.created_at + 0 END, 'unixepoch') END,
                  CASE WHEN b.created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(b.created_at) END) AS at
  FROM battery_transactions b
), last AS (
  SELECT t.*, ROW_NUMBER() OVER (PARTITION BY t.user_id ORDER BY t.at DESC, t.id DESC) AS n FROM t
)
SELECT ub.user_id, u.email, ub.total_balance, l.balance_after AS last_balance_after,
       ub.total_balance - COALESCE(l.balance_after, 0) AS difference, l.id AS last_id,
       l.created_at AS last_created_at, COUNT(*) OVER () AS found
FROM user_battery ub
LEFT JOIN users u ON u.id = ub.user_id
LEFT JOIN last l ON l.user_id = ub.user_id AND l.n = 1
WHERE ub.total_balance IS NOT COALESCE(l.balance_after, 0)
ORDER BY ub.user_id
LIMIT :limit;

-- name: ledger_chain_breaks
-- Rows whose balance_after is not the row before's (by instant, then id) plus their amount: the
-- chain breaks there; the figures side by side, and `found`, how many in all. A row whose time
-- can't be read sorts first (NULL), where it is seen.
-- mode: read
-- params: limit
WITH t AS (
  SELECT b.id, b.user_id, b.amount, b.balance_after, b.created_at,
         COALESCE(CASE WHEN b.created_at NOT GLOB '*[^0-9]*' AND length(b.created_at) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(b.created_at) >= 12 THEN b.created_at / 1000.0
                                           ELSE b.created_at + 0 END, 'unixepoch') END,
                  CASE WHEN b.created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(b.created_at) END) AS at
  FROM battery_transactions b
), chained AS (
  SELECT t.*, LAG(t.balance_after) OVER w AS previous_balance_after, LAG(t.id) OVER w AS previous_id
  FROM t
  WINDOW w AS (PARTITION BY t.user_id ORDER BY t.at, t.id)
)
SELECT c.user_id, u.email, c.previous_id, c.previous_balance_after, c.amount,
       c.previous_balance_after + c.amount AS expected, c.balance_after,
       c.balance_after - (c.previous_balance_after + c.amount) AS difference, c.id, c.created_at,
       COUNT(*) OVER () AS found
FROM chained c
LEFT JOIN users u ON u.id = c.user_id
WHERE c.previous_id IS NOT NULL AND c.balance_after IS NOT c.previous_balance_after + c.amount
ORDER BY c.user_id, c.at, c.id
LIMIT :limit;

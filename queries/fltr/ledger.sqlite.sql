-- SQLite forms of ledger.sql: times are bound as the SQLite schema stores them (UTC text), and
-- months are read with strftime.

-- name: ledger_page
-- One page of the ledger, newest first (created_at, id), each filter applying when given; the
-- next page starts after the last row's (created_at, id).
-- mode: read
-- params: type, operation, user_id, since, until, after_at, after_id, limit
SELECT ct.id, ct.created_at, ct.user_id, u.email, ct.type, ct.operation, ct.amount, ct.team_id,
       ct.resource_id
FROM credit_transactions ct
LEFT JOIN users u ON u.id = ct.user_id
WHERE (:type IS NULL OR ct.type = :type)
  AND (:operation IS NULL OR ct.operation = :operation)
  AND (:user_id IS NULL OR ct.user_id = :user_id)
  AND (:since IS NULL OR ct.created_at >= :since)
  AND (:until IS NULL OR ct.created_at < :until)
  AND (:after_at IS NULL OR (ct.created_at, ct.id) < (:after_at, :after_id))
ORDER BY ct.created_at DESC, ct.id DESC
LIMIT :limit;

-- name: ledger_usage_by_operation
-- Credits used by operation (usage rows are negative amounts), since the time given if any.
-- mode: read
-- params: since
SELECT ct.operation, COUNT(*) AS transactions, COUNT(DISTINCT ct.user_id) AS users,
       -SUM(ct.amount) AS credits_used
FROM credit_transactions ct
WHERE ct.type = 'usage' AND (:since IS NULL OR ct.created_at >= :since)
GROUP BY ct.operation
ORDER BY credits_used DESC, ct.operation;

-- name: ledger_by_month
-- The ledger by month (UTC), newest first: credits purchased, given as bonuses, used, refunded.
-- mode: read
-- params: since
SELECT strftime('%Y-%m', ct.created_at) AS month,
       SUM(CASE WHEN ct.type = 'purchase' THEN ct.amount ELSE 0 END) AS purchased,
       SUM(CASE WHEN ct.type = 'bonus' THEN ct.amount ELSE 0 END) AS bonus,
       -SUM(CASE WHEN ct.type = 'usage' THEN ct.amount ELSE 0 END) AS used,
       -SUM(CASE WHEN ct.type = 'refund' THEN ct.amount ELSE 0 END) AS refunded,
       COUNT(*) AS transactions
FROM credit_transactions ct
WHERE :since IS NULL OR ct.created_at >= :since
GROUP BY strftime('%Y-%m', ct.created_at)
ORDER BY month DESC;

-- name: ledger_unbalanced
-- The balance check: users whose user_credits.credits is not the sum of their ledger, by user
-- id (one pass over the ledger, summed per user). A grant adminui made to a user's team (its
-- metadata's account is 'team') moved the team's balance, not the user's: it is not summed.
-- mode: read
-- params: limit
SELECT uc.user_id, u.email, uc.credits, COALESCE(l.total, 0) AS ledger_sum,
       uc.credits - COALESCE(l.total, 0) AS difference
FROM user_credits uc
LEFT JOIN users u ON u.id = uc.user_id
LEFT JOIN (SELECT ct.user_id, SUM(ct.amount) AS total
           FROM credit_transactions ct
           WHERE (CASE WHEN json_valid(ct.transaction_metadata)
                  THEN json_extract(ct.transaction_metadata, '$.account') END) IS NOT 'team'
           GROUP BY ct.user_id) l ON l.user_id = uc.user_id
WHERE uc.credits <> COALESCE(l.total, 0)
ORDER BY uc.user_id
LIMIT :limit;

-- name: ledger_unbalanced_count
-- How many users the balance check finds, and how many balances it looked at.
-- mode: read
-- params: none
SELECT COUNT(CASE WHEN uc.credits <> COALESCE(l.total, 0) THEN 1 END) AS unbalanced,
       COUNT(*) AS balances
FROM user_credits uc
LEFT JOIN (SELECT ct.user_id, SUM(ct.amount) AS total
           FROM credit_transactions ct
           WHERE (CASE WHEN json_valid(ct.transaction_metadata)
                  THEN json_extract(ct.transaction_metadata, '$.account') END) IS NOT 'team'
           GROUP BY ct.user_id) l ON l.user_id = uc.user_id;

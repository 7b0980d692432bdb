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

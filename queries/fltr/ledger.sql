-- fltr's credit ledger (credit_transactions): its rows newest first, filtered and keyset-paged;
-- usage by operation and by month; and the balance check, the users whose user_credits balance
-- is not the sum of their ledger. Times are bound as UTC instants; fltr stores them as UTC
-- timestamps without a zone, so they are compared AT TIME ZONE 'UTC' (whatever the session's).

-- name: ledger_page
-- One page of the ledger, newest first (created_at, id), each filter applying when given; the
-- next page starts after the last row's (created_at, id), a row comparison: the index on
-- (created_at DESC, id DESC) starts there (an OR of the two columns would walk it from the top),
-- and (user_id, created_at DESC, id DESC) answers one user's.
-- mode: read
-- params: type, operation, user_id, since, until, after_at, after_id, limit
SELECT ct.id, ct.created_at, ct.user_id, u.email, ct.type, ct.operation, ct.amount, ct.team_id,
       ct.resource_id
FROM credit_transactions ct
LEFT JOIN users u ON u.id = ct.user_id
WHERE (CAST(:type AS text) IS NULL OR ct.type = CAST(:type AS text))
  AND (CAST(:operation AS text) IS NULL OR ct.operation = CAST(:operation AS text))
  AND (CAST(:user_id AS text) IS NULL OR ct.user_id = CAST(:user_id AS text))
  AND (CAST(:since AS timestamptz) IS NULL
       OR ct.created_at >= CAST(:since AS timestamptz) AT TIME ZONE 'UTC')
  AND (CAST(:until AS timestamptz) IS NULL
       OR ct.created_at < CAST(:until AS timestamptz) AT TIME ZONE 'UTC')
  AND (CAST(:after_at AS timestamptz) IS NULL
       OR (ct.created_at, ct.id)
          < (CAST(:after_at AS timestamptz) AT TIME ZONE 'UTC', CAST(:after_id AS integer)))
ORDER BY ct.created_at DESC, ct.id DESC
LIMIT :limit;

-- name: ledger_usage_by_operation
-- Credits used by operation (usage rows are negative amounts), since the time given if any.
-- mode: read
-- params: since
SELECT ct.operation, COUNT(*) AS transactions, COUNT(DISTINCT ct.user_id) AS users,
       -SUM(ct.amount) AS credits_used
FROM credit_transactions ct
WHERE ct.type = 'usage'
  AND (CAST(:since AS timestamptz) IS NULL
       OR ct.created_at >= CAST(:since AS timestamptz) AT TIME ZONE 'UTC')
GROUP BY ct.operation
ORDER BY credits_used DESC, ct.operation;

-- name: ledger_by_month
-- The ledger by month (UTC), newest first: credits purchased, given as bonuses, used, refunded.
-- mode: read
-- params: since
SELECT to_char(ct.created_at, 'YYYY-MM') AS month,
       SUM(CASE WHEN ct.type = 'purchase' THEN ct.amount ELSE 0 END) AS purchased,
       SUM(CASE WHEN ct.type = 'bonus' THEN ct.amount ELSE 0 END) AS bonus,
       -SUM(CASE WHEN ct.type = 'usage' THEN ct.amount ELSE 0 END) AS used,
       -SUM(CASE WHEN ct.type = 'refund' THEN ct.amount ELSE 0 END) AS refunded,
       COUNT(*) AS transactions
FROM credit_transactions ct
WHERE CAST(:since AS timestamptz) IS NULL
   OR ct.created_at >= CAST(:since AS timestamptz) AT TIME ZONE 'UTC'
GROUP BY to_char(ct.created_at, 'YYYY-MM')
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
           WHERE (ct.transaction_metadata ->> 'account') IS DISTINCT FROM 'team'
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
           WHERE (ct.transaction_metadata ->> 'account') IS DISTINCT FROM 'team'
           GROUP BY ct.user_id) l ON l.user_id = uc.user_id;

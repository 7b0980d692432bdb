-- Payment summaries: revenue by status, month and user, and the list of receipts. Money is
-- summed in whole cents (exact on both dialects); adminui.ops.payments turns cents into Decimal.

-- name: payments_by_status
-- Count, cents and credits of receipts created since :since (NULL: all), by status.
-- mode: read
-- params: since
SELECT pr.status, COUNT(*) AS receipts,
       CAST(SUM(pr.amount_usd) * 100 AS bigint) AS total_cents,
       SUM(pr.credits_purchased) AS total_credits,
       MIN(pr.created_at) AS oldest
FROM payment_receipts pr
WHERE (CAST(:since AS timestamptz) IS NULL OR pr.created_at >= CAST(:since AS timestamptz))
GROUP BY pr.status
ORDER BY pr.status;

-- name: payments_by_month
-- Verified and refunded cents and credits per calendar month (UTC), for the months :months
-- (each month's first instant, oldest first; receipts from the first one on). The months come
-- as an array so the planner knows there are that few: it hashes them and adds each receipt to
-- its month in one parallel pass, where a generated series of unknown length made it sort every
-- receipt by month first.
-- mode: read
-- params: months
SELECT to_char(ms.month AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
       COUNT(*) FILTER (WHERE pr.status = 'verified') AS verified_receipts,
       COALESCE(CAST(SUM(pr.amount_usd) FILTER (WHERE pr.status = 'verified') * 100 AS bigint), 0)
         AS verified_cents,
       COALESCE(SUM(pr.credits_purchased) FILTER (WHERE pr.status = 'verified'), 0)
         AS verified_credits,
       COUNT(*) FILTER (WHERE pr.status = 'refunded') AS refunded_receipts,
       COALESCE(CAST(SUM(pr.amount_usd) FILTER (WHERE pr.status = 'refunded') * 100 AS bigint), 0)
         AS refunded_cents
FROM unnest(CAST(:months AS timestamptz[])) AS ms(month)
JOIN payment_receipts pr
  ON date_trunc('month', pr.created_at AT TIME ZONE 'UTC') = ms.month AT TIME ZONE 'UTC'
WHERE pr.created_at >= (CAST(:months AS timestamptz[]))[1]
GROUP BY ms.month
ORDER BY ms.month;

-- name: payments_by_user
-- Top payers: the seed's "Payment summary by user" (verified receipts, grouped by email, most
-- spent first) with the last payment; ties broken by email. :since NULL: all time. Receipts are
-- added up per user id first (emails are unique, so the groups are the seed's), in whole cents
-- (integer sums: numeric ones spill past work_mem at 150k payers); only the top :limit totals
-- and those tied with the last of them are joined to users for their email.
-- mode: read
-- params: since, limit
SELECT u.email, s.payments, s.total_credits, s.total_cents, s.last_payment
FROM (
  SELECT pr.user_id, COUNT(*) AS payments, SUM(pr.credits_purchased) AS total_credits,
         SUM(CAST(pr.amount_usd * 100 AS bigint)) AS total_cents, MAX(pr.created_at) AS last_payment
  FROM payment_receipts pr
  WHERE pr.status = 'verified'
    AND (CAST(:since AS timestamptz) IS NULL OR pr.created_at >= CAST(:since AS timestamptz))
  GROUP BY pr.user_id
  ORDER BY total_cents DESC
  FETCH FIRST :limit ROWS WITH TIES
) s
JOIN users u ON u.id = s.user_id
ORDER BY s.total_cents DESC, u.email
LIMIT :limit;

-- name: list_payments
-- One page of receipts, newest first, filtered by status, time window and reference/email text;
-- keyset paging: the page after (:after_created, :after_id), whatever the depth. Users are
-- joined only for the page's rows.
-- mode: read
-- params: status, since, until, pattern, after_created, after_id, limit
SELECT p.id, p.user_id, u.email, p.amount_usd, p.credits_purchased, p.bmc_reference,
       p.status, p.verified_by, p.created_at, p.verified_at, p.notes
FROM (
  SELECT pr.*
  FROM payment_receipts pr
  WHERE (CAST(:status AS text) IS NULL OR pr.status = :status)
    AND (CAST(:since AS timestamptz) IS NULL OR pr.created_at >= CAST(:since AS timestamptz))
    AND (CAST(:until AS timestamptz) IS NULL OR pr.created_at < CAST(:until AS timestamptz))
    AND (CAST(:pattern AS text) IS NULL
         OR lower(pr.bmc_reference) LIKE :pattern ESCAPE '\'
         OR pr.user_id IN (SELECT e.id FROM users e WHERE lower(e.email) LIKE :pattern ESCAPE '\'))
    AND (CAST(:after_created AS timestamptz) IS NULL
         OR (pr.created_at, pr.id) < (CAST(:after_created AS timestamptz), CAST(:after_id AS uuid)))
  ORDER BY pr.created_at DESC, pr.id DESC
  LIMIT :limit
) p
LEFT JOIN users u ON u.id = p.user_id
ORDER BY p.created_at DESC, p.id DESC;

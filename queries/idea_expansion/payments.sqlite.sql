-- SQLite forms of payments.sql: times are UTC text, so months are their first 7 characters and
-- windows compare as text; amounts (NUMERIC affinity) are summed as rounded whole cents.

-- name: payments_by_status
-- Count, cents and credits of receipts created since :since (NULL: all), by status.
-- mode: read
-- params: since
SELECT pr.status, COUNT(*) AS receipts,
       SUM(CAST(round(pr.amount_usd * 100) AS INTEGER)) AS total_cents,
       SUM(pr.credits_purchased) AS total_credits,
       MIN(pr.created_at) AS oldest
FROM payment_receipts pr
WHERE (:since IS NULL OR pr.created_at >= :since)
GROUP BY pr.status
ORDER BY pr.status;

-- name: payments_by_month
-- Verified and refunded cents and credits per calendar month (UTC), for the months :months
-- (a JSON array of each month's first instant, oldest first; receipts from the first one on).
-- mode: read
-- params: months
SELECT substr(pr.created_at, 1, 7) AS month,
       COUNT(*) FILTER (WHERE pr.status = 'verified') AS verified_receipts,
       COALESCE(SUM(CAST(round(pr.amount_usd * 100) AS INTEGER))
                  FILTER (WHERE pr.status = 'verified'), 0) AS verified_cents,
       COALESCE(SUM(pr.credits_purchased) FILTER (WHERE pr.status = 'verified'), 0)
         AS verified_credits,
       COUNT(*) FILTER (WHERE pr.status = 'refunded') AS refunded_receipts,
       COALESCE(SUM(CAST(round(pr.amount_usd * 100) AS INTEGER))
                  FILTER (WHERE pr.status = 'refunded'), 0) AS refunded_cents
FROM payment_receipts pr
WHERE pr.created_at >= (SELECT value FROM json_each(:months) WHERE key = 0)
  AND substr(pr.created_at, 1, 7) IN (SELECT substr(value, 1, 7) FROM json_each(:months))
GROUP BY 1
ORDER BY 1;

-- name: payments_by_user
-- Top payers: the seed's "Payment summary by user" (verified receipts, grouped by email, most
-- spent first) with the last payment; ties broken by email. :since NULL: all time. Receipts are
-- added up per user id first (emails are unique, so the groups are the seed's).
-- mode: read
-- params: since, limit
SELECT u.email, s.payments, s.total_credits, s.total_cents, s.last_payment
FROM (
  SELECT pr.user_id, COUNT(*) AS payments, SUM(pr.credits_purchased) AS total_credits,
         SUM(CAST(round(pr.amount_usd * 100) AS INTEGER)) AS total_cents,
         MAX(pr.created_at) AS last_payment
  FROM payment_receipts pr
  WHERE pr.status = 'verified' AND (:since IS NULL OR pr.created_at >= :since)
  GROUP BY pr.user_id
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
  WHERE (:status IS NULL OR pr.status = :status)
    AND (:since IS NULL OR pr.created_at >= :since)
    AND (:until IS NULL OR pr.created_at < :until)
    AND (:pattern IS NULL
         OR adminui_fold(pr.bmc_reference) LIKE :pattern ESCAPE '\'
         OR pr.user_id IN (SELECT e.id FROM users e WHERE adminui_fold(e.email) LIKE :pattern ESCAPE '\'))
    AND (:after_created IS NULL OR (pr.created_at, pr.id) < (:after_created, :after_id))
  ORDER BY pr.created_at DESC, pr.id DESC
  LIMIT :limit
) p
LEFT JOIN users u ON u.id = p.user_id
ORDER BY p.created_at DESC, p.id DESC;

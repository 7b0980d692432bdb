-- OmniChat's money (seed 002): battery_transactions by type and month (the month of the instant
-- created_at names: the instant rule of users.sql; a time that can't be read is month NULL), and
-- subscriptions by status and plan with the monthly recurring revenue they make. Plan prices are
-- whole cents (subscription_plans.price_monthly); adminui turns them into money exactly
-- ([values] "cents"). A subscription counts toward MRR while Stripe still bills it: active or
-- past_due (Stripe's own MRR rule); at its plan's monthly price, as user_subscriptions does not
-- say whether a subscription is billed yearly.

-- name: money_by_month
-- Battery transactions per month and type since :since (NULL: ever): rows, users, the battery
-- they moved (signed), newest month first.
-- mode: read
-- params: since, limit
SELECT strftime('%Y-%m', t.at) AS month, t.type, COUNT(*) AS transactions,
       COUNT(DISTINCT t.user_id) AS users, SUM(t.amount) AS battery
FROM (
  SELECT b.*, COALESCE(CASE WHEN b.created_at NOT GLOB '*[^0-9]*' AND length(b.created_at) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(b.created_at) >= 12 THEN b.created_at / 1000.0
                                           ELSE b.created_at + 0 END, 'unixepoch') END,
                  CASE WHEN b.created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(b.created_at) END) AS at
  FROM battery_transactions b
) t
WHERE :since IS NULL OR t.at >= julianday(:since)
GROUP BY strftime('%Y-%m', t.at), t.type
ORDER BY month DESC, t.type
LIMIT :limit;

-- name: money_subscriptions
-- Subscriptions by status and plan: how many, the plan's monthly price, and the MRR they make
-- (0 where the status is not billed), and `mrr_in_all`, all of them together (before the limit);
-- a subscription whose plan is gone shows plan NULL and adds nothing.
-- mode: read
-- params: limit
SELECT s.status, s.plan_id, p.name AS plan, COUNT(*) AS subscriptions,
       p.price_monthly AS monthly_price,
       CASE WHEN s.status IN ('active', 'past_due') THEN COUNT(*) * p.price_monthly ELSE 0 END AS mrr,
       SUM(SUM(CASE WHEN s.status IN ('active', 'past_due') THEN p.price_monthly ELSE 0 END)) OVER ()
         AS mrr_in_all
FROM user_subscriptions s
LEFT JOIN subscription_plans p ON p.id = s.plan_id
GROUP BY s.status, s.plan_id
ORDER BY mrr DESC, s.status, s.plan_id
LIMIT :limit;

-- The OmniChat demo and its test fixtures: `adminui demo --product omnichat` runs the statements of
-- this file in order, with :users (how many) and :now (the anchor time, UTC); the same two values
-- give the same rows. Besides ordinary users, subscriptions, balances, ledgers, conversations and
-- usage they hold what a D1 database collects: times written in four forms (so text order lies:
-- '2026-06-01 09:00:00' sorts before '2026-06-01T08:00:00.000Z'), booleans as 0/1 and as
-- 'true'/'false', emails that differ only in case, a balance that is not its ledger's last
-- balance_after, a ledger whose balance_after chain breaks, a daily summary that disagrees with
-- api_usage, a time nobody can read, and rows of every relation whose parent is gone (inserted
-- with foreign keys off, as `wrangler d1 execute` runs).

-- name: demo_clock_table
-- The demo's clock and counter: row i is :now less i hours, in every form the product writes a
-- time in (a temporary table, gone with the connection).
-- mode: write
-- params: none
CREATE TEMPORARY TABLE demo_clock (
  i INTEGER PRIMARY KEY,
  at TEXT NOT NULL,       -- 'YYYY-MM-DD HH:MM:SS' (SQLite's CURRENT_TIMESTAMP form)
  iso TEXT NOT NULL,      -- JavaScript's toISOString(): '2026-06-01T10:00:00.000Z'
  mixed NOT NULL,         -- by i: the ISO form, the plain one, +02:00 local, or epoch milliseconds
  epoch INTEGER NOT NULL, -- seconds since 1970 (Stripe's periods)
  day TEXT NOT NULL       -- 'YYYY-MM-DD'
);

-- name: demo_clock
-- One row per hour back from :now, enough for every row below.
-- mode: write
-- params: users, now
INSERT INTO demo_clock (i, at, iso, mixed, epoch, day)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 6 * :users + 100),
     t(i, at) AS (SELECT i, datetime(:now, '-' || i || ' hours') FROM n)
SELECT i, at, strftime('%Y-%m-%dT%H:%M:%fZ', at),
       CASE i % 4 WHEN 0 THEN strftime('%Y-%m-%dT%H:%M:%fZ', at)
                  WHEN 1 THEN at
                  WHEN 2 THEN strftime('%Y-%m-%dT%H:%M:%S', at, '+2 hours') || '+02:00'
                  ELSE CAST(strftime('%s', at) AS INTEGER) * 1000 END,
       CAST(strftime('%s', at) AS INTEGER), date(at)
FROM t;

-- name: demo_plans
-- The four plans of seed 002, prices in cents.
-- mode: write
-- params: none
INSERT INTO subscription_plans (id, name, price_monthly, price_annual, battery_units, daily_battery,
                                features, stripe_price_id_monthly, stripe_price_id_annual)
VALUES ('starter', 'Starter', 499, 4990, 5000, 150, '["chat"]', 'price_starter_m', 'price_starter_y'),
       ('daily', 'Daily', 999, 9990, 12000, 400, '["chat","files"]', 'price_daily_m', 'price_daily_y'),
       ('power', 'Power', 1999, 19990, 30000, 1000, '["chat","files","api"]', 'price_power_m',
        'price_power_y'),
       ('ultimate', 'Ultimate', 4999, 49990, 90000, 3000, '["chat","files","api","priority"]',
        'price_ultimate_m', 'price_ultimate_y');

-- name: demo_users
-- :users users ('user_2N000001', ...), user i signed up 5i hours ago, every third one paying;
-- two more whose emails differ only in case.
-- mode: write
-- params: users
WITH first_names(k, name) AS (VALUES (0, 'Ada'), (1, 'Alan'), (2, 'Grace'), (3, 'Linus'),
                                     (4, 'Zoë'), (5, 'Tomás'), (6, 'Mei'), (7, 'Radia')),
     last_names(k, name) AS (VALUES (0, 'Lovelace'), (1, 'Turing'), (2, 'Hopper'), (3, 'Muñoz'),
                                    (4, 'Okafor'), (5, 'Liskov'), (6, 'Nilsson'))
INSERT INTO users (id, email, name, avatarUrl, stripeCustomerId, subscriptionStatus, subscriptionId,
                   tier, createdAt, updatedAt)
SELECT printf('user_2N%06d', n.i), lower(f.name) || '.' || n.i || '@example.com',
       f.name || ' ' || l.name, 'https://img.example.com/' || n.i || '.png',
       CASE WHEN n.i % 3 = 0 OR n.i % 5 = 0 THEN printf('cus_demo%06d', n.i) END,
       CASE WHEN n.i % 15 = 0 THEN 'past_due' WHEN n.i % 3 = 0 THEN 'active' END,
       CASE WHEN n.i % 3 = 0 THEN printf('sub_demo%06d', n.i) END,
       CASE WHEN n.i % 3 = 0 THEN 'paid' ELSE 'free' END, c.mixed, c.iso
FROM demo_clock n
JOIN demo_clock c ON c.i = 5 * n.i
JOIN first_names f ON f.k = n.i % 8
JOIN last_names l ON l.k = n.i % 7
WHERE n.i BETWEEN 1 AND :users
UNION ALL
SELECT 'user_2NcaseA', 'Sam.Case@example.com', 'Sam Case', NULL, NULL, NULL, NULL, 'free', iso, iso
FROM demo_clock WHERE i = 30
UNION ALL
SELECT 'user_2Ncasea', 'sam.case@example.com', 'sam case', NULL, NULL, NULL, NULL, 'free', at, at
FROM demo_clock WHERE i = 20;

-- name: demo_subscriptions
-- A subscription for every paying user: the plan by user, periods of 30 days in Stripe's epoch
-- seconds for every second one and ISO text for the others.
-- mode: write
-- params: none
INSERT INTO user_subscriptions (id, user_id, plan_id, stripe_customer_id, stripe_subscription_id,
                                status, current_period_start, current_period_end, cancel_at)
SELECT u.subscriptionId, u.id,
       CASE CAST(substr(u.id, 8) AS INTEGER) / 3 % 4 WHEN 0 THEN 'starter' WHEN 1 THEN 'daily'
            WHEN 2 THEN 'power' ELSE 'ultimate' END,
       u.stripeCustomerId, u.subscriptionId, u.subscriptionStatus,
       CASE WHEN CAST(substr(u.id, 8) AS INTEGER) % 2 = 0 THEN s.epoch ELSE s.iso END,
       CASE WHEN CAST(substr(u.id, 8) AS INTEGER) % 2 = 0 THEN e.epoch ELSE e.iso END,
       CASE WHEN CAST(substr(u.id, 8) AS INTEGER) = 9 THEN 'never' END
FROM users u
JOIN demo_clock s ON s.i = 24 * (CAST(substr(u.id, 8) AS INTEGER) % 29) + 5
JOIN demo_clock e ON e.i = 0
WHERE u.subscriptionId IS NOT NULL;

-- name: demo_ledger_rows_table
-- Each ledger row before its balance_after is summed (a temporary table).
-- mode: write
-- params: none
CREATE TEMPORARY TABLE demo_ledger_rows (
  user_id TEXT NOT NULL, n INTEGER NOT NULL, k INTEGER NOT NULL, type TEXT NOT NULL,
  amount INTEGER NOT NULL, intent TEXT, metadata TEXT, created_at NOT NULL,
  PRIMARY KEY (user_id, k)
);

-- name: demo_ledger_rows
-- Every user but each tenth: a welcome bonus, a purchase (Stripe) for every second user or else
-- a grant an operator recorded with its Buy Me a Coffee reference, then usage; 2 to 5 rows, each
-- an hour after the one before, in the clock's mixed forms.
-- mode: write
-- params: users
WITH RECURSIVE k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < 4)
INSERT INTO demo_ledger_rows (user_id, n, k, type, amount, intent, metadata, created_at)
SELECT printf('user_2N%06d', n.i), n.i, k.k,
       CASE WHEN k.k = 0 THEN 'bonus' WHEN k.k = 1 AND n.i % 2 = 0 THEN 'purchase'
            WHEN k.k = 1 THEN 'bonus' ELSE 'usage' END,
       CASE WHEN k.k = 0 THEN 100 WHEN k.k = 1 AND n.i % 2 = 0 THEN 5000 WHEN k.k = 1 THEN 250
            ELSE -(5 + (n.i * k.k) % 20) END,
       CASE WHEN k.k = 1 AND n.i % 2 = 0 THEN printf('pi_demo%06d', n.i) END,
       CASE WHEN k.k = 1 AND n.i % 2 = 1
            THEN json_object('reference', printf('BMC-%d', 40000 + n.i), 'operator', 'demo',
                             'notes', 'coffee ☕ × 3') END,
       c.mixed
FROM demo_clock n
JOIN k ON k.k <= 1 + n.i % 4
JOIN demo_clock c ON c.i = 5 * n.i - 1 - k.k
WHERE n.i BETWEEN 1 AND :users AND n.i % 10 <> 0;

-- name: demo_ledger
-- battery_transactions from those rows, balance_after the running sum; the chain of every 41st
-- user breaks at its second row (balance_after 10 too high).
-- mode: write
-- params: none
INSERT INTO battery_transactions (id, user_id, type, amount, balance_after,
                                  stripe_payment_intent_id, metadata, created_at)
SELECT printf('btx_%s_%d', user_id, k), user_id, type, amount,
       SUM(amount) OVER (PARTITION BY user_id ORDER BY k) + CASE WHEN n % 41 = 0 AND k = 1 THEN 10 ELSE 0 END,
       intent, metadata, created_at
FROM demo_ledger_rows;

-- name: demo_battery
-- The balance of every user with a ledger: its last balance_after, except every 37th user's
-- (50 more: the disagreement ledger health finds); the daily allowance by plan.
-- mode: write
-- params: now
INSERT INTO user_battery (user_id, total_balance, daily_allowance, last_daily_reset)
SELECT r.user_id,
       t.total + CASE WHEN r.n % 37 = 0 THEN 50 ELSE 0 END + CASE WHEN r.n % 41 = 0 THEN 10 ELSE 0 END,
       COALESCE(d.daily_battery, 50),
       date(:now)
FROM demo_ledger_rows r
JOIN (SELECT x.user_id, SUM(x.amount) AS total FROM demo_ledger_rows x GROUP BY x.user_id) t
  ON t.user_id = r.user_id
LEFT JOIN (SELECT s.user_id, MAX(p.daily_battery) AS daily_battery  -- one subscription a user
           FROM user_subscriptions s JOIN subscription_plans p ON p.id = s.plan_id
           GROUP BY s.user_id) d
  ON d.user_id = r.user_id
WHERE r.k = 0;

-- name: demo_conversations
-- One to three conversations per user, the first of every fifth user pinned ('true' as text
-- for some, as the app once wrote it), the third archived.
-- mode: write
-- params: users
WITH RECURSIVE j(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM j WHERE j < 2),
     models(k, model) AS (VALUES (0, 'gpt-4o'), (1, 'claude-3-5-sonnet'), (2, 'gemini-1.5-pro'))
INSERT INTO conversations (id, userId, title, modelId, pinned, archived, lastMessageAt, createdAt,
                           updatedAt)
SELECT printf('conv_%d_%d', n.i, j.j), printf('user_2N%06d', n.i),
       CASE j.j WHEN 0 THEN 'Trip to Lisbon' WHEN 1 THEN 'Résumé review' ELSE 'SQL help' END,
       m.model,
       CASE WHEN j.j = 0 AND n.i % 10 = 5 THEN 'true' WHEN j.j = 0 AND n.i % 5 = 0 THEN 1 ELSE 0 END,
       CASE WHEN j.j = 2 THEN 1 ELSE 0 END,
       CASE WHEN n.i = 1 AND j.j = 0 THEN 'pending' ELSE l.mixed END, c.mixed, l.iso
FROM demo_clock n
JOIN j ON j.j <= n.i % 3
JOIN models m ON m.k = (n.i + j.j) % 3
JOIN demo_clock c ON c.i = 5 * n.i - 2 - j.j
JOIN demo_clock l ON l.i = 3 * n.i - j.j
WHERE n.i BETWEEN 1 AND :users;

-- name: demo_messages
-- Four messages per conversation: the user's question and the assistant's answer, twice.
-- mode: write
-- params: none
WITH RECURSIVE k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < 3)
INSERT INTO messages (id, conversationId, role, content, modelId, metadata, createdAt, updatedAt)
SELECT c.id || '_m' || k.k, c.id, CASE WHEN k.k % 2 = 0 THEN 'user' ELSE 'assistant' END,
       CASE WHEN k.k % 2 = 0 THEN 'Question ' || k.k || ' about ' || c.title
            ELSE 'Answer ' || k.k || ' (' || c.modelId || ')' END,
       c.modelId, CASE WHEN k.k = 0 THEN '{"attachments":[]}' END, c.createdAt, c.updatedAt
FROM conversations c
JOIN k;

-- name: demo_api_usage
-- One api_usage row per answer, on one of the 40 days before :now: tokens, battery used, cached
-- stored as 0/1 or as 'true'/'false'.
-- mode: write
-- params: now
INSERT INTO api_usage (id, user_id, conversation_id, message_id, model, input_tokens, output_tokens,
                       battery_used, cached, date, created_at)
SELECT 'use_' || m.id, c.userId, c.id, m.id, m.modelId, 200 + length(m.id) * 7,
       400 + length(m.content) * 11, 3 + length(m.id) % 9,
       CASE WHEN length(m.id) % 4 = 0 THEN 'true' WHEN length(m.id) % 4 = 1 THEN 'false'
            WHEN length(m.id) % 4 = 2 THEN 1 ELSE 0 END,
       date(:now, '-' || (m.rowid * 7 % 40) || ' days'),
       strftime('%Y-%m-%dT%H:%M:%fZ', :now, '-' || (m.rowid * 7 % 40) || ' days')
FROM messages m
JOIN conversations c ON c.id = m.conversationId
WHERE m.role = 'assistant';

-- name: demo_daily_summary
-- Each user's day summarised from api_usage; every 23rd user's first day 3 battery too high
-- (the check against api_usage finds it).
-- mode: write
-- params: none
INSERT INTO daily_usage_summary (id, user_id, date, total_battery_used, total_messages, models_used)
SELECT 'day_' || a.user_id || '_' || a.date, a.user_id, a.date,
       SUM(a.battery_used)
         + CASE WHEN CAST(substr(a.user_id, 8) AS INTEGER) % 23 = 0 AND a.date = a.first_day
                THEN 3 ELSE 0 END,
       COUNT(*), json_group_object(a.model, a.battery_used)
FROM (SELECT u.*, MIN(u.date) OVER (PARTITION BY u.user_id) AS first_day FROM api_usage u) a
GROUP BY a.user_id, a.date;

-- name: demo_schema_version
-- The migrations OmniChat's script recorded (version 4 never ran: the gap seed 002 warns of).
-- mode: write
-- params: none
INSERT INTO schema_version (version, name, applied_at, checksum)
VALUES (1, '0001_initial', 1717200000, 'a1'), (2, '0002_billing', 1717300000, 'b2'),
       (3, '0003_battery', 1717400000, 'c3'), (5, '0005_usage_summary', 1717600000, 'e5');

-- name: demo_audit_logs
-- A sign-in and a plan change for every tenth user.
-- mode: write
-- params: users
INSERT INTO audit_logs (id, userId, action, resourceType, resourceId, metadata, createdAt)
SELECT printf('aud_%d', n.i), printf('user_2N%06d', n.i),
       CASE WHEN n.i % 20 = 0 THEN 'subscription.updated' ELSE 'user.signin' END, 'user',
       printf('user_2N%06d', n.i), '{}', c.iso
FROM demo_clock n
JOIN demo_clock c ON c.i = 5 * n.i - 3
WHERE n.i BETWEEN 1 AND :users AND n.i % 10 = 0;

-- name: demo_orphan_rows
-- Rows whose parent is gone, in every relation (foreign keys off, as D1 imports run): the
-- conversations, usage, ledger, balance, summary and subscription of users deleted by hand,
-- and the messages of a conversation deleted the same way.
-- mode: write
-- params: none
INSERT INTO conversations (id, userId, title, modelId, pinned, archived, lastMessageAt, createdAt,
                           updatedAt)
SELECT 'conv_gone_' || i, 'user_gone_1', 'Left behind ' || i, 'gpt-4o', 0, 0, iso, iso, iso
FROM demo_clock WHERE i IN (7, 8);

-- name: demo_orphan_messages
-- Three messages of the conversation 'conv_deleted', which no longer exists.
-- mode: write
-- params: none
INSERT INTO messages (id, conversationId, role, content, modelId, createdAt, updatedAt)
SELECT 'msg_orphan_' || i, 'conv_deleted', 'user', 'Hello from nowhere ' || i, 'gpt-4o', iso, iso
FROM demo_clock WHERE i IN (3, 4, 5);

-- name: demo_orphan_usage
-- Usage, a daily summary and a subscription of users that are gone.
-- mode: write
-- params: none
INSERT INTO api_usage (id, user_id, conversation_id, message_id, model, input_tokens, output_tokens,
                       battery_used, cached, date, created_at)
SELECT 'use_gone_' || i, 'user_gone_2', 'conv_x', 'msg_x', 'gpt-4o', 100, 200, 4, 0, day, iso
FROM demo_clock WHERE i IN (10, 11, 12);

-- name: demo_orphan_summary
-- The daily summary of a user that is gone.
-- mode: write
-- params: none
INSERT INTO daily_usage_summary (id, user_id, date, total_battery_used, total_messages, models_used)
SELECT 'day_gone_' || day, 'user_gone_2', day, 12, 3, json_object('gpt-4o', 12)
FROM demo_clock WHERE i = 10;

-- name: demo_orphan_subscription
-- The subscription of a user that is gone (its Stripe ids kept).
-- mode: write
-- params: none
INSERT INTO user_subscriptions (id, user_id, plan_id, stripe_customer_id, stripe_subscription_id,
                                status, current_period_start, current_period_end)
SELECT 'sub_gone', 'user_gone_4', 'power', 'cus_gone', 'sub_gone', 'canceled', epoch, epoch + 2592000
FROM demo_clock WHERE i = 200;

-- name: demo_orphan_ledger
-- The ledger and balance of a user that is gone: what a clean must ask twice about.
-- mode: write
-- params: none
INSERT INTO battery_transactions (id, user_id, type, amount, balance_after, stripe_payment_intent_id,
                                  metadata, created_at)
SELECT 'btx_gone_' || i, 'user_gone_3', CASE WHEN i = 40 THEN 'purchase' ELSE 'usage' END,
       CASE WHEN i = 40 THEN 5000 ELSE -20 END, CASE WHEN i = 40 THEN 5000 ELSE 4980 END,
       CASE WHEN i = 40 THEN 'pi_gone' END, NULL, mixed
FROM demo_clock WHERE i IN (40, 41);

-- name: demo_orphan_balance
-- The balance of that user.
-- mode: write
-- params: none
INSERT INTO user_battery (user_id, total_balance, daily_allowance, last_daily_reset)
VALUES ('user_gone_3', 4980, 50, '2026-01-01');

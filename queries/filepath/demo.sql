-- The filepath demo and its test fixtures: `adminui demo --product filepath` runs the statements
-- of this file in order, with :users (how many) and :now (the anchor time, UTC); the same two
-- values give the same rows. Besides ordinary users, sessions, accounts, passkeys and API keys
-- they hold what seed 000 warns of: the seeded test user (jordan@sendgrowth.com, 1,000 credits)
-- and a twin of its email in other case, times written by Drizzle (epoch seconds), by Better
-- Auth's adapter (milliseconds) and by a hand-run seed (ISO text), API keys over their budget
-- cap, disabled and expired keys that still hold credit, and the sessions, accounts, passkeys
-- and keys of users deleted while foreign keys were off (a reset done by hand).

-- name: demo_clock_table
-- The demo's clock and counter: row i is :now less i hours, as epoch seconds, milliseconds and
-- ISO text (a temporary table, gone with the connection).
-- mode: write
-- params: none
CREATE TEMPORARY TABLE demo_clock (
  i INTEGER PRIMARY KEY,
  seconds INTEGER NOT NULL,
  iso TEXT NOT NULL,
  mixed NOT NULL  -- by i: seconds (Drizzle), milliseconds (Better Auth) or ISO text (a seed)
);

-- name: demo_clock
-- One row per hour back from :now, enough for every row below, and 90 days ahead.
-- mode: write
-- params: users, now
INSERT INTO demo_clock (i, seconds, iso, mixed)
WITH RECURSIVE n(i) AS (SELECT -2160 UNION ALL SELECT i + 1 FROM n WHERE i < 6 * :users + 100),
     t(i, at) AS (SELECT i, datetime(:now, (-i) || ' hours') FROM n)
SELECT i, CAST(strftime('%s', at) AS INTEGER), strftime('%Y-%m-%dT%H:%M:%fZ', at),
       CASE abs(i) % 5 WHEN 3 THEN CAST(strftime('%s', at) AS INTEGER) * 1000
                       WHEN 4 THEN strftime('%Y-%m-%dT%H:%M:%fZ', at)
                       ELSE CAST(strftime('%s', at) AS INTEGER) END
FROM t;

-- name: demo_users
-- :users users ('fp_usr_1', ...), user i signed up 5i hours ago; seed 000's test user with its
-- 1,000 credits, and a twin of its email in other case.
-- mode: write
-- params: users
WITH first_names(k, name) AS (VALUES (0, 'Ada'), (1, 'Alan'), (2, 'Grace'), (3, 'Linus'),
                                     (4, 'Zoë'), (5, 'Tomás'), (6, 'Mei'), (7, 'Radia')),
     last_names(k, name) AS (VALUES (0, 'Lovelace'), (1, 'Turing'), (2, 'Hopper'), (3, 'Muñoz'),
                                    (4, 'Okafor'), (5, 'Liskov'), (6, 'Nilsson'))
INSERT INTO user (id, name, email, email_verified, image, created_at, updated_at, credit_balance,
                  stripe_customer_id)
SELECT 'fp_usr_' || n.i, f.name || ' ' || l.name, lower(f.name) || '.' || n.i || '@example.com',
       n.i % 4 <> 0, NULL, c.mixed, c.seconds, 50 * (n.i % 9),
       CASE WHEN n.i % 3 = 0 THEN printf('cus_fp%05d', n.i) END
FROM demo_clock n
JOIN demo_clock c ON c.i = 5 * n.i
JOIN first_names f ON f.k = n.i % 8
JOIN last_names l ON l.k = n.i % 7
WHERE n.i BETWEEN 1 AND :users
UNION ALL
SELECT 'fp_usr_jordan', 'Jordan', 'jordan@sendgrowth.com', 1, NULL, iso, iso, 1000, NULL
FROM demo_clock WHERE i = 40
UNION ALL
SELECT 'fp_usr_Jordan', 'Jordan (old)', 'Jordan@SendGrowth.com', 0, NULL, seconds, seconds, 0, NULL
FROM demo_clock WHERE i = 41;

-- name: demo_accounts
-- Each user signs in with a password (a placeholder, not a hash) or GitHub.
-- mode: write
-- params: none
INSERT INTO account (id, account_id, provider_id, user_id, password, created_at, updated_at)
SELECT 'acc_' || id, 'gh-' || id, CASE WHEN length(id) % 2 = 0 THEN 'credential' ELSE 'github' END,
       id, CASE WHEN length(id) % 2 = 0 THEN 'demo-placeholder' END, created_at, updated_at
FROM user;

-- name: demo_sessions
-- Every second user has a session, expiring a week after it began (some are over).
-- mode: write
-- params: users
INSERT INTO session (id, expires_at, token, created_at, updated_at, ip_address, user_agent, user_id)
SELECT 'ses_' || n.i, e.seconds, 'tok_' || n.i, c.mixed, c.seconds, '198.51.100.' || (n.i % 250),
       'Mozilla/5.0 (demo)', 'fp_usr_' || n.i
FROM demo_clock n
JOIN demo_clock c ON c.i = 3 * n.i
JOIN demo_clock e ON e.i = 3 * n.i - 168
WHERE n.i BETWEEN 1 AND :users AND n.i % 2 = 0;

-- name: demo_passkeys
-- Every fifth user has a passkey.
-- mode: write
-- params: users
INSERT INTO passkey (id, name, public_key, user_id, credential_id, counter, device_type, backed_up,
                     transports, created_at)
SELECT 'pk_' || n.i, 'MacBook', 'demo-public-key', 'fp_usr_' || n.i, 'cred_' || n.i, n.i % 7,
       'multiDevice', n.i % 2, 'internal', c.mixed
FROM demo_clock n
JOIN demo_clock c ON c.i = 5 * n.i - 1
WHERE n.i BETWEEN 1 AND :users AND n.i % 5 = 0;

-- name: demo_api_keys
-- One or two API keys for every third user: credit and a budget cap (none for some: uncapped);
-- every 7th user's first key is over its cap, every 11th's is disabled and every 13th's expired,
-- each still holding credit.
-- mode: write
-- params: users
WITH RECURSIVE j(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM j WHERE j < 1)
INSERT INTO apikey (id, name, start, prefix, key, user_id, enabled, request_count, last_request,
                    expires_at, created_at, updated_at, credit_balance, budget_cap,
                    encrypted_secrets)
SELECT printf('key_%d_%d', n.i, j.j), CASE j.j WHEN 0 THEN 'production' ELSE 'CI runner' END,
       printf('fp_%03x', n.i * 7 + j.j), 'fp_', 'demo-hash-' || n.i || '-' || j.j, 'fp_usr_' || n.i,
       CASE WHEN j.j = 0 AND n.i % 11 = 0 THEN 0 ELSE 1 END, n.i * 13 % 500,
       CASE WHEN n.i % 4 = 0 THEN NULL ELSE l.mixed END,
       CASE WHEN j.j = 0 AND n.i % 13 = 0 THEN x.seconds WHEN n.i % 5 = 0 THEN f.seconds END,
       c.mixed, c.seconds,
       CASE WHEN j.j = 0 AND n.i % 7 = 0 THEN 900 ELSE 100 + n.i % 200 END,
       CASE WHEN n.i % 6 = 0 THEN NULL WHEN j.j = 0 AND n.i % 7 = 0 THEN 500 ELSE 1000 END,
       'demo-encrypted'
FROM demo_clock n
JOIN j ON j.j <= n.i % 2
JOIN demo_clock c ON c.i = 3 * n.i - 2 - j.j
JOIN demo_clock l ON l.i = n.i % 50
JOIN demo_clock x ON x.i = 24 * (1 + n.i % 9)
JOIN demo_clock f ON f.i = -24 * (10 + n.i % 60)
WHERE n.i BETWEEN 1 AND :users AND n.i % 3 = 0;

-- name: demo_verification
-- An email verification code waiting for every fourth user.
-- mode: write
-- params: users
INSERT INTO verification (id, identifier, value, expires_at, created_at, updated_at)
SELECT 'ver_' || n.i, lower('ada.' || n.i || '@example.com'), 'code-' || n.i, e.seconds, c.seconds,
       c.seconds
FROM demo_clock n
JOIN demo_clock c ON c.i = n.i
JOIN demo_clock e ON e.i = n.i - 1
WHERE n.i BETWEEN 1 AND :users AND n.i % 4 = 0;

-- name: demo_orphan_rows
-- Seed 000's reset done by hand with foreign keys off: two users deleted, their session,
-- account, passkey and API key (with credit) left behind.
-- mode: write
-- params: none
INSERT INTO session (id, expires_at, token, created_at, updated_at, ip_address, user_agent, user_id)
SELECT 'ses_gone_' || i, seconds, 'tok_gone_' || i, seconds, seconds, NULL, NULL, 'fp_usr_gone_' || i
FROM demo_clock WHERE i IN (1, 2);

-- name: demo_orphan_accounts
-- The accounts of the two deleted users.
-- mode: write
-- params: none
INSERT INTO account (id, account_id, provider_id, user_id, created_at, updated_at)
SELECT 'acc_gone_' || i, 'gh-gone-' || i, 'github', 'fp_usr_gone_' || i, seconds, seconds
FROM demo_clock WHERE i IN (1, 2);

-- name: demo_orphan_passkey
-- The passkey of one deleted user.
-- mode: write
-- params: none
INSERT INTO passkey (id, name, public_key, user_id, credential_id, counter, device_type, backed_up,
                     created_at)
SELECT 'pk_gone', 'YubiKey', 'demo-public-key', 'fp_usr_gone_1', 'cred_gone', 3, 'singleDevice', 0,
       seconds
FROM demo_clock WHERE i = 1;

-- name: demo_orphan_apikey
-- The API key of one deleted user, still holding credit: what a clean must ask twice about.
-- mode: write
-- params: none
INSERT INTO apikey (id, name, start, prefix, key, user_id, enabled, created_at, updated_at,
                    credit_balance, budget_cap, encrypted_secrets)
SELECT 'key_gone', 'old laptop', 'fp_dead', 'fp_', 'demo-hash-gone', 'fp_usr_gone_2', 1, seconds,
       seconds, 250, 1000, 'demo-encrypted'
FROM demo_clock WHERE i = 2;

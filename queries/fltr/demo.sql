-- The fltr demo and its test fixtures: `adminui demo --product fltr` runs the statements of this
-- file in order, those named demo_data_* on the fltr database, demo_clock* on both and the others
-- on fltr_auth, with :users (how many) and :now (the anchor time, UTC); the same two values give
-- the same rows. Besides ordinary users, teams, API keys and ledgers they hold what seeds 003 and
-- 004 warn of: credit rows whose user is gone (the foreign key production lacks), users whose
-- emails differ only in case, one payment reference on two purchases, balances that don't equal
-- the sum of their ledger, and datasets whose user is not in fltr_auth (one differs only by case).

-- name: demo_clock_table
-- The demo's clock and counter: row i is :now less i hours (a temporary table, gone with the
-- connection), so the statements below need neither date arithmetic nor a series function.
-- mode: write
-- params: none
CREATE TEMPORARY TABLE demo_clock (i INTEGER PRIMARY KEY, at TIMESTAMP NOT NULL);

-- name: demo_clock
-- One row per hour back from :now, enough for every row below.
-- mode: write
-- params: users, now
INSERT INTO demo_clock (i, at)
SELECT i, CAST(:now AS timestamp) - i * INTERVAL '1 hour'
FROM generate_series(0, 6 * CAST(:users AS integer) + 100) AS i;

-- name: demo_users
-- :users users, 'usr_1' ..., user i created 5i hours ago; two more whose emails differ only in
-- case (a lookup by email must show both).
-- mode: write
-- params: users
WITH first_names(k, name) AS (VALUES (0, 'Ada'), (1, 'Alan'), (2, 'Grace'), (3, 'Linus'),
                                     (4, 'Zoë'), (5, 'Tomás'), (6, 'Mei'), (7, 'Radia')),
     last_names(k, name) AS (VALUES (0, 'Lovelace'), (1, 'Turing'), (2, 'Hopper'), (3, 'Muñoz'),
                                    (4, 'Okafor'), (5, 'Liskov'), (6, 'Nilsson'))
INSERT INTO users (id, name, email, email_verified, created_at, updated_at)
SELECT 'usr_' || CAST(n.i AS text), f.name || ' ' || l.name,
       lower(f.name) || '.' || CAST(n.i AS text) || '@example.com', n.i % 4 <> 0, c.at, c.at
FROM demo_clock n
JOIN demo_clock c ON c.i = 5 * n.i
JOIN first_names f ON f.k = n.i % 8
JOIN last_names l ON l.k = n.i % 7
WHERE n.i BETWEEN 1 AND CAST(:users AS integer)
UNION ALL
SELECT 'usr_Twin', 'Ada Twin', 'Ada.Twin@example.com', 1 = 1, at, at FROM demo_clock WHERE i = 30
UNION ALL
SELECT 'usr_twin', 'ada twin', 'ada.twin@example.com', 1 = 0, at, at FROM demo_clock WHERE i = 20;

-- name: demo_accounts
-- Each user signs in with Google or a password (a placeholder, not a hash).
-- mode: write
-- params: none
INSERT INTO accounts (id, user_id, account_id, provider_id, password, created_at, updated_at)
SELECT 'acc_' || id, id, 'g-' || id, CASE WHEN length(id) % 3 = 0 THEN 'credential' ELSE 'google' END,
       CASE WHEN length(id) % 3 = 0 THEN 'demo-placeholder' END, created_at, created_at
FROM users;

-- name: demo_sessions
-- Every third user is signed in.
-- mode: write
-- params: users
INSERT INTO sessions (id, user_id, token, expires_at, ip_address, user_agent, created_at, updated_at)
SELECT 'ses_' || CAST(n.i AS text), 'usr_' || CAST(n.i AS text), 'tok_' || CAST(n.i AS text), now.at,
       '192.0.2.' || CAST(n.i % 250 AS text), 'Mozilla/5.0 (demo)', c.at, c.at
FROM demo_clock n
JOIN demo_clock c ON c.i = 5 * n.i - 1
JOIN demo_clock now ON now.i = 0
WHERE n.i BETWEEN 1 AND CAST(:users AS integer) AND n.i % 3 = 0;

-- name: demo_teams
-- Every 50th user owns a team; users 50k+1 to 50k+5 are its members (their balance names it).
-- mode: write
-- params: users
INSERT INTO teams (id, name, credits, owner_id, created_at, updated_at)
SELECT 'team_' || CAST(n.i AS text), 'Team ' || CAST(n.i / 50 AS text), 500 + n.i,
       'usr_' || CAST(n.i AS text), c.at, c.at
FROM demo_clock n
JOIN demo_clock c ON c.i = 5 * n.i - 2
WHERE n.i BETWEEN 1 AND CAST(:users AS integer) AND n.i % 50 = 0;

-- name: demo_ledger
-- Each user's ledger: a welcome bonus; a purchase for every second user (its Buy Me a Coffee
-- reference in the metadata); usage for every third (three operations of 5 credits).
-- mode: write
-- params: users
WITH kinds(j, type, operation, amount) AS (VALUES (0, 'bonus', 'signup', 10),
                                                  (1, 'purchase', 'bmc', 100),
                                                  (2, 'usage', 'document_upload', -5),
                                                  (3, 'usage', 'mcp_query', -5),
                                                  (4, 'usage', 'embedding', -5))
INSERT INTO credit_transactions (user_id, amount, type, operation, resource_id,
                                 transaction_metadata, created_at)
SELECT 'usr_' || CAST(n.i AS text), k.amount, k.type, k.operation,
       CASE WHEN k.type = 'usage' THEN 'doc_' || CAST(n.i AS text) END,
       CAST(CASE WHEN k.type = 'purchase'
                 THEN '{"reference": "BMC-' || CAST(n.i AS text) || '", "operator": "demo"}'
                 ELSE '{}' END AS json),
       c.at
FROM demo_clock n
JOIN kinds k ON k.j = 0 OR (k.j = 1 AND n.i % 2 = 0) OR (k.j >= 2 AND n.i % 3 = 0)
JOIN demo_clock c ON c.i = 5 * n.i - 1 - k.j
WHERE n.i BETWEEN 1 AND CAST(:users AS integer)
ORDER BY c.at, n.i, k.j;

-- name: demo_duplicate_reference
-- A second purchase with the reference of user 4's (one payment granted twice, seed 001's hazard).
-- mode: write
-- params: none
INSERT INTO credit_transactions (user_id, amount, type, operation, transaction_metadata, created_at)
SELECT 'usr_7', 100, 'purchase', 'bmc',
       CAST('{"reference": "bmc-4 ", "operator": "demo", "notes": "typed again"}' AS json), at
FROM demo_clock WHERE i = 3;

-- name: demo_balances
-- Each user's balance is the sum of their ledger (members of a team name it).
-- mode: write
-- params: none
INSERT INTO user_credits (user_id, credits, total_credits_purchased, team_id, created_at, updated_at)
SELECT t.user_id, SUM(t.amount), SUM(CASE WHEN t.type = 'purchase' THEN t.amount ELSE 0 END),
       MAX(team.id), MIN(t.created_at), MAX(t.created_at)
FROM credit_transactions t
LEFT JOIN teams team
  ON team.owner_id = 'usr_' || CAST(CAST(substr(t.user_id, 5) AS integer) / 50 * 50 AS text)
 AND CAST(substr(t.user_id, 5) AS integer) % 50 BETWEEN 1 AND 5
GROUP BY t.user_id;

-- name: demo_unbalanced
-- Every 97th user's balance is 25 more than their ledger (the ledger health check finds them).
-- mode: write
-- params: none
UPDATE user_credits SET credits = credits + 25
WHERE CAST(substr(user_id, 5) AS integer) % 97 = 0;

-- name: demo_api_keys
-- Every 10th user has an API key with its own credits and limits.
-- mode: write
-- params: none
INSERT INTO api_key_credits (api_key, user_id, team_id, credits, daily_limit, monthly_limit,
                             created_at, updated_at)
SELECT 'ak_' || user_id, user_id, team_id, 50, 100, 1000, created_at, updated_at
FROM user_credits
WHERE CAST(substr(user_id, 5) AS integer) % 10 = 0;

-- name: demo_twin_ledger
-- The case twins each got the welcome bonus (granting to the wrong one is the hazard).
-- mode: write
-- params: none
INSERT INTO credit_transactions (user_id, amount, type, operation, created_at)
SELECT id, 10, 'bonus', 'signup', created_at FROM users WHERE id IN ('usr_Twin', 'usr_twin');

-- name: demo_twin_balances
-- The case twins' balances, equal to their ledgers.
-- mode: write
-- params: none
INSERT INTO user_credits (user_id, credits, total_credits_purchased, created_at, updated_at)
SELECT id, 10, 0, created_at, created_at FROM users WHERE id IN ('usr_Twin', 'usr_twin');

-- name: demo_orphan_balances
-- Seed 003's orphans: balances of users who are gone (the foreign key that would have deleted
-- them with the user was never added); one per 200 users, at least 3. One more balance names a
-- team that is gone.
-- mode: write
-- params: users
INSERT INTO user_credits (user_id, credits, total_credits_purchased, team_id, created_at, updated_at)
SELECT 'usr_gone_' || CAST(i AS text), 40, 0, CASE WHEN i = 1 THEN 'team_gone' END, at, at
FROM demo_clock WHERE i BETWEEN 1 AND 3 + CAST(:users AS integer) / 200;

-- name: demo_orphan_rows
-- The gone users' ledger rows (one naming a team that is gone too), and an API key, a session
-- and a team each.
-- mode: write
-- params: users
INSERT INTO credit_transactions (user_id, team_id, amount, type, operation, created_at)
SELECT 'usr_gone_' || CAST(i AS text), CASE WHEN i = 1 THEN 'team_gone' END, 40, 'bonus',
       'signup', at
FROM demo_clock WHERE i BETWEEN 1 AND 3 + CAST(:users AS integer) / 200;

-- name: demo_orphan_keys
-- An API key of each gone user.
-- mode: write
-- params: users
INSERT INTO api_key_credits (api_key, user_id, credits, created_at, updated_at)
SELECT 'ak_usr_gone_' || CAST(i AS text), 'usr_gone_' || CAST(i AS text), 20, at, at
FROM demo_clock WHERE i BETWEEN 1 AND 3 + CAST(:users AS integer) / 200;

-- name: demo_orphan_sessions
-- A session of each gone user.
-- mode: write
-- params: users
INSERT INTO sessions (id, user_id, token, expires_at, created_at, updated_at)
SELECT 'ses_gone_' || CAST(i AS text), 'usr_gone_' || CAST(i AS text), 'tok_gone_' || CAST(i AS text),
       at, at, at
FROM demo_clock WHERE i BETWEEN 1 AND 3 + CAST(:users AS integer) / 200;

-- name: demo_orphan_team
-- A team whose owner is gone, with an API key of a live user in it.
-- mode: write
-- params: none
INSERT INTO teams (id, name, credits, owner_id, created_at, updated_at)
SELECT 'team_of_gone', 'Team of a gone user', 300, 'usr_gone_1', at, at FROM demo_clock WHERE i = 2;

-- name: demo_data_datasets
-- Every second user's dataset, and datasets of users not in fltr_auth: the gone ones, and
-- 'USR_5', which differs from a real id only in case.
-- mode: write
-- params: users
INSERT INTO datasets (id, user_id, name, description, created_at, updated_at)
SELECT CAST('d0000000-0000-4000-8000-' || CAST(100000000000 + i AS text) AS uuid),
       CASE WHEN i <= CAST(:users AS integer) THEN 'usr_' || CAST(i AS text)
            WHEN i = CAST(:users AS integer) + 1 THEN 'USR_5'
            ELSE 'usr_gone_' || CAST(i - CAST(:users AS integer) - 1 AS text) END,
       'Dataset ' || CAST(i AS text), NULL, at, at
FROM demo_clock
WHERE i BETWEEN 1 AND CAST(:users AS integer) AND i % 2 = 1
   OR i BETWEEN CAST(:users AS integer) + 1 AND CAST(:users AS integer) + 4 + CAST(:users AS integer) / 200;

-- name: demo_data_documents
-- Three documents of each dataset (one in 11 failed, one in 13 still processing), and three
-- whose dataset is gone.
-- mode: write
-- params: users
WITH k(j) AS (VALUES (0), (1), (2))
INSERT INTO documents (id, dataset_id, filename, content, status, created_at, updated_at)
SELECT CAST('e0000000-0000-4000-8000-' || CAST(100000000000 + 3 * i + j AS text) AS uuid),
       CAST('d0000000-0000-4000-8000-' || CAST(100000000000 + i AS text) AS uuid),
       'report-' || CAST(3 * i + j AS text) || '.pdf', 'Text of document ' || CAST(3 * i + j AS text),
       CASE WHEN (3 * i + j) % 11 = 0 THEN 'failed' WHEN (3 * i + j) % 13 = 0 THEN 'processing'
            ELSE 'ready' END,
       at, at
FROM demo_clock JOIN k ON 1 = 1
WHERE i BETWEEN 1 AND CAST(:users AS integer) + 4 + CAST(:users AS integer) / 200
  AND (i % 2 = 1 OR i > CAST(:users AS integer))
   OR i = 6 * CAST(:users AS integer) + 99 AND j < 3;

-- name: demo_data_jobs
-- One processing job per document, in its document's state, and two whose document is gone.
-- mode: write
-- params: none
WITH k(j) AS (VALUES (1), (2))
INSERT INTO processing_jobs (id, document_id, status, created_at, updated_at)
SELECT CAST('f' || substr(CAST(id AS text), 2) AS uuid), id,
       CASE status WHEN 'failed' THEN 'failed' WHEN 'processing' THEN 'running' ELSE 'completed' END,
       created_at, updated_at
FROM documents
UNION ALL
SELECT CAST('f0000000-0000-4000-8000-00000000000' || CAST(j AS text) AS uuid),
       CAST('e0000000-0000-4000-8000-00000000000' || CAST(j AS text) AS uuid), 'queued',
       at, at
FROM demo_clock JOIN k ON 1 = 1 WHERE i = 1;

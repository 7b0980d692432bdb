-- SQLite versions of the statements in demo.sql that need them: no generate_series or interval
-- (the clock counts with a recursive CTE and datetime()), JSON and UUIDs are plain text (no
-- casts: SQLite's CAST to an unknown type makes a number).

-- name: demo_clock
-- One row per hour back from :now, enough for every row below.
-- mode: write
-- params: users, now
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 6 * :users + 100)
INSERT INTO demo_clock (i, at)
SELECT i, datetime(:now, '-' || i || ' hours')
FROM n;

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
       CASE WHEN k.type = 'purchase'
            THEN '{"reference": "BMC-' || CAST(n.i AS text) || '", "operator": "demo"}'
            ELSE '{}' END,
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
       '{"reference": "bmc-4 ", "operator": "demo", "notes": "typed again"}', at
FROM demo_clock WHERE i = 3;

-- name: demo_data_datasets
-- Every second user's dataset, and datasets of users not in fltr_auth: the gone ones, and
-- 'USR_5', which differs from a real id only in case.
-- mode: write
-- params: users
INSERT INTO datasets (id, user_id, name, description, created_at, updated_at)
SELECT 'd0000000-0000-4000-8000-' || CAST(100000000000 + i AS text),
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
SELECT 'e0000000-0000-4000-8000-' || CAST(100000000000 + 3 * i + j AS text),
       'd0000000-0000-4000-8000-' || CAST(100000000000 + i AS text),
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
SELECT 'f' || substr(CAST(id AS text), 2), id,
       CASE status WHEN 'failed' THEN 'failed' WHEN 'processing' THEN 'running' ELSE 'completed' END,
       created_at, updated_at
FROM documents
UNION ALL
SELECT 'f0000000-0000-4000-8000-00000000000' || CAST(j AS text),
       'e0000000-0000-4000-8000-00000000000' || CAST(j AS text), 'queued',
       at, at
FROM demo_clock JOIN k ON 1 = 1 WHERE i = 1;

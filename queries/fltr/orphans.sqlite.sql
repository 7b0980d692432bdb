-- SQLite versions of the statements in orphans.sql that need them: ids arrive as JSON text
-- (json_each), values are bound as the SQLite schema stores them, with no casts. GENERATED with
-- orphans.sql: never edit by hand.

-- name: orphans_preview_sessions_user_id
-- The next page of those sessions rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.expires_at, c.created_at, c.updated_at, c.ip_address, c.user_agent
FROM sessions c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_sessions_user_id
-- Delete those of the given sessions rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM sessions AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_accounts_user_id
-- The next page of those accounts rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.account_id, c.provider_id, c.access_token_expires_at,
       c.refresh_token_expires_at, c.scope, c.created_at, c.updated_at
FROM accounts c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_accounts_user_id
-- Delete those of the given accounts rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM accounts AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_api_key_credits_team_id
-- The next page of those api_key_credits rows, whole (by api_key, after :after).
-- mode: read
-- params: after, limit
SELECT c.api_key, c.user_id, c.team_id, c.credits, c.daily_limit, c.monthly_limit, c.created_at,
       c.updated_at
FROM api_key_credits c
WHERE c.team_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM teams p WHERE p.id = c.team_id)
  AND c.api_key > :after
ORDER BY c.api_key
LIMIT :limit;

-- name: orphans_clean_api_key_credits_team_id
-- Delete those of the given api_key_credits rows that still point at no teams row.
-- mode: write
-- params: ids
DELETE FROM api_key_credits AS c
WHERE c.api_key IN (SELECT value FROM json_each(:ids))
  AND c.team_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM teams p WHERE p.id = c.team_id);

-- name: orphans_preview_api_key_credits_user_id
-- The next page of those api_key_credits rows, whole (by api_key, after :after).
-- mode: read
-- params: after, limit
SELECT c.api_key, c.user_id, c.team_id, c.credits, c.daily_limit, c.monthly_limit, c.created_at,
       c.updated_at
FROM api_key_credits c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.api_key > :after
ORDER BY c.api_key
LIMIT :limit;

-- name: orphans_clean_api_key_credits_user_id
-- Delete those of the given api_key_credits rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM api_key_credits AS c
WHERE c.api_key IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_credit_transactions_team_id
-- The next page of those credit_transactions rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.team_id, c.amount, c.type, c.operation, c.resource_id, c.api_key_id,
       c.transaction_metadata, c.created_at
FROM credit_transactions c
WHERE c.team_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM teams p WHERE p.id = c.team_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_credit_transactions_team_id
-- Set team_id to NULL on those of the given credit_transactions rows whose teams row does not
-- exist.
-- mode: write
-- params: ids
UPDATE credit_transactions AS c SET team_id = NULL
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND c.team_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM teams p WHERE p.id = c.team_id);

-- name: orphans_preview_credit_transactions_user_id
-- The next page of those credit_transactions rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.team_id, c.amount, c.type, c.operation, c.resource_id, c.api_key_id,
       c.transaction_metadata, c.created_at
FROM credit_transactions c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_credit_transactions_user_id
-- Delete those of the given credit_transactions rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM credit_transactions AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_user_credits_team_id
-- The next page of those user_credits rows, whole (by user_id, after :after).
-- mode: read
-- params: after, limit
SELECT c.user_id, c.credits, c.total_credits_purchased, c.team_id, c.created_at, c.updated_at
FROM user_credits c
WHERE c.team_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM teams p WHERE p.id = c.team_id)
  AND c.user_id > :after
ORDER BY c.user_id
LIMIT :limit;

-- name: orphans_clean_user_credits_team_id
-- Set team_id to NULL on those of the given user_credits rows whose teams row does not exist.
-- mode: write
-- params: ids
UPDATE user_credits AS c SET team_id = NULL
WHERE c.user_id IN (SELECT value FROM json_each(:ids))
  AND c.team_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM teams p WHERE p.id = c.team_id);

-- name: orphans_preview_user_credits_user_id
-- The next page of those user_credits rows, whole (by user_id, after :after).
-- mode: read
-- params: after, limit
SELECT c.user_id, c.credits, c.total_credits_purchased, c.team_id, c.created_at, c.updated_at
FROM user_credits c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.user_id > :after
ORDER BY c.user_id
LIMIT :limit;

-- name: orphans_clean_user_credits_user_id
-- Delete those of the given user_credits rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM user_credits AS c
WHERE c.user_id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_teams_owner_id
-- The next page of those teams rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.name, c.credits, c.owner_id, c.created_at, c.updated_at
FROM teams c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.owner_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_teams_owner_id
-- Delete those of the given teams rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM teams AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.owner_id);

-- name: orphans_preview_processing_jobs_document_id
-- The next page of those processing_jobs rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.document_id, c.status, c.created_at, c.updated_at
FROM processing_jobs c
WHERE NOT EXISTS (SELECT 1 FROM documents p WHERE p.id = c.document_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_processing_jobs_document_id
-- Delete those of the given processing_jobs rows that still point at no documents row.
-- mode: write
-- params: ids
DELETE FROM processing_jobs AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM documents p WHERE p.id = c.document_id);

-- name: orphans_preview_documents_dataset_id
-- The next page of those documents rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.dataset_id, c.filename, c.content, c.status, c.created_at, c.updated_at
FROM documents c
WHERE NOT EXISTS (SELECT 1 FROM datasets p WHERE p.id = c.dataset_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_documents_dataset_id
-- Delete those of the given documents rows that still point at no datasets row.
-- mode: write
-- params: ids
DELETE FROM documents AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM datasets p WHERE p.id = c.dataset_id);

-- name: orphans_candidates_datasets_user_id
-- The next page of datasets keys and their user_id (by id, after :after): the users keys the other
-- database must hold (orphans_present_users says which).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id
FROM datasets c
WHERE c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_rows_datasets_user_id
-- The given datasets rows, whole, by id: the orphans of a page, for the screen and the backup.
-- mode: read
-- params: ids
SELECT c.id, c.user_id, c.name, c.description, c.created_at, c.updated_at
FROM datasets c
WHERE c.id IN (SELECT value FROM json_each(:ids))
ORDER BY c.id;

-- name: orphans_parents_datasets_user_id
-- The user_id values of the given datasets rows: the keys of users a clean asks the other database
-- about again, inside its transaction.
-- mode: read
-- params: ids
SELECT DISTINCT c.user_id AS parent
FROM datasets c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND c.user_id IS NOT NULL;

-- name: orphans_clean_datasets_user_id
-- Delete those of the given datasets rows whose user_id is one of :gone, keys of users that the
-- other database was just asked about and does not hold.
-- mode: write
-- params: ids, gone
DELETE FROM datasets AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND c.user_id IN (SELECT value FROM json_each(:gone));

-- name: orphans_present_users
-- Which of the given users keys exist (compared exactly, as the database compares keys: case and
-- every character count).
-- mode: read
-- params: ids
SELECT p.id AS present
FROM users p
WHERE p.id IN (SELECT value FROM json_each(:ids));

-- name: orphans_hold_users
-- Hold users still until the transaction ends, so no row comes or goes while a clean of the other
-- database deletes what points at the keys found missing (SQLite: the write transaction already
-- holds the database's write lock).
-- mode: write
-- params: none
SELECT 1 AS held;

-- name: orphans_reinsert_teams
-- Put one backed-up teams row back, unless a row with its id exists.
-- mode: write
-- params: id, name, credits, owner_id, created_at, updated_at
INSERT INTO teams (id, name, credits, owner_id, created_at, updated_at)
SELECT :id,
       :name,
       :credits,
       :owner_id,
       :created_at,
       :updated_at
WHERE NOT EXISTS (SELECT 1 FROM teams WHERE id = :id);

-- name: orphans_reinsert_user_credits
-- Put one backed-up user_credits row back, unless a row with its user_id exists.
-- mode: write
-- params: user_id, credits, total_credits_purchased, team_id, created_at, updated_at
INSERT INTO user_credits (user_id, credits, total_credits_purchased, team_id, created_at, updated_at)
SELECT :user_id,
       :credits,
       :total_credits_purchased,
       :team_id,
       :created_at,
       :updated_at
WHERE NOT EXISTS (SELECT 1 FROM user_credits WHERE user_id = :user_id);

-- name: orphans_reinsert_credit_transactions
-- Put one backed-up credit_transactions row back, unless a row with its id exists.
-- mode: write
-- params: id, user_id, team_id, amount, type, operation, resource_id, api_key_id, transaction_metadata, created_at
INSERT INTO credit_transactions (id, user_id, team_id, amount, type, operation, resource_id,
  api_key_id, transaction_metadata, created_at)
SELECT :id,
       :user_id,
       :team_id,
       :amount,
       :type,
       :operation,
       :resource_id,
       :api_key_id,
       :transaction_metadata,
       :created_at
WHERE NOT EXISTS (SELECT 1 FROM credit_transactions WHERE id = :id);

-- name: orphans_reinsert_api_key_credits
-- Put one backed-up api_key_credits row back, unless a row with its api_key exists.
-- mode: write
-- params: api_key, user_id, team_id, credits, daily_limit, monthly_limit, created_at, updated_at
INSERT INTO api_key_credits (api_key, user_id, team_id, credits, daily_limit, monthly_limit,
  created_at, updated_at)
SELECT :api_key,
       :user_id,
       :team_id,
       :credits,
       :daily_limit,
       :monthly_limit,
       :created_at,
       :updated_at
WHERE NOT EXISTS (SELECT 1 FROM api_key_credits WHERE api_key = :api_key);

-- name: orphans_reinsert_datasets
-- Put one backed-up datasets row back, unless a row with its id exists.
-- mode: write
-- params: id, user_id, name, description, created_at, updated_at
INSERT INTO datasets (id, user_id, name, description, created_at, updated_at)
SELECT :id,
       :user_id,
       :name,
       :description,
       :created_at,
       :updated_at
WHERE NOT EXISTS (SELECT 1 FROM datasets WHERE id = :id);

-- name: orphans_reinsert_documents
-- Put one backed-up documents row back, unless a row with its id exists.
-- mode: write
-- params: id, dataset_id, filename, content, status, created_at, updated_at
INSERT INTO documents (id, dataset_id, filename, content, status, created_at, updated_at)
SELECT :id,
       :dataset_id,
       :filename,
       :content,
       :status,
       :created_at,
       :updated_at
WHERE NOT EXISTS (SELECT 1 FROM documents WHERE id = :id);

-- name: orphans_reinsert_processing_jobs
-- Put one backed-up processing_jobs row back, unless a row with its id exists.
-- mode: write
-- params: id, document_id, status, created_at, updated_at
INSERT INTO processing_jobs (id, document_id, status, created_at, updated_at)
SELECT :id,
       :document_id,
       :status,
       :created_at,
       :updated_at
WHERE NOT EXISTS (SELECT 1 FROM processing_jobs WHERE id = :id);

-- name: orphans_relink_credit_transactions_team_id
-- Put a backed-up team_id back on one credit_transactions row, if it is still NULL.
-- mode: write
-- params: id, team_id
UPDATE credit_transactions SET team_id = :team_id
WHERE id = :id AND team_id IS NULL;

-- name: orphans_relink_user_credits_team_id
-- Put a backed-up team_id back on one user_credits row, if it is still NULL.
-- mode: write
-- params: user_id, team_id
UPDATE user_credits SET team_id = :team_id
WHERE user_id = :user_id AND team_id IS NULL;

-- name: orphans_dependents_api_key_credits_team_id
-- The api_key_credits rows, whole, whose team_id is one of the given teams keys, by api_key: a
-- delete of those teams rows would change them.
-- mode: read
-- params: ids
SELECT d.api_key, d.user_id, d.team_id, d.credits, d.daily_limit, d.monthly_limit, d.created_at,
       d.updated_at
FROM api_key_credits d
WHERE d.team_id IN (SELECT value FROM json_each(:ids))
ORDER BY d.api_key;

-- name: orphans_cascade_api_key_credits_team_id
-- Delete the given api_key_credits rows whose team_id still points at one of the given teams keys
-- (:parents, the rows the same clean deletes): what ON DELETE CASCADE would do, done explicitly so
-- that it happens whether or not the foreign key exists.
-- mode: write
-- params: ids, parents
DELETE FROM api_key_credits AS d
WHERE d.api_key IN (SELECT value FROM json_each(:ids))
  AND d.team_id IN (SELECT value FROM json_each(:parents));

-- name: orphans_dependents_credit_transactions_team_id
-- The credit_transactions rows, whole, whose team_id is one of the given teams keys, by id: a
-- delete of those teams rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.user_id, d.team_id, d.amount, d.type, d.operation, d.resource_id, d.api_key_id,
       d.transaction_metadata, d.created_at
FROM credit_transactions d
WHERE d.team_id IN (SELECT value FROM json_each(:ids))
ORDER BY d.id;

-- name: orphans_cascade_credit_transactions_team_id
-- Set team_id to NULL on the given credit_transactions rows that still point at one of the given
-- teams keys (:parents, the rows the same clean deletes): what ON DELETE SET NULL would do, done
-- explicitly.
-- mode: write
-- params: ids, parents
UPDATE credit_transactions AS d SET team_id = NULL
WHERE d.id IN (SELECT value FROM json_each(:ids))
  AND d.team_id IN (SELECT value FROM json_each(:parents));

-- name: orphans_dependents_user_credits_team_id
-- The user_credits rows, whole, whose team_id is one of the given teams keys, by user_id: a delete
-- of those teams rows would change them.
-- mode: read
-- params: ids
SELECT d.user_id, d.credits, d.total_credits_purchased, d.team_id, d.created_at, d.updated_at
FROM user_credits d
WHERE d.team_id IN (SELECT value FROM json_each(:ids))
ORDER BY d.user_id;

-- name: orphans_cascade_user_credits_team_id
-- Set team_id to NULL on the given user_credits rows that still point at one of the given teams
-- keys (:parents, the rows the same clean deletes): the database refuses to delete a row they point
-- at (no ON DELETE action).
-- mode: write
-- params: ids, parents
UPDATE user_credits AS d SET team_id = NULL
WHERE d.user_id IN (SELECT value FROM json_each(:ids))
  AND d.team_id IN (SELECT value FROM json_each(:parents));

-- name: orphans_dependents_processing_jobs_document_id
-- The processing_jobs rows, whole, whose document_id is one of the given documents keys, by id: a
-- delete of those documents rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.document_id, d.status, d.created_at, d.updated_at
FROM processing_jobs d
WHERE d.document_id IN (SELECT value FROM json_each(:ids))
ORDER BY d.id;

-- name: orphans_cascade_processing_jobs_document_id
-- Delete the given processing_jobs rows whose document_id still points at one of the given
-- documents keys (:parents, the rows the same clean deletes): what ON DELETE CASCADE would do, done
-- explicitly so that it happens whether or not the foreign key exists.
-- mode: write
-- params: ids, parents
DELETE FROM processing_jobs AS d
WHERE d.id IN (SELECT value FROM json_each(:ids))
  AND d.document_id IN (SELECT value FROM json_each(:parents));

-- name: orphans_dependents_documents_dataset_id
-- The documents rows, whole, whose dataset_id is one of the given datasets keys, by id: a delete of
-- those datasets rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.dataset_id, d.filename, d.content, d.status, d.created_at, d.updated_at
FROM documents d
WHERE d.dataset_id IN (SELECT value FROM json_each(:ids))
ORDER BY d.id;

-- name: orphans_cascade_documents_dataset_id
-- Delete the given documents rows whose dataset_id still points at one of the given datasets keys
-- (:parents, the rows the same clean deletes): what ON DELETE CASCADE would do, done explicitly so
-- that it happens whether or not the foreign key exists.
-- mode: write
-- params: ids, parents
DELETE FROM documents AS d
WHERE d.id IN (SELECT value FROM json_each(:ids))
  AND d.dataset_id IN (SELECT value FROM json_each(:parents));

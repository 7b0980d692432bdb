-- SQLite has none of these settings (the database layer never runs these there); these forms
-- only keep the statements runnable on both dialects.

-- name: connection_search_path
-- Returns no path and no source.
-- mode: read
-- params: none
SELECT NULL AS search_path, NULL AS source;

-- name: transaction_settings
-- Returns :schema, :ms and :plans unchanged.
-- mode: read
-- params: schema, ms, plans
SELECT :schema AS search_path, :ms AS statement_timeout, :plans AS plan_cache_mode;

-- name: transaction_id
-- SQLite has no transaction ids (a commit there can't lose its reply: the file is local).
-- mode: write
-- params: none
SELECT NULL AS xid, NULL AS server_started;

-- name: transaction_status
-- Nothing to look up on SQLite: always NULL (not known).
-- mode: read
-- params: xid
SELECT CASE WHEN :xid IS NULL THEN NULL END AS status, NULL AS server_started;

-- name: write_privileges
-- SQLite has no roles: a file that can't be written refuses at the write itself.
-- mode: read
-- params: inserts, updates
SELECT 1 AS can_write, :inserts AS inserts, :updates AS updates;

-- name: begin_read_only
-- Starts a transaction (SQLite reads are made read-only by PRAGMA query_only; the database
-- layer pipelines only PostgreSQL's).
-- mode: read
-- params: none
BEGIN;

-- name: begin_read_write
-- Starts a transaction that may write.
-- mode: write
-- params: none
BEGIN;

-- name: commit
-- Ends the transaction, keeping what it did.
-- mode: read
-- params: none
COMMIT;

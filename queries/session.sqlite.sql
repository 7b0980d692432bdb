-- SQLite has none of these settings (the database layer never runs this there); this form only
-- keeps the statement runnable on both dialects.

-- name: transaction_settings
-- Returns :ms and :plans unchanged.
-- mode: read
-- params: ms, plans
SELECT :ms AS statement_timeout, :plans AS plan_cache_mode;

-- name: transaction_id
-- SQLite has no transaction ids (a commit there can't lose its reply: the file is local).
-- mode: write
-- params: none
SELECT NULL AS xid;

-- name: transaction_status
-- Nothing to look up on SQLite: always NULL (not known).
-- mode: read
-- params: xid
SELECT CASE WHEN :xid IS NULL THEN NULL END AS status;

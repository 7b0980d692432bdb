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

-- SQLite has none of these settings (the database layer never runs this there); this form only
-- keeps the statement runnable on both dialects.

-- name: transaction_settings
-- Returns :schema, :ms and :plans unchanged.
-- mode: read
-- params: schema, ms, plans
SELECT :schema AS search_path, :ms AS statement_timeout, :plans AS plan_cache_mode;

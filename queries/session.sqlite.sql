-- SQLite has none of these settings (the database layer never runs this there); this form only
-- keeps the statement runnable on both dialects.

-- name: transaction_settings
-- Returns :ms and :plans unchanged.
-- mode: read
-- params: ms, plans
SELECT :ms AS statement_timeout, :plans AS plan_cache_mode;

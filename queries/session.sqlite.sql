-- SQLite has no statement timeout (the database layer never asks for one there); this form only
-- keeps the statement runnable on both dialects.

-- name: set_statement_timeout
-- Returns :ms unchanged (SQLite has no statement timeout).
-- mode: read
-- params: ms
SELECT :ms AS statement_timeout;

-- SQLite versions of health.sql: the catalog is read with PRAGMA table functions.

-- name: live_tables
-- The tables and views of the main schema.
-- mode: read
-- params: none
SELECT name AS table_name
FROM sqlite_master
WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY 1;

-- name: live_foreign_keys
-- The single-column foreign keys the live database declares. SQLite checks them only on
-- connections that turn foreign keys on, so nothing here says the rows obey them.
-- mode: read
-- params: none
SELECT m.name AS child_table, f."from" AS child_column, f."table" AS parent_table,
       COALESCE(f."to", 'id') AS parent_column, NULL AS name, 1 AS validated, 1 AS enabled,
       1 AS plain
FROM sqlite_master m
JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table'
ORDER BY 1, 2;

-- name: live_indexes
-- Every index with its table and its CREATE INDEX text (index advice is for PostgreSQL only).
-- mode: read
-- params: none
SELECT tbl_name AS table_name, name AS index_name, sql AS definition
FROM sqlite_master
WHERE type = 'index' AND sql IS NOT NULL
ORDER BY 1, 2;

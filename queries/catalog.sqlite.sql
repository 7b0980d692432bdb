-- SQLite versions of catalog.sql: sqlite_master and the PRAGMA table functions. SQLite keeps no
-- catalog of CHECK constraints: they are read from each table's CREATE TABLE text (definition).
-- SQLite's own tables (sqlite_*) and D1's (_cf_*, which D1 does not let a query read) are left
-- out. SQLite has no functions, row-level security or policies in its catalog: those statements
-- return no rows.

-- name: catalog_tables
-- The tables (a virtual table, like FTS5's, as one: not the shadow tables that hold its
-- index), each with its CREATE TABLE text.
-- mode: read
-- params: none
SELECT l.name AS table_name, 0 AS row_security, m.sql AS definition
FROM pragma_table_list l
JOIN sqlite_master m ON m.name = l.name AND m.type = 'table'
WHERE l.schema = 'main' AND l.type IN ('table', 'virtual')
  AND l.name NOT LIKE 'sqlite\_%' ESCAPE '\' AND l.name NOT LIKE '\_cf\_%' ESCAPE '\'
ORDER BY 1;

-- name: catalog_columns
-- Every column of those tables in its order: its declared type, whether it may be NULL, and its
-- default as written.
-- mode: read
-- params: none
SELECT m.name AS table_name, c.name AS column_name, c.cid + 1 AS position, c.type AS data_type,
       NOT c."notnull" AS nullable, c.dflt_value AS default_value
FROM sqlite_master m
JOIN pragma_table_info(m.name) c
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
  AND m.name NOT LIKE '\_cf\_%' ESCAPE '\'
ORDER BY 1, 3;

-- name: catalog_constraints
-- Every primary key (p: its columns in key order), unique constraint (u: its columns in order)
-- and foreign key (f: its columns, parent, the parent's columns, NULL for the parent's key, and
-- what deleting a parent row does) of those tables. SQLite checks foreign keys only on
-- connections that ask it to, so each counts as validated and enabled: nothing here says the
-- rows obey them.
-- mode: read
-- params: none
SELECT table_name, NULL AS name, kind, columns, parent_table, parent_columns, on_delete,
       NULL AS definition, 1 AS validated, 1 AS enabled
FROM (
  SELECT m.name AS table_name, 'p' AS kind,
         (SELECT group_concat(name, ',')
          FROM (SELECT c.name FROM pragma_table_info(m.name) c WHERE c.pk > 0 ORDER BY c.pk))
           AS columns,
         NULL AS parent_table, NULL AS parent_columns, NULL AS on_delete
  FROM sqlite_master m
  WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
    AND m.name NOT LIKE '\_cf\_%' ESCAPE '\'
    AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.pk > 0)
  UNION ALL
  SELECT m.name, 'u',
         (SELECT group_concat(name, ',')
          FROM (SELECT i.name FROM pragma_index_info(l.name) i ORDER BY i.seqno)),
         NULL, NULL, NULL
  FROM sqlite_master m
  JOIN pragma_index_list(m.name) l
  WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
    AND m.name NOT LIKE '\_cf\_%' ESCAPE '\' AND l.origin = 'u'
  UNION ALL
  SELECT m.name, 'f',
         (SELECT group_concat("from", ',')
          FROM (SELECT g."from" FROM pragma_foreign_key_list(m.name) g
                WHERE g.id = f.id ORDER BY g.seq)),
         f."table",
         (SELECT group_concat("to", ',')
          FROM (SELECT g."to" FROM pragma_foreign_key_list(m.name) g
                WHERE g.id = f.id ORDER BY g.seq)),
         lower(f.on_delete)
  FROM sqlite_master m
  JOIN pragma_foreign_key_list(m.name) f
  WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
    AND m.name NOT LIKE '\_cf\_%' ESCAPE '\' AND f.seq = 0
)
ORDER BY 1, 3, 4;

-- name: catalog_indexes
-- Every index a CREATE INDEX made (not a key's or a UNIQUE constraint's own): whether it is
-- unique, its plain columns in order (NULL when it has an expression or a WHERE), and its
-- CREATE INDEX text as the definition (the drift check compares it without its name).
-- mode: read
-- params: none
SELECT m.tbl_name AS table_name, m.name AS index_name, l."unique" AS is_unique,
       CASE WHEN l.partial = 0
             AND NOT EXISTS (SELECT 1 FROM pragma_index_info(m.name) i WHERE i.name IS NULL)
            THEN (SELECT group_concat(name, ',')
                  FROM (SELECT i.name FROM pragma_index_info(m.name) i ORDER BY i.seqno)) END
         AS columns,
       m.sql AS definition, 1 AS valid
FROM sqlite_master m
JOIN pragma_index_list(m.tbl_name) l ON l.name = m.name
WHERE m.type = 'index' AND l.origin = 'c' AND m.tbl_name NOT LIKE '\_cf\_%' ESCAPE '\'
ORDER BY 1, 2;

-- name: catalog_triggers
-- Every trigger with its table and its CREATE TRIGGER text (SQLite can't disable one).
-- mode: read
-- params: none
SELECT tbl_name AS table_name, name AS trigger_name, sql AS definition, 1 AS enabled
FROM sqlite_master
WHERE type = 'trigger' AND tbl_name NOT LIKE '\_cf\_%' ESCAPE '\'
ORDER BY 1, 2;

-- name: catalog_functions
-- None: SQLite keeps no functions in its catalog.
-- mode: read
-- params: none
SELECT NULL AS function_name, NULL AS arguments, NULL AS result, NULL AS body
WHERE 0;

-- name: catalog_policies
-- None: SQLite has no row-level security.
-- mode: read
-- params: none
SELECT NULL AS table_name, NULL AS policy_name, NULL AS command, NULL AS permissive,
       NULL AS roles, NULL AS using_expression, NULL AS check_expression
WHERE 0;

-- The live catalog, for the foreign-key and index health views of every pack: what the database
-- declares, compared by the views with what the pack's reference schema expects; and the tables
-- a product is recognised by.

-- name: live_tables
-- The tables and views the other statements name unqualified: those of the search path's
-- schemas (not the catalog's own, which the pinned path puts first) that a bare name resolves
-- to (the first of a name, as to_regclass finds it).
-- mode: read
-- params: none
SELECT c.relname AS table_name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname = ANY (current_schemas(false)) AND n.nspname <> 'pg_catalog'
  AND c.oid = to_regclass(quote_ident(c.relname))
ORDER BY 1;

-- name: live_foreign_keys
-- The single-column foreign keys between the tables the other statements name unqualified (as
-- the search path resolves them: a key to auth.users is not a key to users). Whether each is
-- validated (every existing row was checked), enabled (its triggers fire on ordinary writes:
-- none is disabled or set to fire only in replica mode), and between plain tables (a
-- partition's or an inheriting table's rows are checked by triggers of their own).
-- mode: read
-- params: none
SELECT cl.relname AS child_table, a.attname AS child_column, pcl.relname AS parent_table,
       pa.attname AS parent_column, c.conname AS name, c.convalidated AS validated,
       NOT EXISTS (SELECT 1 FROM pg_trigger t
                   WHERE t.tgconstraint = c.oid AND t.tgenabled NOT IN ('O', 'A')) AS enabled,
       cl.relkind = 'r' AND pcl.relkind = 'r'
         AND NOT EXISTS (SELECT 1 FROM pg_inherits i
                         WHERE i.inhparent IN (cl.oid, pcl.oid)
                            OR i.inhrelid IN (cl.oid, pcl.oid)) AS plain
FROM pg_constraint c
JOIN pg_class cl ON cl.oid = c.conrelid
JOIN pg_class pcl ON pcl.oid = c.confrelid
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
  AND cl.oid = to_regclass(quote_ident(cl.relname))
  AND pcl.oid = to_regclass(quote_ident(pcl.relname))
ORDER BY 1, 2;

-- name: live_indexes
-- Every index of the tables the other statements name unqualified (as the search path resolves
-- them; not current_schema(), which is pg_catalog under the pinned path, and not the catalog's
-- own tables): its table and its definition after USING.
-- mode: read
-- params: none
SELECT t.relname AS table_name, i.relname AS index_name,
       substring(pg_get_indexdef(x.indexrelid) FROM ' USING (.*)$') AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname <> 'pg_catalog'
  AND t.oid = to_regclass(quote_ident(t.relname))
ORDER BY 1, 2;

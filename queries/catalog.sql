-- The live catalog, read whole for the schema drift check (adminui schema check): the tables of
-- the product's schema with their columns, constraints, indexes, triggers, row-level security
-- and policies, and its functions. Each statement reads only what the search path resolves bare
-- names to (the profile's pinned schema), as the product's own statements see it. The same
-- statements read the reference schema into the pack's expected catalog (schema/catalog.json),
-- so both sides are said in PostgreSQL's own words (format_type, pg_get_expr,
-- pg_get_constraintdef, pg_get_indexdef) and compared as text.

-- name: catalog_tables
-- The product's tables (not views, not partitions: their parent is the table), each with
-- whether row-level security is on.
-- mode: read
-- params: none
SELECT c.relname AS table_name, c.relrowsecurity AS row_security, NULL AS definition
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname = ANY (current_schemas(false)) AND n.nspname <> 'pg_catalog'
  AND c.oid = to_regclass(quote_ident(c.relname))
ORDER BY 1;

-- name: catalog_columns
-- Every column of those tables in its order: its type as PostgreSQL writes it, whether it may
-- be NULL, and its default expression.
-- mode: read
-- params: none
SELECT c.relname AS table_name, a.attname AS column_name, a.attnum AS position,
       format_type(a.atttypid, a.atttypmod) AS data_type, NOT a.attnotnull AS nullable,
       pg_get_expr(d.adbin, d.adrelid) AS default_value
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname = ANY (current_schemas(false)) AND n.nspname <> 'pg_catalog'
  AND c.oid = to_regclass(quote_ident(c.relname))
ORDER BY 1, 3;

-- name: catalog_constraints
-- Every primary key (p), unique (u), check (c) and foreign key (f) of those tables: its
-- columns in order, and for a foreign key its parent (schema-qualified when the search path
-- would not find that table by its bare name: a key to auth.users is not a key to users), the
-- parent's columns, what deleting a parent row does, whether it was validated (every existing
-- row checked) and enabled (none of its triggers disabled or set to fire in replica mode).
-- mode: read
-- params: none
SELECT c.relname AS table_name, k.conname AS name, CAST(k.contype AS text) AS kind,
       (SELECT string_agg(a.attname, ',' ORDER BY u.ord)
        FROM unnest(k.conkey) WITH ORDINALITY AS u (num, ord)
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num) AS columns,
       CASE WHEN p.oid IS NULL THEN NULL
            WHEN p.oid = to_regclass(quote_ident(p.relname)) THEN p.relname
            ELSE concat(pn.nspname, '.', p.relname) END AS parent_table,
       (SELECT string_agg(a.attname, ',' ORDER BY u.ord)
        FROM unnest(k.confkey) WITH ORDINALITY AS u (num, ord)
        JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num) AS parent_columns,
       CASE k.confdeltype WHEN 'c' THEN 'cascade' WHEN 'n' THEN 'set null'
            WHEN 'd' THEN 'set default' WHEN 'r' THEN 'restrict' WHEN 'a' THEN 'no action'
       END AS on_delete,
       pg_get_constraintdef(k.oid) AS definition, k.convalidated AS validated,
       NOT EXISTS (SELECT 1 FROM pg_trigger t
                   WHERE t.tgconstraint = k.oid AND t.tgenabled NOT IN ('O', 'A')) AS enabled
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class p ON p.oid = k.confrelid
LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
WHERE k.contype IN ('p', 'u', 'c', 'f')
  AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname = ANY (current_schemas(false)) AND n.nspname <> 'pg_catalog'
  AND c.oid = to_regclass(quote_ident(c.relname))
ORDER BY 1, 2;

-- name: catalog_indexes
-- Every index of those tables that no primary key or unique constraint made: whether it is
-- unique, its plain key columns in order (not its INCLUDE columns; NULL when it has an
-- expression or a WHERE), its definition after USING, and whether it is valid (a failed CREATE
-- INDEX CONCURRENTLY leaves an index that is never used, nor enforces anything).
-- mode: read
-- params: none
SELECT t.relname AS table_name, i.relname AS index_name, x.indisunique AS is_unique,
       CASE WHEN x.indexprs IS NULL AND x.indpred IS NULL AND 0 <> ALL (x.indkey)
            THEN (SELECT string_agg(a.attname, ',' ORDER BY u.ord)
                  FROM unnest(x.indkey) WITH ORDINALITY AS u (num, ord)
                  JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = u.num
                  WHERE u.ord <= x.indnkeyatts) END
         AS columns,
       substring(pg_get_indexdef(x.indexrelid) FROM ' USING (.*)$') AS definition,
       x.indisvalid AS valid
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE t.relkind IN ('r', 'p') AND NOT t.relispartition
  AND n.nspname = ANY (current_schemas(false)) AND n.nspname <> 'pg_catalog'
  AND t.oid = to_regclass(quote_ident(t.relname))
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                  WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid
                    AND k.contype IN ('p', 'u', 'x'))
ORDER BY 1, 2;

-- name: catalog_triggers
-- Every trigger a person made on those tables (not a foreign key's own), with its definition
-- and whether it fires (not DISABLEd).
-- mode: read
-- params: none
SELECT c.relname AS table_name, t.tgname AS trigger_name, pg_get_triggerdef(t.oid) AS definition,
       t.tgenabled <> 'D' AS enabled
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal
  AND n.nspname = ANY (current_schemas(false)) AND n.nspname <> 'pg_catalog'
  AND c.oid = to_regclass(quote_ident(c.relname))
ORDER BY 1, 2;

-- name: catalog_functions
-- The functions of the product's schema with their argument types, result and source text,
-- not those an extension brings (uuid-ossp's are the extension's, wherever it was installed).
-- mode: read
-- params: none
SELECT p.proname AS function_name, pg_get_function_identity_arguments(p.oid) AS arguments,
       pg_get_function_result(p.oid) AS result, p.prosrc AS body
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY (current_schemas(false)) AND n.nspname <> 'pg_catalog'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
                  WHERE d.classid = CAST('pg_proc' AS regclass) AND d.objid = p.oid
                    AND d.deptype = 'e')
ORDER BY 1, 2;

-- name: catalog_policies
-- The row-level security policies of those tables: the command each covers (pg_policy's letter:
-- r, a, w, d or * for all), whether it is permissive, the roles it applies to, and its USING and
-- WITH CHECK expressions.
-- mode: read
-- params: none
SELECT c.relname AS table_name, p.polname AS policy_name, CAST(p.polcmd AS text) AS command,
       p.polpermissive AS permissive,
       (SELECT string_agg(role_name, ',' ORDER BY role_name)
        FROM (SELECT CASE WHEN r.oid = 0 THEN 'public' ELSE pg_get_userbyid(r.oid) END
              FROM unnest(p.polroles) AS r (oid)) AS named (role_name)) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using_expression,
       pg_get_expr(p.polwithcheck, p.polrelid) AS check_expression
FROM pg_policy p
JOIN pg_class c ON c.oid = p.polrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ANY (current_schemas(false)) AND n.nspname <> 'pg_catalog'
  AND c.oid = to_regclass(quote_ident(c.relname))
ORDER BY 1, 2;

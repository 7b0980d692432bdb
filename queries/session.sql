-- Session settings the database layer applies to each connection and transaction it opens.
-- Both statements run before the search path is pinned, under whatever path the session came
-- with: every function, operator and table in them is schema-qualified, so nothing in a schema
-- of that path can answer for them.

-- name: connection_search_path
-- The search_path a new connection starts with, and where it was set (pg_settings.source: user,
-- database, database user, configuration file, ...). Run first on every new connection, before
-- SQLAlchemy's own first statements (`select current_schema()`, unqualified): a path that lists
-- a schema before pg_catalog lets that schema's functions answer for PostgreSQL's own, so the
-- database layer refuses it.
-- mode: read
-- params: none
SELECT s.setting AS search_path, s.source
FROM pg_catalog.pg_settings s
WHERE s.name OPERATOR(pg_catalog.=) 'search_path';

-- name: transaction_settings
-- Run first in every PostgreSQL transaction the app opens; every setting is local to the
-- transaction, so it is safe behind a transaction pooler.
-- search_path: pg_catalog, then the profile's schema :schema (bound, quoted by quote_ident),
-- then pg_temp. Every vetted statement names tables and functions unqualified; pinned, neither a
-- schema named after the role (first in the default "$user", public), nor one a role or
-- database setting lists first, can answer for them. pg_catalog first: no object of the product
-- schema can shadow a built-in function or operator of the same signature (named later, as in
-- "<schema>, pg_catalog", it could). pg_temp last: a temporary table, which a transaction
-- pooler can leave on its server connection from another client, can't shadow a real table
-- (unnamed, pg_temp is searched first). current_schema() is then pg_catalog: a statement that
-- means "the product's schema" asks for the tables the path resolves instead.
-- statement_timeout: :ms milliseconds, or (NULL) whatever the server or role already sets.
-- plan_cache_mode: :plans, or (NULL) the server's. Read transactions ask for
-- force_custom_plan, each statement planned for its actual parameters: the optional filters
-- written `(CAST(:x AS text) IS NULL OR ...)` fold away only in such a plan, while the generic
-- plan PostgreSQL switches a prepared statement to after five runs keeps them and walks an index
-- from its start (an execution page 1M rows deep took ~1 s instead of under 1 ms). Write
-- transactions keep the server's: forced, the foreign keys' own cached statements (ON DELETE SET
-- NULL and CASCADE, run once per deleted row) were planned again for every row, and cleaning
-- 100,000 orphan ideas took 21 s instead of 5.
-- jit: off. The app's statements run for milliseconds to a few seconds, where compiling costs
-- more than it saves: JIT took 120-280 ms of a 450 ms payments summary, and turning it off took
-- the whole orphan scan at 2M executions from 5.1 s to 4.2 s.
-- DateStyle and IntervalStyle: the driver reads times in ISO form; a database or role setting
-- (ALTER DATABASE ... SET DateStyle = 'SQL, DMY', or PGDATESTYLE) made every screen fail.
-- cursor_tuple_fraction: 1. adminui reads every row of a server-side cursor (a streamed
-- backup, an orphan page), so it asks for the plan that returns them all soonest; PostgreSQL's
-- default (0.1) plans a cursor for its first tenth, and an orphan page took 480 ms instead of
-- 57 ms (an index walk of outputs by id, probing ideas per row, instead of one hash anti-join).
-- synchronous_commit: never off, so a write reported committed survives a crash (a database
-- set to off lost a grant the operator was shown); a stronger setting (remote_apply) is kept.
-- mode: read
-- params: schema, ms, plans
SELECT pg_catalog.set_config(
         'search_path',
         pg_catalog.concat('pg_catalog, ', pg_catalog.quote_ident(:schema), ', pg_temp'),
         true),
       pg_catalog.set_config(
         'statement_timeout', COALESCE(:ms, pg_catalog.current_setting('statement_timeout')), true),
       pg_catalog.set_config(
         'plan_cache_mode', COALESCE(:plans, pg_catalog.current_setting('plan_cache_mode')), true),
       pg_catalog.set_config('jit', 'off', true),
       pg_catalog.set_config('cursor_tuple_fraction', '1', true),
       pg_catalog.set_config('DateStyle', 'ISO, MDY', true),
       pg_catalog.set_config('IntervalStyle', 'postgres', true),
       pg_catalog.set_config(
         'synchronous_commit',
         CASE pg_catalog.current_setting('synchronous_commit')
           WHEN 'off' THEN 'on' ELSE pg_catalog.current_setting('synchronous_commit') END,
         true);

-- name: transaction_id
-- The id of the write transaction this runs in (assigning one if it has none yet) and when the
-- server started, recorded in the audit log's intent line before COMMIT: if the reply to COMMIT
-- is lost, transaction_status tells from any other connection whether it committed. (After a
-- crash the server may hand the same id to another transaction: the start time shows that.)
-- mode: write
-- params: none
SELECT CAST(pg_catalog.pg_current_xact_id() AS text) AS xid,
       CAST(pg_catalog.pg_postmaster_start_time() AS text) AS server_started;

-- name: transaction_status
-- Whether a recent transaction committed: 'committed', 'aborted' or 'in progress' (NULL when
-- the id is too old to know), and when the server started. PostgreSQL keeps this for exactly the
-- lost-COMMIT-reply case.
-- mode: read
-- params: xid
SELECT pg_catalog.pg_xact_status(CAST(:xid AS xid8)) AS status,
       CAST(pg_catalog.pg_postmaster_start_time() AS text) AS server_started;

-- name: write_privileges
-- Whether the connected role may make the writes adminui makes (a grant inserts a ledger row,
-- :inserts, and updates a balance, :updates; the tables are the pack manifest's [writes], never
-- typed text): a SELECT-only role on a profile without read_only = true is then treated as
-- read-only from the start, instead of failing each write with "permission denied". NULL when
-- a table is not there (asked before the product is recognised, for every product's tables).
-- mode: read
-- params: inserts, updates
SELECT pg_catalog.has_table_privilege(pg_catalog.to_regclass(CAST(:inserts AS text)), 'insert')
       AND pg_catalog.has_table_privilege(pg_catalog.to_regclass(CAST(:updates AS text)),
                                          'update') AS can_write;

-- Transaction control for the statements the database layer sends in one pipeline (psycopg's):
-- psycopg's own BEGIN and COMMIT would each wait for their reply; these go with the rest, so a
-- read of any number of statements is one round trip to a database far away.

-- name: begin_read_only
-- Starts a read-only transaction: the server refuses any write in it.
-- mode: read
-- params: none
BEGIN READ ONLY;

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

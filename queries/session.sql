-- Session settings the database layer applies to each transaction it opens.

-- name: transaction_settings
-- Run first in every PostgreSQL transaction the app opens; all three settings are local to the
-- transaction, so they are safe behind a transaction pooler.
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
-- mode: read
-- params: ms, plans
SELECT set_config('statement_timeout', COALESCE(:ms, current_setting('statement_timeout')), true),
       set_config('plan_cache_mode', COALESCE(:plans, current_setting('plan_cache_mode')), true),
       set_config('jit', 'off', true);

-- name: transaction_id
-- The id of the write transaction this runs in (assigning one if it has none yet), recorded in
-- the audit log's intent line before COMMIT: if the reply to COMMIT is lost, transaction_status
-- tells from any other connection whether it committed.
-- mode: write
-- params: none
SELECT CAST(pg_current_xact_id() AS text) AS xid;

-- name: transaction_status
-- Whether a recent transaction committed: 'committed', 'aborted' or 'in progress' (NULL when
-- the id is too old to know). PostgreSQL keeps this for exactly the lost-COMMIT-reply case.
-- mode: read
-- params: xid
SELECT pg_xact_status(CAST(:xid AS xid8)) AS status;

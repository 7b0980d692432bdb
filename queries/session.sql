-- Session settings the database layer applies to each transaction it opens.

-- name: set_statement_timeout
-- Limits every statement of the current transaction to :ms milliseconds (PostgreSQL), and has
-- each statement planned for its actual parameters: the optional filters written
-- `(CAST(:x AS text) IS NULL OR ...)` fold away only in such a custom plan, while the generic
-- plan PostgreSQL switches a prepared statement to after five runs keeps them and walks an index
-- from its start (an execution page 1M rows deep took ~1 s instead of under 1 ms). Both settings
-- are local to the transaction, so they are safe behind a transaction pooler.
-- mode: read
-- params: ms
SELECT set_config('statement_timeout', :ms, true),
       set_config('plan_cache_mode', 'force_custom_plan', true);

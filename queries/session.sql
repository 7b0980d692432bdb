-- Session settings the database layer applies to each transaction it opens.

-- name: set_statement_timeout
-- Limits every statement of the current transaction to :ms milliseconds (PostgreSQL). Local to
-- the transaction, so it is safe behind a transaction pooler.
-- mode: read
-- params: ms
SELECT set_config('statement_timeout', :ms, true);

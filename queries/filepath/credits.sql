-- filepath's credit adjustments (seed 000): a user's credit_balance, or one API key's, moved in
-- one write transaction of adminui.ops.adjustments (on SQLite, BEGIN IMMEDIATE: it holds the
-- database's write lock, so what it reads stays so until COMMIT). There is no ledger table:
-- the audit log's line is the record. updated_at is left as the app wrote it (its form is the
-- app's to choose: seconds, milliseconds or ISO text are all in the wild).
--
-- `credits` is the balance when the database holds a whole number, else NULL (SQLite keeps text
-- or a fraction in an INTEGER column): adminui then refuses, showing `stored`, rather than add
-- to a value that is not a balance.

-- name: user_balance
-- One user's email, name and credit balance.
-- mode: read
-- params: user_id
SELECT u.id, u.email, u.name,
       CASE WHEN typeof(u.credit_balance) = 'integer' THEN u.credit_balance END AS credits,
       u.credit_balance AS stored
FROM user u
WHERE u.id = :user_id;

-- name: apikey_balance
-- One of the user's API keys (never its key or encrypted_secrets) and its credit balance.
-- mode: read
-- params: user_id, apikey_id
SELECT k.id, k.name, k.start, k.enabled, k.expires_at, k.budget_cap,
       CASE WHEN typeof(k.credit_balance) = 'integer' THEN k.credit_balance END AS credits,
       k.credit_balance AS stored
FROM apikey k
WHERE k.id = :apikey_id AND k.user_id = :user_id;

-- name: add_user_credits
-- Adds (or, negative, takes) credits on one user's balance, only if it is still :before, the
-- balance the operator was shown (0 rows otherwise, or unless it is a whole number): over D1's
-- API, where no transaction holds a lock between the preview and the write, this is the guard.
-- mode: write
-- params: user_id, credits, before
UPDATE user
SET credit_balance = credit_balance + :credits
WHERE id = :user_id AND typeof(credit_balance) = 'integer' AND credit_balance = :before;

-- name: add_apikey_credits
-- Adds (or, negative, takes) credits on one of the user's API keys, only if its balance is still
-- :before (as add_user_credits): 0 rows otherwise, or unless it is a whole number.
-- mode: write
-- params: user_id, apikey_id, credits, before
UPDATE apikey
SET credit_balance = credit_balance + :credits
WHERE id = :apikey_id AND user_id = :user_id AND typeof(credit_balance) = 'integer'
  AND credit_balance = :before;

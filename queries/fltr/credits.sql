-- fltr's credit grants and refunds (seeds 003, 004): one balance per user in user_credits (or
-- per team in teams), every change a credit_transactions row whose transaction_metadata holds
-- the payment's reference, the operator and the notes. Every write runs inside one transaction
-- of adminui.ops.ledger_credits, which locks before it checks.

-- name: lock_reference
-- Serializes every grant of one reference until the transaction ends, so two operators can't both
-- pass the duplicate check (PostgreSQL advisory lock), keyed by the reference folded as
-- ledger_by_reference compares it. Qualified, the seed cast to bigint (see Idea Expansion's).
-- mode: write
-- params: reference
SELECT pg_catalog.pg_advisory_xact_lock(
         pg_catalog.hashtextextended(lower(trim(CAST(:reference AS text))), CAST(0 AS bigint)));

-- name: ledger_by_reference
-- Every credit_transactions row, of any user, whose metadata reference is the given reference
-- once both are trimmed and lower-cased by the database: the duplicate hazard shown before a
-- grant. A stored one is trimmed of every space and invisible format character (:blanks,
-- adminui.ops.ledger_credits.BLANKS: a reference pasted from an email keeps its no-break spaces
-- and direction marks), text of printable ASCII without that long list. Metadata that is not
-- an object, or has no reference, never matches.
-- mode: read
-- params: reference, blanks
SELECT ct.id, ct.user_id, u.email, ct.team_id, ct.amount, ct.type, ct.created_at,
       ct.transaction_metadata ->> 'reference' AS reference
FROM credit_transactions ct
LEFT JOIN users u ON u.id = ct.user_id
WHERE lower(trim(ct.transaction_metadata ->> 'reference')) = lower(trim(CAST(:reference AS text)))
   OR (ct.transaction_metadata ->> 'reference') ~ '[^ -~]'
      AND lower(btrim(ct.transaction_metadata ->> 'reference', CAST(:blanks AS text)))
          = lower(trim(CAST(:reference AS text)))
ORDER BY ct.created_at, ct.id;

-- name: team_by_name
-- Teams whose name is the given name, ignoring case and surrounding spaces (two teams may share
-- a name: the caller refuses to choose).
-- mode: read
-- params: name
SELECT t.id, t.name, t.credits, t.owner_id
FROM teams t
WHERE lower(trim(t.name)) = lower(trim(CAST(:name AS text)))
ORDER BY t.created_at, t.id;

-- name: team_membership
-- Whether the user owns the team or has it as their balance's team.
-- mode: read
-- params: user_id, team_id
SELECT EXISTS (SELECT 1 FROM teams t WHERE t.id = :team_id AND t.owner_id = :user_id)
       OR EXISTS (SELECT 1 FROM user_credits uc
                  WHERE uc.user_id = :user_id AND uc.team_id = :team_id) AS member;

-- name: create_balance
-- Creates a missing user_credits row with the schema's defaults (no credits).
-- mode: write
-- params: user_id
INSERT INTO user_credits (user_id) VALUES (:user_id)
ON CONFLICT (user_id) DO NOTHING;

-- name: get_balance
-- One user's balance as it is now, for a preview (no row: none yet).
-- mode: read
-- params: user_id
SELECT uc.credits, uc.credits AS stored
FROM user_credits uc
WHERE uc.user_id = :user_id;

-- name: lock_balance
-- One user's balance, locked until the transaction ends.
-- mode: write
-- params: user_id
SELECT uc.credits, uc.credits AS stored, uc.total_credits_purchased
FROM user_credits uc
WHERE uc.user_id = :user_id
FOR UPDATE;

-- name: lock_team
-- One team's balance, locked until the transaction ends.
-- mode: write
-- params: team_id
SELECT t.name, t.credits
FROM teams t
WHERE t.id = :team_id
FOR UPDATE;

-- name: team_balance
-- One team's name and balance.
-- mode: read
-- params: team_id
SELECT t.name, t.credits
FROM teams t
WHERE t.id = :team_id;

-- name: add_credits
-- Adds (or, negative, takes) credits on one user's balance, and `purchased` to the credits they
-- bought; never below zero unless `below_zero` (0 rows when it would go below).
-- mode: write
-- params: user_id, credits, purchased, below_zero, now
UPDATE user_credits
SET credits = credits + :credits,
    total_credits_purchased = total_credits_purchased + :purchased,
    updated_at = CAST(:now AS timestamptz) AT TIME ZONE 'UTC'
WHERE user_id = :user_id AND (CAST(:below_zero AS boolean) OR credits + :credits >= 0);

-- name: add_team_credits
-- Adds (or, negative, takes) credits on one team's balance, never below zero unless `below_zero`.
-- mode: write
-- params: team_id, credits, below_zero, now
UPDATE teams
SET credits = credits + :credits, updated_at = CAST(:now AS timestamptz) AT TIME ZONE 'UTC'
WHERE id = :team_id AND (CAST(:below_zero AS boolean) OR credits + :credits >= 0);

-- name: insert_ledger_row
-- Records a grant or refund in the ledger; returns its id. `metadata` is JSON text made by
-- adminui (json.dumps), never by hand. The columns are timestamps without a zone, in UTC: the
-- time is converted here, whatever TimeZone the session has (PGTZ, a role's setting).
-- mode: write
-- params: user_id, team_id, amount, type, metadata, now
INSERT INTO credit_transactions (user_id, team_id, amount, type, operation,
                                 transaction_metadata, created_at)
VALUES (:user_id, :team_id, :amount, :type, 'adminui', CAST(:metadata AS json),
        CAST(:now AS timestamptz) AT TIME ZONE 'UTC')
RETURNING id;

-- name: get_ledger_row
-- One credit_transactions row with its user's email and its metadata's fields.
-- mode: read
-- params: transaction_id
SELECT ct.id, ct.user_id, u.email, ct.team_id, t.name AS team_name, ct.amount, ct.type,
       ct.operation, ct.created_at,
       ct.transaction_metadata ->> 'reference' AS reference,
       ct.transaction_metadata ->> 'operator' AS operator,
       ct.transaction_metadata ->> 'notes' AS notes,
       ct.transaction_metadata ->> 'account' AS account,
       ct.transaction_metadata ->> 'refund_of' AS refund_of
FROM credit_transactions ct
LEFT JOIN users u ON u.id = ct.user_id
LEFT JOIN teams t ON t.id = ct.team_id
WHERE ct.id = CAST(:transaction_id AS integer);

-- name: lock_ledger_row
-- One credit_transactions row, locked until the transaction ends: two refunds of it queue.
-- mode: write
-- params: transaction_id
SELECT ct.id, ct.user_id, ct.team_id, ct.amount, ct.type,
       ct.transaction_metadata ->> 'reference' AS reference,
       ct.transaction_metadata ->> 'account' AS account
FROM credit_transactions ct
WHERE ct.id = CAST(:transaction_id AS integer)
FOR UPDATE;

-- name: refunds_of
-- The refunds already recorded for one ledger row of one user (metadata refund_of is its id;
-- another user's row naming it never counts, nor blocks its refund).
-- mode: read
-- params: transaction_id, user_id
SELECT ct.id, ct.amount, ct.created_at
FROM credit_transactions ct
WHERE ct.type = 'refund'
  AND ct.user_id = CAST(:user_id AS text)
  AND ct.transaction_metadata ->> 'refund_of' = CAST(CAST(:transaction_id AS integer) AS text)
ORDER BY ct.id;

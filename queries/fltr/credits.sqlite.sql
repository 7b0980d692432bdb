-- SQLite forms of credits.sql. A write transaction there is BEGIN IMMEDIATE, which already holds
-- the database's single write lock: no row locks or advisory locks are needed (or exist). The
-- metadata is JSON text: read only where json_valid says it is JSON (a crafted row matches
-- nothing rather than failing every grant); text is folded by adminui_fold, as PostgreSQL's
-- lower().

-- name: lock_reference
-- SQLite: the write transaction's lock already serializes grants; returns the reference.
-- mode: write
-- params: reference
SELECT :reference AS reference;

-- name: ledger_by_reference
-- Every credit_transactions row, of any user, whose metadata reference is the given reference
-- once both are trimmed and folded: the duplicate hazard shown before a grant (a stored one
-- trimmed of :blanks too, as credits.sql says).
-- mode: read
-- params: reference, blanks
SELECT ct.id, ct.user_id, u.email, ct.team_id, ct.amount, ct.type, ct.created_at, ct.reference
FROM (
  SELECT c.*, CASE WHEN json_valid(c.transaction_metadata)
                   THEN json_extract(c.transaction_metadata, '$.reference') END AS reference
  FROM credit_transactions c
) ct
LEFT JOIN users u ON u.id = ct.user_id
WHERE adminui_fold(trim(ct.reference)) = adminui_fold(trim(:reference))
   OR ct.reference GLOB '*[^ -~]*'
      AND adminui_fold(trim(ct.reference, :blanks)) = adminui_fold(trim(:reference))
ORDER BY ct.created_at, ct.id;

-- name: team_by_name
-- Teams whose name is the given name, ignoring case and surrounding spaces.
-- mode: read
-- params: name
SELECT t.id, t.name, t.credits, t.owner_id
FROM teams t
WHERE adminui_fold(trim(t.name)) = adminui_fold(trim(:name))
ORDER BY t.created_at, t.id;

-- name: get_balance
-- One user's balance as it is now, for a preview (no row: none yet).
-- mode: read
-- params: user_id
SELECT uc.credits, uc.credits AS stored
FROM user_credits uc
WHERE uc.user_id = :user_id;

-- name: lock_balance
-- One user's balance (the write transaction holds the database's write lock).
-- mode: write
-- params: user_id
SELECT uc.credits, uc.credits AS stored, uc.total_credits_purchased
FROM user_credits uc
WHERE uc.user_id = :user_id;

-- name: lock_team
-- One team's balance (the write transaction holds the database's write lock).
-- mode: write
-- params: team_id
SELECT t.name, t.credits
FROM teams t
WHERE t.id = :team_id;

-- name: add_credits
-- Adds (or, negative, takes) credits on one user's balance, never below zero unless `below_zero`.
-- mode: write
-- params: user_id, credits, purchased, below_zero, now
UPDATE user_credits
SET credits = credits + :credits,
    total_credits_purchased = total_credits_purchased + :purchased,
    updated_at = :now
WHERE user_id = :user_id AND (:below_zero OR credits + :credits >= 0);

-- name: add_team_credits
-- Adds (or, negative, takes) credits on one team's balance, never below zero unless `below_zero`.
-- mode: write
-- params: team_id, credits, below_zero, now
UPDATE teams
SET credits = credits + :credits, updated_at = :now
WHERE id = :team_id AND (:below_zero OR credits + :credits >= 0);

-- name: insert_ledger_row
-- Records a grant or refund in the ledger; returns its id.
-- mode: write
-- params: user_id, team_id, amount, type, metadata, now
INSERT INTO credit_transactions (user_id, team_id, amount, type, operation,
                                 transaction_metadata, created_at)
VALUES (:user_id, :team_id, :amount, :type, 'adminui', :metadata, :now)
RETURNING id;

-- name: get_ledger_row
-- One credit_transactions row with its user's email and its metadata's fields.
-- mode: read
-- params: transaction_id
SELECT ct.id, ct.user_id, u.email, ct.team_id, t.name AS team_name, ct.amount, ct.type,
       ct.operation, ct.created_at,
       CASE WHEN json_valid(ct.transaction_metadata)
            THEN json_extract(ct.transaction_metadata, '$.reference') END AS reference,
       CASE WHEN json_valid(ct.transaction_metadata)
            THEN json_extract(ct.transaction_metadata, '$.operator') END AS operator,
       CASE WHEN json_valid(ct.transaction_metadata)
            THEN json_extract(ct.transaction_metadata, '$.notes') END AS notes,
       CASE WHEN json_valid(ct.transaction_metadata)
            THEN json_extract(ct.transaction_metadata, '$.account') END AS account,
       CASE WHEN json_valid(ct.transaction_metadata)
            THEN json_extract(ct.transaction_metadata, '$.refund_of') END AS refund_of
FROM credit_transactions ct
LEFT JOIN users u ON u.id = ct.user_id
LEFT JOIN teams t ON t.id = ct.team_id
WHERE ct.id = :transaction_id;

-- name: lock_ledger_row
-- One credit_transactions row (the write transaction holds the database's write lock).
-- mode: write
-- params: transaction_id
SELECT ct.id, ct.user_id, ct.team_id, ct.amount, ct.type,
       CASE WHEN json_valid(ct.transaction_metadata)
            THEN json_extract(ct.transaction_metadata, '$.reference') END AS reference,
       CASE WHEN json_valid(ct.transaction_metadata)
            THEN json_extract(ct.transaction_metadata, '$.account') END AS account
FROM credit_transactions ct
WHERE ct.id = :transaction_id;

-- name: refunds_of
-- The refunds already recorded for one ledger row of one user (metadata refund_of is its id;
-- another user's row naming it never counts, nor blocks its refund).
-- mode: read
-- params: transaction_id, user_id
SELECT ct.id, ct.amount, ct.created_at
FROM credit_transactions ct
WHERE ct.type = 'refund'
  AND ct.user_id = :user_id
  AND CASE WHEN json_valid(ct.transaction_metadata)
           THEN CAST(json_extract(ct.transaction_metadata, '$.refund_of') AS TEXT) END
      = CAST(CAST(:transaction_id AS INTEGER) AS TEXT)
ORDER BY ct.id;

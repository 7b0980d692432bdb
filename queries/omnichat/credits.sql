-- OmniChat's battery grants and refunds (seed 002): one balance per user in user_battery (a row
-- made when first needed), every change a battery_transactions row whose balance_after is the
-- balance after it and whose metadata (JSON text) holds the payment's reference, the operator
-- and the notes; the rows the app writes for a Stripe payment hold its payment intent instead.
-- Every write runs inside one transaction of adminui.ops.ledger_credits: on SQLite that is
-- BEGIN IMMEDIATE, which holds the database's single write lock, so no row or advisory locks
-- are needed (or exist). D1 runs no function of adminui's: text is compared with SQLite's
-- lower(), which folds ASCII letters only (adminui refuses a reference that is not ASCII).
--
-- A stored reference is compared trimmed of every blank a copy from an email or a hand-run
-- script can carry: spaces, tabs and line breaks, no-break and zero-width spaces, direction
-- marks, the byte-order mark (:blanks, adminui.ops.ledger_credits.BLANKS; the one-argument
-- trim() takes spaces only, and text of printable ASCII, most rows, is compared without the
-- long list), then lower-cased; the typed one is plain already (ops.credits.plain_reference).
-- Metadata is read only when it is JSON (CASE: json_extract() of text that is not JSON is an
-- error, and AND does not promise to stop first); an array or a scalar has no `reference`. Every
-- `reference` key of it counts, a repeated one too: json_extract() reads the first only, so
-- metadata whose text repeats the name or escapes a character is read whole (json_each(), at a
-- cost paid by those rows only; the app's usage rows never name the key and are not parsed).
--
-- Times are read as the instant they name, whatever their form (the instant rule of users.sql:
-- 9 to 13 digits are epoch seconds or, from 12 digits, milliseconds; text from a year on is
-- julianday's); a grant writes its time as the app does, ISO 8601 with milliseconds and Z.

-- name: lock_reference
-- SQLite: the write transaction's lock already serializes grants; returns the reference.
-- mode: write
-- params: reference
SELECT :reference AS reference;

-- name: ledger_by_reference
-- Every battery_transactions row, of any user, that holds the reference, in its metadata or as
-- its Stripe payment intent, compared as the header says: the duplicate hazard shown before a
-- grant. Metadata that is not JSON (JSON5's {reference: 'x'}, a script's text) but names a
-- reference and holds the reference's text is shown too, as a row the operator must look at.
-- mode: read
-- params: reference, blanks
SELECT t.id, t.user_id, u.email, t.amount, t.type, t.created_at, t.stripe_payment_intent_id,
       COALESCE(json_extract(t.meta, '$.reference'), t.stripe_payment_intent_id,
                CASE WHEN t.meta IS NULL THEN t.metadata END) AS reference
FROM (
  SELECT b.*, CASE WHEN json_valid(b.metadata) THEN b.metadata END AS meta
  FROM battery_transactions b
) t
LEFT JOIN users u ON u.id = t.user_id
WHERE lower(trim(t.stripe_payment_intent_id)) = lower(trim(:reference))
   OR (t.stripe_payment_intent_id GLOB '*[^ -~]*'
       AND lower(trim(t.stripe_payment_intent_id, :blanks)) = lower(trim(:reference)))
   OR (instr(t.metadata, 'reference') OR instr(t.metadata, char(92)))  -- can name the key
      AND (lower(trim(json_extract(t.meta, '$.reference'))) = lower(trim(:reference))
           OR (json_extract(t.meta, '$.reference') GLOB '*[^ -~]*'
               AND lower(trim(json_extract(t.meta, '$.reference'), :blanks))
                   = lower(trim(:reference)))
           OR (instr(t.metadata, char(92))  -- escaped, or twice: json_extract read the first
               OR instr(substr(t.metadata, instr(t.metadata, 'reference') + 9), 'reference'))
              AND EXISTS (SELECT 1 FROM json_each(t.meta) j
                          WHERE j.key = 'reference'
                            AND lower(trim(j.value, :blanks)) = lower(trim(:reference))))
   OR instr(t.metadata, 'eference')  -- the cheap tests first: it names a reference,
      AND instr(lower(t.metadata), lower(trim(:reference)))  -- holds this one,
      AND t.meta IS NULL  -- and is not JSON
ORDER BY COALESCE(CASE WHEN t.created_at NOT GLOB '*[^0-9]*' AND length(t.created_at) BETWEEN 9 AND 13
                       THEN julianday(CASE WHEN length(t.created_at) >= 12 THEN t.created_at / 1000.0
                                           ELSE t.created_at + 0 END, 'unixepoch') END,
                  CASE WHEN t.created_at GLOB '[0-9][0-9][0-9][0-9]-*' THEN julianday(t.created_at) END),
         t.id;

-- name: create_balance
-- Creates a missing user_battery row with the schema's defaults (no battery, no allowance).
-- mode: write
-- params: user_id
INSERT INTO user_battery (user_id) VALUES (:user_id)
ON CONFLICT (user_id) DO NOTHING;

-- name: get_balance
-- One user's battery as it is now, for a preview (no row: none yet). `credits` is the balance
-- when it is a whole number (an empty one is the schema's default, 0), else NULL: adminui
-- refuses to move a balance stored as text or a fraction, shown as `stored`.
-- mode: read
-- params: user_id
SELECT CASE WHEN typeof(b.total_balance) IN ('integer', 'null')
            THEN COALESCE(b.total_balance, 0) END AS credits,
       b.total_balance AS stored
FROM user_battery b
WHERE b.user_id = :user_id;

-- name: lock_balance
-- One user's battery, inside the write (the transaction holds the database's write lock).
-- mode: write
-- params: user_id
SELECT CASE WHEN typeof(b.total_balance) IN ('integer', 'null')
            THEN COALESCE(b.total_balance, 0) END AS credits,
       b.total_balance AS stored
FROM user_battery b
WHERE b.user_id = :user_id;

-- name: add_credits
-- Adds (or, negative, takes) battery on one user's balance, never below zero unless
-- `below_zero` (0 rows when it would go below, or when the balance is not a whole number).
-- mode: write
-- params: user_id, credits, below_zero
UPDATE user_battery
SET total_balance = COALESCE(total_balance, 0) + :credits
WHERE user_id = :user_id
  AND typeof(total_balance) IN ('integer', 'null')
  AND (:below_zero OR COALESCE(total_balance, 0) + :credits >= 0);

-- name: insert_ledger_row
-- Records a grant or refund; returns its id (a UUID made by adminui). balance_after is the
-- balance as it stands plus the amount: the row is written before the balance moves, inside the
-- same write lock, and adminui checks the two agree before COMMIT. `metadata` is JSON text made
-- by adminui (json.dumps), never by hand.
-- mode: write
-- params: id, user_id, amount, type, metadata, now
INSERT INTO battery_transactions (id, user_id, type, amount, balance_after, metadata, created_at)
VALUES (:id, :user_id, :type, :amount,
        (SELECT COALESCE(b.total_balance, 0) FROM user_battery b WHERE b.user_id = :user_id)
          + :amount,
        :metadata, strftime('%Y-%m-%dT%H:%M:%fZ', :now))
RETURNING id;

-- name: get_ledger_row
-- One battery_transactions row with its user's email and its metadata's fields (the reference
-- a grant recorded, else the row's Stripe payment intent).
-- mode: read
-- params: transaction_id
SELECT t.id, t.user_id, u.email, t.amount, t.type, t.balance_after, t.stripe_payment_intent_id,
       t.created_at, COALESCE(json_extract(t.meta, '$.reference'), t.stripe_payment_intent_id) AS reference,
       json_extract(t.meta, '$.operator') AS operator, json_extract(t.meta, '$.notes') AS notes,
       json_extract(t.meta, '$.refund_of') AS refund_of
FROM (
  SELECT b.*, CASE WHEN json_valid(b.metadata) THEN b.metadata END AS meta
  FROM battery_transactions b
) t
LEFT JOIN users u ON u.id = t.user_id
WHERE t.id = :transaction_id;

-- name: lock_ledger_row
-- One battery_transactions row, inside the write: two refunds of it queue on the write lock.
-- OmniChat has no teams: the balance is always the user's.
-- mode: write
-- params: transaction_id
SELECT t.id, t.user_id, t.amount, t.type, t.stripe_payment_intent_id,
       COALESCE(json_extract(t.meta, '$.reference'), t.stripe_payment_intent_id) AS reference
FROM (
  SELECT b.*, CASE WHEN json_valid(b.metadata) THEN b.metadata END AS meta
  FROM battery_transactions b
) t
WHERE t.id = :transaction_id;

-- name: refunds_of
-- The refunds already on record for one grant of one user: adminui's (metadata refund_of is
-- the grant's id) and the app's own, which carry the purchase's Stripe payment intent (the
-- grant's own column, or the reference adminui recorded for it) and no refund_of. A refund row
-- of another user never counts (nor blocks the grant's refund), nor an empty payment intent.
-- mode: read
-- params: transaction_id, user_id, payment_intent, reference, blanks
SELECT t.id, t.amount, t.created_at
FROM battery_transactions t
WHERE t.type = 'refund'
  AND t.user_id = :user_id
  AND (json_extract(CASE WHEN json_valid(t.metadata) THEN t.metadata END, '$.refund_of')
         = :transaction_id
       OR trim(t.stripe_payment_intent_id, :blanks) <> ''
          AND lower(trim(t.stripe_payment_intent_id, :blanks))
              IN (lower(trim(:payment_intent, :blanks)), lower(trim(:reference, :blanks))))
ORDER BY t.id;

-- A grant over D1's HTTP API: D1 has no transaction to hold open between the preview and the
-- write, so the write is one batch (atomic: all of it or none) of statements that guard
-- themselves: the ledger row first, written only if the preview still holds; the balance row
-- and its move after it, each only if that row is there. A guard that fails changes nothing;
-- the batch's last statements read back the row and the balance (adminui.ops.ledger_credits).

-- name: grant_if_unchanged
-- The ledger row of a grant, written only if the user's balance is still :before, the one the
-- operator was shown, a whole number (NULL: the user had no balance row, and still has none,
-- not even one made since that holds no whole number), and no row holds
-- the reference, as adminui or the app writes one (the metadata's reference, the Stripe payment
-- intent), but those the operator saw (:seen, a JSON array of their ids). The preview compared
-- every form of the reference; this is what a grant made meanwhile would have written.
-- mode: write
-- params: id, user_id, amount, type, metadata, now, before, seen, reference
INSERT INTO battery_transactions (id, user_id, type, amount, balance_after, metadata, created_at)
SELECT :id, :user_id, :type, :amount, COALESCE(:before, 0) + :amount, :metadata,
       strftime('%Y-%m-%dT%H:%M:%fZ', :now)
WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = :user_id)
  AND CASE WHEN :before IS NULL
           THEN NOT EXISTS (SELECT 1 FROM user_battery b WHERE b.user_id = :user_id)
           ELSE (SELECT CASE WHEN typeof(b.total_balance) IN ('integer', 'null')
                             THEN COALESCE(b.total_balance, 0) END
                 FROM user_battery b WHERE b.user_id = :user_id) = :before END
  AND NOT EXISTS (
    SELECT 1 FROM battery_transactions t
    WHERE t.id NOT IN (SELECT j.value FROM json_each(:seen) j)
      AND (lower(trim(t.stripe_payment_intent_id)) = lower(:reference)
           OR lower(trim(json_extract(CASE WHEN json_valid(t.metadata) THEN t.metadata END,
                                      '$.reference'))) = lower(:reference)));

-- name: create_balance_if_granted
-- The user's balance row, made empty where there is none, only if the batch's ledger row is there.
-- mode: write
-- params: user_id, id
INSERT INTO user_battery (user_id)
SELECT :user_id WHERE EXISTS (SELECT 1 FROM battery_transactions t WHERE t.id = :id)
ON CONFLICT (user_id) DO NOTHING;

-- name: move_balance_if_written
-- The balance moved by the batch's grant or refund (negative), only if its ledger row is there
-- and the balance is a whole number (the row's guard made sure it was).
-- mode: write
-- params: user_id, credits, id
UPDATE user_battery
SET total_balance = COALESCE(total_balance, 0) + :credits
WHERE user_id = :user_id AND typeof(total_balance) IN ('integer', 'null')
  AND EXISTS (SELECT 1 FROM battery_transactions t WHERE t.id = :id);

-- name: refund_if_unchanged
-- The ledger row of a refund over D1's API (first of its batch, as a grant's is): written only
-- if the user's balance is still :before, the one the operator was shown, and no refund of the
-- grant (:refund_of) was written since by adminui (metadata refund_of). The preview looked for
-- the app's own refunds of the payment too.
-- mode: write
-- params: id, user_id, amount, metadata, now, before, refund_of
INSERT INTO battery_transactions (id, user_id, type, amount, balance_after, metadata, created_at)
SELECT :id, :user_id, 'refund', :amount, :before + :amount, :metadata,
       strftime('%Y-%m-%dT%H:%M:%fZ', :now)
WHERE (SELECT CASE WHEN typeof(b.total_balance) IN ('integer', 'null')
                   THEN COALESCE(b.total_balance, 0) END
       FROM user_battery b WHERE b.user_id = :user_id) = :before
  AND NOT EXISTS (
    SELECT 1 FROM battery_transactions t
    WHERE t.type = 'refund' AND t.user_id = :user_id
      AND json_extract(CASE WHEN json_valid(t.metadata) THEN t.metadata END, '$.refund_of')
          = :refund_of);

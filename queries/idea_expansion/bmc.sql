-- Receipts against Buy Me a Coffee's payments (adminui bmc, grant --bmc): which receipts record
-- a payment, and the receipts of a window with the key of the payment each names.
--
-- A payment's key: its receipt reference folded, lower case and trimmed, without spaces, dashes,
-- #, _, :, . or / and without a leading "bmc". So BMC-245731, bmc 245731, BMC#245731 and 245731
-- are all support 245731 (the forms the team's receipts have used), BMC-EXTRA-12 is extra12.

-- name: receipts_for_payment
-- Every receipt, of any user and any status, that records the payment a reference names: its
-- reference has the same key (BMC-245731 for bmc 245731), or is the payment's transaction id
-- (trimmed, any case; '' matches nothing).
-- mode: read
-- params: reference, transaction_id
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.status, pr.created_at
FROM (SELECT r.*, translate(lower(trim(r.bmc_reference)), ' -#_:./', '') AS squeezed
      FROM payment_receipts r) pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE (CASE WHEN pr.squeezed LIKE 'bmc%' THEN substr(pr.squeezed, 4) ELSE pr.squeezed END)
        = (SELECT NULLIF(CASE WHEN k LIKE 'bmc%' THEN substr(k, 4) ELSE k END, '')
           FROM (SELECT translate(lower(trim(CAST(:reference AS text))), ' -#_:./', '') AS k) AS folded)
   OR (CAST(:transaction_id AS text) <> ''
       AND lower(trim(pr.bmc_reference)) = lower(trim(CAST(:transaction_id AS text))))
ORDER BY pr.created_at, pr.id;

-- name: bmc_receipts_since
-- Every receipt created since :since, oldest first, with the key of the payment its reference
-- names and its reference folded (lower(trim(...)), to compare with a transaction id).
-- mode: read
-- params: since
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.status, pr.created_at, pr.notes, pr.verified_by, pr.verified_at,
       CASE WHEN pr.squeezed LIKE 'bmc%' THEN substr(pr.squeezed, 4) ELSE pr.squeezed END
         AS payment_key,
       lower(trim(pr.bmc_reference)) AS folded_reference
FROM (SELECT r.*, translate(lower(trim(r.bmc_reference)), ' -#_:./', '') AS squeezed
      FROM payment_receipts r) pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE pr.created_at >= CAST(:since AS timestamptz)
ORDER BY pr.created_at, pr.id;

-- SQLite versions of bmc.sql: SQLite has no translate(), so the characters are removed one
-- replace() at a time (the same seven).

-- name: receipts_for_payment
-- Every receipt, of any user and any status, that records the payment a reference names: its
-- reference has the same key (BMC-245731 for bmc 245731), or is the payment's transaction id
-- (trimmed, any case; '' matches nothing).
-- mode: read
-- params: reference, transaction_id
SELECT pr.id, pr.user_id, u.email, pr.amount_usd, pr.credits_purchased, pr.bmc_reference,
       pr.status, pr.created_at
FROM (SELECT r.*,
             replace(replace(replace(replace(replace(replace(replace(
               lower(trim(r.bmc_reference)), ' ', ''), '-', ''), '#', ''), '_', ''), ':', ''),
               '.', ''), '/', '') AS squeezed
      FROM payment_receipts r) pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE (CASE WHEN pr.squeezed LIKE 'bmc%' THEN substr(pr.squeezed, 4) ELSE pr.squeezed END)
        = (SELECT NULLIF(CASE WHEN k LIKE 'bmc%' THEN substr(k, 4) ELSE k END, '')
           FROM (SELECT replace(replace(replace(replace(replace(replace(replace(
                lower(trim(:reference)), ' ', ''), '-', ''), '#', ''), '_', ''), ':', ''), '.', ''),
                '/', '') AS k) AS folded)
   OR (:transaction_id <> '' AND lower(trim(pr.bmc_reference)) = lower(trim(:transaction_id)))
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
FROM (SELECT r.*,
             replace(replace(replace(replace(replace(replace(replace(
               lower(trim(r.bmc_reference)), ' ', ''), '-', ''), '#', ''), '_', ''), ':', ''),
               '.', ''), '/', '') AS squeezed
      FROM payment_receipts r) pr
LEFT JOIN users u ON u.id = pr.user_id
WHERE pr.created_at >= :since
ORDER BY pr.created_at, pr.id;

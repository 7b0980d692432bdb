-- What fltr's migration tool recorded: Drizzle's __drizzle_migrations in fltr_auth (seed 003,
-- step 4), compared by the schema drift check with the migrations folder's files.

-- name: applied_migrations
-- Each migration Drizzle recorded as applied, in order: the SHA-256 of its file (hash) and the
-- journal time it was made, in milliseconds (created_at).
-- mode: read
-- params: none
SELECT CAST(id AS text) AS name, hash, id AS version, created_at AS applied_at
FROM __drizzle_migrations
ORDER BY id;

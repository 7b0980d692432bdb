-- What wrangler (and Alchemy, which deploys filepath: seed 000) recorded in D1's own
-- d1_migrations table, compared by the schema drift check with the migrations folder's files.

-- name: applied_migrations
-- Each migration file applied, by its file name, in the order applied.
-- mode: read
-- params: none
SELECT name, NULL AS hash, id AS version, applied_at
FROM d1_migrations
ORDER BY id;

-- What OmniChat's migration script recorded (seed 002: scripts/migrate-simple.sh keeps
-- schema_version), compared by the schema drift check with the migrations folder's files.

-- name: applied_migrations
-- Each migration recorded as applied, by its number (version), with its name, checksum and
-- when (seconds since the epoch).
-- mode: read
-- params: none
SELECT name, checksum AS hash, version, applied_at
FROM schema_version
ORDER BY version;

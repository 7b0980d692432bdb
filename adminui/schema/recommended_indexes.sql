-- Indexes the seed schema lacks and adminui's queries want on PostgreSQL at production size.
-- adminui never creates them (the SaaS app owns the schema); its health view shows each one that
-- is missing. One recommendation per paragraph: "-- why:" lines, then the statements; the last
-- statement is the index looked for (matched on table, method and columns, whatever its name).
-- Figures: bench/README.md and bench/RESULTS.md.

-- why: execution history lists newest first and pages by (started_at, id); without it every page
-- why: sorts the whole table (~270 ms at 1.9M executions), with it a page is under a millisecond.
CREATE INDEX executions_started_at_id ON executions USING btree (started_at DESC, id DESC);

-- why: the user lookup's home screen lists the newest users first (a top-N sort of all users
-- why: without it).
CREATE INDEX users_created_at_id ON users USING btree (created_at DESC, id DESC);

-- why: user search matches any part of an email; without a trigram index each keystroke scans
-- why: users (~0.3 s at 200k users, ~2.7 s at 2M).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);

-- why: user search matches any part of a name (as for emails).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_name_trgm ON users USING gin (lower(name) gin_trgm_ops);

-- why: user search matches any part of a Buy Me a Coffee reference; without it each keystroke
-- why: scans payment_receipts.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX payment_receipts_reference_trgm ON payment_receipts USING gin (lower(bmc_reference) gin_trgm_ops);

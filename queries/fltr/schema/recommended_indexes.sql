-- Indexes fltr's schema lacks and adminui's queries want on PostgreSQL at production size (the
-- indexes of the relations' columns are derived from pack.toml, not listed here). adminui never
-- creates them (the SaaS app owns the schema); its health view shows each one that is missing.
-- One recommendation per paragraph: "-- why:" lines, then the statements; the last statement is
-- the index looked for (matched on table, method and columns, whatever its name).
-- Figures: python -m bench.fltr_lookup.

-- why: the user lookup's home screen lists the newest users first (a top-N sort of all users
-- why: without it).
CREATE INDEX users_created_at_id ON users USING btree (created_at DESC, id DESC);

-- why: user search matches any part of an email; without a trigram index each keystroke scans
-- why: users (~100 ms at 200k users).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);

-- why: user search matches any part of a name (as for emails).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_name_trgm ON users USING gin (lower(name) gin_trgm_ops);

-- why: user search matches any part of a team's name, and lists its members.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX teams_name_trgm ON teams USING gin (lower(name) gin_trgm_ops);

-- why: the ledger lists newest first and pages by (created_at, id); without it every page sorts
-- why: the whole ledger (1.8M rows at 200k users).
CREATE INDEX credit_transactions_created_at_id ON credit_transactions USING btree (created_at DESC, id DESC);

-- why: a grant first looks for its payment's reference in every ledger row's metadata (the
-- why: duplicate check, inside the grant's transaction): without it a scan of the whole ledger.
CREATE INDEX credit_transactions_reference ON credit_transactions USING btree (lower(TRIM(BOTH FROM (transaction_metadata ->> 'reference'::text))));

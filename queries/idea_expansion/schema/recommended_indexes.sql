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

-- why: one user's detail screen counts and lists their executions; without it each is a scan of
-- why: every execution (~250 ms at 2M). Also the foreign key's index (executions.user_id).
CREATE INDEX executions_user_started ON executions USING btree (user_id, started_at DESC, id DESC);

-- why: the failure summary and the failures chart read the failed and partial runs of a window;
-- why: without it the 30-day summary scans every execution (~0.6 s at 2M), with it only failures.
CREATE INDEX executions_failures_started ON executions USING btree (started_at) WHERE (status = ANY (ARRAY['failed'::text, 'partial'::text]));

-- why: stuck runs are the few still 'running'; without it finding them scans every execution.
CREATE INDEX executions_running_started ON executions USING btree (started_at) WHERE (status = 'running'::text);

-- why: a run's detail lists its outputs; without it each opened run scans every output (~120 ms
-- why: at 1M). Also the foreign key's index (outputs.execution_id).
CREATE INDEX outputs_execution_id ON outputs USING btree (execution_id);

-- why: a user's detail counts their outputs (a scan of every output without it). Also the
-- why: foreign key's index (outputs.user_id).
CREATE INDEX outputs_user_id ON outputs USING btree (user_id);

-- why: a user's detail lists their receipts (a scan of every receipt without it). Also the
-- why: foreign key's index (payment_receipts.user_id).
CREATE INDEX payment_receipts_user_id ON payment_receipts USING btree (user_id);

-- why: every grant checks whether its Buy Me a Coffee reference was used before; without it the
-- why: check (twice per grant: preview and write) scans every receipt (~150 ms at 400k).
CREATE INDEX payment_receipts_reference_key ON payment_receipts USING btree (lower(TRIM(BOTH FROM bmc_reference)));

-- why: the payments list shows receipts newest first by keyset pages; without it every page
-- why: sorts the receipts that match (~60 ms at 400k).
CREATE INDEX payment_receipts_created_id ON payment_receipts USING btree (created_at DESC, id DESC);

-- why: deleting an idea makes PostgreSQL set executions.selected_idea_id to NULL (ON DELETE SET
-- why: NULL): without this index it scans all executions once per deleted idea (an orphan clean
-- why: of 20,000 ideas over 200,000 executions ran for over 7 minutes).
CREATE INDEX executions_selected_idea_id ON executions USING btree (selected_idea_id);

-- why: as above, for outputs.idea_id when an idea is deleted.
CREATE INDEX outputs_idea_id ON outputs USING btree (idea_id);

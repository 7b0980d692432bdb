-- Orphan rows and foreign-key health (seeds 003 and 004): rows whose parent row is gone, because
-- a foreign key was lost, never added, or is switched off (SQLite's default).
--
-- A check is named child_table.column and has three statements, orphans_<kind>_<table>_<column>:
--   count    how many orphans (NOT EXISTS anti-joins on the parents' primary keys);
--   preview  one page of them, whole, by id (keyset: id > :after), for the screen and the backup;
--   clean    the action, on the previewed ids that are still orphans only (:ids is an array;
--            SQLite gets it as JSON text): delete the rows, set a dangling SET NULL reference to
--            NULL, or create a user's missing usage_tracking row.
-- orphans_reinsert_<table> and orphans_relink_<table>_<column> put a backup back.
-- orphans_dependents_<table>_<column> are the rows elsewhere, whole, that a delete would change
-- (ON DELETE CASCADE or SET NULL); they join unnest(:ids) so the ids are hashed once (`= ANY(:ids)`
-- on a column without an index compares every row with every id: minutes for 10,000 ids over 2M
-- rows). orphans_cascade_<table>_<column> act on exactly those rows, backed up with the clean.
-- Credentials' secret values are never selected: a credentials backup can't be restored.

-- name: live_foreign_keys
-- The single-column foreign keys between the tables the other statements name unqualified (as
-- the search path resolves them: a key to auth.users is not a key to users). Whether each is
-- validated (every existing row was checked), enabled (its triggers fire on ordinary writes:
-- none is disabled or set to fire only in replica mode), and between plain tables (a
-- partition's or an inheriting table's rows are checked by triggers of their own).
-- mode: read
-- params: none
SELECT cl.relname AS child_table, a.attname AS child_column, pcl.relname AS parent_table,
       pa.attname AS parent_column, c.conname AS name, c.convalidated AS validated,
       NOT EXISTS (SELECT 1 FROM pg_trigger t
                   WHERE t.tgconstraint = c.oid AND t.tgenabled NOT IN ('O', 'A')) AS enabled,
       cl.relkind = 'r' AND pcl.relkind = 'r'
         AND NOT EXISTS (SELECT 1 FROM pg_inherits i
                         WHERE i.inhparent IN (cl.oid, pcl.oid)
                            OR i.inhrelid IN (cl.oid, pcl.oid)) AS plain
FROM pg_constraint c
JOIN pg_class cl ON cl.oid = c.conrelid
JOIN pg_class pcl ON pcl.oid = c.confrelid
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
  AND cl.oid = to_regclass(quote_ident(cl.relname))
  AND pcl.oid = to_regclass(quote_ident(pcl.relname))
ORDER BY 1, 2;

-- name: live_indexes
-- Every index of the tables the other statements name unqualified (as the search path resolves
-- them; not current_schema(), which is pg_catalog under the pinned path, and not the catalog's
-- own tables): its table and its definition after USING.
-- mode: read
-- params: none
SELECT t.relname AS table_name, i.relname AS index_name,
       substring(pg_get_indexdef(x.indexrelid) FROM ' USING (.*)$') AS definition
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname <> 'pg_catalog'
  AND t.oid = to_regclass(quote_ident(t.relname))
ORDER BY 1, 2;

-- name: orphans_count_ideas_user_id
-- How many ideas rows point at a users row that does not exist (user_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM ideas c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_ideas_user_id
-- The next page of those ideas rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.title, c.description, c.bullets, c.external_links, c.status,
       c.priority_score, c.last_evaluated_at, c.times_evaluated, c.created_at, c.updated_at
FROM ideas c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_ideas_user_id
-- Delete those of the given ideas ids that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM ideas AS c
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_count_credentials_user_id
-- How many credentials rows point at a users row that does not exist (user_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM credentials c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_credentials_user_id
-- The next page of those credentials rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.provider, c.is_active, c.validation_status, c.created_at, c.updated_at
FROM credentials c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_credentials_user_id
-- Delete those of the given credentials ids that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM credentials AS c
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_count_executions_user_id
-- How many executions rows point at a users row that does not exist (user_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM executions c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_executions_user_id
-- The next page of those executions rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.selected_idea_id, c.judge_reasoning, c.judge_score, c.format_chosen,
       c.format_reasoning, c.status, c.error_message, c.error_step, c.tokens_used,
       c.duration_seconds, c.started_at, c.completed_at
FROM executions c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_executions_user_id
-- Delete those of the given executions ids that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM executions AS c
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_count_outputs_execution_id
-- How many outputs rows point at a executions row that does not exist (execution_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM outputs c
WHERE NOT EXISTS (SELECT 1 FROM executions p WHERE p.id = c.execution_id);

-- name: orphans_preview_outputs_execution_id
-- The next page of those outputs rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.execution_id, c.user_id, c.idea_id, c.format, c.content, c.published,
       c.publication_url, c.publication_metadata, c.created_at, c.published_at
FROM outputs c
WHERE NOT EXISTS (SELECT 1 FROM executions p WHERE p.id = c.execution_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_outputs_execution_id
-- Delete those of the given outputs ids that still point at no executions row.
-- mode: write
-- params: ids
DELETE FROM outputs AS c
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND NOT EXISTS (SELECT 1 FROM executions p WHERE p.id = c.execution_id);

-- name: orphans_count_outputs_user_id
-- How many outputs rows point at a users row that does not exist (user_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM outputs c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_outputs_user_id
-- The next page of those outputs rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.execution_id, c.user_id, c.idea_id, c.format, c.content, c.published,
       c.publication_url, c.publication_metadata, c.created_at, c.published_at
FROM outputs c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_outputs_user_id
-- Delete those of the given outputs ids that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM outputs AS c
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_count_blog_posts_output_id
-- How many blog_posts rows point at a outputs row that does not exist (output_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM blog_posts c
WHERE c.output_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM outputs p WHERE p.id = c.output_id);

-- name: orphans_preview_blog_posts_output_id
-- The next page of those blog_posts rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.output_id, c.user_id, c.title, c.slug, c.markdown_content, c.html_content,
       c.meta_description, c.tags, c.is_public, c.published_at, c.created_at, c.updated_at
FROM blog_posts c
WHERE c.output_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM outputs p WHERE p.id = c.output_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_blog_posts_output_id
-- Delete those of the given blog_posts ids that still point at no outputs row.
-- mode: write
-- params: ids
DELETE FROM blog_posts AS c
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND c.output_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM outputs p WHERE p.id = c.output_id);

-- name: orphans_count_blog_posts_user_id
-- How many blog_posts rows point at a users row that does not exist (user_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM blog_posts c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_blog_posts_user_id
-- The next page of those blog_posts rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.output_id, c.user_id, c.title, c.slug, c.markdown_content, c.html_content,
       c.meta_description, c.tags, c.is_public, c.published_at, c.created_at, c.updated_at
FROM blog_posts c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_blog_posts_user_id
-- Delete those of the given blog_posts ids that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM blog_posts AS c
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_count_usage_tracking_user_id
-- How many usage_tracking rows point at a users row that does not exist (user_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM usage_tracking c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_usage_tracking_user_id
-- The next page of those usage_tracking rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.free_expansions_remaining, c.paid_credits_remaining,
       c.total_expansions_used, c.total_free_used, c.total_paid_used, c.created_at,
       c.updated_at
FROM usage_tracking c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_usage_tracking_user_id
-- Delete those of the given usage_tracking ids that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM usage_tracking AS c
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_count_payment_receipts_user_id
-- How many payment_receipts rows point at a users row that does not exist (user_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM payment_receipts c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_payment_receipts_user_id
-- The next page of those payment_receipts rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.amount_usd, c.credits_purchased, c.bmc_reference, c.notes, c.verified_by,
       c.status, c.created_at, c.verified_at
FROM payment_receipts c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_payment_receipts_user_id
-- Delete those of the given payment_receipts ids that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM payment_receipts AS c
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_count_executions_selected_idea_id
-- How many executions rows point at a ideas row that does not exist (selected_idea_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM executions c
WHERE c.selected_idea_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ideas p WHERE p.id = c.selected_idea_id);

-- name: orphans_preview_executions_selected_idea_id
-- The next page of those executions rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.selected_idea_id, c.judge_reasoning, c.judge_score, c.format_chosen,
       c.format_reasoning, c.status, c.error_message, c.error_step, c.tokens_used,
       c.duration_seconds, c.started_at, c.completed_at
FROM executions c
WHERE c.selected_idea_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ideas p WHERE p.id = c.selected_idea_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_executions_selected_idea_id
-- Set selected_idea_id to NULL on those of the given executions ids whose ideas row does not exist.
-- mode: write
-- params: ids
UPDATE executions AS c SET selected_idea_id = NULL
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND c.selected_idea_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ideas p WHERE p.id = c.selected_idea_id);

-- name: orphans_count_outputs_idea_id
-- How many outputs rows point at a ideas row that does not exist (idea_id).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM outputs c
WHERE c.idea_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ideas p WHERE p.id = c.idea_id);

-- name: orphans_preview_outputs_idea_id
-- The next page of those outputs rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.execution_id, c.user_id, c.idea_id, c.format, c.content, c.published,
       c.publication_url, c.publication_metadata, c.created_at, c.published_at
FROM outputs c
WHERE c.idea_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ideas p WHERE p.id = c.idea_id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_outputs_idea_id
-- Set idea_id to NULL on those of the given outputs ids whose ideas row does not exist.
-- mode: write
-- params: ids
UPDATE outputs AS c SET idea_id = NULL
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND c.idea_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ideas p WHERE p.id = c.idea_id);

-- name: orphans_count_users_usage_tracking
-- How many users have no usage_tracking row (no credits can be granted or spent).
-- mode: read
-- params: none
SELECT COUNT(*) AS orphans
FROM users c
WHERE NOT EXISTS (SELECT 1 FROM usage_tracking t WHERE t.user_id = c.id);

-- name: orphans_preview_users_usage_tracking
-- The next page of those users (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.email, c.name, c.timezone, c.created_at, c.updated_at
FROM users c
WHERE NOT EXISTS (SELECT 1 FROM usage_tracking t WHERE t.user_id = c.id)
  AND c.id > CAST(:after AS uuid)
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_users_usage_tracking
-- Create the usage_tracking row (schema defaults) for those of the given users who have none.
-- mode: write
-- params: ids
INSERT INTO usage_tracking (user_id)
SELECT c.id
FROM users c
WHERE c.id = ANY(CAST(:ids AS uuid[]))
  AND NOT EXISTS (SELECT 1 FROM usage_tracking t WHERE t.user_id = c.id);

-- name: orphans_reinsert_ideas
-- Put one backed-up ideas row back, unless a row with its id exists.
-- mode: write
-- params: id, user_id, title, description, bullets, external_links, status, priority_score, last_evaluated_at, times_evaluated, created_at, updated_at
INSERT INTO ideas (id, user_id, title, description, bullets, external_links, status,
  priority_score, last_evaluated_at, times_evaluated, created_at, updated_at)
SELECT CAST(:id AS uuid),
       CAST(:user_id AS uuid),
       CAST(:title AS text),
       CAST(:description AS text),
       CAST(:bullets AS jsonb),
       CAST(:external_links AS jsonb),
       CAST(:status AS text),
       CAST(:priority_score AS integer),
       CAST(:last_evaluated_at AS timestamptz),
       CAST(:times_evaluated AS integer),
       CAST(:created_at AS timestamptz),
       CAST(:updated_at AS timestamptz)
WHERE NOT EXISTS (SELECT 1 FROM ideas WHERE id = CAST(:id AS uuid));

-- name: orphans_reinsert_executions
-- Put one backed-up executions row back, unless a row with its id exists.
-- mode: write
-- params: id, user_id, selected_idea_id, judge_reasoning, judge_score, format_chosen, format_reasoning, status, error_message, error_step, tokens_used, duration_seconds, started_at, completed_at
INSERT INTO executions (id, user_id, selected_idea_id, judge_reasoning, judge_score,
  format_chosen, format_reasoning, status, error_message, error_step, tokens_used,
  duration_seconds, started_at, completed_at)
SELECT CAST(:id AS uuid),
       CAST(:user_id AS uuid),
       CAST(:selected_idea_id AS uuid),
       CAST(:judge_reasoning AS text),
       CAST(:judge_score AS integer),
       CAST(:format_chosen AS text),
       CAST(:format_reasoning AS text),
       CAST(:status AS text),
       CAST(:error_message AS text),
       CAST(:error_step AS text),
       CAST(:tokens_used AS integer),
       CAST(:duration_seconds AS integer),
       CAST(:started_at AS timestamptz),
       CAST(:completed_at AS timestamptz)
WHERE NOT EXISTS (SELECT 1 FROM executions WHERE id = CAST(:id AS uuid));

-- name: orphans_reinsert_outputs
-- Put one backed-up outputs row back, unless a row with its id exists.
-- mode: write
-- params: id, execution_id, user_id, idea_id, format, content, published, publication_url, publication_metadata, created_at, published_at
INSERT INTO outputs (id, execution_id, user_id, idea_id, format, content, published,
  publication_url, publication_metadata, created_at, published_at)
SELECT CAST(:id AS uuid),
       CAST(:execution_id AS uuid),
       CAST(:user_id AS uuid),
       CAST(:idea_id AS uuid),
       CAST(:format AS text),
       CAST(:content AS jsonb),
       CAST(:published AS boolean),
       CAST(:publication_url AS text),
       CAST(:publication_metadata AS jsonb),
       CAST(:created_at AS timestamptz),
       CAST(:published_at AS timestamptz)
WHERE NOT EXISTS (SELECT 1 FROM outputs WHERE id = CAST(:id AS uuid));

-- name: orphans_reinsert_blog_posts
-- Put one backed-up blog_posts row back, unless a row with its id exists.
-- mode: write
-- params: id, output_id, user_id, title, slug, markdown_content, html_content, meta_description, tags, is_public, published_at, created_at, updated_at
INSERT INTO blog_posts (id, output_id, user_id, title, slug, markdown_content, html_content,
  meta_description, tags, is_public, published_at, created_at, updated_at)
SELECT CAST(:id AS uuid),
       CAST(:output_id AS uuid),
       CAST(:user_id AS uuid),
       CAST(:title AS text),
       CAST(:slug AS text),
       CAST(:markdown_content AS text),
       CAST(:html_content AS text),
       CAST(:meta_description AS text),
       CASE WHEN CAST(:tags AS jsonb) IS NULL THEN NULL
         ELSE ARRAY(SELECT jsonb_array_elements_text(CAST(:tags AS jsonb))) END,
       CAST(:is_public AS boolean),
       CAST(:published_at AS timestamptz),
       CAST(:created_at AS timestamptz),
       CAST(:updated_at AS timestamptz)
WHERE NOT EXISTS (SELECT 1 FROM blog_posts WHERE id = CAST(:id AS uuid));

-- name: orphans_reinsert_usage_tracking
-- Put one backed-up usage_tracking row back, unless a row with its id exists.
-- mode: write
-- params: id, user_id, free_expansions_remaining, paid_credits_remaining, total_expansions_used, total_free_used, total_paid_used, created_at, updated_at
INSERT INTO usage_tracking (id, user_id, free_expansions_remaining, paid_credits_remaining,
  total_expansions_used, total_free_used, total_paid_used, created_at, updated_at)
SELECT CAST(:id AS uuid),
       CAST(:user_id AS uuid),
       CAST(:free_expansions_remaining AS integer),
       CAST(:paid_credits_remaining AS integer),
       CAST(:total_expansions_used AS integer),
       CAST(:total_free_used AS integer),
       CAST(:total_paid_used AS integer),
       CAST(:created_at AS timestamptz),
       CAST(:updated_at AS timestamptz)
WHERE NOT EXISTS (SELECT 1 FROM usage_tracking WHERE id = CAST(:id AS uuid));

-- name: orphans_reinsert_payment_receipts
-- Put one backed-up payment_receipts row back, unless a row with its id exists.
-- mode: write
-- params: id, user_id, amount_usd, credits_purchased, bmc_reference, notes, verified_by, status, created_at, verified_at
INSERT INTO payment_receipts (id, user_id, amount_usd, credits_purchased, bmc_reference, notes,
  verified_by, status, created_at, verified_at)
SELECT CAST(:id AS uuid),
       CAST(:user_id AS uuid),
       CAST(:amount_usd AS numeric),
       CAST(:credits_purchased AS integer),
       CAST(:bmc_reference AS text),
       CAST(:notes AS text),
       CAST(:verified_by AS text),
       CAST(:status AS text),
       CAST(:created_at AS timestamptz),
       CAST(:verified_at AS timestamptz)
WHERE NOT EXISTS (SELECT 1 FROM payment_receipts WHERE id = CAST(:id AS uuid));

-- name: orphans_relink_executions_selected_idea_id
-- Put a backed-up selected_idea_id back on one executions row, if it is still NULL.
-- mode: write
-- params: id, selected_idea_id
UPDATE executions SET selected_idea_id = CAST(:selected_idea_id AS uuid)
WHERE id = CAST(:id AS uuid) AND selected_idea_id IS NULL;

-- name: orphans_relink_outputs_idea_id
-- Put a backed-up idea_id back on one outputs row, if it is still NULL.
-- mode: write
-- params: id, idea_id
UPDATE outputs SET idea_id = CAST(:idea_id AS uuid)
WHERE id = CAST(:id AS uuid) AND idea_id IS NULL;

-- name: orphans_dependents_executions_selected_idea_id
-- The executions rows, whole, whose selected_idea_id is one of the given ideas ids, by id: a delete of
-- those ideas rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.user_id, d.selected_idea_id, d.judge_reasoning, d.judge_score, d.format_chosen,
       d.format_reasoning, d.status, d.error_message, d.error_step, d.tokens_used,
       d.duration_seconds, d.started_at, d.completed_at
FROM executions d
JOIN unnest(CAST(:ids AS uuid[])) AS given(id) ON d.selected_idea_id = given.id
ORDER BY d.id;

-- name: orphans_dependents_outputs_idea_id
-- The outputs rows, whole, whose idea_id is one of the given ideas ids, by id: a delete of
-- those ideas rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.execution_id, d.user_id, d.idea_id, d.format, d.content, d.published,
       d.publication_url, d.publication_metadata, d.created_at, d.published_at
FROM outputs d
JOIN unnest(CAST(:ids AS uuid[])) AS given(id) ON d.idea_id = given.id
ORDER BY d.id;

-- name: orphans_dependents_outputs_execution_id
-- The outputs rows, whole, whose execution_id is one of the given executions ids, by id: a delete of
-- those executions rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.execution_id, d.user_id, d.idea_id, d.format, d.content, d.published,
       d.publication_url, d.publication_metadata, d.created_at, d.published_at
FROM outputs d
JOIN unnest(CAST(:ids AS uuid[])) AS given(id) ON d.execution_id = given.id
ORDER BY d.id;

-- name: orphans_dependents_blog_posts_output_id
-- The blog_posts rows, whole, whose output_id is one of the given outputs ids, by id: a delete of
-- those outputs rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.output_id, d.user_id, d.title, d.slug, d.markdown_content, d.html_content,
       d.meta_description, d.tags, d.is_public, d.published_at, d.created_at, d.updated_at
FROM blog_posts d
JOIN unnest(CAST(:ids AS uuid[])) AS given(id) ON d.output_id = given.id
ORDER BY d.id;

-- name: orphans_cascade_executions_selected_idea_id
-- Set selected_idea_id to NULL on the given executions rows that still point at one of the given
-- ideas ids
-- (:parents, the rows the same clean deletes): what ON DELETE SET NULL would do, done explicitly.
-- mode: write
-- params: ids, parents
UPDATE executions AS d SET selected_idea_id = NULL
WHERE d.id = ANY(CAST(:ids AS uuid[]))
  AND d.selected_idea_id = ANY(CAST(:parents AS uuid[]));

-- name: orphans_cascade_outputs_idea_id
-- Set idea_id to NULL on the given outputs rows that still point at one of the given ideas ids
-- (:parents, the rows the same clean deletes): what ON DELETE SET NULL would do, done explicitly.
-- mode: write
-- params: ids, parents
UPDATE outputs AS d SET idea_id = NULL
WHERE d.id = ANY(CAST(:ids AS uuid[]))
  AND d.idea_id = ANY(CAST(:parents AS uuid[]));

-- name: orphans_cascade_outputs_execution_id
-- Delete the given outputs rows whose execution_id still points at one of the given executions
-- ids (:parents, the rows the same clean deletes): what ON DELETE CASCADE would do, done
-- explicitly so that it happens whether or not the foreign key exists.
-- mode: write
-- params: ids, parents
DELETE FROM outputs AS d
WHERE d.id = ANY(CAST(:ids AS uuid[]))
  AND d.execution_id = ANY(CAST(:parents AS uuid[]));

-- name: orphans_cascade_blog_posts_output_id
-- Delete the given blog_posts rows whose output_id still points at one of the given outputs ids
-- (:parents, the rows the same clean deletes): what ON DELETE CASCADE would do, done explicitly
-- so that it happens whether or not the foreign key exists.
-- mode: write
-- params: ids, parents
DELETE FROM blog_posts AS d
WHERE d.id = ANY(CAST(:ids AS uuid[]))
  AND d.output_id = ANY(CAST(:parents AS uuid[]));

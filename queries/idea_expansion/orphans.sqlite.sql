-- SQLite versions of the statements in orphans.sql that need them: ids arrive as JSON text
-- (json_each), values are bound as the SQLite schema stores them, with no casts. GENERATED with
-- orphans.sql: never edit by hand.

-- name: orphans_preview_blog_posts_output_id
-- The next page of those blog_posts rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.output_id, c.user_id, c.title, c.slug, c.markdown_content, c.html_content,
       c.meta_description, c.tags, c.is_public, c.published_at, c.created_at, c.updated_at
FROM blog_posts c
WHERE c.output_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM outputs p WHERE p.id = c.output_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_blog_posts_output_id
-- Delete those of the given blog_posts rows that still point at no outputs row.
-- mode: write
-- params: ids
DELETE FROM blog_posts AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND c.output_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM outputs p WHERE p.id = c.output_id);

-- name: orphans_preview_blog_posts_user_id
-- The next page of those blog_posts rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.output_id, c.user_id, c.title, c.slug, c.markdown_content, c.html_content,
       c.meta_description, c.tags, c.is_public, c.published_at, c.created_at, c.updated_at
FROM blog_posts c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_blog_posts_user_id
-- Delete those of the given blog_posts rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM blog_posts AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_outputs_execution_id
-- The next page of those outputs rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.execution_id, c.user_id, c.idea_id, c.format, c.content, c.published,
       c.publication_url, c.publication_metadata, c.created_at, c.published_at
FROM outputs c
WHERE NOT EXISTS (SELECT 1 FROM executions p WHERE p.id = c.execution_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_outputs_execution_id
-- Delete those of the given outputs rows that still point at no executions row.
-- mode: write
-- params: ids
DELETE FROM outputs AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM executions p WHERE p.id = c.execution_id);

-- name: orphans_preview_outputs_user_id
-- The next page of those outputs rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.execution_id, c.user_id, c.idea_id, c.format, c.content, c.published,
       c.publication_url, c.publication_metadata, c.created_at, c.published_at
FROM outputs c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_outputs_user_id
-- Delete those of the given outputs rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM outputs AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_outputs_idea_id
-- The next page of those outputs rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.execution_id, c.user_id, c.idea_id, c.format, c.content, c.published,
       c.publication_url, c.publication_metadata, c.created_at, c.published_at
FROM outputs c
WHERE c.idea_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ideas p WHERE p.id = c.idea_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_outputs_idea_id
-- Set idea_id to NULL on those of the given outputs rows whose ideas row does not exist.
-- mode: write
-- params: ids
UPDATE outputs AS c SET idea_id = NULL
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND c.idea_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ideas p WHERE p.id = c.idea_id);

-- name: orphans_preview_executions_user_id
-- The next page of those executions rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.selected_idea_id, c.judge_reasoning, c.judge_score, c.format_chosen,
       c.format_reasoning, c.status, c.error_message, c.error_step, c.tokens_used,
       c.duration_seconds, c.started_at, c.completed_at
FROM executions c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_executions_user_id
-- Delete those of the given executions rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM executions AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

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
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_executions_selected_idea_id
-- Set selected_idea_id to NULL on those of the given executions rows whose ideas row does not
-- exist.
-- mode: write
-- params: ids
UPDATE executions AS c SET selected_idea_id = NULL
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND c.selected_idea_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM ideas p WHERE p.id = c.selected_idea_id);

-- name: orphans_preview_ideas_user_id
-- The next page of those ideas rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.title, c.description, c.bullets, c.external_links, c.status,
       c.priority_score, c.last_evaluated_at, c.times_evaluated, c.created_at, c.updated_at
FROM ideas c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_ideas_user_id
-- Delete those of the given ideas rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM ideas AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_credentials_user_id
-- The next page of those credentials rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.provider, c.is_active, c.validation_status, c.created_at, c.updated_at
FROM credentials c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_credentials_user_id
-- Delete those of the given credentials rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM credentials AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_usage_tracking_user_id
-- The next page of those usage_tracking rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.free_expansions_remaining, c.paid_credits_remaining,
       c.total_expansions_used, c.total_free_used, c.total_paid_used, c.created_at, c.updated_at
FROM usage_tracking c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_usage_tracking_user_id
-- Delete those of the given usage_tracking rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM usage_tracking AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_payment_receipts_user_id
-- The next page of those payment_receipts rows, whole (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.user_id, c.amount_usd, c.credits_purchased, c.bmc_reference, c.notes, c.verified_by,
       c.status, c.created_at, c.verified_at
FROM payment_receipts c
WHERE NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_payment_receipts_user_id
-- Delete those of the given payment_receipts rows that still point at no users row.
-- mode: write
-- params: ids
DELETE FROM payment_receipts AS c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM users p WHERE p.id = c.user_id);

-- name: orphans_preview_users_usage_tracking
-- The next page of those users (by id, after :after).
-- mode: read
-- params: after, limit
SELECT c.id, c.email, c.name, c.timezone, c.created_at, c.updated_at
FROM users c
WHERE NOT EXISTS (SELECT 1 FROM usage_tracking t WHERE t.user_id = c.id)
  AND c.id > :after
ORDER BY c.id
LIMIT :limit;

-- name: orphans_clean_users_usage_tracking
-- Create the usage_tracking row (schema defaults) for those of the given users who have none.
-- mode: write
-- params: ids
INSERT INTO usage_tracking (user_id)
SELECT c.id
FROM users c
WHERE c.id IN (SELECT value FROM json_each(:ids))
  AND NOT EXISTS (SELECT 1 FROM usage_tracking t WHERE t.user_id = c.id);

-- name: orphans_reinsert_ideas
-- Put one backed-up ideas row back, unless a row with its id exists.
-- mode: write
-- params: id, user_id, title, description, bullets, external_links, status, priority_score, last_evaluated_at, times_evaluated, created_at, updated_at
INSERT INTO ideas (id, user_id, title, description, bullets, external_links, status, priority_score,
  last_evaluated_at, times_evaluated, created_at, updated_at)
SELECT :id,
       :user_id,
       :title,
       :description,
       :bullets,
       :external_links,
       :status,
       :priority_score,
       :last_evaluated_at,
       :times_evaluated,
       :created_at,
       :updated_at
WHERE NOT EXISTS (SELECT 1 FROM ideas WHERE id = :id);

-- name: orphans_reinsert_executions
-- Put one backed-up executions row back, unless a row with its id exists.
-- mode: write
-- params: id, user_id, selected_idea_id, judge_reasoning, judge_score, format_chosen, format_reasoning, status, error_message, error_step, tokens_used, duration_seconds, started_at, completed_at
INSERT INTO executions (id, user_id, selected_idea_id, judge_reasoning, judge_score, format_chosen,
  format_reasoning, status, error_message, error_step, tokens_used, duration_seconds, started_at,
  completed_at)
SELECT :id,
       :user_id,
       :selected_idea_id,
       :judge_reasoning,
       :judge_score,
       :format_chosen,
       :format_reasoning,
       :status,
       :error_message,
       :error_step,
       :tokens_used,
       :duration_seconds,
       :started_at,
       :completed_at
WHERE NOT EXISTS (SELECT 1 FROM executions WHERE id = :id);

-- name: orphans_reinsert_outputs
-- Put one backed-up outputs row back, unless a row with its id exists.
-- mode: write
-- params: id, execution_id, user_id, idea_id, format, content, published, publication_url, publication_metadata, created_at, published_at
INSERT INTO outputs (id, execution_id, user_id, idea_id, format, content, published,
  publication_url, publication_metadata, created_at, published_at)
SELECT :id,
       :execution_id,
       :user_id,
       :idea_id,
       :format,
       :content,
       :published,
       :publication_url,
       :publication_metadata,
       :created_at,
       :published_at
WHERE NOT EXISTS (SELECT 1 FROM outputs WHERE id = :id);

-- name: orphans_reinsert_blog_posts
-- Put one backed-up blog_posts row back, unless a row with its id exists.
-- mode: write
-- params: id, output_id, user_id, title, slug, markdown_content, html_content, meta_description, tags, is_public, published_at, created_at, updated_at
INSERT INTO blog_posts (id, output_id, user_id, title, slug, markdown_content, html_content,
  meta_description, tags, is_public, published_at, created_at, updated_at)
SELECT :id,
       :output_id,
       :user_id,
       :title,
       :slug,
       :markdown_content,
       :html_content,
       :meta_description,
       :tags,
       :is_public,
       :published_at,
       :created_at,
       :updated_at
WHERE NOT EXISTS (SELECT 1 FROM blog_posts WHERE id = :id);

-- name: orphans_reinsert_usage_tracking
-- Put one backed-up usage_tracking row back, unless a row with its id exists.
-- mode: write
-- params: id, user_id, free_expansions_remaining, paid_credits_remaining, total_expansions_used, total_free_used, total_paid_used, created_at, updated_at
INSERT INTO usage_tracking (id, user_id, free_expansions_remaining, paid_credits_remaining,
  total_expansions_used, total_free_used, total_paid_used, created_at, updated_at)
SELECT :id,
       :user_id,
       :free_expansions_remaining,
       :paid_credits_remaining,
       :total_expansions_used,
       :total_free_used,
       :total_paid_used,
       :created_at,
       :updated_at
WHERE NOT EXISTS (SELECT 1 FROM usage_tracking WHERE id = :id);

-- name: orphans_reinsert_payment_receipts
-- Put one backed-up payment_receipts row back, unless a row with its id exists.
-- mode: write
-- params: id, user_id, amount_usd, credits_purchased, bmc_reference, notes, verified_by, status, created_at, verified_at
INSERT INTO payment_receipts (id, user_id, amount_usd, credits_purchased, bmc_reference, notes,
  verified_by, status, created_at, verified_at)
SELECT :id,
       :user_id,
       :amount_usd,
       :credits_purchased,
       :bmc_reference,
       :notes,
       :verified_by,
       :status,
       :created_at,
       :verified_at
WHERE NOT EXISTS (SELECT 1 FROM payment_receipts WHERE id = :id);

-- name: orphans_relink_outputs_idea_id
-- Put a backed-up idea_id back on one outputs row, if it is still NULL.
-- mode: write
-- params: id, idea_id
UPDATE outputs SET idea_id = :idea_id
WHERE id = :id AND idea_id IS NULL;

-- name: orphans_relink_executions_selected_idea_id
-- Put a backed-up selected_idea_id back on one executions row, if it is still NULL.
-- mode: write
-- params: id, selected_idea_id
UPDATE executions SET selected_idea_id = :selected_idea_id
WHERE id = :id AND selected_idea_id IS NULL;

-- name: orphans_dependents_blog_posts_output_id
-- The blog_posts rows, whole, whose output_id is one of the given outputs keys, by id: a delete of
-- those outputs rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.output_id, d.user_id, d.title, d.slug, d.markdown_content, d.html_content,
       d.meta_description, d.tags, d.is_public, d.published_at, d.created_at, d.updated_at
FROM blog_posts d
WHERE d.output_id IN (SELECT value FROM json_each(:ids))
ORDER BY d.id;

-- name: orphans_cascade_blog_posts_output_id
-- Delete the given blog_posts rows whose output_id still points at one of the given outputs keys
-- (:parents, the rows the same clean deletes): what ON DELETE CASCADE would do, done explicitly so
-- that it happens whether or not the foreign key exists.
-- mode: write
-- params: ids, parents
DELETE FROM blog_posts AS d
WHERE d.id IN (SELECT value FROM json_each(:ids))
  AND d.output_id IN (SELECT value FROM json_each(:parents));

-- name: orphans_dependents_outputs_execution_id
-- The outputs rows, whole, whose execution_id is one of the given executions keys, by id: a delete
-- of those executions rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.execution_id, d.user_id, d.idea_id, d.format, d.content, d.published,
       d.publication_url, d.publication_metadata, d.created_at, d.published_at
FROM outputs d
WHERE d.execution_id IN (SELECT value FROM json_each(:ids))
ORDER BY d.id;

-- name: orphans_cascade_outputs_execution_id
-- Delete the given outputs rows whose execution_id still points at one of the given executions keys
-- (:parents, the rows the same clean deletes): what ON DELETE CASCADE would do, done explicitly so
-- that it happens whether or not the foreign key exists.
-- mode: write
-- params: ids, parents
DELETE FROM outputs AS d
WHERE d.id IN (SELECT value FROM json_each(:ids))
  AND d.execution_id IN (SELECT value FROM json_each(:parents));

-- name: orphans_dependents_outputs_idea_id
-- The outputs rows, whole, whose idea_id is one of the given ideas keys, by id: a delete of those
-- ideas rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.execution_id, d.user_id, d.idea_id, d.format, d.content, d.published,
       d.publication_url, d.publication_metadata, d.created_at, d.published_at
FROM outputs d
WHERE d.idea_id IN (SELECT value FROM json_each(:ids))
ORDER BY d.id;

-- name: orphans_cascade_outputs_idea_id
-- Set idea_id to NULL on the given outputs rows that still point at one of the given ideas keys
-- (:parents, the rows the same clean deletes): what ON DELETE SET NULL would do, done explicitly.
-- mode: write
-- params: ids, parents
UPDATE outputs AS d SET idea_id = NULL
WHERE d.id IN (SELECT value FROM json_each(:ids))
  AND d.idea_id IN (SELECT value FROM json_each(:parents));

-- name: orphans_dependents_executions_selected_idea_id
-- The executions rows, whole, whose selected_idea_id is one of the given ideas keys, by id: a
-- delete of those ideas rows would change them.
-- mode: read
-- params: ids
SELECT d.id, d.user_id, d.selected_idea_id, d.judge_reasoning, d.judge_score, d.format_chosen,
       d.format_reasoning, d.status, d.error_message, d.error_step, d.tokens_used,
       d.duration_seconds, d.started_at, d.completed_at
FROM executions d
WHERE d.selected_idea_id IN (SELECT value FROM json_each(:ids))
ORDER BY d.id;

-- name: orphans_cascade_executions_selected_idea_id
-- Set selected_idea_id to NULL on the given executions rows that still point at one of the given
-- ideas keys (:parents, the rows the same clean deletes): what ON DELETE SET NULL would do, done
-- explicitly.
-- mode: write
-- params: ids, parents
UPDATE executions AS d SET selected_idea_id = NULL
WHERE d.id IN (SELECT value FROM json_each(:ids))
  AND d.selected_idea_id IN (SELECT value FROM json_each(:parents));

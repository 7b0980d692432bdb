-- The embedded demo database and test fixtures: rows inserted by `adminui demo`.

-- name: insert_user
-- Adds one user (the schema's trigger gives them a usage_tracking row).
-- mode: write
-- params: id, email, name, timezone, created_at
INSERT INTO users (id, email, name, timezone, created_at, updated_at)
VALUES (:id, :email, :name, :timezone, :created_at, :created_at);

-- name: set_usage
-- Sets one user's credit balances and counters.
-- mode: write
-- params: user_id, free, paid, used, free_used, paid_used
UPDATE usage_tracking
SET free_expansions_remaining = :free, paid_credits_remaining = :paid,
    total_expansions_used = :used, total_free_used = :free_used, total_paid_used = :paid_used
WHERE user_id = :user_id;

-- name: delete_usage
-- Removes one user's usage_tracking row (the demo's "user missing usage_tracking").
-- mode: write
-- params: user_id
DELETE FROM usage_tracking WHERE user_id = :user_id;

-- name: insert_idea
-- Adds one idea.
-- mode: write
-- params: id, user_id, title, description, status, priority_score, created_at
INSERT INTO ideas (id, user_id, title, description, status, priority_score, created_at, updated_at)
VALUES (:id, :user_id, :title, :description, :status, :priority_score, :created_at, :created_at);

-- name: insert_execution
-- Adds one execution.
-- mode: write
-- params: id, user_id, selected_idea_id, judge_score, format_chosen, status, error_message, error_step, tokens_used, duration_seconds, started_at, completed_at
INSERT INTO executions (id, user_id, selected_idea_id, judge_score, format_chosen, status,
                        error_message, error_step, tokens_used, duration_seconds, started_at,
                        completed_at)
VALUES (:id, :user_id, :selected_idea_id, :judge_score, :format_chosen, :status, :error_message,
        :error_step, :tokens_used, :duration_seconds, :started_at, :completed_at);

-- name: insert_output
-- Adds one output of an execution.
-- mode: write
-- params: id, execution_id, user_id, idea_id, format, content, published, publication_url, created_at
INSERT INTO outputs (id, execution_id, user_id, idea_id, format, content, published,
                     publication_url, created_at)
VALUES (:id, :execution_id, :user_id, :idea_id, :format, CAST(:content AS jsonb), :published,
        :publication_url, :created_at);

-- name: insert_blog_post
-- Adds one blog post for a blog_post output.
-- mode: write
-- params: id, output_id, user_id, title, slug, markdown_content, html_content, created_at
INSERT INTO blog_posts (id, output_id, user_id, title, slug, markdown_content, html_content,
                        created_at, updated_at)
VALUES (:id, :output_id, :user_id, :title, :slug, :markdown_content, :html_content, :created_at,
        :created_at);

-- name: insert_credential
-- Adds one credential (a made-up placeholder in place of an encrypted key).
-- mode: write
-- params: id, user_id, provider, encrypted_value, is_active, validation_status, created_at
INSERT INTO credentials (id, user_id, provider, encrypted_value, is_active, validation_status,
                         created_at, updated_at)
VALUES (:id, :user_id, :provider, :encrypted_value, :is_active, :validation_status, :created_at,
        :created_at);

-- name: insert_receipt
-- Adds one payment receipt.
-- mode: write
-- params: id, user_id, amount_usd, credits_purchased, bmc_reference, notes, verified_by, status, created_at, verified_at
INSERT INTO payment_receipts (id, user_id, amount_usd, credits_purchased, bmc_reference, notes,
                              verified_by, status, created_at, verified_at)
VALUES (:id, :user_id, CAST(:amount_usd AS numeric), :credits_purchased, :bmc_reference, :notes,
        :verified_by, :status, :created_at, :verified_at);

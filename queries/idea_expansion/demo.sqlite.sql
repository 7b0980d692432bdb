-- SQLite forms of demo.sql: no jsonb type.

-- name: insert_output
-- Adds one output of an execution.
-- mode: write
-- params: id, execution_id, user_id, idea_id, format, content, published, publication_url, created_at
INSERT INTO outputs (id, execution_id, user_id, idea_id, format, content, published,
                     publication_url, created_at)
VALUES (:id, :execution_id, :user_id, :idea_id, :format, :content, :published,
        :publication_url, :created_at);

-- The foreign keys the reference schema (postgresql.sql) declares, each written as the statement
-- that adds it back. adminui's foreign-key health view compares the live database with these and
-- shows the statement of each one that is missing, for the operator to copy (seed 003's step 5).
-- adminui never runs them: the SaaS app owns the schema. A test checks this file against
-- postgresql.sql, and that each statement succeeds once the orphans are cleaned.
ALTER TABLE ideas ADD CONSTRAINT ideas_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE credentials ADD CONSTRAINT credentials_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE executions ADD CONSTRAINT executions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE executions ADD CONSTRAINT executions_selected_idea_id_fkey FOREIGN KEY (selected_idea_id) REFERENCES ideas(id) ON DELETE SET NULL;
ALTER TABLE outputs ADD CONSTRAINT outputs_execution_id_fkey FOREIGN KEY (execution_id) REFERENCES executions(id) ON DELETE CASCADE;
ALTER TABLE outputs ADD CONSTRAINT outputs_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE outputs ADD CONSTRAINT outputs_idea_id_fkey FOREIGN KEY (idea_id) REFERENCES ideas(id) ON DELETE SET NULL;
ALTER TABLE blog_posts ADD CONSTRAINT blog_posts_output_id_fkey FOREIGN KEY (output_id) REFERENCES outputs(id) ON DELETE CASCADE;
ALTER TABLE blog_posts ADD CONSTRAINT blog_posts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE usage_tracking ADD CONSTRAINT usage_tracking_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE payment_receipts ADD CONSTRAINT payment_receipts_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;

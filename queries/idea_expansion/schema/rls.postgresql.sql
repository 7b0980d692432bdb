-- Row-level security of the "Automated Idea Expansion" database (seed 001: setup-db.sql enables it
-- on the six core tables, migration 002 on usage_tracking and payment_receipts), for the schema
-- drift check's expected catalog and its tests. Kept apart from postgresql.sql: the demo and the
-- other tests run without it (their read-only roles would see no rows under these policies).
--
-- The seed gives each policy's rule, not its name: the drift check matches a policy by table,
-- command, roles and expressions, never by name, so the names below are only what a fix
-- creates. Supabase provides auth.jwt() and the roles; where they are missing (a test server)
-- the block below makes stand-ins, and leaves Supabase's own alone.

DO $$
BEGIN
  IF to_regnamespace('auth') IS NULL THEN
    CREATE SCHEMA auth;
  END IF;
  IF to_regprocedure('auth.jwt()') IS NULL THEN
    CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE
      AS 'SELECT nullif(current_setting(''request.jwt.claims'', true), '''')::jsonb';
  END IF;
  IF to_regrole('service_role') IS NULL THEN
    CREATE ROLE service_role NOLOGIN;
  END IF;
END
$$;

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
CREATE POLICY users_select_own ON users FOR SELECT
  USING (id::text = auth.jwt() ->> 'sub');
CREATE POLICY users_update_own ON users FOR UPDATE
  USING (id::text = auth.jwt() ->> 'sub');
CREATE POLICY users_service_role ON users FOR ALL TO service_role
  USING (true) WITH CHECK (true);

ALTER TABLE ideas ENABLE ROW LEVEL SECURITY;
CREATE POLICY ideas_select_own ON ideas FOR SELECT
  USING (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY ideas_insert_own ON ideas FOR INSERT
  WITH CHECK (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY ideas_update_own ON ideas FOR UPDATE
  USING (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY ideas_delete_own ON ideas FOR DELETE
  USING (user_id::text = auth.jwt() ->> 'sub');

ALTER TABLE credentials ENABLE ROW LEVEL SECURITY;
CREATE POLICY credentials_select_own ON credentials FOR SELECT
  USING (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY credentials_insert_own ON credentials FOR INSERT
  WITH CHECK (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY credentials_update_own ON credentials FOR UPDATE
  USING (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY credentials_delete_own ON credentials FOR DELETE
  USING (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY credentials_service_role ON credentials FOR ALL TO service_role
  USING (true) WITH CHECK (true);

ALTER TABLE executions ENABLE ROW LEVEL SECURITY;
CREATE POLICY executions_select_own ON executions FOR SELECT
  USING (user_id::text = auth.jwt() ->> 'sub');

ALTER TABLE outputs ENABLE ROW LEVEL SECURITY;
CREATE POLICY outputs_select_own ON outputs FOR SELECT
  USING (user_id::text = auth.jwt() ->> 'sub');

ALTER TABLE blog_posts ENABLE ROW LEVEL SECURITY;
CREATE POLICY blog_posts_select_own_or_public ON blog_posts FOR SELECT
  USING (user_id::text = auth.jwt() ->> 'sub' OR is_public = true);
CREATE POLICY blog_posts_insert_own ON blog_posts FOR INSERT
  WITH CHECK (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY blog_posts_update_own ON blog_posts FOR UPDATE
  USING (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY blog_posts_delete_own ON blog_posts FOR DELETE
  USING (user_id::text = auth.jwt() ->> 'sub');

ALTER TABLE usage_tracking ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_tracking_select_own ON usage_tracking FOR SELECT
  USING (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY usage_tracking_service_role ON usage_tracking FOR ALL TO service_role
  USING (true) WITH CHECK (true);

ALTER TABLE payment_receipts ENABLE ROW LEVEL SECURITY;
CREATE POLICY payment_receipts_select_own ON payment_receipts FOR SELECT
  USING (user_id::text = auth.jwt() ->> 'sub');
CREATE POLICY payment_receipts_service_role ON payment_receipts FOR ALL TO service_role
  USING (true) WITH CHECK (true);

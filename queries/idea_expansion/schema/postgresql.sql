-- Reference schema of the "Automated Idea Expansion" database (seed 001: setup-db.sql plus
-- migration 002-add-usage-tracking-simple.sql), for the demo and the tests. The SaaS app owns the
-- real schema; adminui never runs this against a production database.
--
-- Left out on purpose: Supabase's row-level-security policies (they call auth.jwt(), which exists
-- only on Supabase) and the storage bucket. The provider and format CHECK lists are elided in the
-- seed ("IN (...)"); they are filled with the values the seed names.

CREATE EXTENSION IF NOT EXISTS "uuid-ossp";

CREATE TABLE users (
  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  email TEXT NOT NULL UNIQUE,
  name TEXT,
  timezone TEXT DEFAULT 'UTC',
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX idx_users_email ON users (email);

CREATE TABLE ideas (
  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  description TEXT,
  bullets JSONB DEFAULT '[]'::jsonb,
  external_links JSONB DEFAULT '[]'::jsonb,
  status TEXT DEFAULT 'pending'
    CHECK (status IN ('pending', 'expanded', 'archived')),
  priority_score INTEGER DEFAULT 0
    CHECK (priority_score >= 0 AND priority_score <= 100),
  last_evaluated_at TIMESTAMPTZ,
  times_evaluated INTEGER DEFAULT 0,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW()
);
CREATE INDEX idx_ideas_user_status ON ideas (user_id, status);
CREATE INDEX idx_ideas_created ON ideas (created_at DESC);
CREATE INDEX idx_ideas_priority ON ideas (priority_score DESC);

CREATE TABLE credentials (
  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider TEXT NOT NULL
    CHECK (provider IN ('github', 'openai', 'anthropic', 'twitter', 'replicate')),
  encrypted_value TEXT NOT NULL,
  is_active BOOLEAN DEFAULT true,
  validation_status TEXT DEFAULT 'not_checked'
    CHECK (validation_status IN ('valid', 'invalid', 'not_checked')),
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW(),
  UNIQUE (user_id, provider)
);

CREATE TABLE executions (
  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  selected_idea_id UUID REFERENCES ideas(id) ON DELETE SET NULL,
  judge_reasoning TEXT,
  judge_score INTEGER CHECK (judge_score >= 0 AND judge_score <= 100),
  format_chosen TEXT
    CHECK (format_chosen IN ('blog_post', 'twitter_thread', 'github_repo', 'image')),
  format_reasoning TEXT,
  status TEXT DEFAULT 'running'
    CHECK (status IN ('running', 'completed', 'failed', 'partial')),
  error_message TEXT,
  error_step TEXT,
  tokens_used INTEGER DEFAULT 0,
  duration_seconds INTEGER,
  started_at TIMESTAMPTZ DEFAULT NOW(),
  completed_at TIMESTAMPTZ
);

CREATE TABLE outputs (
  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  execution_id UUID NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  idea_id UUID REFERENCES ideas(id) ON DELETE SET NULL,
  format TEXT NOT NULL
    CHECK (format IN ('blog_post', 'twitter_thread', 'github_repo', 'image')),
  content JSONB NOT NULL,
  published BOOLEAN DEFAULT false,
  publication_url TEXT,
  publication_metadata JSONB DEFAULT '{}'::jsonb,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  published_at TIMESTAMPTZ
);

CREATE TABLE blog_posts (
  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  output_id UUID UNIQUE REFERENCES outputs(id) ON DELETE CASCADE,
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  slug TEXT NOT NULL,
  markdown_content TEXT NOT NULL,
  html_content TEXT NOT NULL,
  meta_description TEXT,
  tags TEXT[] DEFAULT ARRAY[]::TEXT[],
  is_public BOOLEAN DEFAULT true,
  published_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ DEFAULT NOW(),
  updated_at TIMESTAMPTZ DEFAULT NOW(),
  UNIQUE (user_id, slug)
);

-- Migration 002: the credit system.
CREATE TABLE usage_tracking (
  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id UUID NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
  free_expansions_remaining INT NOT NULL DEFAULT 5,
  paid_credits_remaining INT NOT NULL DEFAULT 0,
  total_expansions_used INT NOT NULL DEFAULT 0,
  total_free_used INT NOT NULL DEFAULT 0,
  total_paid_used INT NOT NULL DEFAULT 0,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE payment_receipts (
  id UUID PRIMARY KEY DEFAULT uuid_generate_v4(),
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  amount_usd NUMERIC(10, 2) NOT NULL,
  credits_purchased INT NOT NULL,
  bmc_reference TEXT,
  notes TEXT,
  verified_by TEXT,
  status TEXT NOT NULL DEFAULT 'verified'
    CHECK (status IN ('pending', 'verified', 'refunded')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  verified_at TIMESTAMPTZ DEFAULT NOW()
);

-- updated_at follows every UPDATE.
CREATE OR REPLACE FUNCTION update_updated_at_column() RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at = NOW();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER update_users_updated_at BEFORE UPDATE ON users
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_ideas_updated_at BEFORE UPDATE ON ideas
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_credentials_updated_at BEFORE UPDATE ON credentials
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_blog_posts_updated_at BEFORE UPDATE ON blog_posts
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
CREATE TRIGGER update_usage_tracking_updated_at BEFORE UPDATE ON usage_tracking
  FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

-- A new user gets a usage_tracking row with 5 free credits.
CREATE OR REPLACE FUNCTION create_usage_tracking_for_new_user() RETURNS TRIGGER AS $$
BEGIN
  INSERT INTO usage_tracking (user_id, free_expansions_remaining, paid_credits_remaining)
  VALUES (NEW.id, 5, 0)
  ON CONFLICT (user_id) DO NOTHING;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER on_user_created_create_usage_tracking AFTER INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION create_usage_tracking_for_new_user();

-- Credit functions of migration 002. The app itself never calls them: it reads and writes the
-- tables through its own vetted statements, so it works where the functions are missing.
CREATE OR REPLACE FUNCTION check_user_has_credits(p_user_id UUID) RETURNS BOOLEAN AS $$
DECLARE
  v_free INT;
  v_paid INT;
BEGIN
  SELECT free_expansions_remaining, paid_credits_remaining INTO v_free, v_paid
  FROM usage_tracking WHERE user_id = p_user_id;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  RETURN (v_free > 0 OR v_paid > 0);
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION consume_expansion_credit(p_user_id UUID) RETURNS TEXT AS $$
DECLARE
  v_free INT;
  v_paid INT;
BEGIN
  SELECT free_expansions_remaining, paid_credits_remaining INTO v_free, v_paid
  FROM usage_tracking WHERE user_id = p_user_id FOR UPDATE;
  IF NOT FOUND OR (v_free <= 0 AND v_paid <= 0) THEN
    RAISE EXCEPTION 'User % has no credits remaining', p_user_id;
  END IF;
  IF v_free > 0 THEN
    UPDATE usage_tracking
    SET free_expansions_remaining = free_expansions_remaining - 1,
        total_free_used = total_free_used + 1,
        total_expansions_used = total_expansions_used + 1
    WHERE user_id = p_user_id;
    RETURN 'free';
  END IF;
  UPDATE usage_tracking
  SET paid_credits_remaining = paid_credits_remaining - 1,
      total_paid_used = total_paid_used + 1,
      total_expansions_used = total_expansions_used + 1
  WHERE user_id = p_user_id;
  RETURN 'paid';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION add_paid_credits(
  p_user_id UUID,
  p_credits INT,
  p_amount_usd NUMERIC,
  p_bmc_reference TEXT DEFAULT NULL,
  p_verified_by TEXT DEFAULT NULL,
  p_notes TEXT DEFAULT NULL
) RETURNS UUID AS $$
DECLARE
  v_receipt_id UUID;
BEGIN
  INSERT INTO payment_receipts
    (user_id, amount_usd, credits_purchased, bmc_reference, verified_by, notes, status, verified_at)
  VALUES
    (p_user_id, p_amount_usd, p_credits, p_bmc_reference, p_verified_by, p_notes, 'verified', NOW())
  RETURNING id INTO v_receipt_id;

  INSERT INTO usage_tracking (user_id, paid_credits_remaining)
  VALUES (p_user_id, p_credits)
  ON CONFLICT (user_id) DO UPDATE
  SET paid_credits_remaining = usage_tracking.paid_credits_remaining + p_credits;

  RETURN v_receipt_id;
END;
$$ LANGUAGE plpgsql;

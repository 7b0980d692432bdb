-- SQLite translation of postgresql.sql beside this file: the same tables, columns, CHECKs,
-- indexes and triggers, for the embedded demo and the tests.
--
-- Translations: UUID -> TEXT holding the canonical lower-case form (a random v4 by default);
-- TIMESTAMPTZ -> TEXT 'YYYY-MM-DD HH:MM:SS' in UTC (CURRENT_TIMESTAMP's form, so text order is time
-- order); BOOLEAN -> INTEGER 0/1; JSONB and TEXT[] -> TEXT holding JSON; NUMERIC(10, 2) keeps
-- NUMERIC affinity (queries that add money up sum whole cents, never floats). SQLite has no stored
-- functions: the credit functions exist only on PostgreSQL, and the app never calls them.

CREATE TABLE users (
  id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
  email TEXT NOT NULL UNIQUE,
  name TEXT,
  timezone TEXT DEFAULT 'UTC',
  created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_users_email ON users (email);

CREATE TABLE ideas (
  id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  description TEXT,
  bullets TEXT DEFAULT '[]',
  external_links TEXT DEFAULT '[]',
  status TEXT DEFAULT 'pending'
    CHECK (status IN ('pending', 'expanded', 'archived')),
  priority_score INTEGER DEFAULT 0
    CHECK (priority_score >= 0 AND priority_score <= 100),
  last_evaluated_at TEXT,
  times_evaluated INTEGER DEFAULT 0,
  created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX idx_ideas_user_status ON ideas (user_id, status);
CREATE INDEX idx_ideas_created ON ideas (created_at DESC);
CREATE INDEX idx_ideas_priority ON ideas (priority_score DESC);

CREATE TABLE credentials (
  id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  provider TEXT NOT NULL
    CHECK (provider IN ('github', 'openai', 'anthropic', 'twitter', 'replicate')),
  encrypted_value TEXT NOT NULL,
  is_active INTEGER DEFAULT 1 CHECK (is_active IN (0, 1)),
  validation_status TEXT DEFAULT 'not_checked'
    CHECK (validation_status IN ('valid', 'invalid', 'not_checked')),
  created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (user_id, provider)
);

CREATE TABLE executions (
  id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  selected_idea_id TEXT REFERENCES ideas(id) ON DELETE SET NULL,
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
  started_at TEXT DEFAULT CURRENT_TIMESTAMP,
  completed_at TEXT
);

CREATE TABLE outputs (
  id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
  execution_id TEXT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  idea_id TEXT REFERENCES ideas(id) ON DELETE SET NULL,
  format TEXT NOT NULL
    CHECK (format IN ('blog_post', 'twitter_thread', 'github_repo', 'image')),
  content TEXT NOT NULL,
  published INTEGER DEFAULT 0 CHECK (published IN (0, 1)),
  publication_url TEXT,
  publication_metadata TEXT DEFAULT '{}',
  created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  published_at TEXT
);

CREATE TABLE blog_posts (
  id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
  output_id TEXT UNIQUE REFERENCES outputs(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  slug TEXT NOT NULL,
  markdown_content TEXT NOT NULL,
  html_content TEXT NOT NULL,
  meta_description TEXT,
  tags TEXT DEFAULT '[]',
  is_public INTEGER DEFAULT 1 CHECK (is_public IN (0, 1)),
  published_at TEXT,
  created_at TEXT DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (user_id, slug)
);

CREATE TABLE usage_tracking (
  id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
  user_id TEXT NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
  free_expansions_remaining INTEGER NOT NULL DEFAULT 5,
  paid_credits_remaining INTEGER NOT NULL DEFAULT 0,
  total_expansions_used INTEGER NOT NULL DEFAULT 0,
  total_free_used INTEGER NOT NULL DEFAULT 0,
  total_paid_used INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE payment_receipts (
  id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  amount_usd NUMERIC(10, 2) NOT NULL,
  credits_purchased INTEGER NOT NULL,
  bmc_reference TEXT,
  notes TEXT,
  verified_by TEXT,
  status TEXT NOT NULL DEFAULT 'verified'
    CHECK (status IN ('pending', 'verified', 'refunded')),
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  verified_at TEXT DEFAULT CURRENT_TIMESTAMP
);

-- updated_at follows every UPDATE that did not set it itself.
CREATE TRIGGER update_users_updated_at AFTER UPDATE ON users
  FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
  BEGIN UPDATE users SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END;
CREATE TRIGGER update_ideas_updated_at AFTER UPDATE ON ideas
  FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
  BEGIN UPDATE ideas SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END;
CREATE TRIGGER update_credentials_updated_at AFTER UPDATE ON credentials
  FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
  BEGIN UPDATE credentials SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END;
CREATE TRIGGER update_blog_posts_updated_at AFTER UPDATE ON blog_posts
  FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
  BEGIN UPDATE blog_posts SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END;
CREATE TRIGGER update_usage_tracking_updated_at AFTER UPDATE ON usage_tracking
  FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
  BEGIN UPDATE usage_tracking SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id; END;

-- A new user gets a usage_tracking row with 5 free credits.
CREATE TRIGGER on_user_created_create_usage_tracking AFTER INSERT ON users
  FOR EACH ROW
  BEGIN
    INSERT OR IGNORE INTO usage_tracking (user_id, free_expansions_remaining, paid_credits_remaining)
    VALUES (NEW.id, 5, 0);
  END;

-- OmniChat's D1 schema (seed 002), as its migrations create it: for the demo and the tests. D1 is
-- SQLite; the ids are text (Clerk's user ids, the app's own for the rest); the users and
-- conversations tables name their columns in camelCase, the billing and analytics tables in
-- snake_case; times are TEXT in whatever form the code that wrote them used (ISO with Z or an
-- offset, with or without milliseconds, 'YYYY-MM-DD HH:MM:SS'), schema_version's applied_at is
-- seconds since the epoch; booleans are 0/1; money is whole cents; battery is whole units.
--
-- Indexes: only what the migrations declare (keys, UNIQUE). The foreign keys are declared, but
-- D1 imports and `wrangler d1 execute` run with foreign_keys off, so they hold only as far as
-- the app kept them.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT,
  avatarUrl TEXT,
  stripeCustomerId TEXT,
  subscriptionStatus TEXT,
  subscriptionId TEXT,
  tier TEXT DEFAULT 'free',
  createdAt TEXT,
  updatedAt TEXT
);

CREATE TABLE conversations (
  id TEXT PRIMARY KEY,
  userId TEXT REFERENCES users(id) ON DELETE CASCADE,
  title TEXT,
  modelId TEXT,
  pinned BOOLEAN DEFAULT 0,
  archived BOOLEAN DEFAULT 0,
  lastMessageAt TEXT,
  createdAt TEXT,
  updatedAt TEXT
);

CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  conversationId TEXT REFERENCES conversations(id) ON DELETE CASCADE,
  role TEXT,
  content TEXT NOT NULL,
  modelId TEXT,
  metadata TEXT,
  createdAt TEXT,
  updatedAt TEXT
);

CREATE TABLE subscription_plans (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  price_monthly INTEGER,
  price_annual INTEGER,
  battery_units INTEGER,
  daily_battery INTEGER,
  features TEXT,
  stripe_price_id_monthly TEXT,
  stripe_price_id_annual TEXT
);

CREATE TABLE user_subscriptions (
  id TEXT PRIMARY KEY,
  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  plan_id TEXT REFERENCES subscription_plans(id),
  stripe_customer_id TEXT,
  stripe_subscription_id TEXT,
  status TEXT,
  current_period_start TEXT,
  current_period_end TEXT,
  cancel_at TEXT,
  canceled_at TEXT,
  trial_end TEXT
);

CREATE TABLE user_battery (
  user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  total_balance INTEGER DEFAULT 0,
  daily_allowance INTEGER DEFAULT 0,
  last_daily_reset TEXT
);

CREATE TABLE battery_transactions (
  id TEXT PRIMARY KEY,
  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  type TEXT,
  amount INTEGER,
  balance_after INTEGER,
  stripe_payment_intent_id TEXT,
  metadata TEXT,
  created_at TEXT
);

CREATE TABLE api_usage (
  id TEXT PRIMARY KEY,
  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  conversation_id TEXT,
  message_id TEXT,
  model TEXT,
  input_tokens INTEGER,
  output_tokens INTEGER,
  battery_used INTEGER,
  cached BOOLEAN DEFAULT 0,
  date TEXT,
  created_at TEXT
);

CREATE TABLE daily_usage_summary (
  id TEXT PRIMARY KEY,
  user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
  date TEXT,
  total_battery_used INTEGER,
  total_messages INTEGER,
  models_used TEXT
);

CREATE TABLE audit_logs (
  id TEXT PRIMARY KEY,
  userId TEXT,
  action TEXT,
  resourceType TEXT,
  resourceId TEXT,
  metadata TEXT,
  createdAt TEXT
);

CREATE TABLE schema_version (
  version INTEGER PRIMARY KEY,
  name TEXT,
  applied_at INTEGER,
  checksum TEXT
);

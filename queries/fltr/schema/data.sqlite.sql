-- SQLite translation of data.postgresql.sql beside this file (fltr): the same tables, columns,
-- constraints and indexes, for the embedded demo and the tests.
--
-- Translations: TIMESTAMP -> TEXT 'YYYY-MM-DD HH:MM:SS' in UTC (CURRENT_TIMESTAMP's form);
-- BOOLEAN -> INTEGER 0/1; UUID -> TEXT in canonical lower case; JSON -> TEXT holding JSON;
-- SERIAL -> INTEGER PRIMARY KEY AUTOINCREMENT (a deleted number is never handed out again).

CREATE TABLE datasets (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT,
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX datasets_user_id ON datasets (user_id);

CREATE TABLE documents (
  id TEXT PRIMARY KEY,
  dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  filename TEXT NOT NULL,
  content TEXT,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE processing_jobs (
  id TEXT PRIMARY KEY,
  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  status TEXT NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

"""Planting orphan rows the way production got them (seed 003): on PostgreSQL the foreign key is
dropped first, on SQLite rows are written with foreign keys off (its default). Straight SQL,
behind the app's back, so the tests check the app against rows it did not make."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from adminui.db import Database
from adminui.schema import expected_foreign_keys
from tests.conftest import raw_engine

# One INSERT per check; :id is the new row, :ghost a parent id that exists nowhere, :user,
# :execution real parents.
_INSERTS = {
    "ideas.user_id": "INSERT INTO ideas (id, user_id, title) VALUES (:id, :ghost, 'Orphan idea')",
    "credentials.user_id": "INSERT INTO credentials (id, user_id, provider, encrypted_value) "
    "VALUES (:id, :ghost, 'github', 'ciphertext')",
    "executions.user_id": "INSERT INTO executions (id, user_id, status, error_step) "
    "VALUES (:id, :ghost, 'failed', 'orphaned')",
    "executions.selected_idea_id": "INSERT INTO executions (id, user_id, selected_idea_id, status) "
    "VALUES (:id, :user, :ghost, 'completed')",
    "outputs.execution_id": "INSERT INTO outputs (id, execution_id, user_id, format, content) "
    "VALUES (:id, :ghost, :user, 'blog_post', '{\"body\": \"orphan\"}')",
    "outputs.user_id": "INSERT INTO outputs (id, execution_id, user_id, format, content) "
    "VALUES (:id, :execution, :ghost, 'image', '{\"url\": \"x\"}')",
    "outputs.idea_id": "INSERT INTO outputs (id, execution_id, user_id, idea_id, format, content) "
    "VALUES (:id, :execution, :user, :ghost, 'twitter_thread', '[1, 2]')",
    "blog_posts.output_id": "INSERT INTO blog_posts "
    "(id, output_id, user_id, title, slug, markdown_content, html_content, tags) "
    "VALUES (:id, :ghost, :user, 'Orphan', :slug, '# x', '<h1>x</h1>', :tags)",
    "blog_posts.user_id": "INSERT INTO blog_posts "
    "(id, output_id, user_id, title, slug, markdown_content, html_content) "
    "VALUES (:id, NULL, :ghost, 'Orphan', :slug, '# y', '<h1>y</h1>')",
    "usage_tracking.user_id": "INSERT INTO usage_tracking (id, user_id, paid_credits_remaining) "
    "VALUES (:id, :ghost, 7)",
    "payment_receipts.user_id": "INSERT INTO payment_receipts "
    "(id, user_id, amount_usd, credits_purchased, bmc_reference, status, verified_by) "
    "VALUES (:id, :ghost, 999999.99, 3, 'BMC-ORPHAN', 'verified', 'tester')",
}


def drop_foreign_keys(db: Database) -> None:
    """PostgreSQL: drop every expected foreign key, as production lost one (seed 003)."""
    if db.dialect != "postgresql":
        return
    engine = raw_engine(db)
    with engine.begin() as conn:
        for key in expected_foreign_keys():
            conn.execute(text(f"ALTER TABLE {key.table} DROP CONSTRAINT IF EXISTS {key.name}"))
    engine.dispose()


def plant(db: Database, check: str, n: int = 1) -> list[str]:
    """Create `n` orphans of `check` and return their ids (for users.usage_tracking, the users
    whose usage_tracking row was deleted)."""
    drop_foreign_keys(db)
    engine = raw_engine(db)
    ids = []
    with engine.begin() as conn:
        if check == "users.usage_tracking":
            rows = conn.execute(
                text(
                    "SELECT t.user_id FROM usage_tracking t JOIN users u ON u.id = t.user_id "
                    "ORDER BY t.user_id LIMIT :n"
                ),
                {"n": n},
            )
            ids = [str(r[0]) for r in rows]
            for user_id in ids:
                conn.execute(text("DELETE FROM usage_tracking WHERE user_id = :u"), {"u": user_id})
            engine.dispose()
            return ids
        user = conn.execute(text("SELECT id FROM users ORDER BY id LIMIT 1")).scalar()
        execution = conn.execute(text("SELECT id FROM executions ORDER BY id LIMIT 1")).scalar()
        for _ in range(n):
            row_id = str(uuid.uuid4())
            params = {
                "id": row_id,
                "slug": f"orphan-{row_id}",
                "ghost": str(uuid.uuid4()),
                "user": user,
            }
            params["execution"] = execution
            if check == "blog_posts.output_id":
                params["tags"] = ["a", "b"] if db.dialect == "postgresql" else '["a", "b"]'
            sql = _INSERTS[check]
            conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
            ids.append(row_id)
    engine.dispose()
    return ids


def change(db: Database, sql: str, **params: object) -> None:
    """Run one statement behind the app's back, committed."""
    engine = raw_engine(db)
    with engine.begin() as conn:
        conn.execute(text(sql), params)
    engine.dispose()


def table_rows(db: Database, table: str) -> list[tuple]:
    """Every row of a table, whole, in id order, as the driver returns it."""
    engine = raw_engine(db)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
    engine.dispose()
    return rows

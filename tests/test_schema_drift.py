"""The schema check (#17): a database made from the expected schema reports nothing; a database
drifted in one way is reported with that one kind and nothing else, and running the fix the
finding carries makes it report nothing again (the fix is real DDL, not a hint); seeds 003 and
004's production states are reported as exactly what they are; the migrations of each tool.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adminui.db import Database
from adminui.errors import InputError
from adminui.ops import health, schema_check
from adminui.packs import DATA, MAIN, Pack, pack_named, packs
from adminui.schema import migrations
from adminui.schema.catalog import checks, dumps, loads, normal
from adminui.schema.drift import KINDS
from adminui.schema.migrations import drizzle_hash, files
from adminui.schema.reference import catalog_path, split
from tests.conftest import execute, rows, run, sqlite_file
from tests.expected_catalogs import expected_catalogs, reference_database
from tests.pg_cluster import PG_PASSWORD, PgServer

IDEAS = pack_named("idea-expansion")
FLTR = pack_named("fltr")
OMNICHAT = pack_named("omnichat")
FILEPATH = pack_named("filepath")


def test_each_expected_catalog_is_its_reference_schema_read_again(
    pg_server: PgServer, tmp_path: Path
) -> None:
    """queries/<pack>/schema/catalog.json can't drift from the DDL it is read from: run
    `python -m tests.expected_catalogs` after changing a reference schema."""
    for pack in packs():
        made = expected_catalogs(pack, pg_server, tmp_path)
        committed = catalog_path(pack).read_text(encoding="utf-8")
        assert loads(committed) == made, f"{pack.name}: python -m tests.expected_catalogs"
        assert committed == dumps(made)


@pytest.fixture
def reference(pg_server: PgServer, tmp_path: Path) -> Iterator[Callable[[Pack, str], Database]]:
    """A maker of databases holding exactly a pack's expected schema (both of fltr's, the
    second named by the first as a profile's data_url would)."""
    made: list[tuple[Database, str]] = []

    def make(pack: Pack, dialect: str) -> Database:
        dbs = {d: reference_database(pack, dialect, d, pg_server, tmp_path) for d in pack.databases}
        db = dbs[MAIN]
        if DATA in dbs:
            db._data, dbs[DATA]._main = dbs[DATA], db
        made.extend((d, dialect) for d in dbs.values())
        return db

    yield make
    for db, dialect in made:
        db.dispose()
        if dialect == "postgresql":
            pg_server.psql(f"DROP DATABASE {db.profile.url.database} WITH (FORCE)")


def kinds_of(db: Database, **options) -> list[tuple[str, str]]:
    return [(f.kind, f.object) for f in schema_check.check(db, **options).findings]


@pytest.mark.parametrize(
    ("pack", "dialect"), [(p, d) for p in packs() for d in p.dialects], ids=str
)
def test_a_database_made_from_the_reference_reports_nothing(reference, pack, dialect) -> None:
    report = schema_check.check(reference(pack, dialect))
    assert report.findings == () and report.unchecked == ()


def sqlite_rebuild(db: Database, table: str, old: str, new: str) -> None:
    """Drift a SQLite table the only way SQLite allows: made again from its CREATE TABLE text
    with `old` replaced by `new`, rows, indexes and triggers kept (foreign keys off)."""
    path = db.profile.url.database
    with sqlite3.connect(path) as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        assert old in sql, f"{old!r} not in {table}"
        others = [
            r[0]
            for r in conn.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
                "AND sql IS NOT NULL",
                (table,),
            )
        ]
        columns = ", ".join(f'"{r[1]}"' for r in conn.execute(f'PRAGMA table_info("{table}")'))
        conn.executescript(
            "PRAGMA foreign_keys = OFF; BEGIN;"
            + sql.replace(f"CREATE TABLE {table} (", "CREATE TABLE drifted (", 1).replace(
                old, new, 1
            )
            + f"; INSERT INTO drifted ({columns}) SELECT {columns} FROM {table};"
            + f" DROP TABLE {table}; ALTER TABLE drifted RENAME TO {table};"
            + "".join(f" {s};" for s in others)
            + " COMMIT;"
        )


@dataclass(frozen=True)
class Drift:
    """One way a database drifts, and the one finding it must give."""

    kind: str
    object: str
    pack: Pack
    postgresql: str | None = None  # the DDL that drifts it there (None: not on this dialect)
    sqlite: tuple[str, str, str] | str | None = None  # (table, old, new) to rebuild, or DDL


DRIFTS = [
    Drift("missing_table", "blog_posts", IDEAS, "DROP TABLE blog_posts", "DROP TABLE blog_posts"),
    Drift(
        "extra_table",
        "scratch",
        IDEAS,
        "CREATE TABLE scratch (id integer)",
        "CREATE TABLE scratch (id integer)",
    ),
    Drift(
        "missing_column",
        "users.timezone",
        IDEAS,
        "ALTER TABLE users DROP COLUMN timezone",
        "ALTER TABLE users DROP COLUMN timezone",
    ),
    Drift(
        "extra_column",
        "users.credits",
        IDEAS,
        "ALTER TABLE users ADD COLUMN credits integer",
        "ALTER TABLE users ADD COLUMN credits INTEGER",
    ),
    Drift(
        "type",
        "ideas.times_evaluated",
        IDEAS,
        "ALTER TABLE ideas ALTER COLUMN times_evaluated TYPE bigint",
        ("ideas", "times_evaluated INTEGER", "times_evaluated TEXT"),
    ),
    Drift(
        "nullable",
        "ideas.title",
        IDEAS,
        "ALTER TABLE ideas ALTER COLUMN title DROP NOT NULL",
        ("ideas", "title TEXT NOT NULL", "title TEXT"),
    ),
    Drift(
        "default",
        "users.timezone",
        IDEAS,
        "ALTER TABLE users ALTER COLUMN timezone SET DEFAULT 'Europe/Paris'",
        ("users", "DEFAULT 'UTC'", "DEFAULT 'Europe/Paris'"),
    ),
    Drift(
        "missing_unique",
        "users (email)",
        IDEAS,
        "ALTER TABLE users DROP CONSTRAINT users_email_key",
        ("users", "email TEXT NOT NULL UNIQUE", "email TEXT NOT NULL"),
    ),
    Drift(
        "missing_fk",
        "ideas.user_id → users.id",
        IDEAS,
        "ALTER TABLE ideas DROP CONSTRAINT ideas_user_id_fkey",
        ("ideas", "REFERENCES users(id) ON DELETE CASCADE", ""),
    ),
    Drift(
        "fk_not_valid",
        "ideas.user_id → users.id",
        IDEAS,
        "ALTER TABLE ideas DROP CONSTRAINT ideas_user_id_fkey, ADD CONSTRAINT ideas_user_id_fkey "
        "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE NOT VALID",
    ),
    Drift(
        "fk_disabled",
        "ideas.user_id → users.id",
        IDEAS,
        "DO $$ DECLARE t text; BEGIN SELECT tgname INTO t FROM pg_trigger WHERE tgconstraint = "
        "(SELECT oid FROM pg_constraint WHERE conname = 'ideas_user_id_fkey') AND tgrelid = "
        "'ideas'::regclass LIMIT 1; EXECUTE format('ALTER TABLE ideas DISABLE TRIGGER %I', t); "
        "END $$",
    ),
    Drift(
        "fk_action",
        "ideas.user_id → users.id",
        IDEAS,
        "ALTER TABLE ideas DROP CONSTRAINT ideas_user_id_fkey, ADD CONSTRAINT ideas_user_id_fkey "
        "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE SET NULL",
        ("ideas", "ON DELETE CASCADE", "ON DELETE SET NULL"),
    ),
    Drift(
        "missing_check",
        "ideas: ideas_priority_score_check",
        IDEAS,
        "ALTER TABLE ideas DROP CONSTRAINT ideas_priority_score_check",
    ),
    Drift(
        "missing_check",
        "ideas: check",
        IDEAS,
        sqlite=("ideas", "CHECK (priority_score >= 0 AND priority_score <= 100)", ""),
    ),
    Drift(
        "missing_index",
        "ideas: idx_ideas_priority",
        IDEAS,
        "DROP INDEX idx_ideas_priority",
        "DROP INDEX idx_ideas_priority",
    ),
    Drift(
        "missing_trigger",
        "ideas: update_ideas_updated_at",
        IDEAS,
        "DROP TRIGGER update_ideas_updated_at ON ideas",
        "DROP TRIGGER update_ideas_updated_at",
    ),
    Drift(
        "missing_trigger",
        "users: on_user_created_create_usage_tracking",
        IDEAS,
        "ALTER TABLE users DISABLE TRIGGER on_user_created_create_usage_tracking",
    ),
    Drift(
        "missing_function",
        "check_user_has_credits(p_user_id uuid)",
        IDEAS,
        "DROP FUNCTION check_user_has_credits(uuid)",
    ),
    Drift("rls_disabled", "ideas", IDEAS, "ALTER TABLE ideas DISABLE ROW LEVEL SECURITY"),
    Drift(
        "missing_policy", "ideas: ideas_delete_own", IDEAS, "DROP POLICY ideas_delete_own ON ideas"
    ),
    # fltr's own (Drizzle's constraint names), and the D1 products, whose SQLite fixes are D1's.
    Drift(
        "missing_fk",
        "user_credits.user_id → users.id",
        FLTR,
        "ALTER TABLE user_credits DROP CONSTRAINT user_credits_user_id_users_id_fk",
        (
            "user_credits",
            "CONSTRAINT user_credits_user_id_users_id_fk FOREIGN KEY (user_id) REFERENCES "
            "users(id) ON DELETE CASCADE,",
            "",
        ),
    ),
    Drift(
        "type",
        "battery_transactions.amount",
        OMNICHAT,
        sqlite=("battery_transactions", "amount INTEGER", "amount TEXT"),
    ),
    Drift(
        "missing_fk",
        "user_battery.user_id → users.id",
        OMNICHAT,
        sqlite=("user_battery", "REFERENCES users(id) ON DELETE CASCADE", ""),
    ),
    Drift(
        "missing_unique",
        "user (email)",
        FILEPATH,
        sqlite=("user", "email TEXT NOT NULL UNIQUE", "email TEXT NOT NULL"),
    ),
    Drift(
        "missing_column",
        "apikey.budget_cap",
        FILEPATH,
        sqlite="ALTER TABLE apikey DROP COLUMN budget_cap",
    ),
    Drift(
        "missing_table",
        "passkey",
        FILEPATH,
        sqlite="DROP TABLE passkey",
    ),
]
# The same name saying something else: one finding, whose fix replaces it (the name is taken).
DRIFTS += [
    Drift(
        "extra_policy",
        "credentials: open_all",
        IDEAS,
        "CREATE POLICY open_all ON credentials FOR SELECT USING (true)",
    ),
    Drift(
        "missing_check",
        "ideas: ideas_status_check",
        IDEAS,
        "ALTER TABLE ideas DROP CONSTRAINT ideas_status_check, ADD CONSTRAINT ideas_status_check "
        "CHECK (status IN ('pending', 'expanded', 'archived', 'deleted'))",
    ),
    Drift(
        "missing_check",
        "ideas: ideas_status_check",
        IDEAS,
        "ALTER TABLE ideas DROP CONSTRAINT ideas_status_check, ADD CONSTRAINT ideas_status_check "
        "CHECK (status IN ('pending', 'expanded', 'archived')) NOT VALID",
    ),
    Drift(
        "missing_index",
        "ideas: idx_ideas_user_status",
        IDEAS,
        "DROP INDEX idx_ideas_user_status; CREATE INDEX idx_ideas_user_status ON ideas (user_id)",
        "DROP INDEX idx_ideas_user_status; CREATE INDEX idx_ideas_user_status ON ideas (user_id)",
    ),
    Drift(
        "missing_policy",
        "ideas: ideas_delete_own",
        IDEAS,
        "DROP POLICY ideas_delete_own ON ideas; "
        "CREATE POLICY ideas_delete_own ON ideas FOR DELETE USING (true)",
    ),
    Drift(
        "missing_unique",
        "credentials (id)",
        IDEAS,
        "ALTER TABLE credentials DROP CONSTRAINT credentials_pkey, "
        "ADD PRIMARY KEY (user_id, provider)",
    ),
    Drift(
        "missing_unique",
        "users (email)",
        IDEAS,
        "ALTER TABLE users DROP CONSTRAINT users_email_key; "
        "CREATE UNIQUE INDEX users_email_key ON users (email); "
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'users_email_key'::regclass",
    ),
    Drift(
        "missing_fk",
        "ideas.user_id → users.id",
        IDEAS,
        "ALTER TABLE ideas DROP CONSTRAINT ideas_user_id_fkey, ADD CONSTRAINT ideas_user_id_fkey "
        "FOREIGN KEY (user_id) REFERENCES usage_tracking(user_id)",
    ),
    Drift(
        "fk_action",
        "ideas.user_id → users.id",
        IDEAS,
        "ALTER TABLE ideas DROP CONSTRAINT ideas_user_id_fkey, ADD CONSTRAINT ideas_user_id_fkey "
        "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE ON UPDATE CASCADE",
    ),
    Drift(
        "missing_trigger",
        "ideas: update_ideas_updated_at",
        IDEAS,
        "DROP TRIGGER update_ideas_updated_at ON ideas; CREATE TRIGGER update_ideas_updated_at "
        "BEFORE INSERT ON ideas FOR EACH ROW EXECUTE FUNCTION update_updated_at_column()",
        "DROP TRIGGER update_ideas_updated_at; CREATE TRIGGER update_ideas_updated_at "
        "AFTER INSERT ON ideas BEGIN SELECT 1; END",
    ),
    Drift(
        "missing_function",
        "check_user_has_credits(p_user_id uuid)",
        IDEAS,
        "CREATE OR REPLACE FUNCTION check_user_has_credits(p_user_id uuid) RETURNS boolean "
        "AS $$ BEGIN RETURN true; END; $$ LANGUAGE plpgsql",
    ),
]
CASES = [
    pytest.param(d, dialect, id=f"{d.kind}-{d.pack.name}-{dialect}")
    for d in DRIFTS
    for dialect in ("postgresql", "sqlite")
    if getattr(d, dialect) is not None
]


def drift(db: Database, dialect: str, how: str | tuple[str, str, str]) -> None:
    if isinstance(how, tuple):
        sqlite_rebuild(db, *how)
    elif dialect == "sqlite":
        with sqlite3.connect(db.profile.url.database) as conn:
            conn.executescript(how)
    else:
        execute(db, how)


def run_fix(db: Database, fix: str) -> None:
    """Run a finding's fix as a person would paste it: a D1 fix as D1 runs a file (one
    transaction, foreign keys on), any other as its dialect's shell would."""
    if db.dialect == "postgresql":
        url = db.profile.url.set(password=PG_PASSWORD).render_as_string(hide_password=False)
        psql = shutil.which("psql") or "psql"
        done = subprocess.run(
            [psql, url.replace("postgresql+psycopg", "postgresql"), "-v", "ON_ERROR_STOP=1"],
            input=fix,
            text=True,
            capture_output=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return
    conn = sqlite3.connect(sqlite_file(db), isolation_level=None)
    try:
        if "defer_foreign_keys" in fix:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.executescript(f"BEGIN; {fix}\nCOMMIT;")
        else:
            conn.executescript(fix)
    finally:
        conn.close()


@pytest.mark.parametrize(("case", "dialect"), CASES)
def test_one_drift_is_one_finding_of_its_kind_and_its_fix_mends_it(
    reference, case: Drift, dialect: str
) -> None:
    db = reference(case.pack, dialect)
    drift(db, dialect, getattr(case, dialect))
    (finding,) = schema_check.check(db).findings
    assert (finding.kind, finding.object) == (case.kind, case.object)
    assert finding.fix and finding.expected and finding.actual
    run_fix(db, finding.fix)
    assert kinds_of(db) == []


def test_a_rebuild_keeps_the_rows_it_rebuilds(reference) -> None:
    db = reference(OMNICHAT, "sqlite")
    execute(db, "INSERT INTO users (id, email) VALUES ('u1', 'a@example.com')")
    execute(
        db,
        "INSERT INTO battery_transactions (id, user_id, type, amount, balance_after) "
        "VALUES ('t1', 'u1', 'bonus', 500, 500)",
    )
    sqlite_rebuild(db, "battery_transactions", "amount INTEGER", "amount TEXT")
    (finding,) = schema_check.check(db).findings
    assert "PRAGMA defer_foreign_keys = on;" in finding.fix
    run_fix(db, finding.fix)
    assert kinds_of(db) == []
    assert rows(db, "SELECT id, user_id, amount, balance_after FROM battery_transactions") == [
        {"id": "t1", "user_id": "u1", "amount": 500, "balance_after": 500}
    ]


def test_a_d1_rebuild_of_a_parent_warns_of_its_childrens_rows(reference) -> None:
    db = reference(OMNICHAT, "sqlite")
    sqlite_rebuild(db, "users", "tier TEXT DEFAULT 'free'", "tier TEXT DEFAULT 'paid'")
    (finding,) = schema_check.check(db).findings
    assert finding.kind == "default"
    warning = finding.fix.splitlines()[1]
    assert "DROP TABLE users deletes or empties the rows" in warning
    for child in ("conversations", "user_battery", "battery_transactions", "api_usage"):
        assert child in warning


def test_seed_004s_production_state_is_reported_as_it_is(reference) -> None:
    """Seed 004's "Current State": fltr_auth lacks user_credits (and Drizzle's table), its
    users carry the credit columns; fltr holds only a users table of its own."""
    db = reference(FLTR, "postgresql")
    execute(db, "DROP TABLE user_credits; DROP TABLE __drizzle_migrations")
    execute(
        db,
        "ALTER TABLE users ADD COLUMN team_id TEXT, ADD COLUMN total_credits_purchased INTEGER "
        "NOT NULL DEFAULT 0, ADD COLUMN credits INTEGER NOT NULL DEFAULT 0",
    )
    data = db.on(DATA, "test")
    execute(data, "DROP TABLE processing_jobs, documents, datasets")
    execute(
        data,
        "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT, name TEXT, email_verified BOOLEAN, "
        "image TEXT, stripe_customer_id TEXT, credits INTEGER, total_credits_purchased INTEGER, "
        "team_id TEXT, created_at TIMESTAMP, updated_at TIMESTAMP)",
    )
    found = [(f.database, f.kind, f.object) for f in schema_check.check(db).findings]
    assert sorted(found) == sorted(
        [
            ("fltr_auth", "missing_table", "__drizzle_migrations"),
            ("fltr_auth", "missing_table", "user_credits"),
            ("fltr_auth", "extra_column", "users.credits"),
            ("fltr_auth", "extra_column", "users.team_id"),
            ("fltr_auth", "extra_column", "users.total_credits_purchased"),
            ("fltr", "missing_table", "datasets"),
            ("fltr", "missing_table", "documents"),
            ("fltr", "missing_table", "processing_jobs"),
            ("fltr", "extra_table", "users"),
        ]
    )
    extra = next(f for f in schema_check.check(db).findings if f.kind == "extra_table")
    assert extra.expected == "no such table (it belongs in fltr_auth)"


def test_seed_003s_missing_key_is_the_one_finding(reference) -> None:
    db = reference(FLTR, "postgresql")
    execute(db, "ALTER TABLE user_credits DROP CONSTRAINT user_credits_user_id_users_id_fk")
    (finding,) = schema_check.check(db).findings
    assert finding.kind == "missing_fk" and finding.database == "fltr_auth"
    assert finding.fix.endswith(
        "ALTER TABLE user_credits ADD CONSTRAINT user_credits_user_id_users_id_fk FOREIGN KEY "
        "(user_id) REFERENCES users(id) ON DELETE CASCADE;"
    )
    # Seed 003's production also had a second, unnamed copy of the team key: no finding.
    execute(
        db,
        "ALTER TABLE user_credits ADD CONSTRAINT user_credits_team_id_fkey FOREIGN KEY (team_id) "
        "REFERENCES teams(id)",
    )
    assert kinds_of(db) == [("missing_fk", "user_credits.user_id → users.id")]


def test_a_key_to_another_schemas_table_is_not_the_key(reference) -> None:
    """A foreign key to auth.users (Supabase's) is not one to the product's users."""
    db = reference(IDEAS, "postgresql")
    execute(
        db,
        "CREATE TABLE auth.users (id uuid PRIMARY KEY); "
        "ALTER TABLE ideas DROP CONSTRAINT ideas_user_id_fkey, ADD CONSTRAINT ideas_user_id_fkey "
        "FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE",
    )
    (finding,) = schema_check.check(db).findings
    assert finding.kind == "missing_fk"
    assert finding.actual == "missing (a key to auth.users instead)"


def test_supabase_s_schema_qualified_defaults_are_not_drift(reference) -> None:
    """Supabase keeps uuid-ossp in `extensions`: the default reads
    extensions.uuid_generate_v4() there."""
    db = reference(IDEAS, "postgresql")
    execute(
        db,
        'CREATE SCHEMA extensions; ALTER EXTENSION "uuid-ossp" SET SCHEMA extensions; '
        "ALTER TABLE ideas ALTER COLUMN id SET DEFAULT extensions.uuid_generate_v4()",
    )
    assert kinds_of(db) == []
    execute(db, "ALTER TABLE ideas ALTER COLUMN id SET DEFAULT gen_random_uuid()")
    assert kinds_of(db) == [("default", "ideas.id")]


def test_an_invalid_index_is_missing(reference) -> None:
    """A failed CREATE INDEX CONCURRENTLY leaves an index PostgreSQL never uses."""
    db = reference(IDEAS, "postgresql")
    execute(
        db,
        "UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_ideas_priority'::regclass",
    )
    (finding,) = schema_check.check(db).findings
    assert finding.kind == "missing_index" and finding.actual.startswith("invalid")
    run_fix(db, finding.fix)
    assert kinds_of(db) == []


def test_ignore_leaves_a_kind_out_and_says_how_many(reference) -> None:
    db = reference(IDEAS, "postgresql")
    execute(db, "ALTER TABLE ideas DISABLE ROW LEVEL SECURITY; DROP INDEX idx_ideas_priority")
    report = schema_check.check(db, ignore=frozenset({"rls_disabled"}))
    assert [f.kind for f in report.findings] == ["missing_index"] and report.ignored == 1


def test_sqlite_checks_are_read_from_the_create_table_text() -> None:
    sql = (
        "CREATE TABLE t (\n  a INTEGER CHECK (a > 0), -- a comment with CHECK (x)\n"
        "  b TEXT DEFAULT 'CHECK (no)' CONSTRAINT \"b ok\" CHECK (b IN ('x)', 'y')),\n"
        "  CHECK (a < 10 AND (b IS NOT NULL))\n)"
    )
    assert checks(sql) == [
        (None, "a > 0"),
        ("b ok", "b IN ('x)', 'y')"),
        (None, "a < 10 AND (b IS NOT NULL)"),
    ]
    assert normal("status IN ('A', 'b')") == normal("STATUS  in ( 'A','b' )")
    assert normal("x = 'A'") != normal("x = 'a'")


def test_a_trigger_body_is_one_statement() -> None:
    ddl = (
        "CREATE TRIGGER t AFTER UPDATE ON x FOR EACH ROW BEGIN UPDATE x SET a = 1; "
        "UPDATE x SET b = ';'; END;\nCREATE TABLE y (a TEXT); -- y;\n"
        "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END; $$ LANGUAGE plpgsql;"
    )
    assert [s.split()[1] for s in split(ddl)] == ["TRIGGER", "TABLE", "FUNCTION"]


# The CLI: exit codes, the shapes of its output.


def url_of(db: Database) -> list[str]:
    if db.dialect == "sqlite":
        return ["--url", f"sqlite:///{db.profile.url.database}"]
    url = db.profile.url.set(password=PG_PASSWORD).render_as_string(hide_password=False)
    return ["--url", url]


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_the_command_exits_0_when_nothing_drifted_and_3_when_something_did(
    reference, capsys, dialect: str
) -> None:
    db = reference(IDEAS, dialect)
    code, out, err = run(capsys, *url_of(db), "schema", "check")
    assert (code, out) == (0, "") and "No drift" in err
    execute(db, "DROP INDEX idx_ideas_priority")
    code, out, err = run(capsys, *url_of(db), "schema", "check")
    assert code == 3 and "missing_index" in out and "CREATE INDEX idx_ideas_priority" in out
    code, out, _ = run(capsys, *url_of(db), "schema", "check", "--format", "json")
    (finding,) = json.loads(out)
    assert code == 3 and set(finding) == {"kind", "object", "expected", "actual", "fix"}
    code, out, _ = run(capsys, *url_of(db), "schema", "check", "--ignore", "missing_index")
    assert (code, out) == (0, "")


def test_a_kind_that_does_not_exist_is_refused(reference, capsys) -> None:
    db = reference(IDEAS, "sqlite")
    code, _, err = run(capsys, *url_of(db), "schema", "check", "--ignore", "missing_tabel")
    assert code == 1 and "missing_tabel is not a kind" in err


def test_fltr_without_its_second_database_says_so_and_exits_2(reference, capsys) -> None:
    db = reference(FLTR, "sqlite")
    code, out, err = run(capsys, *url_of(db), "--product", "fltr", "schema", "check")
    assert code == 2 and out == "" and "fltr database" in err and "--data-url" in err


def test_every_kind_has_a_test_that_makes_it() -> None:
    made = {d.kind for d in DRIFTS} | {"unapplied_migration", "unknown_migration", "migration_gap"}
    assert made == set(KINDS)


# Migrations, each tool by its own rule.


def drizzle_folder(folder: Path, files: dict[str, bytes]) -> Path:
    (folder / "meta").mkdir(parents=True)
    entries = [
        {"idx": n, "version": "7", "when": 1760000000000 + n, "tag": name, "breakpoints": True}
        for n, name in enumerate(files)
    ]
    (folder / "meta" / "_journal.json").write_text(json.dumps({"entries": entries}))
    for name, text in files.items():
        (folder / f"{name}.sql").write_bytes(text)
    return folder


def test_drizzle_s_migrations_are_known_by_their_hash(reference, tmp_path: Path) -> None:
    db = reference(FLTR, "postgresql")
    files = {
        "0000_init": b"CREATE TABLE a (id int);",
        "0001_credits": b'CREATE TABLE "b" (id int);\n--> statement-breakpoint\nSELECT 1;',
        "0002_flashy_nova": b"ALTER TABLE user_credits ADD CONSTRAINT x;",
    }
    folder = drizzle_folder(tmp_path / "migrations", files)
    hashes = [hashlib.sha256(text).hexdigest() for text in files.values()]
    for n, digest in enumerate(hashes[:2]):
        execute(
            db,
            "INSERT INTO __drizzle_migrations (hash, created_at) VALUES (:h, :t)",
            h=digest,
            t=1760000000000 + n,
        )
    execute(db, "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('feed', 1)")
    assert kinds_of(db, migrations_dir=folder) == [
        ("unapplied_migration", "0002_flashy_nova.sql"),
        ("unknown_migration", "__drizzle_migrations: id 3, hash feed…"),
    ]
    # A file edited after it ran: Drizzle sees another hash, and so is it told.
    (folder / "0001_credits.sql").write_bytes(files["0001_credits"] + b"\n")
    assert kinds_of(db, migrations_dir=folder) == [
        ("unapplied_migration", "0001_credits.sql"),
        ("unapplied_migration", "0002_flashy_nova.sql"),
        ("unknown_migration", "__drizzle_migrations: id 3, hash feed…"),
    ]  # the row that ran 0001's first version is that file, not an unknown one
    edited = schema_check.check(db, migrations_dir=folder).findings[0]
    assert "changed after it ran" in edited.actual and "won't run it again" in edited.fix


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_drizzle_hash_is_the_one_node_computes(tmp_path: Path) -> None:
    """Drizzle hashes fs.readFileSync(file).toString(): a malformed UTF-8 byte counts as
    U+FFFD, a byte order mark stays."""
    for text in (b"CREATE TABLE a (id int);\n", "\ufeffCAF\u00c9;".encode(), b"bad \xff byte"):
        path = tmp_path / "m.sql"
        path.write_bytes(text)
        script = (
            "const c=require('crypto'),f=require('fs');process.stdout.write(c.createHash('sha256')"
            f".update(f.readFileSync({json.dumps(str(path))}).toString()).digest('hex'))"
        )
        node = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
        assert drizzle_hash(text) == node.stdout


def wrangler_table(db: Database) -> None:
    """The table wrangler makes in a D1 database on its first migration."""
    execute(
        db,
        "CREATE TABLE IF NOT EXISTS d1_migrations(id INTEGER PRIMARY KEY AUTOINCREMENT, "
        "name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)",
    )


def test_wrangler_s_migrations_are_known_by_their_file_name(reference, tmp_path: Path) -> None:
    db = reference(FILEPATH, "sqlite")
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name in ("0000_initial_schema.sql", "0001_budget_cap.sql", "notes.txt"):
        (folder / name).write_text("-- sql")
    assert kinds_of(db, migrations_dir=folder) == [
        ("unapplied_migration", "0000_initial_schema.sql"),
        ("unapplied_migration", "0001_budget_cap.sql"),
    ]
    report = schema_check.check(db, migrations_dir=folder)
    assert report.findings[0].actual == "not applied: the database has no d1_migrations table"
    wrangler_table(db)
    execute(
        db, "INSERT INTO d1_migrations (name) VALUES ('0000_initial_schema.sql'), ('0000_old.sql')"
    )
    assert kinds_of(db, migrations_dir=folder) == [
        ("unapplied_migration", "0001_budget_cap.sql"),
        ("unknown_migration", "d1_migrations: 0000_old.sql"),
    ]
    assert kinds_of(db) == []  # d1_migrations is wrangler's, not extra; no folder, no finding


def test_omnichat_s_numbered_migrations_run_without_gaps(reference, tmp_path: Path) -> None:
    db = reference(OMNICHAT, "sqlite")
    execute(
        db,
        "INSERT INTO schema_version (version, name, applied_at) VALUES "
        "(1, '0001_initial', 1), (2, '0002_billing', 2), (5, '0005_usage', 5), (7, '0007_x', 7)",
    )
    assert kinds_of(db) == [
        ("migration_gap", "schema_version: version 3"),
        ("migration_gap", "schema_version: version 4"),
        ("migration_gap", "schema_version: version 6"),
    ]
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name in ("0001_initial", "0002_billing", "0003_battery", "0005_usage", "0008_next"):
        (folder / f"{name}.sql").write_text("-- sql")
    assert kinds_of(db, migrations_dir=folder) == [
        ("unapplied_migration", "0003_battery.sql (number 3)"),
        ("unapplied_migration", "0008_next.sql (number 8)"),
        ("migration_gap", "schema_version: version 4"),
        ("migration_gap", "schema_version: version 6"),
        ("unknown_migration", "schema_version: version 7 (0007_x)"),
    ]


def test_idea_expansion_has_no_migration_record_to_compare(
    reference, tmp_path: Path, capsys
) -> None:
    db = reference(IDEAS, "sqlite")
    code, _, err = run(capsys, *url_of(db), "schema", "check", "--migrations", str(tmp_path))
    assert code == 1 and "run by hand" in err


def test_d1_s_recommended_indexes_are_written_as_sqlite_writes_them(omnichat: Database) -> None:
    """Advice, not drift: the relations' indexes D1's schema lacks, as DDL SQLite runs (no
    USING btree), each seen once it exists under any name."""
    advice = {a.advice.table: a for a in health.indexes(omnichat)}
    assert not any(a.present for a in advice.values())
    ddl = advice["conversations"].advice.ddl
    assert ddl == "CREATE INDEX conversations_userId ON conversations (userId);"
    run_fix(omnichat, ddl)
    execute(omnichat, "CREATE INDEX by_a_name_of_its_own ON api_usage (user_id)")
    present = {a.advice.table for a in health.indexes(omnichat) if a.present}
    assert present == {"conversations", "api_usage"}
    assert kinds_of(omnichat) == [("migration_gap", "schema_version: version 4")]  # not drift


def test_a_journal_that_points_outside_its_folder_is_refused(tmp_path: Path) -> None:
    folder = drizzle_folder(tmp_path / "migrations", {"0000_init": b"SELECT 1;"})
    (tmp_path / "secret.sql").write_text("-- not a migration")
    journal = folder / "meta" / "_journal.json"
    journal.write_text(json.dumps({"entries": [{"tag": "../secret", "when": 1}]}))
    with pytest.raises(InputError, match="not a file of"):
        files(folder, "drizzle")
    journal.write_text("{not json")
    with pytest.raises(InputError, match="not a Drizzle journal"):
        files(folder, "drizzle")


def test_a_live_name_built_to_break_its_fix_is_quoted(reference) -> None:
    """A table or column of the live database is named by its fix exactly, whatever it holds:
    the fix drops that object and nothing else."""
    db = reference(IDEAS, "postgresql")
    hostile = 'x"; DROP TABLE users; --'
    execute(db, f'CREATE TABLE "{hostile.replace(chr(34), chr(34) * 2)}" (id int)')
    execute(db, 'ALTER TABLE ideas ADD COLUMN "a b\nc" int')
    found = schema_check.check(db).findings
    assert sorted(f.kind for f in found) == ["extra_column", "extra_table"]
    assert "ideas.a b\\u000ac" in [f.object for f in found]  # one line, in a table or a comment
    for finding in found:
        assert re.match(r"(--[^\n]*\n)*(DROP|ALTER) TABLE ", finding.fix)  # comments stay comments
        run_fix(db, finding.fix)
    assert kinds_of(db) == []
    assert rows(db, "SELECT count(*) AS n FROM users") == [{"n": 0}]  # still there


@pytest.mark.parametrize(
    ("dialect", "ddl"),
    [
        # The same schema, written another way.
        (
            "postgresql",
            "ALTER TABLE credentials DROP CONSTRAINT credentials_user_id_provider_key, ADD "
            "CONSTRAINT credentials_user_id_provider_key UNIQUE (provider, user_id)",
        ),
        (
            "postgresql",
            "ALTER TABLE users DROP CONSTRAINT users_email_key; "
            "CREATE UNIQUE INDEX users_email_key ON users (email) INCLUDE (name)",
        ),
        (
            "sqlite",
            'DROP INDEX idx_ideas_priority; CREATE INDEX "idx_ideas_priority" ON "ideas" '
            "(`priority_score` DESC)",
        ),
        ("sqlite", ("ideas", "CHECK (priority_score >= 0", 'CHECK ("priority_score" >= 0')),
        ("sqlite", ("ideas", "REFERENCES users(id)", "REFERENCES Users(ID)")),
        ("sqlite", ("users", "id TEXT PRIMARY KEY", "id TEXT NOT NULL PRIMARY KEY")),
    ],
)
def test_the_same_schema_written_another_way_is_no_drift(reference, dialect, ddl) -> None:
    db = reference(IDEAS, dialect)
    drift(db, dialect, ddl)
    assert kinds_of(db) == []


def test_a_missing_column_brings_its_keys_and_checks_with_it(reference) -> None:
    db = reference(IDEAS, "postgresql")
    execute(db, "ALTER TABLE ideas DROP COLUMN priority_score")  # its CHECK and index go too
    found = schema_check.check(db).findings
    assert [(f.kind, f.object) for f in found] == [
        ("missing_column", "ideas.priority_score"),
        ("missing_index", "ideas: idx_ideas_priority"),
    ]
    for finding in found:
        run_fix(db, finding.fix)
    assert kinds_of(db) == []
    fltr = reference(FLTR, "postgresql")  # a key written apart from its column (Drizzle's)
    execute(fltr, "ALTER TABLE credit_transactions DROP COLUMN team_id")
    (finding,) = schema_check.check(fltr).findings
    assert "ADD CONSTRAINT credit_transactions_team_id_teams_id_fk" in finding.fix
    run_fix(fltr, finding.fix)
    assert kinds_of(fltr) == []


def test_fts5_is_one_table(reference) -> None:
    db = reference(OMNICHAT, "sqlite")
    execute(db, "CREATE VIRTUAL TABLE msg_fts USING fts5(content)")
    (finding,) = schema_check.check(db).findings
    assert (finding.kind, finding.object) == ("extra_table", "msg_fts")
    run_fix(db, finding.fix)
    assert kinds_of(db) == []


def test_a_d1_rebuild_names_what_it_would_lose(reference) -> None:
    """The rows of a live child table the reference doesn't know, and a live column it lacks:
    said before the fix that would lose them."""
    db = reference(FILEPATH, "sqlite")
    execute(
        db,
        "CREATE TABLE invoices (id TEXT PRIMARY KEY, "
        'user_id TEXT REFERENCES "user"(id) ON DELETE CASCADE)',
    )
    execute(db, "ALTER TABLE apikey ADD COLUMN legacy_credits INTEGER")
    sqlite_rebuild(
        db,
        "user",
        "credit_balance INTEGER NOT NULL DEFAULT 0",
        "credit_balance INTEGER NOT NULL DEFAULT 5",
    )
    sqlite_rebuild(db, "apikey", "budget_cap INTEGER", "budget_cap TEXT")
    found = {f.object: f for f in schema_check.check(db).findings}
    assert "invoices (cascade)" in found["user.credit_balance"].fix
    assert (
        "Not carried over (the reference lacks them): column legacy_credits"
        in found["apikey.budget_cap"].fix
    )


def test_a_pg_dump_hint_is_one_shell_word(reference) -> None:
    db = reference(IDEAS, "postgresql")
    name = "$(touch pwned) camelCase"
    execute(db, f'CREATE TABLE "{name}" (id int)')
    (finding,) = schema_check.check(db).findings
    hint = re.search(r"\((pg_dump .*?)\) and move", finding.fix)[1]
    assert shlex.split(hint) == ["pg_dump", f'--table="{name}"']


def test_supabase_s_trigram_index_is_seen_with_its_schema(reference) -> None:
    db = reference(IDEAS, "postgresql")
    execute(
        db,
        "CREATE SCHEMA extensions; CREATE EXTENSION pg_trgm SCHEMA extensions; "
        "CREATE INDEX by_email ON users USING gin (lower(email) extensions.gin_trgm_ops)",
    )
    present = {a.advice.ddl.splitlines()[-1] for a in health.indexes(db) if a.present}
    assert (
        "CREATE INDEX users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);" in present
    )


def test_numbered_migrations_that_are_not_a_sequence_are_one_finding(reference) -> None:
    db = reference(OMNICHAT, "sqlite")
    execute(
        db,
        "INSERT INTO schema_version (version, name) VALUES (1, 'a'), (20240101120000, 'b'), "
        "(3, 'c')",
    )
    assert kinds_of(db) == [("migration_gap", "schema_version: versions 1 to 20240101120000")]
    execute(db, "DELETE FROM schema_version WHERE version > 3")
    for n in range(40, 70):
        execute(db, "INSERT INTO schema_version (version) VALUES (:n)", n=n)
    gaps = kinds_of(db)
    assert len(gaps) == 21 and gaps[:2] == [
        ("migration_gap", "schema_version: version 2"),
        ("migration_gap", "schema_version: version 4"),
    ]
    assert gaps[-1] == ("migration_gap", "schema_version: versions 23 to 39")
    # A drifted table (version as TEXT) can hold what isn't a number: told, never a crash.
    rows = [{"name": "x", "hash": None, "version": v, "applied_at": None} for v in ("2b", None, 1)]
    found = migrations.compare(OMNICHAT.migrations, rows, None)
    assert [(f.kind, f.object) for f in found] == [
        ("unknown_migration", "schema_version: version 2b (x)"),
        ("unknown_migration", "schema_version: version None (x)"),
    ]


def test_a_numbered_folder_must_say_one_order(tmp_path: Path) -> None:
    for names, says in (
        (("0001_a.sql", "001_b.sql"), "both have number 1"),
        (("0001_a.sql", "0002-b.sql"), "is not named NNNN_description.sql"),
    ):
        folder = tmp_path / says.split()[0]
        folder.mkdir()
        for name in names:
            (folder / name).write_text("-- sql")
        with pytest.raises(InputError, match=says):
            files(folder, "numbered")


def test_drizzle_skips_a_file_older_than_the_last_it_ran(reference, tmp_path: Path) -> None:
    db = reference(FLTR, "postgresql")
    texts = {"0000_a": b"SELECT 1;", "0001_b": b"SELECT 2;"}
    folder = drizzle_folder(tmp_path / "migrations", texts)
    execute(
        db,
        "INSERT INTO __drizzle_migrations (hash, created_at) VALUES (:h, 1760000000001)",
        h=hashlib.sha256(texts["0001_b"]).hexdigest(),
    )
    (finding,) = schema_check.check(db, migrations_dir=folder).findings
    assert finding.object == "0000_a.sql" and "Drizzle skips it" in finding.fix

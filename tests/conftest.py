"""Real databases for every test: a throwaway PostgreSQL cluster and SQLite files.

The cluster is started once per session with the system's initdb / pg_ctl, as an unprivileged
user (initdb refuses root), listening on loopback only at a free port, with password auth so
refused logins can be tested; it is removed afterwards. Each test that asks for `db` gets a fresh
copy of the fixture data (a PostgreSQL database cloned from a template, or a copied SQLite file).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring
from sqlalchemy import Engine, create_engine, text

from adminui import connect
from adminui.cli import main
from adminui.config import Profile, normalize_url
from adminui.d1_db import D1Database
from adminui.db import Database
from adminui.demo import build_demo
from adminui.pack_demo import create_schema, fill
from adminui.packs import DATA, MAIN, Pack, pack_named
from adminui.queries import Registry
from adminui.schema import reference_tables
from tests.d1_standin import ACCOUNT, D1StandIn
from tests.d1_standin import TOKEN as D1_TOKEN
from tests.pg_cluster import PG_PASSWORD, ClusterError, PgServer, start_cluster

FIXTURE_USERS = 60
FIXTURE_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DIALECTS = ("postgresql", "sqlite")
D1_REACHED = ("file", "api")  # a D1 pack's database as a local file, and over the D1 API
D1_FILES: dict[str, Path] = {}  # a stand-in's database id -> the SQLite file it serves


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        with start_cluster() as server:
            yield server
    except ClusterError as error:
        pytest.fail(str(error))


def pg_profile(server: PgServer, database: str, **options: object) -> Profile:
    """A profile for one database of the test cluster (password not in the URL)."""
    url = normalize_url(server.url(database, password=False), "test")
    return Profile(name="test", url=url, **options)  # type: ignore[arg-type]


def sqlite_profile(path: Path, **options: object) -> Profile:
    """A profile for a SQLite file."""
    return Profile(name="test", url=normalize_url(f"sqlite:///{path}", "test"), **options)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer) -> str:
    """A database holding the reference schema and the fixture data, used as a template."""
    name = "adminui_fixture"
    pg_server.psql(f"CREATE DATABASE {name}")
    db = Database(pg_profile(pg_server, name), PG_PASSWORD)
    build_demo(db, FIXTURE_USERS, now=FIXTURE_NOW, orphans=False)
    db.dispose()
    return name


@pytest.fixture
def pg_db(pg_server: PgServer, pg_template: str) -> Iterator[Database]:
    """A fresh PostgreSQL database with the fixture data."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.psql(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    db = Database(pg_profile(pg_server, name), PG_PASSWORD)
    yield db
    db.dispose()
    pg_server.psql(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file holding the reference schema and the fixture data."""
    path = tmp_path_factory.mktemp("sqlite") / "fixture.sqlite"
    db = Database(sqlite_profile(path), create=True)
    build_demo(db, FIXTURE_USERS, now=FIXTURE_NOW, orphans=False)
    db.dispose()
    return path


@pytest.fixture
def sqlite_db(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    """A fresh SQLite copy of the fixture data."""
    path = tmp_path / "test.sqlite"
    shutil.copy(sqlite_template, path)
    db = Database(sqlite_profile(path))
    yield db
    db.dispose()


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest) -> Database:
    """The fixture data on each dialect in turn."""
    return request.getfixturevalue(f"{'pg' if request.param == 'postgresql' else 'sqlite'}_db")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's config, keyring, data dir or password variable."""
    for kind in ("CONFIG", "DATA", "STATE", "CACHE"):
        monkeypatch.setenv(f"XDG_{kind}_HOME", str(tmp_path / f"xdg-{kind.lower()}"))
    monkeypatch.delenv("ADMINUI_PASSWORD", raising=False)
    monkeypatch.delenv("ADMINUI_CONFIG", raising=False)
    monkeypatch.delenv("ADMINUI_AUDIT_LOG", raising=False)
    keyring.set_keyring(PlaintextKeyring())


def sqlite_file(db: Database) -> Path:
    """The SQLite file of a SQLite database, or the one a D1 stand-in serves it from."""
    name = db.profile.url.database or ""
    return D1_FILES[name] if db.profile.d1 else Path(name)


def raw_engine(db: Database) -> Engine:
    """A plain SQLAlchemy engine on the same database, for tests to look behind the app."""
    url = connect.sqlite_url(sqlite_file(db)) if db.dialect == "sqlite" else db.profile.url
    if db.dialect == "postgresql":
        url = url.set(password=PG_PASSWORD)
    return create_engine(url)


def rows(db: Database, sql: str, **params: object) -> list[dict]:
    """Every row of a query run past adminui, as plain dicts."""
    engine = raw_engine(db)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def execute(db: Database, sql: str, **params: object) -> None:
    """One statement run past adminui and committed, as another program would."""
    engine = raw_engine(db)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def scalar(db: Database, sql: str, **params: object) -> object:
    """One value read straight from the database (an independent check of what ops return)."""
    engine = raw_engine(db)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()
    finally:
        engine.dispose()


def with_registry(db: Database, registry: Registry, **options: object) -> Database:
    """The same database opened with other vetted statements or profile options."""
    profile = dataclasses.replace(db.profile, **options)  # type: ignore[arg-type]
    password = PG_PASSWORD if db.dialect == "postgresql" else None
    return Database(profile, password, registry)


def needle(db: Database) -> str:
    """A search text that matches a few fixture users: the newest user's last name."""
    return (
        str(
            scalar(
                db, "SELECT name FROM users WHERE name IS NOT NULL ORDER BY created_at DESC LIMIT 1"
            )
        )
        .split()[-1]
        .lower()
    )


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_process(*argv: str | bytes) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI in a process of its own, as a shell would: arguments may be raw bytes, and
    stdout and stderr are the bytes a terminal would get. Nothing comes on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "adminui", *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
        check=False,
    )


def start_cli(*argv: str, **popen: Any) -> subprocess.Popen[str]:
    """The CLI started in a process of its own, left running (for a test to signal or kill)."""
    return subprocess.Popen(
        [sys.executable, "-m", "adminui", *argv], stdin=subprocess.DEVNULL, text=True, **popen
    )


def kill_once_written(child: subprocess.Popen[str], partial: Path) -> None:
    """SIGKILL the CLI as soon as `partial` (a backup being written) holds its first bytes."""
    deadline = time.monotonic() + 60
    while not (partial.exists() and partial.stat().st_size > 0):
        assert child.poll() is None and time.monotonic() < deadline, "the backup never started"
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(10)


def lone_pending_receipt(db: Database) -> str:
    """A pending receipt whose reference no other receipt has (a verify needs no override)."""
    return str(
        scalar(
            db,
            "SELECT id FROM payment_receipts r WHERE status = 'pending' AND NOT EXISTS "
            "(SELECT 1 FROM payment_receipts o WHERE o.id <> r.id "
            "AND lower(trim(o.bmc_reference)) = lower(trim(r.bmc_reference))) "
            "ORDER BY id LIMIT 1",
        )
    )


@pytest.fixture
def url(db: Database) -> str:
    """A --url for the test database (with the fixture password)."""
    if db.dialect == "sqlite":
        return f"sqlite:///{db.profile.url.database}"
    return db.profile.url.set(password=PG_PASSWORD).render_as_string(hide_password=False)


# The fltr pack's fixture (tests/test_fltr*.py): its two databases on each dialect.
FLTR = pack_named("fltr")
FLTR_USERS = 400
# Seed 003: production lacks user_credits.user_id's key, and the orphans of the demo show the
# other keys from users and teams were missing too (their rows outlived their parents).
# The keys the PostgreSQL fixture drops (table, constraint), by database.
FLTR_DROPPED = {
    MAIN: (
        ("user_credits", "user_credits_user_id_users_id_fk"),
        ("user_credits", "user_credits_team_id_teams_id_fk"),
        ("credit_transactions", "credit_transactions_user_id_users_id_fk"),
        ("credit_transactions", "credit_transactions_team_id_teams_id_fk"),
        ("api_key_credits", "api_key_credits_user_id_users_id_fk"),
        ("sessions", "sessions_user_id_users_id_fk"),
        ("teams", "teams_owner_id_users_id_fk"),
    ),
    DATA: (
        ("documents", "documents_dataset_id_fkey"),
        ("processing_jobs", "processing_jobs_document_id_fkey"),
    ),
}


def _with_data(profile: Profile, data: Profile) -> Profile:
    return Profile(name="fltr", url=profile.url, data_url=data.url, product=None)


@pytest.fixture(scope="session")
def fltr_pg_template(pg_server: PgServer) -> dict[str, str]:
    """fltr_auth and fltr on the test cluster, with the demo's rows, seed 003's keys dropped."""
    names = {MAIN: "fltr_auth_fixture", DATA: "fltr_fixture"}
    databases = {}
    for role, name in names.items():
        pg_server.psql(f"CREATE DATABASE {name}")
        databases[role] = Database(pg_profile(pg_server, name), PG_PASSWORD, pack=FLTR)
    create_schema(databases)
    for role, keys in FLTR_DROPPED.items():
        for table, constraint in keys:
            pg_server.psql(f"ALTER TABLE {table} DROP CONSTRAINT {constraint}", names[role])
    fill(databases, FLTR_USERS, FIXTURE_NOW)
    for db in databases.values():
        db.dispose()
    return names


def fltr_databases(pg_server: PgServer, template: dict[str, str]) -> Iterator[Database]:
    """A copy of the fltr template's two databases, both named by the one Database."""
    import uuid

    names = {role: f"f_{uuid.uuid4().hex[:12]}" for role in template}
    for role, name in names.items():
        pg_server.psql(f"CREATE DATABASE {name} TEMPLATE {template[role]}")
    main, data = (pg_profile(pg_server, names[r]) for r in (MAIN, DATA))
    db = Database(_with_data(main, data), PG_PASSWORD, pack=FLTR)
    yield db
    db.dispose()
    for name in names.values():
        pg_server.psql(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def fltr_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fltr") / "fltr.sqlite"
    files = connect.demo_files(path, FLTR)
    databases = {
        role: Database(sqlite_profile(file), pack=FLTR, create=True, enforce_foreign_keys=False)
        for role, file in files.items()
    }
    create_schema(databases)
    fill(databases, FLTR_USERS, FIXTURE_NOW)
    for db in databases.values():
        db.dispose()
    return path


OMNICHAT = pack_named("omnichat")
FILEPATH = pack_named("filepath")
D1_USERS = 120  # each D1 pack's fixture


def d1_template(pack: Pack, folder: Path) -> Path:
    """A D1 pack's demo data at FIXTURE_NOW in a SQLite file, built as `adminui demo` builds it."""
    path = folder / f"{pack.name}.sqlite"
    db = Database(sqlite_profile(path), pack=pack, create=True, enforce_foreign_keys=False)
    create_schema({MAIN: db})
    fill({MAIN: db}, D1_USERS, FIXTURE_NOW)
    db.dispose()
    return path


def dump_tables(db: Database, pack: Pack) -> dict[str, list[tuple]]:
    """Every row of every table of the pack's reference schema, as the driver gives them, in
    key order: what a clean and its restore must give back whole."""
    engine = raw_engine(db)
    try:
        with engine.connect() as conn:
            return {
                table: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
                for table in reference_tables(pack)
            }
    finally:
        engine.dispose()


def d1_copy(request: pytest.FixtureRequest, template: Path, pack: Pack) -> Iterator[Database]:
    """A fresh copy of a D1 pack's fixture file, opened as a file or (the request's param "api")
    through the session's D1 API stand-in serving it, as the CLI reaches it too: the token in
    ADMINUI_PASSWORD, the stand-in in ADMINUI_D1_API (raw_engine looks behind it, at the file)."""
    path = request.getfixturevalue("tmp_path") / template.name
    shutil.copy(template, path)
    if getattr(request, "param", "file") == "file":
        db = Database(sqlite_profile(path), pack=pack)
        yield db
        db.dispose()
        return
    standin: D1StandIn = request.getfixturevalue("d1_api")
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("ADMINUI_D1_API", standin.base)
    monkeypatch.setenv("ADMINUI_PASSWORD", D1_TOKEN)
    database = standin.serve(path, str(uuid.uuid4()))
    D1_FILES[database] = path
    db = d1_database(standin, database, pack)
    yield db
    db.dispose()
    standin.forget(database)
    del D1_FILES[database]


def d1_database(standin: D1StandIn, database: str, pack: Pack, **options: Any) -> D1Database:
    """adminui's D1 database for one that `standin` serves, as a profile's d1:// url opens it."""
    url = normalize_url(f"d1://{ACCOUNT}/{database}", "test")
    return D1Database(Profile("d1", url, d1_api=standin.base, **options), D1_TOKEN, pack=pack)


@pytest.fixture(scope="session")
def d1_api() -> Iterator[D1StandIn]:
    """The D1 API's stand-in, serving every test's D1 databases (each by an id of its own)."""
    with D1StandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def omnichat_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return d1_template(OMNICHAT, tmp_path_factory.mktemp("omnichat"))


@pytest.fixture(params=D1_REACHED)
def omnichat(request: pytest.FixtureRequest, omnichat_template: Path) -> Iterator[Database]:
    """OmniChat's fixture, as a file and through the D1 API's stand-in."""
    yield from d1_copy(request, omnichat_template, OMNICHAT)


@pytest.fixture
def omnichat_file(request: pytest.FixtureRequest, omnichat_template: Path) -> Iterator[Database]:
    """OmniChat's fixture as a file only: the writes (not built over the D1 API yet)."""
    yield from d1_copy(request, omnichat_template, OMNICHAT)


@pytest.fixture(scope="session")
def filepath_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return d1_template(FILEPATH, tmp_path_factory.mktemp("filepath"))


@pytest.fixture(params=D1_REACHED)
def filepath(request: pytest.FixtureRequest, filepath_template: Path) -> Iterator[Database]:
    """filepath's fixture, as a file and through the D1 API's stand-in."""
    yield from d1_copy(request, filepath_template, FILEPATH)


@pytest.fixture
def filepath_file(request: pytest.FixtureRequest, filepath_template: Path) -> Iterator[Database]:
    """filepath's fixture as a file only: the writes (not built over the D1 API yet)."""
    yield from d1_copy(request, filepath_template, FILEPATH)


@pytest.fixture(params=("postgresql", "sqlite"))
def fltr(request, tmp_path: Path) -> Iterator[Database]:
    """The fltr fixture, both databases named, on each dialect in turn."""
    if request.param == "postgresql":
        server = request.getfixturevalue("pg_server")
        yield from fltr_databases(server, request.getfixturevalue("fltr_pg_template"))
        return
    yield from fltr_files(request.getfixturevalue("fltr_sqlite_template"), tmp_path)


def fltr_files(template: Path, folder: Path) -> Iterator[Database]:
    """A copy of the fltr SQLite template's two files in `folder`, both named by the one
    Database."""
    files = {}
    for role, file in connect.demo_files(template, FLTR).items():
        files[role] = folder / file.name
        shutil.copy(file, files[role])
    db = Database(_with_data(sqlite_profile(files[MAIN]), sqlite_profile(files[DATA])), pack=FLTR)
    yield db
    db.dispose()

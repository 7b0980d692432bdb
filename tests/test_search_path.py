"""The session can't be steered from outside (issue 13 item 4; DESIGN.md, safety rule 7).

The vetted statements name tables and functions unqualified, so whatever the search path finds
first is what a grant reads and writes. Each test sets an attack up on the real server the way an
attacker would, with look-alikes of `usage_tracking` (with a trigger), `lower()` (which, in a
writable transaction, pays the attacker's own account) and `current_schema()` (which SQLAlchemy
calls when it first connects), each counting its runs in a sequence, which no rollback undoes. A
grant must then change only the real table and report its real totals, or be refused in one
sentence before anything of the attacker's ran.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from adminui.config import Profile, normalize_url
from adminui.db import Database
from adminui.errors import SetupError
from adminui.ops import credits
from tests.conftest import pg_profile, run
from tests.pg_cluster import PG_PASSWORD, PgServer
from tests.roles import Role, login_role

GRANTED = 7
LOOKALIKE_CREDITS = 100_000  # what the look-alike lower() pays the attacker, each call
LOOKALIKES = ("usage_tracking trigger", "lower", "current_schema")
ROLE_PASSWORD = "role-of-the-app-password"


def lookalikes(schema: str, attacker_id: str) -> str:
    """The attacker's script: look-alikes in `schema`, each bumping a sequence when it runs."""
    counters = "".join(f"CREATE SEQUENCE {schema}.ran_{i};" for i in range(len(LOOKALIKES)))
    return f"""
        CREATE SCHEMA IF NOT EXISTS {schema};
        {counters}
        CREATE TABLE {schema}.usage_tracking (LIKE public.usage_tracking INCLUDING ALL);
        INSERT INTO {schema}.usage_tracking SELECT * FROM public.usage_tracking;
        UPDATE {schema}.usage_tracking SET paid_credits_remaining = paid_credits_remaining + 1000;
        CREATE FUNCTION {schema}.spy() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN PERFORM pg_catalog.nextval('{schema}.ran_0'); RETURN NEW; END $$;
        CREATE TRIGGER spy BEFORE INSERT OR UPDATE ON {schema}.usage_tracking
          FOR EACH ROW EXECUTE FUNCTION {schema}.spy();
        CREATE FUNCTION {schema}.lower(text) RETURNS text LANGUAGE plpgsql AS $$
          BEGIN
            IF pg_catalog.current_setting('transaction_read_only') = 'off' THEN
              PERFORM pg_catalog.nextval('{schema}.ran_1');
              UPDATE public.usage_tracking
              SET paid_credits_remaining = paid_credits_remaining + {LOOKALIKE_CREDITS}
              WHERE user_id = '{attacker_id}';
            END IF;
            RETURN pg_catalog.lower($1);
          END $$;
        CREATE FUNCTION {schema}.current_schema() RETURNS name LANGUAGE plpgsql AS $$
          BEGIN PERFORM pg_catalog.nextval('{schema}.ran_2'); RETURN 'public'; END $$;
        GRANT USAGE ON SCHEMA {schema} TO PUBLIC;
        GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO PUBLIC;
        GRANT ALL ON ALL SEQUENCES IN SCHEMA {schema} TO PUBLIC;
    """


@dataclass(frozen=True)
class Outcome:
    """What happened between two looks at the database."""

    granted: int  # credits the granted user's real row gained
    stolen: int  # credits the attacker's real row gained
    ran: dict[str, int]  # look-alike -> how often it ran

    def __str__(self) -> str:
        ran = ", ".join(f"{name} ran {n}x" for name, n in self.ran.items() if n) or "nothing ran"
        return f"+{self.granted:,} granted, +{self.stolen:,} to the attacker, {ran}"


@dataclass(frozen=True)
class Scene:
    """A database with the attacker's look-alikes in `schema`: a user to grant credits to and
    the attacker's own account. Looked at with psql, whose connection runs nothing unqualified
    (a SQLAlchemy engine would call current_schema() itself)."""

    server: PgServer
    database: str
    schema: str
    user_id: str
    email: str
    attacker_id: str

    def look(self) -> tuple[int, int, list[int]]:
        ran = ", ".join(
            f"(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {self.schema}.ran_{i})"
            for i in range(len(LOOKALIKES))
        )
        paid = "SELECT paid_credits_remaining FROM public.usage_tracking WHERE user_id = '{}'"
        line = self.server.psql(
            "SET search_path = pg_catalog, pg_temp; "
            f"SELECT ({paid.format(self.user_id)}), ({paid.format(self.attacker_id)}), {ran}",
            self.database,
        )
        user, attacker, *runs = (int(v) for v in line.strip().split("|"))
        return user, attacker, runs

    def total(self) -> int:
        """The user's real credits, free and paid."""
        return int(
            self.server.psql(
                "SELECT free_expansions_remaining + paid_credits_remaining "
                f"FROM public.usage_tracking WHERE user_id = '{self.user_id}'",
                self.database,
            )
        )

    def since(self, before: tuple[int, int, list[int]]) -> Outcome:
        user, attacker, runs = self.look()
        return Outcome(
            user - before[0],
            attacker - before[1],
            {name: n - m for name, n, m in zip(LOOKALIKES, runs, before[2], strict=True)},
        )


def scene(server: PgServer, database: str, schema: str, plant: psycopg.Connection | None) -> Scene:
    """Pick the user and the attacker, and plant the look-alikes (as `plant`, else as the
    superuser)."""
    rows = server.psql(
        "SELECT u.id, u.email FROM public.users u JOIN public.usage_tracking t "
        "ON t.user_id = u.id ORDER BY u.email LIMIT 2",
        database,
    ).split()
    (user_id, email), (attacker_id, _) = (row.split("|") for row in rows)
    script = lookalikes(schema, attacker_id)
    if plant is None:
        server.psql(script, database)
    else:
        plant.execute(script)
        plant.commit()
    return Scene(server, database, schema, user_id, email, attacker_id)


SAFE = {name: 0 for name in LOOKALIKES}


def a_grant() -> credits.GrantInput:
    return credits.parse_grant(GRANTED, "7.00", f"BMC-{uuid.uuid4().hex[:8]}", max_credits=100)


@pytest.fixture
def app_role(pg_server: PgServer, pg_db: Database) -> Iterator[Role]:
    """The app's own login role (not a superuser): every privilege on the product's tables,
    and CREATE on its database, as Supabase's `postgres` role has."""
    with login_role(
        pg_server, pg_db.profile.url.database, ROLE_PASSWORD, select_only=False
    ) as role:
        pg_server.psql(f"GRANT CREATE ON DATABASE {role.database} TO {role.name}")
        yield role


def as_role(role: Role) -> psycopg.Connection:
    """The attacker, holding the app role's credentials."""
    return psycopg.connect(
        host=role.server.host,
        port=role.server.port,
        user=role.name,
        password=role.password,
        dbname=role.database,
    )


def role_db(role: Role, **options: object) -> Database:
    profile = Profile(name="test", url=normalize_url(role.url(), "test"), **options)  # type: ignore[arg-type]
    return Database(profile, role.password)


# --- (a) a schema named after the role: first in the default "$user", public -----------------


@pytest.fixture
def own_schema(app_role: Role) -> Scene:
    """The role creates a schema of its own name and plants the look-alikes there."""
    with as_role(app_role) as attacker:
        return scene(app_role.server, app_role.database, app_role.name, attacker)


def test_a_schema_named_after_the_role_does_not_take_a_grant(own_schema: Scene, app_role) -> None:
    before, total = own_schema.look(), own_schema.total()
    db = role_db(app_role)
    try:
        result = credits.grant_credits(db, own_schema.user_id, a_grant(), "op")
    finally:
        db.dispose()
    outcome = own_schema.since(before)
    assert outcome == Outcome(GRANTED, 0, SAFE), str(outcome)
    assert (result.previous_total, result.new_total) == (total, total + GRANTED)


def test_the_cli_grant_ignores_a_schema_named_after_the_role(
    own_schema: Scene, app_role: Role, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("ADMINUI_PASSWORD", app_role.password)
    before, total = own_schema.look(), own_schema.total()
    code, out, err = run(
        capsys,
        "grant",
        own_schema.email,
        str(GRANTED),
        "7.00",
        "--ref",
        "BMC-OWN-SCHEMA",
        "--yes",
        "--format",
        "json",
        "--url",
        app_role.url(),
    )
    assert code == 0, err
    outcome = own_schema.since(before)
    assert outcome == Outcome(GRANTED, 0, SAFE), str(outcome)
    shown = json.loads(out)
    assert (shown["previous_total"], shown["new_total"]) == (total, total + GRANTED)


# --- (b) routes that change the session from outside ------------------------------------------

PATHS = ("evil,public", "evil,pg_catalog,public")


@pytest.fixture
def evil(pg_server: PgServer, pg_db: Database) -> Scene:
    """Look-alikes in a schema `evil`, planted by someone who may create schemas."""
    return scene(pg_server, pg_db.profile.url.database, "evil", None)


def _grant_cli(capsys, evil: Scene, *where: str) -> tuple[int, str, str]:
    return run(
        capsys, "grant", evil.email, str(GRANTED), "7.00", "--ref", "BMC-ROUTE", "--yes", *where
    )


ROUTES = ("--url options", "config url options", "PGOPTIONS", "--url service", "PGSERVICE")


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("route", ROUTES)
def test_a_search_path_from_outside_is_refused(
    evil: Scene, pg_server: PgServer, tmp_path: Path, capsys, monkeypatch, route: str, path: str
) -> None:
    """Each route is refused before connecting, in one sentence naming where it came from."""
    monkeypatch.setenv("ADMINUI_PASSWORD", PG_PASSWORD)
    base = pg_server.url(evil.database, password=False)
    options = "-csearch_path%3D" + path
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[evil]\noptions=-csearch_path={path}\n")
    config = tmp_path / "c.toml"
    config.write_text(f'[profiles.p]\nurl = "{base}?options={options}"\n')
    argv, named = {
        "--url options": (("--url", f"{base}?options={options}"), "--url"),
        "config url options": (("--config", str(config)), f"{config}: [profiles.p] url"),
        "PGOPTIONS": (("--url", base), "PGOPTIONS"),
        "--url service": (("--url", f"{base}?service=evil"), "--url"),
        "PGSERVICE": (("--url", base), "PGSERVICE"),
    }[route]
    before = evil.look()
    with monkeypatch.context() as environment:  # only the app's own connection sees it
        environment.setenv("PGSERVICEFILE", str(services))
        if route.startswith("PG"):
            value = f"-csearch_path={path}" if route == "PGOPTIONS" else "evil"
            environment.setenv(route, value)
        code, _, err = _grant_cli(capsys, evil, *argv)
    outcome = evil.since(before)
    assert outcome == Outcome(0, 0, SAFE), f"{route} route: {outcome} {err}"
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert named in err and "search_path" in err, err


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ("evil, public", None),
        ("evil, pg_catalog, public", "evil"),
        ('"$user", EVIL, "pg_catalog"', "$user"),  # quoted or not, as PostgreSQL reads it
        ('"evil,pg_catalog", public', None),  # one schema (that does not exist) and public
    ],
)
@pytest.mark.parametrize("level", ["ROLE", "DATABASE"])
def test_a_search_path_set_on_the_role_or_database_is_harmless_or_refused(
    app_role: Role, level: str, path: str, refused: str | None
) -> None:
    """ALTER ROLE/DATABASE ... SET search_path reaches every session of the role. With
    pg_catalog not listed (PostgreSQL then searches it first) the pin per transaction keeps the
    look-alikes out. Listed after another schema, SQLAlchemy's own first statement on a new
    connection would call that schema's current_schema(): the connection is refused, in one
    sentence naming the setting, before anything of SQLAlchemy's runs."""
    with as_role(app_role) as attacker:
        evil = scene(app_role.server, app_role.database, "evil", attacker)
    target = app_role.name if level == "ROLE" else app_role.database
    app_role.server.psql(f"ALTER {level} {target} SET search_path = {path}")
    before, total = evil.look(), evil.total()
    db = role_db(app_role)
    try:
        result = credits.grant_credits(db, evil.user_id, a_grant(), "op")
        told = None
    except SetupError as error:
        result, told = None, str(error)
    finally:
        db.dispose()
        app_role.server.psql(f"ALTER {level} {target} RESET search_path")
    outcome = evil.since(before)
    if refused:
        assert outcome == Outcome(0, 0, SAFE), f"ALTER {level} {path}: {outcome}"
        assert told and f"(from ALTER {level} " in told and f"lists {refused!r} before" in told
        assert "\n" not in told
    else:
        assert outcome == Outcome(GRANTED, 0, SAFE), f"ALTER {level} {path}: {outcome}"
        assert result and (result.previous_total, result.new_total) == (total, total + GRANTED)


# --- the profile's schema ---------------------------------------------------------------------


def test_the_profiles_schema_is_the_one_every_statement_uses(
    pg_server: PgServer, pg_db: Database, tmp_path: Path, capsys, monkeypatch
) -> None:
    """The product's tables in a schema `app`, public left empty: with `schema = "app"` a grant
    and the health view's indexes find them; without it, the same profile finds no users."""
    database = pg_db.profile.url.database
    pg_server.psql("ALTER SCHEMA public RENAME TO app; CREATE SCHEMA public", database)
    monkeypatch.setenv("ADMINUI_PASSWORD", PG_PASSWORD)
    url = pg_server.url(database, password=False)
    config = tmp_path / "c.toml"
    config.write_text(
        f'[profiles.app]\nurl = "{url}"\nschema = "app"\n[profiles.p]\nurl = "{url}"\n'
    )
    email = pg_server.psql("SELECT email FROM app.users ORDER BY email LIMIT 1", database).strip()
    code, out, err = run(
        capsys,
        "grant",
        email,
        "2",
        "2.00",
        "--ref",
        "BMC-APP",
        "--yes",
        "--format",
        "json",
        "--config",
        str(config),
        "--profile",
        "app",
    )
    assert code == 0, err
    receipt = json.loads(out)["receipt_id"]
    assert (
        pg_server.psql(
            f"SELECT credits_purchased FROM app.payment_receipts WHERE id = '{receipt}'", database
        ).strip()
        == "2"
    )
    code, _, err = run(capsys, "users", "find", email, "--config", str(config), "--profile", "p")
    # The public schema has no such tables: no product is recognised there (issue 15.3), said
    # before any statement of a job runs.
    assert code == 2 and "holds no product adminui knows" in err, err
    db = Database(pg_profile(pg_server, database, schema="app"), PG_PASSWORD)
    try:
        indexed = {row["table_name"] for row in db.rows("live_indexes")}
    finally:
        db.dispose()
    assert {"users", "executions", "usage_tracking"} <= indexed and "pg_class" not in indexed

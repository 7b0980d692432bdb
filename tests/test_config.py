"""Config lookup, profiles and passwords: each mistake is one sentence naming what and where."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from adminui import connect
from adminui.config import MAX_STATEMENT_TIMEOUT_MS, load_config, url_profile
from adminui.db import Database
from adminui.errors import DatabaseError, NotFoundError, SetupError
from adminui.passwords import delete_password, find_password, store_password
from tests.conftest import with_registry

GOOD = """
operator = "jordan"
default_profile = "demo"

[profiles.demo]
url = "sqlite:///demo.sqlite"

[profiles.prod]
url = "postgres://postgres@db.example.supabase.co:6543/postgres"
read_only = true
statement_timeout_ms = 15000
sslmode = "require"
prepare_threshold = "none"
schema = "app"
"""


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_a_config_file_gives_profiles(tmp_path: Path) -> None:
    config = load_config(str(write_config(tmp_path, GOOD)))
    assert config.operator == "jordan"
    assert config.profile(None).name == "demo"
    prod = config.profile("prod")
    assert prod.url.drivername == "postgresql+psycopg"  # Supabase's postgres:// rewritten
    assert (prod.read_only, prod.statement_timeout_ms, prod.sslmode) == (True, 15000, "require")
    assert prod.prepare_threshold is None
    assert prod.where == "db.example.supabase.co:6543/postgres"
    assert (prod.schema, url_profile("postgresql://u@h/db").schema) == ("app", "public")


def test_lookup_order_is_flag_then_environment_then_platform_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flag = write_config(tmp_path, GOOD)
    env = tmp_path / "env.toml"
    env.write_text(GOOD.replace('operator = "jordan"', 'operator = "from-env"'))
    platform = Path(tmp_path / "xdg-config" / "adminui" / "config.toml")
    platform.parent.mkdir(parents=True)
    platform.write_text(GOOD.replace('operator = "jordan"', 'operator = "from-platform"'))
    assert load_config(None).operator == "from-platform"
    monkeypatch.setenv("ADMINUI_CONFIG", str(env))
    assert load_config(None).operator == "from-env"
    assert load_config(str(flag)).operator == "jordan"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("operator = ", r"is not valid TOML .*; fix the line it names"),
        ('colour = "blue"', r"unknown key 'colour'; see config.example.toml"),
        ("[profiles.x]\nread_only = true", r"\[profiles.x\] has no url"),
        ('[profiles.x]\nurl = "mysql://h/db"', r"names a mysql database; only PostgreSQL"),
        ('[profiles.x]\nurl = "postgresql://u:s3cret@h/db"', r"url holds a password; remove it"),
        ('[profiles.x]\nurl = "sqlite:///a"\nread_only = "yes"', r"read_only must be a bool"),
        ('[profiles.x]\nurl = "sqlite:///a"\nprepare_threshold = "off"', r"prepare_threshold"),
        ('default_profile = "y"\n[profiles.x]\nurl = "sqlite:///a"', r"default_profile 'y' has no"),
        ("executions_refresh_seconds = 0", r"executions_refresh_seconds must be at least 1"),
        ('[profiles.x]\nurl = "postgresql://u@h/db"\nschema = "pg_catalog"', r"schema must be a"),
        ('[profiles.x]\nurl = "postgresql://u@h/db"\nschema = "$user"', r"not '\$user'"),
        ('[profiles.x]\nurl = "postgresql://u@h/db"\nschema = "a.b"', r"schema must be a"),
        ('[profiles.x]\nurl = "postgresql://u@h/db"\nschema = ""', r"schema must be a"),
        ('[profiles.x]\nurl = "postgresql://u@h/db"\nschema = 1', r"schema must be a str"),
        ('[profiles.x]\nurl = "sqlite:///a"\nschema = "app"', r"schema is for PostgreSQL"),
        (
            '[profiles.x]\nurl = "postgresql://u@h/db"\nread_url = "postgresql://u:s3cret@r/db"',
            r"read_url holds a password; remove it",
        ),
        (
            '[profiles.x]\nurl = "sqlite:///a"\nread_url = "sqlite:///b"',
            r"read_url is a PostgreSQL",
        ),
        (
            '[profiles.x]\nurl = "postgresql://u@h/db?options=-csearch_path%3Devil"',
            r"\[profiles.x\] url sets options, which change the session's settings",
        ),
        (
            '[profiles.x]\nurl = "postgresql://u@h/db?service=evil"',
            r"\[profiles.x\] url names a pg_service.conf entry",
        ),
        # Timeouts (issue 13, item 12c): each of these was accepted, then failed every command.
        ('[profiles.x]\nurl = "sqlite:///a"\nstatement_timeout_ms = -5', r"_ms must be at least 0"),
        (f'[profiles.x]\nurl = "sqlite:///a"\nstatement_timeout_ms = {2**31}', r"at most 2,147,"),
        ('[profiles.x]\nurl = "sqlite:///a"\nconnect_timeout = -1', r"connect_timeout must be at "),
        ('[profiles.x]\nurl = "sqlite:///a"\nconnect_timeout = 0', r"connect_timeout must be at "),
        ("stuck_after_minutes = 10000000000", r"stuck_after_minutes must be at most 5,256,000"),
        ("executions_refresh_seconds = 100000", r"executions_refresh_seconds must be at most"),
    ],
)
def test_a_malformed_config_is_named(tmp_path: Path, text: str, expected: str) -> None:
    path = write_config(tmp_path, text)
    with pytest.raises(SetupError, match=expected) as caught:
        load_config(str(path)).profile(None)  # a profile's own fault is told when it is chosen
    assert str(path) in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_a_missing_config_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"No config file at .*adminui demo"):
        load_config(str(tmp_path / "nope.toml"))


def test_an_unknown_profile_lists_the_known_ones(tmp_path: Path) -> None:
    config = load_config(str(write_config(tmp_path, GOOD)))
    with pytest.raises(SetupError, match=r"Profile 'staging' is not in .* \(profiles there: demo"):
        config.profile("staging")


def test_a_url_is_shown_with_its_password_masked() -> None:
    profile = url_profile("postgresql://admin:s3cret@db.example.com:5432/app")
    assert profile.shown_url == "postgresql+psycopg://admin:***@db.example.com:5432/app"


@pytest.mark.parametrize(
    "raw",
    [
        "not a url with s3cret",
        "postgresql://u:s3cret@h/db?password=s3cret2",  # two passwords: which one is meant?
        "postgresql://u@h/db?password=s3cret&password=s3cret2",
    ],
)
def test_a_bad_url_is_not_echoed(raw: str) -> None:
    with pytest.raises(SetupError) as caught:
        url_profile(raw)
    assert "s3cret" not in str(caught.value)


def test_password_order_environment_then_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prod = load_config(str(write_config(tmp_path, GOOD))).profile("prod")
    assert find_password(prod, interactive=False) is None
    store_password("prod", "from-keyring")
    assert find_password(prod, interactive=False) == "from-keyring"
    monkeypatch.setenv("ADMINUI_PASSWORD", "from-env")
    assert find_password(prod, interactive=False) == "from-env"
    monkeypatch.delenv("ADMINUI_PASSWORD")
    delete_password("prod")
    assert find_password(prod, interactive=False) is None
    with pytest.raises(NotFoundError, match="No password is stored for profile 'prod'"):
        delete_password("prod")


def test_no_keyring_backend_is_one_line_and_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(FailKeyring())
    prod = load_config(str(write_config(tmp_path, GOOD))).profile("prod")
    said: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt: "typed")  # the terminal's answer
    assert find_password(prod, interactive=True, notify=said.append) == "typed"
    assert said == ["No usable keyring (NoKeyringError); asking for the password instead."]
    # With no terminal there is no one to ask: said so, with how to give one (it used to go
    # on without a password and report "refused the password").
    with pytest.raises(SetupError, match=r"no terminal to ask .* set ADMINUI_PASSWORD"):
        find_password(prod, interactive=False, notify=said.append)
    with pytest.raises(SetupError, match="install a keyring backend or set ADMINUI_PASSWORD"):
        store_password("prod", "x")


def test_one_bad_profile_stops_only_itself(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        '[profiles.bad]\nurl = "postgresql://u:secret@h/db"\n'
        '[profiles.good]\nurl = "sqlite:///x.sqlite"\n',
    )
    config = load_config(str(path))
    assert config.profile("good").dialect == "sqlite"
    with pytest.raises(SetupError, match=r"\[profiles.bad\] url holds a password"):
        config.profile("bad")


def test_open_database_uses_the_profile_and_its_keyring_password(
    tmp_path: Path, pg_server, pg_template: str
) -> None:
    url = pg_server.url(pg_template, password=False).replace("+psycopg", "")
    path = write_config(tmp_path, f'[profiles.local]\nurl = "{url}"\n')
    with pytest.raises(SetupError, match="refused the password for postgres"):
        connect.open_session(config=str(path), profile=None, url=None, interactive=False)
    store_password("local", "fixture-only-password")
    db = connect.open_session(config=str(path), profile="local", url=None, interactive=False).db
    assert db.rows("recent_users", limit=1)
    db.dispose()


def test_the_example_config_loads_and_documents_every_key() -> None:
    from adminui.config import _PROFILE_KEYS, _TOP_KEYS

    example = Path(__file__).parent.parent / "config.example.toml"
    config = load_config(str(example))
    assert config.profiles["demo"].url.database == str(
        Path("~/.local/share/adminui/demo.sqlite").expanduser()
    )
    text = example.read_text()
    for key in _PROFILE_KEYS | _TOP_KEYS:
        assert f"{key} " in text or f"[{key}." in text, f"config.example.toml lacks {key}"


def test_the_largest_statement_timeout_accepted_is_the_largest_that_works(pg_db: Database) -> None:
    """config.py's bound is PostgreSQL's own: at it a command runs; one past it (which the file
    refuses) would fail every transaction."""
    widest = with_registry(pg_db, pg_db.registry, statement_timeout_ms=MAX_STATEMENT_TIMEOUT_MS)
    beyond = with_registry(pg_db, pg_db.registry, statement_timeout_ms=MAX_STATEMENT_TIMEOUT_MS + 1)
    try:
        assert widest.rows("recent_users", limit=1)
        with pytest.raises(DatabaseError, match='invalid value for parameter "statement_timeout"'):
            beyond.rows("recent_users", limit=1)
    finally:
        widest.dispose()
        beyond.dispose()

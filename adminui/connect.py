"""Getting from command-line choices to a connected Database, for the CLI and the app alike.

Resolves the profile (`--url`, or the config file's profile), finds its password, connects once
so a wrong host or password is told before any screen opens, and builds the demo file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from adminui.config import Config, Profile, data_dir, load_config, url_profile
from adminui.db import Database
from adminui.demo import DemoSummary, build_demo
from adminui.errors import InputError
from adminui.passwords import find_password

MAX_DEMO_USERS = 1_000_000


@dataclass(frozen=True)
class Session:
    """A connected database and the settings that go with it (operator, grant limit)."""

    db: Database
    config: Config


def open_session(
    *,
    config: str | None,
    profile: str | None,
    url: str | None,
    interactive: bool,
    enforce_foreign_keys: bool = True,
) -> Session:
    """Connect as the global options say and check the connection before any work. With
    `--url` the config file is not read: the operator is the OS user. `enforce_foreign_keys`
    (SQLite only) is off just for putting orphan backups back."""
    settings = read_settings(config=config, url=url)
    chosen = url_profile(url) if url else settings.profile(profile)
    password = find_password(chosen, interactive=interactive)
    db = Database(chosen, password, enforce_foreign_keys=enforce_foreign_keys)
    db.check()
    return Session(db, settings)


def read_settings(*, config: str | None, url: str | None) -> Config:
    """The config file's settings, or the defaults with `--url` (the file is not read then)."""
    return Config() if url else load_config(config)


def sqlite_profile(path: Path) -> Profile:
    """A profile for a SQLite file (any characters in its path)."""
    return Profile(name="demo", url=URL.create("sqlite", database=str(path.resolve())))


def default_demo_path() -> Path:
    """Where `adminui demo` keeps its database unless told otherwise."""
    return data_dir() / "demo.sqlite"


def build_demo_file(path: Path, users: int) -> DemoSummary:
    """Build a demo database at `path`, replacing any old one only once the new one is whole."""
    if not 1 <= users <= MAX_DEMO_USERS:
        raise InputError("--users", f"must be between 1 and {MAX_DEMO_USERS:,}")
    path.parent.mkdir(parents=True, exist_ok=True)
    building = path.with_name(path.name + ".building")
    building.unlink(missing_ok=True)
    # Orphan rows can only be planted with foreign keys off.
    db = Database(sqlite_profile(building), create=True, enforce_foreign_keys=False)
    try:
        summary = build_demo(db, users)
    finally:
        db.dispose()
    os.replace(building, path)
    return summary


def open_demo(path: Path) -> Session:
    """Connect to a demo file (the operator is the OS user)."""
    db = Database(sqlite_profile(path))
    db.check()
    return Session(db, Config())

"""Getting from command-line choices to a connected Database, for the CLI and the app alike.

Resolves the profile (`--url`, or the config file's profile), finds its password, connects once
so a wrong host or password is told before any screen opens, chooses the product (`--product`,
the profile's `product`, else recognised from the tables), and builds the demo file; and opens
where Buy Me a Coffee's payments are read (its API with the profile's token, or a CSV export).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL

from adminui.bmc import BmcClient, api_base
from adminui.bmc_csv import CsvPayments
from adminui.config import Config, Profile, data_dir, load_config, normalize_url, url_profile
from adminui.db import Database
from adminui.demo import DemoSummary, build_demo
from adminui.errors import InputError, SetupError
from adminui.pack_demo import build_pack_demo
from adminui.packs import DATA, MAIN, Pack, load_pack, pack_named
from adminui.passwords import find_bmc_token, find_password

if TYPE_CHECKING:
    from adminui.ops.bmc import Source

MAX_DEMO_USERS = 1_000_000


@dataclass(frozen=True)
class Session:
    """A connected database and the settings that go with it (operator, grant limit)."""

    db: Database
    config: Config
    recognised: bool = False  # the product was recognised from the tables, not named


def open_session(
    *,
    config: str | None,
    profile: str | None,
    url: str | None,
    interactive: bool,
    enforce_foreign_keys: bool = True,
    product: str | None = None,
    data_url: str | None = None,
) -> Session:
    """Connect as the global options say and check the connection before any work. With
    `--url` the config file is not read: the operator is the OS user. `enforce_foreign_keys`
    (SQLite only) is off just for putting orphan backups back. `product` and `data_url`
    (`--product`, `--data-url`) win over the profile's."""
    settings, chosen = chosen_profile(config=config, profile=profile, url=url)
    if data_url:
        chosen = replace(chosen, data_url=normalize_url(data_url, "--data-url"))
    pack = chosen_pack(product, chosen)
    password = find_password(chosen, interactive=interactive)
    if chosen.d1:
        from adminui.d1_db import D1Database  # httpx only where D1 is reached

        db: Database = D1Database(chosen, password, pack=pack)
    else:
        db = Database(chosen, password, pack=pack, enforce_foreign_keys=enforce_foreign_keys)
    try:
        db.check(recognise_pack=pack is None)
    except BaseException:
        db.dispose()
        raise
    return Session(db, settings, recognised=pack is None)


def chosen_pack(product: str | None, profile: Profile) -> Pack | None:
    """The pack `--product` or the profile names (None: to be recognised from the tables)."""
    if product:
        return pack_named(product)
    if profile.product is None:
        return None
    try:
        return pack_named(profile.product)
    except InputError as error:
        raise SetupError(f"Profile '{profile.name}': {error}.") from None


def read_settings(*, config: str | None, url: str | None) -> Config:
    """The config file's settings, or the defaults with `--url` (the file is not read then)."""
    return Config() if url else load_config(config)


def chosen_profile(
    *, config: str | None, profile: str | None, url: str | None
) -> tuple[Config, Profile]:
    """The settings and the profile the global options name, without connecting."""
    settings = read_settings(config=config, url=url)
    return settings, url_profile(url) if url else settings.profile(profile)


def open_bmc(profile: Profile, *, from_csv: str | None, interactive: bool) -> Source:
    """Where Buy Me a Coffee's payments are read: a CSV export when given one, else the API
    with the profile's token (and base URL)."""
    if from_csv:
        return CsvPayments(Path(from_csv).expanduser())
    token = find_bmc_token(profile, interactive=interactive)
    return BmcClient(token, api_base(profile.bmc_api))


def sqlite_profile(path: Path, pack: Pack | None = None) -> Profile:
    """A profile for a SQLite file (any characters in its path); for a pack with a second
    database, its file beside it (demo_files)."""
    if pack is None or pack is load_pack():
        return Profile(name="demo", url=sqlite_url(path))
    files = demo_files(path, pack)
    return Profile(
        name="demo",
        url=sqlite_url(files[MAIN]),
        product=pack.name,
        data_url=sqlite_url(files[DATA]) if DATA in files else None,
    )


def sqlite_url(path: Path) -> URL:
    return URL.create("sqlite", database=str(path.resolve()))


def default_demo_path(pack: Pack | None = None) -> Path:
    """Where `adminui demo` keeps a product's demo database unless told otherwise."""
    if pack is None or pack is load_pack():
        return data_dir() / "demo.sqlite"
    return data_dir() / f"demo-{pack.name}.sqlite"


def demo_files(path: Path, pack: Pack) -> dict[str, Path]:
    """The file of each of a pack's demo databases: `path`, and for a second database the
    file beside it, `<stem>.<role>.sqlite`."""
    return {
        database: path
        if database == MAIN
        else path.with_name(f"{path.stem}.{database}{path.suffix}")
        for database in pack.databases
    }


def build_pack_demo_file(path: Path, users: int, pack: Pack) -> None:
    """Build a pack's SQL demo (pack_demo) into its files, each replacing an old one only once
    every one is whole."""
    _check_users(users)
    files = demo_files(path, pack)
    building = {role: file.with_name(file.name + ".building") for role, file in files.items()}
    databases = {}
    try:
        for role, file in building.items():
            file.parent.mkdir(parents=True, exist_ok=True)
            file.unlink(missing_ok=True)
            # Orphan rows can only be planted with foreign keys off.
            databases[role] = Database(
                sqlite_profile(file), pack=pack, create=True, enforce_foreign_keys=False
            )
        build_pack_demo(databases, users)
    finally:
        for db in databases.values():
            db.dispose()
    for role, file in building.items():
        os.replace(file, files[role])


def build_demo_file(path: Path, users: int) -> DemoSummary:
    """Build a demo database at `path`, replacing any old one only once the new one is whole."""
    _check_users(users)
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


def _check_users(users: int) -> None:
    if not 1 <= users <= MAX_DEMO_USERS:
        raise InputError("--users", f"must be between 1 and {MAX_DEMO_USERS:,}")


def open_demo(path: Path, pack: Pack | None = None) -> Session:
    """Connect to a demo file (the operator is the OS user)."""
    db = Database(sqlite_profile(path, pack), pack=pack)
    db.check()
    return Session(db, Config())

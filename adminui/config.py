"""Where to connect: the config file, its profiles, and the URL a command ends up using.

Lookup order for the file: `--config PATH`, then `$ADMINUI_CONFIG`, then the platform config dir.
`--url` bypasses the file. Passwords never live here (see passwords.py); a profile URL that holds
one is refused, so a secret can't sit in a file that gets copied around.
"""

from __future__ import annotations

import getpass
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from adminui.errors import SetupError

APP_NAME = "adminui"
CONFIG_ENV = "ADMINUI_CONFIG"
URL_PROFILE = "(--url)"

_PROFILE_KEYS = {
    "url",
    "read_only",
    "statement_timeout_ms",
    "connect_timeout",
    "sslmode",
    "prepare_threshold",
    "schema",
    "product",
    "data_url",
    "read_url",
    "bmc_api",
    "d1_api",
}
_TOP_KEYS = {
    "operator",
    "default_profile",
    "max_grant_credits",
    "stuck_after_minutes",
    "executions_refresh_seconds",
    "bmc_currencies",
    "profiles",
}
# libpq's sslmode values; a typo is refused when the file is read, not at connect time.
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
DEFAULT_MAX_GRANT_CREDITS = 10_000
DEFAULT_STUCK_AFTER_MINUTES = 60
DEFAULT_EXECUTIONS_REFRESH_SECONDS = 15
DEFAULT_SCHEMA = "public"
# The currencies the team sells in: a Buy Me a Coffee payment in another is refused for a grant.
DEFAULT_BMC_CURRENCIES = ("USD",)
# A schema name as adminui pins it: a plain identifier of at most 63 bytes (PostgreSQL cuts longer
# names, which could then name another schema). Nothing else: no "$user", which the search path
# would read as the role's own schema, quoted or not.
_SCHEMA = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_PRODUCT = re.compile(r"^[a-z][a-z0-9-]{0,40}$")
# URL query keys that would change the session from outside, and why each is refused; the
# database layer refuses PGOPTIONS and PGSERVICE, their environment forms.
OUTSIDE_SETTINGS = {
    "options": "sets options, which change the session's settings (search_path among them) "
    "from outside; remove them (the profile's schema key names the schema adminui uses).",
    "service": "names a pg_service.conf entry, whose options could change the session's "
    "settings (search_path among them) from outside; give host, port and database in the URL.",
}
# PostgreSQL's largest statement_timeout (an int of milliseconds): a larger one would be read
# without complaint and then fail every transaction.
MAX_STATEMENT_TIMEOUT_MS = 2_147_483_647
# Longer than any real database URL (or SQLite path: PATH_MAX is 4096 on Linux); a longer one is
# refused before a message can quote a megabyte of it.
MAX_URL_LENGTH = 4096
# A Cloudflare account id (32 hex digits) and a D1 database id (a UUID), as d1:// names them.
_D1_ACCOUNT = re.compile(r"^[0-9a-f]{32}$")
_D1_DATABASE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def default_config_path() -> Path:
    """The platform's config location, e.g. ~/.config/adminui/config.toml on Linux."""
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def data_dir() -> Path:
    """The platform's data location (demo database, backups)."""
    return platformdirs.user_data_path(APP_NAME)


@dataclass(frozen=True)
class Profile:
    """One database the operator can connect to, and how."""

    name: str
    url: URL
    read_only: bool = False
    statement_timeout_ms: int | None = None
    connect_timeout: int = 10
    sslmode: str | None = None
    # None: psycopg's automatic prepared statements off (needed behind a transaction pooler).
    prepare_threshold: int | None = 5
    # PostgreSQL: the schema holding the product's tables; each transaction's search_path.
    schema: str = DEFAULT_SCHEMA
    # The product (a pack's name, `adminui --help` lists them); None: recognised from the tables.
    product: str | None = None
    # A product with a second database (fltr's `fltr`): its URL, same user and password as url.
    data_url: URL | None = None
    # A read replica of url (PostgreSQL; same user and password): the summaries, scans and
    # lists read there; lookups that precede a write, and every write, use url.
    read_url: URL | None = None
    # Buy Me a Coffee's API base URL, where not BMC's own (a proxy; $ADMINUI_BMC_API wins).
    bmc_api: str | None = None
    # Cloudflare's API base URL for a d1:// url, where not Cloudflare's ($ADMINUI_D1_API wins).
    d1_api: str | None = None

    @property
    def d1(self) -> bool:
        """Whether this is a Cloudflare D1 database, reached over its HTTP API (d1://)."""
        return self.url.get_backend_name() == "d1"

    @property
    def dialect(self) -> str:
        """'postgresql' or 'sqlite' (D1 speaks SQLite's)."""
        return "sqlite" if self.d1 else self.url.get_backend_name()

    @property
    def shown_url(self) -> str:
        """The URL with any password masked, for screens, logs and messages."""
        return self.url.render_as_string(hide_password=True)

    @property
    def where(self) -> str:
        """host:port/database (or the file), for messages; never the password."""
        if self.d1:
            return f"the D1 database {self.url.database}"
        if self.dialect == "sqlite":
            return f"the SQLite file {self.url.database}"
        return f"{self.url.host or 'localhost'}:{self.url.port or 5432}/{self.url.database or ''}"


@dataclass(frozen=True)
class Config:
    """The parsed config file (or the empty config that `--url` and `demo` use)."""

    path: Path | None = None
    operator: str = field(default_factory=getpass.getuser)
    default_profile: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)
    max_grant_credits: int = DEFAULT_MAX_GRANT_CREDITS
    stuck_after_minutes: int = DEFAULT_STUCK_AFTER_MINUTES
    executions_refresh_seconds: int = DEFAULT_EXECUTIONS_REFRESH_SECONDS
    broken: dict[str, SetupError] = field(default_factory=dict)  # profile -> why it is refused
    bmc_currencies: tuple[str, ...] = DEFAULT_BMC_CURRENCIES

    def profile(self, name: str | None) -> Profile:
        """The named profile, else the default one, else the only one. A profile the file
        gets wrong is refused here, when it is chosen, not for every command."""
        chosen = name or self.default_profile
        if chosen is None and len(self.profiles) + len(self.broken) == 1:
            chosen = next(iter(self.profiles or self.broken))
        if chosen in self.broken:
            raise self.broken[chosen]
        if chosen is None:
            raise SetupError(
                f"No profile chosen and {self.path} sets no default_profile; "
                "pass --profile NAME or set default_profile."
            )
        if chosen not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise SetupError(
                f"Profile '{chosen}' is not in {self.path} (profiles there: {known}); "
                "check the name or add a [profiles.NAME] table."
            )
        return self.profiles[chosen]


def normalize_url(raw: str, where: str) -> URL:
    """Parse a database URL; rewrite the postgres:// forms Supabase hands out to psycopg 3.
    Whatever would fail only when connecting (a port that is not a number, a host no resolver
    takes, options the driver can't read) fails here, in one sentence."""
    # The text may hold a password: no message here echoes it.
    not_a_url = SetupError(
        f"{where} is not a database URL; expected postgresql://USER@HOST:PORT/DB, "
        "sqlite:///PATH or d1://ACCOUNT_ID/DATABASE_ID."
    )
    if len(raw) > MAX_URL_LENGTH:
        raise SetupError(f"{where} is {len(raw):,} characters long; no database URL is.")
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw.removeprefix("postgres://")
    try:
        url = make_url(raw)
        url.port  # noqa: B018 - a port that is not a number fails here, not at connect time
    except (ArgumentError, ValueError):
        raise not_a_url from None
    if url.get_backend_name() == "d1":
        return _d1_url(url, where)
    if url.get_backend_name() == "postgresql":  # always psycopg 3, whatever driver was named
        url = _password_from_query(url.set(drivername="postgresql+psycopg"), where)
    elif url.get_backend_name() == "sqlite":
        url = url.set(drivername="sqlite")
    outside = [key for key in url.query if key.lower() in OUTSIDE_SETTINGS]
    if url.get_backend_name() == "postgresql" and outside:
        raise SetupError(f"{where} {OUTSIDE_SETTINGS[outside[0].lower()]}")
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        # The file's full path: it is the database's identity in messages, the audit log and
        # backups (a relative one would name another file from another directory).
        url = url.set(database=str(Path(url.database).expanduser().resolve()))
    if url.get_backend_name() not in ("postgresql", "sqlite"):
        raise SetupError(
            f"{where} names a {url.get_backend_name()} database; only PostgreSQL, SQLite "
            "and Cloudflare D1 are supported."
        )
    if url.port is not None and not 1 <= url.port <= 65535:
        raise SetupError(f"{where}: the port must be from 1 to 65535, not {url.port}.")
    _check_host_names(url, where)
    try:  # what SQLAlchemy will make of the URL when connecting (ports and options in the query)
        url.get_dialect()().create_connect_args(url)
    except (ArgumentError, ValueError):
        raise SetupError(
            f"{where} can't be used: check the port and the options after '?'."
        ) from None
    return url


def _d1_url(url: URL, where: str) -> URL:
    """d1://ACCOUNT_ID/DATABASE_ID, and nothing else: the API token is a secret, looked up as a
    password is (never in the URL), and the API's address is d1_api's or $ADMINUI_D1_API's."""
    account, database = (url.host or "").lower(), (url.database or "").lower()
    if url.username or url.password or url.port or url.query:
        raise SetupError(
            f"{where}: a d1:// URL is d1://ACCOUNT_ID/DATABASE_ID alone; the API token is set "
            "like a password ('adminui password set PROFILE' or ADMINUI_PASSWORD)."
        )
    if not _D1_ACCOUNT.match(account) or not _D1_DATABASE.match(database):
        raise SetupError(
            f"{where}: expected d1://ACCOUNT_ID/DATABASE_ID, the account id's 32 hex digits and "
            "the database's UUID (wrangler d1 list shows it)."
        )
    return URL.create("d1", host=account, database=database)


def _check_host_names(url: URL, where: str) -> None:
    """Refuse a host name no resolver takes: psycopg resolves names itself, and such a one
    failed with a traceback. A socket directory (starting with /) is not a host name."""
    hosts = [url.host or ""]
    if url.get_backend_name() == "postgresql":  # libpq's host=h1,h2 (SQLite has no host)
        hosts += [h for value in url.normalized_query.get("host", ()) for h in value.split(",")]
    if not all(host.startswith("/") or _resolvable(host) for host in hosts):
        raise SetupError(
            f"{where}: a host name in it is too long or malformed (at most 253 characters, "
            "and 1 to 63 between dots)."
        )


def _resolvable(host: str) -> bool:
    """Whether a resolver could be asked for `host` (the IDNA form psycopg hands it)."""
    if len(host) > 253:
        return False
    try:
        host.encode("idna")  # refuses a part between dots that is empty or over 63
    except UnicodeError:
        return False
    return True


def _password_from_query(url: URL, where: str) -> URL:
    """libpq reads a `?password=` over the password psycopg is handed, so one in the query
    would beat $ADMINUI_PASSWORD and show in every URL printed. Make it the URL's own password:
    masked when shown, second to the environment, and refused in a config file like any other."""
    if "password" not in url.query:
        return url
    password = url.query["password"]
    if not isinstance(password, str) or url.password is not None:
        raise SetupError(f"{where} holds more than one password; give one, as USER:PASSWORD@HOST.")
    return url.difference_update_query(["password"]).set(password=password)


def url_profile(raw: str) -> Profile:
    """A profile made from `--url`, for scripts and first tries (its schema: public)."""
    return Profile(name=URL_PROFILE, url=normalize_url(raw, "--url"))


def find_config_path(explicit: str | None) -> Path:
    """The config file to read, by the documented order; a missing file is a SetupError."""
    if explicit:
        path, source = Path(explicit).expanduser(), "--config"
    elif os.environ.get(CONFIG_ENV):
        path, source = Path(os.environ[CONFIG_ENV]).expanduser(), f"${CONFIG_ENV}"
    else:
        path, source = default_config_path(), "the default location"
    if not path.is_file():
        raise SetupError(
            f"No config file at {path} ({source}); copy config.example.toml there, "
            "pass --url URL, or run 'adminui demo' to try the app on a demo database."
        )
    return path


def load_config(explicit: str | None = None) -> Config:
    """Read and check the config file chosen by `find_config_path`."""
    path = find_config_path(explicit)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise SetupError(f"{path} is not valid TOML ({error}); fix the line it names.") from None
    except UnicodeDecodeError as error:
        raise SetupError(
            f"{path} is not UTF-8 text (byte {error.start + 1}); TOML files are UTF-8: save it "
            "as UTF-8."
        ) from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise SetupError(f"{path}: a value nests too deeply to be read; fix the file.") from None
    except OSError as error:
        raise SetupError(f"Can't read {path}: {error.strerror}.") from None
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path) -> Config:
    """Turn the TOML table into a Config, refusing unknown keys and wrong types by name."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise SetupError(f"{path}: unknown key {sorted(unknown)[0]!r}; see config.example.toml.")
    operator = _typed(data, "operator", str, path, getpass.getuser())
    default_profile = _typed(data, "default_profile", str, path, None)
    tables = _typed(data, "profiles", dict, path, {})
    profiles: dict[str, Profile] = {}
    broken: dict[str, SetupError] = {}  # refused when chosen, so one bad profile stops only itself
    for name, table in tables.items():
        try:
            profiles[name] = _parse_profile(name, table, path)
        except SetupError as error:
            broken[name] = error
    if default_profile is not None and default_profile not in profiles | broken:
        raise SetupError(f"{path}: default_profile '{default_profile}' has no [profiles.*] table.")
    max_grant = _whole(data, "max_grant_credits", path, DEFAULT_MAX_GRANT_CREDITS, 1)
    if not operator.strip():
        raise SetupError(f"{path}: operator must not be empty (it is written as verified_by).")
    # Ten years: a longer look-back runs past the calendar's start (OverflowError in `stuck`).
    stuck = _whole(data, "stuck_after_minutes", path, DEFAULT_STUCK_AFTER_MINUTES, 1, 5_256_000)
    refresh = _whole(
        data, "executions_refresh_seconds", path, DEFAULT_EXECUTIONS_REFRESH_SECONDS, 1, 86_400
    )
    currencies = _typed(data, "bmc_currencies", list, path, list(DEFAULT_BMC_CURRENCIES))
    if not currencies or not all(
        isinstance(c, str) and re.fullmatch(r"[A-Z]{3}", c) for c in currencies
    ):
        raise SetupError(
            f'{path}: bmc_currencies must list currency codes like ["USD", "EUR"], '
            f"not {currencies!r}."
        )
    return Config(
        path,
        operator,
        default_profile,
        profiles,
        max_grant,
        stuck,
        refresh,
        broken,
        tuple(currencies),
    )


def _parse_profile(name: str, table: Any, path: Path) -> Profile:
    where = f"{path}: [profiles.{name}]"
    if not isinstance(table, dict):
        raise SetupError(f"{where} must be a table.")
    unknown = set(table) - _PROFILE_KEYS
    if unknown:
        raise SetupError(f"{where}: unknown key {sorted(unknown)[0]!r}; see config.example.toml.")
    if "url" not in table:
        raise SetupError(f"{where} has no url.")
    url = normalize_url(_typed(table, "url", str, where, ""), f"{where} url")
    if url.password is not None:
        raise SetupError(
            f"{where} url holds a password; remove it from the file and run "
            f"'adminui password set {name}' (or set ADMINUI_PASSWORD)."
        )
    sslmode = _typed(table, "sslmode", str, where, None)
    if sslmode is not None and sslmode not in SSLMODES:
        raise SetupError(f"{where}: sslmode must be one of {', '.join(SSLMODES)}, not {sslmode!r}.")
    threshold = table.get("prepare_threshold", 5)
    if threshold == "none":
        threshold = None
    elif not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 0:
        raise SetupError(f'{where}: prepare_threshold must be a whole number or "none".')
    product = _typed(table, "product", str, where, None)
    if product is not None and not _PRODUCT.match(product):
        raise SetupError(f'{where}: product must be a product\'s name, like "fltr".')
    data_url, read_url = (_other_url(table, key, where) for key in ("data_url", "read_url"))
    if read_url is not None and (
        read_url.get_backend_name() != "postgresql" or url.get_backend_name() != "postgresql"
    ):
        raise SetupError(f"{where}: read_url is a PostgreSQL read replica of a PostgreSQL url.")
    schema = _typed(table, "schema", str, where, DEFAULT_SCHEMA)
    if "schema" in table and url.get_backend_name() != "postgresql":
        raise SetupError(f"{where}: schema is for PostgreSQL profiles; remove it here.")
    if not _SCHEMA.match(schema) or schema.startswith("pg_"):
        raise SetupError(
            f"{where}: schema must be a schema name (letters, digits and _, at most 63, not "
            f"starting with pg_), not {schema[:70]!r}."
        )
    return Profile(
        name=name,
        url=url,
        read_only=_typed(table, "read_only", bool, where, False),
        # 0: the server's (or role's) own statement_timeout, as when the key is unset.
        statement_timeout_ms=_whole(
            table, "statement_timeout_ms", where, None, 0, MAX_STATEMENT_TIMEOUT_MS
        ),
        # libpq reads 0 or less as "wait forever", but psycopg then waits its own 130 s: neither
        # is what the number says, so at least 1.
        connect_timeout=_whole(table, "connect_timeout", where, 10, 1),
        sslmode=sslmode,
        prepare_threshold=threshold,
        schema=schema,
        product=product,
        data_url=data_url,
        read_url=read_url,
        bmc_api=_typed(table, "bmc_api", str, where, None),
        d1_api=_typed(table, "d1_api", str, where, None),
    )


def _other_url(table: dict[str, Any], key: str, where: object) -> URL | None:
    """A profile's second URL (data_url, read_url): no password of its own (url's is used)."""
    if table.get(key) is None:
        return None
    other = normalize_url(_typed(table, key, str, where, ""), f"{where} {key}")
    if other.password is not None:
        raise SetupError(f"{where} {key} holds a password; remove it (url's is used).")
    return other


def _whole(
    table: dict[str, Any],
    key: str,
    where: object,
    default: int | None,
    minimum: int,
    maximum: int | None = None,
) -> Any:
    """A whole-number setting, refused by name when out of range: a value the file accepts
    must not fail every command later."""
    value = _typed(table, key, int, where, default)
    if value is None:
        return value
    if value < minimum:
        raise SetupError(f"{where}: {key} must be at least {minimum}, not {value}.")
    if maximum is not None and value > maximum:
        raise SetupError(f"{where}: {key} must be at most {maximum:,}, not {value:,}.")
    return value


def _typed(table: dict[str, Any], key: str, kind: type, where: object, default: Any) -> Any:
    value = table.get(key, default)
    if value is default:
        return value
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SetupError(f"{where}: {key} must be a {kind.__name__}, not {value!r}.")
    return value

"""The `adminui` command: the app when run bare, and the same operations as scriptable commands.

Exit codes: 0 done; 1 refused, not found or bad input; 2 config, keyring or connection trouble
(nothing was asked of the database, or a write rolled back because the audit log can't be
written); 3 a write's outcome is unknown (the connection was lost while committing and the
database could not be asked since: look it up before trying again). Every error is one sentence
on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import getpass
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from adminui import (
    __version__,
    cli_adjust,
    cli_audit,
    cli_bmc,
    cli_credits,
    cli_executions,
    cli_health,
    cli_ledger,
    cli_ledger_credits,
    cli_orphans,
    cli_payments,
    cli_processing,
    cli_queries,
    cli_reports,
    cli_schema,
    connect,
    vetting,
)
from adminui.config import default_config_path, load_config
from adminui.d1_local import ask, d1_local_url
from adminui.demo import DEFAULT_USERS
from adminui.errors import AdminError, InputError, SetupError, UsageError
from adminui.ops import adjustments, users
from adminui.output import (
    FORMATS,
    escaped_output,
    fit_tables,
    raw_output,
    render_record,
    render_rows,
)
from adminui.packs import MAIN, Pack, load_pack, pack_named, packs
from adminui.passwords import PASSWORD_ENV, check_keyring, delete_password, store_password

if TYPE_CHECKING:
    from adminui.connect import Session
    from adminui.db import Database

# The job each product command does: a pack's manifest lists the jobs it offers.
JOBS = {
    "users": "users",
    "grant": "credits",
    "adjust": "credits",
    "receipts": "receipts",
    "refund": "refunds",
    "payments": "payments",
    "ledger": "ledger",
    "ledger-health": "health",
    "budgets": "health",
    "processing": "processing",
    "usage": "usage",
    "money": "money",
    "executions": "executions",
    "orphans": "orphans",
    "bmc": "bmc",
}


def _add_global_options(parser: argparse.ArgumentParser, *, nested: bool) -> None:
    """--config/--profile/--url on every command; a nested parser must not reset them."""
    default = argparse.SUPPRESS if nested else None
    group = parser.add_argument_group("connection")
    group.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help=f"config file (default: $ADMINUI_CONFIG, then {default_config_path()})",
    )
    group.add_argument(
        "--profile",
        metavar="NAME",
        default=default,
        help="profile of the config file to use (default: default_profile)",
    )
    group.add_argument(
        "--url",
        metavar="URL",
        default=default,
        help="SQLAlchemy database URL; bypasses the config file",
    )
    group.add_argument(
        "--d1-local",
        metavar="DIR",
        default=default,
        help="a project folder: its D1 database's local copy (.wrangler/state/v3/d1/), as --url",
    )
    group.add_argument(
        "--product",
        metavar="NAME",
        default=default,
        help=f"the product ({', '.join(p.name for p in packs())}; default: the profile's "
        "product, else recognised from the tables)",
    )
    group.add_argument(
        "--data-url",
        metavar="URL",
        default=default,
        help="the product's second database (fltr's `fltr`), same user and password as --url",
    )
    group.add_argument(
        "--wide",
        action="store_true",
        default=argparse.SUPPRESS if nested else False,
        help="tables as wide as their content (by default they fit the terminal)",
    )
    group.add_argument(
        "--allow-unvetted",
        action="store_true",
        default=argparse.SUPPRESS if nested else False,
        help="run even if a query file differs from queries/vetted.lock (shown on screen)",
    )


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")


class Parser(argparse.ArgumentParser):
    """argparse, with a wrong command line told in one sentence and exit 1 (bad input), not
    its usage text and exit 2 (which the README keeps for config and connection trouble).
    Every subcommand's parser is one too (argparse makes them of the parent's class)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser(pack: Pack | None = None) -> argparse.ArgumentParser:
    """The whole command line; for a known product, only the commands of the jobs it offers."""

    def offers(job: str) -> bool:
        return pack is None or job in pack.jobs

    parser = Parser(
        prog="adminui",
        description="Look after a SaaS product's database: users, credits, executions, "
        "payments, orphan rows. Run without a command to open the app.",
        epilog=f"Passwords come from ${PASSWORD_ENV}, then the keyring "
        "('adminui password set PROFILE'), then a prompt.",
    )
    parser.add_argument("--version", action="version", version=f"adminui {__version__}")
    _add_global_options(parser, nested=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(parent: Any, name: str, help_text: str) -> argparse.ArgumentParser:
        sub = parent.add_parser(name, help=help_text, description=help_text)
        _add_global_options(sub, nested=True)
        return sub

    demo = command(commands, "demo", "build the SQLite demo database and open the app on it")
    demo.add_argument(
        "--path",
        metavar="FILE",
        help=f"where the demo database lives (default: {connect.default_demo_path()})",
    )
    demo.add_argument(
        "--users",
        type=int,
        metavar="N",
        help="how many users to make (default 2000); rebuilds the file",
    )
    demo.add_argument(
        "--rebuild", action="store_true", help="build the file again even if it exists"
    )
    demo.add_argument("--no-open", action="store_true", help="only build; don't open the app")
    demo.set_defaults(handler=cmd_demo)

    if offers("users"):
        _add_users(commands, command)
    adjusts = pack is not None and pack.balance.model == adjustments.MODEL
    if offers("credits") and not adjusts:
        cli_credits.add_grant(commands, command, open_session, pack)
    if offers("credits") and (pack is None or adjusts):
        cli_adjust.add_adjust(commands, command, open_session)
    if offers("receipts"):
        cli_credits.add_receipts(commands, command, open_session)
    if offers("refunds"):
        cli_ledger_credits.add_refund(commands, command, open_session)
    if offers("payments"):
        cli_payments.add_commands(commands, command, open_session)
    if offers("bmc"):
        cli_bmc.add_commands(commands, command, open_session)
    if offers("ledger"):
        cli_ledger.add_commands(commands, command, open_session)
    if offers("health"):
        cli_health.add_commands(commands, command, open_session, pack)
    cli_reports.add_commands(commands, command, open_session, pack)  # the jobs it offers
    if offers("executions"):
        cli_executions.add_commands(commands, command, open_session)
    if offers("processing"):
        cli_processing.add_commands(commands, command, open_session, pack)
    if offers("orphans"):
        cli_orphans.add_commands(commands, command, open_session, pack)
    cli_schema.add_commands(commands, command, open_session)
    cli_queries.add_commands(commands, command)
    cli_audit.add_commands(commands, command)

    password = command(commands, "password", "store or remove a profile's password in the keyring")
    password_commands = password.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (
        ("set", "store the password (asked for, or read from stdin)"),
        ("delete", "remove the stored password"),
    ):
        sub = command(password_commands, action, text)
        sub.add_argument("profile_name", metavar="PROFILE")
        sub.set_defaults(handler=cmd_password)
    return parser


def _add_users(commands: Any, command: Any) -> None:
    users = command(commands, "users", "find users and show one user's usage")
    users_commands = users.add_subparsers(dest="action", metavar="ACTION", required=True)
    find = command(users_commands, "find", "users whose email, name, id or BMC reference match")
    find.add_argument("text", help="part of an email or name, an id prefix, or a BMC reference")
    find.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    _add_format(find)
    find.set_defaults(handler=cmd_users_find)
    show = command(users_commands, "show", "one user's profile, credits and activity")
    show.add_argument("user", metavar="EMAIL|ID", help="the user's email or id")
    _add_format(show)
    show.set_defaults(handler=cmd_users_show)


def open_session(args: argparse.Namespace, *, enforce_foreign_keys: bool = True) -> Session:
    """Connect as the global options say (asking for a password only at a terminal); refuse a
    command the product doesn't offer. A product recognised from the tables is named on
    stderr at a terminal (a script's stderr stays as it was)."""
    session = connect.open_session(
        config=args.config,
        profile=args.profile,
        url=args.url,
        interactive=sys.stdin.isatty(),
        enforce_foreign_keys=enforce_foreign_keys,
        product=args.product,
        data_url=args.data_url,
    )
    args.opened.append(session.db)
    pack = session.db.pack
    if args.command:
        refuse_unoffered(args.command, pack)
    if session.recognised and sys.stderr.isatty():
        print(f"adminui: product: {pack.title}, recognised by its tables", file=sys.stderr)
    return session


def refuse_unoffered(command: str, pack: Pack) -> None:
    """A command of a job the product's pack doesn't offer: said in one line (exit 1)."""
    job = JOBS.get(command)
    if job and job not in pack.jobs:
        raise AdminError(
            f"{pack.title} has no {job} job, so no '{command}' command; its jobs are "
            f"{', '.join(pack.jobs)}."
        )


def known_pack(argv: Sequence[str]) -> tuple[Pack | None, str | None]:
    """The product the command line or its profile names, before anything connects (None:
    to be recognised from the tables), and the command word. A config that can't be read is
    left for the command to report."""
    early = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for option in ("--config", "--profile", "--url", "--d1-local", "--product"):
        early.add_argument(option)
    known, rest = early.parse_known_args(argv)
    command = next((word for word in rest if not word.startswith("-")), None)
    if known.product:
        return pack_named(known.product), command
    if known.url or known.d1_local or command in ("queries", "audit"):
        return None, command
    try:
        named = load_config(known.config).profile(known.profile).product
    except AdminError:
        return None, command
    return (pack_named(named) if named else None), command


def cmd_users_find(args: argparse.Namespace) -> int:
    db = open_session(args).db
    found = users.find_users(db, args.text, limit=args.limit)
    print(render_rows(found.rows, db.pack.lookup.columns, args.format))
    if args.format == "table":
        print(found.describe(), file=sys.stderr)
    return 0


def cmd_users_show(args: argparse.Namespace) -> int:
    db = open_session(args).db
    detail = users.get_user_detail(db, users.resolve_user(db, args.user)).plain()
    print(render_record(detail, args.format))
    if args.format == "table":
        for read in db.pack.lookup.lists:
            if read.list in detail:  # not when its database is one the profile doesn't name
                rows = detail[read.list]
                print(f"\n{read.title}: {len(rows) or 'none'}")
                if rows:
                    print(render_rows(rows, read.columns, "table"))
    return 0


def cmd_password(args: argparse.Namespace) -> int:
    name = args.profile_name
    load_config(args.config).profile(name)  # a mistyped profile name is refused, not stored
    if args.action == "delete":
        delete_password(name)
        print(f"Removed the stored password of profile '{name}'.", file=sys.stderr)
        return 0
    check_keyring()  # before asking for what could not be stored
    if sys.stdin.isatty():
        secret = getpass.getpass(f"Password for profile '{name}': ")
    else:
        secret = sys.stdin.readline().rstrip("\r\n")
    if not secret:
        raise InputError("password", "empty; nothing was stored")
    store_password(name, secret)
    print(f"Stored the password of profile '{name}' in the keyring.", file=sys.stderr)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    pack = pack_named(args.product) if args.product else None
    if pack is not None and pack is not load_pack():  # Idea Expansion keeps its own demo
        return _pack_demo(args, pack)
    path = Path(args.path).expanduser() if args.path else connect.default_demo_path()
    if args.rebuild or args.users is not None or not path.exists():
        users = args.users if args.users is not None else DEFAULT_USERS
        summary = connect.build_demo_file(path, users)
        print(
            f"Built {path}: {summary.users} users, {summary.executions} executions, "
            f"{summary.receipts} receipts, {summary.orphans} orphan rows.",
            file=sys.stderr,
        )
    else:
        print(f"Using the demo at {path} (--rebuild makes it again).", file=sys.stderr)
    print(
        f"The CLI works on it too: adminui --url sqlite:///{path} users find lovelace",
        file=sys.stderr,
    )
    if args.no_open:
        return 0
    return run_app(connect.open_demo(path), args.unvetted)


def _pack_demo(args: argparse.Namespace, pack: Pack) -> int:
    """`adminui demo --product NAME`: a pack's SQL demo, in a SQLite file per database."""
    path = Path(args.path).expanduser() if args.path else connect.default_demo_path(pack)
    files = connect.demo_files(path, pack)
    if args.rebuild or args.users is not None or not all(f.exists() for f in files.values()):
        users = args.users if args.users is not None else DEFAULT_USERS
        connect.build_pack_demo_file(path, users, pack)
        print(
            f"Built the {pack.title} demo: {', '.join(map(str, files.values()))}.", file=sys.stderr
        )
    else:
        print(f"Using the demo at {path} (--rebuild makes it again).", file=sys.stderr)
    urls = " ".join(
        f"--{'url' if role == MAIN else 'data-url'} sqlite:///{file}"
        for role, file in files.items()
    )
    print(f"The CLI works on it too: adminui {urls} orphans scan", file=sys.stderr)
    if args.no_open:
        return 0
    return run_app(connect.open_demo(path, pack), args.unvetted)


def run_app(session: Session, unvetted: Sequence[str] = ()) -> int:
    """Open the TUI on a connected database, on the real terminal (not main's escaping)."""
    from adminui.tui.app import AdminApp

    with raw_output():
        AdminApp(session.db, session.config, unvetted=tuple(unvetted)).run()
    return 0


def check_vetted(allowed: bool) -> list[str]:
    """Refuse to start with query files that differ from their lock, unless allowed (then warn);
    what differs."""
    problems = vetting.unvetted()
    if problems and not allowed:
        raise SetupError(
            f"The query files don't match {vetting.lock_path()} ({'; '.join(problems)}): review "
            "them, then run 'adminui queries vet', or start with --allow-unvetted."
        )
    if problems:
        print(f"adminui: running unvetted queries ({'; '.join(problems)})", file=sys.stderr)
    return problems


def refuse_undecodable(argv: Sequence[str]) -> None:
    """Refuse, before anything runs, an argument that was not valid UTF-8. Python hands such
    bytes over as lone surrogates, which fail wherever the text is encoded later (the driver, a
    print); here is the one place that sees every argument. It is named by position (and the
    option before it), never echoed: it may be a --url with a password."""
    for number, argument in enumerate(argv, 1):
        try:
            argument.encode("utf-8")
        except UnicodeEncodeError:
            before = argv[number - 2] if number > 1 else ""
            if argument.startswith("--") and "=" in argument:
                name = argument.split("=", 1)[0]
            elif before.startswith("-"):
                name = f"argument {number} (after {before.split('=', 1)[0]})"
            else:
                name = f"argument {number}"
            raise InputError(
                name,
                "is not valid UTF-8 text (check the terminal's or the script's encoding); "
                "nothing was run",
            ) from None


@escaped_output()
def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `adminui` console script. All it prints is escaped (escaped_output):
    no text from the database or the command line can steer the operator's terminal."""
    argv = sys.argv[1:] if argv is None else argv
    opened: list[Database] = []  # what open_session connected, closed when the command ends
    try:
        refuse_undecodable(argv)
        pack, command = known_pack(argv)
        if pack is not None and command:
            refuse_unoffered(command, pack)
        args = build_parser(pack).parse_args(argv)
        args.opened = opened
        if args.d1_local:
            if args.url:
                raise InputError("--d1-local", "give it or --url, not both")
            args.url = d1_local_url(args.d1_local, ask if sys.stdin.isatty() else None)
        fit_tables(None if args.wide or not sys.stdout.isatty() else shutil.get_terminal_size()[0])
        if args.command not in ("queries", "audit"):  # these must work when the files differ
            args.unvetted = check_vetted(args.allow_unvetted)
        if args.command is None:
            return run_app(open_session(args), args.unvetted)
        return args.handler(args)
    except AdminError as error:
        print(f"adminui: {error}", file=sys.stderr)
        return error.exit_code
    except BrokenPipeError:  # output piped into `head`: the reader is gone, nothing to say
        sys.stderr.close()
        return 0
    except OSError as error:
        print(f"adminui: {error.strerror or error}: {error.filename or ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("adminui: interrupted; nothing more was done.", file=sys.stderr)
        return 130
    finally:
        # The pools' connections end with the command, not whenever the collector finds them:
        # a test calling main() in-process would otherwise keep a database busy.
        for db in opened:
            db.dispose()

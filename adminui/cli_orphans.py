"""`adminui orphans`: scan for orphan rows, show a check's rows, clean one check (backup first,
the row count typed to confirm), restore a backup, and the foreign keys and indexes the live
database lacks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adminui.cli_credits import confirm, require_writable
from adminui.errors import AdminError, InputError
from adminui.ops import backups, health, orphans
from adminui.ops.values import counted
from adminui.output import FORMATS, render_record, render_rows
from adminui.packs import Pack, packs

if TYPE_CHECKING:
    from adminui.connect import Session

Opener = Callable[..., "Session"]
SCAN_COLUMNS = ("check", "count", "enforced_by", "action", "finds")
KEY_COLUMNS = ("check", "state", "fix")
INDEX_COLUMNS = ("table", "present", "why", "ddl")
RECEIPTS_WORDS = "delete receipts"


def add_commands(
    commands: Any,
    command: Callable[..., argparse.ArgumentParser],
    open_session: Opener,
    pack: Pack | None = None,
) -> None:
    """Register `orphans` and its actions (the checks named in --help are the product's, when
    it is known before connecting)."""
    group = command(commands, "orphans", "orphan rows and foreign-key health (seeds 003, 004)")
    actions = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    names = "; ".join(
        ", ".join(c.name for c in orphans.checks(p)) + ("" if pack else f" ({p.name})")
        for p in ([pack] if pack else packs())
    )

    def action(name: str, help_text: str, handler: Callable[..., int]) -> argparse.ArgumentParser:
        sub = command(actions, name, help_text)
        sub.set_defaults(handler=lambda args: handler(args, open_session))
        return sub

    scan = action("scan", "every check's count of orphan rows", cmd_scan)
    scan.add_argument("--format", choices=FORMATS, default="table")
    scan.add_argument(
        "--full",
        action="store_true",
        help="also count the checks a validated foreign key enforces (rows written with its "
        "triggers off, as a data-only restore does, get past it)",
    )
    show = action("show", "one check's orphan rows, whole", cmd_show)
    show.add_argument("check", metavar="CHECK", help=f"one of {names}")
    show.add_argument("--limit", type=int, default=20, help="at most this many (default 20)")
    show.add_argument("--format", choices=FORMATS, default="table")
    clean = action("clean", "back up one check's orphans, then act on exactly them", cmd_clean)
    clean.add_argument("check", metavar="CHECK", help=f"one of {names}")
    clean.add_argument("--backup", metavar="FILE", help="where to write the backup (new file)")
    clean.add_argument("--yes", action="store_true", help="don't ask for the row count")
    clean.add_argument(
        "--delete-receipts",
        action="store_true",
        help="with --yes: also confirm deleting payment receipts (money records)",
    )
    clean.add_argument(
        "--include-dependents",
        action="store_true",
        help="also back up and change the rows (not orphans) that deleting these rows would "
        "delete or set to NULL, in the same transaction",
    )
    fks = action("fks", "the reference schema's foreign keys the database lacks", cmd_fks)
    fks.add_argument("--format", choices=FORMATS, default="table")
    indexes = action("indexes", "recommended indexes the database lacks (PostgreSQL)", cmd_indexes)
    indexes.add_argument("--format", choices=FORMATS, default="table")
    restore = action("restore", "put the rows of a backup file back", cmd_restore)
    restore.add_argument("file", metavar="FILE", help="a backup written by 'orphans clean'")
    restore.add_argument("--yes", action="store_true", help="don't ask before writing")


def cmd_scan(args: argparse.Namespace, open_session: Opener) -> int:
    counts = orphans.scan(open_session(args).db, full=args.full)
    rows = [
        {
            "check": c.check.name,
            "count": c.count,
            "enforced_by": c.enforced_by,
            "action": c.check.action,
            "finds": c.check.finds,
        }
        for c in counts
    ]
    print(
        render_rows(rows, SCAN_COLUMNS[:4] if args.format == "json" else SCAN_COLUMNS, args.format)
    )
    enforced = sum(c.enforced_by is not None for c in counts)
    if enforced and args.format == "table":
        print(
            f"{enforced} checks not counted: a validated foreign key (enforced_by) keeps their "
            "orphans out. --full counts them too.",
            file=sys.stderr,
        )
    return 0


def cmd_show(args: argparse.Namespace, open_session: Opener) -> int:
    if not 1 <= args.limit <= 10_000:
        raise InputError("--limit", "must be between 1 and 10,000")
    db = open_session(args).db
    check = orphans.get_check(args.check, db.pack)
    page = orphans.preview(db, check, limit=args.limit)
    columns = list(page.rows[0]) if page.rows else [check.key]
    print(render_rows(page.rows, columns, args.format))
    if args.format == "table":
        total = orphans.count(db, check)
        print(f"{len(page.rows)} of {total} {check.finds}", file=sys.stderr)
    return 0


def cmd_clean(args: argparse.Namespace, open_session: Opener) -> int:
    session = open_session(args)
    db = session.db
    check = orphans.get_check(args.check, db.pack)
    require_writable(session)
    total = orphans.count(db, check)
    if not total:
        print(f"No {check.finds}; nothing to do.")
        return 0
    print(f"{check.name}: {total} {check.finds}. Cleaning will {check.does}.")
    sample = orphans.preview(db, check, limit=5).rows
    print(
        render_rows(
            sample,
            [k for k in dict.fromkeys((check.key, "user_id", "created_at")) if k in sample[0]],
            "table",
        )
    )
    if check.secret:
        print("Their secret values are not in the backup (adminui never reads them).")
    # Refuse what can't be confirmed before writing a backup nobody will use.
    if not args.yes and not sys.stdin.isatty():
        raise InputError("--yes", "no terminal to ask for confirmation; pass --yes to write")
    if check.money:
        print(
            f"⚠️  {check.records_money.capitalize()} are money records: deleting them removes "
            "the audit trail of "
            "those payments (the backup file keeps a copy).",
            file=sys.stderr,
        )
        if args.yes and not args.delete_receipts:
            raise InputError("--delete-receipts", f"{check.records_money} need it beside --yes")
    try:
        saved = backups.backup(
            db,
            check,
            Path(args.backup) if args.backup else None,
            include_dependents=args.include_dependents,
        )
    except orphans.DependentsError as refused:
        raise InputError("--include-dependents", str(refused)) from None
    print(f"Backup of {counted(saved.rows, 'row')} written to {saved.path}")
    for name, ids in saved.dependents.items():
        relation = orphans.get_relation(name, db.pack)
        print(f"  including {counted(len(ids), relation.table + ' row')} ({name}): {relation.does}")
    if not args.yes:
        _ask(f"Type {saved.rows} to {check.does} ({counted(saved.rows, 'row')})", str(saved.rows))
        if check.money:
            _ask(f"Type '{RECEIPTS_WORDS}' to delete these {check.records_money}", RECEIPTS_WORDS)
    result = orphans.clean(db, saved, session.config.operator, progress=_progress(len(saved.ids)))
    also = ""
    if result.dependents_acted_on:
        also = f" and {counted(result.dependents_acted_on, 'row')} that pointed at them"
    left = (
        f"{result.remaining} {check.finds} remain"
        if result.remaining is not None
        else "the count of what remains could not be read"
    )
    done = counted(result.acted_on, "row")
    print(f"Done: {done} ({check.does}){also}; {left}. Backup: {result.backup}")
    if result.warning:
        print(f"adminui: {result.warning}", file=sys.stderr)
    return 0


def _ask(question: str, answer: str) -> None:
    """The operator types a number or words: read, not a reflex 'y'."""
    print(f"{question}: ", end="", file=sys.stderr, flush=True)
    if sys.stdin.readline().strip().replace(",", "").lower() != answer:
        raise AdminError("Cancelled; nothing was changed (the backup file stays).")


def _progress(total: int) -> Callable[[int, int], None] | None:
    """Progress lines on stderr, for sets large enough to go in batches."""
    if total <= orphans.BATCH:
        return None
    return lambda done, of: print(f"  {done:,} of {of:,}", file=sys.stderr)


def cmd_fks(args: argparse.Namespace, open_session: Opener) -> int:
    keys = health.foreign_keys(open_session(args).db)
    rows = [{"check": k.check, "state": k.state, "fix": k.fix} for k in keys]
    print(render_rows(rows, KEY_COLUMNS, args.format))
    if args.format == "table":
        lacking = sum(k.state != "present" for k in keys)
        print(
            f"{lacking} of {len(keys)} foreign keys missing, not valid or disabled",
            file=sys.stderr,
        )
    return 0


def cmd_indexes(args: argparse.Namespace, open_session: Opener) -> int:
    found = health.indexes(open_session(args).db)
    rows = [
        {"table": i.advice.table, "present": i.present, "why": i.advice.why, "ddl": i.advice.ddl}
        for i in found
    ]
    print(render_rows(rows, INDEX_COLUMNS, args.format))
    if not found:
        print("No index is recommended for this product on this database.", file=sys.stderr)
    return 0


def cmd_restore(args: argparse.Namespace, open_session: Opener) -> int:
    saved = backups.read_backup(Path(args.file))
    header = saved.header
    # The rows go back as they were, without their parents: SQLite must not enforce foreign
    # keys for that (PostgreSQL still refuses them where the constraint exists again).
    session = open_session(args, enforce_foreign_keys=False)
    require_writable(session)  # before the summary and the question, as clean does
    clean = backups.recorded_clean(session.db, saved)  # a file no clean wrote is refused here
    print(
        render_record(
            {
                "check": saved.check.name,
                "rows": len(saved.rows),
                "cleaned": f"{clean.get('time')} by {clean.get('operator')}",
                "from": f"{header.get('profile')} ({header.get('host')})",
                "into": f"{session.db.profile.name} ({session.db.profile.where})",
            },
            "table",
        )
    )
    confirm(f"Put {counted(len(saved.rows), 'row')} of {saved.check.name} back?", args.yes)
    result = backups.restore(session.db, saved, session.config.operator)
    print(
        f"Restored {counted(result.restored, 'row')}; refused {len(result.refused)} "
        "(their id exists)."
    )
    for column, total in result.money.items():
        print(f"  {column}: {total} put back")
    for row_id in result.refused[:20]:
        print(f"  refused {row_id}")
    if result.warning:
        print(f"adminui: {result.warning}", file=sys.stderr)
    return 1 if result.refused else 0  # not all of it went back: not done

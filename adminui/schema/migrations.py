"""A product's migrations folder against the table its migration tool records applied migrations
in, each tool by its own rule (seed 000: "check if migrations match deployed schema"):

- drizzle (fltr): the files of `meta/_journal.json` (every `*.sql` when there is no journal),
  each known by the SHA-256 of its text as Drizzle computes it (`crypto.createHash('sha256')
  .update(fs.readFileSync(file).toString())`: the file read as UTF-8, a malformed byte as
  U+FFFD, then hashed), recorded in `__drizzle_migrations.hash`;
- wrangler (D1, filepath): every `*.sql` file, known by its file name, recorded in
  `d1_migrations.name`;
- numbered (OmniChat's migrate-simple.sh): files `NNNN_description.sql`, known by their number,
  recorded in `schema_version.version`, which must run without gaps (seed 002: "use sequential
  numbering"). How that script computes `checksum` is not in the seed: it is not compared.

A file the table lacks is `unapplied_migration`; a row no file matches is `unknown_migration`;
a number missing from a numbered sequence is `migration_gap`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adminui.errors import InputError
from adminui.packs import Migrations
from adminui.schema.drift import Finding

_NUMBERED = re.compile(r"^([0-9]+)_.*\.sql$")


@dataclass(frozen=True)
class MigrationFile:
    name: str  # the file's name in the folder
    key: str  # what the table records of it: its hash, name or number
    made_at: int | None = None  # Drizzle's journal time (ms), which created_at records


def drizzle_hash(data: bytes) -> str:
    """The hash Drizzle records for a migration file's bytes."""
    return hashlib.sha256(data.decode("utf-8", "replace").encode("utf-8")).hexdigest()


def files(folder: Path, tool: str) -> list[MigrationFile]:
    """The migrations of a folder, in order, as the tool knows them."""
    if not folder.is_dir():
        raise InputError("--migrations", f"{folder} is not a folder")
    if tool == "drizzle":
        return _drizzle_files(folder)
    found = sorted(p.name for p in folder.glob("*.sql") if p.is_file())
    if tool == "wrangler":
        return [MigrationFile(name, name) for name in found]
    numbered: dict[int, str] = {}
    for name in found:
        match = _NUMBERED.match(name)
        if match is None:
            raise InputError(
                "--migrations", f"{name} is not named NNNN_description.sql, as the script needs"
            )
        number = int(match[1])
        if number in numbered:
            raise InputError(
                "--migrations",
                f"{numbered[number]} and {name} both have number {number}: which runs first?",
            )
        numbered[number] = name
    return [MigrationFile(name, str(number)) for number, name in sorted(numbered.items())]


def _drizzle_files(folder: Path) -> list[MigrationFile]:
    journal = folder / "meta" / "_journal.json"
    if not journal.is_file():
        paths = sorted(p for p in folder.glob("*.sql") if p.is_file())
        return [MigrationFile(p.name, drizzle_hash(p.read_bytes())) for p in paths]
    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))["entries"]
        listed = [(f"{e['tag']}.sql", int(e["when"])) for e in entries]
    except (ValueError, KeyError, TypeError) as error:
        raise InputError("--migrations", f"{journal} is not a Drizzle journal ({error})") from None
    found = []
    for name, when in listed:
        if Path(name).name != name or name.startswith("."):  # a journal can't point elsewhere
            raise InputError("--migrations", f"{journal} names {name!r}, not a file of {folder}")
        path = folder / name
        if not path.is_file():
            raise InputError("--migrations", f"the journal lists {name}, which is not in {folder}")
        found.append(MigrationFile(name, drizzle_hash(path.read_bytes()), when))
    return found


# Gaps listed one by one up to this many; a longer run of numbers is not one sequence (numbers
# made from dates, say) and is said in one finding.
GAPS_LISTED = 20
SEQUENCE_SPAN = 10_000


def compare(
    spec: Migrations,
    applied: Sequence[Mapping[str, Any]] | None,
    folder: list[MigrationFile] | None,
) -> list[Finding]:
    """The findings of one product's migrations: `applied` is the table's rows (None when the
    database has no such table), `folder` the files (None when no folder was given: then only
    the gaps of a numbered sequence can be told)."""
    rows = list(applied or [])
    recorded = {_key(spec.tool, r): r for r in rows}
    found: list[Finding] = []
    unapplied = [f for f in folder or [] if f.key not in recorded]
    # Drizzle records a file's journal time with its hash: a row of a file's time with another
    # hash is that file as it was when it ran, edited since.
    edited = {
        f.name: row
        for f in unapplied
        for row in rows
        if f.made_at is not None and _number(row["applied_at"]) == f.made_at
    }
    latest = max((n for r in rows if (n := _number(r["applied_at"])) is not None), default=None)
    found += [
        _unapplied(spec, file, applied is None, edited.get(file.name), latest) for file in unapplied
    ]
    if folder is not None:
        keys = {f.key for f in folder}
        changed = [id(row) for row in edited.values()]
        for key, row in recorded.items():
            if key not in keys and id(row) not in changed:
                found.append(_unknown(spec, row))
    if spec.tool == "numbered":
        found += _gaps(spec, rows, {f.key for f in unapplied})
    return found


def _unknown(spec: Migrations, row: Mapping[str, Any], why: str = "") -> Finding:
    return Finding(
        "unknown_migration",
        f"{spec.table}: {_row_name(spec.tool, row)}",
        "a file in the migrations folder",
        why or "recorded as applied, but no file has it",
        "-- Restore the file from version control (git log --all -- 'migrations/*'), or find "
        "who ran it: the folder and the database disagree.",
    )


def _gaps(spec: Migrations, rows: list[Mapping[str, Any]], unapplied: set[str]) -> list[Finding]:
    """The numbers missing from a numbered sequence (a number whose file is there is reported
    as unapplied instead); a row whose number isn't one, as unknown."""
    found = [
        _unknown(spec, row, "its version is not a whole number")
        for row in rows
        if _number(row["version"]) is None
    ]
    numbers = sorted({n for r in rows if (n := _number(r["version"])) is not None})
    if not numbers:
        return found
    first, last = numbers[0], numbers[-1]
    expected = f"versions {first} to {last} without a gap"
    if last - first >= SEQUENCE_SPAN:
        fix = "-- Number migrations one after the other (seed 002: 0009, 0010, ...)."
        return [
            *found,
            Finding(
                "migration_gap",
                f"{spec.table}: versions {first} to {last}",
                expected,
                f"{len(numbers)} numbers over a span of {last - first + 1}: not one sequence",
                fix,
            ),
        ]
    have = set(numbers) | {int(key) for key in unapplied}
    missing = [n for n in range(first, last + 1) if n not in have]
    for number in missing[:GAPS_LISTED]:
        found.append(
            Finding(
                "migration_gap",
                f"{spec.table}: version {number}",
                expected,
                f"{number} is not recorded",
                f"-- Find migration {number:04d} (git log --all -- "
                f"'migrations/{number:04d}_*'): apply it with the others, or record why it was "
                "skipped.",
            )
        )
    if len(missing) > GAPS_LISTED:
        more = missing[GAPS_LISTED:]
        found.append(
            Finding(
                "migration_gap",
                f"{spec.table}: versions {more[0]} to {more[-1]}",
                expected,
                f"{len(more)} more numbers are not recorded",
                "-- As above, for each.",
            )
        )
    return found


def _number(value: Any) -> int | None:
    """A whole number as a table stores it (an int, or its digits as text); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip() if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() else None


def _key(tool: str, row: Mapping[str, Any]) -> str:
    if tool == "drizzle":
        return str(row["hash"])
    if tool == "wrangler":
        return str(row["name"])
    number = _number(row["version"])
    return str(number) if number is not None else f"?{row['version']!r}"


def _row_name(tool: str, row: Mapping[str, Any]) -> str:
    if tool == "drizzle":
        return f"id {row['version']}, hash {str(row['hash'])[:12]}…"
    if tool == "wrangler":
        return str(row["name"])
    return f"version {row['version']} ({row['name'] or 'no name'})"


def _unapplied(
    spec: Migrations,
    file: MigrationFile,
    no_table: bool,
    edited: Mapping[str, Any] | None,
    latest: int | None,
) -> Finding:
    number = f" (number {file.key})" if spec.tool == "numbered" else ""
    fix = f"-- Apply it with the product's tool: {spec.apply}"
    if no_table:
        actual = f"not applied: the database has no {spec.table} table"
    elif edited is not None:
        actual = (
            f"changed after it ran: {spec.table} id {edited['version']} holds its journal time "
            "with another hash"
        )
        fix = (
            "-- Drizzle won't run it again (it goes by the journal time). See what changed (git "
            f"log -p -- {file.name}) and put the change in a new migration."
        )
    else:
        actual = f"not in {spec.table}"
        if file.made_at is not None and latest is not None and file.made_at < latest:
            fix = (
                "-- Drizzle skips it: its journal time is before the last recorded migration's. "
                f"Run it by hand, then record it: its hash is {file.key}."
            )
    return Finding(
        "unapplied_migration", f"{file.name}{number}", f"recorded in {spec.table}", actual, fix
    )

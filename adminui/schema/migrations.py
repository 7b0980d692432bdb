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

_NUMBERED = re.compile(r"^(\d+)_.*\.sql$")


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
    numbered = [(m, name) for name in found if (m := _NUMBERED.match(name))]
    return [MigrationFile(name, str(int(m[1]))) for m, name in numbered]


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
    found += [_unapplied(spec, file, rows, applied is None) for file in unapplied]
    if folder is not None:
        keys = {f.key for f in folder}
        for key, row in recorded.items():
            if key not in keys:
                found.append(
                    Finding(
                        "unknown_migration",
                        f"{spec.table}: {_row_name(spec.tool, row)}",
                        "a file in the migrations folder",
                        "recorded as applied, but no file has it",
                        "-- Restore the file from version control (git log --all -- "
                        "'migrations/*'), or find who ran it: the folder and the database "
                        "disagree.",
                    )
                )
    if spec.tool == "numbered" and rows:
        numbers = sorted(int(r["version"]) for r in rows)
        missing_numbers = set(range(numbers[0], numbers[-1] + 1)) - set(numbers)
        # A number whose file is there is reported as unapplied, not as a gap.
        for missing in sorted(missing_numbers - {int(f.key) for f in unapplied}):
            found.append(
                Finding(
                    "migration_gap",
                    f"{spec.table}: version {missing}",
                    f"versions {numbers[0]} to {numbers[-1]} without a gap",
                    f"{missing} is not recorded",
                    f"-- Find migration {missing:04d} (git log --all -- "
                    f"'migrations/{missing:04d}_*'): apply it with the others, or record why "
                    "it was skipped.",
                )
            )
    return found


def _key(tool: str, row: Mapping[str, Any]) -> str:
    if tool == "drizzle":
        return str(row["hash"])
    if tool == "wrangler":
        return str(row["name"])
    return str(int(row["version"]))


def _row_name(tool: str, row: Mapping[str, Any]) -> str:
    if tool == "drizzle":
        return f"id {row['version']}, hash {str(row['hash'])[:12]}…"
    if tool == "wrangler":
        return str(row["name"])
    return f"version {row['version']} ({row['name'] or 'no name'})"


def _unapplied(
    spec: Migrations, file: MigrationFile, rows: list[Mapping[str, Any]], no_table: bool
) -> Finding:
    number = f" (number {file.key})" if spec.tool == "numbered" else ""
    if no_table:
        actual = f"not applied: the database has no {spec.table} table"
    else:
        actual = f"not in {spec.table}"
        # Drizzle records the journal's time with the hash: a row of that time with another
        # hash is this file, edited after it ran.
        if file.made_at is not None and any(
            r["applied_at"] is not None and int(r["applied_at"]) == file.made_at for r in rows
        ):
            actual += " (a row of its journal time has another hash: the file changed after it ran)"
    return Finding(
        "unapplied_migration",
        f"{file.name}{number}",
        f"recorded in {spec.table}",
        actual,
        f"-- Apply it with the product's tool: {spec.apply}",
    )

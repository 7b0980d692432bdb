"""The registry of vetted SQL: loads the shared statements of queries/ and one product pack's
(queries/<pack>/) once and hands out statements by name.

The query-file contract (DESIGN.md) is enforced here, at load time, naming file and line: each
statement sits under `-- name:`, with a doc line, `-- mode: read|write` and `-- params: a, b` (or
`none`) that match the `:name` parameters the SQL really uses, and holds exactly one statement.
`<job>.sqlite.sql` may restate names of `<job>.sql` for SQLite, with the same mode and params.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from sqlalchemy import TextClause, text

from adminui.errors import QueryFileError

Dialect = Literal["postgresql", "sqlite"]
MODES = ("read", "write")
SQLITE_SUFFIX = ".sqlite.sql"

_NAME_LINE = re.compile(r"^--\s*name:\s*(?P<name>.*?)\s*$")
_HEADER_KEY = re.compile(r"^--\s*(?P<key>mode|params):\s*(?P<value>.*?)\s*$")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# The same rule SQLAlchemy's text() uses for a bind parameter: `:name`, not `::cast`, not `\:x`.
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?![:\w])")
# What hides parameters and semicolons from view: literals, quoted names, comments.
_OPAQUE = re.compile(
    r"'(?:[^']|'')*'"  # 'string' with '' escapes
    r'|"(?:[^"]|"")*"'  # "quoted identifier"
    r"|(?P<tag>\$\w*\$).*?(?P=tag)"  # $tag$ dollar-quoted body $tag$
    r"|--[^\n]*"  # -- comment
    r"|/\*.*?\*/",  # /* comment */
    re.DOTALL,
)


DEFAULT_PACK = "idea_expansion"  # the first product's pack (seed 001)


def default_query_dir() -> Path:
    """Where the vetted SQL is: inside the installed package, or at the top of a source checkout."""
    packaged = Path(__file__).parent / "_queries"
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / "queries"


@dataclass(frozen=True)
class Statement:
    """One named statement of a query file."""

    name: str
    doc: str
    mode: Literal["read", "write"]
    params: frozenset[str]
    sql: str
    source: str  # "users.sql:12", for messages

    @cached_property
    def clause(self) -> TextClause:
        """The compiled SQLAlchemy clause (built once, on first use)."""
        return text(self.sql)

    @cached_property
    def pyformat(self) -> str:
        """The SQL in psycopg's own placeholders (`%(name)s`, a literal % doubled), for the
        statements the database layer sends in one pipeline. The loader refuses a `:word` in a
        literal or comment, so every match here is a parameter."""
        return _BIND.sub(r"%(\1)s", self.sql.replace("%", "%%"))

    @cached_property
    def numbered(self) -> tuple[str, tuple[str, ...]]:
        """The SQL with each `:name` as `?N` (the same N for the same name), and the names in
        N's order: D1's API binds positional values only."""
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match[1] not in names:
                names.append(match[1])
            return f"?{names.index(match[1]) + 1}"

        return _BIND.sub(number, self.sql), tuple(names)


def used_params(sql: str) -> set[str]:
    """The bound `:name` parameters a statement really uses (not inside literals or comments)."""
    return set(_BIND.findall(_OPAQUE.sub(" ", sql)))


def _statement_count(sql: str) -> int:
    visible = _OPAQUE.sub(" ", sql)
    return sum(1 for part in visible.split(";") if part.strip())


@dataclass
class _Block:
    name: str
    line: int
    doc: str = ""
    mode: str | None = None
    params: str | None = None
    body: list[str] = field(default_factory=list)
    in_header: bool = True


def parse_file(path: Path) -> list[Statement]:
    """Parse one query file; raise QueryFileError naming file and line on any breach."""
    blocks: list[_Block] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        where = f"{path.name}:{number}"
        if match := _NAME_LINE.match(line):
            name = match["name"]
            if not _IDENTIFIER.match(name):
                raise QueryFileError(f"{where}: '{name}' is not a valid statement name")
            blocks.append(_Block(name, number))
            continue
        if not blocks:
            if line and not line.startswith("--"):
                raise QueryFileError(f"{where}: SQL before the first '-- name:' header")
            continue
        block = blocks[-1]
        if block.in_header and line.startswith("--"):
            if key := _HEADER_KEY.match(line):
                if getattr(block, key["key"]) is not None:
                    raise QueryFileError(f"{where}: a second '-- {key['key']}:' line")
                setattr(block, key["key"], key["value"])
            elif not block.doc and line.lstrip("-").strip():
                block.doc = line.lstrip("-").strip()
            continue
        if line:
            block.in_header = False
        if not block.in_header:
            block.body.append(raw)
    return [_to_statement(path, block) for block in blocks]


def _to_statement(path: Path, block: _Block) -> Statement:
    where = f"{path.name}:{block.line}"
    if not block.doc:
        raise QueryFileError(f"{where}: '{block.name}' has no line saying what it does")
    if block.mode is None:
        raise QueryFileError(f"{where}: '{block.name}' has no '-- mode: read|write' line")
    if block.mode not in MODES:
        raise QueryFileError(f"{where}: '{block.name}' has mode '{block.mode}', not read or write")
    if block.params is None:
        raise QueryFileError(f"{where}: '{block.name}' has no '-- params:' line (use 'none')")
    declared = set() if block.params == "none" else {p.strip() for p in block.params.split(",")}
    if "" in declared:
        raise QueryFileError(f"{where}: '{block.name}' has an empty name in its params line")
    sql = "\n".join(block.body).strip()
    if not sql:
        raise QueryFileError(f"{where}: '{block.name}' has no SQL")
    count = _statement_count(sql)
    if count > 1:
        raise QueryFileError(f"{where}: '{block.name}' holds {count} statements; one per name")
    used = used_params(sql)
    if used != declared:
        missing = ", ".join(sorted(used - declared))
        unused = ", ".join(sorted(declared - used))
        problems = [f"uses undeclared :{missing}" if missing else "", f"declares unused {unused}"]
        detail = "; ".join(p for p in problems if p)
        raise QueryFileError(
            f"{where}: '{block.name}' params line does not match its SQL: {detail}"
        )
    # SQLAlchemy's text() takes `:name` for a parameter even inside a literal or a comment,
    # and would refuse to run the statement without a value for it.
    hidden = set(_BIND.findall(sql)) - used
    if hidden:
        raise QueryFileError(
            f"{where}: '{block.name}' has :{sorted(hidden)[0]} in a literal or comment, which "
            f"SQLAlchemy reads as a parameter; write it as \\:{sorted(hidden)[0]}"
        )
    return Statement(
        name=block.name,
        doc=block.doc,
        mode=block.mode,  # type: ignore[arg-type]
        params=frozenset(declared),
        sql=sql.rstrip(";").rstrip(),
        source=where,
    )


class Registry:
    """Every vetted statement, by name; the SQLite variant where a sibling file gives one."""

    def __init__(self, statements: dict[str, Statement], sqlite: dict[str, Statement]) -> None:
        self._statements = statements
        self._sqlite = sqlite

    @classmethod
    def load(cls, directory: Path | None = None, pack: str = DEFAULT_PACK) -> Registry:
        """Load and check the statements every pack shares (the `*.sql` files of the
        directory) and those of one product's pack (its folder's); default: the vetted queries
        of the Idea Expansion pack. A name is defined once across both."""
        directory = directory or default_query_dir()
        if not directory.is_dir():
            raise QueryFileError(f"The query directory {directory} does not exist")
        # A pack's folder that is missing holds no statements (the vetted lock names it gone).
        folders = (directory, directory / pack)
        files = [path for folder in folders for path in sorted(folder.glob("*.sql"))]
        base: dict[str, Statement] = {}
        sqlite: dict[str, Statement] = {}
        for path in files:
            if path.name.endswith(SQLITE_SUFFIX):
                continue
            for statement in parse_file(path):
                if first := base.get(statement.name):
                    raise QueryFileError(
                        f"{statement.source}: '{statement.name}' is already defined at "
                        f"{first.source}"
                    )
                base[statement.name] = statement
        for path in (path for path in files if path.name.endswith(SQLITE_SUFFIX)):
            job = path.name.removesuffix(SQLITE_SUFFIX) + ".sql"
            for statement in parse_file(path):
                original = base.get(statement.name)
                if original is None or not original.source.startswith(f"{job}:"):
                    raise QueryFileError(
                        f"{statement.source}: '{statement.name}' is not a statement of {job}"
                    )
                if statement.name in sqlite:
                    raise QueryFileError(
                        f"{statement.source}: '{statement.name}' is already defined at "
                        f"{sqlite[statement.name].source}"
                    )
                if (statement.mode, statement.params) != (original.mode, original.params):
                    raise QueryFileError(
                        f"{statement.source}: '{statement.name}' must keep the mode and params "
                        f"of {original.source}"
                    )
                sqlite[statement.name] = statement
        return cls(base, sqlite)

    def get(self, name: str, dialect: Dialect = "postgresql") -> Statement:
        """The statement called `name` for the dialect; an unknown name is an error."""
        if dialect == "sqlite" and name in self._sqlite:
            return self._sqlite[name]
        try:
            return self._statements[name]
        except KeyError:
            raise QueryFileError(f"No vetted statement is named '{name}'") from None

    def names(self) -> list[str]:
        """Every statement name, sorted."""
        return sorted(self._statements)

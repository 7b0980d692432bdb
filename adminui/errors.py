"""The errors a person may see: each carries one clear sentence and the exit code the CLI uses.

Layers raise these; the TUI shows `str(error)` and the CLI prints it and exits with `exit_code`.
Anything else that escapes is a bug, not a message for the operator.
"""


class AdminError(Exception):
    """Base of every error meant for the operator's eyes."""

    exit_code = 1


class SetupError(AdminError):
    """Config, profile, keyring or connection trouble: nothing could be asked of the database."""

    exit_code = 2


class QueryFileError(SetupError):
    """A file in queries/ breaks the query-file contract (named with file and line)."""


# What a person calls the fields whose names are the product's columns (on screen and in the
# CLI alike); other fields are named as typed (`--limit`, `credits`, `search`).
FIELD_LABELS = {"amount_usd": "amount (USD)", "bmc_reference": "BMC reference"}


class InputError(AdminError):
    """Input refused before anything ran; names the field in the person's words (`field`
    keeps the program's name for it). A problem that names its option itself is said alone."""

    def __init__(self, field: str, problem: str) -> None:
        if field.startswith("--") and field in problem:
            text = problem[0].upper() + problem[1:]
        else:
            text = f"{FIELD_LABELS.get(field, field)}: {problem}"
        super().__init__(text)
        self.field = field


class NotFoundError(AdminError):
    """The thing asked for does not exist."""


class ReadOnlyError(AdminError):
    """A write asked of a read-only profile."""


class DatabaseError(AdminError):
    """The database refused or failed a statement; the message says which and why, in short."""


class OutcomeUnknownError(DatabaseError):
    """The connection broke while COMMIT was under way and the database could not be asked
    since: the write may or may not be committed. Exit code 3: check before trying again."""

    exit_code = 3


class UsageError(AdminError):
    """The command line itself is wrong (a missing or unknown option): exit 1, like bad input."""

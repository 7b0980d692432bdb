"""Modal dialogs every write uses: a yes/no confirmation, a reason prompt, and the receipt view.

Texts are shown literally (`Text(...)`), since they carry database values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class Dialog(ModalScreen[Any]):
    """A centred box over the screen; every dialog of the app is one (their CSS loads with
    whichever is opened first)."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 72; max-width: 95%; height: auto; max-height: 90%;
        border: thick $warning; background: $surface; padding: 1 2;
    }
    Dialog Horizontal { height: auto; align-horizontal: right; margin-top: 1; }
    Dialog Button { margin-left: 2; }
    """


class ConfirmScreen(Dialog):
    """Ask before a write: dismissed with True only by the confirm button (or `y`)."""

    BINDINGS = [
        Binding("escape", "dismiss(False)", "Cancel"),
        Binding("y", "yes", "Yes", show=False),
        Binding("n", "dismiss(False)", "No", show=False),
    ]

    def __init__(self, question: str, confirm_label: str = "Confirm", *, quick_yes: bool = True):
        super().__init__()
        self.question = question
        self.confirm_label = confirm_label
        self.quick_yes = quick_yes  # False: only the button confirms (a second confirmation)

    def action_yes(self) -> None:
        """`y` confirms, unless this dialog asks for the button itself."""
        if self.quick_yes:
            self.dismiss(True)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question), id="question")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self.confirm_label, id="confirm", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # a stray Enter must not write

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Confirm writes; Cancel doesn't."""
        self.dismiss(event.button.id == "confirm")


class ReasonScreen(Dialog):
    """Ask for a line of text (a refund's reason, a file name); dismissed with the text, or
    None when cancelled."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, question: str, initial: str = "") -> None:
        super().__init__()
        self.question = question
        self.initial = initial

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(self.question))
            yield Input(self.initial, placeholder="reason", id="reason")
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button("Continue", id="continue", variant="warning")

    def on_input_submitted(self) -> None:
        """Enter in the box continues."""
        self._finish()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Continue with the reason, or cancel."""
        if event.button.id == "continue":
            self._finish()
        else:
            self.dismiss(None)

    def _finish(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.notify("This can't be empty.", severity="warning")
            return
        self.dismiss(reason)


class ReceiptScreen(Dialog):
    """A written receipt: it can be copied to the clipboard or saved as a text file."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("c", "copy", "Copy"),
        Binding("s", "save", "Save"),
    ]

    def __init__(self, title: str, text: str, save_dir: Path, file_stem: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.save_dir = save_dir
        self.file_stem = file_stem
        self.saved_path: Path | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text(self.title_text, style="bold"))
            yield Static(Text(self.text), id="receipt")
            yield Static("", id="saved")
            with Horizontal():
                yield Button("Copy", id="copy")
                yield Button("Save", id="save")
                yield Button("Close", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Copy, save or close."""
        {"copy": self.action_copy, "save": self.action_save}.get(
            event.button.id or "", self.dismiss
        )()

    def action_copy(self) -> None:
        """Put the receipt on the clipboard (the terminal's OSC 52)."""
        self.app.copy_to_clipboard(self.text)
        self.notify("Receipt copied to the clipboard.")

    def action_save(self) -> None:
        """Write the receipt to a text file and say where."""
        path = self.save_dir / f"{self.file_stem}.txt"
        try:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(self.text + "\n", encoding="utf-8")
        except OSError as error:
            self.notify(
                f"Could not save to {path}: {error.strerror or error}",
                severity="error",
                markup=False,
            )
            return
        self.saved_path = path
        self.query_one("#saved", Static).update(Text(f"Saved to {path}"))


class PickScreen(Dialog):
    """Choose one row of a list (Enter); Esc chooses none. `rows` are (key, cells) pairs."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(
        self, title: str, headers: tuple[str, ...], rows: list[tuple[Any, tuple[str, ...]]]
    ) -> None:
        super().__init__()
        self.title_text = title
        self.headers = headers
        self.rows = rows

    def compose(self) -> ComposeResult:
        from textual.widgets import DataTable

        with Vertical():
            yield Static(Text(self.title_text), id="question")
            yield DataTable(id="choices", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        from textual.widgets import DataTable

        table = self.query_one("#choices", DataTable)
        table.add_columns(*self.headers)
        for number, (_, cells) in enumerate(self.rows):
            table.add_row(*(Text(c) for c in cells), key=str(number))
        table.focus()

    def on_data_table_row_selected(self, event: Any) -> None:
        self.dismiss(self.rows[event.cursor_row][0])

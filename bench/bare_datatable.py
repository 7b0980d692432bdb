"""The baseline for first paint: a bare Textual app that shows a DataTable of 100 rows."""

from textual.app import App, ComposeResult
from textual.widgets import DataTable


class Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Email", "Credits", "Created")
        for n in range(100):
            table.add_row(f"bare-row-{n:04d}@example.com", str(n), "2026-11-22 12:00")


if __name__ == "__main__":
    Bare().run()

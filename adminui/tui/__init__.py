"""The Textual app: one screen per job. Screens call adminui.ops in thread workers, never the
database layer directly, and never on the UI thread."""

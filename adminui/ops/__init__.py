"""The operations behind every screen and command: validate input, run vetted statements, return
frozen dataclasses. Nothing here knows about Textual or the terminal."""

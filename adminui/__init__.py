"""adminui: a terminal app and CLI for the people who run a small SaaS product's database."""

__version__ = "0.1.0"

"""The TUI at a distance (#19): the real AdminApp, driven headless (App.run_test), through the
delay proxy of bench/delay_proxy.py; for each action, the wall time until the screen shows its
result, the round trips counted on the wire, and the same statements sent by raw psycopg on a
warm connection in one pipeline (BEGIN READ ONLY, the statements, COMMIT: one round trip plus
the server's time, the least any client can do).

The actions: first paint with rows (connect, then the newest users shown; its baseline connects
too), a search keystroke (the last letter of a search, timed from the key to the results, less
the screen's debounce), opening a user, paging executions (the next page, loaded by moving to
the end), opening payments (the summaries shown). `bench/latency.py` prints them with the CLI.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import URL
from textual.message import Message
from textual.message_pump import MessagePump
from textual.pilot import Pilot
from textual.worker import WorkerState

from adminui import db as db_module
from adminui.config import Config, Profile
from adminui.db import Database
from adminui.tui.app import AdminApp
from adminui.tui.user_lookup import UserLookupScreen
from bench.delay_proxy import DelayProxy

Call = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class Measure:
    """One action: the app's wall time (s) and counted round trips, and the statements it sent."""

    seconds: float
    trips: int
    statements: list[Call]


@contextmanager
def recorded() -> Iterator[list[Call]]:
    """The statements (name, values) every transaction sends meanwhile, in order (the app's own
    session statements, sent with them, are not among them)."""
    seen: list[Call] = []
    send, execute = db_module.Transaction._send, db_module.Transaction._execute

    def sending(self: Any, calls: Any, **kwargs: Any) -> Any:
        seen.extend((name, dict(values)) for name, values in calls)
        return send(self, calls, **kwargs)

    def executing(self: Any, name: str, params: Any, **kwargs: Any) -> Any:
        if self._db.dialect == "postgresql":  # SQLite's statements came through _send
            seen.extend((name, dict(p)) for p in (params if isinstance(params, list) else [params]))
        return execute(self, name, params, **kwargs)

    db_module.Transaction._send = sending  # type: ignore[method-assign]
    db_module.Transaction._execute = executing  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        db_module.Transaction._send = send  # type: ignore[method-assign]
        db_module.Transaction._execute = execute  # type: ignore[method-assign]


async def settled(app: AdminApp, pilot: Pilot) -> None:
    """Until no worker is pending or running and the messages they posted are handled."""
    quiet = 0
    deadline = time.perf_counter() + 60
    while quiet < 2:
        await pilot.pause()
        busy = [w for w in app.workers if w.state in (WorkerState.PENDING, WorkerState.RUNNING)]
        quiet = 0 if busy else quiet + 1
        if busy:
            await app.workers.wait_for_complete()
        if time.perf_counter() > deadline:
            raise SystemExit("bench: the screen never settled")


@contextmanager
def results_shown() -> Iterator[list[float]]:
    """When each message of adminui's own (a worker's result: rows, a detail, a page) has been
    handled by its screen, its rows in place: the instants, in order. The action's time ends at
    the last (the settling that follows polls, much coarser than a round trip)."""
    handled: list[float] = []
    dispatch = MessagePump._dispatch_message

    async def dispatching(self: MessagePump, message: Message) -> None:
        await dispatch(self, message)
        if type(message).__module__.startswith("adminui."):
            handled.append(time.perf_counter())

    MessagePump._dispatch_message = dispatching  # type: ignore[method-assign]
    try:
        yield handled
    finally:
        MessagePump._dispatch_message = dispatch  # type: ignore[method-assign]


async def measured(
    proxy: DelayProxy, act: Callable[[], Awaitable[None]], less: float = 0.0
) -> Measure:
    """Run an action; its wall time to the last result shown (less `less`, a debounce), the
    round trips counted and the statements sent."""
    with recorded() as statements, results_shown() as handled:
        trips = proxy.trips
        started = time.perf_counter()
        await act()
        ended = handled[-1] if handled else time.perf_counter()
    return Measure(ended - started - less, proxy.trips - trips, statements)


async def drive(url: URL, password: str, proxy: DelayProxy, search: str) -> dict[str, Measure]:
    """Every action once, in order, on one app; what each measured."""
    found: dict[str, Measure] = {}
    holder: dict[str, Any] = {}

    async def first_paint() -> None:
        db = Database(Profile("bench", url), password)
        db.check()
        app = AdminApp(db, Config())
        holder["db"], holder["app"] = db, app
        holder["run"] = app.run_test(size=(160, 48))
        holder["pilot"] = await holder["run"].__aenter__()
        await settled(app, holder["pilot"])

    found["first paint with rows"] = await measured(proxy, first_paint)
    app, pilot, db = holder["app"], holder["pilot"], holder["db"]
    try:
        lookup = app.screen
        assert isinstance(lookup, UserLookupScreen)
        box = lookup.query_one("#search")
        box.focus()
        box.value = search[:-1]
        await pilot.pause(lookup.DEBOUNCE_SECONDS)
        await settled(app, pilot)

        async def keystroke() -> None:
            await pilot.press(search[-1])
            await pilot.pause(lookup.DEBOUNCE_SECONDS)
            await settled(app, pilot)

        found["a search keystroke"] = await measured(proxy, keystroke, lookup.DEBOUNCE_SECONDS)
        user_id = lookup.query_one("#results").coordinate_to_cell_key((0, 0)).row_key.value

        async def open_user() -> None:
            app.open_user(user_id)
            await settled(app, pilot)

        found["opening a user"] = await measured(proxy, open_user)
        app.action_user_lookup()
        app.open_executions()
        await settled(app, pilot)
        table = app.screen.query_one("#runs-table")

        async def next_page() -> None:
            table.action_scroll_bottom()
            await settled(app, pilot)

        found["paging executions"] = await measured(proxy, next_page)
        app.action_user_lookup()

        async def open_payments() -> None:
            app.open_payments()
            await settled(app, pilot)

        found["opening payments"] = await measured(proxy, open_payments)
    finally:
        await holder["run"].__aexit__(None, None, None)
        db.dispose()
    return found


def baseline(
    conninfo: str, db: Database, proxy: DelayProxy, measure: Measure, *, connect: bool
) -> tuple[float, int]:
    """Raw psycopg sending the action's statements in one pipeline, in one read-only transaction
    (connecting first when the action did): seconds and round trips counted."""
    started, trips = time.perf_counter(), proxy.trips
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if not connect:
            started, trips = time.perf_counter(), proxy.trips
        with conn.pipeline():
            conn.execute("BEGIN READ ONLY")
            cursors = [
                conn.execute(db.statement(name).pyformat, values)
                for name, values in measure.statements
            ]
            conn.execute("COMMIT")
        for cursor in cursors:
            if cursor.description:
                cursor.fetchall()
        return time.perf_counter() - started, proxy.trips - trips


def tui_actions(
    url: URL, password: str, delay: float, search: str, db: Database
) -> dict[str, tuple[Measure, tuple[float, int]]]:
    """At one delay: each action's Measure and its raw psycopg baseline (s, trips)."""
    with DelayProxy(url.host or "127.0.0.1", url.port or 5432, delay) as proxy:
        near = url.set(port=proxy.port, password=None)
        found = asyncio.run(drive(near, password, proxy, search))
        conninfo = near.set(drivername="postgresql", password=password).render_as_string(
            hide_password=False
        )
        return {
            action: (
                measure,
                baseline(conninfo, db, proxy, measure, connect=action.startswith("first")),
            )
            for action, measure in found.items()
        }

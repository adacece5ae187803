"""A deadline for the database work of one request, enforced by the database itself.

One expensive request (clusters at zoom 22 over the whole world, a text search over a million
rows) must not hold a connection and a worker for as long as it likes while other visitors wait.
While a deadline is set (:func:`deadline`, around each HTTP request), every statement is stopped
when it runs out:

- on PostgreSQL each transaction starts with ``SET LOCAL statement_timeout`` to the time left;
- on SQLite a progress handler, called every few thousand virtual-machine steps, interrupts the
  statement once the deadline has passed.

Both surface as :class:`BudgetExceeded` (an ``OperationalError`` from the driver, recognised by
:func:`is_budget_error`), which the web answers with 503 and ``Retry-After``. Commands (imports,
exports from the CLI, maintenance) run without a deadline.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# When the current context's database work must stop (time.monotonic()), or None for no limit.
_DEADLINE: ContextVar[float | None] = ContextVar("database_deadline", default=None)
# SQLite calls the progress handler every this many virtual-machine instructions: often enough to
# stop within a millisecond or so, rarely enough to cost nothing measurable.
PROGRESS_STEPS = 5_000
# PostgreSQL's SQLSTATE for a statement cancelled by statement_timeout.
QUERY_CANCELED = "57014"


def start(seconds: float | None) -> Token[float | None]:
    """Limit the database work from now on to ``seconds`` (None or 0: no limit); :func:`stop` ends it."""
    return _DEADLINE.set(time.monotonic() + seconds if seconds else None)


def stop(token: Token[float | None]) -> None:
    """Lift the deadline :func:`start` set.

    A streamed answer ends its request in the context that iterated it, where the token is not
    known: the deadline is cleared there instead.
    """
    try:
        _DEADLINE.reset(token)
    except ValueError:
        _DEADLINE.set(None)


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Limit the database work inside the block to ``seconds`` (None or 0: no limit)."""
    token = start(seconds)
    try:
        yield
    finally:
        stop(token)


def seconds_left() -> float | None:
    """The time left before the current deadline (never negative), or None without one."""
    end = _DEADLINE.get()
    return None if end is None else max(0.0, end - time.monotonic())


def is_budget_error(error: BaseException) -> bool:
    """Whether a database error is a statement stopped by the deadline (on either backend)."""
    original = getattr(error, "orig", None) or error
    if isinstance(original, sqlite3.OperationalError):
        return str(original) == "interrupted"
    return getattr(original, "sqlstate", None) == QUERY_CANCELED


def _past_deadline() -> int:
    end = _DEADLINE.get()
    return 1 if end is not None and time.monotonic() > end else 0


@event.listens_for(Engine, "connect")
def _watch_sqlite(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.set_progress_handler(_past_deadline, PROGRESS_STEPS)


@event.listens_for(Engine, "begin")
def _limit_postgresql(connection: Any) -> None:
    left = seconds_left()
    if left is not None and connection.dialect.name == "postgresql":
        # At least a millisecond: 0 would mean "no limit" to PostgreSQL.
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(left * 1000))}")

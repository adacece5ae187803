"""The one SQLAlchemy handle, and the SQLite settings that make the embedded default safe.

SQLite is the default store, so it gets what a server database gives for free: WAL so readers never
block the writer, a busy timeout instead of "database is locked" errors, FULL sync so acknowledged
commits survive power loss, and foreign keys switched on.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

from geodata.geometry import geometry_intersects_box


class Base(DeclarativeBase):
    """Declarative base for every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


def _intersects_sql(
    geometry_json: str, min_lon: float, min_lat: float, max_lon: float, max_lat: float
) -> int:
    """SQL function ``tl_intersects``: exact geometry-vs-box test for the rows the R*Tree let through."""
    return int(geometry_intersects_box(json.loads(geometry_json), (min_lon, min_lat, max_lon, max_lat)))


def _casefold_sql(value: str | None) -> str | None:
    """SQL function ``tl_casefold``: Unicode case folding (Суджа = суджа, Straße = STRASSE)."""
    return value.casefold() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()
    # SQLAlchemy, not the driver, starts transactions (see _begin), so a writer can ask for
    # BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    dbapi_connection.create_function("tl_intersects", 5, _intersects_sql, deterministic=True)
    # SQLite's lower() folds ASCII only; the story's text is German, Russian and Ukrainian too.
    dbapi_connection.create_function("tl_casefold", 1, _casefold_sql, deterministic=True)


@event.listens_for(Engine, "begin")
def _begin(connection: Any) -> None:
    """Start SQLite transactions ourselves: deferred for readers, IMMEDIATE for writers.

    A deferred transaction that reads and then writes fails at once with "database is locked" if
    another process committed in between; a writer that takes the lock up front waits its turn
    (busy_timeout) and then sees the other's commit, so a stale edit becomes a clean 409.
    """
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


@contextmanager
def writing(session: Session) -> Iterator[None]:
    """One all-or-nothing write transaction, holding SQLite's write lock from its first statement."""
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        session.commit()  # end the read snapshot this request may hold
    session.connection(execution_options={"sqlite_begin": "BEGIN IMMEDIATE"})
    try:
        yield
        session.commit()
    except BaseException:
        session.rollback()
        raise


def include_object(_obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
    """Alembic autogenerate filter: the SQLite R*Tree is a virtual table the models do not describe."""
    return not (type_ == "table" and (name or "").startswith("event_rtree"))

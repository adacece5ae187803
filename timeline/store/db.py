"""The one SQLAlchemy handle, and the per-backend settings that make both backends behave alike.

SQLite is the default store, so it gets what a server database gives for free: WAL so readers never
block the writer, a busy timeout instead of "database is locked" errors, FULL sync so acknowledged
commits survive power loss, and foreign keys switched on.

PostgreSQL (with PostGIS, for deployments that scale out) gets the one thing SQLite gives for free:
writers take turns (see :func:`writing`), so a stale edit is a clean 409 on both backends.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import create_engine, event, exc, text
from sqlalchemy.dialects.postgresql.base import ischema_names as postgresql_type_names
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.pool import NullPool
from sqlalchemy.types import UserDefinedType

from geodata.geometry import stored_geometry_intersects_box
from timeline.store.folding import search_text


class Base(DeclarativeBase):
    """Declarative base for every model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()

if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _FlaskModel

    class Model(_FlaskModel, Base):
        """What mypy sees for ``db.Model``, the base of every model.

        ``db.Model`` is a class Flask-SQLAlchemy builds at run time from :class:`Base` (its body,
        its metaclass) and its own :class:`~flask_sqlalchemy.model.Model` mixins; mypy cannot
        subclass an attribute, so this spells the same for the type checker.
        """

else:
    Model = db.Model

DbSession: TypeAlias = Session | scoped_session[FlaskSession]
"""What the functions that read and write the database take as their ``session``.

The app passes Flask-SQLAlchemy's ``db.session``: not a :class:`Session` but a
:class:`scoped_session` that stands for the current app context's session (of Flask-SQLAlchemy's
``Session`` subclass) and forwards every call to it. Scripts and tests may pass a plain Session.
The two offer the same methods; :func:`writing` unwraps the proxy where the Session itself counts.
"""

# Any constant will do: the key of the PostgreSQL advisory lock every writer takes (see writing()).
WRITE_LOCK_KEY = 0x71_6D_6C_6E
# How long a writer waits for its turn before giving up; SQLite's busy_timeout below is the same.
WRITE_WAIT_SECONDS = 10


def _intersects_sql(
    geometry_json: str, min_lon: float, min_lat: float, max_lon: float, max_lat: float
) -> int:
    """SQL function ``tl_intersects``: exact geometry-vs-box test for the rows the R*Tree let through."""
    return int(stored_geometry_intersects_box(geometry_json, (min_lon, min_lat, max_lon, max_lat)))


def _casefold_sql(value: str | None) -> str | None:
    """SQL function ``tl_casefold``: Unicode case folding (Суджа = суджа, Straße = STRASSE)."""
    return value.casefold() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={WRITE_WAIT_SECONDS * 1000}")
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
    # The words the full-text index holds (timeline/store/folding.py), for the triggers of 0009.
    dbapi_connection.create_function("tl_search_text", 1, search_text, deterministic=True)


@event.listens_for(Engine, "do_connect")
def _connect_options(dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
    """A server that does not answer must not hang requests (and /healthz) forever: 5 s, unless the
    URL says otherwise (``?connect_timeout=…``); and custom query plans (below)."""
    if dialect.name == "postgresql":
        cparams.setdefault("connect_timeout", 5)
        # psycopg prepares a statement run five times, and PostgreSQL then plans it once for any
        # parameters. Such a generic plan cannot use the partial GiST index of migration 0007
        # (it cannot know that the box is small) and took 36 ms instead of 2 for a viewport. Plan
        # with the actual values every time: a fraction of a millisecond.
        custom = "-c plan_cache_mode=force_custom_plan"
        cparams["options"] = f"{cparams['options']} {custom}" if cparams.get("options") else custom


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
def writing(session: DbSession, *, rehearsal: bool = False) -> Iterator[None]:
    """One all-or-nothing write transaction, holding the database's write lock from its first statement.

    On SQLite that is BEGIN IMMEDIATE. On PostgreSQL it is a transaction-scoped advisory lock, so
    writers take turns there too: each one reads the rows it checks (versions, category slugs) only
    after the previous writer committed. Without it, two writers could both pass a version check (one
    then failing with StaleDataError), both create the same new category (a unique violation), or
    lock rows in opposite orders (a deadlock): each a 500 instead of a 409 or a clean save. Readers
    never wait for this lock. A writer that cannot get its turn within WRITE_WAIT_SECONDS fails with
    an OperationalError, which the app answers with 503 (see serving.py), as SQLite's busy timeout.

    A ``rehearsal`` does all of that and then rolls back: a dry run that writes what an import
    would, so it can say exactly what would be created, updated and left unchanged, and keeps none.
    """
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction():
        session.commit()  # end the read snapshot this request may hold
    connection = session.connection(execution_options={"sqlite_begin": "BEGIN IMMEDIATE"})
    try:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{WRITE_WAIT_SECONDS}s'")
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        yield
        if rehearsal:
            session.rollback()
        else:
            session.commit()
    except BaseException:
        session.rollback()
        raise


# What a database error can say about the storage beneath it (see storage_fault).
READ_ONLY = "read-only"
FULL = "full"
# PostgreSQL's SQLSTATEs: a write in a read-only transaction (default_transaction_read_only, a
# standby), and a file that could not grow (no space left on the device of a tablespace).
READ_ONLY_SQL_TRANSACTION = "25006"
DISK_FULL = "53100"


def storage_fault(error: BaseException) -> str | None:
    """:data:`READ_ONLY` or :data:`FULL` when ``error`` means the database cannot take writes at all.

    These are not passing outages like a dropped connection: retrying the same write fails again
    until someone makes the database writable or frees space, so callers say so instead of "try
    again" (and on PostgreSQL a read-only transaction is an InternalError, not an OperationalError).
    Takes SQLAlchemy's wrapped errors and the drivers' own alike.
    """
    original = getattr(error, "orig", None) or error
    if isinstance(original, sqlite3.Error):
        name = getattr(original, "sqlite_errorname", "") or ""
        if name.startswith("SQLITE_READONLY"):
            return READ_ONLY
        return FULL if name == "SQLITE_FULL" else None
    code = getattr(original, "sqlstate", None)
    if code == READ_ONLY_SQL_TRANSACTION:
        return READ_ONLY
    return FULL if code == DISK_FULL else None


def why_not_writable(url: str | URL) -> str | None:
    """Why the database at ``url`` will refuse every write, with what to do about it; None if it will not.

    Asked once at start-up, so that a server on a read-only database says so in its log before the
    first editor finds out. On SQLite this looks at the file system only (the file, its folder,
    where SQLite keeps the -wal and -shm files beside it, and their permissions for this process),
    so it never waits for a writer's lock; on PostgreSQL it asks the server whether this session's
    transactions would be read-only. A database that cannot be reached is /healthz's business.
    """
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_not_writable(url.database or "")
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            read_only, standby = connection.execute(
                text("SELECT current_setting('transaction_read_only') = 'on', pg_is_in_recovery()")
            ).one()
    except exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    if standby:
        return (
            f"the PostgreSQL server of database {url.database!r} is a read-only standby (in recovery): "
            "point DATABASE_URL at the primary server"
        )
    if read_only:
        return (
            f"PostgreSQL database {url.database!r} is read-only for user {url.username!r} "
            f'(default_transaction_read_only is on): run ALTER DATABASE "{url.database}" '
            "RESET default_transaction_read_only (and ALTER ROLE … RESET it, if set for the role)"
        )
    return None


def _sqlite_not_writable(database: str) -> str | None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return None  # in memory, or a URI whose options (mode=ro, …) are the operator's choice
    path = Path(database).resolve()
    folder = path.parent
    folder_writable = os.access(folder, os.W_OK)
    if not path.exists():
        if not folder_writable:
            return f"the SQLite database {path} does not exist and its folder {folder} is read-only"
        return None
    shared_memory = path.with_name(path.name + "-shm")
    if not folder_writable and not shared_memory.exists():
        return (
            f"the folder {folder} of the SQLite database is read-only (or on a read-only file system): "
            f"in WAL mode SQLite cannot even read the database without creating {shared_memory.name} "
            "there, so every request fails; make the folder writable, or mount it read-write"
        )
    if not os.access(path, os.W_OK):
        return (
            f"the SQLite database file {path} is read-only for this process (user id {os.geteuid()}): "
            "reads work, every change is refused; make it writable (chmod u+w, or chown it to the user "
            "the server runs as), or mount its file system read-write"
        )
    for companion in (path.with_name(path.name + "-wal"), shared_memory):
        if companion.exists() and not os.access(companion, os.W_OK):
            return f"{companion} beside the SQLite database is read-only: make it writable like the database"
    if not folder_writable:
        return (
            f"the folder {folder} of the SQLite database is read-only: SQLite keeps its write-ahead "
            f"log ({path.name}-wal) beside the file and cannot start it there; make the folder writable"
        )
    return None


class PostgisGeometry(UserDefinedType[Any]):
    """PostGIS's ``geometry`` type, named so that reflecting ``events.geom`` (Alembic's comparison,
    ``timeline db check``) knows it instead of warning "Did not recognize type 'geometry'"."""

    cache_ok = True

    def __init__(self, *_typmod: Any):
        """Reflection passes the column's type modifiers (``Geometry``, ``4326``); they are not needed."""

    def get_col_spec(self, **kw: Any) -> str:
        return "geometry"


postgresql_type_names.setdefault("geometry", PostgisGeometry)


# What the migrations add for one backend only and the models leave out on purpose: the SQLite R*Tree
# (0001) and FTS5 tables (0009; each name also covers a table's shadow tables, event_search_data and
# so on) and, on PostgreSQL, the PostGIS geometry and GiST indexes (0003), PostGIS's own table, and
# the generated tsvectors of the words of events and sources with their GIN indexes (0009).
BACKEND_ONLY_TABLES = ("event_rtree", "event_search", "source_search", "spatial_ref_sys")
BACKEND_ONLY_COLUMNS = (("events", "geom"), ("events", "search"), ("sources", "search"))
# Partial indexes over expressions (migration 0004), which the models cannot spell for both backends.
BACKEND_ONLY_INDEXES = (
    "ix_events_geom",
    "ix_events_days",
    "ix_events_large",
    "ix_events_live",
    "ix_events_geom_days",
    "ix_events_search",
    "ix_sources_search",
)


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic comparison filter (autogenerate, ``timeline db check``, the drift test).

    Hides the backend-specific objects listed above, and only when they exist in the database
    but not in the models, so a model that came to define one of them would still be compared.
    """
    name = name or ""
    if not reflected or compare_to is not None:
        return True
    if type_ == "table":
        return not name.startswith(BACKEND_ONLY_TABLES)
    if type_ == "column":
        return (obj.table.name, name) not in BACKEND_ONLY_COLUMNS
    if type_ == "index":
        return name not in BACKEND_ONLY_INDEXES
    return True

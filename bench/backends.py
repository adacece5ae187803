"""Where each backend's benchmark data lives, how to reach it, and the app's command line on it.

Data is kept per event count, so that a quick run never replaces the million-event data: a SQLite
file ``bench/data/events-N-vK-packed.sqlite`` and a PostgreSQL/PostGIS database at
``BENCH_DATABASE_URL`` (default ``timeline_bench`` on 127.0.0.1 for the default 1,000,000 events,
``timeline_bench_<N>`` for any other N). Every section that needs a database, an app on it, an
engine for a quick look, or a ``timeline …`` command run the way an operator would, gets it here.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session

from . import DATA, PROJECT_BIN, ROOT

DEFAULT_EVENTS = 1_000_000
# Bump when the generated rows change, so cached databases built by older code are not reused.
GENERATOR_VERSION = 1
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/timeline_bench"
# Every request is answered by the database: the figures compare backends and plans, and the same URL
# is asked 30 times (e1, e2, b2), which a response cache would answer from memory after the first.
# What the cache adds is measured by the throughput section.
NO_CACHE = {"CACHE_URL": "none"}

Name = Literal["sqlite", "postgis"]


@dataclass(frozen=True)
class Backend:
    """One database the suite measures: which kind, its URL, and for SQLite its file."""

    name: Name
    url: str
    path: Path | None = None  # the SQLite file

    @property
    def label(self) -> str:
        return "SQLite" if self.name == "sqlite" else "PostGIS"

    @property
    def shown_url(self) -> str:
        """The URL as reports print it (no password)."""
        return shown(self.url)

    def app(self) -> Flask:
        """The app on this database with the response cache off (see NO_CACHE)."""
        from timeline import create_app

        return create_app({"SQLALCHEMY_DATABASE_URI": self.url, **NO_CACHE})


def app_session() -> Session:
    """The app's session in the current app context, typed as the Session it stands for.

    Flask-SQLAlchemy's ``db.session`` is a scoped session that forwards every Session method to
    the current one; the app's query functions are typed for a Session, and so are the sections.
    """
    from timeline.store.db import db

    return cast(Session, db.session)


def end_session() -> None:
    """Close the app context's session (the next use opens a fresh one, with a fresh transaction)."""
    from timeline.store.db import db

    db.session.remove()


def sqlite_path(n: int) -> Path:
    """Where the suite keeps its SQLite database of N events. "packed": the load ended with
    ``timeline optimize``, as an operator's bulk load should (files from before that are not reused)."""
    return DATA / f"events-{n}-v{GENERATOR_VERSION}-packed.sqlite"


def sqlite_url(path: Path) -> str:
    """An absolute SQLite URL: Flask-SQLAlchemy would read a relative one inside instance/."""
    return f"sqlite:///{path.resolve()}"


def postgis_url(n: int) -> str:
    """BENCH_DATABASE_URL as given, else the default database (``_<N>`` added for N ≠ 1,000,000)."""
    if url := os.environ.get("BENCH_DATABASE_URL"):
        return url
    if n == DEFAULT_EVENTS:
        return PG_DEFAULT_URL
    parsed = make_url(PG_DEFAULT_URL)
    return parsed.set(database=f"{parsed.database}_{n}").render_as_string(hide_password=False)


def for_events(name: Name, n: int, sqlite_file: Path | None = None) -> Backend:
    """The backend ``name`` holding N events (``sqlite_file`` instead of the cached file, if given)."""
    if name == "sqlite":
        path = (sqlite_file or sqlite_path(n)).resolve()
        return Backend("sqlite", sqlite_url(path), path)
    return Backend("postgis", postgis_url(n))


def shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


@contextlib.contextmanager
def connect(url: str, *, autocommit: bool = False) -> Iterator[Connection]:
    """A connection on an engine of its own, disposed afterwards (for a look outside any app)."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT") if autocommit else create_engine(url)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def timeline_cli(url: str, *args: str, stdin: str | None = None) -> str:
    """Run ``timeline …`` on ``url`` as an operator would (a process of its own); its stdout.

    Migrations, the feature cache, ``optimize``, accounts and exports all go through the project's
    own command line, so the benchmarks exercise what production runs, not a copy of its internals.
    """
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.environ.get("SECRET_KEY", "bench")}
    done = subprocess.run(  # noqa: S603
        [str(PROJECT_BIN / "timeline"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"timeline {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout

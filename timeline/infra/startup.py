"""What a server says when it starts: whether its database is ready for this code, and if not, why.

A server on a read-only database (a SQLite file chmod'ed read-only or on a file system mounted
read-only, PostgreSQL with ``default_transaction_read_only``, a standby) still serves reads and
answers every write with a 503 "database read-only"; one on a database that was never migrated,
or not to this release, fails in ways that name a missing table. Both are right answers for
visitors, but an operator should not learn about them from the first editor who could not save:
the log says at start-up what is wrong and how to fix it.

Commands (``timeline db upgrade``, ``timeline import`` …) report their own failures, so the check
runs only for a server: a WSGI server importing the app, or ``timeline run``. Test apps skip it.
A database that cannot be reached at all is left to /healthz, which load balancers watch.
"""

from __future__ import annotations

from pathlib import Path

import click
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import create_engine, exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from timeline.store.db import why_not_writable


def _serving() -> bool:
    """True unless the app was made for a command other than ``run`` (commands run in a click context)."""
    context = click.get_current_context(silent=True)
    return context is None or context.info_name == "run"


def migration_problem(url: str, migrations: str) -> str | None:
    """Why the database's schema is not the one this code expects, or None when it is (or unknown)."""
    scripts = ScriptDirectory(migrations)
    head = scripts.get_current_head()
    parsed = make_url(url)
    database = parsed.database or ":memory:"
    on_file = parsed.get_backend_name() == "sqlite" and not database.startswith((":", "file:"))
    if on_file and not Path(database).exists():  # asking would create an empty file
        return f"the SQLite database {database} does not exist: `timeline db upgrade` creates it"
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    if current == head:
        return None
    if current is None:
        return "the database has no tables yet: run `timeline db upgrade` to create them"
    known = {script.revision for script in scripts.walk_revisions()}
    if current not in known:
        return (
            f"the database is at revision {current}, which this code does not know (a newer release "
            "migrated it?): run the release that did, or restore a backup made for this one"
        )
    return f"the database is at revision {current} and this code needs {head}: run `timeline db upgrade`"


def init_app(app: Flask) -> None:
    if app.config.get("TESTING") or not _serving():
        return
    url = app.config.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        return
    if problem := migration_problem(url, app.extensions["migrate"].directory):
        app.logger.error("the database is not ready for this code: %s", problem)
    if problem := why_not_writable(url):
        app.logger.error("the database will refuse every change: %s", problem)

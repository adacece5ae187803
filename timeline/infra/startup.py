"""What a server says when it starts: whether its database will take writes, and if not, why.

A server on a read-only database (a SQLite file chmod'ed read-only or on a file system mounted
read-only, PostgreSQL with ``default_transaction_read_only``, a standby) still serves reads and
answers every write with a 503 "database read-only". That is the right answer for visitors, but an
operator should not learn about it from the first editor who could not save: the log says at
start-up what is wrong and how to fix it (:func:`timeline.store.db.why_not_writable`).

Commands (``timeline db upgrade``, ``timeline import`` …) report their own failures, so the check
runs only for a server: a WSGI server importing the app, or ``timeline run``. Test apps skip it.
"""

from __future__ import annotations

import click
from flask import Flask

from timeline.store.db import why_not_writable


def _serving() -> bool:
    """True unless the app was made for a command other than ``run`` (commands run in a click context)."""
    context = click.get_current_context(silent=True)
    return context is None or context.info_name == "run"


def init_app(app: Flask) -> None:
    if app.config.get("TESTING") or not _serving():
        return
    url = app.config.get("SQLALCHEMY_DATABASE_URI")
    if url and (problem := why_not_writable(url)):
        app.logger.error("the database will refuse every change: %s", problem)

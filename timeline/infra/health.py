"""Serving behind a load balancer: a health check, and 503 instead of 500 while the database is away.

``GET /healthz`` answers ``{"status": "ok", "database": "ok"}`` (200) when a query goes through,
else ``{"status": "unavailable", "database": "unavailable"}`` (503), so a load balancer stops
sending traffic to an instance that cannot reach its database and resumes when it can.

A request that loses the database midway (server restarted or failed over, connection killed,
SQLite's disk gone, a writer that waited too long for its turn) answers 503 with
``{"error": "database unavailable", …}`` and a ``Retry-After``: the outage is temporary and the
client should try again, which a 500 would not say. Nothing is half-written: every change runs in
one transaction (:func:`timeline.db.writing`), which the database rolls back when the connection
dies before COMMIT. The app recovers by itself: a connection that failed is discarded from the
pool, and ``pool_pre_ping`` (see create_app) replaces stale ones before they are handed out.

A database that takes no writes at all is told apart, since retrying soon will not help: a
read-only one (a SQLite file or folder without write permission, PostgreSQL's
``default_transaction_read_only`` or a standby) answers writes with 503 "database read-only",
a full disk with 507 "storage full"; reads go on where the database can still be read, and the
server says at start-up what is wrong (:mod:`timeline.infra.startup`).

Text holding a NUL character (U+0000) is refused with 400 before any query runs: PostgreSQL can
neither store nor even compare such text (the driver raises), where SQLite would quietly accept it.
The write API's validator already refuses it in event fields (422); this covers paths, query
parameters and form fields, so an id or a filter with a NUL is a clean 400 on both backends.
"""

from __future__ import annotations

from contextlib import suppress

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from markupsafe import escape
from sqlalchemy import Engine, create_engine, exc
from sqlalchemy.pool import NullPool

from timeline.infra.errors import BadParameter, error_response, wants_json
from timeline.store.budget import is_budget_error
from timeline.store.db import FULL, READ_ONLY, db, storage_fault

bp = Blueprint("serving", __name__)

RETRY_AFTER_SECONDS = 5
# The driver's "cannot reach / lost the server" errors, as SQLAlchemy wraps them. OperationalError
# also covers SQLite's "database is locked" and PostgreSQL's lock timeout: busy, so try again too.
UNAVAILABLE = (exc.OperationalError, exc.InterfaceError, exc.DisconnectionError)
DETAIL = "the database cannot be reached right now; try again in a moment"
# Deliberately no template: the page templates ask the database who is logged in.
PAGE = (
    '<!doctype html><html lang="en"><meta charset="utf-8"><title>Temporarily unavailable</title>'
    "<h1>Temporarily unavailable</h1><p>The database cannot be reached right now. "
    "Please try again in a moment.</p></html>"
)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """For load balancers: is this instance able to answer from its database?"""
    try:
        with _health_engine().connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except exc.SQLAlchemyError as error:
        current_app.logger.warning("health check: database unavailable: %s", _first_line(error))
        response, status = jsonify({"status": "unavailable", "database": "unavailable"}), 503
    else:
        response, status = jsonify({"status": "ok", "database": "ok"}), 200
    response.headers["Cache-Control"] = "no-store"
    return response, status


def _health_engine() -> Engine:
    """An engine of the check's own, without a pool: the check never waits for a connection that
    busy requests hold (the app's pool may be all taken), it opens one, asks, and closes it."""
    engine: Engine | None = current_app.extensions.get("health_engine")
    if engine is None:
        engine = create_engine(current_app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
        current_app.extensions["health_engine"] = engine
    return engine


def _database_unavailable(error: Exception) -> tuple[Response | str, int, dict[str, str]]:
    if is_budget_error(error):
        return _over_budget(error)
    if fault := storage_fault(error):
        return _cannot_store(error, fault)
    current_app.logger.error("database unavailable: %s", _first_line(error))
    # Leave nothing of this request's transaction behind for the connection's next user.
    with suppress(exc.SQLAlchemyError):  # the connection is gone: the pool discards it
        db.session.rollback()
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if wants_json():
        return jsonify({"error": "database unavailable", "detail": DETAIL}), 503, headers
    return PAGE, 503, {**headers, "Content-Type": "text/html; charset=utf-8"}


# What a write meets when the database can take none (see timeline.store.db.storage_fault).
CANNOT_STORE = {
    READ_ONLY: (
        503,
        "database read-only",
        "the database is read-only right now, so nothing was saved; "
        "try again once an administrator has made the database writable",
    ),
    FULL: (
        507,
        "storage full",
        "the database has no space left, so nothing was saved; "
        "try again once an administrator has freed space",
    ),
}


def _cannot_store(error: Exception, fault: str) -> tuple[Response | str, int, dict[str, str]]:
    """A write refused because the database is read-only or full: unlike a dropped connection this
    lasts until an administrator acts, so the answer says which it is (and the log, what to fix)."""
    status, name, detail = CANNOT_STORE[fault]
    title = "Not saved"
    if request.method in ("GET", "HEAD"):  # e.g. SQLite in WAL mode, in a read-only folder
        title, detail = (
            "Temporarily unavailable",
            f"the database cannot even be read right now ({fault}); try again later",
        )
    current_app.logger.error("request refused, the database is %s: %s", fault, _first_line(error))
    with suppress(exc.SQLAlchemyError):
        db.session.rollback()
    headers = {"Cache-Control": "no-store"}
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS * 12)
    if wants_json():
        return jsonify({"error": name, "detail": detail}), status, headers
    page = (
        f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{title}</title>'
        f"<h1>{title}</h1><p>{escape(detail[0].upper() + detail[1:])}.</p></html>"
    )
    return page, status, {**headers, "Content-Type": "text/html; charset=utf-8"}


def _internal_database_error(error: Exception) -> tuple[Response | str, int, dict[str, str]]:
    """PostgreSQL reports a write in a read-only transaction as an InternalError; others stay 500s."""
    if fault := storage_fault(error):
        return _cannot_store(error, fault)
    raise error


def _over_budget(error: Exception) -> tuple[Response | str, int, dict[str, str]]:
    """The request needed more database time than one request may have."""
    seconds = current_app.config.get("REQUEST_DATABASE_SECONDS")
    current_app.logger.warning("request over its database budget (%s s): %s", seconds, request.full_path)
    with suppress(exc.SQLAlchemyError):
        db.session.rollback()
    detail = (
        f"answering this needed more than the {seconds:g} s of database time a request may take; "
        "ask for less (a smaller area, a shorter period, fewer categories) or try again later"
    )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if wants_json():
        return jsonify({"error": "over budget", "detail": detail}), 503, headers
    return PAGE, 503, {**headers, "Content-Type": "text/html; charset=utf-8"}


def _first_line(error: Exception) -> str:
    """The driver's message without the SQL and parameters SQLAlchemy appends (they may hold data)."""
    original = getattr(error, "orig", None) or error
    return f"{type(original).__name__}: {str(original).strip().splitlines()[0] if str(original) else ''}"


def _refuse_nul() -> ResponseReturnValue | None:
    """400 for a NUL character anywhere a request can carry text to a query (see the module doc)."""
    query = request.environ.get("QUERY_STRING", "")
    # Only a query string that spells a NUL (%00) can decode to one; the rest need no parsing here.
    if "%00" in query or "\x00" in query:
        for name, value in request.args.items(multi=True):
            if "\x00" in name or "\x00" in value:
                raise BadParameter(name.replace("\x00", "\\u0000"), "contains a NUL character (U+0000)")
    if "\x00" in request.path:
        return error_response(400, "bad request", "the path contains a NUL character (U+0000)")
    if request.method != "GET" and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        for name, value in request.form.items(multi=True):
            if "\x00" in name or "\x00" in value:
                return error_response(400, "bad request", f"form field {name!r} contains a NUL character")
    return None


def _release_session(_error: BaseException | None) -> None:
    """End the request's session without letting a dead connection turn its answer into a 500.

    The answer is already made by now: a write was committed, or rolled back by its transaction.
    Closing the session returns the connection, and a connection killed in the meantime raises
    there, after the 503 handler's reach, as an empty 500 (a client that retried a committed POST
    would then write twice). The error is logged and the session is dropped; the pool discards
    the connection. Registered after Flask-SQLAlchemy's own teardown, so it runs first.
    """
    try:
        db.session.remove()
    except Exception as error:  # the driver's and SQLAlchemy's errors alike: nothing is left to do
        current_app.logger.warning("closing the session after the answer failed: %s", _first_line(error))
        db.session.registry.clear()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.teardown_appcontext(_release_session)
    app.before_request(_refuse_nul)
    for error in UNAVAILABLE:
        app.register_error_handler(error, _database_unavailable)
    app.register_error_handler(exc.InternalError, _internal_database_error)

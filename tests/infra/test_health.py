"""Serving promises, on both backends: /healthz for load balancers; 503, never 500 and never a
half-written change, when the database goes away; recovery without a restart; NUL characters
refused before they reach PostgreSQL; concurrent writers get 200 or 409, never 500."""

from __future__ import annotations

import sqlite3
import sys
import threading
import time
from collections import Counter
from typing import Any

import pytest
from helpers import auth, csrf_token, feature
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from timeline.store.db import WRITE_LOCK_KEY, db
from timeline.store.models import AuditEntry, Category, Event, Revision


def _draft(**props: Any) -> dict[str, Any]:
    """A new event as an editor may send it (no id, no status: editors' events are drafts)."""
    body = feature(None, **props)
    del body["properties"]["status"]
    return body


def _unreachable_url(backend: str, tmp_path: Any) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-directory' / 'timeline.sqlite'}"
    return "postgresql+psycopg://postgres@127.0.0.1:1/timeline"  # nothing listens on port 1


def _counts(app) -> dict[str, int]:
    """Rows an event change writes (the audit log without "token_use", which records the request)."""
    with app.app_context():
        counts = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) or 0
            for model in (Event, Revision, Category)
        }
        audit = select(func.count()).select_from(AuditEntry).where(AuditEntry.action != "token_use")
        counts["audit_log"] = db.session.scalar(audit) or 0
        return counts


def _side_engine(app):
    """A connection outside the app's pool, as another process (or the DBA) would have."""
    return create_engine(
        app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool, isolation_level="AUTOCOMMIT"
    )


def _terminate(app, pids: list[int] | None = None) -> int:
    """pg_terminate_backend the app's connections (all of them, or ``pids``); wait until they are gone."""
    side = _side_engine(app)
    with side.connect() as connection:
        others = "datname = current_database() AND pid <> pg_backend_pid()"
        where = f"{others} AND pid = ANY(:pids)" if pids else others
        killed = connection.execute(
            text(f"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE {where}"),  # noqa: S608
            {"pids": pids},
        ).scalar()
        deadline = time.monotonic() + 10
        while connection.execute(
            text(f"SELECT count(*) FROM pg_stat_activity WHERE {where}"),  # noqa: S608
            {"pids": pids},
        ).scalar():
            assert time.monotonic() < deadline, "terminated backends did not go away"
            time.sleep(0.02)
    side.dispose()
    return killed or 0


# ---------------------------------------------------------------------------- /healthz


def test_healthz_says_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_unreachable_database_gives_503_not_500(backend, tmp_path, app_factory):
    app = app_factory(_unreachable_url(backend, tmp_path))
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {"status": "unavailable", "database": "unavailable"}
    api = client.get("/api/events")
    assert api.status_code == 503
    assert api.get_json()["error"] == "database unavailable"
    assert api.headers["Retry-After"] == "5"
    page = client.get("/events/ev-1", headers={"Accept": "text/html"})  # a page that reads the database
    assert page.status_code == 503
    assert "Temporarily unavailable" in page.get_data(as_text=True)


# ---------------------------------------------------------------------------- losing the database


def test_database_lost_mid_write_answers_503_writes_nothing_and_recovers(app, users, backend):
    """The connection dies after the event row was sent and before its revision: 503, no trace of
    the half-done change, and the next request works without restarting anything."""
    client = app.test_client()
    before = _counts(app)
    with app.app_context():
        engine = db.engine

    def lose_the_database(conn, _cursor, statement, *_args: Any) -> None:
        if not statement.startswith("INSERT INTO revisions"):
            return
        if backend == "sqlite":
            raise sqlite3.OperationalError("disk I/O error")
        _terminate(app, [conn.connection.dbapi_connection.info.backend_pid])

    event.listen(engine, "before_cursor_execute", lose_the_database)
    try:
        lost = client.post("/api/events", json=_draft(title="Half"), headers=auth(users["editor"]["token"]))
    finally:
        event.remove(engine, "before_cursor_execute", lose_the_database)
    assert lost.status_code == 503, lost.get_data(as_text=True)
    assert lost.get_json()["error"] == "database unavailable"
    assert _counts(app) == before  # no event, no revision, no audit entry, no category

    again = client.post("/api/events", json=_draft(title="Whole"), headers=auth(users["editor"]["token"]))
    assert again.status_code == 201
    assert client.get("/healthz").status_code == 200
    after = _counts(app)
    assert after["events"] == before["events"] + 1 and after["revisions"] == before["revisions"] + 1


@pytest.mark.backends("postgis")
def test_app_recovers_after_every_connection_is_killed(app, users, load):
    load(feature("a", title="Before"))
    client = app.test_client()
    with app.app_context():  # fill the pool with several connections
        connections = [db.engine.connect() for _ in range(3)]
        for connection in connections:
            connection.exec_driver_sql("SELECT 1")
        for connection in connections:
            connection.close()
    assert client.get("/api/events").status_code == 200

    assert _terminate(app) >= 3

    assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok"}
    assert [f["id"] for f in client.get("/api/events").get_json()["features"]] == ["a"]
    token = auth(users["admin"]["token"])
    patched = client.patch(
        "/api/events/a", json={"version": 1, "properties": {"title": "After"}}, headers=token
    )
    assert patched.status_code == 200
    assert _terminate(app) >= 1
    assert client.get("/api/events/a").get_json()["properties"]["title"] == "After"


def test_writer_that_cannot_get_its_turn_answers_503(app, users, backend, monkeypatch):
    """Another writer holds the write lock longer than a writer waits: 503 (busy, try again), not 500."""
    monkeypatch.setattr(sys.modules["timeline.store.db"], "WRITE_WAIT_SECONDS", 1)
    with app.app_context():
        db.engine.dispose()  # SQLite's busy timeout is set per connection
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    before = _counts(app)
    if backend == "sqlite":
        holder: Any = sqlite3.connect(make_url(url).database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
    else:
        side = _side_engine(app)
        holder = side.connect()
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": WRITE_LOCK_KEY})
    client = app.test_client()
    try:
        started = time.monotonic()
        busy = client.post("/api/events", json=_draft(), headers=auth(users["editor"]["token"]))
        assert busy.status_code == 503
        assert busy.get_json()["error"] == "database unavailable"
        assert time.monotonic() - started < 8
    finally:
        if backend == "sqlite":
            holder.execute("ROLLBACK")
        holder.close()
        if backend != "sqlite":
            side.dispose()
    assert _counts(app) == before
    assert (
        client.post("/api/events", json=_draft(), headers=auth(users["editor"]["token"])).status_code == 201
    )


# ---------------------------------------------------------------------------- NUL characters


@pytest.mark.parametrize(
    "props",
    [
        {"title": "Sudzha\x00"},
        {"description": "a\x00b"},
        {"place": "\x00"},
        {"actors": ["Ukraine\x00"]},
        {"sources": [{"url": None, "outlet": "Ex\x00ample", "title": "", "published": None}]},
    ],
    ids=["title", "description", "place", "actors", "source"],
)
def test_nul_in_event_text_is_422_never_500(client, users, props):
    token = auth(users["admin"]["token"])
    created = client.post("/api/events", json=feature(None, **props), headers=token)
    assert created.status_code == 422
    good = client.post("/api/events", json=feature(None), headers=token).get_json()
    patched = client.patch(
        f"/api/events/{good['id']}", json={"version": 1, "properties": props}, headers=token
    )
    assert patched.status_code == 422
    assert client.get(f"/api/events/{good['id']}").get_json()["properties"]["version"] == 1


@pytest.mark.parametrize(
    ("method", "url", "role"),
    [
        ("get", "/api/events?q=Sud%00zha", None),
        ("get", "/api/events?category=a%00", None),
        ("get", "/export/events.geojson?q=%00", None),
        ("get", "/api/events/ev%001", None),
        ("get", "/events/ev%001", None),
        ("get", "/api/events/ev%001/revisions", "editor"),
        ("patch", "/api/events/ev%001", "editor"),
        ("delete", "/api/events/ev%001", "admin"),
        ("post", "/api/events/ev%001/publish", "admin"),
    ],
)
def test_nul_in_paths_and_parameters_is_400_never_500(client, users, method, url, role):
    headers = auth(users[role]["token"]) if role else {}
    body = {"json": {"version": 1, "properties": {"title": "x"}}} if method == "patch" else {}
    response = getattr(client, method)(url, headers=headers, **body)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_nul_in_a_login_form_is_400_never_500(client):
    form = {"username": "chief\x00", "password": "x" * 12, "csrf_token": csrf_token(client)}
    assert client.post("/login", data=form).status_code == 400


# ---------------------------------------------------------------------------- concurrent writers


def test_concurrent_writers_get_200_or_409_never_500(app, users):
    """Several writers at once, on one event and on new events racing to create the same new
    categories: every answer is a success or a clean 409, and no successful save is lost."""
    client = app.test_client()
    admin = auth(users["admin"]["token"])
    shared = client.post("/api/events", json=feature(None, title="Contested"), headers=admin).get_json()
    url = f"/api/events/{shared['id']}"
    threads_n, rounds = 6, 6
    barrier = threading.Barrier(threads_n)
    statuses: Counter[tuple[str, int]] = Counter()
    lock = threading.Lock()

    def writer(n: int) -> None:
        own = app.test_client()
        token = auth(users["admin" if n % 2 else "editor"]["token"])
        barrier.wait()
        for r in range(rounds):
            if (n + r) % 2:
                version = own.get(url, headers=token).get_json()["properties"]["version"]
                body = {"version": version, "properties": {"title": f"writer {n} round {r}"}}
                kind, response = "patch", own.patch(url, json=body, headers=token)
            else:
                new = _draft(title=f"new {n}/{r}", category=f"race-{r}")
                kind, response = "create", own.post("/api/events", json=new, headers=token)
            with lock:
                statuses[(kind, response.status_code)] += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert {code for _, code in statuses} <= {200, 201, 409}, statuses
    assert statuses[("create", 201)] == threads_n * rounds // 2
    saved = statuses[("patch", 200)]
    final = client.get(url, headers=admin).get_json()["properties"]
    assert final["version"] == 1 + saved  # every 200 is one version; no save was lost
    with app.app_context():
        revisions = db.session.scalar(
            select(func.count()).select_from(Revision).join(Event).where(Event.id == shared["id"])
        )
        assert revisions == final["version"]
        slugs = db.session.scalars(select(Category.slug).where(Category.slug.like("race-%"))).all()
        assert sorted(slugs) == [f"race-{r}" for r in range(rounds)]


def test_a_connection_lost_while_closing_the_session_leaves_the_answer_as_it_was(
    app, client, users, monkeypatch
):
    """The write committed; the connection dies when the session is closed afterwards: the client
    gets the 201 (so it does not retry and write twice), and the event is there."""
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    real_close = Session.close
    failures = []

    def dying_close(self):
        if not failures:
            failures.append(1)
            real_close(self)
            raise OperationalError("close", {}, Exception("server closed the connection unexpectedly"))
        return real_close(self)

    monkeypatch.setattr(Session, "close", dying_close)
    response = client.post("/api/events", json=_draft(), headers=auth(users["editor"]["token"]))
    assert failures == [1]
    assert response.status_code == 201
    event_id = response.get_json()["id"]
    monkeypatch.setattr(Session, "close", real_close)
    assert client.get(f"/api/events/{event_id}", headers=auth(users["editor"]["token"])).status_code == 200


@pytest.mark.backends("postgis")
def test_retries_with_an_idempotency_key_write_each_event_exactly_once_while_connections_die(app, users):
    """Connections are terminated at random moments of POSTs (before, during and after COMMIT);
    every client retries with its key until it has an answer: each key's event exists once."""
    import random
    import uuid

    client = app.test_client()
    token = users["editor"]["token"]
    rng = random.Random(7)
    keys = [str(uuid.uuid4()) for _ in range(12)]
    answers: dict[str, list[int]] = {k: [] for k in keys}
    side = _side_engine(app)
    kill = text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )

    def kill_after(delay: float, stop: threading.Event) -> None:
        if not stop.wait(delay):
            with side.connect() as connection:
                connection.execute(kill)

    for key in keys:
        stop = threading.Event()
        thread = threading.Thread(target=kill_after, args=(rng.uniform(0, 0.03), stop))
        thread.start()
        for _attempt in range(10):
            response = client.post(
                "/api/events", json=_draft(title=key), headers={**auth(token), "Idempotency-Key": key}
            )
            answers[key].append(response.status_code)
            assert response.status_code in (201, 503), response.get_data(as_text=True)
            if response.status_code == 201:
                break
        stop.set()
        thread.join()
    side.dispose()
    with app.app_context():
        titles = Counter(db.session.scalars(select(Event.title)))
    assert all(codes[-1] == 201 for codes in answers.values()), answers
    assert any(503 in codes for codes in answers.values()), "no request was hit: nothing was tested"
    assert {k: titles[k] for k in keys} == dict.fromkeys(keys, 1)


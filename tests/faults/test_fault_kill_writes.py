"""kill -9 of the server during a burst of writes: every write it acknowledged survives, whole.

Four clients create events as fast as the server takes them; once 40 creations have been
acknowledged (201) the server's whole process group is killed with SIGKILL, with requests still in
flight. After a restart on the same database every acknowledged event reads back as it was
acknowledged, with its sources and its "create" revision, and nothing in the database is half an
event: each event row has its revision, its cached feature and its sources (writes that were not
acknowledged may or may not have been committed, but never in part).
"""

from __future__ import annotations

import threading
from http.client import HTTPException
from typing import Any

from conftest import editor_token, http
from helpers import feature
from sqlalchemy import create_engine, text

ACKNOWLEDGED_BEFORE_KILL = 40
WRITERS = 4


def test_every_acknowledged_write_survives_a_kill_9_whole(fresh_database, app_factory, servers, backend):
    url = fresh_database("burst")
    token = editor_token(app_factory(url))
    server = servers(url)
    acknowledged: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    enough = threading.Event()
    cut_off: list[int] = []  # the writers whose next request the kill broke off

    def write(writer: int) -> None:
        for n in range(10_000):
            raw = feature(None, title=f"Burst {writer}-{n}", actors=[f"Writer {writer}"],
                          description="x" * 2000, status="published")  # fmt: skip
            try:
                status, body, _ = http(server.base, "/api/events", token=token, body=raw, method="POST")
            except (OSError, HTTPException):
                # The server is gone, before its answer or in the middle of it (IncompleteRead): no
                # whole answer came, so nothing was promised.
                cut_off.append(writer)
                return
            if status == 201:
                with lock:
                    acknowledged[body["id"]] = body
                    if len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL:
                        enough.set()
            elif status != 503:  # a dying server may still say 503; anything else is a bug
                raise AssertionError(f"unexpected {status}: {body}")

    threads = [threading.Thread(target=write, args=(w,), daemon=True) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    assert enough.wait(60), f"only {len(acknowledged)} writes acknowledged"
    server.kill()
    for thread in threads:
        thread.join(30)
    with lock:
        promised = dict(acknowledged)
    assert len(promised) >= ACKNOWLEDGED_BEFORE_KILL
    assert sorted(cut_off) == list(range(WRITERS)), "the kill came after the burst, not during it"

    restarted = servers(url)
    for event_id, body in promised.items():
        status, stored, _ = http(restarted.base, f"/api/events/{event_id}")
        assert status == 200, (event_id, status, stored)
        assert stored["properties"]["title"] == body["properties"]["title"]
        assert stored["properties"]["sources"] == body["properties"]["sources"]
        assert stored["properties"]["version"] == body["properties"]["version"] == 1
        status, history, _ = http(restarted.base, f"/api/events/{event_id}/revisions", token=token)
        assert status == 200 and [r["action"] for r in history["revisions"]] == ["create"], history

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if backend == "sqlite":
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            events = connection.execute(text("SELECT COUNT(*) FROM events")).scalar()
            assert events >= len(promised)
            for table in ("revisions", "feature_cache", "sources"):
                missing = f"NOT EXISTS (SELECT 1 FROM {table} WHERE {table}.event_pk = events.pk)"  # noqa: S608
                orphans = connection.execute(text(f"SELECT COUNT(*) FROM events WHERE {missing}")).scalar()  # noqa: S608
                assert orphans == 0, f"{orphans} events without {table}"
    finally:
        engine.dispose()

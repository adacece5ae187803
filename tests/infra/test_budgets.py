"""Budgets: a request over its database time is a 503 that says so; one address cannot take every
worker with expensive requests; the health check never waits for the app's connections."""

import threading

import pytest
from helpers import auth, feature
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from timeline.infra.budgets import ConcurrencyLimit
from timeline.store import budget
from timeline.store.db import db


def many(n):
    return [feature(f"e{i:04d}", lon=30 + i / n, lat=50 + i / n, title=f"Event {i}") for i in range(n)]


def test_a_request_over_its_database_budget_answers_503_and_the_next_one_works(
    fresh_database, app_factory, load_into, backend, monkeypatch
):
    app = app_factory(fresh_database("budget"), REQUEST_DATABASE_SECONDS=0.5)
    load_into(app, *many(300))
    client = app.test_client()
    holder = None
    if backend == "sqlite":
        # Already past the deadline when the query starts: SQLite's progress handler stops it (asked
        # often, so that the test's small table is enough work to be stopped).
        app.config["REQUEST_DATABASE_SECONDS"] = 1e-9
        monkeypatch.setattr(budget, "PROGRESS_STEPS", 50)
        with app.app_context():
            db.engine.dispose()
    else:
        # A lock the request must wait for: statement_timeout stops the wait at the deadline.
        side = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], poolclass=NullPool)
        holder = side.connect()
        holder.execute(text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
    try:
        response = client.get("/api/events?q=Event&limit=500")
        assert response.status_code == 503
        assert response.get_json()["error"] == "over budget"
        assert "ask for less" in response.get_json()["detail"]
        assert int(response.headers["Retry-After"]) > 0
    finally:
        if holder is not None:
            holder.rollback()
            holder.close()
    app.config["REQUEST_DATABASE_SECONDS"] = 10
    assert client.get("/api/events?q=Event&limit=500").get_json()["numberMatched"] == 300


def test_commands_have_no_deadline(app, load):
    load(*many(50))
    with app.app_context():
        assert budget.seconds_left() is None
        with budget.deadline(5):
            assert 0 < budget.seconds_left() <= 5
        assert budget.seconds_left() is None


def test_one_address_gets_429_beyond_its_share_of_expensive_requests(
    fresh_database, app_factory, users_on, monkeypatch
):
    app = app_factory(fresh_database("concurrency"), ANONYMOUS_CONCURRENCY=1)
    users = users_on(app)
    from timeline.web import read_api

    entered, release = threading.Event(), threading.Event()
    real = read_api.page_and_count

    def slow(*args, **kwargs):
        entered.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(read_api, "page_and_count", slow)
    assert app.test_client().get("/api/clusters?zoom=5").status_code == 200  # now in the cache
    results = {}
    first = threading.Thread(
        target=lambda: results.update(first=app.test_client().get("/api/events").status_code)
    )
    first.start()
    try:
        assert entered.wait(10)
        client = app.test_client()
        refused = client.get("/api/clusters?zoom=6")
        assert refused.status_code == 429 and refused.headers["Retry-After"]
        assert client.get("/api/clusters?zoom=5").status_code == 200  # answers from the cache are free
        editor = client.get("/api/clusters?zoom=6", headers=auth(users["editor"]["token"]))
        assert editor.status_code == 200  # editors are not counted
    finally:
        release.set()
        first.join(10)
    assert results["first"] == 200
    assert app.test_client().get("/api/clusters?zoom=6").status_code == 200  # the slot is free again


def test_the_concurrency_count_goes_back_down():
    limit = ConcurrencyLimit(2)
    assert limit.enter("a") and limit.enter("a") and not limit.enter("a")
    assert limit.enter("b")
    limit.leave("a")
    assert limit.enter("a")


@pytest.mark.parametrize("held", [1])
def test_healthz_answers_while_every_connection_of_the_app_is_taken(fresh_database, app_factory, held):
    app = app_factory(
        fresh_database("health"),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": held, "max_overflow": 0, "pool_timeout": 2},
    )
    with app.app_context():
        taken = [db.engine.connect() for _ in range(held)]
        try:
            response = app.test_client().get("/healthz")
            assert response.status_code == 200
            assert response.get_json() == {"status": "ok", "database": "ok"}
        finally:
            for connection in taken:
                connection.close()


def test_clusters_for_an_extent_far_wider_than_the_zoom_are_counted_coarser(client, load):
    load(*many(40))
    world = client.get("/api/clusters?zoom=22").get_json()
    assert world["zoom"] < 22 and world["numberMatched"] == 40
    cells = (360 / (2 ** world["zoom"] * 4)) ** -2 * 360 * 180
    assert cells <= 16_384 * 1.1
    assert len(world["features"]) < 40  # neighbours share cells at the coarser zoom
    close = client.get("/api/clusters?zoom=14&bbox=30,50,30.05,50.05").get_json()
    assert close["zoom"] == 14

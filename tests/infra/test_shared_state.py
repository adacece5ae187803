"""State that many processes share: the response cache, ETags and rate limits (memory or Redis).

Every answer a visitor gets must be what the database holds now, whichever process wrote last and
whatever cache sits in between; and limits must count across processes when Redis holds them.
"""

from __future__ import annotations

import os
import uuid

import pytest
from helpers import GOOD_PASSWORD, auth, csrf_token, feature, skip_or_fail
from sqlalchemy import text

from timeline.store.db import db

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
READS = [
    "/api/events?bbox=34,50,37,52&limit=5",
    "/api/clusters?zoom=6",
    "/api/density",
    "/api/categories",
    "/export/events.geojson",
]


@pytest.fixture
def redis_url() -> str:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        skip_or_fail(f"no Redis at {REDIS_URL}: {exc}")
    return REDIS_URL


@pytest.fixture
def two_apps(fresh_database, app_factory):
    """Two app instances (as two processes would be) on one database, each with its own memory cache."""

    def make(**config):
        url = fresh_database("shared")
        return app_factory(url, **config), app_factory(url, **config)

    return make


def published(load, *titles):
    load(*(feature(f"e{i}", title=t, lon=35.0 + i / 10, lat=51.0) for i, t in enumerate(titles)))


def titles(response):
    return sorted(f["properties"]["title"] for f in response.get_json()["features"])


@pytest.mark.parametrize("path", READS)
def test_anonymous_reads_carry_an_etag_and_revalidate_to_304(client, load, path):
    published(load, "Sudzha")
    first = client.get(path)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag


def test_a_repeated_read_is_served_from_the_cache_with_the_same_body(client, load):
    published(load, "Sudzha", "Kursk")
    first = client.get(READS[0])
    second = client.get(READS[0])
    assert "X-Cache" not in first.headers
    assert second.headers["X-Cache"] == "hit"
    assert second.get_data() == first.get_data()
    assert second.mimetype == "application/geo+json"


def test_a_cached_answer_keeps_links_to_the_host_and_scheme_asked_on(app_factory, fresh_database, load_into):
    """Bodies hold absolute links: one host's (or plain HTTP's) cached answer must never be served
    to another host, or to a visitor who came over HTTPS through the proxy."""
    app = app_factory(fresh_database(), PROXY_COUNT=1)
    load_into(app, *(feature(f"e{i}", lon=35.0 + i / 10, lat=51.0) for i in range(3)))
    client = app.test_client()
    path = "/api/events?bbox=34,50,37,52&limit=1"
    asked = [
        ("http://maps.example.org", {}),
        ("http://mirror.example.net", {}),
        ("http://maps.example.org", {"X-Forwarded-Proto": "https"}),
    ]
    for _ in range(2):  # the second round is answered from the cache
        for base_url, headers in asked:
            body = client.get(path, base_url=base_url, headers=headers).get_json()
            hrefs = [link["href"] for link in body["links"]]
            scheme = headers.get("X-Forwarded-Proto", "http")
            host = base_url.split("://")[1]
            assert hrefs and all(href.startswith(f"{scheme}://{host}/") for href in hrefs), hrefs


def test_a_write_through_another_process_is_seen_at_once(two_apps, users_on):
    reader_app, writer_app = two_apps()
    token = users_on(writer_app)["admin"]["token"]
    reader, writer = reader_app.test_client(), writer_app.test_client()
    path = "/api/events?limit=10"
    before = reader.get(path)
    reader.get(path)  # now cached in the reader process
    created = writer.post("/api/events", json=feature(None, title="Glushkovo"), headers=auth(token))
    assert created.status_code == 201, created.get_json()

    after = reader.get(path)
    assert titles(after) == ["Glushkovo"]
    assert "X-Cache" not in after.headers
    assert after.headers["ETag"] != before.headers["ETag"]
    assert reader.get(path, headers={"If-None-Match": before.headers["ETag"]}).status_code == 200


def test_a_change_made_in_sql_outside_the_app_is_seen_at_once(app, client, load):
    published(load, "Stays", "Withdrawn")
    assert titles(client.get(READS[0])) == ["Stays", "Withdrawn"]
    assert client.get(READS[0]).headers["X-Cache"] == "hit"
    with app.app_context():
        db.session.execute(text("UPDATE events SET status = 'draft' WHERE title = 'Withdrawn'"))
        db.session.commit()
    assert titles(client.get(READS[0])) == ["Stays"]


def test_editors_get_private_uncached_answers_that_include_drafts(client, load, users):
    published(load, "Public")
    token = users["editor"]["token"]
    raw = feature(None, title="Draft")
    raw["properties"].pop("status")  # an editor's new event is a draft
    draft = client.post("/api/events", json=raw, headers=auth(token))
    assert draft.status_code == 201
    assert titles(client.get("/api/events")) == ["Public"]
    assert titles(client.get("/api/events")) == ["Public"]  # a cached answer: still no draft
    seen = client.get("/api/events", headers=auth(token))
    assert titles(seen) == ["Draft", "Public"]
    assert seen.headers["Cache-Control"] == "private, no-store"
    assert "X-Cache" not in seen.headers
    assert "ETag" not in seen.headers
    assert titles(client.get("/api/events")) == ["Public"]


def test_a_single_event_revalidates_on_its_version(client, load, users):
    published(load, "Sudzha")
    first = client.get("/api/events/e0")
    assert first.headers["ETag"] == '"1"'
    assert client.get("/api/events/e0", headers={"If-None-Match": '"1"'}).status_code == 304
    edit = {"properties": {"title": "Sudzha, edited"}}
    headers = {**auth(users["admin"]["token"]), "If-Match": '"1"'}
    changed = client.patch("/api/events/e0", json=edit, headers=headers)
    assert changed.status_code == 200, changed.get_json()
    again = client.get("/api/events/e0", headers={"If-None-Match": '"1"'})
    assert again.status_code == 200
    assert again.get_json()["properties"]["title"] == "Sudzha, edited"


def test_redis_holds_one_cache_for_every_process(two_apps, users_on, redis_url):
    import redis

    prefix = f"test-{uuid.uuid4().hex}"
    first_app, second_app = two_apps(CACHE_URL=redis_url, CACHE_KEY_PREFIX=prefix)
    token = users_on(first_app)["admin"]["token"]
    first, second = first_app.test_client(), second_app.test_client()
    assert first.post("/api/events", json=feature(None, title="Lgov"), headers=auth(token)).status_code == 201

    path = "/api/events?limit=10"
    filled = first.get(path)
    assert "X-Cache" not in filled.headers
    keys = redis.Redis.from_url(redis_url).keys(f"{prefix}:*")
    assert len(keys) == 1
    shared = second.get(path)
    assert shared.headers["X-Cache"] == "hit"
    assert shared.get_data() == filled.get_data()

    created = second.post("/api/events", json=feature(None, title="Rylsk"), headers=auth(token))
    assert created.status_code == 201
    assert titles(first.get(path)) == ["Lgov", "Rylsk"]


def test_an_unreachable_cache_costs_speed_not_answers(app_factory, fresh_database, load_into):
    app = app_factory(fresh_database(), CACHE_URL="redis://127.0.0.1:9/0")
    load_into(app, feature("e1", title="Sudzha"))
    client = app.test_client()
    for _ in range(2):
        response = client.get("/api/events")
        assert response.status_code == 200
        assert titles(response) == ["Sudzha"]
        assert "X-Cache" not in response.headers


def test_a_cache_url_that_names_no_store_is_refused(app_factory, fresh_database):
    with pytest.raises(ValueError, match="CACHE_URL"):
        app_factory(fresh_database(), CACHE_URL="memcached://127.0.0.1:11211")


def failed_login(client, username="nobody"):
    form = {"username": username, "password": "wrong password", "csrf_token": csrf_token(client)}
    return client.post("/login", data=form)


def test_failed_logins_counted_in_redis_hold_across_processes(two_apps, users_on, redis_url):
    prefix = f"test-{uuid.uuid4().hex}"
    first_app, second_app = two_apps(RATELIMIT_STORAGE_URL=redis_url, CACHE_KEY_PREFIX=prefix)
    username = users_on(first_app)["editor"]["username"]
    first, second = first_app.test_client(), second_app.test_client()
    for _ in range(10):
        assert failed_login(first, username).status_code == 401
    right = {"username": username, "password": GOOD_PASSWORD, "csrf_token": csrf_token(second)}
    blocked = second.post("/login", data=right)
    assert blocked.status_code == 429
    assert b"Too many failed logins" in blocked.get_data()


def test_the_api_rate_limit_answers_429_with_retry_after(app_factory, fresh_database):
    app = app_factory(fresh_database(), API_RATE_LIMIT="3/minute")
    client = app.test_client()
    assert [client.get("/api/categories").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/events")
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too many requests"
    assert "3 per 1 minute" in refused.get_json()["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert client.get("/").status_code == 200  # pages are not counted


def test_the_client_address_comes_from_a_trusted_proxy_only(app_factory, fresh_database):
    url = fresh_database()
    behind_proxy = app_factory(url, API_RATE_LIMIT="2/minute", PROXY_COUNT=1).test_client()
    for visitor in ("203.0.113.1", "203.0.113.2"):
        statuses = [
            behind_proxy.get("/api/categories", headers={"X-Forwarded-For": visitor}).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
    direct = app_factory(url, API_RATE_LIMIT="2/minute").test_client()
    forged = [{"X-Forwarded-For": f"198.51.100.{i}"} for i in range(3)]
    spoofed = [direct.get("/api/categories", headers=h) for h in forged]
    assert [r.status_code for r in spoofed] == [200, 200, 429]


def test_a_process_cache_keeps_only_answers_of_the_newest_data():
    """Answers of an older data version can never be asked for again, so they must not take memory:
    under steady writes a cache that kept them grew each worker by its whole size limit."""
    from timeline.infra.response_cache import MemoryStore

    store = MemoryStore(max_bytes=10_000)
    store.set("v1:a", b"x" * 1000, 1)
    store.set("v1:b", b"y" * 1000, 1)
    assert store.get("v1:a") == b"x" * 1000
    store.set("v2:a", b"z" * 10, 2)
    assert store.get("v1:a") is None and store.get("v1:b") is None
    assert store.used == len("v2:a") + 10
    store.set("v1:c", b"late" * 10, 1)  # computed from data that changed meanwhile
    assert store.get("v1:c") is None
    for i in range(50):  # within one version, least recently used answers make room
        store.set(f"v2:{i}", b"w" * 1000, 2)
    assert store.used <= 10_000
    assert store.get("v2:49") is not None and store.get("v2:0") is None


def test_memory_stays_bounded_while_writes_keep_moving_the_version(client, users):
    token = users["admin"]["token"]
    store = client.application.extensions["response_cache"]
    for i in range(5):
        created = client.post("/api/events", json=feature(None, title=f"Event {i}"), headers=auth(token))
        assert created.status_code == 201
        for limit in (1, 2, 3):
            assert client.get(f"/api/events?limit={limit}").status_code == 200
    assert len(store.entries) == 3  # the three answers of the newest version, none of the older


def test_failed_logins_are_still_limited_while_redis_is_away(app_factory, fresh_database, users_on):
    """The audit log counts when the limit store cannot: no outage opens the door to guessing."""
    app = app_factory(fresh_database(), RATELIMIT_STORAGE_URL="redis://127.0.0.1:9/0")
    username = users_on(app)["editor"]["username"]
    client = app.test_client()
    assert [failed_login(client, username).status_code for _ in range(10)] == [401] * 10
    assert failed_login(client, username).status_code == 429


def test_the_api_rate_limit_in_redis_holds_across_processes(two_apps, redis_url):
    prefix = f"test-{uuid.uuid4().hex}"
    first_app, second_app = two_apps(
        API_RATE_LIMIT="4/minute", RATELIMIT_STORAGE_URL=redis_url, CACHE_KEY_PREFIX=prefix
    )
    first, second = first_app.test_client(), second_app.test_client()
    assert [first.get("/api/categories").status_code for _ in range(2)] == [200, 200]
    assert [second.get("/api/categories").status_code for _ in range(3)] == [200, 200, 429]
    assert first.get("/api/categories").status_code == 429


def test_a_burst_of_requests_for_one_uncached_answer_computes_it_once(app, load, monkeypatch):
    """Threads of one process wait for the one computing an answer (a shared link after a write)."""
    import threading
    import time

    from timeline.web import read_api as api

    published(load, "Sudzha")
    computed = []
    real = api.page_and_count

    def slow_page_and_count(*args, **kwargs):
        computed.append(1)
        time.sleep(0.3)
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "page_and_count", slow_page_and_count)
    bodies = []

    def visit():
        bodies.append(app.test_client().get("/api/events?bbox=34,50,37,52").get_data())

    threads = [threading.Thread(target=visit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(computed) == 1
    assert len(bodies) == 6 and len(set(bodies)) == 1

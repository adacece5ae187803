"""The cache front: anonymous hits answered before Flask, exactly as Flask would answer them.

Flask's request hooks are counted to tell who answered: a request the front serves never reaches
them. Whoever answers, the visitor must get the same status, body and headers.
"""

from __future__ import annotations

import pytest
from helpers import auth, feature

URL = "/api/events?bbox=34,50,37,52&limit=5"


@pytest.fixture
def counted(app_factory, fresh_database, load_into):
    """``counted(**config)``: an app with three published events and a count of the requests Flask saw."""

    def make(**config):
        app = app_factory(fresh_database(), **config)
        seen: list[str] = []
        app.before_request(lambda: seen.append(app.name))
        load_into(app, *(feature(f"e{i}", title=f"Event {i}", lon=35.0 + i / 10, lat=51.0) for i in range(3)))
        return app, seen

    return make


def test_a_repeated_anonymous_read_is_answered_in_front_of_flask_exactly_as_flask_answers(counted):
    app, seen = counted()
    client = app.test_client()
    first = client.get(URL)
    assert first.status_code == 200 and len(seen) == 1
    front = client.get(URL)
    assert len(seen) == 1, "the second read should not have reached Flask"
    # The same answer through Flask (a cookie that might carry a session sends it there).
    client.set_cookie("session", "not-a-session")
    flask = client.get(URL)
    assert len(seen) == 2
    assert front.status_code == flask.status_code == 200
    assert front.get_data() == flask.get_data() == first.get_data()
    assert dict(front.headers) == dict(flask.headers)
    assert front.headers["X-Cache"] == "hit"
    for header in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "ETag"):
        assert front.headers[header] == first.headers[header]
    assert front.headers["Vary"] == "Cookie, Authorization"
    assert front.headers["Cache-Control"] == "public, no-cache"


def test_revalidation_is_answered_in_front_with_304_and_the_same_headers(counted):
    app, seen = counted(API_MAX_AGE=30)
    client = app.test_client()
    etag = client.get(URL).headers["ETag"]
    front = client.get(URL, headers={"If-None-Match": etag})
    assert len(seen) == 1
    client.set_cookie("session", "not-a-session")
    flask = client.get(URL, headers={"If-None-Match": etag})
    assert len(seen) == 2
    assert front.status_code == flask.status_code == 304
    assert front.get_data() == b""
    for header in ("ETag", "Cache-Control", "Content-Security-Policy", "Vary"):
        assert front.headers[header] == flask.headers[header]
    assert front.headers["Cache-Control"] == "public, max-age=30"
    # An outdated copy is not revalidated: the current answer comes back in full.
    stale = client.get(URL, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200 and stale.headers["ETag"] == etag


def answered_in_front(counted, users_on):
    """An app with users whose answer to URL is cached, and shown to come from the front."""
    app, seen = counted()
    users = users_on(app)
    client = app.test_client()
    client.get(URL)
    client.get(URL)
    assert len(seen) == 1
    return seen, users, client


def test_a_write_sends_the_next_read_back_to_flask_for_the_new_answer(counted, users_on):
    _, users, client = answered_in_front(counted, users_on)
    added = feature(None, title="Added", lon=35.5, lat=51.0, status="published")
    created = client.post("/api/events", json=added, headers=auth(users["admin"]["token"]))
    assert created.status_code == 201
    after = client.get(URL)
    assert "X-Cache" not in after.headers
    assert "Added" in [f["properties"]["title"] for f in after.get_json()["features"]]


def test_editors_tokens_and_rate_limits_always_go_through_flask(counted, users_on):
    seen, users, client = answered_in_front(counted, users_on)
    with_token = client.get(URL, headers=auth(users["editor"]["token"]))
    assert len(seen) == 2 and with_token.headers["Cache-Control"] == "private, no-store"

    limited, _ = counted(API_RATE_LIMIT="3/minute")
    client = limited.test_client()
    statuses = [client.get(URL).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]  # every read counted (cached ones too), so the 4th is refused


def test_the_front_revalidates_only_answers_it_holds(counted):
    """``If-None-Match: *`` matches any ETag: the front may only say 304 for an answer it holds."""
    app, seen = counted()
    client = app.test_client()
    client.get(URL)
    assert client.get(URL, headers={"If-None-Match": "*"}).status_code == 304
    assert len(seen) == 1
    page = client.get("/", headers={"If-None-Match": "*"})
    assert page.status_code == 200 and "<html" in page.get_data(as_text=True)
    other = client.get("/api/events?bbox=30,40,31,41", headers={"If-None-Match": "*"})
    assert len(seen) == 3  # neither was cached: Flask answered both
    assert other.status_code == 304  # a shared answer exists for any URL of the API: Flask says so

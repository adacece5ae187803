"""The change feed: what mirrors see, paging by cursor, and a page's cost in SQL statements."""

import pytest
from helpers import auth
from sqlalchemy import event

from timeline.store.db import db


def new_feature(**props):
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [35.27, 51.19]},
        "properties": {"title": "An event", "start": "2024-08-06", **props},
    }


def create(client, token, **props):
    response = client.post("/api/events", json=new_feature(**props), headers=auth(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_change_feed_for_anonymous_mirrors(client, users):
    admin = auth(users["admin"]["token"])
    draft = create(client, users["editor"]["token"], title="Never public")
    shown = create(client, users["editor"]["token"], title="Will be public")
    url = f"/api/events/{shown['id']}"
    client.post(f"{url}/publish", headers=admin)
    client.patch(url, json={"version": 2, "properties": {"title": "Public, edited"}}, headers=admin)
    client.delete(url, headers=admin)

    feed = client.get("/api/changes?since=0").get_json()
    changes = [(c["id"], c["change"]) for c in feed["changes"]]
    assert changes == [(shown["id"], "created"), (shown["id"], "updated"), (shown["id"], "deleted")]
    assert draft["id"] not in str(feed)
    assert feed["changes"][1]["feature"]["properties"]["title"] == "Public, edited"
    # Nothing new after the cursor.
    later = client.get(f"/api/changes?since={feed['cursor']}").get_json()
    assert later["changes"] == [] and later["cursor"] == feed["cursor"]
    # Editors see every change, drafts included.
    everything = client.get("/api/changes?since=0", headers=auth(users["editor"]["token"])).get_json()
    assert draft["id"] in [c["id"] for c in everything["changes"]]


def test_change_feed_pages(client, users):
    for i in range(5):
        create(client, users["admin"]["token"], title=f"e{i}", status="published")
    seen, cursor, pages = [], 0, 0
    while True:
        page = client.get(f"/api/changes?since={cursor}&limit=2").get_json()
        seen += [c["id"] for c in page["changes"]]
        cursor = page["cursor"]
        pages += 1
        if not page["more"]:
            break
    assert len(seen) == 5 and pages == 3
    assert client.get("/api/changes?since=abc").status_code == 400
    # Beyond a 32-bit revision id: a 400 on both backends (PostgreSQL would refuse the query).
    too_far = client.get("/api/changes?since=2147483648")
    assert too_far.status_code == 400 and too_far.get_json()["error"]
    assert client.get("/api/changes?limit=5000").status_code == 400



@pytest.fixture
def statements(app):
    """The SQL statements the app runs while the test's block is active (a list to read after)."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("reader", ["anonymous", "editor"])
def test_a_page_of_the_feed_costs_a_few_statements_whatever_it_holds(client, users, statements, reader):
    admin, editor = auth(users["admin"]["token"]), auth(users["editor"]["token"])
    for i in range(12):
        made = create(client, users["editor"]["token"], title=f"e{i}")
        url = f"/api/events/{made['id']}"
        client.post(f"{url}/publish", headers=admin)
        client.patch(url, json={"version": 2, "properties": {"title": f"e{i}, edited"}}, headers=admin)
        if i % 3 == 0:
            client.delete(url, headers=admin)
    headers = editor if reader == "editor" else {}
    statements.clear()
    page = client.get("/api/changes?since=0&limit=100", headers=headers).get_json()
    assert len(page["changes"]) >= 28  # (creates,) publishes, edits and deletes of twelve events
    assert {c["change"] for c in page["changes"]} >= {"created", "updated", "deleted"}
    assert len(statements) <= 10, "\n".join(statements)

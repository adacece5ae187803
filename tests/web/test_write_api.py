"""The write API: who may do what, versions and conflicts, soft deletes, revisions, the change feed."""

import threading

import pytest
from helpers import auth, feature
from sqlalchemy import func, select

from timeline.store.db import db
from timeline.store.models import AuditEntry, Event, Revision


def new_feature(**props):
    """A feature as a client sends it: no id and no status unless the test gives one."""
    raw = feature(None, **props)
    if "status" not in props:
        raw["properties"].pop("status")
    return raw


def create(client, token, **props):
    response = client.post("/api/events", json=new_feature(**props), headers=auth(token))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_editor_creates_a_draft_that_anonymous_readers_cannot_see(client, users):
    body = create(client, users["editor"]["token"], title="Fresh report")
    assert body["properties"]["status"] == "draft"
    assert body["properties"]["version"] == 1
    event_id = body["id"]
    # Anonymous: not in the list, not by id, not in the export, not in the change feed.
    assert client.get("/api/events").get_json()["numberMatched"] == 0
    assert client.get(f"/api/events/{event_id}").status_code == 404
    assert event_id not in client.get("/export/events.geojson").get_data(as_text=True)
    assert client.get("/api/changes").get_json()["changes"] == []
    # The editor sees it.
    assert client.get(f"/api/events/{event_id}", headers=auth(users["editor"]["token"])).status_code == 200
    listed = client.get("/api/events", headers=auth(users["editor"]["token"])).get_json()
    assert [f["id"] for f in listed["features"]] == [event_id]


def test_create_answers_with_location_and_etag(client, users):
    response = client.post("/api/events", json=new_feature(), headers=auth(users["editor"]["token"]))
    assert response.status_code == 201
    assert response.headers["Location"] == f"/api/events/{response.get_json()['id']}"
    assert response.headers["ETag"] == '"1"'


@pytest.mark.parametrize(
    ("role", "extra", "field"),
    [
        ("editor", {"status": "published"}, "status"),
        ("editor", {"version": 5}, "version"),
        ("admin", {"author": "someone"}, "author"),
        ("admin", {"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
    ],
)
def test_fields_a_role_may_not_set_are_refused_with_422(client, users, role, extra, field):
    raw = new_feature(**extra)
    response = client.post("/api/events", json=raw, headers=auth(users[role]["token"]))
    assert response.status_code == 422
    assert field in [p["field"] for p in response.get_json()["problems"]]
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_client_chosen_id_is_refused(client, users):
    raw = new_feature()
    raw["id"] = "my-own-id"
    response = client.post("/api/events", json=raw, headers=auth(users["admin"]["token"]))
    assert response.status_code == 422
    assert response.get_json()["problems"][0]["field"] == "id"


def test_admin_may_publish_on_create(client, users):
    raw = new_feature(status="published")
    response = client.post("/api/events", json=raw, headers=auth(users["admin"]["token"]))
    assert response.status_code == 201
    assert client.get(f"/api/events/{response.get_json()['id']}").status_code == 200


@pytest.mark.parametrize(
    ("props", "field"),
    [({"start": "2024-02-30"}, "start"), ({"confidence": "rumour"}, "confidence"),
     ({"sources": [{"url": "javascript:alert(1)"}]}, "sources[0]"), ({"title": "nul\x00"}, "title")],
)  # fmt: skip
def test_invalid_events_get_422_naming_the_field(client, users, props, field):
    response = client.post("/api/events", json=new_feature(**props), headers=auth(users["editor"]["token"]))
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid event" and body["detail"]
    assert field in [p["field"] for p in body["problems"]]


def test_malformed_and_oversized_bodies(app, client, users):
    headers = {**auth(users["editor"]["token"]), "Content-Type": "application/json"}
    assert client.post("/api/events", data="{", headers=headers).status_code == 400
    assert client.post("/api/events", data='{"a": NaN}', headers=headers).status_code == 400
    assert client.post("/api/events", data="[]", headers=headers).status_code == 400
    assert client.post("/api/events", data="x", headers=auth(users["editor"]["token"])).status_code == 415
    app.config["MAX_CONTENT_LENGTH"] = 2000
    big = new_feature(description="x" * 5000)
    response = client.post("/api/events", json=big, headers=auth(users["editor"]["token"]))
    assert response.status_code == 413
    assert response.get_json()["error"] == "request entity too large"


def test_patch_needs_the_loaded_version(client, users):
    event = create(client, users["editor"]["token"])
    url = f"/api/events/{event['id']}"
    token = users["editor"]["token"]
    missing = client.patch(url, json={"properties": {"title": "New"}}, headers=auth(token))
    assert missing.status_code == 428
    ok = client.patch(url, json={"properties": {"title": "New"}}, headers={**auth(token), "If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.get_json()["properties"]["title"] == "New"
    assert ok.get_json()["properties"]["version"] == 2
    assert ok.headers["ETag"] == '"2"'
    in_body = client.patch(url, json={"version": 2, "properties": {"place": "Sudscha"}}, headers=auth(token))
    assert in_body.status_code == 200 and in_body.get_json()["properties"]["version"] == 3
    bad = client.patch(
        url, json={"properties": {"title": "x"}}, headers={**auth(token), "If-Match": "yesterday"}
    )
    assert bad.status_code == 412


def test_stale_edit_gets_409_and_the_first_edit_is_kept(client, users):
    event = create(client, users["editor"]["token"], title="Original")
    url = f"/api/events/{event['id']}"
    first = client.patch(url, json={"version": 1, "properties": {"title": "First edit"}},
                         headers=auth(users["editor"]["token"]))  # fmt: skip
    assert first.status_code == 200
    stale = client.patch(url, json={"version": 1, "properties": {"title": "Second edit"}},
                         headers=auth(users["admin"]["token"]))  # fmt: skip
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "conflict"
    assert body["current"]["properties"]["title"] == "First edit"
    assert body["current"]["properties"]["version"] == 2
    assert (
        client.get(url, headers=auth(users["editor"]["token"])).get_json()["properties"]["title"]
        == "First edit"
    )


def test_two_concurrent_writers_exactly_one_wins(app, users):
    client = app.test_client()
    event = create(client, users["editor"]["token"], title="Contested")
    url = f"/api/events/{event['id']}"
    barrier = threading.Barrier(2)
    results: list[int] = []

    def writer(token: str, title: str) -> None:
        own = app.test_client()
        barrier.wait()
        response = own.patch(url, json={"version": 1, "properties": {"title": title}}, headers=auth(token))
        results.append(response.status_code)

    threads = [
        threading.Thread(target=writer, args=(users[r]["token"], f"by {r}")) for r in ("editor", "admin")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [200, 409]
    final = client.get(url, headers=auth(users["admin"]["token"])).get_json()["properties"]
    assert final["version"] == 2 and final["title"] in ("by editor", "by admin")


def test_status_is_the_admins_call(client, users):
    event = create(client, users["editor"]["token"])
    url = f"/api/events/{event['id']}"
    refused = client.patch(url, json={"version": 1, "properties": {"status": "published"}},
                           headers=auth(users["editor"]["token"]))  # fmt: skip
    assert refused.status_code == 422
    assert client.post(f"{url}/publish", headers=auth(users["editor"]["token"])).status_code == 403
    published = client.post(f"{url}/publish", headers=auth(users["admin"]["token"]))
    assert published.status_code == 200 and published.get_json()["properties"]["status"] == "published"
    assert client.get(url).status_code == 200
    assert client.post(f"{url}/unpublish", headers=auth(users["admin"]["token"])).status_code == 200
    assert client.get(url).status_code == 404


def test_delete_is_soft_and_restorable(client, users):
    event = create(client, users["admin"]["token"], title="To be deleted")
    url = f"/api/events/{event['id']}"
    admin = auth(users["admin"]["token"])
    client.post(f"{url}/publish", headers=admin)
    assert client.delete(url, headers=auth(users["editor"]["token"])).status_code == 403
    assert client.delete(url, headers=admin).status_code == 204
    assert client.get(url).status_code == 404
    assert client.get(url, headers=admin).status_code == 404
    with client.application.app_context():
        row = db.session.scalar(select(Event).where(Event.id == event["id"]))
        assert row is not None and row.deleted_at is not None  # still there
    restored = client.post(f"{url}/restore", headers=admin)
    assert restored.status_code == 200
    assert client.get(url).get_json()["properties"]["title"] == "To be deleted"


def test_delete_with_a_stale_if_match_is_refused(client, users):
    event = create(client, users["admin"]["token"])
    url = f"/api/events/{event['id']}"
    response = client.delete(url, headers={**auth(users["admin"]["token"]), "If-Match": '"7"'})
    assert response.status_code == 409


def test_unknown_ids_are_404(client, users):
    admin = auth(users["admin"]["token"])
    assert client.patch("/api/events/nope", json={"version": 1}, headers=admin).status_code == 404
    assert client.delete("/api/events/nope", headers=admin).status_code == 404
    assert client.post("/api/events/nope/restore", headers=admin).status_code == 404
    assert client.post("/api/events/nope/publish", headers=admin).status_code == 404
    assert client.get("/api/events/nope/revisions", headers=admin).status_code == 404


def test_revisions_list_who_changed_what(client, users):
    event = create(client, users["editor"]["token"], title="Before")
    url = f"/api/events/{event['id']}"
    client.patch(
        url, json={"version": 1, "properties": {"title": "After"}}, headers=auth(users["admin"]["token"])
    )
    assert client.get(f"{url}/revisions").status_code == 401
    body = client.get(f"{url}/revisions", headers=auth(users["editor"]["token"])).get_json()
    newest, oldest = body["revisions"]
    assert (oldest["action"], oldest["user"], oldest["version"]) == ("create", "editor1", 1)
    assert (newest["action"], newest["user"], newest["version"]) == ("update", "admin1", 2)
    assert newest["changes"] == {"title": ["Before", "After"]}


def test_an_unchanged_save_writes_no_revision(client, users):
    event = create(client, users["editor"]["token"], title="Same")
    url = f"/api/events/{event['id']}"
    response = client.patch(url, json={"version": 1, "properties": {"title": "Same"}},
                            headers=auth(users["editor"]["token"]))  # fmt: skip
    assert response.get_json()["properties"]["version"] == 1
    with client.application.app_context():
        assert db.session.scalar(select(func.count()).select_from(Revision)) == 1


def test_tokens_are_checked(client, users):
    assert client.get("/api/events", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    assert client.get("/api/events", headers={"Authorization": "Basic abc"}).status_code == 401
    response = client.post("/api/events", json=new_feature())
    assert response.status_code == 401
    assert response.get_json()["error"] == "unauthorized"


def test_token_use_is_audited_and_timestamped(client, users):
    client.get("/api/events", headers=auth(users["editor"]["token"]))
    client.get("/api/events", headers=auth(users["editor"]["token"]))
    with client.application.app_context():
        uses = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "token_use")).all()
        assert len(uses) == 1  # throttled: not one write per request
        assert uses[0].username == "editor1"

"""Idempotency-Key on POST /api/events: a retry answers as the first request did, and writes nothing."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from helpers import auth, feature
from sqlalchemy import func, select, update

from timeline.store.db import db
from timeline.store.models import Event, IdempotencyKey


def draft(**props):
    body = feature(None, **props)
    del body["properties"]["status"]
    return body


def events(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Event))


def post(client, token, body, key):
    return client.post("/api/events", json=body, headers={**auth(token), "Idempotency-Key": key})


def test_a_retry_with_the_same_key_gets_the_first_answer_and_writes_nothing(app, client, users):
    key = str(uuid.uuid4())
    first = post(client, users["editor"]["token"], draft(title="Once"), key)
    again = post(client, users["editor"]["token"], draft(title="Once"), key)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert (
        again.headers["Location"] == first.headers["Location"]
        and again.headers["ETag"] == first.headers["ETag"]
    )
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert events(app) == 1


def test_a_key_sent_with_another_request_is_refused(app, client, users):
    key = str(uuid.uuid4())
    assert post(client, users["editor"]["token"], draft(title="One"), key).status_code == 201
    reused = post(client, users["editor"]["token"], draft(title="Another"), key)
    assert reused.status_code == 422 and reused.get_json()["error"] == "idempotency key reused"
    assert events(app) == 1


def test_keys_belong_to_their_user(app, client, users):
    key = "shared-key-1"
    assert post(client, users["editor"]["token"], draft(title="Mine"), key).status_code == 201
    theirs = post(client, users["admin"]["token"], draft(title="Mine"), key)
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs.headers
    assert events(app) == 2


@pytest.mark.parametrize("key", ["", " ", "ключ", "x" * 201, "a b"])
def test_a_malformed_key_is_a_400(client, users, key):
    response = post(client, users["editor"]["token"], draft(), key)
    assert response.status_code == 400 and "Idempotency-Key" in response.get_json()["detail"]


def test_an_invalid_event_is_not_remembered_so_its_fixed_retry_is_created(app, client, users):
    key = str(uuid.uuid4())
    assert post(client, users["editor"]["token"], draft(start="2024-02-30"), key).status_code == 422
    assert post(client, users["editor"]["token"], draft(start="2024-02-30"), key).status_code == 422
    assert events(app) == 0


def test_keys_are_kept_for_their_time_then_forgotten(app, client, users):
    key = str(uuid.uuid4())
    assert post(client, users["editor"]["token"], draft(title="Old"), key).status_code == 201
    with app.app_context():
        old = datetime.now(UTC) - timedelta(hours=25)
        db.session.execute(update(IdempotencyKey).values(created_at=old))
        db.session.commit()
    post(client, users["editor"]["token"], draft(title="Unrelated"), str(uuid.uuid4()))  # purges
    with app.app_context():
        assert db.session.get(IdempotencyKey, (users["editor"]["id"], key)) is None

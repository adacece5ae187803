"""Write API for tools and scripts: create, patch, delete, restore, publish; revisions.

Authenticated by personal API tokens (``Authorization: Bearer``) or, from our own pages, by the
session cookie plus CSRF token. Every error is JSON: 401 who are you, 403 not your role, 404 no such
event, 409 someone saved first (with the current version), 412/428 missing or malformed version,
422 invalid or forbidden fields.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from timeline.domain import editing, idempotency
from timeline.domain.accounts import acting_user, require
from timeline.domain.features import FeatureError, Problem, event_to_feature, parse_feature
from timeline.domain.importing import ImportRejected, read_document
from timeline.store.db import db
from timeline.store.models import Event, Revision, User
from timeline.store.queries import get_event

bp = Blueprint("write_api", __name__, url_prefix="/api")

_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


def _json_body() -> dict[str, Any]:
    if not request.mimetype or not request.mimetype.endswith("json"):
        abort(415, description="send JSON (application/json or application/geo+json)")
    try:
        body = read_document(request.get_data())
    except ImportRejected as exc:
        abort(400, description=exc.summary)
    if not isinstance(body, dict):
        abort(400, description="the body must be a JSON object")
    return body


def _unprocessable(problems: list[Problem]) -> tuple[Response, int]:
    detail = "; ".join(str(p) for p in problems)
    return jsonify(
        {"error": "invalid event", "detail": detail, "problems": [p.as_dict() for p in problems]}
    ), 422


def _forbidden_fields(body: dict[str, Any], *, allow_version: bool) -> list[Problem]:
    return editing.forbidden_fields(body, acting_user(), allow_version=allow_version)


def _feature_response(event: Event, status: int = 200) -> tuple[Response, int]:
    response = jsonify(event_to_feature(event))
    response.mimetype = "application/geo+json"
    response.headers["ETag"] = f'"{event.version}"'
    return response, status


def _conflict(exc: editing.Conflict) -> tuple[Response, int]:
    body = {
        "error": "conflict",
        "detail": f"the event was changed by someone else: it is at version {exc.event.version}, "
        f"your edit was based on version {exc.expected}",
        "current": event_to_feature(exc.event),
    }
    return jsonify(body), 409


def _expected_version(body: dict[str, Any] | None) -> int:
    """The version the client loaded: If-Match (ETag) or ``version`` in the body; required."""
    header = request.headers.get("If-Match")
    if header:
        match = _ETAG.match(header.strip())
        if not match:
            abort(412, description='If-Match must be the ETag you loaded, e.g. "3"')
        return int(match.group(1))
    props = (body or {}).get("properties")
    value = (body or {}).get("version", props.get("version") if isinstance(props, dict) else None)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    abort(428, description='send the version you loaded (If-Match header or "version") so no edit is lost')


@bp.post("/events")
@require("editor")
def create() -> tuple[Response, int]:
    """Create an event (a draft, unless an admin says otherwise).

    With an ``Idempotency-Key`` header, a retry of the same request answers as the first did
    instead of creating the event again (see :mod:`timeline.domain.idempotency`).
    """
    user = acting_user()
    key = _idempotency_key()
    asked = idempotency.fingerprint(request.method, request.path, request.get_data()) if key else ""
    if key and (replayed := _replay(user, key, asked)) is not None:
        return replayed
    body = _json_body()
    if problems := _forbidden_fields(body, allow_version=False):
        return _unprocessable(problems)
    try:
        data = parse_feature(body)
    except FeatureError as exc:
        return _unprocessable(exc.problems)

    def remember(event: Event) -> None:
        if key:
            answer = idempotency.StoredAnswer(201, json.dumps(event_to_feature(event)), _location(event))
            keep = float(current_app.config.get("IDEMPOTENCY_HOURS", 24))
            idempotency.remember(db.session, user, key, asked, answer, keep_hours=keep)

    try:
        event = editing.create_event(db.session, data, user, also=remember)
    except FeatureError as exc:  # found only against the stored events (an external id in use)
        return _unprocessable(exc.problems)
    except IntegrityError:
        # The same key, sent again while the first request was still writing: it won.
        if key and (replayed := _replay(user, key, asked)) is not None:
            return replayed
        raise
    response, status = _feature_response(event, 201)
    response.headers["Location"] = _location(event)
    return response, status


def _location(event: Event) -> str:
    return url_for("api.show_event", event_id=event.id)


def _idempotency_key() -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    try:
        return idempotency.check_key(raw)
    except ValueError as exc:
        abort(400, description=str(exc))


def _replay(user: User, key: str, asked: str) -> tuple[Response, int] | None:
    """The first answer to this key, again; 422 when the key came with another request before."""
    try:
        stored = idempotency.stored_answer(db.session, user, key, asked)
    except idempotency.KeyReused:
        detail = "this Idempotency-Key was sent before with a different request; use a new key"
        return jsonify({"error": "idempotency key reused", "detail": detail}), 422
    if stored is None:
        return None
    response = Response(stored.body, status=stored.status, mimetype="application/geo+json")
    response.headers["Idempotent-Replayed"] = "true"
    if stored.location:
        response.headers["Location"] = stored.location
    version = json.loads(stored.body).get("properties", {}).get("version")
    if version is not None:
        response.headers["ETag"] = f'"{version}"'
    return response, stored.status


@bp.patch("/events/<event_id>")
@require("editor")
def patch(event_id: str) -> tuple[Response, int]:
    """Change some fields of an event, based on the version the client loaded."""
    body = _json_body()
    event = get_event(db.session, event_id, include_drafts=True)
    if event is None:
        abort(404, description=f"no event with id {event_id!r}")
    if problems := _forbidden_fields(body, allow_version=True):
        return _unprocessable(problems)
    expected = _expected_version(body)
    try:
        event = editing.patch_event(db.session, event_id, body, expected, acting_user())
    except LookupError:
        abort(404, description=f"no event with id {event_id!r}")
    except FeatureError as exc:
        return _unprocessable(exc.problems)
    except editing.Conflict as exc:
        return _conflict(exc)
    return _feature_response(event)


@bp.delete("/events/<event_id>")
@require("admin")
def delete(event_id: str) -> tuple[Response, int]:
    """Mark an event deleted; ``POST …/restore`` brings it back."""
    header = request.headers.get("If-Match")
    expected = _expected_version(None) if header else None
    try:
        editing.delete_event(db.session, event_id, acting_user(), expected)
    except LookupError:
        abort(404, description=f"no event with id {event_id!r}")
    except editing.Conflict as exc:
        return _conflict(exc)
    return Response(status=204), 204


@bp.post("/events/<event_id>/restore")
@require("admin")
def restore(event_id: str) -> tuple[Response, int]:
    try:
        event = editing.restore_event(db.session, event_id, acting_user())
    except LookupError:
        abort(404, description=f"no event with id {event_id!r}")
    return _feature_response(event)


@bp.post("/events/<event_id>/publish")
@require("admin")
def publish(event_id: str) -> tuple[Response, int]:
    return _status(event_id, "published")


@bp.post("/events/<event_id>/unpublish")
@require("admin")
def unpublish(event_id: str) -> tuple[Response, int]:
    return _status(event_id, "draft")


def _status(event_id: str, status: str) -> tuple[Response, int]:
    try:
        event = editing.set_status(db.session, event_id, status, acting_user())
    except LookupError:
        abort(404, description=f"no event with id {event_id!r}")
    return _feature_response(event)


@bp.get("/events/<event_id>/revisions")
@require("editor")
def revisions(event_id: str) -> Response:
    """Every revision of an event, newest first, with who changed what."""
    from timeline.domain.revisions import history

    event = db.session.scalar(select(Event).where(Event.id == event_id))
    if event is None:
        abort(404, description=f"no event with id {event_id!r}")
    return jsonify({"id": event.id, "revisions": [_revision_json(r) for r in history(db.session, event)]})


def _revision_json(revision: Revision) -> dict[str, Any]:
    return {
        "revision": revision.id,
        "version": revision.version,
        "action": revision.action,
        "user": revision.user.username if revision.user else None,
        "at": revision.created_at.isoformat(),
        "changes": revision.changes,
    }

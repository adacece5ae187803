"""The change feed: events created, updated and deleted since a cursor, for mirrors to sync."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from timeline.domain.accounts import current_user
from timeline.store.changes import Change, changes_since
from timeline.store.db import db
from timeline.web.params import int_param

bp = Blueprint("changes", __name__, url_prefix="/api")

MAX_CHANGES_PAGE = 1000
# Revision ids are 32-bit integers on PostgreSQL: a larger cursor is a 400, not a query it refuses.
MAX_CURSOR = 2**31 - 1


@bp.get("/changes")
def changes() -> Response:
    """Events created, updated and deleted since a cursor, oldest first, for mirrors to sync.

    Anonymous readers see changes to published events only: an event that stops being public
    (unpublished or deleted) appears as ``deleted``; drafts that were never public never appear.
    """
    since = _int_arg("since", 0, lowest=0, highest=MAX_CURSOR)
    limit = _int_arg("limit", 100, lowest=1, highest=MAX_CHANGES_PAGE)
    editor = current_user() is not None
    page, more = changes_since(db.session, since, limit, include_drafts=editor)
    cursor = page[-1].revision.id if page else since
    body: dict[str, Any] = {"changes": [_entry(c, editor) for c in page], "cursor": cursor, "more": more}
    body["next"] = url_for("changes.changes", since=cursor, limit=limit, _external=True)
    return jsonify(body)


def _entry(change: Change, editor: bool) -> dict[str, Any]:
    revision = change.revision
    visible = revision.public or editor
    if revision.action == "delete" or not visible:
        return {
            "cursor": revision.id,
            "id": change.event_id,
            "change": "deleted",
            "version": revision.version,
        }
    feature: dict[str, Any] = {"type": "Feature", "id": change.event_id, **revision.snapshot}
    feature["properties"] = {**feature["properties"], "version": revision.version}
    first_seen = revision.action == "create" or (not editor and not change.was_public_before)
    return {
        "cursor": revision.id,
        "id": change.event_id,
        "change": "created" if first_seen else "updated",
        "version": revision.version,
        "feature": feature,
    }


def _int_arg(name: str, default: int, *, lowest: int, highest: int | None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    return int_param(name, raw, lowest, highest)

"""Revisions: the trace every change to an event leaves (who, when, what changed, and the result).

Written by the editing functions and the importer alike, read by the history page, the revisions
API and the change feed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from timeline.domain import audit
from timeline.domain.features import feature_content, feature_json
from timeline.store.db import DbSession
from timeline.store.models import Event, FeatureCache, Revision, User


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field -> [old, new] for every field a change touched (geometry counts as one field)."""
    old = _flatten(before) if before else {}
    new = _flatten(after)
    return {k: [old.get(k), new.get(k)] for k in sorted(new.keys() | old.keys()) if old.get(k) != new.get(k)}


def _flatten(content: dict[str, Any]) -> dict[str, Any]:
    return {"geometry": content["geometry"], **content["properties"]}


def is_public(event: Event) -> bool:
    """Whether anonymous readers can see the event."""
    return event.status == "published" and event.deleted_at is None


def record_revision(
    session: DbSession, event: Event, action: str, user: User | None, before: dict[str, Any] | None
) -> Revision:
    """Write the revision (and audit entry) for a change already applied to ``event``."""
    session.flush()  # assigns the event's pk and its new version
    after = feature_content(event)
    revision = Revision(
        event_pk=event.pk,
        version=event.version,
        action=action,
        user_id=user.id if user else None,
        changes=diff(before, after),
        snapshot=after,
        public=is_public(event),
    )
    session.add(revision)
    session.merge(FeatureCache(event_pk=event.pk, json=feature_json(event)))
    audit.record(session, action, user, target=event.id, detail=f"version {event.version}")
    return revision


def history(session: DbSession, event: Event) -> list[Revision]:
    """Revisions of an event, newest first."""
    stmt = select(Revision).where(Revision.event_pk == event.pk).order_by(Revision.id.desc())
    return list(session.scalars(stmt))

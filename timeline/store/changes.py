"""The change feed's reading: revisions after a cursor, with what each entry needs, in one query.

Mirrors poll the feed a page at a time, so a page must cost the same whatever it holds: each
revision comes with its event's public id and whether the event had been public before it, as
columns of the same statement, instead of one lazy load and one lookup per entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from timeline.store.db import DbSession
from timeline.store.models import Event, Revision


@dataclass(frozen=True)
class Change:
    """One revision as the feed sees it."""

    revision: Revision
    event_id: str
    # Whether an earlier revision of the same event left it publicly visible.
    was_public_before: bool


def changes_since(
    session: DbSession, since: int, limit: int, *, include_drafts: bool
) -> tuple[list[Change], bool]:
    """Up to ``limit`` changes after cursor ``since``, oldest first, and whether more follow.

    Without ``include_drafts`` only revisions the public could have noticed are read: those that
    left the event public, and those that ended a public life (an unpublish or a delete).
    """
    earlier = aliased(Revision)
    was_public = exists().where(
        and_(earlier.event_pk == Revision.event_pk, earlier.id < Revision.id, earlier.public)
    )
    stmt = (
        select(Revision, Event.id, was_public)
        .join(Event, Event.pk == Revision.event_pk)
        .where(Revision.id > since)
        .order_by(Revision.id)
        .limit(limit + 1)
    )
    if not include_drafts:
        stmt = stmt.where(Revision.public | was_public)
    rows = session.execute(stmt).all()
    changes = [Change(revision, event_id, bool(before)) for revision, event_id, before in rows[:limit]]
    return changes, len(rows) > limit

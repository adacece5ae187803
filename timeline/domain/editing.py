"""Every change to an event, for the forms, the write API and the CLI alike.

Each function here is one all-or-nothing transaction that also writes a revision (who, when, what
changed, and the event as it stood afterwards) and an audit entry. Nothing is ever overwritten
without a trace: deletes are marks, restores are new revisions, and a save based on an old
version is refused with :class:`Conflict` instead of silently replacing someone else's edit.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from timeline.domain.categories import ensure_categories
from timeline.domain.features import EventData, apply_event_data, feature_content, parse_feature
from timeline.domain.revisions import record_revision
from timeline.store.db import writing
from timeline.store.models import Event, Revision, User


class Conflict(Exception):
    """The event changed since the editor loaded it; ``event`` is the current version."""

    def __init__(self, event: Event, expected: int | None):
        super().__init__(f"event {event.id} is at version {event.version}, not {expected}")
        self.event = event
        self.expected = expected


class NotAllowed(Exception):
    """The user's role does not allow this change."""


def _check_version(event: Event, expected: int | None) -> None:
    if expected is None or event.version != expected:
        raise Conflict(event, expected)


def _locked(session: Session, event_id: str) -> Event | None:
    return session.scalars(select(Event).where(Event.id == event_id)).first()


def create_event(session: Session, data: EventData, user: User) -> Event:
    """A new event: editors' start as drafts, admins choose."""
    if not user.is_admin:
        data = replace(data, status="draft")
    with writing(session):
        ensure_categories(session, {data.category})
        event = Event()
        apply_event_data(event, replace(data, id=None))
        event.author_id = user.id
        event.was_published = data.status == "published"
        session.add(event)
        record_revision(session, event, "create", user, None)
    return event


def update_event(
    session: Session,
    event_id: str,
    data: EventData,
    expected_version: int | None,
    user: User,
    action: str = "update",
) -> Event:
    """Save new content over ``expected_version``; :class:`Conflict` if someone saved first.

    Status is kept unless an admin changes it: publishing is an admin's decision.
    """
    with writing(session):
        event = _locked(session, event_id)
        if event is None:
            raise LookupError(event_id)
        _check_version(event, expected_version)
        if not user.is_admin:
            data = replace(data, status=event.status)
        before = feature_content(event)
        ensure_categories(session, {data.category})
        apply_event_data(event, replace(data, id=event.id))
        if feature_content(event) == before:
            return event  # nothing changed: no revision, no new version
        event.was_published = event.was_published or data.status == "published"
        try:
            record_revision(session, event, action, user, before)
        except StaleDataError:
            # Another process saved between our read and our write (PostgreSQL row versioning).
            session.rollback()
            current = _locked(session, event_id)
            raise Conflict(current, expected_version) from None
    return event


def set_status(session: Session, event_id: str, status: str, user: User) -> Event:
    """Publish or unpublish (admins only)."""
    if not user.is_admin:
        raise NotAllowed("only admins publish and unpublish")
    with writing(session):
        event = _existing(session, event_id)
        if event.status == status:
            return event
        before = feature_content(event)
        event.status = status
        event.was_published = event.was_published or status == "published"
        record_revision(session, event, "publish" if status == "published" else "unpublish", user, before)
    return event


def delete_event(session: Session, event_id: str, user: User, expected_version: int | None = None) -> Event:
    """Mark an event deleted (admins only); it stays restorable from the trash."""
    if not user.is_admin:
        raise NotAllowed("only admins delete events")
    with writing(session):
        event = _existing(session, event_id)
        if expected_version is not None:
            _check_version(event, expected_version)
        if event.deleted_at is None:
            before = feature_content(event)
            event.deleted_at = datetime.now(UTC)
            event.updated_at = event.deleted_at
            record_revision(session, event, "delete", user, before)
    return event


def restore_event(session: Session, event_id: str, user: User) -> Event:
    """Bring a deleted event back (admins only)."""
    if not user.is_admin:
        raise NotAllowed("only admins restore deleted events")
    with writing(session):
        event = _existing(session, event_id, include_deleted=True)
        if event.deleted_at is not None:
            before = feature_content(event)
            event.deleted_at = None
            event.updated_at = datetime.now(UTC)
            record_revision(session, event, "restore", user, before)
    return event


def revert_to(
    session: Session, event_id: str, revision_id: int, expected_version: int | None, user: User
) -> Event:
    """Make an old revision's content current again, as a new revision (status is kept)."""
    revision = session.get(Revision, revision_id)
    if revision is None or revision.event.id != event_id:
        raise LookupError(revision_id)
    data = parse_feature({"type": "Feature", "id": event_id, **revision.snapshot})
    return update_event(
        session, event_id, data, expected_version, user, action=f"revert to v{revision.version}"
    )


def _existing(session: Session, event_id: str, include_deleted: bool = False) -> Event:
    event = _locked(session, event_id)
    if event is None or (event.deleted_at is not None and not include_deleted):
        raise LookupError(event_id)
    return event

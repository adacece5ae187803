"""Every change to an event, for the forms, the write API and the CLI alike.

Each function here is one all-or-nothing transaction that also writes a revision (who, when, what
changed, and the event as it stood afterwards) and an audit entry. Nothing is ever overwritten
without a trace: deletes are marks, restores are new revisions, and a save based on an old
version is refused with :class:`Conflict` instead of silently replacing someone else's edit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from timeline.domain.categories import ensure_categories
from timeline.domain.features import (
    N_,
    SET_BY_SERVER,
    EventData,
    FeatureError,
    Problem,
    apply_event_data,
    feature_content,
    parse_feature,
)
from timeline.domain.fields import ADMIN_ONLY, CLIENT_FORBIDDEN, SERVER_MANAGED
from timeline.domain.revisions import record_revision
from timeline.store.db import DbSession, writing
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


def _locked(session: DbSession, event_id: str) -> Event | None:
    return session.scalars(select(Event).where(Event.id == event_id)).first()


def check_external_id(session: DbSession, data: EventData, event_id: str | None) -> None:
    """One dataset id names one event: a second holder is the editor's problem to report, not a
    database error (the unique index would refuse it at flush)."""
    if not data.external_id:
        return
    holder = session.scalars(select(Event.id).where(Event.external_id == data.external_id)).first()
    if holder is not None and holder != event_id:
        problem = Problem(
            "external_id",
            N_("Another event already has the external id “%(external_id)s”: %(holder)s"),
            {"external_id": data.external_id, "holder": holder},
        )
        raise FeatureError([problem])


def create_event(
    session: DbSession, data: EventData, user: User, *, also: Callable[[Event], None] | None = None
) -> Event:
    """A new event: editors' start as drafts, admins choose.

    ``also`` runs inside the same transaction once the event is written (it is how a write's
    idempotency key is stored with it): if it fails, the event is not created either.
    """
    if not user.is_admin:
        data = replace(data, status="draft")
    with writing(session):
        check_external_id(session, data, None)
        ensure_categories(session, {data.category})
        event = Event()
        apply_event_data(event, replace(data, id=None))
        event.author_id = user.id
        event.was_published = data.status == "published"
        session.add(event)
        record_revision(session, event, "create", user, None)
        if also is not None:
            session.flush()
            also(event)
    return event


def update_event(
    session: DbSession,
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
        check_external_id(session, data, event.id)
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
            if current is None:  # deleted for good in between: nothing is left to conflict with
                raise LookupError(event_id) from None
            raise Conflict(current, expected_version) from None
    return event


def set_status(session: DbSession, event_id: str, status: str, user: User) -> Event:
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


def delete_event(session: DbSession, event_id: str, user: User, expected_version: int | None = None) -> Event:
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


def restore_event(session: DbSession, event_id: str, user: User) -> Event:
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
    session: DbSession, event_id: str, revision_id: int, expected_version: int | None, user: User
) -> Event:
    """Make an old revision's content current again, as a new revision (status is kept)."""
    revision = session.get(Revision, revision_id)
    if revision is None or revision.event.id != event_id:
        raise LookupError(revision_id)
    data = parse_feature({"type": "Feature", "id": event_id, **revision.snapshot})
    return update_event(
        session, event_id, data, expected_version, user, action=f"revert to v{revision.version}"
    )


def _existing(session: DbSession, event_id: str, include_deleted: bool = False) -> Event:
    event = _locked(session, event_id)
    if event is None or (event.deleted_at is not None and not include_deleted):
        raise LookupError(event_id)
    return event


# ---------------------------------------------------------------------------- what clients send


def forbidden_fields(feature: dict[str, Any], user: User, *, allow_version: bool) -> list[Problem]:
    """Fields this user may not set: refused, never silently dropped (no mass assignment).

    ``version`` is allowed where it says which version an edit is based on (a PATCH).
    """
    props = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
    assert isinstance(props, dict)
    problems = []
    if "id" in feature:
        problems.append(Problem("id", SET_BY_SERVER))
    for name in CLIENT_FORBIDDEN:
        if name in props and not (allow_version and name == "version"):
            problems.append(Problem(name, SET_BY_SERVER))
    for name in ADMIN_ONLY:
        if name in props and not user.is_admin:
            problems.append(Problem(name, N_("Only admins publish: an editor's events are drafts")))
    return problems


def patch_event(
    session: DbSession, event_id: str, patch: dict[str, Any], expected_version: int | None, user: User
) -> Event:
    """Change the fields ``patch`` names (a partial Feature) over ``expected_version``.

    Properties not in the patch keep their current values; a ``geometry`` replaces the shape. The
    result is checked as a whole feature, so a patch can never leave an event the mapping refuses.
    Raises :class:`LookupError`, :class:`FeatureError` or :class:`Conflict`.
    """
    event = _existing(session, event_id)
    props = patch.get("properties", {})
    if not isinstance(props, dict):
        raise FeatureError([Problem("properties", N_("Send the properties as an object"))])
    merged = feature_content(event)
    if "geometry" in patch:
        merged["geometry"] = patch["geometry"]
    merged["properties"].update({k: v for k, v in props.items() if k != "version"})
    data = parse_feature({"type": "Feature", **merged})
    return update_event(session, event_id, data, expected_version, user)


# ---------------------------------------------------------------------------- conflicts


def flat_fields(feature: dict[str, Any]) -> dict[str, Any]:
    """A feature's geometry and properties side by side, as a conflict page compares them."""
    return {"geometry": feature["geometry"], **feature["properties"]}


def compare_versions(mine: dict[str, Any], theirs: dict[str, Any]) -> list[dict[str, Any]]:
    """Field by field: the editor's value, the saved one, and whether they differ."""
    saved = flat_fields(theirs)
    return [
        {"field": name, "mine": value, "theirs": saved.get(name), "differs": value != saved.get(name)}
        for name, value in flat_fields(mine).items()
    ]


def merge_versions(
    session: DbSession,
    event_id: str,
    mine: dict[str, Any],
    keep_mine: set[str],
    expected_version: int | None,
    user: User,
) -> Event:
    """Save the saved version with the editor's value for each field in ``keep_mine``.

    Bookkeeping fields always come from the server, and an editor's merge keeps the status (only
    admins publish). Raises :class:`LookupError`, :class:`FeatureError` or :class:`Conflict`.
    """
    event = _existing(session, event_id)
    theirs = feature_content(event)
    merged = {"geometry": theirs["geometry"], "properties": dict(theirs["properties"])}
    for name, value in flat_fields(mine).items():
        if name not in keep_mine or name in SERVER_MANAGED:
            continue
        if name == "geometry":
            merged["geometry"] = value
        else:
            merged["properties"][name] = value
    if not user.is_admin:
        merged["properties"]["status"] = event.status
    data = parse_feature({"type": "Feature", "id": event.id, **merged})
    return update_event(session, event.id, data, expected_version, user)

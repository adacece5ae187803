"""Mirrors of outside datasets (ACLED): which events an earlier file brought that a newer one lacks.

ACLED overwrites events in place and removes the ones it merges or disqualifies; a full export of a
country is the dataset as it is now. Events that came from an earlier export of the same countries
and are not in the newer one are reported, not deleted: whether to follow ACLED's removal is the
editors' decision, and a deletion here would be one more edit to review.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from timeline.store.db import DbSession
from timeline.store.models import Event


@dataclass
class Missing:
    """Stored events of the dataset, in the file's countries, that the file does not have."""

    count: int = 0
    ids: list[str] = field(default_factory=list)  # the first few, in id order
    countries: list[str] = field(default_factory=list)  # the file's, which were compared


def missing_from_file(
    session: DbSession, prefix: str, countries: Iterable[str], present: Iterable[str], listed: int = 20
) -> Missing:
    """Events whose external id starts with ``prefix`` and whose ``country`` attribute is one of
    ``countries``, and whose external id is not in ``present``."""
    wanted, seen = set(countries), set(present)
    missing = Missing(countries=sorted(wanted))
    if not wanted:
        return missing
    rows = session.execute(
        select(Event.id, Event.external_id, Event.attributes)
        .where(Event.external_id.startswith(prefix, autoescape=True), Event.deleted_at.is_(None))
        .order_by(Event.id)
        # A country's file holds hundreds of thousands of events: read them a thousand at a time
        # rather than all at once (with their attributes, that would be hundreds of megabytes).
        .execution_options(yield_per=1000)
    )
    for event_id, external_id, attributes in rows:
        if external_id in seen or (attributes or {}).get("country") not in wanted:
            continue
        missing.count += 1
        if len(missing.ids) < listed:
            missing.ids.append(event_id)
    return missing

"""The extent of what anonymous readers see: the OGC collection's bounding box and time span.

Written against :func:`timeline.store.queries.conditions` of an empty filter, so "published and not
deleted" is the same rule here as for every list and count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from timeline.store.db import DbSession
from timeline.store.filters import EventFilter
from timeline.store.models import Event
from timeline.store.queries import conditions


@dataclass(frozen=True)
class Extent:
    """Where and when the visible events lie; None for each when there are none."""

    bbox: tuple[float, float, float, float] | None
    first_day: date | None
    last_day: date | None


def published_extent(session: DbSession) -> Extent:
    """One aggregate over the visible events (the min/max of their boxes and days)."""
    dialect = session.get_bind().dialect.name
    row = session.execute(
        select(
            func.min(Event.min_lon),
            func.min(Event.min_lat),
            func.max(Event.max_lon),
            func.max(Event.max_lat),
            func.min(Event.first_day),
            func.max(Event.last_day),
        ).where(*conditions(EventFilter(), dialect))
    ).one()
    bbox = None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
    return Extent(bbox, row[4], row[5])

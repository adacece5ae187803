"""The regions and countries the published events lie in, with how many events each holds.

The map page offers these as its region filter: a visitor picks from places that hold events
rather than typing a code, and the counts say how much each choice leaves on screen. The columns
are the ones every save fills in (``timeline.domain.regions``), so this is one grouped scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from timeline.store.db import DbSession
from timeline.store.models import Event


@dataclass(frozen=True)
class PlaceCount:
    """One region (or, with ``region_code`` and ``region_name`` None, a country's events without one)."""

    region_code: str | None
    region_name: str | None
    country_code: str | None
    country_name: str | None
    count: int


def region_counts(session: DbSession) -> list[PlaceCount]:
    """Published live events per (region, country), ordered by country then region name.

    Events with neither a region nor a country (at sea, or saved without the gazetteer) are left
    out: no filter could choose them.
    """
    keys = (Event.region_code, Event.region_name, Event.country_code, Event.country_name)
    rows = session.execute(
        select(*keys, func.count())
        .where(Event.deleted_at.is_(None), Event.status == "published")
        .where(or_(*(key.is_not(None) for key in keys)))
        .group_by(*keys)
    ).all()
    counts = [PlaceCount(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]
    return sorted(
        counts, key=lambda c: (c.country_name or c.country_code or "", c.region_name or c.region_code or "")
    )

"""Counts instead of events: clusters per map grid cell, and events per week.

A map cannot show a million markers, and the page should not download them: for a dense view the
server answers with one point per grid cell (its count, centre of mass and extent), sized for the
zoom level so a cell is about a quarter of a 256-pixel map tile. The density strip above the
timeline gets the number of events per week. Both honour exactly the same filters as the event
list, through the query module's conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from .models import Event
from .queries import EPOCH, BadParameter, EventFilter, conditions

CELLS_PER_TILE = 4
MAX_ZOOM = 22


@dataclass(frozen=True)
class Cluster:
    count: int
    lon: float
    lat: float
    bbox: tuple[float, float, float, float]

    def as_feature(self) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(self.lon, 6), round(self.lat, 6)]},
            "properties": {"count": self.count, "bbox": [round(v, 6) for v in self.bbox]},
        }


def parse_zoom(raw: str | None) -> int:
    """The map zoom level a cluster grid is made for (0 = the whole world in one tile)."""
    if raw is None or raw == "":
        raise BadParameter("zoom", "is required (0-22)")
    try:
        zoom = int(raw)
    except ValueError:
        raise BadParameter("zoom", f"must be a whole number, got {raw!r}") from None
    if not 0 <= zoom <= MAX_ZOOM:
        raise BadParameter("zoom", f"must be 0-{MAX_ZOOM}, got {zoom}")
    return zoom


def cell_size(zoom: int) -> float:
    """Degrees of longitude per grid cell at this zoom."""
    return 360.0 / (2**zoom * CELLS_PER_TILE)


def clusters(session: Session, f: EventFilter, zoom: int) -> list[Cluster]:
    """Matching events grouped into grid cells; counts add up to the number of matching events."""
    size = cell_size(zoom)
    lon = (Event.min_lon + Event.max_lon) / 2
    lat = (Event.min_lat + Event.max_lat) / 2
    # floor() for negative coordinates too: CAST truncates towards zero.
    cx = cast(func.floor(lon / size), Integer) if _has_floor(session) else _floor(lon / size)
    cy = cast(func.floor(lat / size), Integer) if _has_floor(session) else _floor(lat / size)
    stmt = (
        select(
            func.count(),
            func.avg(lon),
            func.avg(lat),
            func.min(Event.min_lon),
            func.min(Event.min_lat),
            func.max(Event.max_lon),
            func.max(Event.max_lat),
        )
        .where(*conditions(f, session.get_bind().dialect.name))
        .group_by(cx, cy)
    )
    return [Cluster(n, x, y, (a, b, c, d)) for n, x, y, a, b, c, d in session.execute(stmt)]


def _has_floor(session: Session) -> bool:
    return session.get_bind().dialect.name != "sqlite"


def _floor(expr: Any) -> Any:
    """floor() in plain SQL for SQLite builds without the math functions."""
    truncated = cast(expr, Integer)
    return truncated - (expr < truncated).cast(Integer)


def weekly_counts(session: Session, f: EventFilter) -> list[tuple[date, int]]:
    """Events per week (Monday-based) by the week their interval starts in, oldest first."""
    day = func.julianday(Event.first_day) - 2440587.5 if _is_sqlite(session) else _pg_days()
    # 1970-01-01 was a Thursday: shift by 3 days so weeks start on Mondays.
    week = cast(func.floor((day + 3) / 7), Integer) if not _is_sqlite(session) else _floor((day + 3) / 7)
    stmt = (
        select(week, func.count())
        .where(*conditions(f, session.get_bind().dialect.name))
        .group_by(week)
        .order_by(week)
    )
    return [(EPOCH + timedelta(days=int(w) * 7 - 3), n) for w, n in session.execute(stmt)]


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _pg_days() -> Any:
    return Event.first_day - EPOCH

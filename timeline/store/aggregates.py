"""Counts instead of events: clusters per map grid cell, and events per week.

A map cannot show a million markers, and the page should not download them: for a dense view the
server answers with one point per grid cell (its count, centre of mass and extent), cells being a
quarter of a 256-pixel tile at the requested zoom. The density strip above the timeline gets the
number of events per week. Both honour the same filters as the event list.

Two ways to count, with the same answer:
- from the rows, through the query module's conditions (any filter);
- from the counts that database triggers keep per cell and per week (migration 0004), when the
  question is one those counts can answer exactly: no time window or text search, zoom at most
  8, and a viewport that holds every matching event anyway (the whole-extent view). Events larger
  than a cell are not in the cell counts; they are counted from the rows (few, and indexed).
- with a time window (any: a month, a year, open at one end), from the counts per pair of first
  and last week (migration 0012), only the events of the weeks the window cuts read from the rows
  (:func:`timeline.store.queries.split_window`). A window that cuts no week reads no row at all.
- a wide viewport (with or without a window) from the counts of the cells wholly inside it, only
  the events near its edges and the large ones read and tested (:func:`inner_cells`); a viewport
  a few cells across is mostly edge and is read through the spatial index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, cast, func, select, text

from geodata.geometry import BBox
from timeline.store.db import DbSession
from timeline.store.filters import EventFilter
from timeline.store.models import Event, EventCellCount, EventCellSpanCount, EventSpanCount, EventWeekCount
from timeline.store.queries import (
    EPOCH,
    WindowSplit,
    answerable_from_counts,
    answerable_from_span_counts,
    conditions,
    count_key_conditions,
    cut_week_conditions,
    exact_viewport_conditions,
    key_conditions,
    split_window,
    unindexed,
    viewport_conditions,
    week_start,
    without_idle_window,
)

CELLS_PER_TILE = 4
MAX_ZOOM = 22
BASE_ZOOM = 8
BASE_CELL = 360.0 / (2**BASE_ZOOM * CELLS_PER_TILE)  # must equal CELL in migration 0004
# The events the cell counts hold: smaller than a cell (migrations 0004 and 0012).
SMALL = and_((Event.max_lon - Event.min_lon) < BASE_CELL, (Event.max_lat - Event.min_lat) < BASE_CELL)
# The partial index ix_events_large (migration 0004) answers exactly this condition. "pk > 0"
# (every pk) makes it a range search of that index: without it, SQLite (which has no statistics
# here, see maintenance.py) scans ix_events_live_ends instead, whose condition the first term also
# meets, and reads every live event: 600 ms instead of 1 at 100,000 events, for every cluster answer.
LARGE = text(
    "deleted_at IS NULL AND NOT "
    f"((max_lon - min_lon) < {BASE_CELL!r} AND (max_lat - min_lat) < {BASE_CELL!r}) AND pk > 0"
)


@dataclass
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

    def merge(self, other: Cluster) -> None:
        total = self.count + other.count
        self.lon = (self.lon * self.count + other.lon * other.count) / total
        self.lat = (self.lat * self.count + other.lat * other.count) / total
        a, b = self.bbox, other.bbox
        self.bbox = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
        self.count = total


# The most grid cells one answer may hold: a phone or desktop viewport at its own zoom holds a few
# hundred; only an extent far wider than the zoom asks for (the whole world at zoom 22, a million
# cells of which every event gets its own) reaches this, and is answered at a coarser zoom.
MAX_CELLS = 16_384


def zoom_for_extent(zoom: int, bbox: BBox | None) -> int:
    """The zoom to count at: ``zoom``, or the finest coarser one whose grid over the extent (the
    whole world without a bbox) has at most :data:`MAX_CELLS` cells."""
    width, height = (360.0, 180.0) if bbox is None else _extent(bbox)
    while zoom > 0 and (width / cell_size(zoom) + 1) * (height / cell_size(zoom) + 1) > MAX_CELLS:
        zoom -= 1
    return zoom


def _extent(bbox: BBox) -> tuple[float, float]:
    width = bbox.max_lon - bbox.min_lon
    if width < 0:  # across the antimeridian
        width += 360.0
    return width, bbox.max_lat - bbox.min_lat


def cell_size(zoom: int) -> float:
    """Degrees per grid cell at this zoom."""
    tiles: float = 2**zoom  # typeshed calls int ** int Any (a negative power would be a float)
    return 360.0 / (tiles * CELLS_PER_TILE)


def _dialect(session: DbSession) -> str:
    return session.get_bind().dialect.name


def _cell_index(value: Any, offset: float, size: float, dialect: str) -> ColumnElement[int]:
    """Which cell a coordinate falls in; offset keeps it non-negative, so truncation is floor."""
    if dialect == "sqlite":
        return cast((value + offset) / size, Integer)
    return cast(func.floor((value + offset) / size), Integer)


def clusters(session: DbSession, f: EventFilter, zoom: int) -> list[Cluster]:
    """Matching events grouped into grid cells; the counts add up to the number of matching events."""
    f = without_idle_viewport(session, without_idle_window(session, f))
    if zoom <= BASE_ZOOM and answerable_from_counts(f):
        return _clusters_from_counts(session, f, zoom)
    if zoom <= BASE_ZOOM and answerable_from_span_counts(f):
        return _clusters_from_span_counts(session, f, zoom)
    if zoom <= BASE_ZOOM and f.bbox is not None and answerable_from_viewport_counts(f):
        inner = inner_cells_worth_it(f.bbox)
        if inner is not None:
            return _clusters_of_viewport(session, f, zoom, inner)
    return _clusters_from_rows(session, conditions(f, _dialect(session)), zoom)


def answerable_from_viewport_counts(f: EventFilter) -> bool:
    """Whether the counts answer ``f`` but for its viewport (a window, count keys): then the cells
    inside the viewport come from the counts and only its edges from the rows."""
    bare = replace(f, bbox=None)
    return answerable_from_counts(bare) or answerable_from_span_counts(bare)


# The share of a viewport its inner cells must cover for the counts to answer it. A viewport a few
# cells wide (a zoom-7 map of one region) is mostly edge: its edge rows, read through the R*Tree in
# four strips, cost more than the whole box's rows (252 ms against 200 at 100,000 events).
INNER_SHARE = 0.6
# Margin (degrees) by which the inner cells keep clear of the viewport's edges against rounding.
_EPSILON = 1e-9


def inner_cells(bbox: BBox) -> tuple[int, int, int, int] | None:
    """The base-zoom cells (first and last column, first and last row) whose every counted event
    lies wholly inside ``bbox``, or None when there is none (or the box crosses the antimeridian).

    A counted event is smaller than a cell and centred in its cell, so it lies within half a cell
    of it: a cell whose edges, moved out by half a cell, are inside the box holds only events
    inside the box, which the counts then answer without testing them.
    """
    if bbox.min_lon > bbox.max_lon:
        return None
    half = BASE_CELL / 2
    x0 = math.ceil((bbox.min_lon + 180 + half + _EPSILON) / BASE_CELL)
    x1 = math.floor((bbox.max_lon + 180 - half - _EPSILON) / BASE_CELL) - 1
    y0 = math.ceil((bbox.min_lat + 90 + half + _EPSILON) / BASE_CELL)
    y1 = math.floor((bbox.max_lat + 90 - half - _EPSILON) / BASE_CELL) - 1
    if x0 > x1 or y0 > y1:
        return None
    return x0, x1, y0, y1


def inner_cells_worth_it(bbox: BBox) -> tuple[int, int, int, int] | None:
    """:func:`inner_cells`, when they cover :data:`INNER_SHARE` of the viewport at least."""
    inner = inner_cells(bbox)
    if inner is None:
        return None
    x0, x1, y0, y1 = inner
    inner_area = (x1 - x0 + 1) * (y1 - y0 + 1) * BASE_CELL**2
    if inner_area < INNER_SHARE * (bbox.max_lon - bbox.min_lon) * (bbox.max_lat - bbox.min_lat):
        return None  # mostly edge: the spatial index's rows are fewer than the edges' rows and counts
    return inner


def _edge_bands(bbox: BBox, inner: tuple[int, int, int, int]) -> list[tuple[float, float, float, float]]:
    """The viewport less its inner cells, as four boxes (overlapping the inner cells a little, so
    that an event touching their border is found however the division rounds)."""
    x0, x1, y0, y1 = inner
    margin = BASE_CELL / 1000
    west, east = x0 * BASE_CELL - 180 + margin, (x1 + 1) * BASE_CELL - 180 - margin
    south, north = y0 * BASE_CELL - 90 + margin, (y1 + 1) * BASE_CELL - 90 - margin
    b = bbox
    return [
        (b.min_lon, b.min_lat, west, b.max_lat),
        (east, b.min_lat, b.max_lon, b.max_lat),
        (west, b.min_lat, east, south),
        (west, north, east, b.max_lat),
    ]


def _in_inner_cells(inner: tuple[int, int, int, int], dialect: str) -> ColumnElement[bool]:
    """A row's cell (the triggers' expression) is one of the inner cells."""
    x0, x1, y0, y1 = inner
    cx = _cell_index((Event.min_lon + Event.max_lon) / 2, 180, BASE_CELL, dialect)
    cy = _cell_index((Event.min_lat + Event.max_lat) / 2, 90, BASE_CELL, dialect)
    return and_(cx >= x0, cx <= x1, cy >= y0, cy <= y1)


def _clusters_of_viewport(
    session: DbSession, f: EventFilter, zoom: int, inner: tuple[int, int, int, int]
) -> list[Cluster]:
    """Clusters of a viewport (and maybe a window): its inner cells from the counts (a window's cut
    weeks from the rows, as everywhere), then from the rows the small events near its edges, whose
    cell is not an inner one, and the large events (not in the cell counts), exactly tested."""
    dialect = _dialect(session)
    x0, x1, y0, y1 = inner
    windowed = f.start is not None or f.end is not None
    model: Any = EventCellSpanCount if windowed else EventCellCount
    split = split_window(f.start, f.end) if windowed else None
    size = cell_size(zoom)
    where = [*count_key_conditions(model, f), model.cx.between(x0, x1), model.cy.between(y0, y1)]
    cells = _count_clusters(session, model, zoom, [where] if split is None else [
        [*where, *pairs] for pairs in split.pair_condition_sets(model)
    ])  # fmt: skip
    inside = _in_inner_cells(inner, dialect)
    bands = _edge_bands(f.bbox, inner) if f.bbox else []
    extra = _clusters_from_rows(session, [*viewport_conditions(f, dialect, bands), SMALL, ~inside], zoom)
    large = [*_large_rows(f), *exact_viewport_conditions(f, dialect), *_window_days(f, dialect)]
    extra += _clusters_from_rows(session, large, zoom)
    if split is not None and split.rows is not None:
        extra += _clusters_from_rows(session, [*cut_week_conditions(f, split), SMALL, inside], zoom)
    for cluster in extra:
        key = (int((cluster.lon + 180) // size), int((cluster.lat + 90) // size))
        if key in cells:
            cells[key].merge(cluster)
        else:
            cells[key] = cluster
    return list(cells.values())


def _clusters_from_rows(session: DbSession, where: list[Any], zoom: int) -> list[Cluster]:
    size = cell_size(zoom)
    dialect = _dialect(session)
    lon = (Event.min_lon + Event.max_lon) / 2
    lat = (Event.min_lat + Event.max_lat) / 2
    cx, cy = _cell_index(lon, 180, size, dialect), _cell_index(lat, 90, size, dialect)
    stmt = (
        select(
            cx,
            cy,
            func.count(),
            func.avg(lon),
            func.avg(lat),
            func.min(Event.min_lon),
            func.min(Event.min_lat),
            func.max(Event.max_lon),
            func.max(Event.max_lat),
        )
        .where(*where)
        .group_by(cx, cy)
    )
    return [Cluster(n, x, y, (a, b, c, d)) for _, _, n, x, y, a, b, c, d in session.execute(stmt)]


def _large_rows(f: EventFilter) -> list[Any]:
    """Conditions for the matching events too large for the cell counts (no bbox: see callers).

    Only the partial index ix_events_large may answer them (a few rows); the other columns are
    made unindexable so that SQLite does not walk every published event instead.
    """
    columns = (unindexed(Event.status), unindexed(Event.category_slug), unindexed(Event.confidence))
    return [LARGE, *key_conditions(f, *columns)]


def without_idle_viewport(session: DbSession, f: EventFilter) -> EventFilter:
    """``f`` without its viewport when the viewport holds every matching event whole.

    Such a viewport filters nothing (the whole-extent view of the map), and without it the count
    tables may answer. It is looked at only when the viewport is all that keeps them from it (a
    time window too: a box holding every live event whole holds those of any window, and a zoom-7
    map of a region's story is such a box, which otherwise reads its edges' rows).
    """
    if f.bbox is None or not answerable_from_viewport_counts(f):
        return f
    return replace(f, bbox=None) if _holds_everything(session, f, f.bbox) else f


def _holds_everything(session: DbSession, f: EventFilter, box: BBox) -> bool:
    """Whether ``box`` holds every event matching the rest of ``f`` whole."""
    if box.min_lon > box.max_lon:
        return False  # across the antimeridian: leave it to the rows
    c = EventCellCount
    cells = session.execute(
        select(func.min(c.cx), func.max(c.cx), func.min(c.cy), func.max(c.cy)).where(
            *count_key_conditions(c, f)
        )
    ).one()
    extent = (
        func.min(Event.min_lon),
        func.min(Event.min_lat),
        func.max(Event.max_lon),
        func.max(Event.max_lat),
    )
    large = session.execute(select(*extent).where(*_large_rows(f))).one()
    extents = []
    if cells[0] is not None:
        # A small event lies within half a cell of its cell.
        half = BASE_CELL / 2
        west, south = cells[0] * BASE_CELL - 180 - half, cells[2] * BASE_CELL - 90 - half
        east, north = (cells[1] + 1) * BASE_CELL - 180 + half, (cells[3] + 1) * BASE_CELL - 90 + half
        extents.append((west, south, east, north))
    if large[0] is not None:
        extents.append(large)
    return all(
        box.min_lon <= w and box.min_lat <= s and box.max_lon >= e and box.max_lat >= n
        for w, s, e, n in extents
    )


def _clusters_from_counts(session: DbSession, f: EventFilter, zoom: int) -> list[Cluster]:
    c = EventCellCount
    shift = BASE_ZOOM - zoom
    cx, cy = c.cx.op(">>")(shift), c.cy.op(">>")(shift)
    stmt = (
        select(cx, cy, func.sum(c.n), func.sum(c.sum_lon), func.sum(c.sum_lat))
        .where(*count_key_conditions(c, f))
        .group_by(cx, cy)
    )
    size = cell_size(zoom)
    cells: dict[tuple[int, int], Cluster] = {}
    for x, y, n, sum_lon, sum_lat in session.execute(stmt):
        west, south = x * size - 180, y * size - 90
        half = BASE_CELL / 2
        bbox = (west - half, south - half, west + size + half, south + size + half)
        cells[(x, y)] = Cluster(int(n), sum_lon / n, sum_lat / n, bbox)
    for large in _clusters_from_rows(session, _large_rows(f), zoom):
        key = (int((large.lon + 180) // size), int((large.lat + 90) // size))
        if key in cells:
            cells[key].merge(large)
        else:
            cells[key] = large
    return list(cells.values())


def _window_days(f: EventFilter, dialect: str) -> list[Any]:
    """The window's overlap test in plain comparisons, for the few rows of large events: on SQLite
    unindexable (as ISO text), or it would walk a date index instead of the partial index of large
    events (390 ms instead of 1 at 100,000 events)."""
    sqlite = dialect == "sqlite"
    first = unindexed(Event.first_day) if sqlite else Event.first_day
    last = unindexed(Event.last_day) if sqlite else Event.last_day
    conds = []
    if f.end is not None:
        conds.append(first <= (f.end.isoformat() if sqlite else f.end))
    if f.start is not None:
        conds.append(last >= (f.start.isoformat() if sqlite else f.start))
    return conds


def _clusters_from_span_counts(session: DbSession, f: EventFilter, zoom: int) -> list[Cluster]:
    """Clusters of a time window: the whole pairs of the cell span counts, then from the rows the
    small events of the weeks the window cuts and the large events (not in the cell counts)."""
    split = split_window(f.start, f.end)
    c = EventCellSpanCount
    keys = count_key_conditions(c, f)
    cells = _count_clusters(session, c, zoom, [[*keys, *pairs] for pairs in split.pair_condition_sets(c)])
    size = cell_size(zoom)
    from_rows = _clusters_from_rows(session, [*_large_rows(f), *_window_days(f, _dialect(session))], zoom)
    if split.rows is not None:
        from_rows += _clusters_from_rows(session, [*cut_week_conditions(f, split), SMALL], zoom)
    for extra in from_rows:
        key = (int((extra.lon + 180) // size), int((extra.lat + 90) // size))
        if key in cells:
            cells[key].merge(extra)
        else:
            cells[key] = extra
    return list(cells.values())


def _count_clusters(
    session: DbSession, model: Any, zoom: int, condition_sets: list[list[Any]]
) -> dict[tuple[int, int], Cluster]:
    """Clusters at ``zoom`` from a cell count table, summed over disjoint sets of its rows."""
    shift = BASE_ZOOM - zoom
    cx, cy = model.cx.op(">>")(shift), model.cy.op(">>")(shift)
    size = cell_size(zoom)
    half = BASE_CELL / 2
    sums: dict[tuple[int, int], list[float]] = {}
    for where in condition_sets:
        stmt = (
            select(cx, cy, func.sum(model.n), func.sum(model.sum_lon), func.sum(model.sum_lat))
            .where(*where)
            .group_by(cx, cy)
        )
        for x, y, n, sum_lon, sum_lat in session.execute(stmt):
            total = sums.setdefault((int(x), int(y)), [0, 0.0, 0.0])
            total[0] += n
            total[1] += sum_lon
            total[2] += sum_lat
    cells: dict[tuple[int, int], Cluster] = {}
    for (x, y), (n, sum_lon, sum_lat) in sums.items():
        if n:
            west, south = x * size - 180, y * size - 90
            bbox = (west - half, south - half, west + size + half, south + size + half)
            cells[(x, y)] = Cluster(int(n), sum_lon / n, sum_lat / n, bbox)
    return cells


def _weekly_from_span_counts(session: DbSession, f: EventFilter, split: WindowSplit) -> dict[int, int]:
    """Events of a time window by the week they start in: whole pairs, then the cut weeks' rows."""
    s = EventSpanCount
    weeks: dict[int, int] = {}
    for pairs in split.pair_condition_sets(s):
        stmt = select(s.first_week, func.sum(s.n)).where(*count_key_conditions(s, f), *pairs)
        for w, n in session.execute(stmt.group_by(s.first_week)):
            weeks[int(w)] = weeks.get(int(w), 0) + int(n)
    if split.rows is not None:
        week = _week_expression(_dialect(session))
        cut = select(week, func.count()).where(*cut_week_conditions(f, split)).group_by(week)
        for w, n in session.execute(cut):
            weeks[int(w)] = weeks.get(int(w), 0) + int(n)
    return weeks


def weekly_counts(session: DbSession, f: EventFilter) -> list[tuple[date, int]]:
    """Matching events per week (Monday-based) by the week their interval starts in, oldest first."""
    f = without_idle_window(session, f)
    if answerable_from_span_counts(f):
        weeks = _weekly_from_span_counts(session, f, split_window(f.start, f.end))
        return [(week_start(w), n) for w, n in sorted(weeks.items()) if n]
    if answerable_from_counts(f):
        w = EventWeekCount
        keys = count_key_conditions(w, f)
        stmt = select(w.week, func.sum(w.n)).where(*keys).group_by(w.week).order_by(w.week)
    else:
        week = _week_expression(_dialect(session))
        stmt = (
            select(week, func.count()).where(*conditions(f, _dialect(session))).group_by(week).order_by(week)
        )
    return [(EPOCH + timedelta(days=int(week) * 7 - 3), int(n)) for week, n in session.execute(stmt)]


def _week_expression(dialect: str) -> ColumnElement[int]:
    """The week number migration 0004's triggers use: weeks from Monday 1969-12-29."""
    if dialect == "sqlite":
        return cast((func.julianday(Event.first_day) - 2440587.5 + 700003) / 7, Integer) - 100000
    return cast(func.floor(((Event.first_day - EPOCH) + 3) / 7.0), Integer)

"""``timeline optimize``: keep the indexes fast after bulk loads, without touching any event.

SQLite's R*Tree (``event_rtree``, kept by triggers) grows one insert at a time, in whatever order the
events arrived. After a bulk import in no particular order its nodes cover wide, overlapping
stretches of space and time, and a viewport search visits many nodes for few hits: at a million
generated events the search for a 0.5° × one-month window took 1.8 ms as inserted and 0.5 ms after
repacking (bench/RESULTS.md). Repacking reinserts the same entries in sort-tile-recursive order
(Leutenegger et al., 1997): sorted into slabs by day, each slab into strips by longitude, each strip
by latitude, so that entries inserted one after another are neighbours in all three dimensions.

The entries are copied from the R*Tree itself, so they stay bit-for-bit what the triggers wrote
(its 32-bit floats, already rounded outwards), and all of it is one write transaction: readers keep
their snapshot until it commits, writers wait for it (see :func:`timeline.db.writing`).

PostgreSQL's GiST indexes need no repacking; there the command refreshes the planner's statistics
(``ANALYZE``). SQLite gets none on purpose: its plans here are steered by the query module
(``timeline.queries``), and statistics would let its planner second-guess them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from timeline.store.db import DbSession, writing

# SQLite's R*Tree holds up to (page size - 64) / (8 + 6 * 4) entries per node; nodes end up about
# two thirds full after inserts. The packing only needs the order of magnitude.
ENTRIES_PER_LEAF = 80

RTREE_COLUMNS = "id, min_lon, max_lon, min_lat, max_lat, min_day, max_day"


@dataclass(frozen=True)
class OptimizeReport:
    """What ``optimize`` did, for the command's output."""

    backend: str
    entries: int = 0

    def lines(self) -> list[str]:
        if self.backend == "sqlite":
            return [f"repacked the spatial index: {self.entries} entries in space-time order"]
        return ["refreshed the query planner's statistics (GiST indexes need no repacking)"]


def optimize(session: DbSession) -> OptimizeReport:
    """Repack SQLite's R*Tree and refresh planner statistics; on PostgreSQL only the latter."""
    dialect = session.get_bind().dialect.name
    if dialect != "sqlite":
        with writing(session):
            session.execute(text("ANALYZE events"))
        return OptimizeReport(dialect)
    with writing(session):
        entries = session.execute(text(f"SELECT {RTREE_COLUMNS} FROM event_rtree")).all()  # noqa: S608
        ordered = str_order([tuple(row) for row in entries])
        session.execute(text("DELETE FROM event_rtree"))
        if ordered:  # the driver's executemany: a million rows bound as tuples, not dicts
            session.connection().exec_driver_sql(
                f"INSERT INTO event_rtree ({RTREE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                ordered,
            )
    return OptimizeReport(dialect, len(ordered))


def str_order(entries: list[tuple[Any, ...]], per_leaf: int = ENTRIES_PER_LEAF) -> list[tuple[Any, ...]]:
    """R*Tree rows ``(id, min_lon, max_lon, min_lat, max_lat, min_day, max_day)`` in
    sort-tile-recursive order: ``s`` slabs by day, ``s`` strips per slab by longitude, then by
    latitude, where ``s`` is the cube root of the number of leaves. The slab sizes follow the data
    (a decade of world events and a month of one town get the same treatment)."""
    if not entries:
        return []
    leaves = math.ceil(len(entries) / per_leaf)
    slabs = max(1, math.ceil(leaves ** (1 / 3)))

    def centre(row: tuple[float, ...], low: int) -> float:
        return (row[low] + row[low + 1]) / 2

    ordered: list[tuple[Any, ...]] = []
    by_day = sorted(entries, key=lambda row: centre(row, 5))
    for slab in _chunks(by_day, slabs):
        for strip in _chunks(sorted(slab, key=lambda row: centre(row, 1)), slabs):
            ordered += sorted(strip, key=lambda row: centre(row, 3))
    return ordered


def _chunks(rows: list[tuple[Any, ...]], parts: int) -> list[list[tuple[Any, ...]]]:
    """``rows`` cut into ``parts`` runs of (nearly) equal length, in order."""
    size = math.ceil(len(rows) / parts)
    return [rows[i : i + size] for i in range(0, len(rows), size)]

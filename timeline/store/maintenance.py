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
        entries = pack_rtree(session)
    return OptimizeReport(dialect, entries)


# The R*Tree row of an event, as migration 0001's triggers write it (days from 1970-01-01).
_DAY = "CAST(julianday({}) - 2440587.5 AS INTEGER)"
EVENT_ENTRY = f"pk, min_lon, max_lon, min_lat, max_lat, {_DAY.format('first_day')}, {_DAY.format('last_day')}"


def pack_rtree(session: DbSession, first_new: int | None = None) -> int:
    """Write R*Tree entries in sort-tile-recursive order, inside the caller's write transaction.

    Without ``first_new``: repack every entry (``timeline optimize``). With it: add the entries of
    the events from key ``first_new`` on, which a bulk import wrote with the insert trigger
    suspended; when they are at least as many as the entries already there, the whole index is
    repacked with them (a bulk load into an empty or small database ends packed, with no separate
    step), otherwise only they are inserted in that order (repacking a million entries for a few
    thousand new ones would cost a minute). Returns the number of entries written.

    The order is computed by SQLite over a temporary table, not in Python, so a million entries
    cost SQLite's sort space on disk rather than hundreds of megabytes of tuples (:func:`str_order`
    is the same layout in Python, which tests compare it with).
    """
    connection = session.connection()
    run = connection.exec_driver_sql
    run("DROP TABLE IF EXISTS temp.rtree_packing")
    columns = RTREE_COLUMNS
    if first_new is None:
        run(f"CREATE TABLE temp.rtree_packing AS SELECT {columns} FROM event_rtree")  # noqa: S608
        run("DELETE FROM event_rtree")
    else:
        run(f"CREATE TABLE temp.rtree_packing ({columns})")
        new = f"SELECT {EVENT_ENTRY} FROM events WHERE pk >= {int(first_new)}"  # noqa: S608
        run(f"INSERT INTO temp.rtree_packing {new}")
        added = run("SELECT count(*) FROM temp.rtree_packing").scalar() or 0
        if added >= (run("SELECT count(*) FROM event_rtree").scalar() or 0):
            run(f"INSERT INTO temp.rtree_packing SELECT {columns} FROM event_rtree")  # noqa: S608
            run("DELETE FROM event_rtree")
    count = int(run("SELECT count(*) FROM temp.rtree_packing").scalar() or 0)
    if count:
        run(f"INSERT INTO event_rtree ({columns}) {str_order_sql('temp.rtree_packing', count)}")
    run("DROP TABLE temp.rtree_packing")
    return count


def str_order_sql(table: str, count: int, per_leaf: int = ENTRIES_PER_LEAF) -> str:
    """A SELECT of ``table``'s R*Tree rows in :func:`str_order`'s order: ``s`` slabs by day, ``s``
    strips per slab by longitude, then by latitude (ties by id, as a stable sort of rows in id
    order breaks them)."""
    slabs = max(1, math.ceil(math.ceil(count / per_leaf) ** (1 / 3)))
    slab_size = math.ceil(count / slabs)
    by_day = (
        f"SELECT *, (row_number() OVER (ORDER BY min_day + max_day, id) - 1) / {slab_size} AS slab "  # noqa: S608
        f"FROM {table}"
    )
    by_lon = (
        f"SELECT *, (row_number() OVER (PARTITION BY slab ORDER BY min_lon + max_lon, id) - 1) "  # noqa: S608
        f"/ ((count(*) OVER (PARTITION BY slab) + {slabs - 1}) / {slabs}) AS strip FROM ({by_day})"
    )
    return f"SELECT {RTREE_COLUMNS} FROM ({by_lon}) ORDER BY slab, strip, min_lat + max_lat, id"  # noqa: S608


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

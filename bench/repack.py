"""(a11) What ``timeline optimize`` buys: the R*Tree repacked in space-time order against the same
entries in the order the events were inserted.

The benchmark database ends its load with ``timeline optimize`` (``bench.generate``), as README tells
operators to after a bulk load. The baseline is rebuilt here from that database's own R*Tree: the
same entries inserted one by one in key order, which is the order the generator (and the triggers)
first inserted them in, into a file of its own beside the data (``bench/data/rtree-as-inserted-N.sqlite``,
made once, about half a minute at a million events). Every window is then asked of both, in turn:
the R*Tree search alone, and page_and_count's whole statement with the attached R*Tree swapped in.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from timeline.store.maintenance import RTREE_COLUMNS
from timeline.store.queries import counted_page

from .measure import Row, median_p95, windows
from .queries import Sqlite


def as_inserted(db_path: Path, n: int) -> Path:
    """The baseline R*Tree file for ``db_path`` (made if missing or if its entry count differs)."""
    path = db_path.parent / f"rtree-as-inserted-{n}.sqlite"
    if path.exists():
        with contextlib.closing(sqlite3.connect(path)) as conn:
            if conn.execute("SELECT count(*) FROM event_rtree").fetchone()[0] == n:
                return path
        path.unlink()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(f"CREATE VIRTUAL TABLE event_rtree USING rtree({RTREE_COLUMNS})")
        conn.execute("ATTACH DATABASE ? AS source", (str(db_path),))
        conn.execute(
            f"INSERT INTO event_rtree SELECT {RTREE_COLUMNS} FROM source.event_rtree ORDER BY id"  # noqa: S608
        )
        conn.commit()
    return path


def measure(session: Session, db_path: Path, n: int, reps: int) -> list[Row]:
    """The a11 rows; ``session`` is on the benchmark database (it only compiles the statements)."""
    baseline = as_inserted(db_path, n)
    # A connection of the app's engine (its SQL functions registered), outside any transaction:
    # SQLite attaches a database only there.
    raw = cast(Engine, session.get_bind()).raw_connection()
    conn = raw.driver_connection
    assert conn is not None
    conn.execute("ATTACH DATABASE ? AS asis", (str(baseline),))
    try:
        samples: dict[str, list[float]] = {k: [] for k in ("search", "search_asis", "full", "full_asis")}
        mismatches = 0
        for i, f in enumerate([windows(reps)[0], *windows(reps)]):
            full = Sqlite.sql(session, counted_page(session, f, keys_only=True))
            where = re.search(r"FROM event_rtree \nWHERE (.*?)\)", full, re.S)
            assert where, full
            search = f"SELECT count(*) FROM event_rtree WHERE {where.group(1)}"  # noqa: S608 (our own SQL)
            statements = {
                "search": search,
                "search_asis": search.replace("FROM event_rtree", "FROM asis.event_rtree"),
                "full": full,
                "full_asis": full.replace("FROM event_rtree", "FROM asis.event_rtree"),
            }
            conn.execute(full).fetchall()  # the window's table pages, warm for both
            answers: dict[str, Any] = {}
            order = list(statements)
            order = order[i % len(order) :] + order[: i % len(order)]  # neither goes first every time
            for name in order:
                started = time.perf_counter()
                answers[name] = conn.execute(statements[name]).fetchall()
                if i:
                    samples[name].append((time.perf_counter() - started) * 1000)
            same = answers["search"] == answers["search_asis"] and answers["full"] == answers["full_asis"]
            mismatches += not same
    finally:
        conn.execute("DETACH DATABASE asis")
        raw.close()
    check = "equal" if not mismatches else f"{mismatches} windows DIFFER"
    return [
        Row(
            "a11 R*Tree search alone (hits counted), median — vs the same entries as inserted, "
            f"before `timeline optimize` (answers {check})",
            median_p95(samples["search"])[0],
            median_p95(samples["search_asis"])[0],
        ),
        Row(
            "a11 page_and_count's statement (a10), median — vs the same with the R*Tree as inserted",
            median_p95(samples["full"])[0],
            median_p95(samples["full_asis"])[0],
        ),
        Row(
            "a11 same, p95",
            median_p95(samples["full"])[1],
            median_p95(samples["full_asis"])[1],
        ),
    ]

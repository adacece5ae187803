"""(a) on PostgreSQL/PostGIS: the viewport-and-month query against a full scan, and the plans.

The SQLite measurements in run.py force plans with ``NOT INDEXED``/``INDEXED BY``; PostgreSQL has
no hints, so the baseline here is the very same statement with index, index-only and bitmap scans
switched off for its transaction (``SET LOCAL``): the planner then has to read the whole table
(in parallel, as a large scan would be in production). Nothing else differs, so the ratio is what
the GiST indexes of migration 0003 buy.

Three timings per statement, because "server time" means different things on the two backends:
through the ORM (what the API does, objects included), the same statement run raw (rows only: the
SQL and the round trip through psycopg), and the server's own planning + execution time from
``EXPLAIN (ANALYZE, TIMING OFF)`` (no per-node clocks, so next to no overhead). On SQLite, which runs
in the process, the raw figure is already the server time.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from flask import Flask
from measure import (
    Row,
    a1_rows,
    a3_a4_rows,
    a7_rows,
    a9_row,
    median_p95,
    repeat,
    summarise,
    timed,
    warn,
    windows,
)
from sqlalchemy import Executable, event, func, select
from sqlalchemy.orm import Session

from timeline.db import db
from timeline.models import Event
from timeline.queries import (
    EventFilter,
    _conditions,
    count_events,
    counted_page,
    filtered_events,
    page_and_count,
)

# Switched off for the baseline's transaction only; a sequential scan is all that is left.
FULL_SCAN = (
    "SET LOCAL enable_indexscan = off",
    "SET LOCAL enable_indexonlyscan = off",
    "SET LOCAL enable_bitmapscan = off",
)
GOAL_MS = 5.0  # the server-time goal for a viewport page at a million events


def count_stmt(f: EventFilter) -> Executable:
    """The statement ``count_events`` sends (it does not expose it)."""
    return select(func.count()).select_from(Event).where(*_conditions(f, "postgresql"))


def run_raw(
    session: Session, stmt: Executable, *, scan: bool = False, scalar: bool = False
) -> tuple[float, Any]:
    """(ms, result) of ``stmt`` through the Core connection (rows, no ORM objects).

    With ``scan``, index use is switched off first (outside the timing) for this transaction only.
    """
    conn = session.connection()
    if scan:
        for setting in FULL_SCAN:
            conn.exec_driver_sql(setting)
    result = timed(lambda: conn.execute(stmt).scalar() if scalar else conn.execute(stmt).all())
    session.rollback()  # ends the SET LOCALs with the transaction
    return result


def _compiled(session: Session, stmt: Executable) -> tuple[str, dict[str, Any]]:
    compiled = stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True})
    return str(compiled), dict(compiled.params)


def server_ms(session: Session, stmt: Executable) -> float:
    """Planning + execution time the server reports for ``stmt`` (EXPLAIN ANALYZE, TIMING OFF)."""
    sql, params = _compiled(session, stmt)
    raw = session.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}", params)
    doc = raw.scalar()
    report = (json.loads(doc) if isinstance(doc, str) else doc)[0]
    session.rollback()
    return float(report["Planning Time"]) + float(report["Execution Time"])


def explain(session: Session, sql: str, params: Any = None, *, scan: bool = False) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement as text (the run's actual plan and timings)."""
    conn = session.connection()
    if scan:
        for setting in FULL_SCAN:
            conn.exec_driver_sql(setting)
    rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params or {}).all()
    session.rollback()
    return "\n".join(row[0] for row in rows)


def bench_queries(app: Flask, reps: int) -> tuple[list[Row], dict[str, str], float, list[int]]:
    """(a) the viewport-and-month query on PostGIS: ours vs a full scan, window by window.

    As on SQLite, every window runs every variant in turn (so load from other processes hits them
    alike) and the first window runs once more, untimed, to warm the caches.
    """
    fs = windows(reps)
    page: dict[str, list[float]] = {"orm": [], "raw": [], "server": [], "scan": []}
    count: dict[str, list[float]] = {k: [] for k in page}
    one_query: list[float] = []
    one_server: list[float] = []
    matched: list[int] = []
    mismatches = 0
    with app.app_context():
        session = db.session
        for i, f in enumerate([fs[0], *fs]):
            t_page, _ = timed(lambda f=f: session.scalars(filtered_events(session, f)).all())
            t_count, ours = timed(lambda f=f: count_events(session, f))
            session.remove()
            t_one, (_, together) = timed(lambda f=f: page_and_count(session, f, keys_only=True))
            session.remove()
            t_one_server = server_ms(session, counted_page(session, f, keys_only=True))
            page_stmt, n_stmt = filtered_events(session, f), count_stmt(f)
            t_scan_count, scanned = run_raw(session, n_stmt, scan=True, scalar=True)
            timings = {
                "orm": (t_page, t_count),
                "raw": (run_raw(session, page_stmt)[0], run_raw(session, n_stmt, scalar=True)[0]),
                "server": (server_ms(session, page_stmt), server_ms(session, n_stmt)),
                "scan": (run_raw(session, page_stmt, scan=True)[0], t_scan_count),
            }
            session.remove()
            if i:
                for key, (t_p, t_c) in timings.items():
                    page[key].append(t_p)
                    count[key].append(t_c)
                one_query.append(t_one)
                one_server.append(t_one_server)
                matched.append(ours)
                mismatches += len({scanned, ours, together}) > 1
            print(f"\r  (a) window {i}/{reps}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)

        everything = EventFilter(limit=1000)
        t_all = repeat(lambda: count_events(session, everything), reps)
        session.remove()
        t_all_scan = repeat(lambda: run_raw(session, count_stmt(everything), scan=True, scalar=True), reps)
        # repeat() times the whole call, SET LOCALs included: three round trips beside a full scan.
        session.remove()
        plans = first_window_plans(session, fs[0])
        session.remove()

    if mismatches:
        warn(f"postgis: {mismatches} windows matched different counts in ours and the full scan")
    total, med = summarise(page, count)
    rows = [
        *a1_rows(total, "full scan (index/bitmap scans off)"),
        *a3_a4_rows(med, matched, mismatches, "the full scan"),
        Row(
            f"a5 count_events, no filter (n={len(t_all)}) — vs the same count, full scan "
            f"(n={len(t_all_scan)})",
            median_p95(t_all)[0],
            median_p95(t_all_scan)[0],
        ),
        *a7_rows(med),
        Row("a7 page+count SQL, raw, median — vs full scan", total["raw"][0], total["scan"][0]),
        Row(
            "a8 server time (EXPLAIN ANALYZE planning+execution) of the page, median — vs the 5 ms goal",
            med["server"][0],
            GOAL_MS,
        ),
        Row("a8 same, of the count, median — vs the 5 ms goal", med["server"][1], GOAL_MS),
        Row("a8 same, page+count, median — vs the 5 ms goal", total["server"][0], GOAL_MS),
        Row("a8 same, page+count, p95 — vs the 5 ms goal", total["server"][1], GOAL_MS),
        a9_row(one_query, total),
        Row(
            "a10 server time (EXPLAIN ANALYZE) of page_and_count's one statement (page and count), "
            "median — vs the 5 ms goal",
            median_p95(one_server)[0],
            GOAL_MS,
        ),
        Row("a10 same, p95 — vs the 5 ms goal", median_p95(one_server)[1], GOAL_MS),
    ]
    return rows, plans, total["orm"][0], matched


def first_window_plans(session: Session, f: EventFilter) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the first window's statements and of the unfiltered ones."""
    everything = EventFilter(limit=1000)
    statements: dict[str, tuple[Executable, bool]] = {
        "ours: filtered_events (viewport + month)": (filtered_events(session, f), False),
        "ours: count_events (viewport + month)": (count_stmt(f), False),
        "ours: page_and_count's one query (keys + count(*) OVER ()), as /api/events sends it": (
            filtered_events(session, f).with_only_columns(Event.pk).add_columns(func.count().over()),
            False,
        ),
        "baseline: filtered_events, index and bitmap scans off (full scan)": (
            filtered_events(session, f),
            True,
        ),
        "baseline: count_events, index and bitmap scans off (full scan)": (count_stmt(f), True),
        "ours: filtered_events, no filter, limit 1000": (filtered_events(session, everything), False),
        "ours: count_events, no filter": (count_stmt(everything), False),
    }
    plans = {}
    for name, (stmt, scan) in statements.items():
        sql, params = _compiled(session, stmt)
        plans[name] = explain(session, sql, params, scan=scan)
    return plans


def request_plans(app: Flask, url: str) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of every SELECT that one GET of ``url`` sends, in order.

    The statements are recorded as the app sends them (through an engine event), so the plans are
    those of the code under test, not of a copy of its SQL.
    """
    client = app.test_client()
    client.get(url)  # warm: the first request also loads categories and the like
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and statement.strip().upper() != "SELECT 1":
            sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert response.status_code == 200, response.data[:300]
        plans = {}
        for i, (sql, params) in enumerate(sent, 1):
            first_line = " ".join(sql.split())[:90]
            plans[f"GET {url}, statement {i}: `{first_line}…`"] = explain(db.session, sql, params)
        db.session.remove()
    return plans


def versions(app: Flask) -> dict[str, str]:
    """Server, PostGIS and GEOS versions, and the settings that most change the figures."""
    with app.app_context():
        conn = db.session.connection()
        found = {
            "PostgreSQL": conn.exec_driver_sql("SHOW server_version").scalar() or "?",
            "PostGIS": conn.exec_driver_sql("SELECT postgis_lib_version()").scalar() or "?",
            "GEOS": conn.exec_driver_sql("SELECT postgis_geos_version()").scalar() or "?",
        }
        names = ("shared_buffers", "work_mem", "jit", "max_parallel_workers_per_gather", "random_page_cost")
        settings = {name: conn.exec_driver_sql(f"SHOW {name}").scalar() for name in names}
        size = conn.exec_driver_sql("SELECT pg_size_pretty(pg_database_size(current_database()))").scalar()
        db.session.remove()
    found["settings"] = ", ".join(f"{k}={v}" for k, v in settings.items()) + f"; database size {size}"
    return found

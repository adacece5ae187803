"""(a) The viewport-and-month query, on SQLite and on PostGIS: one set of statements, two plan forcers.

Both databases are asked the same windows (``measure.windows``) with the same statements, built by
the app itself (``filtered_events``, the count ``count_events`` sends, and ``counted_page``, the one
statement of ``page_and_count``), and show the plans of the same list (:func:`plan_statements`).
What differs is only how a backend forces its baseline and what "server time" means there, and
that is all each :class:`Dialect` holds:

- SQLite has index hints, so its baselines are the same filter with ``NOT INDEXED`` (a full scan,
  without the R*Tree) and ``INDEXED BY`` the date index, and, as a reference, the app's own SQL
  with ``NOT INDEXED`` (the R*Tree must drive). It runs in the process, so the raw statement's
  time is already the server time.
- PostgreSQL has no hints, so the baseline is the very same statement with index, index-only and
  bitmap scans switched off for its transaction (``SET LOCAL``): the planner then has to read the
  whole table (in parallel, as a large scan would be in production), and the ratio is what the
  GiST indexes buy. Server time is the planning + execution time ``EXPLAIN (ANALYZE, TIMING OFF)``
  reports (no per-node clocks, so next to no overhead), without the round trip and row decoding.

Every window runs every variant in turn, so load from other processes hits all of them alike; the
first window runs once more, untimed, to warm the caches.
"""

from __future__ import annotations

import json
import re
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, ClassVar

from flask import Flask
from sqlalchemy import Select, event, func, select, text
from sqlalchemy.orm import Session

from timeline.store.db import db
from timeline.store.filters import EventFilter
from timeline.store.models import Event
from timeline.store.queries import conditions, count_events, counted_page, filtered_events, page_and_count

from .backends import app_session, end_session
from .measure import Row, median_p95, repeat, timed, warn, windows

GOAL_MS = 5.0  # the server-time goal for a viewport page at a million events
Pair = tuple[float, float]  # (page ms, count ms), or (median, p95)


# ---------------------------------------------------------------------------- the statements


def count_statement(session: Session, f: EventFilter) -> Select[Any]:
    """The statement ``count_events`` sends for a filter with a place or time (it does not expose it)."""
    dialect = session.get_bind().dialect.name
    return select(func.count()).select_from(Event).where(*conditions(f, dialect))


@dataclass(frozen=True)
class Statements:
    """What the app sends for one window: the page, its count, and both in one (``/api/events``)."""

    page: Select[Any]
    count: Select[Any]
    one: Select[Any]

    @classmethod
    def of(cls, session: Session, f: EventFilter) -> Statements:
        return cls(
            filtered_events(session, f), count_statement(session, f), counted_page(session, f, keys_only=True)
        )


def plan_statements(session: Session, f: EventFilter) -> dict[str, Select[Any]]:
    """The statements whose plans every backend's section shows: window ``f``'s and unfiltered ones."""
    window = Statements.of(session, f)
    everything = EventFilter(limit=1000)
    return {
        "ours: filtered_events (viewport + month)": window.page,
        "ours: count_events (viewport + month)": window.count,
        "ours: page_and_count's one query (keys + count(*) OVER ()), as /api/events sends it": window.one,
        "ours: filtered_events, no filter, limit 1000": filtered_events(session, everything),
        "ours: count_events, no filter": count_statement(session, everything),
        "ours: timeline-ordered listing of everything, drafts included": filtered_events(
            session, EventFilter(limit=None, include_drafts=True)
        ),
    }


@dataclass
class Measured:
    """What the window loop collected, for each backend's rows."""

    total: dict[str, Pair]  # per variant: (median, p95) of page + count per window
    med: dict[str, Pair]  # per variant: (page median, count median)
    one_query: list[float]  # a9: page_and_count as /api/events calls it
    one_server: list[float]  # a10: its one statement's server time
    matched: list[int]
    mismatches: int
    everything: list[float]  # a5: count_events without a filter
    everything_baseline: list[float]


def summarise(
    page: dict[str, list[float]], count: dict[str, list[float]]
) -> tuple[dict[str, Pair], dict[str, Pair]]:
    """Per variant: (median, p95) of page+count per window, and (page median, count median)."""
    total = {k: median_p95([p + c for p, c in zip(page[k], count[k], strict=True)]) for k in page}
    med = {k: (median_p95(page[k])[0], median_p95(count[k])[0]) for k in page}
    return total, med


# ---------------------------------------------------------------------------- rows both backends print


def a1_rows(m: Measured, scan: str) -> list[Row]:
    """Ours (ORM) page+count against the backend's full scan, named ``scan``."""
    return [
        Row(f"a1 viewport+month page+count, median — vs {scan}", m.total["orm"][0], m.total["scan"][0]),
        Row(f"a1 viewport+month page+count, p95 — vs {scan}", m.total["orm"][1], m.total["scan"][1]),
    ]


def a3_a4_rows(m: Measured, compared: str) -> list[Row]:
    """Count and page alone against the full scan, and the events matched (equal to ``compared``)."""
    mean = sum(m.matched) / len(m.matched)
    return [
        Row("a3 count_events alone, median — vs full-scan count", m.med["orm"][1], m.med["scan"][1]),
        Row(
            "a3 filtered_events page (ORM, 100 rows), median — vs full-scan page",
            m.med["orm"][0],
            m.med["scan"][0],
        ),
        Row(
            f"a4 events matched per window, mean — vs {compared} (must be equal)",
            mean,
            None if m.mismatches else mean,
            "events",
        ),
    ]


def a7_rows(m: Measured) -> list[Row]:
    """The app's SQL run raw (no ORM), page and count alone, against the full scan."""
    return [
        Row(
            "a7 page SQL alone, raw (no ORM, 100 rows), median — vs full-scan page",
            m.med["raw"][0],
            m.med["scan"][0],
        ),
        Row("a7 count SQL alone, raw, median — vs full-scan count", m.med["raw"][1], m.med["scan"][1]),
    ]


def a9_row(m: Measured) -> Row:
    """page_and_count as /api/events calls it, against the full scan's page+count."""
    return Row(
        "a9 page_and_count (keys + count(*) OVER () in one query, as /api/events), median "
        "— vs full-scan page+count",
        median_p95(m.one_query)[0],
        m.total["scan"][0],
    )


def a10_rows(m: Measured, how: str) -> list[Row]:
    """page_and_count's one statement, its server time measured ``how``, against the 5 ms goal."""
    median, p95 = median_p95(m.one_server)
    return [
        Row(f"a10 {how} (page and count), median — vs the 5 ms goal", median, GOAL_MS),
        Row("a10 same, p95 — vs the 5 ms goal", p95, GOAL_MS),
    ]


# ---------------------------------------------------------------------------- how each backend forces plans


class Dialect(ABC):
    """How one database runs the baselines, reads server time and explains plans."""

    name: ClassVar[str]
    variants: ClassVar[tuple[str, ...]]  # timed per window besides "orm"
    compared: ClassVar[str]  # what a4's count is checked against

    @abstractmethod
    def time_variants(
        self, session: Session, f: EventFilter, s: Statements
    ) -> tuple[dict[str, Pair], set[int]]:
        """(page ms, count ms) per variant for window ``f``, and the counts the variants found."""

    @abstractmethod
    def server_time(self, session: Session, stmt: Select[Any]) -> float:
        """Milliseconds the database itself spends on ``stmt`` (what the 5 ms goal speaks of)."""

    @abstractmethod
    def everything_baseline(self, session: Session, reps: int) -> list[float]:
        """a5's baseline: the unfiltered count without the app's shortcut."""

    @abstractmethod
    def explain(self, session: Session, sql: str, params: Any = None) -> str:
        """The plan of one statement (SQL and driver parameters) as the database reports it."""

    @abstractmethod
    def explain_statement(self, session: Session, stmt: Select[Any]) -> str:
        """The plan of a statement the app built."""

    @abstractmethod
    def baseline_plans(self, session: Session, f: EventFilter) -> dict[str, str]:
        """The plans of this backend's baselines for window ``f``."""

    @abstractmethod
    def rows(self, m: Measured) -> list[Row]:
        """The (a) rows, each beside this backend's baseline."""


class Sqlite(Dialect):
    """Index hints force the plans; the raw statement's time is the server time (in process)."""

    name = "sqlite"
    variants = ("raw", "rtree", "scan", "date")
    compared = "the baselines"
    FULL_SCAN = "NOT INDEXED"
    DATE_INDEX = "INDEXED BY ix_events_status_first_day"

    @staticmethod
    def sql(session: Session, stmt: Select[Any], hint: str = "") -> str:
        """A statement as literal SQL, optionally with an index hint on ``events``."""
        sql = str(stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
        return re.sub(r"\bFROM events\b", f"FROM events {hint}", sql, count=1) if hint else sql

    def baseline_sql(self, session: Session, f: EventFilter, hint: str) -> tuple[str, str]:
        """The app's own conditions for ``f`` minus the R*Tree subquery (it is added for SQLite only)."""
        conds = conditions(f, "no-rtree")
        page = select(Event.__table__).where(*conds).order_by(Event.first_day, Event.last_day, Event.id)
        count = select(func.count()).select_from(Event).where(*conds)
        return self.sql(session, page.limit(f.limit), hint), self.sql(session, count, hint)

    def sql_variants(self, session: Session, f: EventFilter, s: Statements) -> dict[str, tuple[str, str]]:
        """(page SQL, count SQL) per plan: the app's SQL raw, forced R*Tree-first, and the baselines."""
        return {
            "raw": (self.sql(session, s.page), self.sql(session, s.count)),
            # NOT INDEXED still allows rowid lookups, so the R*Tree's IN list must drive the search.
            "rtree": (self.sql(session, s.page, self.FULL_SCAN), self.sql(session, s.count, self.FULL_SCAN)),
            "scan": self.baseline_sql(session, f, self.FULL_SCAN),
            "date": self.baseline_sql(session, f, self.DATE_INDEX),
        }

    def time_variants(
        self, session: Session, f: EventFilter, s: Statements
    ) -> tuple[dict[str, Pair], set[int]]:
        timings, found = {}, set()
        for key, (page_sql, count_sql) in self.sql_variants(session, f, s).items():
            t_page, _ = timed(partial(self.rows_of, session, page_sql))
            t_count, n = timed(partial(self.scalar_of, session, count_sql))
            found.add(n)
            timings[key] = (t_page, t_count)
        return timings, found

    @staticmethod
    def rows_of(session: Session, sql: str) -> list[Any]:
        return list(session.execute(text(sql)).all())

    @staticmethod
    def scalar_of(session: Session, sql: str) -> Any:
        return session.execute(text(sql)).scalar()

    def server_time(self, session: Session, stmt: Select[Any]) -> float:
        return float(timed(partial(self.rows_of, session, self.sql(session, stmt)))[0])

    def everything_baseline(self, session: Session, reps: int) -> list[float]:
        published = text("SELECT count(*) FROM events WHERE status = 'published'")
        samples = repeat(lambda: session.execute(published).scalar(), reps)
        if session.execute(published).scalar() != count_events(session, EventFilter(limit=1000)):
            warn("a5: the covering-index count and count_events differ (deleted events?)")
        return samples

    def explain(self, session: Session, sql: str, params: Any = None) -> str:
        rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params or ()).all()
        return "\n".join(row[3] for row in rows)

    def explain_statement(self, session: Session, stmt: Select[Any]) -> str:
        return self.explain(session, self.sql(session, stmt))

    def baseline_plans(self, session: Session, f: EventFilter) -> dict[str, str]:
        variants = self.sql_variants(session, f, Statements.of(session, f))
        return {
            "reference: filtered_events with events NOT INDEXED (R*Tree drives)": self.explain(
                session, variants["rtree"][0]
            ),
            "baseline: full scan (NOT INDEXED, no R*Tree)": self.explain(session, variants["scan"][0]),
            "baseline: date index only": self.explain(session, variants["date"][0]),
        }

    def rows(self, m: Measured) -> list[Row]:
        total = m.total
        return [
            *a1_rows(m, "full scan"),
            Row(
                "a2 viewport+month page+count, median — vs date index only", total["orm"][0], total["date"][0]
            ),
            Row("a2 viewport+month page+count, p95 — vs date index only", total["orm"][1], total["date"][1]),
            *a3_a4_rows(m, self.compared),
            Row(
                f"a5 count_events, no filter (n={len(m.everything)}) — vs count of status='published' "
                f"on its index (n={len(m.everything_baseline)})",
                median_p95(m.everything)[0],
                median_p95(m.everything_baseline)[0],
            ),
            Row(
                "a6 app's SQL run raw (no ORM) page+count, median — vs same SQL, events NOT INDEXED "
                "(R*Tree-driven plan)",
                total["raw"][0],
                total["rtree"][0],
            ),
            Row("a6 same, p95", total["raw"][1], total["rtree"][1]),
            # In-process SQLite: the raw SQL time is the server time the 5 ms goal speaks of.
            *a7_rows(m),
            Row("a7 page+count SQL, raw, median — vs the 5 ms goal", total["raw"][0], GOAL_MS),
            a9_row(m),
            *a10_rows(m, "server time: page_and_count's one statement run raw"),
        ]


class Postgis(Dialect):
    """``SET LOCAL`` switches index use off for the baseline; EXPLAIN ANALYZE gives server time."""

    name = "postgis"
    variants = ("raw", "server", "scan")
    compared = "the full scan"
    # Switched off for the baseline's transaction only; a sequential scan is all that is left.
    FULL_SCAN = (
        "SET LOCAL enable_indexscan = off",
        "SET LOCAL enable_indexonlyscan = off",
        "SET LOCAL enable_bitmapscan = off",
    )

    def run(
        self, session: Session, stmt: Select[Any], *, scan: bool = False, scalar: bool = False
    ) -> tuple[float, Any]:
        """(ms, result) of ``stmt`` through the Core connection (rows, no ORM objects).

        With ``scan``, index use is switched off first (outside the timing) for this transaction only.
        """
        conn = session.connection()
        if scan:
            for setting in self.FULL_SCAN:
                conn.exec_driver_sql(setting)
        result = timed(lambda: conn.execute(stmt).scalar() if scalar else conn.execute(stmt).all())
        session.rollback()  # ends the SET LOCALs with the transaction
        return result

    @staticmethod
    def compiled(session: Session, stmt: Select[Any]) -> tuple[str, dict[str, Any]]:
        compiled = stmt.compile(
            dialect=session.get_bind().dialect, compile_kwargs={"render_postcompile": True}
        )
        return str(compiled), dict(compiled.params)

    def server_time(self, session: Session, stmt: Select[Any]) -> float:
        """Planning + execution time the server reports for ``stmt`` (EXPLAIN ANALYZE, TIMING OFF)."""
        sql, params = self.compiled(session, stmt)
        raw = session.connection().exec_driver_sql(
            f"EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) {sql}", params
        )
        doc = raw.scalar()
        assert doc is not None
        report = (json.loads(doc) if isinstance(doc, str) else doc)[0]
        session.rollback()
        return float(report["Planning Time"]) + float(report["Execution Time"])

    def time_variants(
        self, session: Session, f: EventFilter, s: Statements
    ) -> tuple[dict[str, Pair], set[int]]:
        t_scan_count, scanned = self.run(session, s.count, scan=True, scalar=True)
        timings = {
            "raw": (self.run(session, s.page)[0], self.run(session, s.count, scalar=True)[0]),
            "server": (self.server_time(session, s.page), self.server_time(session, s.count)),
            "scan": (self.run(session, s.page, scan=True)[0], t_scan_count),
        }
        return timings, {scanned}

    def everything_baseline(self, session: Session, reps: int) -> list[float]:
        # repeat() times the whole call, SET LOCALs included: three round trips beside a full scan.
        stmt = count_statement(session, EventFilter(limit=1000))
        return repeat(lambda: self.run(session, stmt, scan=True, scalar=True), reps)

    def explain(self, session: Session, sql: str, params: Any = None, *, scan: bool = False) -> str:
        """EXPLAIN (ANALYZE, BUFFERS) of one statement as text (the run's actual plan and timings)."""
        conn = session.connection()
        if scan:
            for setting in self.FULL_SCAN:
                conn.exec_driver_sql(setting)
        rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params or {}).all()
        session.rollback()
        return "\n".join(row[0] for row in rows)

    def explain_statement(self, session: Session, stmt: Select[Any], *, scan: bool = False) -> str:
        sql, params = self.compiled(session, stmt)
        return self.explain(session, sql, params, scan=scan)

    def baseline_plans(self, session: Session, f: EventFilter) -> dict[str, str]:
        s = Statements.of(session, f)
        return {
            "baseline: filtered_events, index and bitmap scans off (full scan)": self.explain_statement(
                session, s.page, scan=True
            ),
            "baseline: count_events, index and bitmap scans off (full scan)": self.explain_statement(
                session, s.count, scan=True
            ),
        }

    def rows(self, m: Measured) -> list[Row]:
        total, med = m.total, m.med
        return [
            *a1_rows(m, "full scan (index/bitmap scans off)"),
            *a3_a4_rows(m, self.compared),
            Row(
                f"a5 count_events, no filter (n={len(m.everything)}) — vs the same count, full scan "
                f"(n={len(m.everything_baseline)})",
                median_p95(m.everything)[0],
                median_p95(m.everything_baseline)[0],
            ),
            *a7_rows(m),
            Row("a7 page+count SQL, raw, median — vs full scan", total["raw"][0], total["scan"][0]),
            Row(
                "a8 server time (EXPLAIN ANALYZE planning+execution) of the page, median — vs the 5 ms goal",
                med["server"][0],
                GOAL_MS,
            ),
            Row("a8 same, of the count, median — vs the 5 ms goal", med["server"][1], GOAL_MS),
            Row("a8 same, page+count, median — vs the 5 ms goal", total["server"][0], GOAL_MS),
            Row("a8 same, page+count, p95 — vs the 5 ms goal", total["server"][1], GOAL_MS),
            a9_row(m),
            *a10_rows(m, "server time (EXPLAIN ANALYZE) of page_and_count's one statement"),
        ]


def orm_page(session: Session, f: EventFilter) -> Sequence[Any]:
    """The page as the ORM loads it: Event objects."""
    return session.scalars(filtered_events(session, f)).all()


def dialect_of(session: Session) -> Dialect:
    return Postgis() if session.get_bind().dialect.name == "postgresql" else Sqlite()


# ---------------------------------------------------------------------------- the measurement


def bench_queries(app: Flask, reps: int) -> tuple[list[Row], dict[str, str], float, list[int]]:
    """(a) window by window: ours (ORM, raw, one statement) against the backend's baselines.

    Returns the rows, the plans (EXPLAIN of the first window's statements and the unfiltered ones),
    the ORM page+count median (b1's baseline) and the events each window matched (b1's check).
    """
    fs = windows(reps)
    with app.app_context():
        session = app_session()
        dialect = dialect_of(session)
        page: dict[str, list[float]] = {k: [] for k in ("orm", *dialect.variants)}
        count: dict[str, list[float]] = {k: [] for k in page}
        one_query: list[float] = []
        one_server: list[float] = []
        matched: list[int] = []
        mismatches = 0
        for i, f in enumerate([fs[0], *fs]):
            t_page, _ = timed(partial(orm_page, session, f))
            t_count, ours = timed(partial(count_events, session, f))
            end_session()
            t_one, (_, together) = timed(partial(page_and_count, session, f, keys_only=True))
            end_session()
            s = Statements.of(session, f)
            t_one_server = dialect.server_time(session, s.one)
            timings, found = dialect.time_variants(session, f, s)
            end_session()
            if i:
                timings["orm"] = (t_page, t_count)
                for key, (t_p, t_c) in timings.items():
                    page[key].append(t_p)
                    count[key].append(t_c)
                one_query.append(t_one)
                one_server.append(t_one_server)
                matched.append(ours)
                mismatches += len({ours, together, *found}) > 1
            print(f"\r  (a) window {i}/{reps}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)

        everything = EventFilter(limit=1000)
        t_all = repeat(lambda: count_events(session, everything), reps)
        end_session()
        t_all_baseline = dialect.everything_baseline(session, reps)
        end_session()
        plans = {
            name: dialect.explain_statement(session, stmt)
            for name, stmt in plan_statements(session, fs[0]).items()
        }
        plans.update(dialect.baseline_plans(session, fs[0]))
        end_session()

    if mismatches:
        warn(f"{mismatches} windows matched different counts in ours and {dialect.compared}")
    total, med = summarise(page, count)
    m = Measured(total, med, one_query, one_server, matched, mismatches, t_all, t_all_baseline)
    return dialect.rows(m), plans, total["orm"][0], matched


def request_plans(app: Flask, url: str) -> dict[str, str]:
    """The plan of every SELECT that one GET of ``url`` sends, in order (e1/e2's statements).

    The statements are recorded as the app sends them (through an engine event), so the plans are
    those of the code under test, not of a copy of its SQL. PostgreSQL's are EXPLAIN (ANALYZE,
    BUFFERS), SQLite's EXPLAIN QUERY PLAN.
    """
    client = app.test_client()
    client.get(url)  # warm: the first request also loads categories and the like
    sent: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT") and statement.strip().upper() != "SELECT 1":
            sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
        listener: Callable[..., None] = record
        event.listen(engine, "before_cursor_execute", listener)
        try:
            response = client.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert response.status_code == 200, response.data[:300]
        dialect = dialect_of(app_session())
        plans = {}
        for i, (sql, params) in enumerate(sent, 1):
            first_line = " ".join(sql.split())[:90]
            plans[f"GET {url}, statement {i}: `{first_line}…`"] = dialect.explain(app_session(), sql, params)
        end_session()
    return plans

"""(r) Every request the map page makes, over HTTP, beside a naive baseline (issue 11, point 6).

``python -m bench.requests --events N --backend sqlite|postgis [--reps R] [--import-events M]``

The app runs as it is deployed: gunicorn on 127.0.0.1 (2 gthread workers, as ``make serve`` runs
them) on the suite's own database of N generated events (``bench.generate``, cached per N), with
the response cache off (``CACHE_URL=none``), so that every request is a real query, as it is for
each new viewport a visitor drags to. Each request is timed from outside, over one kept-alive
connection, after a warm-up: p50 and p90 of R samples.

The baseline of each row is the naive way to answer the same question, run in this process on the
same database in the same run (so it carries no HTTP, JSON or feature cost, which favours it): the
LIKE over every row for ``q`` (what ``q`` was before the full-text index), every match read through
the spatial index and grouped for clusters, counted with ``count(*) OVER ()`` and sorted for pages
(the app before migration 0012), ``OFFSET`` paging for a deep page, and one statement per entry
for the change feed (the lazy loading it had before). Each pair's answers are compared (events
matched, the page's ids) and a difference is a warning.

The generated rows carry no revisions, so the change feed would be empty: on first use, a few
thousand real edits go through the domain's own write path (``update_event``, ``set_status``,
``delete_event``, ``restore_event``, as the editor and the write API call it), which writes
revisions, the feature cache, the count tables and the search index as production does. Twenty of
the edits put a word found nowhere else (``RARE``) into a title: the rare-word search. The edits
are seeded and made once per database (they are skipped when revisions exist).

The import row is ``bench.importing``: ``timeline import FILE`` of a generated GeoJSON file in a
process of its own on a fresh database, its rate and peak RSS (the child's own ``VmHWM``), beside
the row-by-row import it replaced and, here, the generator's direct load of the same rows
(``executemany`` on SQLite, ``COPY`` on PostgreSQL, triggers on): the cost of the rows alone.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import Integer, bindparam, create_engine, event, func, insert, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from geodata.geometry import BBox
from timeline.store.filters import EventFilter

from . import DATA
from . import generate as gen
from .backends import Backend, Name, app_session, for_events, is_postgres, timeline_cli
from .measure import percentile, progress, warn
from .measure import windows as month_windows
from .search import BASELINE_TIMEOUT_S

EDITS = 2_000
RARE = "Zyxwortbeleg"  # in no generated event; the edits put it into RARE_EVENTS titles
RARE_EVENTS = 20
COMMON = "troops"
MONTH = ("2024-08-01", "2024-08-31")
YEAR = ("2024-03-15", "2025-03-14")
QUARTER = ("2024-09-01", "2024-11-30")
# What the map shows: a zoom-7 map of a 1366×768 screen around Kursk holds the whole region; the
# zoom-9 and "viewport" boxes are bench.windows' VIEWPORT (a zoom-9 map beside the side panel).
ZOOM7 = BBox(31.5, 48.6, 40.5, 54.0)
VIEWPORT = BBox(34.4, 50.6, 36.6, 51.9)
PAGES = 60
GOAL_MS = 50.0
BASELINE_BUDGET_S = 15.0  # a baseline stops taking samples after this long (at least one is taken)


def _bbox(b: BBox) -> str:
    return f"{b.min_lon},{b.min_lat},{b.max_lon},{b.max_lat}"


# --- the data: N generated events and a few thousand real edits ---------------------------------


def ensure_edits(url: str, edits: int = EDITS) -> int:
    """Real edits through the domain's write path, once per database; how many revisions there are."""
    from timeline import create_app
    from timeline.domain.accounts import create_user
    from timeline.domain.editing import delete_event, restore_event, set_status, update_event
    from timeline.domain.features import event_to_feature, parse_feature
    from timeline.store.db import db
    from timeline.store.models import Event, Revision, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CACHE_URL": "none"})
    with app.app_context():
        session = app_session()
        found = int(session.scalar(select(func.count()).select_from(Revision)) or 0)
        if found:
            return found
        progress(f"  {edits:,} edits through the domain's write path (once per database)")
        user = session.scalar(select(User).where(User.username == "bench-editor"))
        if user is None:
            user = create_user("bench-editor", "bench-editor-password-1", "admin")
            session.commit()
        rng = random.Random(gen.SEED + 11)
        total = int(session.scalar(select(func.max(Event.pk))) or 0)
        pks = rng.sample(range(1, total + 1), edits)
        ids = dict(session.execute(select(Event.pk, Event.id).where(Event.pk.in_(pks))).tuples().all())
        started = time.perf_counter()
        for i, pk in enumerate(pks):
            event_id = ids[pk]
            current = session.scalar(select(Event).where(Event.id == event_id))
            assert current is not None
            feature = event_to_feature(current)
            props = feature["properties"]
            props["title"] = (
                f"{RARE}: {props['title']}"[:120]
                if i < RARE_EVENTS
                else f"{props['title']} (corrected)"[:120]
            )
            if i % 10 == 3:
                props["description"] = f"{props['description']} Update: confirmed by a second source."
            update_event(db.session, event_id, parse_feature(feature), current.version, user)
            if i % 50 == 7:
                set_status(db.session, event_id, "draft", user)  # unpublished: "deleted" in the public feed
                set_status(db.session, event_id, "published", user)
            if i % 100 == 9:
                delete_event(db.session, event_id, user)
                restore_event(db.session, event_id, user)
            if i % 500 == 499:
                rate = (i + 1) / (time.perf_counter() - started)
                progress(f"    {i + 1:,}/{edits:,} edits ({rate:,.0f}/s)")
        found = int(session.scalar(select(func.count()).select_from(Revision)) or 0)
        session.close()
    if is_postgres(url):
        gen.vacuum_analyze(url)
    return found


# --- the client -----------------------------------------------------------------------------------


class Client:
    """One kept-alive HTTP connection to the server, as a browser holds one."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)

    def get(self, path: str) -> tuple[int, bytes]:
        for attempt in (0, 1):
            try:
                self.conn.request("GET", path, headers={"Accept": "application/json"})
                response = self.conn.getresponse()
                return response.status, response.read()
            except (http.client.HTTPException, OSError):
                self.conn.close()  # the server closed the kept-alive connection: once more on a new one
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def json(self, path: str) -> Any:
        status, body = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
        return json.loads(body)

    def timed(self, path: str) -> tuple[float, Any]:
        started = time.perf_counter()
        status, body = self.get(path)
        ms = (time.perf_counter() - started) * 1000
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {body[:300]!r}")
        return ms, json.loads(body)

    def close(self) -> None:
        self.conn.close()


def _path(url: str) -> str:
    """A link the API gave (absolute) as the path and query to ask for."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


# --- the naive baselines, in this process on the same database -------------------------------------


def _like_page(session: Session, f: EventFilter) -> tuple[list[str], int]:
    from .search import _like_page_and_count

    pks, n = _like_page_and_count(session, f)
    return pks, n


def _offset_page(session: Session, f: EventFilter, offset: int) -> tuple[list[str], int]:
    """Page ``offset // limit + 1`` by OFFSET over every match in timeline order, counted beside it."""
    from timeline.store.models import Event
    from timeline.store.queries import conditions

    dialect = session.get_bind().dialect.name
    stmt = (
        select(Event.id, func.count().over())
        .where(*conditions(f, dialect))
        .order_by(Event.first_day, Event.last_day, Event.id)
        .limit(f.limit)
        .offset(offset)
    )
    rows = session.execute(stmt).all()
    return [r[0] for r in rows], int(rows[0][1]) if rows else 0


def _old_page(session: Session, f: EventFilter) -> tuple[list[str], int]:
    from .windows import _old_page as old

    rows, n = old(session, f)
    return [r[3] for r in rows], n


def _old_clusters(session: Session, f: EventFilter, zoom: int) -> int:
    from .windows import _old_clusters as old

    return sum(c.count for c in old(session, f, zoom))


def _old_weekly(session: Session, f: EventFilter) -> int:
    from .windows import _old_weekly as old

    return sum(n for _, n in old(session, f))


def _changes_one_by_one(session: Session, limit: int) -> list[int]:
    """The change feed as it was: the page of revisions, then its event and its earlier public
    revisions looked up one statement at a time for each entry (the lazy loads)."""
    revisions = session.execute(
        text("SELECT id, event_pk, public FROM revisions WHERE id > 0 ORDER BY id LIMIT :n"), {"n": limit * 3}
    ).all()
    entries: list[int] = []
    event_id = text("SELECT id FROM events WHERE pk = :pk").bindparams(bindparam("pk", type_=Integer))
    earlier = text("SELECT count(*) FROM revisions WHERE event_pk = :pk AND id < :id AND public").bindparams(
        bindparam("pk", type_=Integer), bindparam("id", type_=Integer)
    )
    for rid, pk, public in revisions:
        session.execute(event_id, {"pk": pk}).scalar_one()
        before = bool(session.execute(earlier, {"pk": pk, "id": rid}).scalar_one())
        if public or before:
            entries.append(int(rid))
        if len(entries) > limit:
            break
    return entries[:limit]


# --- the rows -------------------------------------------------------------------------------------


@dataclass
class Question:
    """One row: the paths the page asks (cycled through), the baseline, and what must agree."""

    name: str
    paths: list[str]
    baseline: Callable[[], Any]
    answer: Callable[[Any], Any]  # of the API's JSON, comparable to the baseline's result
    base_answer: Callable[[Any], Any] = lambda r: r


def _events_answer(body: Any) -> tuple[list[str], int]:
    return [f["id"] for f in body["features"]], int(body["numberMatched"])


def questions(session: Session, client: Client, reps: int) -> list[Question]:
    """The rows of issue 11's table (and the page's other requests), with their baselines."""
    s = session
    summary = [("limit", "100"), ("view", "summary")]

    def events(*args: tuple[str, str]) -> str:
        return "/api/events?" + urlencode([*args, *summary])

    def clusters(*args: tuple[str, str]) -> str:
        return "/api/clusters?" + urlencode(list(args))

    month = EventFilter(start=_day(MONTH[0]), end=_day(MONTH[1]), limit=None)
    year = EventFilter(start=_day(YEAR[0]), end=_day(YEAR[1]), limit=None)
    view = EventFilter(bbox=VIEWPORT, limit=None)
    quarter = EventFilter(start=_day(QUARTER[0]), end=_day(QUARTER[1]), limit=100)
    # Page 60 of the quarter, reached as a visitor reaches it: following next links from page 1.
    quarter_path = events(("start", QUARTER[0]), ("end", QUARTER[1]))
    later = quarter_path
    for _ in range(PAGES - 1):
        later = _path(next(link["href"] for link in client.json(later)["links"] if link["rel"] == "next"))
    viewport_months = month_windows(reps)
    boxes = itertools.cycle(viewport_months)  # the baseline asks the same boxes, the first one first
    count_of = lambda body: int(body["numberMatched"])  # noqa: E731
    return [
        Question(f"q={RARE} (a rare word: {RARE_EVENTS} events), limit=100 — vs LIKE over every row",
                 [events(("q", RARE))], lambda: _like_page(s, EventFilter(text=RARE, limit=100)),
                 lambda b: b["numberMatched"], lambda r: r[1]),
        Question(f"q={COMMON} (a common word), limit=100 — vs LIKE over every row",
                 [events(("q", COMMON))], lambda: _like_page(s, EventFilter(text=COMMON, limit=100)),
                 lambda b: b["numberMatched"], lambda r: r[1]),
        Question("viewport without a window (bbox, limit=100) — vs count(*) OVER () and sort",
                 [events(("bbox", _bbox(VIEWPORT)))], lambda: _old_page(s, replace(view, limit=100)),
                 _events_answer),
        Question("clusters, one-month window (zoom 7) — vs every match grouped",
                 [clusters(("bbox", _bbox(ZOOM7)), ("start", MONTH[0]), ("end", MONTH[1]), ("zoom", "7"))],
                 lambda: _old_clusters(s, replace(month, bbox=ZOOM7), 7), count_of),
        Question("clusters, one-year window (zoom 7) — vs every match grouped",
                 [clusters(("bbox", _bbox(ZOOM7)), ("start", YEAR[0]), ("end", YEAR[1]), ("zoom", "7"))],
                 lambda: _old_clusters(s, replace(year, bbox=ZOOM7), 7), count_of),
        Question("clusters, viewport without a window (zoom 9) — vs every match grouped",
                 [clusters(("bbox", _bbox(VIEWPORT)), ("zoom", "9"))],
                 lambda: _old_clusters(s, view, 9), count_of),
        Question("three-month window, no bbox, page 1 (limit=100) — vs count(*) OVER () and sort",
                 [quarter_path], lambda: _old_page(s, quarter), _events_answer),
        Question(f"same, page {PAGES} through next links — vs OFFSET {(PAGES - 1) * 100:,}",
                 [later], lambda: _offset_page(s, quarter, (PAGES - 1) * 100),
                 lambda b: [f["id"] for f in b["features"]], lambda r: r[0]),
        Question("viewport + one month (limit=100, 30 random 0.5°×0.26° boxes) — vs count(*) OVER ()",
                 [events(("bbox", _bbox(w.bbox)), ("start", str(w.start)), ("end", str(w.end)))  # type: ignore[arg-type]
                  for w in viewport_months],
                 lambda: _old_page(s, next(boxes)), _events_answer),
        Question("/api/changes?limit=100 — vs one statement per entry",
                 ["/api/changes?limit=100"], lambda: _changes_one_by_one(s, 100),
                 lambda b: [c["cursor"] for c in b["changes"]]),
        Question("the page's total (/api/clusters?zoom=0) — vs count of every published row",
                 [clusters(("zoom", "0"))], lambda: _old_clusters(s, EventFilter(limit=None), 0), count_of),
        Question("density strip, one-year window (/api/density) — vs every match grouped by week",
                 ["/api/density?" + urlencode([("start", YEAR[0]), ("end", YEAR[1])])],
                 lambda: _old_weekly(s, year), lambda b: sum(w["count"] for w in b["weeks"])),
    ]  # fmt: skip


def _day(iso: str) -> Any:
    from datetime import date

    return date.fromisoformat(iso)


def fmt(ms: float | None) -> str:
    return "—" if ms is None else f"{ms:,.1f} ms" if ms >= 10 else f"{ms:,.2f} ms"


def _baseline_samples(fn: Callable[[], Any], reps: int) -> tuple[list[float], Any]:
    """Up to ``reps`` timings of a baseline (after one warm-up call that is its first answer),
    fewer once BASELINE_BUDGET_S is spent: a LIKE over a million rows takes seconds each."""
    started = time.perf_counter()
    first = fn()
    warm = (time.perf_counter() - started) * 1000
    samples: list[float] = []
    spent = warm
    while len(samples) < reps and (not samples or spent < BASELINE_BUDGET_S * 1000):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
        spent += samples[-1]
    return samples, first


def measure(backend: Backend, reps: int, logs: Path) -> list[str]:
    """The table's lines (markdown) for the requests, served by gunicorn on ``backend``."""
    from .servers import gunicorn

    env = {
        "DATABASE_URL": backend.url,
        "CACHE_URL": "none",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench"),
    }
    lines = [
        "| request | ours p50 | ours p90 | baseline p50 | baseline p90 | baseline / ours | p90 ≤ 50 ms |",
        "|---|--:|--:|--:|--:|--:|:-:|",
    ]
    app = backend.app()
    with (
        gunicorn("wsgi:app", name=f"requests-{backend.name}", logs=logs, probe="/api/categories",
                 env=env, worker_class="gthread") as server,
        app.app_context(),
    ):  # fmt: skip
        client = Client(server.base)
        session = app_session()
        floor = [client.timed("/api/categories")[0] for _ in range(reps + 3)][3:]
        for q in questions(session, client, reps):
            for path in q.paths[:3]:
                client.timed(path)  # warm-up: the workers' caches and the database's pages
            samples, body = [], None
            for i in range(reps):
                ms, body = client.timed(q.paths[i % len(q.paths)])
                samples.append(ms)
            if len(q.paths) > 1:
                body = client.json(q.paths[0])
            try:
                base, base_result = _baseline_samples(q.baseline, max(3, reps // 3))
            except OperationalError:  # the LIKE on PostgreSQL, stopped by bench.search's timeout
                base, base_result = [BASELINE_TIMEOUT_S * 1000.0], None
                warn(f"{q.name}: the baseline was stopped after {BASELINE_TIMEOUT_S} s (a lower bound)")
            session.rollback()
            if base_result is not None and q.answer(body) != q.base_answer(base_result):
                ours, theirs = q.answer(body), q.base_answer(base_result)
                warn(f"{q.name}: ours answered {ours!r:.100}, baseline {theirs!r:.100}")
            o50, o90 = percentile(samples, 50), percentile(samples, 90)
            b50, b90 = percentile(base, 50), percentile(base, 90)
            ratio = f"{b50 / o50:,.1f}×" if o50 and b50 else "—"
            ok = "yes" if o90 is not None and o90 <= GOAL_MS else "**no**"
            lines.append(f"| {q.name} | {fmt(o50)} | {fmt(o90)} | {fmt(b50)} | {fmt(b90)} | {ratio} | {ok} |")
            print(lines[-1], flush=True)
        lines.append(
            f"| floor: GET /api/categories (no query worth the name) | {fmt(percentile(floor, 50))} | "
            f"{fmt(percentile(floor, 90))} | — | — | — | — |"
        )
        print(lines[-1], flush=True)
        client.close()
        session.close()
    return lines


# --- the import row -------------------------------------------------------------------------------


def _direct_load_rate(backend: Backend, n: int) -> float:
    """Rows per second of the generator's own load of the same N rows into a fresh database:
    ``executemany`` (SQLite) or ``COPY`` (PostgreSQL), row triggers on, no checking, no cache."""
    from timeline.store.models import Category

    from .importing import _fresh

    url = _fresh(backend, "import_direct")
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", gen._bulk_pragmas)
    else:
        event.listen(engine, "connect", gen._bulk_session)
    started = time.perf_counter()
    with engine.connect() as conn:
        conn.execute(insert(gen.table_of(Category)), gen.load_categories())
        conn.commit()
        load = gen.copy_all if engine.dialect.name == "postgresql" else gen.insert_all
        load(conn, n, gen.Generator(), random.Random(gen.SEED + 1))
    seconds = time.perf_counter() - started
    engine.dispose()
    if backend.name == "postgis":
        gen.reset_postgres(url)
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DATA / 'import_direct.sqlite'}{suffix}").unlink(missing_ok=True)
    return n / seconds


def import_lines(backend: Backend, n: int) -> list[str]:
    """``timeline import`` of an N-feature file: rate and peak RSS, beside the baselines."""
    from .importing import bench_import

    rows = {r.measurement.split(" ", 1)[0]: r for r in bench_import(backend, n)}
    progress(f"  direct load of the same {n:,} rows (the baseline of the rows alone)")
    direct = _direct_load_rate(backend, n)
    i1, i2, i3 = rows["i1"], rows["i2"], rows["i3"]
    goal = 20_000 if backend.name == "sqlite" else 10_000
    direct_name = "COPY" if backend.name == "postgis" else "executemany"
    return [
        "| import | ours | baseline | baseline / ours | goal |",
        "|---|--:|--:|--:|--:|",
        f"| `timeline import` of {n:,} features, events/s — vs row by row (old way) | {i1.ours:,.0f} /s | "
        f"{i1.baseline:,.0f} /s | {i1.baseline / i1.ours:.3g} | ≥ {goal:,} /s |",  # type: ignore[operator]
        f"| same — vs the generator's direct {direct_name} of the rows (no checks) | {i1.ours:,.0f} /s | "
        f"{direct:,.0f} /s | {direct / i1.ours:.3g} | |",  # type: ignore[operator]
        f"| peak RSS of the import (VmHWM of the child) — vs row by row on its slice | {i2.ours:,.0f} MB | "
        f"{i2.baseline:,.0f} MB | {i2.baseline / i2.ours:.3g} | < 300 MB |",  # type: ignore[operator]
        f"| `timeline import --dry-run`, events/s — vs json + check_collection | {i3.ours:,.0f} /s | "
        f"{i3.baseline:,.0f} /s | {i3.baseline / i3.ours:.3g} | same as the import |",  # type: ignore[operator]
    ]


def load_average() -> str:
    with open("/proc/loadavg", encoding="ascii") as f:
        return " ".join(f.read().split()[:3])


def run(name: Name, args: argparse.Namespace) -> list[str]:
    """The section for one backend: the requests' table and the import's, as markdown lines."""
    backend = for_events(name, args.events)
    logs = DATA / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    out = [
        f"{backend.label}, {args.events:,} events, {args.reps} samples per row after a warm-up; "
        f"started {started:%Y-%m-%d %H:%M} UTC, load average {load_average()}"
    ]
    if not args.skip_requests:
        gen.generate(args.events, backend.url)
        timeline_cli(backend.url, "db", "upgrade")  # a no-op unless the schema moved on
        revisions = ensure_edits(backend.url)  # through the write path of this code's schema
        progress(f"{backend.label}, {args.events:,} events, {revisions:,} revisions: every request over HTTP")
        out += ["", *measure(backend, args.reps, logs)]
    if not args.skip_import:
        progress(f"{backend.label}: timeline import of {args.import_events:,} features")
        out += ["", *import_lines(backend, args.import_events)]
    out.append(f"\nload average at the end: {load_average()}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.requests", description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the database (1,000,000)")
    parser.add_argument("--quick", action="store_true", help="20,000 events, a 20,000-feature import")
    parser.add_argument("--backend", choices=("sqlite", "postgis", "both"), default="both")
    parser.add_argument("--reps", type=int, default=30, help="samples per row (30)")
    parser.add_argument("--import-events", type=int, default=100_000, help="features in the imported file")
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-requests", action="store_true")
    args = parser.parse_args(argv)
    if args.quick:
        args.events = args.import_events = 20_000
    os.environ.setdefault("SECRET_KEY", "bench")
    from .servers import exit_on_sigterm

    exit_on_sigterm()
    names: list[Name] = ["sqlite", "postgis"] if args.backend == "both" else [args.backend]
    for name in names:
        print("\n" + "\n".join(run(name, args)), flush=True)


if __name__ == "__main__":
    main()

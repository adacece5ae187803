"""The benchmark suite: ``python bench/run.py [--quick] [--events N] [--backend B]`` (or ``make bench``).

Every figure is printed beside a baseline measured in the same run on the same data, because an
absolute number from a shared 2-core machine means little on its own while a ratio survives noise
and hardware changes. Results go to stdout and to bench/RESULTS.md (one section per event count
and backend, with the machine, versions and the command to reproduce).

Measured: (a) the map's viewport-and-month query through ``filtered_events`` + ``count_events``
against a full scan and a date-index-only plan of the same filter; (b) the same through HTTP;
(c) the streamed GeoJSON export against geopandas; (d) the bytes the page loads, ours against the
vendor and basemap files; (e) the clustered map and the density strip (instrument.py); (f) requests
per second under two gunicorn workers beside pygeoapi on the same data (throughput.py); (g) a
five-minute soak of mixed reads and writes from 16 clients (soak.py).

``--backend`` picks SQLite, PostgreSQL/PostGIS or both (the default). PostGIS runs (a), (b) and
(e1/e2) on the same generated rows (postgis.py; rows prefixed ``[postgis]``), in the database
named by ``BENCH_DATABASE_URL``: by default ``timeline_bench`` on 127.0.0.1 for the default
1,000,000 events, and ``timeline_bench_<N>`` for any other N, so that a quick run does not
replace the million-event database (as the SQLite files are kept per N). The export (c) reads
SQLite files and the page weight (d, e3, e4) does not depend on the database, so they run once,
on SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import generate
import instrument
import postgis
import repack
import soak
import sqlalchemy
import throughput
from flask import Flask
from measure import (  # noqa: F401  (re-exported: run.windows and friends keep working)
    BOX,
    SEED,
    SLOW_BUDGET_S,
    WARNINGS,
    Row,
    a1_rows,
    a3_a4_rows,
    a7_rows,
    a9_row,
    fmt,
    median_p95,
    repeat,
    summarise,
    table,
    timed,
    warn,
    windows,
)
from sqlalchemy import Select, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from timeline import create_app
from timeline.db import db
from timeline.models import Event
from timeline.queries import (
    EventFilter,
    PageKey,
    _conditions,
    count_events,
    counted_page,
    filtered_events,
    page_and_count,
)

BENCH = Path(__file__).resolve().parent
QUICK_EVENTS = 20_000
FULL_SCAN = "NOT INDEXED"
DATE_INDEX = "INDEXED BY ix_events_status_first_day"
EXPORT_GOAL = 300_000  # features per second
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/timeline_bench"
DEFAULT_EVENTS = 1_000_000
# Every request is answered by the database: the figures compare backends and plans, and the same URL
# is asked 30 times (e1, e2, b2), which a response cache would answer from memory after the first.
# What the cache adds is measured by throughput.py.
NO_CACHE = {"CACHE_URL": "none"}


def to_sql(session: Session, stmt: Select[Any], hint: str = "") -> str:
    """A statement as literal SQL, optionally with an index hint on ``events`` (for baselines/EXPLAIN)."""
    sql = str(stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    return re.sub(r"\bFROM events\b", f"FROM events {hint}", sql, count=1) if hint else sql


def baseline_sql(session: Session, f: EventFilter, hint: str) -> tuple[str, str]:
    """The app's own conditions for ``f`` minus the R*Tree subquery (it is added for SQLite only)."""
    conds = _conditions(f, "no-rtree")
    page = select(Event.__table__).where(*conds).order_by(Event.first_day, Event.last_day, Event.id)
    count = select(func.count()).select_from(Event).where(*conds)
    return to_sql(session, page.limit(f.limit), hint), to_sql(session, count, hint)


def ours_sql(session: Session, f: EventFilter, count: bool = False, hint: str = "") -> str:
    """The SQL ``filtered_events`` (or ``count_events``, whose statement is not exposed) sends."""
    if not count:
        return to_sql(session, filtered_events(session, f), hint)
    dialect = session.get_bind().dialect.name
    return to_sql(session, select(func.count()).select_from(Event).where(*_conditions(f, dialect)), hint)


def plan(session: Session, sql: str) -> str:
    rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
    return "\n".join(row[3] for row in rows)


# ---------------------------------------------------------------------------- (a) and (b)


def sql_variants(session: Session, f: EventFilter) -> dict[str, tuple[str, str]]:
    """(page SQL, count SQL) per plan: the app's own SQL raw, forced R*Tree-first, and the baselines."""
    return {
        "raw": (ours_sql(session, f), ours_sql(session, f, count=True)),
        # NOT INDEXED still allows rowid lookups, so the R*Tree's IN list must drive the search.
        "rtree": (ours_sql(session, f, hint=FULL_SCAN), ours_sql(session, f, count=True, hint=FULL_SCAN)),
        "scan": baseline_sql(session, f, FULL_SCAN),
        "date": baseline_sql(session, f, DATE_INDEX),
    }


def bench_queries(app: Flask, reps: int) -> tuple[list[Row], dict[str, str], float, list[int]]:
    """(a) the viewport-and-month query: ours vs full scan vs date index, window by window.

    Every window runs every variant in turn, so load from the other engineer's processes hits all
    of them alike; the first window runs once more, untimed, to warm the caches.
    """
    fs = windows(reps)
    page: dict[str, list[float]] = {"orm": [], "raw": [], "rtree": [], "scan": [], "date": []}
    count: dict[str, list[float]] = {k: [] for k in page}
    one_query: list[float] = []
    one_raw: list[float] = []
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
            one_sql = to_sql(session, counted_page(session, f, keys_only=True))
            t_one_raw, _ = timed(lambda s=one_sql: session.execute(text(s)).all())
            found, timings = {ours, together}, {"orm": (t_page, t_count)}
            for key, (page_sql, count_sql) in sql_variants(session, f).items():
                t_p, _ = timed(lambda s=page_sql: session.execute(text(s)).all())
                t_c, n = timed(lambda s=count_sql: session.execute(text(s)).scalar())
                found.add(n)
                timings[key] = (t_p, t_c)
            session.remove()
            if i:
                for key, (t_p, t_c) in timings.items():
                    page[key].append(t_p)
                    count[key].append(t_c)
                one_query.append(t_one)
                one_raw.append(t_one_raw)
                matched.append(ours)
                mismatches += len(found) > 1
            print(f"\r  (a) window {i}/{reps}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)

        everything = EventFilter(limit=1000)
        variants = sql_variants(session, fs[0])
        plans = {
            "ours: filtered_events (viewport + month)": variants["raw"][0],
            "ours: count_events (viewport + month)": variants["raw"][1],
            "reference: filtered_events with events NOT INDEXED (R*Tree drives)": variants["rtree"][0],
            "baseline: full scan (NOT INDEXED, no R*Tree)": variants["scan"][0],
            "baseline: date index only": variants["date"][0],
            "ours: filtered_events, no filter, limit 1000": ours_sql(session, everything),
            "ours: count_events, no filter": ours_sql(session, everything, count=True),
            "ours: timeline-ordered listing of everything, drafts included": ours_sql(
                session, EventFilter(limit=None, include_drafts=True)
            ),
        }
        plans = {name: plan(session, sql) for name, sql in plans.items()}
        t_all = repeat(lambda: count_events(session, everything), reps)
        published = text("SELECT count(*) FROM events WHERE status = 'published'")
        t_plain = repeat(lambda: session.execute(published).scalar(), reps)
        if session.execute(published).scalar() != count_events(session, everything):
            warn("a5: the covering-index count and count_events differ (deleted events?)")
        session.remove()

    if mismatches:
        warn(f"{mismatches} windows matched different counts in ours and the baselines")
    total, med = summarise(page, count)
    rows = [
        *a1_rows(total, "full scan"),
        Row("a2 viewport+month page+count, median — vs date index only", total["orm"][0], total["date"][0]),
        Row("a2 viewport+month page+count, p95 — vs date index only", total["orm"][1], total["date"][1]),
        *a3_a4_rows(med, matched, mismatches, "the baselines"),
        Row(
            f"a5 count_events, no filter (n={len(t_all)}) — vs count of status='published' "
            f"on its index (n={len(t_plain)})",
            median_p95(t_all)[0],
            median_p95(t_plain)[0],
        ),
        Row(
            "a6 app's SQL run raw (no ORM) page+count, median — vs same SQL, events NOT INDEXED "
            "(R*Tree-driven plan)",
            total["raw"][0],
            total["rtree"][0],
        ),
        Row("a6 same, p95", total["raw"][1], total["rtree"][1]),
        # In-process SQLite: the raw SQL time is the server time the 5 ms goal speaks of.
        *a7_rows(med),
        Row("a7 page+count SQL, raw, median — vs the 5 ms goal", total["raw"][0], postgis.GOAL_MS),
        a9_row(one_query, total),
        # In-process SQLite: the statement's own time is the server time the 5 ms goal speaks of.
        Row(
            "a10 server time: page_and_count's one statement run raw (page and count), median "
            "— vs the 5 ms goal",
            median_p95(one_raw)[0],
            postgis.GOAL_MS,
        ),
        Row("a10 same, p95 — vs the 5 ms goal", median_p95(one_raw)[1], postgis.GOAL_MS),
    ]
    return rows, plans, total["orm"][0], matched


def bench_http(app: Flask, reps: int, direct_median: float, matched: list[int]) -> list[Row]:
    """(b) the same windows through the API with the test client (server time, no network)."""
    client = app.test_client()
    samples, mismatches = [], 0
    for i, f in enumerate([windows(reps)[0], *windows(reps)]):
        assert f.bbox and f.start
        bbox = ",".join(str(v) for v in f.bbox.as_list())
        url = f"/api/events?bbox={bbox}&start={f.start:%Y-%m}&end={f.start:%Y-%m}&limit=100"
        ms, response = timed(lambda url=url: client.get(url))
        assert response.status_code == 200, response.data[:300]
        if i:
            samples.append(ms)
            mismatches += response.json["numberMatched"] != matched[i - 1]
    if mismatches:
        warn(f"{mismatches} API responses had a numberMatched different from count_events in (a)")
    first_page = repeat(lambda: client.get("/api/events?limit=1000"), reps)
    floor = repeat(lambda: client.get("/api/categories"), reps)
    with app.app_context():
        published = count_events(db.session, EventFilter())
    offset = (published - 1) // 1000 * 1000  # the last page the map's loader asks for
    last_page = repeat(lambda: client.get(f"/api/events?limit=1000&offset={offset}"), reps)
    with app.app_context():  # the key a next link carries to that same page: the event before it
        before = db.session.execute(
            select(Event.first_day, Event.last_day, Event.id)
            .where(Event.deleted_at.is_(None), Event.status == "published")
            .order_by(Event.first_day, Event.last_day, Event.id)
            .offset(offset - 1)
            .limit(1)
        ).one()
    token = PageKey(*before).token()
    by_key = repeat(lambda: client.get(f"/api/events?limit=1000&after={token}"), reps)
    http = median_p95(samples)
    return [
        Row(
            "b1 GET /api/events?bbox&start&end&limit=100, median — vs direct call (a1)",
            http[0],
            direct_median,
        ),
        Row("b1 same, p95 — vs direct call median (a1)", http[1], direct_median),
        Row(
            f"b2 GET /api/events?limit=1000, no filter (n={len(first_page)}) "
            f"— vs GET /api/categories (n={len(floor)})",
            median_p95(first_page)[0],
            median_p95(floor)[0],
        ),
        Row(
            f"b3 GET /api/events?limit=1000&offset={offset:,}, last page (n={len(last_page)}) "
            "— vs first page",
            median_p95(last_page)[0],
            median_p95(first_page)[0],
        ),
        Row(
            f"b3 same last page through its next link (keyset, after=…; n={len(by_key)}) — vs by offset",
            median_p95(by_key)[0],
            median_p95(last_page)[0],
        ),
    ]


# ---------------------------------------------------------------------------- (c) export


def run_worker(which: str, db_path: Path) -> dict[str, Any]:
    """One export in a fresh process (see export_worker.py for why)."""
    worker = BENCH / "export_worker.py"
    done = subprocess.run(  # noqa: S603
        [sys.executable, str(worker), which, str(db_path)], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"export worker {which} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_export(db_path: Path, n_events: int, skip_geopandas_above: int) -> tuple[list[Row], dict[str, Any]]:
    """(c) the whole database as GeoJSON bytes: throughput and peak memory, ours vs geopandas."""
    print("  (c) export: ours", file=sys.stderr)
    ours = run_worker("ours", db_path)
    print("  (c) export: ours, published events only", file=sys.stderr)
    published = run_worker("ours-published", db_path)
    print("  (c) export: features built in SQL", file=sys.stderr)
    in_sql = run_worker("sqlite-json", db_path)
    base: dict[str, Any] = {}
    if n_events <= skip_geopandas_above:
        print("  (c) export: geopandas", file=sys.stderr)
        base = run_worker("geopandas", db_path)
    rate = ours["features"] / ours["seconds"]
    base_rate = base["features"] / base["seconds"] if base else None
    rows = [
        Row(
            "c1 GeoJSON export, features/s (higher is better) — vs geopandas to_json()", rate, base_rate, "/s"
        ),
        Row("c1 GeoJSON export, features/s — vs the 300,000/s goal", rate, EXPORT_GOAL, "/s"),
        Row(
            "c1 GeoJSON export, features/s — vs the same features built by SQLite json_object()",
            rate,
            in_sql["features"] / in_sql["seconds"],
            "/s",
        ),
        Row("c2 export wall time — vs geopandas", ours["seconds"], base.get("seconds"), "s"),
        Row(
            "c3 export peak RSS growth — vs geopandas",
            ours["peak_growth_mb"],
            base.get("peak_growth_mb"),
            "MB",
        ),
        Row("c4 export output size — vs geopandas", ours["bytes"], base.get("bytes"), "bytes"),
        Row("c5 features exported — vs geopandas", ours["features"], base.get("features"), "features"),
        Row(
            f"c6 export of the published events only ({published['features']:,.0f}, what an anonymous "
            "visitor downloads), features/s — vs the 300,000/s goal",
            published["features"] / published["seconds"],
            EXPORT_GOAL,
            "/s",
        ),
    ]
    return rows, base.get("versions", {})


# ---------------------------------------------------------------------------- (d) page weight


def bench_page_weight(app: Flask) -> tuple[list[Row], list[tuple[str, int]]]:
    """(d) bytes of the page and of what it loads: our own files and API calls vs vendor + basemap."""
    client = app.test_client()
    page = client.get("/")
    html = page.get_data(as_text=True)
    script = re.search(r'<script id="app-script"[^>]*>', html)
    if page.status_code != 200 or not script:
        warn(f"d: GET / answered {page.status_code} without the app-script tag; page weight skipped")
        return [], []
    attrs = dict(re.findall(r'data-([a-z]+)="([^"]*)"', script.group(0)))
    tags = re.findall(r"<(?:script|link)\b[^>]*>", html)  # what the browser loads, not <a> links
    urls = [m.group(1) for t in tags if (m := re.search(r'(?:src|href)="(/[^/"][^"]*)"', t))]
    app_js = next(u for u in urls if u.endswith("/app.js"))
    js = client.get(app_js).get_data(as_text=True)
    urls += [attrs["categories"], attrs["api"] + "?limit=1000"]
    urls += [attrs["basemap"] + name for name in dict.fromkeys(re.findall(r'"([\w-]+\.geojson)"', js))]
    sizes: dict[str, int] = {"GET / (HTML)": len(html.encode())}
    for url in dict.fromkeys(urls):
        response = client.get(url)
        if response.status_code != 200:  # e.g. vendor files not built: `make assets`
            warn(f"d: GET {url} answered {response.status_code}; left out of the page weight")
            continue
        sizes[url] = len(response.get_data())
    theirs = [(u, s) for u, s in sizes.items() if "/vendor/" in u or "/basemap/" in u]
    vendor_total = sum(s for _, s in theirs)
    ours = [(u, s) for u, s in sizes.items() if (u, s) not in theirs]
    rows = [Row(f"d {url} — vs vendor+basemap total", size, vendor_total, "bytes") for url, size in ours]
    rows.append(
        Row(
            "d our same-origin total — vs vendor+basemap total",
            sum(s for _, s in ours),
            vendor_total,
            "bytes",
        )
    )
    return rows, theirs


# ---------------------------------------------------------------------------- report


def machine() -> dict[str, str]:
    cpu = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
    mem = re.search(r"MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu.group(1).strip() if cpu else "unknown",
        "ram": f"{int(mem.group(1)) / 1024 / 1024:.1f} GiB" if mem else "unknown",
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "load": "{:.1f} {:.1f} {:.1f}".format(*os.getloadavg()),
        "code": subprocess.run(  # noqa: S603
            ["git", "-C", str(BENCH), "describe", "--always", "--dirty"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        or "unknown",
    }


def write_results(path: Path, n: int, body: str, backend: str = "sqlite") -> None:
    """Replace this N's and backend's section of RESULTS.md, keeping the others and any notes.

    SQLite sections keep their original marker (``bench:N=…``); other backends add their name
    (``bench:postgis:N=…``). A new section goes right after the same N's SQLite section, so the
    two backends' figures sit side by side, else at the end.
    """
    tag = f"N={n}" if backend == "sqlite" else f"{backend}:N={n}"
    begin, end = f"<!-- bench:{tag} -->", f"<!-- /bench:{tag} -->"
    old = (
        path.read_text()
        if path.exists()
        else (
            "# Benchmark results\n\nWritten by `bench/run.py` (`make bench`); one section per event count "
            "and backend. Ratios are ours ÷ baseline: below 1 is faster for times, above 1 is better for "
            "features/s.\n"
        )
    )
    section = f"{begin}\n{body.rstrip()}\n{end}"
    sibling = f"<!-- /bench:N={n} -->"
    if begin in old and end in old:
        new = old[: old.index(begin)] + section + old[old.index(end) + len(end) :]
    elif backend != "sqlite" and sibling in old:
        at = old.index(sibling) + len(sibling)
        new = old[:at] + "\n\n" + section + old[at:]
    else:
        new = old.rstrip() + "\n\n" + section + "\n"
    path.write_text(new)


def postgis_url(n: int) -> str:
    """BENCH_DATABASE_URL as given, else the default database (``_<N>`` added for N ≠ 1,000,000)."""
    if url := os.environ.get("BENCH_DATABASE_URL"):
        return url
    if n == DEFAULT_EVENTS:
        return PG_DEFAULT_URL
    parsed = make_url(PG_DEFAULT_URL)
    return parsed.set(database=f"{parsed.database}_{n}").render_as_string(hide_password=False)


def gen_text(generated: float | None, n: int, phases: dict[str, float]) -> str:
    """How the data came to be, for the section header."""
    if generated is None:
        return "reused from cache"
    detail = "; ".join(f"{k} {v:.1f} s" for k, v in phases.items())
    return f"{generated:.1f} s ({n / generated:,.0f} rows/s; {detail})"


def command_line(args: argparse.Namespace, n: int, backend: str) -> str:
    """The command that reproduces one section."""
    if n == DEFAULT_EVENTS and not args.db and args.backend == "both":
        return "make bench"
    size = "--quick" if args.quick else f"--events {n}"
    return f"python bench/run.py {size} --backend {backend}"


def run_sqlite(args: argparse.Namespace, n: int) -> None:
    """Everything on the SQLite file for N events; writes the ``bench:N=…`` section."""
    db_path = (args.db or generate.sqlite_cache(n)).resolve()
    started = time.perf_counter()
    WARNINGS.clear()
    print(f"data: {db_path}", file=sys.stderr)
    phases: dict[str, float] = {}
    generated = generate.generate(n, f"sqlite:///{db_path}", phases)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", **NO_CACHE})
    print("  (a) viewport-and-month queries", file=sys.stderr)
    rows, plans, direct, matched = bench_queries(app, args.reps)
    print("  (a11) the spatial index repacked vs as inserted", file=sys.stderr)
    with app.app_context():
        rows += repack.measure(db.session, db_path, n, args.reps)
    print("  (b) HTTP", file=sys.stderr)
    rows += bench_http(app, args.reps, direct, matched)
    versions: dict[str, str] = {}
    if args.skip_export:
        warn("(c) export left out (--skip-export); see the previous full run")
    else:
        export_rows, versions = bench_export(db_path, n, args.skip_geopandas_above)
        rows += export_rows
    weight_rows, vendor = bench_page_weight(app)
    rows += weight_rows
    print("  (e) the map-and-timeline page", file=sys.stderr)
    rows += instrument.bench_instrument(app, repeat, median_p95, Row)
    ours, vendor_bytes, _ = instrument.first_load_bytes(app)
    rows.append(Row("e3 first visit to /, our bytes (HTML, app.js, CSS, API calls) — vs the 300 KB goal",
                    ours, 300_000, "bytes"))  # fmt: skip
    rows.append(Row("e3 same — vs the cacheable vendor and basemap files", ours, vendor_bytes, "bytes"))
    drag = instrument.drag_long_tasks(app, BENCH / "data" / f"drag-{n}.png")
    if drag is None:
        warn("e4: no Chromium/Playwright; the drag responsiveness figure was skipped")
    else:
        longest, at_load, over_50 = drag
        rows.append(Row(f"e4 longest main-thread task while dragging the timeline across its width twice "
                        f"({over_50} tasks over 50 ms) — vs the 200 ms budget", longest, 200.0))  # fmt: skip
        rows.append(Row("e4 same — vs the longest task while the page loaded", longest, at_load))
    if args.skip_throughput:
        warn("(f) throughput left out (--skip-throughput)")
    else:
        print("  (f) throughput under gunicorn, beside pygeoapi", file=sys.stderr)
        rows += [Row(r["name"], r["ours"], r["baseline"], r["unit"]) for r in throughput.measure(
            db_path, seconds=3 if args.quick else 10, quick=args.quick)]  # fmt: skip
    if args.skip_soak:
        warn("(g) soak left out (--skip-soak)")
    else:
        seconds = 60 if args.quick else 300
        print(f"  (g) soak: {seconds} s of mixed reads and writes, 16 clients", file=sys.stderr)
        rows += [Row("g " + r["name"], r["ours"], r["baseline"], r["unit"]) for r in soak.soak(
            f"sqlite:///{db_path}", seconds=seconds, clients=16, threads=4)]  # fmt: skip
    elapsed = time.perf_counter() - started - (generated or 0.0)

    info = machine()  # its load average covers the run's last 1, 5 and 15 minutes
    print(f"\nSQLite, N = {n:,} events; {info['cpu']} ×{info['nproc']}; {elapsed:.0f} s\n")
    print(table(rows, markdown=False))
    lines = [
        f"## N = {n:,} events",
        "",
        f"- date: {info['date']}; code: `{info['code']}`; command: `{command_line(args, n, 'sqlite')}`",
        f"- machine: {info['cpu']}, nproc {info['nproc']}, RAM {info['ram']}; "
        f"load average at the end (1/5/15 min): {info['load']} (other work on the machine skews timings)",
        f"- versions: Python {info['python']}, SQLite {info['sqlite']}, SQLAlchemy {info['sqlalchemy']}"
        + "".join(f", {k} {v}" for k, v in versions.items()),
        f"- data generation: {gen_text(generated, n, phases)}; benchmark run after it: {elapsed:.0f} s; "
        f"{args.reps} query windows (0.5°×0.26° × one month, seed {SEED}); whole-table timings stop "
        f"after ~{SLOW_BUDGET_S:.0f} s (their n is shown); response cache off (CACHE_URL=none)",
        *(f"- **warning:** {w}" for w in WARNINGS),
        "",
        table(rows, markdown=True),
        "",
        "Vendor and basemap files the page loads: " + ", ".join(f"`{u}` {s:,} B" for u, s in vendor) + ".",
        "",
        "### Query plans (EXPLAIN QUERY PLAN, first window)",
        "",
    ]
    for name, text_ in plans.items():
        lines += [f"{name}:", "", "```", text_, "```", ""]
    write_results(args.results, n, "\n".join(lines))
    print(f"\nwrote {args.results}", file=sys.stderr)


def run_postgis(args: argparse.Namespace, n: int) -> None:
    """(a), (b) and (e1/e2) on PostgreSQL/PostGIS; writes the ``bench:postgis:N=…`` section.

    The same generated rows, the same windows and the same HTTP requests as on SQLite, so each
    ``[postgis]`` row can be read against the SQLite row of the same name.
    """
    url = postgis_url(n)
    started = time.perf_counter()
    WARNINGS.clear()
    print(f"data: {make_url(url).render_as_string(hide_password=True)}", file=sys.stderr)
    phases: dict[str, float] = {}
    generated = generate.generate(n, url, phases)
    loaded = gen_text(generated, n, phases)
    if generated is None and (note := generate.load_note(url)):
        loaded += f" ({note})"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **NO_CACHE})
    print("  [postgis] (a) viewport-and-month queries", file=sys.stderr)
    rows, plans, direct, matched = postgis.bench_queries(app, args.reps)
    print("  [postgis] (b) HTTP", file=sys.stderr)
    rows += bench_http(app, args.reps, direct, matched)
    print("  [postgis] (e) clusters and density", file=sys.stderr)
    rows += instrument.bench_instrument(app, repeat, median_p95, Row)
    for url_ in (f"/api/clusters?zoom=7&bbox={instrument.HOME_BBOX}", "/api/density"):
        plans.update(postgis.request_plans(app, url_))
    versions = postgis.versions(app)
    elapsed = time.perf_counter() - started - (generated or 0.0)
    for row in rows:
        row.measurement = f"[postgis] {row.measurement}"

    info = machine()
    print(f"\nPostGIS, N = {n:,} events; {info['cpu']} ×{info['nproc']}; {elapsed:.0f} s\n")
    print(table(rows, markdown=False))
    lines = [
        f"## N = {n:,} events — PostgreSQL/PostGIS",
        "",
        f"- date: {info['date']}; code: `{info['code']}`; command: `{command_line(args, n, 'postgis')}`; "
        f"database: `{make_url(url).render_as_string(hide_password=True)}` (BENCH_DATABASE_URL)",
        f"- machine: {info['cpu']}, nproc {info['nproc']}, RAM {info['ram']}, the database server on the "
        f"same machine over TCP on 127.0.0.1; load average at the end (1/5/15 min): {info['load']} "
        "(other work on the machine skews timings)",
        f"- versions: PostgreSQL {versions['PostgreSQL']}, PostGIS {versions['PostGIS']}, "
        f"GEOS {versions['GEOS']}, psycopg {psycopg_version()}, Python {info['python']}, "
        f"SQLAlchemy {info['sqlalchemy']}",
        f"- server settings: {versions['settings']}",
        f"- data generation (COPY with the count triggers in force, then `timeline cache-features`, "
        f"then VACUUM ANALYZE): {loaded}; benchmark run after it: "
        f"{elapsed:.0f} s; {args.reps} query windows (the same as on SQLite); response cache off "
        "(CACHE_URL=none)",
        "- full-scan baselines: the same statement with `enable_indexscan`, `enable_indexonlyscan` and "
        "`enable_bitmapscan` off for its transaction (parallel sequential scan); a8 is the time the "
        "server itself reports (EXPLAIN ANALYZE, TIMING OFF), without the round trip and row decoding",
        "- not run here: (c) export, (d) page weight and (e3/e4) first load and dragging, which do not "
        "depend on the database or read SQLite files; see the SQLite section",
        *(f"- **warning:** {w}" for w in WARNINGS),
        "",
        table(rows, markdown=True),
        "",
        "### Query plans (EXPLAIN (ANALYZE, BUFFERS), first window, and the statements of e1/e2)",
        "",
    ]
    for name, text_ in plans.items():
        lines += [f"{name}:", "", "```", text_, "```", ""]
    write_results(args.results, n, "\n".join(lines), backend="postgis")
    print(f"\nwrote {args.results}", file=sys.stderr)


def psycopg_version() -> str:
    try:
        import psycopg
    except ImportError:
        return "not installed"
    return psycopg.__version__


def main() -> None:
    parser = argparse.ArgumentParser(description="Timeline Map benchmarks; see bench/RESULTS.md.")
    parser.add_argument(
        "--events", type=int, default=DEFAULT_EVENTS, help="events in the database (default 1,000,000)"
    )
    parser.add_argument("--quick", action="store_true", help=f"use {QUICK_EVENTS:,} events")
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgis", "both"),
        default="both",
        help="which database(s) to measure (default both); PostGIS at BENCH_DATABASE_URL, default "
        f"{PG_DEFAULT_URL} (with _N appended for N other than 1,000,000)",
    )
    parser.add_argument("--db", type=Path, help="SQLite file (default bench/data/events-N-vK-packed.sqlite)")
    parser.add_argument("--reps", type=int, default=30, help="query windows / repetitions (default 30)")
    parser.add_argument(
        "--skip-geopandas-above",
        type=int,
        default=1_000_000,
        metavar="N",
        help="skip the geopandas export baseline above N events (default 1,000,000)",
    )
    parser.add_argument("--skip-export", action="store_true", help="leave out (c), the slowest part")
    parser.add_argument("--skip-throughput", action="store_true", help="leave out (f), gunicorn + wrk")
    parser.add_argument("--skip-soak", action="store_true", help="leave out (g), the 5-minute soak")
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    n = QUICK_EVENTS if args.quick else args.events
    os.environ.setdefault("SECRET_KEY", "bench")  # else create_app writes instance/secret_key
    if args.backend in ("sqlite", "both"):
        run_sqlite(args, n)
    if args.backend in ("postgis", "both"):
        run_postgis(args, n)


if __name__ == "__main__":
    main()

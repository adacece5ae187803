"""One backend's run of the suite: data, every section in order, the table, the RESULTS.md section.

Both backends go through :func:`run_backend`, so they measure the same windows with the same
statements and print their rows under the same names (PostGIS rows prefixed ``[postgis]``). The
sections that do not depend on the database or that read SQLite files, (a11) the repacked R*Tree,
(c) the export, (d, e3, e4) the page, and the server-driven (f) throughput and (g) soak
(:func:`sqlite_servers`), run on SQLite only; PostGIS adds the plans of e1/e2's statements instead.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from flask import Flask

from timeline.store.db import db

from . import DATA
from . import generate as gen
from .api import bench_http
from .backends import DEFAULT_EVENTS, Backend, app_session
from .export import bench_export
from .importing import bench_import
from .instrument import PLANNED_URLS, bench_instrument
from .measure import SEED, SLOW_BUDGET_S, WARNINGS, Row, progress, table, warn
from .page import bench_page_weight, drag_rows, first_visit_rows
from .queries import bench_queries, request_plans
from .repack import measure as repack_rows
from .report import gen_text, machine, plan_lines, write_results
from .search import bench_search
from .soak import soak
from .throughput import measure as throughput_rows


def command_line(args: argparse.Namespace, n: int, backend: str) -> str:
    """The command that reproduces one section."""
    if n == DEFAULT_EVENTS and not args.db and args.backend == "both":
        return "make bench"
    size = "--quick" if args.quick else f"--events {n}"
    return f"python -m bench {size} --backend {backend}"


def run_backend(args: argparse.Namespace, backend: Backend, n: int) -> None:
    """Everything on ``backend`` with N events; prints the table and writes its RESULTS.md section.

    The sections run in the order of their letters, the SQLite-only ones in between, as they always
    have: (a11) right after (a), while the window's pages are warm for both of its R*Trees.
    """
    started = time.perf_counter()
    WARNINGS.clear()
    sqlite = backend.name == "sqlite"
    tag = "" if sqlite else f"[{backend.name}] "
    progress(f"data: {backend.path or backend.shown_url}")
    phases: dict[str, float] = {}
    generated = gen.generate(n, backend.url, phases)
    loaded = gen_text(generated, n, phases)
    if generated is None and not sqlite and (note := gen.load_note(backend.url)):
        loaded += f" ({note})"
    app = backend.app()
    versions: dict[str, str] = {}
    vendor: list[tuple[str, int]] = []

    progress(f"  {tag}(a) viewport-and-month queries")
    rows, plans, direct, matched = bench_queries(app, args.reps)
    if backend.path:
        progress("  (a11) the spatial index repacked vs as inserted")
        with app.app_context():
            rows += repack_rows(app_session(), backend.path, n, args.reps)
    progress(f"  {tag}(b) HTTP")
    rows += bench_http(app, args.reps, direct, matched)
    progress(f"  {tag}(s) full-text search beside the LIKE it replaced")
    search_rows, search_plans = bench_search(app, args.reps)
    rows += search_rows
    plans.update(search_plans)
    if backend.path:
        if args.skip_export:
            warn("(c) export left out (--skip-export); see the previous full run")
        else:
            export, versions = bench_export(backend.path, n, args.skip_geopandas_above)
            rows += export
        weight, vendor = bench_page_weight(app)
        rows += weight
    progress(f"  {tag}(e) the map-and-timeline page: clusters and density")
    rows += bench_instrument(app)
    if backend.path:
        rows += first_visit_rows(app)
        rows += drag_rows(app, DATA / f"drag-{n}.png")
        rows += sqlite_servers(args, backend.path, backend.url)
    else:
        for url in PLANNED_URLS:
            plans.update(request_plans(app, url))
        versions = server_versions(app)
    rows += bench_import(backend, n)  # (i): timeline import of a generated file, beside row by row
    elapsed = time.perf_counter() - started - (generated or 0.0)
    for row in rows:
        row.measurement = tag + row.measurement

    info = machine()  # its load average covers the run's last 1, 5 and 15 minutes
    print(f"\n{backend.label}, N = {n:,} events; {info['cpu']} ×{info['nproc']}; {elapsed:.0f} s\n")
    print(table(rows, markdown=False))
    header = section_header(
        args, backend, info, command_line(args, n, backend.name), versions, loaded, elapsed
    )
    if sqlite:
        how = "EXPLAIN QUERY PLAN, first window"
    else:
        how = "EXPLAIN (ANALYZE, BUFFERS), first window, and the statements of e1/e2"
    lines = [
        f"## N = {n:,} events" + ("" if sqlite else " — PostgreSQL/PostGIS"),
        "",
        *header,
        *(f"- **warning:** {w}" for w in WARNINGS),
        "",
        table(rows, markdown=True),
        "",
    ]
    if vendor:
        lines += [
            "Vendor and basemap files the page loads: "
            + ", ".join(f"`{u}` {s:,} B" for u, s in vendor)
            + ".",
            "",
        ]
    lines += plan_lines(f"Query plans ({how})", plans)
    write_results(args.results, n, "\n".join(lines), backend=backend.name)
    progress(f"\nwrote {args.results}")


def sqlite_servers(args: argparse.Namespace, path: Path, url: str) -> list[Row]:
    """(f) and (g), under real gunicorn servers, unless left out."""
    rows: list[Row] = []
    if args.skip_throughput:
        warn("(f) throughput left out (--skip-throughput)")
    else:
        progress("  (f) throughput under gunicorn, beside pygeoapi")
        rows += throughput_rows(path, seconds=3 if args.quick else 10, quick=args.quick)
    if args.skip_soak:
        warn("(g) soak left out (--skip-soak)")
    else:
        seconds = 60 if args.quick else 300
        progress(f"  (g) soak: {seconds} s of mixed reads and writes, 16 clients")
        rows += [Row("g " + r.measurement, r.ours, r.baseline, r.unit) for r in soak(url, seconds, 16, 4)]
    return rows


def section_header(
    args: argparse.Namespace,
    backend: Backend,
    info: dict[str, str],
    command: str,
    versions: dict[str, str],
    loaded: str,
    elapsed: float,
) -> list[str]:
    """The lines above a section's table: date and command, machine, versions, data and run.

    PostGIS adds where its server runs, its versions and settings, and how its baselines are made.
    """
    sqlite = backend.name == "sqlite"
    where = "" if sqlite else f"; database: `{backend.shown_url}` (BENCH_DATABASE_URL)"
    server = "" if sqlite else ", the database server on the same machine over TCP on 127.0.0.1"
    lines = [
        f"- date: {info['date']}; code: `{info['code']}`; command: `{command}`{where}",
        f"- machine: {info['cpu']}, nproc {info['nproc']}, RAM {info['ram']}{server}; load average at the "
        f"end (1/5/15 min): {info['load']} (other work on the machine skews timings)",
    ]
    if sqlite:
        return [
            *lines,
            f"- versions: Python {info['python']}, SQLite {info['sqlite']}, SQLAlchemy {info['sqlalchemy']}"
            + "".join(f", {k} {v}" for k, v in versions.items()),
            f"- data generation: {loaded}; benchmark run after it: {elapsed:.0f} s; "
            f"{args.reps} query windows (0.5°×0.26° × one month, seed {SEED}); whole-table timings stop "
            f"after ~{SLOW_BUDGET_S:.0f} s (their n is shown); response cache off (CACHE_URL=none)",
        ]
    return [
        *lines,
        f"- versions: PostgreSQL {versions['PostgreSQL']}, PostGIS {versions['PostGIS']}, "
        f"GEOS {versions['GEOS']}, psycopg {psycopg_version()}, Python {info['python']}, "
        f"SQLAlchemy {info['sqlalchemy']}",
        f"- server settings: {versions['settings']}",
        f"- data generation (COPY with the count triggers in force, then `timeline cache-features`, "
        f"then VACUUM ANALYZE): {loaded}; benchmark run after it: {elapsed:.0f} s; {args.reps} query "
        "windows (the same as on SQLite); response cache off (CACHE_URL=none)",
        "- full-scan baselines: the same statement with `enable_indexscan`, `enable_indexonlyscan` and "
        "`enable_bitmapscan` off for its transaction (parallel sequential scan); a8 is the time the "
        "server itself reports (EXPLAIN ANALYZE, TIMING OFF), without the round trip and row decoding",
        "- not run here: (a11) the SQLite R*Tree, (c) export, (d) page weight, (e3/e4) first load and "
        "dragging, (f) throughput and (g) soak, which do not depend on the database or read SQLite "
        "files; see the SQLite section",
    ]


def server_versions(app: Flask) -> dict[str, str]:
    """PostgreSQL, PostGIS and GEOS versions, and the settings that most change the figures."""
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


def psycopg_version() -> str:
    try:
        import psycopg
    except ImportError:
        return "not installed"
    return str(psycopg.__version__)

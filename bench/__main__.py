"""The benchmark suite: ``python -m bench [--quick] [--events N] [--backend B]`` (or ``make bench``).

Every figure is printed beside a baseline measured in the same run on the same data, because an
absolute number from a shared 2-core machine means little on its own while a ratio survives noise
and hardware changes. Results go to stdout and to bench/RESULTS.md (one section per event count
and backend, the latest run only, with the machine, versions and the command to reproduce);
findings written by hand go to bench/FINDINGS.md.

Measured: (a) the map's viewport-and-month query through ``filtered_events`` + ``count_events``
against a full scan and a date-index-only plan of the same filter (``bench.queries``), and (a11)
the repacked R*Tree against the same entries as inserted; (b) the same through HTTP; (s) text
search (``q``) through the full-text index against the LIKE it replaced (``bench.search``); (c) the
streamed GeoJSON export against geopandas; (d) the bytes the page loads, ours against the vendor
and basemap files; (e) the clustered map and the density strip, the first visit and dragging the
timeline in Chromium; (f) requests per second under two gunicorn workers beside pygeoapi on the
same data (``bench.throughput``); (g) a five-minute soak of mixed reads and writes from 16 clients
(``bench.soak``).

``--backend`` picks SQLite, PostgreSQL/PostGIS or both (the default). PostGIS runs (a), (b) and
(e1/e2/e5) on the same generated rows (rows prefixed ``[postgis]``), in the database named by
``BENCH_DATABASE_URL``: by default ``timeline_bench`` on 127.0.0.1 for the default 1,000,000
events, and ``timeline_bench_<N>`` for any other N, so that a quick run does not replace the
million-event database (as the SQLite files are kept per N). The other sections read SQLite files
or do not depend on the database, so they run once, on SQLite. Data is generated on first use
(``bench.generate``) and reused after.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from . import BENCH
from .backends import DEFAULT_EVENTS, PG_DEFAULT_URL, for_events
from .servers import exit_on_sigterm

QUICK_EVENTS = 20_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Timeline Map benchmarks; see bench/RESULTS.md."
    )
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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    n = QUICK_EVENTS if args.quick else args.events
    os.environ.setdefault("SECRET_KEY", "bench")  # else create_app writes instance/secret_key
    exit_on_sigterm()
    from .suite import run_backend  # the app and every section: not needed for --help

    if args.backend in ("sqlite", "both"):
        run_backend(args, for_events("sqlite", n, args.db), n)
    if args.backend in ("postgis", "both"):
        run_backend(args, for_events("postgis", n), n)


if __name__ == "__main__":
    main()

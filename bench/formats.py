"""Data in and out (issue 12): ``python -m bench.formats [--events N]``, SQLite.

Each figure beside a baseline measured in the same run, on the same data, through the product's
own paths (the ``timeline`` command line, the WSGI app with its response cache off):

- (x1) ``timeline import`` of an ACLED export of N rows, beside ``timeline import`` of the same
  events as GeoJSON (what the ACLED reader adds) and pandas reading the CSV (a floor: parsing only);
- (x2) ``timeline export`` of the N events to each file format, beside geopandas writing the same
  rows from memory (what GDAL itself costs);
- (x3) OGC API items with a CQL2 ``T_INTERSECTS`` + category filter (``limit=100``), p50 and p90,
  beside the JSON API's own ``start``/``end``/``category`` request for the same events.

Results print as a table; ``--write`` appends a dated section to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from . import BENCH, DATA, PROJECT_BIN, ROOT
from . import generate as gen
from .measure import Row, percentile, progress

TYPES = [("Battles", "Armed clash"), ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
         ("Strategic developments", "Headquarters or base established")]  # fmt: skip
EXPORTS = ("geojson", "csv", "acled.csv", "gpkg", "fgb", "parquet", "kml")
SAMPLES = 30


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench", "CACHE_URL": "none"}


def _timeline(url: str, *args: str) -> float:
    """Seconds one ``timeline`` command takes, start-up included (what an operator waits)."""
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - the project's own console script
        [str(PROJECT_BIN / "timeline"), *args],
        env=_env(url),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"timeline {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def _fresh(name: str) -> str:
    path = DATA / f"{name}.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path.resolve()}"
    _timeline(url, "db", "upgrade")
    return url


def acled_file(n: int) -> tuple[Path, Path]:
    """N ACLED rows in the story's region, and the same events as the GeoJSON the reader makes."""
    from timeline.formats.acled import COLUMNS, read_acled

    path = DATA / f"acled-{n}.csv"
    twin = DATA / f"acled-{n}.geojson"
    if path.exists() and twin.exists():
        return path, twin
    DATA.mkdir(exist_ok=True)
    rng = random.Random(12)
    first = date(2024, 8, 6)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for i in range(n):
            day = first + timedelta(days=rng.randrange(240))
            kind, sub = TYPES[i % len(TYPES)]
            row = {
                "event_id_cnty": f"RUS{i + 1}", "event_date": day.isoformat(), "year": day.year,
                "time_precision": rng.choice("1112"), "disorder_type": "Political violence",
                "event_type": kind, "sub_event_type": sub, "actor1": "Military Forces of Ukraine (2019-)",
                "actor2": "Military Forces of Russia (2000-)", "inter1": 8, "inter2": 8, "interaction": 88,
                "iso": 643, "region": "Europe", "country": "Russia", "admin1": "Kursk",
                "admin2": "Sudzhanskiy",
                "location": f"Place {i % 500}", "latitude": round(rng.uniform(50.9, 51.8), 4),
                "longitude": round(rng.uniform(34.4, 36.3), 4), "geo_precision": 1,
                "source": "Meduza; Ukrainska Pravda", "source_scale": "National",
                "notes": f"On {day.isoformat()}, reported clashes near place {i % 500}.",
                "fatalities": rng.randrange(5), "timestamp": 1723500000 + i,
            }  # fmt: skip
            writer.writerow([row.get(c, "") for c in COLUMNS])
    collection = read_acled(path.read_bytes())
    twin.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path, twin


def bench_acled_import(n: int) -> list[Row]:
    import pandas

    progress(f"(x1) timeline import of {n:,} ACLED rows")
    path, twin = acled_file(n)
    ours = _timeline(_fresh("acled_import"), "import", str(path))
    geojson = _timeline(_fresh("acled_import_geojson"), "import", str(twin))
    started = time.perf_counter()
    pandas.read_csv(path)
    floor = time.perf_counter() - started
    return [
        Row(f"(x1) ACLED CSV import, {n:,} rows (s) vs the same events as GeoJSON", ours, geojson, "s"),
        Row(f"(x1) ACLED CSV import, {n:,} rows (s) vs pandas.read_csv alone", ours, floor, "s"),
        Row("(x1) ACLED import rate (events/s) vs GeoJSON import rate", n / ours, n / geojson, "/s"),
    ]


def bench_exports(url: str, n: int) -> list[Row]:
    import geopandas

    progress(f"(x2) timeline export of {n:,} events to each format, geopandas beside it")
    rows = []
    source = DATA / f"formats-{n}.gpkg"
    _timeline(url, "export", str(source))
    frame = geopandas.read_file(source)
    for ext in EXPORTS:
        target = DATA / f"formats-out-{n}.{ext}"
        ours = _timeline(url, "export", str(target))
        started = time.perf_counter()
        baseline_target = DATA / f"formats-geopandas-{n}.{ext.split('.')[-1]}"
        if ext == "parquet":
            frame.to_parquet(baseline_target)
        elif ext in ("csv", "acled.csv"):
            frame.to_csv(baseline_target)
        elif ext == "geojson":
            frame.to_file(baseline_target, driver="GeoJSON")
        else:
            frame.to_file(baseline_target, driver={"gpkg": "GPKG", "fgb": "FlatGeobuf", "kml": "KML"}[ext])
        baseline = time.perf_counter() - started
        rows.append(
            Row(f"(x2) export .{ext}, {n:,} events (s) vs geopandas writing the rows", ours, baseline, "s")
        )
    return rows


def bench_cql2(url: str) -> list[Row]:
    from timeline import create_app

    progress("(x3) OGC items with CQL2 T_INTERSECTS + category, beside /api/events")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "CACHE_URL": "none"})
    client = app.test_client()
    categories = [c["slug"] for c in client.get("/api/categories").get_json()["categories"]]
    rng = random.Random(3)
    ours, theirs = [], []
    for _ in range(SAMPLES):
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(300))
        end = start + timedelta(days=30)
        category = rng.choice(categories)
        window = f"INTERVAL('{start}T00:00:00Z', '{end}T23:59:59Z')"
        cql = f"interval T_INTERSECTS {window} AND category = '{category}'"
        for samples, path, query in (
            (ours, "/ogc/collections/events/items", {"filter": cql, "limit": "100"}),
            (
                theirs,
                "/api/events",
                {"start": str(start), "end": str(end), "category": category, "limit": "100"},
            ),
        ):
            started = time.perf_counter()
            response = client.get(path, query_string=query)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return [
        Row("(x3) CQL2 T_INTERSECTS + category, p50 (ms) vs /api/events window + category",
            percentile(ours, 50), percentile(theirs, 50)),
        Row("(x3) CQL2 T_INTERSECTS + category, p90 (ms) vs /api/events window + category",
            percentile(ours, 90), percentile(theirs, 90)),
    ]  # fmt: skip


def table(rows: list[Row]) -> str:
    lines = ["| measurement | ours | baseline | ours / baseline |", "|---|--:|--:|--:|"]
    for row in rows:
        ours = "—" if row.ours is None else f"{row.ours:,.2f} {row.unit}"
        base = "—" if row.baseline is None else f"{row.baseline:,.2f} {row.unit}"
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}"
        lines.append(f"| {row.measurement} | {ours} | {base} | {ratio} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.formats")
    parser.add_argument(
        "--events", type=int, default=100_000, help="events for the exports and CQL2 (100,000)"
    )
    parser.add_argument("--acled-rows", type=int, default=100_000, help="rows of the ACLED import (100,000)")
    parser.add_argument("--write", action="store_true", help="append the results to bench/RESULTS.md")
    args = parser.parse_args(argv)
    url = f"sqlite:///{(DATA / f'formats-{args.events}.sqlite').resolve()}"
    progress(f"generating {args.events:,} events (reused when present)")
    gen.generate(args.events, url)
    rows = bench_acled_import(args.acled_rows) + bench_exports(url, args.events) + bench_cql2(url)
    text = table(rows)
    print(text)
    if args.write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        header = (
            f"\n## Data in and out (issue 12), SQLite, {args.events:,} events — {stamp}\n\n"
            f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; "
            f"`python -m bench.formats --events {args.events} --acled-rows {args.acled_rows}`.\n\n"
        )
        with (BENCH / "RESULTS.md").open("a", encoding="utf-8") as out:
            out.write(header + text + "\n")


if __name__ == "__main__":
    sys.exit(main())

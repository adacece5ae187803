"""(f) Read-API throughput under real servers: ``python -m bench.throughput --db PATH [--seconds S]``.

The question is how many ``GET /api/events?bbox=…&limit=100`` requests per second two gunicorn
workers on 127.0.0.1 answer, measured against what matters beside it, all in the same run on the
same data: the 2,500 req/s goal, 20× pygeoapi (a widely used OGC API - Features server) serving the
same events from a GeoPackage for the same bounding boxes, and a minimal Flask endpoint under the
same gunicorn settings (the ceiling of this machine: Flask, gunicorn and wrk sharing two cores).

wrk drives every server with one Lua script cycling through a fixed, seeded list of bounding boxes
(each about 1% of the generated region, no time filter), so every server sees the same requests in
the same order. Before any timing, one plain request per URL checks that the answers are 200 and
GeoJSON with features, and a few bounding boxes are compared between the two servers (numberMatched
and features returned) to show that both answer the same query.

Needs ``bench/install-tools`` first (wrk, and pygeoapi in its own venv bench/.venv-pygeoapi).
Every server is started by ``bench.servers``, which stops it by its process group id, also when
the run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import BENCH, DATA
from .backends import sqlite_url, timeline_cli
from .dataset import REGION, VIEWPORT, Box, viewport
from .measure import Row, table
from .servers import HELLO_APP, THREADS, WORKERS, exit_on_sigterm, free_port, get_json, gunicorn

PYGEOAPI_VENV = BENCH / ".venv-pygeoapi"
URLS = 50
SEED = 2500
UNCACHED = "gthread, cache off"
# Our server as deployed (the response cache on, per process, the default) under both worker classes,
# and with the cache off, so the cost of answering every request from the database shows too.
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "sync": ("sync", {}),
    "gthread": ("gthread", {}),
    UNCACHED: ("gthread", {"CACHE_URL": "none"}),
}
WRK_THREADS = 2
CONNECTIONS = 32
GOAL_RPS = 2500.0
GOAL_RATIO = 20.0
COMPARED_BBOXES = 5
GPKG_VERSION = 2  # bump when the GeoPackage's contents change, so a cached one is rebuilt
# Every server alike: slow answers (pygeoapi's, at a million events) are not killed, and only
# warnings and errors are logged, so the log that a failed start shows is short.
SERVE_OPTIONS = ("--timeout", "120", "--log-level", "warning", "--error-logfile", "-")

# One Lua state per wrk thread: each starts at its own place in the list, then cycles through it.
# done() runs once at the end and prints one machine-readable line (latencies in microseconds).
WRK_SCRIPT = """
local paths = {%(paths)s}
local next_offset = 0
function setup(thread)
  thread:set("offset", next_offset)
  next_offset = next_offset + math.floor(#paths / %(threads)d)
end
local i = nil
function request()
  if i == nil then i = offset or 0 end
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"bytes\\": %%d, \\"connect\\": %%d, " ..
    "\\"read\\": %%d, \\"write\\": %%d, \\"timeout\\": %%d, \\"status\\": %%d, \\"p50_us\\": %%d, " ..
    "\\"p99_us\\": %%d, \\"max_us\\": %%d}\\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout,
    e.status, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


@dataclass
class Load:
    """What one wrk run measured against one server."""

    requests: int
    seconds: float
    bytes: int
    status_errors: int  # responses with status >= 400 (wrk's own count)
    socket_errors: int  # connect, read, write errors and timeouts
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        return self.status_errors + self.socket_errors


def bboxes(n: int = URLS, seed: int = SEED) -> list[Box]:
    """Fixed boxes of 1% of the region, so every run and every server sees the same requests."""
    rng = random.Random(seed)
    return [viewport(rng) for _ in range(n)]


def bbox_param(box: Box) -> str:
    return ",".join(f"{v:g}" for v in box)


def ours_path(box: Box) -> str:
    return f"/api/events?bbox={bbox_param(box)}&limit=100"


def pygeoapi_path(box: Box) -> str:
    return f"/collections/events/items?bbox={bbox_param(box)}&limit=100&f=json"


# ---------------------------------------------------------------------------- load


def wrk(base: str, paths: list[str], seconds: float, work: Path) -> Load:
    """One wrk run (2 threads, CONNECTIONS connections) cycling through ``paths``."""
    script = work / "cycle.lua"
    script.write_text(WRK_SCRIPT % {"paths": ", ".join(json.dumps(p) for p in paths), "threads": WRK_THREADS})
    argv = ["wrk", "-t", str(WRK_THREADS), "-c", str(CONNECTIONS), "-d", f"{max(seconds, 1):.0f}s"]
    argv += ["--timeout", "60s", "-s", str(script), base]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, check=False)  # noqa: S603
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_RESULT ")), None)
    if done.returncode or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    r = json.loads(line.removeprefix("WRK_RESULT "))
    return Load(
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        bytes=r["bytes"],
        status_errors=r["status"],
        socket_errors=r["connect"] + r["read"] + r["write"] + r["timeout"],
        p50_ms=r["p50_us"] / 1000,
        p99_ms=r["p99_us"] / 1000,
        max_ms=r["max_us"] / 1000,
    )


def warm_and_measure(base: str, paths: list[str], seconds: float, quick: bool, work: Path) -> Load:
    """An untimed run first: imports, connection pools, the page cache and each worker's response
    cache (every bbox computed once per worker: seconds at a million events) warm up alike."""
    wrk(base, paths, 1 if quick else 10, work)
    return wrk(base, paths, seconds, work)


def check_features(
    base: str, paths: list[str], first: list[int] | None = None, budget_s: float | None = None
) -> dict[int, dict[str, Any]]:
    """One plain request per URL: 200, a GeoJSON FeatureCollection, at least one feature.

    Returns the bodies by index into ``paths``. A slow server (a provider that scans the whole
    table per request) is checked on the ``first`` indexes always and on the rest only while
    ``budget_s`` lasts, so the check cannot take longer than the measurement itself.
    """
    bodies: dict[int, dict[str, Any]] = {}
    order = [*(first or []), *(i for i in range(len(paths)) if i not in (first or []))]
    started = time.monotonic()
    for i in order:
        if budget_s is not None and i not in (first or []) and time.monotonic() - started > budget_s:
            break
        path = paths[i]
        status, body = get_json(base + path)
        if status != 200 or not isinstance(body, dict) or body.get("type") != "FeatureCollection":
            raise RuntimeError(f"GET {base}{path}: {status}, not a FeatureCollection: {str(body)[:300]}")
        features = body.get("features") or []
        if not features or any(f.get("type") != "Feature" or not f.get("geometry") for f in features):
            raise RuntimeError(f"GET {base}{path}: no features, or features without geometry")
        bodies[i] = body
    return bodies


# ---------------------------------------------------------------------------- pygeoapi


def published_count(db_path: Path) -> int:
    """Events an anonymous reader sees, read-only (the database may be shared with other runs)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        sql = "SELECT count(*) FROM events WHERE status = 'published' AND deleted_at IS NULL"
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def geopackage(db_path: Path) -> Path:
    """The same published events as a GeoPackage (cached in bench/data/, rebuilt when stale).

    Made from the app's own GeoJSON export (``timeline export --published-only``), so pygeoapi
    serves exactly the features our API does, with the same properties (nested ones as JSON text).
    """
    import pyogrio  # a project dependency; imported here so --help works without it

    target = DATA / f"{db_path.stem}.g{GPKG_VERSION}.gpkg"
    expected = published_count(db_path)
    if target.exists() and pyogrio.read_info(target, layer="events")["features"] == expected:
        return target
    print(f"  exporting {expected:,} events to {target.name} (once)", file=sys.stderr)
    DATA.mkdir(parents=True, exist_ok=True)
    for stale in DATA.glob(f"{db_path.stem}.g*.gpkg"):  # made by an older version of this file
        stale.unlink()
    geojson, partial = target.with_suffix(".export.geojson"), target.with_suffix(".partial.gpkg")
    try:
        timeline_cli(sqlite_url(db_path), "export", "--published-only", str(geojson))
        frame = pyogrio.read_dataframe(geojson)
        partial.unlink(missing_ok=True)
        # points, lines and polygons in one layer: geometry type "Unknown" (GEOMETRY in the GeoPackage)
        pyogrio.write_dataframe(
            frame,
            partial,
            layer="events",
            driver="GPKG",
            geometry_type="Unknown",
            # GeoPackage 1.2: Debian's older GDAL, which pygeoapi's OGR provider uses, warns on 1.4.
            dataset_options={"VERSION": "1.2"},
        )
        partial.replace(target)
    finally:
        geojson.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return target


def pygeoapi_config(gpkg: Path, provider: str, port_hint: int, work: Path) -> tuple[Path, Path]:
    """A minimal pygeoapi configuration with one collection ``events`` (JSON is valid YAML)."""
    if provider == "OGR":
        source: dict[str, Any] = {
            "name": "OGR",
            "data": {"source_type": "GPKG", "source": str(gpkg)},
            "layer": "events",
        }
    else:
        source = {"name": "SQLiteGPKG", "data": str(gpkg), "table": "events"}
    config = {
        "server": {
            "bind": {"host": "127.0.0.1", "port": port_hint},
            "url": f"http://127.0.0.1:{port_hint}",
            "mimetype": "application/json; charset=UTF-8",
            "encoding": "utf-8",
            "languages": ["en-US"],
            "pretty_print": False,
            "limits": {"default_items": 10, "max_items": 1000},
            "map": {"url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "attribution": "OSM"},
        },
        "logging": {"level": "ERROR"},
        "metadata": {
            "identification": {
                "title": "Timeline Map benchmark",
                "description": "The benchmark's synthetic events",
                "keywords": ["events"],
                "url": "https://example.org/",
                "terms_of_service": "https://example.org/",
            },
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
            "provider": {"name": "bench"},
            "contact": {"name": "bench"},
        },
        "resources": {
            "events": {
                "type": "collection",
                "title": "Events",
                "description": "Geocoded, dated events",
                "keywords": ["events"],
                "extents": {
                    "spatial": {
                        "bbox": list(REGION),
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    }
                },
                "providers": [{"type": "feature", "id_field": "id", **source}],
            }
        },
    }
    config_path = work / f"pygeoapi-{provider}.config.yml"
    config_path.write_text(json.dumps(config, indent=1))
    openapi = work / f"pygeoapi-{provider}.openapi.json"
    argv = [str(PYGEOAPI_VENV / "bin" / "pygeoapi"), "openapi", "generate", str(config_path)]
    subprocess.run(  # noqa: S603
        [*argv, "--format", "json", "--output-file", str(openapi)],
        env={**os.environ, "PYGEOAPI_CONFIG": str(config_path)},
        check=True,
        capture_output=True,
    )
    return config_path, openapi


def hits(base: str, box: Box) -> int | None:
    """pygeoapi's numberMatched for a bbox (``resulttype=hits``), when its provider counts."""
    status, body = get_json(base + pygeoapi_path(box) + "&resulttype=hits")
    return body.get("numberMatched") if status == 200 and isinstance(body, dict) else None


# ---------------------------------------------------------------------------- the measurement


def measure(db_path: Path, seconds: float = 10, quick: bool = False) -> list[Row]:
    """The (f) rows: each figure beside its same-run baseline.

    ``quick`` shortens each load run to at most 3 s (warm-up 1 s) for a smoke test; the figures
    are then noisier but the checks (status, features, same query, no errors) are the same.
    """
    db_path = db_path.resolve()
    if not db_path.exists():
        raise SystemExit(f"{db_path} does not exist; make it with python -m bench.generate")
    if not (PYGEOAPI_VENV / "bin" / "gunicorn").exists():
        raise SystemExit("pygeoapi is not installed: run bench/install-tools (as root) first")
    if quick:
        seconds = min(seconds, 3)
    boxes = bboxes()
    ours_paths = [ours_path(b) for b in boxes]
    theirs_paths = [pygeoapi_path(b) for b in boxes]
    ours_env = {"DATABASE_URL": sqlite_url(db_path), "SECRET_KEY": "bench"}
    ours: dict[str, Load] = {}
    hello: dict[str, Load] = {}
    theirs: dict[str, Load] = {}
    theirs_failed: dict[str, str] = {}
    theirs_checked: dict[str, int] = {}
    ours_matched: list[int] = []
    ours_returned: list[int] = []
    compare: dict[str, tuple[list[int | None], list[int]]] = {}

    # A few boxes spread over the list: pygeoapi's count for them shows it answers the same query.
    picked = list(range(0, len(boxes), max(len(boxes) // COMPARED_BBOXES, 1)))[:COMPARED_BBOXES]
    gpkg = geopackage(db_path)
    load_before = os.getloadavg()[0]
    if load_before > 1.0:
        print(
            f"WARNING: load average {load_before:.1f} before the run on {os.cpu_count()} cores: "
            "other work competes with the servers and wrk, so figures will be low and noisy",
            file=sys.stderr,
        )
    with tempfile.TemporaryDirectory(prefix="bench-throughput-") as tmp:
        work = Path(tmp)
        for variant, (worker_class, extra_env) in VARIANTS.items():
            print(f"  ours, {variant}", file=sys.stderr)
            with gunicorn(
                "wsgi:app",
                name=f"ours-{variant.replace(' ', '-')}",
                logs=work,
                probe="/api/categories",
                env={**ours_env, **extra_env},
                worker_class=worker_class,
                options=SERVE_OPTIONS,
            ) as server:
                base = server.base
                bodies = check_features(base, ours_paths)
                ours_matched = [bodies[i]["numberMatched"] for i in range(len(boxes))]
                ours_returned = [len(bodies[i]["features"]) for i in range(len(boxes))]
                ours[variant] = warm_and_measure(base, ours_paths, seconds, quick, work)
        for worker_class in ("sync", "gthread"):
            print(f"  hello, {worker_class} workers", file=sys.stderr)
            with gunicorn(
                HELLO_APP,
                name=f"hello-{worker_class}",
                logs=work,
                probe="/hello",
                worker_class=worker_class,
                options=SERVE_OPTIONS,
            ) as server:
                base = server.base
                # A ceiling is the most this machine gave: the better of two runs, since one
                # disturbed run (another process waking up) once read a third of the usual figure.
                first = warm_and_measure(base, ["/hello"], seconds, quick, work)
                second = wrk(base, ["/hello"], seconds, work)
                hello[worker_class] = max(first, second, key=lambda load: load.rps)

        for provider in ("OGR", "SQLiteGPKG"):
            print(f"  pygeoapi, {provider} provider, sync workers", file=sys.stderr)
            port_hint = free_port()
            try:
                config, openapi = pygeoapi_config(gpkg, provider, port_hint, work)
                env = {"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
                # Sync workers: SQLiteGPKG keeps one sqlite3 cursor per process, unusable from threads.
                with gunicorn(
                    "pygeoapi.flask_app:APP",
                    name=f"pygeoapi-{provider}",
                    logs=work,
                    probe="/collections/events?f=json",
                    env=env,
                    binary=PYGEOAPI_VENV / "bin" / "gunicorn",
                    chdir=work,
                    options=SERVE_OPTIONS,
                ) as server:
                    base = server.base
                    bodies = check_features(base, theirs_paths, picked, budget_s=20 if quick else 60)
                    theirs_checked[provider] = len(bodies)
                    compare[provider] = (
                        [hits(base, boxes[i]) for i in picked],
                        [len(bodies[i]["features"]) for i in picked],
                    )
                    theirs[provider] = warm_and_measure(base, theirs_paths, seconds, quick, work)
            except (RuntimeError, subprocess.CalledProcessError) as error:
                detail = getattr(error, "stderr", None) or str(error)
                if isinstance(detail, bytes):
                    detail = detail.decode(errors="replace")
                theirs_failed[provider] = detail[-2000:]
                print(f"  pygeoapi {provider} failed: {theirs_failed[provider]}", file=sys.stderr)

    if not theirs:
        raise RuntimeError(f"no pygeoapi provider worked: {theirs_failed}")
    best_class = max(("sync", "gthread"), key=lambda k: ours[k].rps)
    best = ours[best_class]
    provider = max(theirs, key=lambda k: theirs[k].rps)  # the fairest baseline is its fastest
    base_load = theirs[provider]
    rows: list[Row] = []

    def row(name: str, value: float | None, baseline: float | None, unit: str) -> None:
        rows.append(Row(name, value, baseline, unit))

    query = f"GET /api/events?bbox&limit=100, {WORKERS} workers"
    for cls in ("sync", "gthread"):
        label = f"{cls}" + (f" ×{THREADS} threads" if cls == "gthread" else "")
        row(
            f"f1 {query} ({label}; {len(boxes)} bboxes cycled, so answers come from the response "
            f"cache after the first pass), req/s — vs pygeoapi ({provider}) same bboxes",
            ours[cls].rps,
            base_load.rps,
            "req/s",
        )
    row(
        f"f1 same, response cache off (CACHE_URL=none, gthread): every request queries — vs pygeoapi "
        f"({provider})",
        ours[UNCACHED].rps,
        base_load.rps,
        "req/s",
    )
    row(
        f"f1 same, faster class ({best_class}) — vs the {GOAL_RPS:,.0f} req/s goal",
        best.rps,
        GOAL_RPS,
        "req/s",
    )
    row(
        f"f1 same, faster class: times pygeoapi — vs the {GOAL_RATIO:.0f}× goal",
        best.rps / base_load.rps if base_load.rps else None,
        GOAL_RATIO,
        "x",
    )
    for other, load in theirs.items():
        if other != provider:
            row(f"f1 same ({best_class}) — vs pygeoapi ({other} provider)", best.rps, load.rps, "req/s")
    for cls in ("sync", "gthread"):
        row(
            f"f1 same ({cls}) — vs a minimal Flask hello endpoint, same gunicorn settings (ceiling)",
            ours[cls].rps,
            hello[cls].rps,
            "req/s",
        )
    row(
        f"f2 latency p50 ({best_class}, {CONNECTIONS} connections) — vs pygeoapi ({provider})",
        best.p50_ms,
        base_load.p50_ms,
        "ms",
    )
    row(f"f2 latency p99 ({best_class}) — vs pygeoapi ({provider})", best.p99_ms, base_load.p99_ms, "ms")
    for cls in VARIANTS:
        row(
            f"f3 non-2xx + socket errors ({cls}), {ours[cls].requests:,} requests — vs pygeoapi "
            f"({provider}), {base_load.requests:,} requests (must be 0)",
            ours[cls].errors,
            base_load.errors,
            "errors",
        )
    row(
        f"f4 bytes per response ({best_class}) — vs pygeoapi ({provider})",
        best.bytes / max(best.requests, 1),
        base_load.bytes / max(base_load.requests, 1),
        "bytes",
    )
    matched, returned = compare[provider]
    for i, m, n in zip(picked, matched, returned, strict=True):
        row(
            f"f5 bbox {bbox_param(boxes[i])}: numberMatched — vs pygeoapi ({provider}, resulttype=hits)",
            ours_matched[i],
            m,
            "events",
        )
        row("f5 same bbox: features returned — vs pygeoapi", ours_returned[i], n, "features")
    row(
        f"f6 URLs checked by one plain GET: 200, GeoJSON with features — vs pygeoapi ({provider})",
        len(boxes),
        theirs_checked[provider],
        "URLs",
    )
    for other, detail in theirs_failed.items():
        row(
            f"pygeoapi {other} provider failed: {detail.splitlines()[-1][:150] if detail else '?'}",
            None,
            None,
            "req/s",
        )
    row(
        "machine load average (1 min) when the servers started — vs when they had stopped "
        "(above ~1 on 2 cores: other work skewed the figures)",
        load_before,
        os.getloadavg()[0],
        "load",
    )
    for cls, load in ours.items():
        if load.errors:
            print(f"WARNING: {load.errors} errors under load from our app ({cls} workers)", file=sys.stderr)
    return rows


# ---------------------------------------------------------------------------- report


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="SQLite file made by bench.generate")
    parser.add_argument("--seconds", type=float, default=10, help="length of each load run (default 10)")
    parser.add_argument("--quick", action="store_true", help="3-second runs, for a smoke test")
    args = parser.parse_args()
    exit_on_sigterm()
    rows = measure(args.db, args.seconds, args.quick)
    print(
        f"\n{args.db.name}; {os.cpu_count()} cores; wrk -t{WRK_THREADS} -c{CONNECTIONS}; "
        f"{URLS} bboxes of {VIEWPORT[0]}°×{VIEWPORT[1]}° (seed {SEED})\n"
    )
    print(table(rows))


if __name__ == "__main__":
    main()

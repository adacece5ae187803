"""OGC API beside pygeoapi, and CQL2 (issue 12): ``python -m bench.ogc_peers --events N``.

Issue 12 asks two things of ``/ogc/collections/events/items``: (o1) ``bbox`` + ``limit=100`` at
20× or more pygeoapi's requests per second on the same data and query, both with two gunicorn
workers and no response cache; (o2) a CQL2 ``T_INTERSECTS`` + category filter at p90 ≤ 50 ms.

(o1) Our app serves the suite's database of N generated events (``bench.generate``, cached per N;
SQLite, or PostGIS with ``--backend postgis``) with ``CACHE_URL=none``. pygeoapi (in its own venv,
``bench/install-tools``; it has no response cache) serves the same published events from a
GeoPackage that our own ``timeline export`` wrote from that database (cached), through its two
GeoPackage providers, OGR and SQLiteGPKG, both answering ``bbox`` from the GeoPackage's R-tree; on
PostGIS also through its PostgreSQL provider, on a copy of that GeoPackage in a database of its own
on the same server (ogr2ogr, GiST index). Every server runs two sync workers (SQLiteGPKG keeps one
cursor per process, so no threads) and gets the same fixed list of 1 % viewports (the seed of
``bench.throughput``) from the same client: ``--clients`` processes, one keep-alive connection
each, cycling through the list from their own offsets. All servers are up at once and take turns,
``--rounds`` rounds of ``--seconds`` each after a warm-up, so that the machine's other load weighs
on each alike. Before any timing, a few viewports are asked of both: numberMatched, the features of
a limit=100 page, and the ids of the viewport's middle tenth (limit=1000) must agree.

Not the same work, though the same query: pygeoapi's GeoPackage providers return the first 100
features the R-tree gives, in no order and with no numberMatched (unless asked, resulttype=hits);
ours (and its PostgreSQL provider) count every match, and ours returns the first 100 in timeline
order with a ``next`` link by key.

(o2) One client, one request at a time: CQL2 text ``interval T_INTERSECTS INTERVAL(a, b) AND
category = 'c'`` with ``limit=100`` over 30-day windows, beside ``/api/events`` with the same
``start``/``end``/``category``, same server, same samples; the table says in how many samples both
answered the same numberMatched and features.

``--profile`` adds cProfile's top functions for one items request in-process (where a request's
time goes, beside the figures).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import http.client
import io
import json
import multiprocessing
import os
import platform
import pstats
import random
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.engine import make_url

from . import BENCH
from .backends import Backend, for_events, shown
from .dataset import VIEWPORT, Box
from .measure import Row, percentile, progress, table
from .servers import WORKERS, exit_on_sigterm, free_port, get_json, gunicorn
from .throughput import (
    PYGEOAPI_VENV,
    SEED,
    SERVE_OPTIONS,
    URLS,
    bbox_param,
    bboxes,
    geopackage,
    pygeoapi_config,
)

PROVIDERS = ("OGR", "SQLiteGPKG")
COMPARED = 4  # viewports whose whole answers (id sets) are compared between the servers
CQL2_SAMPLES = 30
P90_GOAL_MS = 50.0
RATIO_GOAL = 20.0


def ours_items(box: Box, limit: int = 100) -> str:
    return f"/ogc/collections/events/items?bbox={bbox_param(box)}&limit={limit}"


def pygeoapi_items(box: Box, limit: int = 100) -> str:
    return f"/collections/events/items?bbox={bbox_param(box)}&limit={limit}&f=json"


# ---------------------------------------------------------------------------- the client


@dataclass
class Load:
    """What the client processes measured against one server: every request's latency and status."""

    latencies_ms: list[float]
    failures: int  # answers other than 200, and connection errors
    seconds: float
    body_bytes: int

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float | None:
        return percentile(self.latencies_ms, q)


def _client(args: tuple[str, int, list[str], int, float, float]) -> tuple[list[float], int, float, int]:
    """One client process: one keep-alive connection, the paths from ``offset`` on, until the deadline.

    A server that closes the connection after an answer (gunicorn's sync workers do) is reconnected
    by http.client on the next request, and the reconnect counts in that request's latency, alike
    for every server. Returns (latencies, failures, time of the last answer, body bytes).
    """
    host, port, paths, offset, start_at, deadline = args
    conn = http.client.HTTPConnection(host, port, timeout=120)
    latencies: list[float] = []
    failures, size, i, last = 0, 0, offset, time.time()
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < deadline:
        path = paths[i % len(paths)]
        i += 1
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            failures += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        last = time.time()
        size += len(body)
        if response.status != 200:
            failures += 1
    conn.close()
    return latencies, failures, last, size


def _default_sigterm() -> None:
    """A client process dies on SIGTERM: the parent's handler (``exit_on_sigterm``), inherited by
    the fork, raised SystemExit at an arbitrary point of the pool's worker, which then hung on a
    lock the pool's queue held, and the run with it."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def drive(base: str, paths: list[str], clients: int, seconds: float) -> Load:
    """``clients`` processes over ``paths`` for ``seconds`` (each from its own offset in the list)."""
    host, port = base.removeprefix("http://").split(":")
    start_at = time.time() + 0.5  # every process forked and connected before the clock starts
    jobs = [
        (host, int(port), paths, k * len(paths) // clients, start_at, start_at + seconds)
        for k in range(clients)
    ]
    # Closed and joined, not terminated: the workers end on their own once the map is done.
    pool = multiprocessing.get_context("fork").Pool(clients, initializer=_default_sigterm)
    try:
        results = pool.map(_client, jobs)
    except BaseException:
        pool.terminate()
        raise
    else:
        pool.close()
    finally:
        pool.join()
    latencies = [ms for r in results for ms in r[0]]
    ended = max(r[2] for r in results)
    return Load(
        latencies, sum(r[1] for r in results), max(ended - start_at, 1e-9), sum(r[3] for r in results)
    )


def ids_of(base: str, path: str) -> tuple[int | None, list[str]]:
    """numberMatched and the feature ids of one plain GET (a FeatureCollection, or an error)."""
    status, body = get_json(base + path)
    if status != 200 or not isinstance(body, dict) or body.get("type") != "FeatureCollection":
        raise RuntimeError(f"GET {base}{path}: {status}: {str(body)[:300]}")
    features = body.get("features") or []
    return body.get("numberMatched"), [str(f.get("id")) for f in features]


# ---------------------------------------------------------------------------- (o1)


def postgis_geopackage(url: str) -> Path:
    """The published events of a PostGIS database as a GeoPackage, as ``geopackage`` makes one from
    a SQLite file (same export, same layer options), cached in bench/data/ while the count holds.

    Made from the PostGIS rows themselves, not from the SQLite file of the same N: another section
    may have edited one of them, and then the two servers would not answer the same query.
    """
    import pyogrio  # a project dependency

    from . import DATA
    from .backends import connect, timeline_cli
    from .throughput import GPKG_VERSION

    with connect(url) as conn:
        sql = "SELECT count(*) FROM events WHERE status = 'published' AND deleted_at IS NULL"
        expected = int(conn.exec_driver_sql(sql).scalar_one())
    target = DATA / f"pg-{make_url(url).database}.g{GPKG_VERSION}.gpkg"
    if target.exists() and pyogrio.read_info(target, layer="events")["features"] == expected:
        return target
    progress(f"  exporting {expected:,} events to {target.name} (once)")
    geojson, partial = target.with_suffix(".export.geojson"), target.with_suffix(".partial.gpkg")
    try:
        timeline_cli(url, "export", "--published-only", str(geojson))
        frame = pyogrio.read_dataframe(geojson)
        partial.unlink(missing_ok=True)
        pyogrio.write_dataframe(frame, partial, layer="events", driver="GPKG", geometry_type="Unknown",
                                dataset_options={"VERSION": "1.2"})  # fmt: skip
        partial.replace(target)
    finally:
        geojson.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    return target


@dataclass
class Peers:
    ours: Load
    theirs: dict[str, Load]
    failed: dict[str, str]
    compared: list[Check]  # the viewports asked of both, from the first provider that answered


def postgis_copy(gpkg: Path, url: str) -> str:
    """The GeoPackage's events loaded by ogr2ogr into a database of their own beside ``url``'s (same
    server), for pygeoapi's PostgreSQL provider; the database's name. Reused while the count holds.

    A database of its own, so the benchmark adds nothing to the one our app reads; ogr2ogr gives the
    table a GiST index on ``geom``, as PostGIS users would serve it.
    """
    import pyogrio

    from .backends import connect

    name = f"{make_url(url).database}_pygeoapi"
    copy = make_url(url).set(database=name).render_as_string(hide_password=False)
    expected = pyogrio.read_info(gpkg, layer="events")["features"]
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    with connect(admin, autocommit=True) as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    with connect(copy, autocommit=True) as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        table = conn.exec_driver_sql("SELECT to_regclass('public.events')").scalar()
        if table and conn.exec_driver_sql("SELECT count(*) FROM events").scalar() == expected:
            return name
    progress(f"  loading {expected:,} events into {name} for pygeoapi's PostgreSQL provider (once)")
    u = make_url(url)
    pg = (
        f"PG:host={u.host or '127.0.0.1'} port={u.port or 5432} dbname={name} user={u.username or 'postgres'}"
    )
    if u.password:
        pg += f" password={u.password}"
    argv = ["ogr2ogr", "-overwrite", "-f", "PostgreSQL", pg, str(gpkg), "events", "-nln", "events"]
    argv += [
        "-lco",
        "GEOMETRY_NAME=geom",
        "-lco",
        "FID=fid",
        "-nlt",
        "GEOMETRY",
        "--config",
        "PG_USE_COPY",
        "YES",
    ]
    subprocess.run(argv, check=True, capture_output=True)  # noqa: S603
    with connect(copy, autocommit=True) as conn:
        conn.exec_driver_sql("ANALYZE events")
    return name


def postgresql_config(base_config: Path, url: str, dbname: str, work: Path) -> tuple[Path, Path]:
    """pygeoapi's configuration of ``bench.throughput`` with its PostgreSQL provider on ``dbname``."""
    u = make_url(url)
    config = json.loads(base_config.read_text())
    config["resources"]["events"]["providers"] = [
        {
            "type": "feature",
            "name": "PostgreSQL",
            "data": {
                "host": u.host or "127.0.0.1",
                "port": u.port or 5432,
                "dbname": dbname,
                "user": u.username or "postgres",
                "password": u.password or "",
                "search_path": ["public"],
            },
            "id_field": "id",
            "table": "events",
            "geom_field": "geom",
        }
    ]
    path = work / "pygeoapi-PostgreSQL.config.yml"
    path.write_text(json.dumps(config, indent=1))
    openapi = work / "pygeoapi-PostgreSQL.openapi.json"
    subprocess.run(  # noqa: S603
        [str(PYGEOAPI_VENV / "bin" / "pygeoapi"), "openapi", "generate", str(path), "--format", "json",
         "--output-file", str(openapi)],
        env={**os.environ, "PYGEOAPI_CONFIG": str(path)},
        check=True,
        capture_output=True,
    )  # fmt: skip
    return path, openapi


def inner_box(box: Box) -> Box:
    """The middle tenth (each way) of a viewport: few enough events for one limit=1000 answer."""
    (w, s, e, n), dx, dy = box, (box[2] - box[0]) * 0.45, (box[3] - box[1]) * 0.45
    return round(w + dx, 4), round(s + dy, 4), round(e - dx, 4), round(n - dy, 4)


@dataclass
class Check:
    """One viewport asked of both servers: the same query must get the same answer."""

    bbox: str
    matched: tuple[int | None, int | None]  # numberMatched: ours, theirs (pygeoapi's resulttype=hits)
    returned: tuple[int, int]  # features in the limit=100 answer
    inner: tuple[int, int]  # features in the inner box's limit=1000 answer
    same_ids: bool  # the inner box's feature ids are the same set

    @property
    def ok(self) -> bool:
        """The same answer. numberMatched may differ by 0.1 %: pygeoapi's ``resulttype=hits`` (OGR's
        feature count) counts the R-tree's bounding boxes that meet the viewport, so a line or
        polygon whose box meets it but whose shape does not counts there, though neither server
        returns it (at 1M, 7,010 boxes against the 7,007 features both return, checked by hand)."""
        ours, theirs = self.matched
        close = ours is not None and theirs is not None and abs(ours - theirs) <= max(ours // 1000, 1)
        return (ours == theirs or close) and self.returned[0] == self.returned[1] and self.same_ids


def merged(loads: list[Load]) -> Load:
    """Several rounds against one server as one load (their requests over their summed time)."""
    return Load(
        [ms for load in loads for ms in load.latencies_ms],
        sum(load.failures for load in loads),
        sum(load.seconds for load in loads),
        sum(load.body_bytes for load in loads),
    )


def pygeoapi_files(provider: str, gpkg: Path, backend: Backend, work: Path) -> tuple[Path, Path]:
    """pygeoapi's configuration and OpenAPI document for one provider over the same events."""
    if provider != "PostgreSQL":
        return pygeoapi_config(gpkg, provider, free_port(), work)
    base_config, _ = pygeoapi_config(gpkg, "OGR", free_port(), work)
    return postgresql_config(base_config, backend.url, postgis_copy(gpkg, backend.url), work)


def measure_peers(
    backend: Backend, gpkg: Path, clients: int, seconds: float, rounds: int, work: Path
) -> Peers:
    """(o1): our items endpoint and pygeoapi's through each provider, same viewports and client.

    Every server is up at once (an idle one costs nothing), is checked against ours and warmed up;
    then ``rounds`` rounds of ``seconds`` each take turns over the servers, so that the other
    work on this shared machine, which comes and goes, weighs on all of them alike.
    """
    boxes = bboxes()
    picked = list(range(0, len(boxes), len(boxes) // COMPARED))[:COMPARED]
    env = {"DATABASE_URL": backend.url, "SECRET_KEY": "bench", "CACHE_URL": "none"}
    failed: dict[str, str] = {}
    compared: list[Check] = []
    with contextlib.ExitStack() as stack:
        progress(f"  ours: /ogc items, {WORKERS} sync workers, cache off")
        ours_server = stack.enter_context(
            gunicorn(
                "wsgi:app",
                name="ours-ogc",
                logs=work,
                probe="/ogc/conformance",
                env=env,
                options=SERVE_OPTIONS,
            )
        )
        servers = {"ours": (ours_server.base, [ours_items(b) for b in boxes])}
        mine: dict[int, tuple[int | None, int, list[str]]] = {}
        for i in picked:
            matched, page = ids_of(ours_server.base, servers["ours"][1][i])
            mine[i] = matched, len(page), ids_of(ours_server.base, ours_items(inner_box(boxes[i]), 1000))[1]
        providers = [*PROVIDERS, *(["PostgreSQL"] if backend.name == "postgis" else [])]
        for provider in providers:
            progress(f"  pygeoapi, {provider} provider, {WORKERS} sync workers")
            try:
                config, openapi = pygeoapi_files(provider, gpkg, backend, work)
                server = stack.enter_context(
                    gunicorn(
                        "pygeoapi.flask_app:APP",
                        name=f"pygeoapi-{provider}",
                        logs=work,
                        probe="/collections/events?f=json",
                        env={"PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)},
                        binary=PYGEOAPI_VENV / "bin" / "gunicorn",
                        chdir=work,
                        options=SERVE_OPTIONS,
                    )
                )
                paths = [pygeoapi_items(b) for b in boxes]
                checks = []
                for i in picked:
                    hits = ids_of(server.base, paths[i] + "&resulttype=hits")[0]
                    page = ids_of(server.base, paths[i])[1]
                    inner = ids_of(server.base, pygeoapi_items(inner_box(boxes[i]), 1000))[1]
                    matched, returned, our_inner = mine[i]
                    check = Check(bbox_param(boxes[i]), (matched, hits), (returned, len(page)),
                                  (len(our_inner), len(inner)), set(our_inner) == set(inner))  # fmt: skip
                    checks.append(check)
                    if not check.ok:
                        raise RuntimeError(f"not the same answer: {check}")
                compared = compared or checks
                servers[provider] = (server.base, paths)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
                failed[provider] = str(error)[-1500:]
                progress(f"  pygeoapi {provider} failed: {failed[provider]}")
        progress(f"  warm-up, then {rounds} rounds of {seconds:g} s taking turns: {', '.join(servers)}")
        for base, paths in servers.values():  # imports, page cache, connection pools
            drive(base, paths, clients, min(seconds / 2, 5))
        loads: dict[str, list[Load]] = {name: [] for name in servers}
        for _ in range(rounds):
            for name, (base, paths) in servers.items():
                loads[name].append(drive(base, paths, clients, seconds))
    ours = merged(loads.pop("ours"))
    theirs = {name: merged(each) for name, each in loads.items()}
    return Peers(ours, theirs, failed, compared)


# ---------------------------------------------------------------------------- (o2)


def measure_cql2(backend: Backend, work: Path) -> tuple[list[float], list[float], int, int]:
    """(o2): CQL2 T_INTERSECTS + category beside /api/events, one request at a time, same server.

    Returns both latency lists (ms), and how many samples matched at all and agreed on numberMatched.
    """
    env = {"DATABASE_URL": backend.url, "SECRET_KEY": "bench", "CACHE_URL": "none"}
    with gunicorn(
        "wsgi:app", name="ours-cql2", logs=work, probe="/ogc/conformance", env=env, options=SERVE_OPTIONS
    ) as server:
        host, port = server.base.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=120)
        _, body = get_json(server.base + "/api/categories")
        categories = [c["slug"] for c in body["categories"]]
        rng = random.Random(3)  # the windows and categories of bench.formats (x3)
        samples = []
        for _ in range(CQL2_SAMPLES):
            start = date(2024, 1, 1) + timedelta(days=rng.randrange(300))
            end = start + timedelta(days=30)
            category = rng.choice(categories)
            window = f"INTERVAL('{start}T00:00:00Z', '{end}T23:59:59Z')"
            cql = f"interval T_INTERSECTS {window} AND category = '{category}'"
            ogc = "/ogc/collections/events/items?" + urlencode(
                {"filter": cql, "filter-lang": "cql2-text", "limit": "100"}
            )
            api = "/api/events?" + urlencode(
                {"start": str(start), "end": str(end), "category": category, "limit": "100"}
            )
            samples.append((ogc, api))

        def timed(path: str) -> tuple[float, Any]:
            started = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            raw = response.read()
            ms = (time.perf_counter() - started) * 1000
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status}: {raw[:300]!r}")
            return ms, json.loads(raw)

        for ogc, api in samples:  # warm-up: one pass of each
            timed(ogc)
            timed(api)
        ours, theirs, nonempty, agree = [], [], 0, 0
        for ogc, api in samples:
            ms, a = timed(ogc)
            ours.append(ms)
            ms, b = timed(api)
            theirs.append(ms)
            nonempty += a["numberMatched"] > 0
            agree += a["numberMatched"] == b["numberMatched"] and len(a["features"]) == len(b["features"])
        conn.close()
    return ours, theirs, nonempty, agree


def profile_one(backend: Backend, top: int = 25) -> str:
    """cProfile of one bbox + limit=100 items request in-process (cache off), after a warm-up."""
    from timeline import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": backend.url, "SECRET_KEY": "bench", "CACHE_URL": "none"})
    client = app.test_client()
    paths = [ours_items(b) for b in bboxes()]
    for path in paths[:5]:
        client.get(path)
    profiler = cProfile.Profile()
    profiler.enable()
    for path in paths[5:25]:
        client.get(path)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return f"20 requests ({paths[5]} …):\n" + out.getvalue()


# ---------------------------------------------------------------------------- report


def rows_of(peers: Peers, cql: tuple[list[float], list[float], int, int] | None, clients: int) -> list[Row]:
    """The table: each figure beside its same-run baseline, then the checks that make it fair."""
    rows: list[Row] = []

    def add(name: str, ours: float | None, baseline: float | None, unit: str) -> None:
        rows.append(Row(name, ours, baseline, unit))

    what = f"GET items?bbox&limit=100, {WORKERS} sync workers, cache off, {clients} clients"
    ours = peers.ours
    if not peers.theirs and ours.latencies_ms:
        add(f"o1 {what}, req/s (no pygeoapi baseline)", ours.rps, None, "req/s")
        add("o1 latency p50 / p90", ours.p(50), ours.p(90), "ms")
    if peers.theirs:
        best = max(peers.theirs, key=lambda k: peers.theirs[k].rps)
        base = peers.theirs[best]
        add(f"o1 {what}, req/s — vs pygeoapi ({best}, its faster provider)", ours.rps, base.rps, "req/s")
        add(
            f"o1 times pygeoapi ({best}) — vs the {RATIO_GOAL:.0f}× goal",
            ours.rps / base.rps,
            RATIO_GOAL,
            "x",
        )
        for provider, load in peers.theirs.items():
            if provider != best:
                add(f"o1 same, req/s — vs pygeoapi ({provider})", ours.rps, load.rps, "req/s")
        for q in (50, 90):
            add(f"o1 latency p{q} — vs pygeoapi ({best})", ours.p(q), base.p(q), "ms")
        answered = len(ours.latencies_ms), len(base.latencies_ms)
        add(f"o1 requests answered — vs pygeoapi ({best})", *answered, "requests")
        add(
            f"o1 non-200 or failed requests — vs pygeoapi ({best}) (must be 0)",
            ours.failures,
            base.failures,
            "errors",
        )
        add(f"o1 bytes per answer — vs pygeoapi ({best})", ours.body_bytes / max(answered[0], 1),
            base.body_bytes / max(answered[1], 1), "bytes")  # fmt: skip
    for provider, detail in peers.failed.items():
        add(f"pygeoapi {provider} failed: {detail.splitlines()[-1][:150] if detail else '?'}", None, None, "")
    for c in peers.compared:
        add(f"o1 check bbox {c.bbox}: numberMatched — vs pygeoapi (resulttype=hits)", *c.matched, "events")
        add("o1 same bbox, limit=100: features returned — vs pygeoapi", *c.returned, "features")
        same = "yes" if c.same_ids else "NO"
        add(
            f"o1 its middle tenth, limit=1000: features — vs pygeoapi; same ids: {same}", *c.inner, "features"
        )
    if cql:
        mine, theirs, nonempty, agree = cql
        for q in (50, 90):
            add(f"o2 CQL2 T_INTERSECTS + category, limit=100, p{q} — vs /api/events start/end/category",
                percentile(mine, q), percentile(theirs, q), "ms")  # fmt: skip
        add(f"o2 CQL2 p90 — vs the {P90_GOAL_MS:.0f} ms goal", percentile(mine, 90), P90_GOAL_MS, "ms")
        add(f"o2 samples whose numberMatched and features equal /api/events' ({nonempty} non-empty) — "
            "vs samples", agree, len(mine), "count")  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ogc_peers", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--events", type=int, default=100_000, help="events in the database (default 100,000)"
    )
    parser.add_argument("--backend", choices=("sqlite", "postgis"), default="sqlite")
    parser.add_argument("--db", type=Path, help="SQLite file (default the suite's, bench/data/events-N-…)")
    parser.add_argument("--seconds", type=float, default=8, help="length of each timed round (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds taking turns over the servers (3)")
    parser.add_argument("--clients", type=int, default=4, help="client processes (default 4)")
    parser.add_argument("--skip-peers", action="store_true", help="only the CQL2 rows (o2)")
    parser.add_argument("--profile", action="store_true", help="print cProfile of items requests")
    parser.add_argument("--write", action="store_true", help="append the table to bench/RESULTS.md")
    args = parser.parse_args(argv)
    os.environ.setdefault("SECRET_KEY", "bench")
    exit_on_sigterm()
    from . import generate as gen

    backend = for_events(args.backend, args.events, args.db)
    progress(f"database: {backend.shown_url} ({args.events:,} events; generated when missing)")
    # Generated only when missing: a database that is there is reused read-only as it is (another
    # section may have added edits to it, which generate() would take for a stale cache and redo).
    if gen.existing_events(backend.url)[0] == 0:
        gen.generate(args.events, backend.url)
    load_before = os.getloadavg()
    peers = Peers(Load([], 0, 0, 0), {}, {}, [])
    with tempfile.TemporaryDirectory(prefix="bench-ogc-peers-") as tmp:
        work = Path(tmp)
        if not args.skip_peers:
            if not (PYGEOAPI_VENV / "bin" / "gunicorn").exists():
                raise SystemExit("pygeoapi is not installed: run bench/install-tools (as root) first")
            gpkg = geopackage(backend.path) if backend.path else postgis_geopackage(backend.url)
            peers = measure_peers(backend, gpkg, args.clients, args.seconds, args.rounds, work)
        progress("  CQL2 T_INTERSECTS + category beside /api/events")
        cql = measure_cql2(backend, work)
    load_after = os.getloadavg()
    rows = rows_of(peers, cql, args.clients)
    command = (
        f"python -m bench.ogc_peers --events {args.events} --backend {args.backend} "
        f"--seconds {args.seconds:g} --rounds {args.rounds} --clients {args.clients}"
    )
    machine = (
        f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; load average "
        f"(1/5/15 min) {'/'.join(f'{v:.1f}' for v in load_before)} before, "
        f"{'/'.join(f'{v:.1f}' for v in load_after)} after"
    )
    text = table(rows, markdown=True)
    print(f"\n{backend.label}, {args.events:,} events ({shown(backend.url)}); {machine}\n`{command}`; "
          f"{URLS} viewports of {VIEWPORT[0]}°×{VIEWPORT[1]}° (seed {SEED})\n")  # fmt: skip
    print(text)
    if args.profile:
        print("\n" + profile_one(backend))
    if args.write:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        with (BENCH / "RESULTS.md").open("a", encoding="utf-8") as out:
            heading = f"### {backend.label}, {args.events:,} events — {stamp}"
            out.write(f"\n{heading}\n\nMachine: {machine}. `{command}`.\n\n{text}\n")


if __name__ == "__main__":
    main()

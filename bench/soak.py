"""(g) A bounded soak: ``python -m bench.soak --db-url URL [--seconds 300] [--clients 16]``.

Short benchmarks miss what only shows after minutes under load: memory that creeps up per request
(a cache without a bound, a session never removed), a connection pool that runs dry, writes lost or
answered with a 500 once readers and writers overlap. So this runs the production setup — gunicorn
with 2 workers on ``wsgi:app`` — for a fixed time against 16 concurrent keep-alive clients doing
what the map page and a script do (about 80% reads, 20% writes), and checks the issue's promises:
zero errors, and each worker's RSS after the run within 10% of its RSS after warm-up.

Each figure is printed beside a baseline measured in the same run (the warm-up RSS, the 10% budget,
zero errors, the first stretch of the run, the lightest endpoint), because absolute numbers from a
shared machine mean little on their own.

The given database is never written to: a SQLite file is copied into a temporary directory first
(PostgreSQL URLs are used as given, since they cannot be copied cheaply; the run adds its own users,
tokens and events there). The server is started by ``bench.servers`` and stopped again by its
process group id, also on errors, Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import bindparam, text
from sqlalchemy.engine import make_url

from .backends import connect, timeline_cli
from .dataset import FIRST_DAY, LAST_DAY, REGION
from .measure import Row, percentile, table
from .report import code_version
from .servers import WORKERS, Server, exit_on_sigterm, gunicorn, workers_of

GROWTH_BUDGET = 10.0  # percent, from the issue
SEED = 20241111
ERROR_SAMPLES = 20  # error details kept for the report; the count is exact
KIND_HEADER = "X-Soak-Kind"
# Tab-separated: kind, status, microseconds from reading the request to the response's last byte.
ACCESS_FORMAT = "%({x-soak-kind}i)s\t%(s)s\t%(D)s"

# Relative weights of what one client does next: about 80% reads, 20% writes.
MIX: dict[str, int] = {
    "viewport page": 26,
    "public event": 12,
    "own event (editor)": 4,
    "clusters": 12,
    "density": 8,
    "map page /": 5,
    "export small bbox": 5,
    "categories": 8,
    "create": 6,
    "patch": 6,
    "patch stale (409)": 2,
    "delete": 3,
    "restore": 3,
}
WRITES = {"create", "patch", "patch stale (409)", "delete", "restore"}


@dataclass
class OwnEvent:
    """What a client believes about an event it created: checked against the database at the end."""

    id: str
    version: int
    title: str
    deleted: bool = False


@dataclass
class Client:
    """One simulated user: its own connection, random stream and events (so no two clients race)."""

    number: int
    port: int
    editor: str
    admin: str
    public_ids: list[str]
    categories: list[str]
    rng: random.Random = field(init=False)
    conn: http.client.HTTPConnection = field(init=False)
    own: list[OwnEvent] = field(default_factory=list)
    samples: list[tuple[float, str, float]] = field(default_factory=list)  # (end time, kind, ms)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    sent: int = 0
    acknowledged_writes: int = 0
    anonymous_reads: int = 0  # answered 200 without a token: what the response cache may serve
    cache_hits: int = 0  # of those, answered from the cache (X-Cache: hit)

    def __post_init__(self) -> None:
        self.rng = random.Random(SEED + self.number)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)

    # ------------------------------------------------------------------ transport

    def call(
        self, kind: str, method: str, path: str, *, token: str | None = None,
        body: Any = None, headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes] | None:  # fmt: skip
        """One request on the kept-alive connection; the timing covers sending to the last byte.

        A dropped connection (the server may close it after any response) is an error only when the
        request itself failed: http.client reopens a closed connection on the next request.
        """
        # The kind goes to gunicorn's access log, which times each request inside the worker.
        all_headers = {"Accept-Encoding": "identity", KIND_HEADER: kind, **(headers or {})}
        data = None
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            data = json.dumps(body).encode()
            all_headers["Content-Type"] = "application/geo+json"
        self.sent += 1
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=all_headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.error(kind, f"{method} {path}: connection error {exc!r}")
            return None
        ended = time.perf_counter()
        self.samples.append((ended, kind, (ended - started) * 1000))
        if response.will_close:
            self.conn.close()
        if method == "GET" and not token and response.status == 200:
            self.anonymous_reads += 1
            self.cache_hits += response.getheader("X-Cache") == "hit"
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload

    def error(self, kind: str, detail: str) -> None:
        self.error_count += 1
        if len(self.errors) < ERROR_SAMPLES:
            self.errors.append(f"[client {self.number}] {kind}: {detail}")

    def expect(
        self, kind: str, method: str, path: str, status: int, **kwargs: Any
    ) -> tuple[dict[str, str], bytes] | None:
        """A request whose answer must have ``status``; anything else (5xx above all) is an error."""
        answer = self.call(kind, method, path, **kwargs)
        if answer is None:
            return None
        got, headers, payload = answer
        if got != status:
            self.error(kind, f"{method} {path}: {got} (expected {status}) {payload[:300]!r}")
            return None
        if kind in WRITES and status < 300:
            self.acknowledged_writes += 1
        return headers, payload

    # ------------------------------------------------------------------ the mix

    def window(self, box_deg: tuple[float, float]) -> dict[str, str]:
        """A random viewport of ``box_deg`` inside the data's region and one calendar month."""
        lon = self.rng.uniform(REGION[0], REGION[2] - box_deg[0])
        lat = self.rng.uniform(REGION[1], REGION[3] - box_deg[1])
        bbox = f"{lon:.3f},{lat:.3f},{lon + box_deg[0]:.3f},{lat + box_deg[1]:.3f}"
        month = f"{self.rng.choice((2024, 2025))}-{self.rng.randint(1, 12):02d}"
        return {"bbox": bbox, "start": month, "end": month}

    def step(self) -> None:
        kind = self.rng.choices(list(MIX), list(MIX.values()))[0]
        live = [e for e in self.own if not e.deleted]
        if kind in ("patch", "patch stale (409)", "delete", "own event (editor)") and not live:
            kind = "create"
        if kind == "restore" and not any(e.deleted for e in self.own):
            kind = "delete" if live else "create"
        handlers = {
            "viewport page": self.do_viewport, "public event": self.do_public,
            "own event (editor)": self.do_own,
            "clusters": self.do_clusters, "density": self.do_density, "map page /": self.do_map,
            "export small bbox": self.do_export, "categories": self.do_categories, "create": self.do_create,
            "patch": self.do_patch, "patch stale (409)": self.do_patch, "delete": self.do_delete,
            "restore": self.do_restore,
        }  # fmt: skip
        handlers[kind](kind, live)

    def do_viewport(self, kind: str, _live: list[OwnEvent]) -> None:
        args = {**self.window((0.5, 0.26)), "limit": "100"}
        if self.rng.random() < 0.5:
            args["view"] = "summary"  # what the map page asks for below 500 events in view
        self.expect(kind, "GET", "/api/events?" + urlencode(args), 200)

    def do_public(self, kind: str, _live: list[OwnEvent]) -> None:
        self.expect(kind, "GET", f"/api/events/{self.rng.choice(self.public_ids)}", 200)

    def do_own(self, kind: str, live: list[OwnEvent]) -> None:
        """Read one's own draft back: the ETag must be the version the last write answered."""
        event = self.rng.choice(live)
        answer = self.expect(kind, "GET", f"/api/events/{event.id}", 200, token=self.editor)
        if answer and answer[0].get("etag") != f'"{event.version}"':
            self.error(kind, f"{event.id}: ETag {answer[0].get('etag')}, expected version {event.version}")

    def do_clusters(self, kind: str, _live: list[OwnEvent]) -> None:
        zoom = self.rng.randint(6, 10)
        span = 360 / 2**zoom * 2  # about two tiles of the map at this zoom
        args = {**self.window((min(span, 4.9), min(span / 2, 2.5))), "zoom": str(zoom)}
        self.expect(kind, "GET", "/api/clusters?" + urlencode(args), 200)

    def do_density(self, kind: str, _live: list[OwnEvent]) -> None:
        """As the page asks for its strip: no viewport, no window, sometimes a category filter."""
        args = {"category": self.rng.choice(self.categories)} if self.rng.random() < 0.5 else {}
        self.expect(kind, "GET", "/api/density?" + urlencode(args), 200)

    def do_map(self, kind: str, _live: list[OwnEvent]) -> None:
        self.expect(kind, "GET", "/", 200)

    def do_export(self, kind: str, _live: list[OwnEvent]) -> None:
        args = self.window((0.2, 0.1))
        del args["start"], args["end"]  # a small area over the whole timeline: tens to a thousand events
        self.expect(kind, "GET", "/export/events.geojson?" + urlencode(args), 200)

    def do_categories(self, kind: str, _live: list[OwnEvent]) -> None:
        self.expect(kind, "GET", "/api/categories", 200)

    def do_create(self, kind: str, _live: list[OwnEvent]) -> None:
        title = f"Soak client {self.number} event {len(self.own) + 1}"
        day = FIRST_DAY + timedelta(days=self.rng.randrange((LAST_DAY - FIRST_DAY).days + 1))
        lon, lat = self.rng.uniform(REGION[0], REGION[2]), self.rng.uniform(REGION[1], REGION[3])
        body = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(lon, 5), round(lat, 5)]},
            "properties": {
                "title": title,
                "description": "Written by bench/soak.py under concurrent load.",
                "lang": "en",
                "start": day.isoformat(),
                "end": None,
                "date_precision": "day",
                "category": self.rng.choice(self.categories),
                "place": "Kursk Oblast",
                "actors": ["Ukraine"],
                "confidence": "reported",
                "sources": [{"url": "https://example.org/soak", "outlet": "Soak", "title": "Load test"}],
            },
        }
        answer = self.expect(kind, "POST", "/api/events", 201, token=self.editor, body=body)
        if answer:
            feature = json.loads(answer[1])
            self.own.append(OwnEvent(feature["id"], int(answer[0]["etag"].strip('"')), title))

    def do_patch(self, kind: str, live: list[OwnEvent]) -> None:
        event = self.rng.choice(live)
        title = f"{event.title.split(' (edit')[0]} (edit {event.version})"
        body = {"properties": {"title": title}}
        if kind.startswith("patch stale"):
            stale = {"If-Match": f'"{event.version - 1}"'}
            answer = self.expect(kind, "PATCH", f"/api/events/{event.id}", 409,
                                 token=self.editor, body=body, headers=stale)  # fmt: skip
            if answer and json.loads(answer[1])["current"]["properties"]["version"] != event.version:
                self.error(kind, f"{event.id}: the 409 reports a version other than {event.version}")
            return
        headers = {"If-Match": f'"{event.version}"'}
        answer = self.expect(kind, "PATCH", f"/api/events/{event.id}", 200,
                             token=self.editor, body=body, headers=headers)  # fmt: skip
        if answer:
            event.version, event.title = int(answer[0]["etag"].strip('"')), title

    def do_delete(self, kind: str, live: list[OwnEvent]) -> None:
        event = self.rng.choice(live)
        headers = {"If-Match": f'"{event.version}"'}
        if self.expect(kind, "DELETE", f"/api/events/{event.id}", 204, token=self.admin, headers=headers):
            event.deleted, event.version = True, event.version + 1  # the UPDATE bumps the version

    def do_restore(self, kind: str, _live: list[OwnEvent]) -> None:
        event = self.rng.choice([e for e in self.own if e.deleted])
        answer = self.expect(kind, "POST", f"/api/events/{event.id}/restore", 200, token=self.admin)
        if answer:
            version = int(answer[0]["etag"].strip('"'))
            if version != event.version + 1:
                self.error(kind, f"{event.id}: restored at version {version}, expected {event.version + 1}")
            event.deleted, event.version = False, version

    def run(self, until: float, stop: threading.Event) -> None:
        try:
            while time.perf_counter() < until and not stop.is_set():
                self.step()
        except Exception as exc:  # a bug in this script must show, not silently end one client
            self.error("client", f"crashed: {exc!r}")
        finally:
            self.conn.close()


# ---------------------------------------------------------------------------- processes


def prepare_database(database_url: str, workdir: Path) -> str:
    """The URL the soak writes to: a consistent copy of a SQLite file, or the PostgreSQL URL itself.

    The copy goes through SQLite's backup API from a read-only connection, so the original (and its
    WAL) is neither changed nor copied half-written if another process is using it.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return database_url
    source = Path(url.database or "").resolve()
    if not source.is_file():
        raise SystemExit(f"no SQLite database at {source}")
    target = workdir / source.name
    print(f"copying {source} ({source.stat().st_size / 2**20:,.0f} MB) to {target}", file=sys.stderr)
    with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, \
            contextlib.closing(sqlite3.connect(target)) as dst:  # fmt: skip
        src.backup(dst, pages=65536)
    return url.set(database=str(target)).render_as_string(hide_password=False)


def accounts(url: str) -> tuple[str, str]:
    """An editor (creates and edits) and an admin (deletes and restores: an admin-only action)."""
    suffix = secrets.token_hex(3)
    result = []
    for role in ("editor", "admin"):
        name = f"soak-{role}-{suffix}"
        timeline_cli(url, "users", "create", name, "--role", role, "--password-stdin",
                     stdin=secrets.token_urlsafe(24) + "\n")  # fmt: skip
        result.append(
            timeline_cli(url, "tokens", "create", name, "--name", "bench.soak").strip().splitlines()[-1]
        )
    return result[0], result[1]


def rss_kb(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return None


class Sampler(threading.Thread):
    """Reads every worker's RSS every ``interval`` seconds while the clients run.

    For SQLite it also reads the size of the database and its WAL: a WAL that readers never let
    the checkpointer reset grows for as long as the load lasts and slows every read down with it.
    """

    def __init__(self, master: int, interval: float, started: float, files: list[Path]) -> None:
        super().__init__(daemon=True)
        self.master, self.interval, self.started, self.files = master, interval, started, files
        self.samples: list[tuple[float, dict[int, int]]] = []  # (seconds into the run, pid → kB)
        self.sizes: list[tuple[float, dict[str, int]]] = []  # (seconds into the run, file → bytes)
        self.seen: set[int] = set()
        self.cpu_first: dict[int, float] = {}  # pid → CPU seconds at its first and last sample
        self.cpu_last: dict[int, float] = {}
        self.stop = threading.Event()

    def sample(self) -> None:
        pids = workers_of(self.master)
        self.seen.update(pids)
        rss = {pid: kb for pid in pids if (kb := rss_kb(pid)) is not None}
        for pid in pids:
            if (cpu := cpu_seconds(pid)) is not None:
                self.cpu_first.setdefault(pid, cpu)
                self.cpu_last[pid] = cpu
        now = time.perf_counter() - self.started
        self.samples.append((now, rss))
        self.sizes.append((now, {f.name: f.stat().st_size if f.exists() else 0 for f in self.files}))

    def run(self) -> None:
        while not self.stop.wait(self.interval):
            self.sample()


# ---------------------------------------------------------------------------- database checks


def public_ids(url: str, n: int = 2000) -> list[str]:
    """Published events the clients read one by one (a random sample, so reads spread)."""
    with connect(url) as conn:
        rows = conn.execute(text(
            "SELECT id FROM events WHERE status = 'published' AND deleted_at IS NULL "
            "ORDER BY random() LIMIT :n"), {"n": n}).scalars().all()  # fmt: skip
    if not rows:
        raise SystemExit(
            f"{url} holds no published events; fill it with python -m bench.generate or `timeline demo`"
        )
    return list(rows)


def count_revisions(url: str) -> int:
    with connect(url) as conn:
        return int(conn.execute(text("SELECT count(*) FROM revisions")).scalar_one())


def verify(url: str, own: list[OwnEvent]) -> tuple[int, list[str]]:
    """How many created events the database holds exactly as their client last saw them."""
    problems: list[str] = []
    found = 0
    query = text("SELECT id, version, title, deleted_at FROM events WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    with connect(url) as conn:
        for i in range(0, len(own), 500):
            chunk = {e.id: e for e in own[i : i + 500]}
            rows = {r.id: r for r in conn.execute(query, {"ids": list(chunk)})}
            for event_id, expected in chunk.items():
                row = rows.get(event_id)
                state = (row.version, row.title, row.deleted_at is not None) if row else None
                if state == (expected.version, expected.title, expected.deleted):
                    found += 1
                elif len(problems) < ERROR_SAMPLES:
                    wanted = (expected.version, expected.title, expected.deleted)
                    problems.append(f"{event_id}: database {state}, client expected {wanted}")
    return found, problems


# ---------------------------------------------------------------------------- figures


row = Row  # the rows below read as sentences: row(name, ours, baseline, unit)


def slope(points: list[tuple[float, int]]) -> float:
    """Least-squares slope of (x, y) points: a steady leak shows here even when the end sample is noisy."""
    n = len(points)
    mean_x, mean_y = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / var if var else 0.0


def rss_rows(sampler: Sampler, warmup: float) -> list[Row]:
    """Per worker: RSS at the first sample after warm-up and at the last one, and the growth."""
    rows = []
    for n, pid in enumerate(sorted(sampler.seen), 1):
        series = [(t, rss[pid]) for t, rss in sampler.samples if pid in rss]
        after = [(t, kb) for t, kb in series if t >= warmup] or series[-1:]
        if not after:
            continue
        (t0, first), (t1, last) = after[0], after[-1]
        peak = max(kb for _, kb in after)
        label = f"worker {n} (pid {pid})"
        minutes = (t1 - t0) / 60
        if minutes > 0:
            budget = GROWTH_BUDGET / 100 * first / 1024 / minutes
            rows.append(row(f"{label} RSS trend after warm-up (least squares) — vs the slope that would "
                            f"use the {GROWTH_BUDGET:.0f}% budget by the end",
                            slope(after) * 60 / 1024, budget, "MB/min"))  # fmt: skip
        rows += [
            row(f"{label} RSS at the end ({t1:.0f} s) — vs after warm-up ({t0:.0f} s)",
                last / 1024, first / 1024, "MB"),
            row(f"{label} RSS peak after warm-up — vs after warm-up", peak / 1024, first / 1024, "MB"),
            row(f"{label} RSS growth warm-up → end — vs the {GROWTH_BUDGET:.0f}% budget",
                (last - first) / first * 100, GROWTH_BUDGET, "%"),
        ]  # fmt: skip
    return rows


def soak(database_url: str, seconds: float = 300, clients: int = 16, threads: int = 1) -> list[Row]:
    """Run the soak and return the table rows; see the module docstring.

    ``threads`` > 1 serves with gthread workers (``make serve`` uses 4), which keep connections alive.
    """
    workdir = Path(tempfile.mkdtemp(prefix="timeline-soak-"))
    try:
        url = prepare_database(database_url, workdir)
        print("migrating, creating accounts and tokens through the CLI", file=sys.stderr)
        timeline_cli(url, "db", "upgrade")
        editor, admin = accounts(url)
        ids = public_ids(url)
        revisions_before = count_revisions(url)
        access_log = workdir / "access.log"
        with gunicorn(
            "wsgi:app",
            name="gunicorn",
            logs=workdir,
            probe="/healthz",
            env={"DATABASE_URL": url, "SECRET_KEY": "bench"},
            worker_class="gthread" if threads > 1 else "sync",
            threads=threads,
            options=("--access-logfile", str(access_log), "--access-logformat", ACCESS_FORMAT),
        ) as server:
            run = drive(server, url, seconds, clients, editor, admin, ids)
        run.access_log = access_log.read_text(errors="replace")
        run.found, run.lost = verify(url, run.own)
        run.revisions_written = count_revisions(url) - revisions_before
        return report(run)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def drive(
    server: Server, url: str, seconds: float, clients: int, editor: str, admin: str, ids: list[str]
) -> Run:
    """The clients' load on ``server`` for ``seconds``, sampled throughout; stops the server at the end."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/api/categories")
    categories = [c["slug"] for c in json.loads(conn.getresponse().read())["categories"]]
    conn.close()

    warmup = seconds * 0.1  # 30 s of a 5-minute run: imports, caches and pools have filled by then
    interval = min(3.0, max(0.5, seconds / 100))
    database = make_url(url).database if make_url(url).get_backend_name() == "sqlite" else None
    files = [Path(database), Path(database + "-wal")] if database else []
    stop = threading.Event()
    started = time.perf_counter()
    sampler = Sampler(server.pid, interval, started, files)
    try:
        sampler.sample()
        sampler.start()
        pool = [Client(i, server.port, editor, admin, ids, categories) for i in range(clients)]
        threads = [threading.Thread(target=c.run, args=(started + seconds, stop), daemon=True) for c in pool]
        print(f"soaking for {seconds:.0f} s with {clients} clients on port {server.port} "
              f"(gunicorn pid {server.pid})", file=sys.stderr)  # fmt: skip
        cpu_started = time.process_time()
        for t in threads:
            t.start()
        while alive := [t for t in threads if t.is_alive()]:
            elapsed = time.perf_counter() - started
            done = sum(len(c.samples) for c in pool)
            errors = sum(c.error_count for c in pool)
            print(f"\r  {elapsed:5.0f}/{seconds:.0f} s  {done:,} requests  {errors} errors",
                  end="", file=sys.stderr, flush=True)  # fmt: skip
            alive[0].join(1.0)
        print(file=sys.stderr)
        wall = time.perf_counter() - started
        client_cpu = time.process_time() - cpu_started
    finally:
        stop.set()
        sampler.stop.set()
    sampler.join()
    sampler.sample()  # the end figure: taken as the load stops, before the server does
    server.stop()
    return Run(pool, sampler, warmup, wall, seconds, client_cpu, server.log.read_text(errors="replace"))


@dataclass
class Run:
    """What one soak collected, for :func:`report`."""

    pool: list[Client]
    sampler: Sampler
    warmup: float
    wall: float
    seconds: float
    client_cpu: float  # CPU seconds of this process (the clients) during the run
    server_log: str
    access_log: str = ""
    found: int = 0
    lost: list[str] = field(default_factory=list)
    revisions_written: int = 0

    @property
    def own(self) -> list[OwnEvent]:
        return [e for c in self.pool for e in c.own]

    def server_ms(self) -> dict[str, list[float]]:
        """Per kind, each request's time inside a worker (gunicorn's access log), in ms."""
        result: dict[str, list[float]] = {}
        for line in self.access_log.splitlines():
            kind, _status, micros = [*line.split("\t"), "", ""][:3]
            if kind in MIX and micros.isdigit():
                result.setdefault(kind, []).append(int(micros) / 1000)
        return result


def report(run: Run) -> list[Row]:
    """The table rows, and the error details on stderr (the table only has room for counts)."""
    pool, sampler, warmup, wall, seconds = run.pool, run.sampler, run.warmup, run.wall, run.seconds
    own, found, lost, server_log = run.own, run.found, run.lost, run.server_log
    started = sampler.started
    samples = [(t - started, kind, ms) for c in pool for t, kind, ms in c.samples]
    errors = sum(c.error_count for c in pool)
    sent = sum(c.sent for c in pool)
    writes = sum(c.acknowledged_writes for c in pool)
    for message in [m for c in pool for m in c.errors][:ERROR_SAMPLES] + lost:
        print(f"ERROR {message}", file=sys.stderr)
    tracebacks = server_log.count("Traceback")
    if tracebacks or "WORKER TIMEOUT" in server_log:
        print("gunicorn log (last 4000 characters):\n" + server_log[-4000:], file=sys.stderr)

    tenth = (seconds - warmup) / 9  # the first and last ninth of the measured time
    first_stretch = [s for s in samples if warmup <= s[0] < warmup + tenth]
    last_stretch = [s for s in samples if s[0] >= seconds - tenth]
    restarts = len(sampler.seen) - WORKERS
    first_rate = len(first_stretch) / tenth if tenth else None
    rows = [
        row("requests answered — vs requests sent", len(samples), sent, "requests"),
        row("requests/s over the run — vs the first ninth after warm-up",
            len(samples) / wall, first_rate, "/s"),
        row("requests/s in the last ninth — vs the first ninth after warm-up",
            len(last_stretch) / tenth if tenth else None, first_rate, "/s"),
        row("errors (5xx, connection errors, unexpected answers) — vs 0", errors, 0, "count"),
        row("tracebacks in the gunicorn log — vs 0", tracebacks, 0, "count"),
        row("worker restarts (new worker PIDs) — vs 0", restarts, 0, "count"),
        row("events created — vs found in the database at the version, title and state their client saw",
            len(own), found, "rows"),
        row("revisions written — vs writes acknowledged (2xx)", run.revisions_written, writes, "rows"),
        row("anonymous reads answered from the response cache (X-Cache: hit) — vs all anonymous reads",
            sum(c.cache_hits for c in pool), sum(c.anonymous_reads for c in pool), "requests"),
    ]  # fmt: skip
    # Where the clients' waiting comes from: workers busy with requests (wall time, CPU or not) ...
    worker_cpu = sum(sampler.cpu_last[p] - sampler.cpu_first[p] for p in sampler.cpu_last)
    busy = sum(sum(v) for v in run.server_ms().values()) / 1000
    rows.append(row("time inside requests, % of one worker (sum over workers and threads) — vs their CPU",
                    busy / wall * 100, worker_cpu / wall * 100, "% cpu"))  # fmt: skip
    rows.append(row("gunicorn workers' CPU, % of one core — vs the load generator's (these clients)",
                    worker_cpu / wall * 100, run.client_cpu / wall * 100, "% cpu"))  # fmt: skip
    rows += rss_rows(sampler, warmup)
    for name in sampler.sizes[0][1]:  # no files (PostgreSQL): no rows
        after = [sizes[name] for t, sizes in sampler.sizes if t >= warmup] or [sampler.sizes[-1][1][name]]
        rows.append(row(f"SQLite {name} size at the end — vs after warm-up",
                        after[-1] / 2**20, after[0] / 2**20, "MB"))  # fmt: skip

    by_kind: dict[str, list[float]] = {}
    for _, kind, ms in samples:
        by_kind.setdefault(kind, []).append(ms)
    counts = Counter({k: len(v) for k, v in by_kind.items()})
    server = run.server_ms()
    p99_first = percentile([ms for *_, ms in first_stretch], 99)
    rows.append(row("p99 latency, all requests, last ninth — vs first ninth after warm-up",
                    percentile([ms for *_, ms in last_stretch], 99), p99_first, "ms"))  # fmt: skip
    for kind in MIX:
        if kind not in by_kind:
            continue
        for q in (50, 99):
            n = f" (n={counts[kind]:,})" if q == 50 else ""
            inside = percentile(server.get(kind, []), q)
            rows.append(row(f"{kind} p{q}{n} as the clients saw it — vs time inside the worker",
                            percentile(by_kind[kind], q), inside, "ms"))  # fmt: skip
    return rows


# ---------------------------------------------------------------------------- output


def verdict(rows: list[Row]) -> list[str]:
    """The issue's promises that did not hold (empty when the soak passed)."""
    failed = []
    for r in rows:
        name = r.measurement
        if r.unit == "count" and r.ours:
            failed.append(f"{name.split(' — ')[0]}: {r.ours}")
        if "growth" in name and r.ours is not None and r.ours >= GROWTH_BUDGET:
            failed.append(f"{name.split(' — ')[0]}: {r.ours:+.1f}%")
        if name.startswith(("events created", "requests answered")) and r.ours != r.baseline:
            failed.append(f"{name.split(' — ')[0]}: {r.ours} vs {r.baseline}")
    return failed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db-url",
        required=True,
        help="SQLAlchemy URL; a SQLite file is copied first, PostgreSQL is used as given",
    )
    parser.add_argument("--seconds", type=float, default=300, help="how long to soak (default 300)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker; >1 uses gthread as `make serve` does (default 1: sync)",
    )
    args = parser.parse_args()  # fmt: skip
    exit_on_sigterm()
    rows = soak(args.db_url, args.seconds, args.clients, args.threads)
    backend = make_url(args.db_url).get_backend_name()
    code = code_version()
    settings = " ".join(f"{k}={os.environ[k]}" for k in ("CACHE_URL", "CACHE_MAX_BYTES") if k in os.environ)
    cores, load = len(os.sched_getaffinity(0)), os.getloadavg()[0]
    print(f"\nsoak: {args.seconds:.0f} s, {args.clients} clients, gunicorn {WORKERS} workers × "
          f"{args.threads} threads, {backend}, {cores} cores, load {load:.1f}, "
          f"code {code} {settings}\n")  # fmt: skip
    print(table(rows))
    failed = verdict(rows)
    print("\n" + ("FAILED: " + "; ".join(failed) if failed else "passed: no errors, nothing lost, "
                  f"every worker's memory within {GROWTH_BUDGET:.0f}%"))  # fmt: skip
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

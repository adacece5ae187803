"""(i) ``timeline import`` of a generated GeoJSON file: events per second and peak memory.

Measured the way a user imports: the console script ``timeline import FILE`` in a process of its
own, on a freshly migrated database of the backend (a SQLite file under bench/data/, or a PostgreSQL
database made and dropped here), so the figure includes reading and checking every feature, the
writes, the derived tables and, on SQLite, the packed spatial index. The file is the suite's own
synthetic story (``bench.generate``'s rows as Features, the same seed), written once per N and reused.

The baseline, in the same run: the row-by-row import ``timeline import`` was before the bulk path
(the whole file read with ``json``, then ``import_collection``: each event through the ORM and the
per-row triggers), on the first ``BASELINE_EVENTS`` features only, because at its rate the whole file
would take the better part of an hour; its figure is a rate, so the two are comparable. Peak memory
is each process's own high-water mark (``VmHWM``, not ``ru_maxrss``, which on Linux keeps the
forking parent's peak across exec), reported from inside it at exit; the baseline's is for its
smaller slice (it grows with the file: the whole document is held at once).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from . import DATA, PROJECT_BIN, ROOT
from . import generate as gen
from .backends import Backend, timeline_cli
from .measure import Row, progress

BASELINE_EVENTS = {"sqlite": 2_000, "postgis": 500}

# Runs a program (the console script, or the baseline below) and prints its peak RSS at exit.
_MEASURED = (
    "import atexit, runpy, sys\n"
    "def peak(): return [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "atexit.register(lambda: print('maxrss_kib', peak(), file=sys.stderr))\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)
_BASELINE = (
    "import sys\n"
    "from timeline import create_app\n"
    "from timeline.domain.importing import import_collection, read_document\n"
    "from timeline.store.db import db\n"
    "with create_app().app_context():\n"
    "    report = import_collection(db.session, read_document(open(sys.argv[1], 'rb').read()))\n"
    "    print(report.created, 'created')\n"
)


def feature_file(n: int, limit: int | None = None) -> Path:
    """The suite's story of N events as a FeatureCollection (or its first ``limit`` features)."""
    count = n if limit is None else min(n, limit)
    path = DATA / f"import-{n}-v{gen.GENERATOR_VERSION}{'' if limit is None else f'-first-{count}'}.geojson"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    generator = gen.Generator()
    with partial.open("w", encoding="utf-8") as out:
        out.write('{"type": "FeatureCollection", "features": [\n')
        for pk in range(1, count + 1):
            row, sources = generator.event(pk)
            feature = {
                "type": "Feature",
                "id": row["id"],
                "geometry": json.loads(row["geometry"]),
                "properties": {
                    "title": row["title"],
                    "description": row["description"],
                    "lang": row["lang"],
                    "start": row["start_date"],
                    "end": row["end_date"],
                    "date_precision": row["date_precision"],
                    "category": row["category_slug"],
                    "place": row["place"],
                    "actors": row["actors"],
                    "confidence": row["confidence"],
                    "status": row["status"],
                    "sources": [{k: s[k] for k in ("url", "outlet", "title", "published")} for s in sources],
                },
            }
            out.write(("," if pk > 1 else "") + json.dumps(feature, ensure_ascii=False) + "\n")
        out.write("]}\n")
    partial.replace(path)
    return path


def _fresh(backend: Backend, name: str) -> str:
    """A freshly migrated, empty database of the backend for one measured import; its URL."""
    if backend.name == "sqlite":
        path = DATA / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path.resolve()}"
    else:
        parsed = make_url(backend.url)
        url = parsed.set(database=f"{parsed.database}_{name}").render_as_string(hide_password=False)
        if gen.prepare_postgres(url):
            gen.reset_postgres(url)  # ours: start from nothing
    timeline_cli(url, "db", "upgrade")
    return url


def _script(name: str, source: str) -> str:
    """A baseline program as a file, run like the console script (by path, in a process of its own)."""
    path = DATA / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return str(path)


def _run(url: str, *command: str) -> tuple[float, float, str]:
    """Seconds (wall clock, start-up included), peak RSS in MB and stdout of one measured process on
    ``url``: ``command`` is a script's path and its arguments."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": os.environ.get("SECRET_KEY", "bench")}
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _MEASURED, *command],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    peak = int(done.stderr.rsplit("maxrss_kib", 1)[1].split()[0]) / 1024
    return seconds, peak, done.stdout


def bench_import(backend: Backend, n: int) -> list[Row]:
    """(i1) import rate, (i2) peak memory and (i3) the dry run's rate, ours beside the baseline."""
    tag = "" if backend.name == "sqlite" else f"[{backend.name}] "
    path = feature_file(n)
    slice_n = BASELINE_EVENTS[backend.name]
    sample = feature_file(n, slice_n)
    script = str(PROJECT_BIN / "timeline")
    progress(f"  {tag}(i) timeline import of {n:,} events, baseline row by row on {slice_n:,}")
    url = _fresh(backend, "import")
    seconds, peak, out = _run(url, script, "import", str(path))
    assert f"{n} created" in out, out
    dry_seconds, _, _ = _run(url, script, "import", "--dry-run", str(path))
    base_url = _fresh(backend, "import_baseline")
    base_seconds, base_peak, out = _run(base_url, _script("baseline_import", _BASELINE), str(sample))
    assert f"{slice_n} created" in out, out
    # The old dry run: the whole document read, then every feature checked (check_collection).
    check = (
        "import sys\nfrom timeline import create_app\n"
        "from timeline.domain.importing import check_collection, read_document\n"
        "with create_app().app_context():\n"
        "    check_collection(read_document(open(sys.argv[1], 'rb').read()))\n"
    )
    old_dry, _, _ = _run(base_url, _script("baseline_check", check), str(sample))
    if backend.name == "postgis":
        for name in (url, base_url):
            gen.reset_postgres(name)  # leave an empty database, not N events, behind
    return [
        Row(f"i1 timeline import, {n:,} events (baseline: row by row, {slice_n:,})", n / seconds,
            slice_n / base_seconds, "/s"),
        Row(f"i2 peak RSS of the import, {n:,} events (baseline: {slice_n:,})", peak, base_peak, "MB"),
        Row(f"i3 timeline import --dry-run (baseline: json + check_collection, {slice_n:,})",
            n / dry_seconds, slice_n / old_dry, "/s"),
    ]  # fmt: skip

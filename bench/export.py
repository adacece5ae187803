"""(c) The whole database as GeoJSON: throughput and peak memory, ours against geopandas.

Each export runs in a fresh process (``python -m bench.export_worker``; see that module for why),
so each peak-memory figure belongs to one export alone. Ours is read against geopandas' usual
route, the issue's 300,000 features/s goal, and the same features built by SQLite's own JSON
functions. The worker reads a SQLite file, so this section runs on SQLite only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from . import ROOT
from .measure import Row, progress

EXPORT_GOAL = 300_000  # features per second


def run_worker(which: str, db_path: Path) -> dict[str, Any]:
    """One export in a fresh process; what it measured (its last line of output, JSON)."""
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "bench.export_worker", which, str(db_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"export worker {which} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_export(db_path: Path, n_events: int, skip_geopandas_above: int) -> tuple[list[Row], dict[str, Any]]:
    """(c1-c6) rows, and the versions of the baseline's libraries (for the report's header)."""
    progress("  (c) export: ours")
    ours = run_worker("ours", db_path)
    progress("  (c) export: ours, published events only")
    published = run_worker("ours-published", db_path)
    progress("  (c) export: features built in SQL")
    in_sql = run_worker("sqlite-json", db_path)
    base: dict[str, Any] = {}
    if n_events <= skip_geopandas_above:
        progress("  (c) export: geopandas")
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

"""One GeoJSON export of the whole database, in a process of its own.

``python -m bench.export_worker ours|ours-published|sqlite-json|geopandas DB``. Section (c)
(``bench.export``) starts one process per export, so each peak-memory figure belongs to one export
alone and the baseline's DataFrames cannot inflate (or, freed, hide) ours. It prints one JSON
object: features, bytes, seconds, rss_mb, peak_growth_mb (and the baseline's library versions).
Nothing of the app or of geopandas is imported at module level: each export imports only what it
uses, before its clock and its memory reading start.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path

FEATURE_START = b'{"type":"Feature"'

# The baseline gathers what our features carry (sources included) in one SQL statement.
BASELINE_SQL = """
SELECT e.id, e.title, e.description, e.lang, e.start_date AS start, e.end_date AS "end",
       e.date_precision, e.category_slug AS category, e.place, e.actors, e.confidence, e.status,
       (SELECT json_group_array(json_object('url', s.url, 'outlet', s.outlet, 'title', s.title,
                                            'published', s.published))
          FROM (SELECT * FROM sources s WHERE s.event_pk = e.pk ORDER BY s.position) s) AS sources,
       e.created_at, e.updated_at, e.version, e.geometry
FROM events e WHERE e.deleted_at IS NULL ORDER BY e.first_day, e.last_day, e.id
"""


# What the export could be if SQLite assembled each feature (json_object is C): a reference point
# for the 300,000 features/s goal, not a drop-in (timestamps are formatted by SQL here).
SQLITE_JSON_SQL = """
SELECT json_object(
  'type', 'Feature', 'id', e.id, 'geometry', json(e.geometry),
  'properties', json_object(
    'title', e.title, 'description', e.description, 'lang', e.lang, 'start', e.start_date,
    'end', e.end_date, 'date_precision', e.date_precision, 'category', e.category_slug,
    'place', e.place, 'actors', json(e.actors), 'confidence', e.confidence, 'status', e.status,
    'sources', json((SELECT json_group_array(json_object('url', s.url, 'outlet', s.outlet,
                                                        'title', s.title, 'published', s.published))
                      FROM (SELECT * FROM sources s WHERE s.event_pk = e.pk ORDER BY s.position) s)),
    'created_at', strftime('%Y-%m-%dT%H:%M:%SZ', e.created_at),
    'updated_at', strftime('%Y-%m-%dT%H:%M:%SZ', e.updated_at), 'version', e.version))
FROM events e WHERE e.deleted_at IS NULL ORDER BY e.first_day, e.last_day, e.id
"""


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def measure(export: Callable[[], tuple[float, ...]]) -> dict[str, float]:
    """Time one export and the growth of the process's peak RSS over its RSS just before.

    ``export`` returns (features, bytes) or (features, bytes, seconds spent checking its output);
    the checking is the benchmark's own work, not the export's, so it is taken off the clock.
    Linux keeps the peak (VmHWM) per process; writing 5 to clear_refs resets it to the current RSS,
    so the peak read afterwards is the export's own, not that of the imports before it.
    """
    Path("/proc/self/clear_refs").write_text("5")
    before = _status_kb("VmRSS")
    started = time.perf_counter()
    features, size, *checking = export()
    seconds = time.perf_counter() - started - sum(checking)
    growth = _status_kb("VmHWM") - before
    return {
        "features": features,
        "bytes": size,
        "seconds": seconds,
        "rss_mb": before / 1024,
        "peak_growth_mb": growth / 1024,
    }


def ours(db_path: str, include_drafts: bool = True) -> dict[str, float]:
    """The app's GeoJSON export over every event (or, without ``include_drafts``, the published
    ones an anonymous visitor downloads): the bytes the HTTP download sends."""
    os.environ.setdefault("SECRET_KEY", "bench")
    from timeline import create_app
    from timeline.domain.exporting import export_chunks
    from timeline.store.filters import EventFilter

    from .backends import app_session

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}"})

    def export() -> tuple[int, int, float]:
        features = size = 0
        checking = 0.0  # counting features scans every byte (0.5 s at a million): off the clock
        f = EventFilter(limit=None, include_drafts=include_drafts)
        for data in export_chunks(app_session(), f, "geojson"):
            started = time.perf_counter()
            features += data.count(FEATURE_START)
            size += len(data)
            checking += time.perf_counter() - started
        return features, size, checking

    with app.app_context():
        return measure(export)


def geopandas_baseline(db_path: str) -> dict[str, float]:
    """The usual data-science route: rows into a GeoDataFrame, then ``GeoDataFrame.to_json()``."""
    import geopandas
    import pandas
    import shapely

    def export() -> tuple[int, int]:
        with sqlite3.connect(db_path) as conn:
            frame = pandas.read_sql_query(BASELINE_SQL, conn)
        geometry = shapely.from_geojson(frame.pop("geometry").to_numpy())
        for column in ("actors", "sources"):
            frame[column] = [json.loads(v) for v in frame[column]]
        gdf = geopandas.GeoDataFrame(frame.set_index("id"), geometry=geometry, crs="EPSG:4326")
        data = gdf.to_json(drop_id=False, ensure_ascii=False, separators=(",", ":")).encode()
        return len(gdf), len(data)

    result = measure(export)
    versions = {
        "geopandas": geopandas.__version__,
        "shapely": shapely.__version__,
        "pandas": pandas.__version__,
    }
    return {**result, "versions": versions}  # type: ignore[dict-item]


def sqlite_json(db_path: str) -> dict[str, float]:
    """Features built by SQLite's JSON functions, streamed in batches like ours."""

    def export() -> tuple[int, int]:
        features, size = 0, len(b'{"type":"FeatureCollection","features":[\n') + len(b"\n]}\n")
        with sqlite3.connect(db_path) as conn:
            cursor = conn.execute(SQLITE_JSON_SQL)
            while batch := cursor.fetchmany(1000):
                data = ((",\n" if features else "") + ",\n".join(row[0] for row in batch)).encode()
                features += len(batch)
                size += len(data)
        return features, size

    return measure(export)


WORKERS: dict[str, Callable[[str], dict[str, float]]] = {
    "ours": ours,
    "ours-published": lambda path: ours(path, include_drafts=False),
    "geopandas": geopandas_baseline,
    "sqlite-json": sqlite_json,
}


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in WORKERS:
        raise SystemExit(f"usage: python -m bench.export_worker {'|'.join(WORKERS)} DB")
    print(json.dumps(WORKERS[sys.argv[1]](str(Path(sys.argv[2]).resolve()))))


if __name__ == "__main__":
    main()

"""Real clients read /ogc unmodified: GDAL's OAPIF driver (ogrinfo, ogr2ogr), OWSLib and geopandas.

A real server on 127.0.0.1 (werkzeug, in a thread) over a fresh seeded database of each backend.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import request
from helpers import feature, skip_or_fail, square
from werkzeug.serving import make_server

from timeline import create_app
from timeline.store.db import db

# 25 events (more than GDAL's and OWSLib's pages, so paging is followed), one draft that must
# never appear, one polygon.
EVENTS = [
    *[
        feature(f"ev-{i:02}", lon=30 + i * 0.3, lat=48 + i * 0.2, start=f"2024-{1 + i % 12:02}-{1 + i:02}")
        for i in range(24)
    ],
    feature("area", geometry=square(33.0, 48.0, 1.0), start="2025-01-02"),
    feature("draft", status="draft"),
]
PUBLISHED = sorted(e["id"] for e in EVENTS if e["properties"]["status"] == "published")
BBOX = (33.0, 49.0, 36.0, 52.0)
# What the live server was asked, so a test can tell a server-side filter from a client-side one.
REQUESTS: list[str] = []


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"{name} is not installed (Debian gdal-bin; .ci/run installs it)")
    assert path is not None
    return path


@pytest.fixture
def server(fresh_database: Callable[..., str], load_into: Any) -> Iterator[str]:
    """The /ogc root URL of a live server over the seeded events."""
    url = fresh_database("clients")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "clients"})
    load_into(app, *EVENTS)
    REQUESTS.clear()
    app.before_request(lambda: REQUESTS.append(request.full_path) and None)
    live = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=live.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{live.server_port}/ogc"
    live.shutdown()
    with app.app_context():
        db.engine.dispose()


def _our_bbox_ids(server: str) -> list[str]:
    import requests  # OWSLib's own HTTP client

    query = ",".join(str(v) for v in BBOX)
    answer = requests.get(f"{server}/collections/events/items?bbox={query}&limit=1000", timeout=30)
    assert answer.status_code == 200
    return sorted(f["id"] for f in answer.json()["features"])


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_ogrinfo_lists_the_layer_with_its_count_and_fields(server):
    out = _run(_tool("ogrinfo"), "-ro", "-so", f"OAPIF:{server}", "events")
    assert "Layer name: events" in out
    assert f"Feature Count: {len(PUBLISHED)}" in out
    for field in ("title", "start", "end", "date_precision", "category", "place", "confidence"):
        assert f"\n{field}: " in out, out


def test_ogr2ogr_copies_every_feature_to_a_geopackage(server, tmp_path: Path):
    import pyogrio

    target = tmp_path / "events.gpkg"
    _run(_tool("ogr2ogr"), "-f", "GPKG", str(target), f"OAPIF:{server}", "events")
    frame = pyogrio.read_dataframe(target, layer="events")
    assert sorted(frame["id"]) == PUBLISHED
    assert len(frame) == len(PUBLISHED)


def test_ogr_spat_returns_the_same_features_as_our_bbox(server, tmp_path: Path):
    import pyogrio

    target = tmp_path / "spat.gpkg"
    _run(_tool("ogr2ogr"), "-f", "GPKG", "-spat", *map(str, BBOX), str(target), f"OAPIF:{server}", "events")
    frame = pyogrio.read_dataframe(target, layer="events")
    expected = _our_bbox_ids(server)
    assert expected and sorted(frame["id"]) == expected


def test_ogr_where_on_a_date_is_answered_by_the_server(server, tmp_path: Path):
    """GDAL 3.6 turns a date bound into ``datetime=2024-10-01T/..`` (an empty time) and filters
    the rest itself; later GDALs send CQL2 ``filter``, which OWSLib's test below sends."""
    import pyogrio

    target = tmp_path / "where.gpkg"
    where = "start >= '2024-10-01'"
    _run(_tool("ogr2ogr"), "-f", "GPKG", "-where", where, str(target), f"OAPIF:{server}", "events")
    frame = pyogrio.read_dataframe(target, layer="events")
    expected = sorted(e["id"] for e in EVENTS[:-1] if e["properties"]["start"] >= "2024-10-01")
    assert expected and sorted(frame["id"]) == expected
    assert any("datetime=2024-10-01" in path for path in REQUESTS), REQUESTS


def test_owslib_reads_the_collection_and_items_with_bbox_and_datetime(server):
    from owslib.ogcapi.features import Features

    api = Features(server)
    assert [c["id"] for c in api.collections()["collections"]] == ["events"]
    assert api.collection("events")["extent"]["spatial"]["bbox"]
    everything = api.collection_items("events", limit=1000)
    assert sorted(f["id"] for f in everything["features"]) == PUBLISHED
    boxed = api.collection_items("events", bbox=list(BBOX), limit=1000)
    assert sorted(f["id"] for f in boxed["features"]) == _our_bbox_ids(server)
    dated = api.collection_items("events", datetime_="2025-01-01/..", limit=1000)
    assert [f["id"] for f in dated["features"]] == ["area"]


def test_owslib_sends_a_cql2_text_filter(server):
    from owslib.ogcapi.features import Features

    api = Features(server)
    found = api.collection_items("events", filter="start >= DATE('2024-10-01') AND id <> 'area'", limit=1000)
    expected = sorted(e["id"] for e in EVENTS[:-2] if e["properties"]["start"] >= "2024-10-01")
    assert expected and sorted(f["id"] for f in found["features"]) == expected
    assert found["numberMatched"] == len(expected)


def test_geopandas_reads_an_items_url(server):
    import geopandas

    frame = geopandas.read_file(f"{server}/collections/events/items?limit=1000")
    assert len(frame) == len(PUBLISHED)
    assert set(frame.geometry.geom_type) == {"Point", "Polygon"}

"""`timeline optimize`: repacking the spatial index changes no answer, on either backend."""

from __future__ import annotations

import random
from typing import Any

import pytest
from sqlalchemy import text

from timeline.store.db import db
from timeline.store.maintenance import ENTRIES_PER_LEAF, str_order

WINDOWS = [
    "bbox=35.0,51.0,35.6,51.4&start=2024-08-01&end=2024-08-31",
    "bbox=34.0,50.5,36.5,52.0",
    "start=2024-09-01&end=2024-12-31",
    "bbox=35.0,51.0,35.6,51.4&start=2024-08-05&end=2024-08-25",
]


def _feature(i: int, rng: random.Random) -> dict[str, Any]:
    lon, lat = round(rng.uniform(34.5, 36.5), 5), round(rng.uniform(50.8, 51.8), 5)
    if i % 3 == 0:
        geometry: dict[str, Any] = {"type": "Point", "coordinates": [lon, lat]}
    elif i % 3 == 1:
        geometry = {"type": "LineString", "coordinates": [[lon, lat], [lon + 0.2, lat + 0.05]]}
    else:
        ring = [[lon, lat], [lon + 0.1, lat], [lon + 0.1, lat + 0.1], [lon, lat + 0.1], [lon, lat]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
    day = 1 + i % 28
    return {
        "type": "Feature",
        "id": f"opt-{i:03d}",
        "geometry": geometry,
        "properties": {
            "title": f"event {i}",
            "start": f"2024-{8 + i % 5:02d}-{day:02d}",
            "category": "military",
            "sources": [{"url": f"https://example.org/{i}"}],
        },
    }


def _answers(client) -> list[tuple[int, list[str]]]:
    answers = []
    for query in WINDOWS:
        body = client.get(f"/api/events?limit=1000&{query}").get_json()
        answers.append((body["numberMatched"], sorted(f["id"] for f in body["features"])))
    return answers


def test_optimize_changes_no_answer_and_later_edits_are_indexed(app, client, runner, load, backend):
    rng = random.Random(5)
    load(*[_feature(i, rng) for i in range(120)])
    before = _answers(client)
    assert all(matched for matched, _ in before), before  # every window finds something to compare
    if backend == "sqlite":
        with app.app_context():
            entries = sorted(db.session.execute(text("SELECT * FROM event_rtree")).all())

    result = runner.invoke(args=["optimize"])

    assert result.exit_code == 0, result.output
    if backend == "sqlite":
        assert "repacked the spatial index: 120 entries" in result.output
        with app.app_context():
            assert sorted(db.session.execute(text("SELECT * FROM event_rtree")).all()) == entries
            assert db.session.scalar(text("SELECT rtreecheck('event_rtree')")) == "ok"
    else:
        assert "statistics" in result.output
    assert _answers(client) == before
    # The triggers still keep the index: an event added afterwards is found where it is.
    load(
        {**_feature(500, rng), "geometry": {"type": "Point", "coordinates": [35.25, 51.15]}}
        | {"properties": {**_feature(500, rng)["properties"], "start": "2024-08-15"}}
    )
    body = client.get(f"/api/events?limit=1000&{WINDOWS[3]}").get_json()
    assert "opt-500" in {f["id"] for f in body["features"]}


def test_optimize_on_an_empty_database(runner, backend):
    result = runner.invoke(args=["optimize"])
    assert result.exit_code == 0, result.output
    if backend == "sqlite":
        assert "0 entries" in result.output


def _leaf_volume(rows: list[tuple[Any, ...]]) -> float:
    """Total volume of the boxes around each run of ENTRIES_PER_LEAF rows: what an R*Tree built in
    this order would have its leaves cover (smaller means fewer leaves per search)."""
    total = 0.0
    for i in range(0, len(rows), ENTRIES_PER_LEAF):
        run = rows[i : i + ENTRIES_PER_LEAF]
        extent = [max(r[k + 1] for r in run) - min(r[k] for r in run) for k in (1, 3, 5)]
        total += extent[0] * extent[1] * extent[2]
    return total


def test_str_order_is_a_permutation_that_keeps_neighbours_together():
    rng = random.Random(1)
    rows = []
    for pk in range(1, 20_001):
        lon, lat, day = rng.uniform(33.5, 38.5), rng.uniform(50.0, 52.6), rng.randrange(19723, 20453)
        rows.append((pk, lon, lon + 0.01, lat, lat + 0.01, day, day + rng.choice((0, 0, 0, 30))))
    ordered = str_order(rows)
    assert sorted(ordered) == sorted(rows)
    assert _leaf_volume(ordered) < _leaf_volume(rows) / 20  # measured: 1/50
    assert str_order([]) == []


@pytest.mark.parametrize("count", [1, ENTRIES_PER_LEAF, ENTRIES_PER_LEAF + 1])
def test_str_order_keeps_every_row_of_small_sets(count):
    rows = [(i, 0.0, 1.0, 0.0, 1.0, i, i) for i in range(count)]
    assert sorted(str_order(rows)) == rows


def test_a_bulk_cli_import_ends_with_the_spatial_index_packed(app, runner, backend, tmp_path):
    """No `timeline optimize` afterwards: the import writes the R*Tree in the order optimize does."""
    import json

    from timeline.store.bulk import BULK_MIN_ROWS

    rng = random.Random(2)
    path = tmp_path / "large.geojson"
    features = [_feature(i, rng) for i in range(BULK_MIN_ROWS)]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    output = runner.invoke(args=["import", str(path)]).output
    assert f"{BULK_MIN_ROWS} created" in output and "optimize" not in output
    if backend == "sqlite":
        with app.app_context():
            assert db.session.scalar(text("SELECT rtreecheck('event_rtree')")) == "ok"
            imported = db.session.execute(text("SELECT * FROM event_rtree")).all()
        assert runner.invoke(args=["optimize"]).exit_code == 0
        with app.app_context():
            assert sorted(db.session.execute(text("SELECT * FROM event_rtree")).all()) == sorted(imported)


def test_the_sql_packing_order_is_str_order():
    """pack_rtree orders in SQL what str_order orders in Python: the same slabs, strips and runs."""
    import sqlite3

    from timeline.store.maintenance import RTREE_COLUMNS, str_order_sql

    rng = random.Random(3)
    rows = []
    for pk in range(1, 5_001):
        lon, lat = rng.uniform(33.5, 38.5), rng.uniform(50.0, 52.6)
        rows.append(
            (pk, lon, lon + 0.01, lat, lat + 0.01, rng.uniform(19723, 20453), rng.uniform(20453, 20500))
        )
    connection = sqlite3.connect(":memory:")
    connection.execute(f"CREATE TABLE entries ({RTREE_COLUMNS})")
    connection.executemany("INSERT INTO entries VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    ordered = connection.execute(str_order_sql("entries", len(rows))).fetchall()
    connection.close()
    assert ordered == str_order(rows)

"""GeoJSON export and import: streamed downloads, the CLI, round trips and all-or-nothing imports."""

import json

import pytest
from helpers import XSS_PAYLOADS, feature, square
from sqlalchemy import func, select

from timeline import create_app
from timeline.store.db import db
from timeline.store.models import Category, Event, Source


def count_rows(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def write(path, features, **extra):
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features, **extra}), encoding="utf-8"
    )
    return path


RICH = [
    feature(
        "point-day",
        start="2024-08-06",
        actors=["Ukraine", "Russia"],
        lang="de",
        title="Vorstoß bei Sudscha",
        description="Mehrzeilig\nText",
    ),
    feature("area-range", geometry=square(35.0, 51.0, 0.3), start="2024-08-06", end="2024-11-11"),
    feature(
        "line-year",
        geometry={"type": "LineString", "coordinates": [[130.3, 42.25], [132.35, 42.89]]},
        start="2023",
        end="2024",
        date_precision="year",
        category="arms-supply",
        confidence="reported",
        sources=[
            {"url": "https://www.example.com/a", "outlet": "Outlet", "title": "T", "published": "2023-10"},
            {"url": None, "outlet": "Seed article", "title": "No address", "published": None},
        ],
    ),
    feature(
        "multi-month",
        geometry={"type": "MultiPoint", "coordinates": [[34.9, 51.41], [34.64, 51.34]]},
        start="2024-10",
        date_precision="month",
        confidence="claimed",
        status="draft",
        sources=[],
    ),
]


def comparable(features):
    """Feature content without the bookkeeping a new database assigns afresh."""
    out = {}
    for f in features:
        props = {k: v for k, v in f["properties"].items() if k not in ("created_at", "updated_at", "version")}
        out[f["id"]] = {"geometry": f["geometry"], "properties": props}
    return out


def test_export_then_import_into_an_empty_database_reproduces_the_events(
    app, runner, tmp_path, fresh_database
):
    source = write(tmp_path / "in.geojson", RICH)
    assert runner.invoke(args=["import", str(source)]).exit_code == 0
    exported = tmp_path / "out.geojson"
    result = runner.invoke(args=["export", str(exported)])
    assert result.exit_code == 0, result.output
    first = json.loads(exported.read_text(encoding="utf-8"))

    empty = fresh_database("empty")
    other = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty, "SECRET_KEY": "x"})
    other_runner = other.test_cli_runner()
    assert other_runner.invoke(args=["import", str(exported)]).exit_code == 0
    again = tmp_path / "again.geojson"
    assert other_runner.invoke(args=["export", str(again)]).exit_code == 0
    second = json.loads(again.read_text(encoding="utf-8"))

    assert comparable(first["features"]) == comparable(second["features"])
    assert comparable(first["features"]) == comparable(
        [{"id": f["id"], "geometry": f["geometry"], "properties": f["properties"]} for f in RICH]
    )
    with other.app_context():
        db.engine.dispose()


def test_reimport_updates_instead_of_duplicating(app, runner, tmp_path):
    path = write(tmp_path / "a.geojson", RICH)
    assert "4 created" in runner.invoke(args=["import", str(path)]).output
    result = runner.invoke(args=["import", str(path)])
    assert "0 created, 0 updated, 4 unchanged" in result.output
    changed = [dict(f) for f in RICH]
    changed[0] = feature("point-day", start="2024-08-07", title="Corrected date")
    result = runner.invoke(args=["import", str(write(tmp_path / "b.geojson", changed))])
    assert "0 created, 1 updated, 3 unchanged" in result.output
    assert count_rows(app, Event) == 4
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.id == "point-day"))
        assert (event.start, event.title, event.version) == ("2024-08-07", "Corrected date", 2)


def test_source_changes_bump_the_version(app, load):
    load(feature("e1"))
    load(feature("e1", sources=[{"url": "https://example.org/other", "outlet": "Other"}]))
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.id == "e1"))
        assert event.version == 2
        assert [s.url for s in event.sources] == ["https://example.org/other"]
    assert count_rows(app, Source) == 1


def test_features_without_id_get_one(app, runner, tmp_path):
    path = write(tmp_path / "a.geojson", [feature(None), feature(None, title="Second")])
    assert runner.invoke(args=["import", str(path)]).exit_code == 0
    with app.app_context():
        assert all(e.id.startswith("ev-") for e in db.session.scalars(select(Event)))
    assert count_rows(app, Event) == 2


def test_one_bad_feature_stores_none_and_every_bad_feature_is_listed(app, runner, tmp_path):
    features = [
        feature("good-1"),
        feature("bad-date", start="2024-02-30"),
        feature("good-2"),
        feature("bad-url", sources=[{"url": "javascript:alert(1)"}]),
        feature("bad-ring", geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
        feature("good-1"),  # duplicate id
    ]
    result = runner.invoke(args=["import", str(write(tmp_path / "mixed.geojson", features))])
    assert result.exit_code == 1
    out = result.output
    assert "4 of 6 features are invalid; nothing was imported" in out
    assert "feature 1 (bad-date): start:" in out and "2024-02 has 29 days" in out
    assert "feature 3 (bad-url): sources[0]:" in out
    assert "feature 4 (bad-ring): geometry:" in out and "not closed" in out
    assert "feature 5 (good-1): id: 'good-1' is also the id of feature 0" in out
    assert count_rows(app, Event) == 0
    assert count_rows(app, Category) == 0


def test_a_database_error_mid_import_leaves_nothing(app, load, monkeypatch):
    import timeline.domain.importing as importer

    calls = {"n": 0}
    real = importer.apply_event_data

    def failing(event, data):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        real(event, data)

    monkeypatch.setattr(importer, "apply_event_data", failing)
    with pytest.raises(RuntimeError):
        load(feature("a"), feature("b"))
    assert count_rows(app, Event) == 0
    assert count_rows(app, Category) == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"type": "FeatureCollection", "features": [', "not valid JSON"),
        (
            '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Point", '
            '"coordinates": [NaN, 1]}, "properties": {}}]}',
            "NaN is not valid JSON",
        ),
        ('{"type": "Feature"}', "expected a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection"}', 'no "features" array'),
        ("[" * 5000 + "]" * 5000, "nested too deeply"),
        ('{"a":' * 100 + "1" + "}" * 100, "nested too deeply"),
    ],
)
def test_malformed_files_are_refused_with_a_message(app, runner, tmp_path, content, message):
    path = tmp_path / "bad.geojson"
    path.write_text(content)
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert count_rows(app, Event) == 0


def test_unknown_properties_and_new_categories_are_reported(app, runner, tmp_path):
    path = write(tmp_path / "a.geojson", [feature("x", category="new-kind", colour="red", marker="big")])
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0
    assert "new category added: new-kind" in result.output
    assert "unknown property 'colour' ignored (features 0)" in result.output
    assert "unknown property 'marker' ignored (features 0)" in result.output
    with app.app_context():
        category = db.session.get(Category, "new-kind")
        assert category.label == "New kind" and category.colour.startswith("#")


def test_http_export_is_an_attachment_with_filters(client, load):
    load(
        feature("a", start="2024-08-06"),
        feature("b", start="2024-10-01", category="deployment"),
        feature("c", start="2024-10-02", status="draft"),
    )
    response = client.get("/export/events.geojson")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert response.headers["Content-Disposition"] == 'attachment; filename="timeline-events.geojson"'
    body = json.loads(response.get_data(as_text=True))
    assert [f["id"] for f in body["features"]] == ["a", "b"]
    filtered = json.loads(client.get("/export/events.geojson?category=deployment").get_data(as_text=True))
    assert [f["id"] for f in filtered["features"]] == ["b"]
    assert client.get("/export/events.geojson?bbox=1,2").status_code == 400
    assert client.get("/export/events.shp").status_code == 404


def test_http_export_streams_more_than_one_batch(client, load, monkeypatch):
    from timeline.domain import exporting

    monkeypatch.setattr(exporting, "BATCH", 4)
    load(*[feature(f"e{i:02d}", lon=30 + i / 1000) for i in range(10)])
    response = client.get("/export/events.geojson")
    assert response.is_streamed
    chunks = [c for c in response.iter_encoded() if c]
    assert len(chunks) >= 1 + 3 + 2 + 1  # opening, three batches of at most 4 with separators, closing
    body = json.loads(b"".join(chunks))
    assert sorted(f["id"] for f in body["features"]) == [f"e{i:02d}" for i in range(10)]


def test_export_is_read_by_gdal(client, load, tmp_path):
    """A real GIS client (GDAL through pyogrio/geopandas) reads what we write."""
    geopandas = pytest.importorskip("geopandas")
    load(*RICH)
    path = tmp_path / "events.geojson"
    path.write_bytes(client.get("/export/events.geojson").get_data())
    frame = geopandas.read_file(path, engine="pyogrio")
    assert len(frame) == 3  # the draft is not exported to anonymous readers
    assert frame.crs.to_epsg() == 4326
    assert set(frame.geometry.geom_type) == {"Point", "Polygon", "LineString"}
    row = frame.set_index("id").loc["point-day"] if "id" in frame.columns else frame.iloc[0]
    assert row["title"] == "Vorstoß bei Sudscha"


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_hostile_text_survives_export_as_plain_data(client, load, payload):
    load(
        feature(
            "x",
            title=payload,
            description=payload,
            place=payload,
            actors=[payload],
            sources=[{"url": "https://example.org", "outlet": payload, "title": payload}],
        )
    )
    body = json.loads(client.get("/export/events.geojson").get_data(as_text=True))
    props = body["features"][0]["properties"]
    assert props["title"] == props["description"] == props["place"] == payload
    assert props["sources"][0]["outlet"] == payload


def test_dry_run_checks_without_storing(app, runner, tmp_path):
    good = write(tmp_path / "good.geojson", RICH)
    result = runner.invoke(args=["import", "--dry-run", str(good)])
    assert result.exit_code == 0
    assert "all 4 features are valid; nothing was stored" in result.output
    bad = write(tmp_path / "bad.geojson", [feature("x", start="2024-13", date_precision="month")])
    result = runner.invoke(args=["import", "--dry-run", str(bad)])
    assert result.exit_code == 1
    assert "feature 0 (x): start:" in result.output
    assert count_rows(app, Event) == 0


def test_feature_cache_follows_every_kind_of_write(app, client, load, users):
    """Exports stream the JSON cached with each revision: it must match the mapping after any write."""
    from helpers import auth
    from sqlalchemy import delete

    from timeline.domain.features import feature_json
    from timeline.store.models import FeatureCache

    load(*RICH)
    admin = auth(users["admin"]["token"])
    client.patch(
        "/api/events/point-day", json={"version": 1, "properties": {"title": "Edited"}}, headers=admin
    )
    client.post("/api/events/multi-month/publish", headers=admin)
    client.delete("/api/events/line-year", headers=admin)
    client.post("/api/events/line-year/restore", headers=admin)
    client.patch("/api/events/area-range", json={"version": 1, "properties": {"sources": []}}, headers=admin)
    with app.app_context():
        events = db.session.scalars(select(Event)).all()
        cached = {c.event_pk: c.json for c in db.session.scalars(select(FeatureCache))}
        assert {e.pk: feature_json(e) for e in events} == cached
    exported = client.get("/export/events.geojson").get_data(as_text=True)
    # Without the cache (events written before it existed) the export is the same, mapped on the fly.
    with app.app_context():
        db.session.execute(delete(FeatureCache).where(FeatureCache.event_pk % 2 == 0))
        db.session.commit()
    assert client.get("/export/events.geojson").get_data(as_text=True) == exported
    titles = [f["properties"]["title"] for f in json.loads(exported)["features"]]
    assert "Edited" in titles and len(titles) == 4

"""Events store the region and country they lie in, and readers filter by them.

Every save path (the write API, the importer's row-by-row and bulk paths, an ACLED file) fills
``region_code``/``region_name``/``country_code``/``country_name`` from the offline gazetteer; an
ACLED file keeps its own admin1/country names. ``region=`` and ``country=`` select by code or name
on the JSON API, the OGC items and the exports, a bad value is a 400, and a save without the
gazetteer still works (the columns stay empty until ``timeline places fill-regions``).
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from acled_rows import SUDZHA, acled_table
from flask_migrate import upgrade
from helpers import auth, feature, feature_ids, skip_or_fail, square
from sqlalchemy import text

from geodata.gazetteer import default_path
from timeline import create_app
from timeline.store.db import db

SUMY = (34.80, 50.91)  # Sumy, in Sumy Oblast (UA-59)
KURSK = (36.19, 51.73)  # Kursk, in Kursk Oblast (RU-KRS)


@pytest.fixture(autouse=True)
def _gazetteer() -> None:
    if not default_path().exists():
        skip_or_fail(f"the gazetteer index ({default_path()}); build it with `make places`")


def _draft() -> dict:
    """An editor's new event at Sudzha (editors' events are drafts)."""
    body = feature(None)
    del body["properties"]["status"]
    return body


def _places(app, *ids: str) -> dict[str, tuple[str | None, ...]]:
    with app.app_context():
        rows = db.session.execute(
            text("SELECT id, region_code, region_name, country_code, country_name FROM events")
        ).all()
        db.session.remove()
    return {row[0]: tuple(row[1:]) for row in rows if not ids or row[0] in ids}


def _story(load) -> None:
    load(
        feature("sudzha"),  # Sudzha, Kursk Oblast
        feature("kursk", lon=KURSK[0], lat=KURSK[1], title="Kursk", start="2024-08-20"),
        feature("sumy", lon=SUMY[0], lat=SUMY[1], title="Sumy", start="2024-09-01"),
        feature("area", geometry=square(35.0, 51.0, 0.3), title="Area near Sudzha", start="2024-10-01"),
        feature("sea", lon=30.0, lat=43.0, title="At sea", start="2024-10-02"),  # the Black Sea
    )


def test_imported_events_store_their_region_and_country(app, load):
    _story(load)
    places = _places(app)
    assert places["sudzha"] == ("RU-KRS", "Kursk Oblast", "RU", "Russian Federation")
    assert places["kursk"][:1] == ("RU-KRS",)
    assert places["sumy"][0] == "UA-59" and places["sumy"][2] == "UA"
    assert places["area"][0] == "RU-KRS"  # an area by a point inside it
    assert places["sea"] == (None, None, None, None)


def test_the_write_api_stores_regions_on_create_and_moves_them_on_update(app, client, users):
    editor = auth(users["editor"]["token"])
    created = client.post("/api/events", json=_draft(), headers=editor)
    assert created.status_code == 201, created.get_json()
    event_id = created.get_json()["id"]
    assert _places(app, event_id)[event_id][0] == "RU-KRS"
    moved = {"geometry": {"type": "Point", "coordinates": list(SUMY)}}
    response = client.patch(f"/api/events/{event_id}", json=moved, headers={**editor, "If-Match": '"1"'})
    assert response.status_code == 200, response.get_json()
    assert _places(app, event_id)[event_id][:3] == ("UA-59", "Sumy Oblast", "UA")


def test_a_bulk_import_stores_regions_as_the_row_by_row_one(app):
    from timeline.domain.importing import import_stream

    features = [feature(f"bulk-{i}", lon=SUMY[0] + i * 1e-4, lat=SUMY[1]) for i in range(600)]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    with app.app_context():
        import_stream(db.session, io.BytesIO(data))
        db.session.remove()
    places = _places(app)
    assert len(places) == 600
    assert {p[0] for p in places.values()} == {"UA-59"}


def test_an_acled_file_keeps_its_admin_names_and_gets_the_codes(app, runner, tmp_path):
    path = tmp_path / "acled.csv"
    path.write_bytes(acled_table(SUDZHA))
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    assert _places(app)["acled-RUS12345"] == ("RU-KRS", "Kursk", "RU", "Russia")
    out = tmp_path / "out.acled.csv"
    assert runner.invoke(args=["export", "--region", "RU-KRS", str(out)]).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["admin1"], r["country"]) for r in rows] == [("Kursk", "Russia")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"region": "RU-KRS"}, ["sudzha", "kursk", "area"]),
        ({"region": "ru-krs"}, ["sudzha", "kursk", "area"]),
        ({"region": "sumy oblast"}, ["sumy"]),
        ({"region": "UA-59,Kursk Oblast"}, ["sudzha", "kursk", "sumy", "area"]),
        ({"country": "UA"}, ["sumy"]),
        ({"country": "Russian Federation", "start": "2024-08-10", "end": "2024-12-31"}, ["kursk", "area"]),
        ({"region": "RU-BEL"}, []),
    ],
)
def test_region_and_country_filter_the_api_the_ogc_items_and_the_exports(app, client, load, query, expected):
    _story(load)
    assert feature_ids(client.get("/api/events", query_string=query)) == expected
    body = client.get("/api/events", query_string={**query, "limit": 1}).get_json()
    assert body.get("numberMatched", len(expected)) == len(expected)  # not the counts of all events
    if "start" not in query:  # the OGC items take a window as datetime=
        ogc = client.get("/ogc/collections/events/items", query_string=query)
        assert [f["id"] for f in ogc.get_json()["features"]] == expected
        assert ogc.get_json()["numberMatched"] == len(expected)
    export = client.get("/export/events.geojson", query_string=query)
    assert export.status_code == 200
    assert [f["id"] for f in json.loads(export.data)["features"]] == expected


def test_the_counts_do_not_ignore_a_region(app, client, load):
    _story(load)
    window = {"start": "2024-08-01", "end": "2024-12-31", "limit": 1}
    everything = client.get("/api/events", query_string=window).get_json()  # from the span counts
    in_sumy = client.get("/api/events", query_string={**window, "region": "UA-59"}).get_json()
    assert everything["numberMatched"] == 5
    assert in_sumy["numberMatched"] == 1
    span = {"start": "2024-08-01", "end": "2024-12-31"}
    for query in ({"region": "UA-59"}, {**span, "region": "UA-59"}, {"country": "RU"}):
        weeks = client.get("/api/density", query_string=query).get_json()["weeks"]
        clusters = client.get("/api/clusters", query_string={**query, "zoom": 3}).get_json()
        expected = 1 if "region" in query else 3
        assert sum(w["count"] for w in weeks) == expected, query
        assert clusters["numberMatched"] == expected, query


@pytest.mark.parametrize(
    ("name", "value"),
    [("region", "<script>"), ("region", "x" * 300), ("country", "1=1"), ("country", "R%"), ("region", "a;b")],
)
def test_a_bad_region_or_country_is_a_400(client, name, value):
    for url in ("/api/events", "/ogc/collections/events/items", "/export/events.csv"):
        response = client.get(url, query_string={name: value})
        assert response.status_code == 400, url
        assert response.is_json, url
        body = response.get_json()
        assert name in json.dumps(body), body


def test_a_save_works_without_the_gazetteer_and_fill_regions_fills_in_later(
    fresh_database, app_factory, users_on, tmp_path
):
    url = fresh_database("nogaz")
    app = app_factory(url, GAZETTEER_PATH=str(tmp_path / "missing.sqlite"))
    users = users_on(app)
    client = app.test_client()
    created = client.post("/api/events", json=_draft(), headers=auth(users["editor"]["token"]))
    assert created.status_code == 201, created.get_json()
    event_id = created.get_json()["id"]
    assert _places(app)[event_id] == (None, None, None, None)
    result = app.test_cli_runner().invoke(args=["places", "fill-regions"])
    assert result.exit_code != 0 and "make places" in result.output

    with_index = app_factory(url)
    result = with_index.test_cli_runner().invoke(args=["places", "fill-regions"])
    assert result.exit_code == 0, result.output
    assert "1 events" in result.output
    assert _places(with_index)[event_id][:3] == ("RU-KRS", "Kursk Oblast", "RU")


def test_migration_0013_fills_in_the_regions_of_existing_events(fresh_database):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": fresh_database("at12", migrated=False),
                      "SECRET_KEY": "x"})  # fmt: skip
    with app.app_context():
        upgrade(revision="0012")
        with db.engine.begin() as connection:
            connection.execute(text("INSERT INTO categories VALUES ('casualties', 'Casualties', '#882255')"))
            for pk, (lon, lat) in enumerate([(35.271, 51.191), SUMY], start=1):
                connection.execute(
                    text(
                        "INSERT INTO events (pk, id, title, description, lang, start_date, date_precision,"
                        " first_day, last_day, geometry, geometry_type, min_lon, min_lat, max_lon, max_lat,"
                        " place, category_slug, actors, confidence, status, created_at, updated_at, version,"
                        " attributes) VALUES (:pk, :id, 'Old', '', 'en', '2024-08-06', 'day', :day, :day,"
                        " :geometry, 'Point', :lon, :lat, :lon, :lat, '', 'casualties', '[]', 'confirmed',"
                        " 'published', :now, :now, 1, '{}')"
                    ),
                    {"pk": pk, "id": f"old-{pk}", "day": "2024-08-06", "lon": lon, "lat": lat,
                     "geometry": json.dumps({"type": "Point", "coordinates": [lon, lat]}),
                     "now": "2024-08-07 00:00:00"},
                )  # fmt: skip
        upgrade(revision="0013")
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT id, region_code, country_code, version FROM events ORDER BY pk")
            )
            assert rows.all() == [("old-1", "RU-KRS", "RU", 1), ("old-2", "UA-59", "UA", 1)]
            labels = connection.execute(text("SELECT labels FROM categories")).scalar()
            assert (json.loads(labels) if isinstance(labels, str) else labels) == {"de": "Verluste"}
        db.session.remove()
        db.engine.dispose()


def test_an_acled_export_names_the_admin1_and_country_of_any_event(client, load):
    """An event typed in by an editor has no ACLED attributes: the export names its region and
    country as ACLED does ("Kursk", "Russia"), from the point."""
    _story(load)
    export = client.get("/export/events.acled.csv", query_string={"region": "RU-KRS,UA-59"})
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    names = {r["event_id_cnty"]: (r["admin1"], r["country"]) for r in rows}
    assert names == {"sudzha": ("Kursk", "Russia"), "kursk": ("Kursk", "Russia"),
                     "sumy": ("Sumy", "Ukraine"), "area": ("Kursk", "Russia")}  # fmt: skip

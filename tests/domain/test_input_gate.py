"""One input gate on every path: broken or hidden characters, huge numbers, foreign CRSs, redirects."""

import json

import pytest
from helpers import GOOD_PASSWORD, auth, csrf_token, feature, log_in
from sqlalchemy import func, select

from timeline.domain.input_gate import local_redirect_target
from timeline.store.db import db
from timeline.store.models import Event

SURROGATE = '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [35.27, 51.19]}, ' \
    '"properties": {"title": "Sudzha \\ud800", "start": "2024-08-06"}}'  # fmt: skip


def stored(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Event))


def test_an_unpaired_surrogate_is_refused_by_create_with_422(app, client, users):
    response = client.post("/api/events", data=SURROGATE, content_type="application/geo+json",
                           headers=auth(users["admin"]["token"]))  # fmt: skip
    assert response.status_code == 422
    body = response.get_json()
    assert body["problems"][0]["field"] == "title" and "surrogate" in body["problems"][0]["message"]
    assert stored(app) == 0


def test_an_unpaired_surrogate_is_refused_by_patch_and_the_event_is_unchanged(app, client, users, load):
    load(feature("ev-g"))
    body = '{"version": 1, "properties": {"place": "\\udfff"}}'
    response = client.patch("/api/events/ev-g", data=body, content_type="application/json",
                            headers=auth(users["admin"]["token"]))  # fmt: skip
    assert response.status_code == 422
    assert client.get("/api/events/ev-g").get_json()["properties"]["version"] == 1


def test_the_validator_refuses_what_the_write_api_refuses(client):
    document = '{"type": "FeatureCollection", "features": [' + SURROGATE + "]}"
    response = client.post("/api/validate", data=document, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["problems"][0]["problems"][0]["field"] == "title"


@pytest.mark.parametrize("text", ["bell\x07", "escape\x1b[31m", "form\x0cfeed", "nul\x00"])
def test_control_characters_are_refused_and_line_breaks_kept(client, users, text):
    refused = client.post(
        "/api/events", json=feature(None, title=text), headers=auth(users["admin"]["token"])
    )
    assert refused.status_code == 422
    assert refused.get_json()["problems"][0]["field"] == "title"
    kept = client.post(
        "/api/events",
        json=feature(None, description="one\ttwo\nthree\r\nfour"),
        headers=auth(users["admin"]["token"]),
    )
    assert kept.status_code == 201
    assert kept.get_json()["properties"]["description"] == "one\ttwo\nthree\r\nfour"


def test_the_cli_import_reports_broken_text_without_a_traceback(app, runner, tmp_path):
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [' + SURROGATE + "]}")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0
    assert "surrogate" in result.output and "Traceback" not in result.output
    assert stored(app) == 0


def test_a_property_name_that_is_not_text_is_refused(client, users):
    raw = json.dumps(feature(None))[:-2] + ', "x\\ud83d": 1}}'
    response = client.post("/api/events", data=raw, content_type="application/json",
                           headers=auth(users["admin"]["token"]))  # fmt: skip
    assert response.status_code == 422


@pytest.mark.parametrize("name", ["EPSG:3857", "urn:ogc:def:crs:EPSG::3857", "EPSG:4326"])
def test_a_crs_other_than_wgs84_lonlat_is_refused_with_a_way_out(app, client, users, name):
    crs = {"type": "name", "properties": {"name": name}}
    one = {**feature(None), "crs": crs}
    response = client.post("/api/events", json=one, headers=auth(users["admin"]["token"]))
    assert response.status_code == 422
    assert "reproject" in response.get_json()["detail"]
    collection = {"type": "FeatureCollection", "crs": crs, "features": [feature("a")]}
    checked = client.post("/api/validate", json=collection)
    assert checked.status_code in (400, 422) and "reproject" in checked.get_json()["detail"]
    assert stored(app) == 0


def test_the_crs_gdal_writes_for_lonlat_data_is_accepted(client):
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    collection = {"type": "FeatureCollection", "crs": crs, "features": [{**feature("a"), "crs": crs}]}
    assert client.post("/api/validate", json=collection).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "/api/events?offset=99999999999999999999",
        "/api/events?limit=99999999999999999999",
        "/api/changes?since=99999999999999999999",
        "/api/changes?since=-99999999999999999999",
    ],
)
def test_integers_beyond_64_bits_are_a_400(client, url):
    response = client.get(url)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid parameter"


def test_the_audit_logs_before_is_range_checked(client, users):
    log_in(client, "admin1", GOOD_PASSWORD)
    assert client.get("/admin/audit?before=99999999999999999999").status_code == 400
    assert client.get("/admin/audit?before=3").status_code == 200


@pytest.mark.parametrize("q", ["a\x00b", "line\x1bbreak"])
def test_query_text_with_control_characters_is_a_400(client, q):
    response = client.get("/api/events", query_string={"q": q})
    assert response.status_code == 400 and response.get_json()["parameter"] == "q"


@pytest.mark.parametrize(
    "target",
    [
        "/edit/\r\nSet-Cookie: x=1",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example/",
        "edit",
        "/a\x7fb",
    ],
)
def test_unsafe_redirect_targets_fall_back_to_a_local_page(client, users, target):
    assert local_redirect_target(target) is None
    switched = client.post("/language", data={"lang": "de", "next": target})
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    response = client.post(
        "/login",
        data={
            "username": "editor1",
            "password": GOOD_PASSWORD,
            "next": target,
            "csrf_token": csrf_token(client),
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/edit/"
    switched = client.post(
        "/language", data={"lang": "de", "next": target, "csrf_token": csrf_token(client, "/")}
    )
    assert switched.status_code == 302 and switched.headers["Location"] == "/"


def test_a_safe_local_target_is_kept(client, users):
    assert local_redirect_target("/edit/events/new?x=1") == "/edit/events/new?x=1"
    assert local_redirect_target("/a\x00") is None  # a request holding NUL is refused before any view
    response = client.post(
        "/login",
        data={
            "username": "editor1",
            "password": GOOD_PASSWORD,
            "next": "/edit/trash",
            "csrf_token": csrf_token(client),
        },
    )
    assert response.headers["Location"] == "/edit/trash"

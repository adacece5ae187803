"""``/api/places`` (autocomplete) and ``/api/places/reverse`` answer GeoJSON from the offline
gazetteer, in the asked language, and refuse bad parameters with a 400 that names them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from geodata.gazetteer import ensure_index, haversine_km


@pytest.fixture(scope="session")
def gazetteer_path(request: pytest.FixtureRequest) -> Path:
    """The real index, built once into pytest's cache folder (as tests/geodata does)."""
    return ensure_index(Path(request.config.cache.mkdir("gazetteer")) / "gazetteer.sqlite")


@pytest.fixture
def app(fresh_database: Callable[..., str], app_factory: Callable[..., Flask], gazetteer_path: Path) -> Flask:
    return app_factory(fresh_database(), GAZETTEER_PATH=str(gazetteer_path))


def _search(client: FlaskClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/places", query_string=params)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    body: dict[str, Any] = response.get_json()
    assert body["type"] == "FeatureCollection"
    return body


def test_search_answers_points_with_name_label_kind_country_region(client: FlaskClient) -> None:
    body = _search(client, q="Суджа", lang="en")
    first = body["features"][0]
    assert first["geometry"]["type"] == "Point"
    lon, lat = first["geometry"]["coordinates"]
    assert haversine_km(35.271, 51.191, lon, lat) < 5
    assert first["properties"] | {"population": None} == {
        "id": "geonames:486816",
        "name": "Sudzha",
        "label": "Sudzha",
        "kind": "city",
        "country": "RU",
        "country_label": first["properties"]["country_label"],
        "region": "Kursk Oblast",
        "population": None,
        "source": "GeoNames cities500 (CC BY 4.0)",
    }
    assert first["properties"]["population"] > 1000
    assert "GeoNames" in body["attribution"]


def test_labels_are_in_the_asked_language_or_the_interface_language(client: FlaskClient) -> None:
    assert (
        _search(client, q="Kursk Oblast", lang="ru")["features"][0]["properties"]["label"]
        == "Курская область"
    )
    assert (
        _search(client, q="Kursk Oblast", lang="de")["features"][0]["properties"]["label"] == "Oblast Kursk"
    )
    german = client.get("/api/places?q=Kursk%20Oblast", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert german.get_json()["features"][0]["properties"]["label"] == "Oblast Kursk"
    assert "Accept-Language" in german.headers["Vary"]


def test_the_region_is_found_by_its_russian_name(client: FlaskClient) -> None:
    first = _search(client, q="Курская область")["features"][0]
    assert (first["id"], first["properties"]["kind"]) == ("ne-admin1:RU-KRS", "region")


def test_near_and_bbox_rank_namesakes(client: FlaskClient) -> None:
    assert _search(client, q="Kurchatov")["features"][0]["properties"]["country"] == "RU"
    near = _search(client, q="Kurchatov", near="78.5,50.7")["features"]
    assert near[0]["properties"]["country"] == "KZ" and near[0]["properties"]["distance_km"] < 10
    in_view = _search(client, q="Kurchatov", bbox="70,45,85,55")["features"]
    assert [f["properties"]["country"] for f in in_view[:2]] == ["KZ", "RU"]


def test_limit_caps_the_answers(client: FlaskClient) -> None:
    assert len(_search(client, q="Iva", limit=3)["features"]) == 3
    assert len(_search(client, q="Iva")["features"]) == 10


def test_a_curated_village_comes_with_the_source_and_precision_of_its_point(client: FlaskClient) -> None:
    first = _search(client, q="Malaya Loknya")["features"][0]
    assert first["properties"]["kind"] == "custom"
    assert "approximate" in first["properties"]["source"] and first["properties"]["precision_km"] > 0


def test_a_name_that_matches_nothing_is_an_empty_collection(client: FlaskClient) -> None:
    assert _search(client, q="Qxqxqxqzzz")["features"] == []


def test_reverse_names_the_nearest_place_and_the_region_and_country_of_the_point(client: FlaskClient) -> None:
    response = client.get("/api/places/reverse?lon=35.28&lat=51.19&lang=ru")
    assert response.status_code == 200
    body = response.get_json()
    nearest = body["features"][0]
    assert nearest["properties"]["name"] == "Sudzha" and nearest["properties"]["label"] == "Суджа"
    assert 0 < nearest["properties"]["distance_km"] < 1
    assert body["region"] == {
        "id": "ne-admin1:RU-KRS",
        "code": "RU-KRS",
        "name": "Kursk",
        "label": "Курская область",
    }
    assert body["country"]["code"] == "RU"
    sumy = client.get("/api/places/reverse?lon=34.80&lat=50.92").get_json()
    assert sumy["region"]["code"] == "UA-59" and sumy["country"]["code"] == "UA"


def test_reverse_at_sea_has_no_region(client: FlaskClient) -> None:
    body = client.get("/api/places/reverse?lon=-30&lat=0").get_json()
    assert body["region"] is None and body["country"] is None
    assert body["features"][0]["properties"]["distance_km"] > 300


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("", "q"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("q=" + "a" * 1000, "q"),
        ("q=" + "a" * 201, "q"),
        ("q=Kursk%00", "q"),
        ("q=Kur%09sk", "q"),
        ("q=Kur%1bsk", "q"),
        ("q=Kursk&q=Sudzha", "q"),
        ("q=Kursk&near=abc", "near"),
        ("q=Kursk&near=35", "near"),
        ("q=Kursk&near=35,51,3", "near"),
        ("q=Kursk&near=200,51", "near"),
        ("q=Kursk&near=35,95", "near"),
        ("q=Kursk&near=nan,51", "near"),
        ("q=Kursk&bbox=1,2,3", "bbox"),
        ("q=Kursk&bbox=a,b,c,d", "bbox"),
        ("q=Kursk&bbox=0,60,10,50", "bbox"),
        ("q=Kursk&bbox=0,0,10,95", "bbox"),
        ("q=Kursk&limit=0", "limit"),
        ("q=Kursk&limit=51", "limit"),
        ("q=Kursk&limit=ten", "limit"),
        ("q=Kursk&limit=99999999999999999999", "limit"),
        ("q=Kursk&lang=fr", "lang"),
    ],
)
def test_bad_search_parameters_are_a_400_naming_them(client: FlaskClient, query: str, parameter: str) -> None:
    response = client.get(f"/api/places?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert set(body) >= {"error", "detail"} and body["parameter"] == parameter


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("", "lon"),
        ("lon=35", "lat"),
        ("lat=51", "lon"),
        ("lon=181&lat=51", "lon"),
        ("lon=35&lat=-91", "lat"),
        ("lon=abc&lat=51", "lon"),
        ("lon=inf&lat=51", "lon"),
        ("lon=35&lat=nan", "lat"),
        ("lon=35&lat=51&lat=52", "lat"),
        ("lon=35%00&lat=51", "lon"),
    ],
)
def test_bad_reverse_parameters_are_a_400_naming_them(
    client: FlaskClient, query: str, parameter: str
) -> None:
    response = client.get(f"/api/places/reverse?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert set(body) >= {"error", "detail"} and body["parameter"] == parameter


def test_without_an_index_the_build_starts_and_requests_get_a_503_until_it_is_done(
    fresh_database: Callable[..., str],
    app_factory: Callable[..., Flask],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    import geodata.gazetteer

    release, started = threading.Event(), threading.Event()
    builds: list[Path] = []

    def slow_build(path: Path, sources: object = None) -> Path:
        builds.append(path)
        started.set()
        release.wait(10)
        raise geodata.gazetteer.GazetteerError("the sources are missing")

    monkeypatch.setattr(geodata.gazetteer, "ensure_index", slow_build)
    client = app_factory(fresh_database(), GAZETTEER_PATH=str(tmp_path / "none.sqlite")).test_client()
    first = client.get("/api/places?q=Kursk")
    assert first.status_code == 503 and first.headers["Retry-After"] == "60"
    assert first.get_json()["error"] == "place index not ready"
    assert started.wait(5)
    assert client.get("/api/places/reverse?lon=35&lat=51").status_code == 503
    assert builds == [tmp_path / "none.sqlite"]  # one build, however many requests
    release.set()
    for _ in range(100):  # the failed build is remembered and reported, not retried
        failed = client.get("/api/places?q=Kursk")
        if failed.get_json()["error"] != "place index not ready":
            break
        threading.Event().wait(0.05)
    assert failed.status_code == 503 and failed.get_json()["error"] == "place index unavailable"
    assert "sources" not in failed.get_json()["detail"]  # internals stay in the log


# The main map's default view around Kursk (zoom 7 at 1280 px).
KURSK_VIEW = "28.4,48.6,42.4,54.1"


def _labels(client: FlaskClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/places/labels", query_string=params)
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == "application/geo+json"
    features: list[dict[str, Any]] = response.get_json()["features"]
    return features


def test_labels_name_regional_centres_zoomed_out_and_villages_zoomed_in(client: FlaskClient) -> None:
    wide = _labels(client, bbox=KURSK_VIEW, zoom=7, lang="en")
    wide_names = [f["properties"]["label"] for f in wide]
    assert {"Kursk", "Belgorod", "Sumy", "Kharkiv"} <= set(wide_names)
    assert "Sudzha" not in wide_names  # a small town waits until the map is closer
    assert [f["properties"]["rank"] for f in wide] == list(range(len(wide)))  # most important first
    assert wide_names.index("Kharkiv") < wide_names.index("Sumy")
    # Region names show at regional zooms, and every label lies in the view.
    assert "Kursk Oblast" in wide_names
    for feature in wide:
        lon, lat = feature["geometry"]["coordinates"]
        assert 28.4 <= lon <= 42.4 and 48.6 <= lat <= 54.1
    closer = _labels(client, bbox="34.9,51.0,35.6,51.4", zoom=11, lang="en")
    close = [f["properties"]["label"] for f in closer]
    assert "Sudzha" in close and "Kursk" not in close


def test_labels_are_in_the_interface_language_else_the_local_name(client: FlaskClient) -> None:
    german = [f["properties"]["label"] for f in _labels(client, bbox=KURSK_VIEW, zoom=7, lang="de")]
    assert "Oblast Kursk" in german and "Kursk" in german  # Natural Earth's German; GeoNames' name
    russian = [f["properties"]["label"] for f in _labels(client, bbox=KURSK_VIEW, zoom=7, lang="ru")]
    assert "Курск" in russian
    client.set_cookie("lang", "de")
    assert "Oblast Kursk" in [f["properties"]["label"] for f in _labels(client, bbox=KURSK_VIEW, zoom=7)]


def test_labels_are_gzipped_and_revalidated_by_etag(client: FlaskClient) -> None:
    import gzip
    import json

    url = f"/api/places/labels?bbox={KURSK_VIEW}&zoom=7&lang=en"
    zipped = client.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "max-age" in zipped.headers["Cache-Control"]
    assert json.loads(gzip.decompress(zipped.data))["features"][0]["properties"]["label"]
    again = client.get(url, headers={"If-None-Match": zipped.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers and plain.get_json()["attribution"].startswith("GeoNames")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("zoom=7", "bbox"),
        (f"bbox={KURSK_VIEW}", "zoom"),
        (f"bbox={KURSK_VIEW}&zoom=seven", "zoom"),
        (f"bbox={KURSK_VIEW}&zoom=99", "zoom"),
        ("bbox=1,2,3&zoom=7", "bbox"),
        ("bbox=0,95,10,96&zoom=7", "bbox"),
        (f"bbox={KURSK_VIEW}&zoom=7&lang=fr", "lang"),
    ],
)
def test_bad_label_parameters_are_a_400_naming_them(client: FlaskClient, query: str, parameter: str) -> None:
    response = client.get("/api/places/labels?" + query)
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter

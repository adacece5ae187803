"""Custom places: editors add villages the gazetteer lacks, and place search, reverse geocoding and
the map labels find them beside GeoNames at once; every change is a revision, deletes are
restorable, stale saves are 409s and bad input is a 400 naming the field (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import GOOD_PASSWORD, auth, csrf_token, log_in
from sqlalchemy import func, select

from geodata.gazetteer import default_path, ensure_index
from timeline.store.db import db
from timeline.store.place_models import CustomPlace, CustomPlaceRevision

# A village near Sudzha that no package has, under an invented name (so no namesake interferes).
VILLAGE = {
    "name": "Zarechnoye Pole",
    "alternate_names": ["Заречное Поле", "Sarechnoje Pole"],
    "lon": 35.3123,
    "lat": 51.2051,
    "source": "https://example.org/survey/2024-08 (field survey)",
    "kind": "hamlet",
}


@pytest.fixture(scope="session")
def gazetteer_path(request: pytest.FixtureRequest) -> Path:
    """The real index, built once into pytest's cache folder (as tests/web/test_places.py does)."""
    cache = getattr(request.config, "cache", None)
    return ensure_index(Path(cache.mkdir("gazetteer")) / "gazetteer.sqlite" if cache else default_path())


@pytest.fixture
def app(fresh_database: Callable[..., str], app_factory: Callable[..., Flask], gazetteer_path: Path) -> Flask:
    return app_factory(fresh_database(), GAZETTEER_PATH=str(gazetteer_path))


def _create(client: FlaskClient, token: str, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/custom-places", json={**VILLAGE, **changes}, headers=auth(token))
    assert response.status_code == 201, response.get_json()
    assert response.headers["ETag"] == f'"{response.get_json()["version"]}"'
    body: dict[str, Any] = response.get_json()
    return body


def _search(client: FlaskClient, q: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/places", query_string={"q": q, **params})
    assert response.status_code == 200, response.get_json()
    features: list[dict[str, Any]] = response.get_json()["features"]
    return features


def test_a_new_place_is_found_by_every_spelling_and_first_for_its_name(client, users) -> None:
    created = _create(client, users["editor"]["token"])
    assert created["version"] == 1 and created["author"] == "editor1"
    # The point lies in Kursk Oblast: country and region were filled in from it.
    assert (created["country"], created["region"]) == ("RU", "RU-KRS")
    ref = f"custom:{created['id']}"
    for query in ("Zarechnoye Pole", "Заречное поле", "Zarechnoe Pole", "Sarechnoje", "zarechn"):
        assert ref in [f["id"] for f in _search(client, query)], query
    first = _search(client, "Zarechnoye Pole", lang="de")[0]
    assert first["id"] == ref
    assert first["properties"] | {"country_label": None} == {
        "id": ref,
        "name": "Zarechnoye Pole",
        "label": "Zarechnoye Pole",
        "kind": "custom",
        "country": "RU",
        "country_label": None,
        "region": "Oblast Kursk",
        "population": None,
        "source": VILLAGE["source"],
        "feature_class": "hamlet",
    }
    assert first["geometry"]["coordinates"] == [VILLAGE["lon"], VILLAGE["lat"]]


def test_a_custom_namesake_of_a_geonames_village_ranks_first_and_near_and_bbox_rank_it(client, users) -> None:
    """A GeoNames village of Kursk Oblast, "Guevo", has a namesake an editor added far away; that one
    is found first for the exact name, and the GeoNames one comes first again near its own point."""
    created = _create(client, users["editor"]["token"], name="Guevo", alternate_names=[], lon=30.0, lat=60.0)
    ref = f"custom:{created['id']}"
    assert _search(client, "Guevo")[0]["id"] == ref
    near_kursk = _search(client, "Guevo", near="34.9,51.3")
    assert near_kursk[0]["id"] != ref and near_kursk[0]["properties"]["region"] == "Kursk Oblast"
    in_view = _search(client, "Guevo", bbox="29,59,31,61")
    assert in_view[0]["id"] == ref
    # A prefix (autocomplete) reaches it too.
    assert ref in [f["id"] for f in _search(client, "Guev")]


def test_reverse_geocoding_and_labels_take_custom_places_in(client, users) -> None:
    created = _create(client, users["editor"]["token"])
    ref = f"custom:{created['id']}"
    body = client.get("/api/places/reverse", query_string={"lon": 35.3125, "lat": 51.2052}).get_json()
    nearest = body["features"][0]
    assert nearest["id"] == ref and nearest["properties"]["distance_km"] < 0.1
    assert body["region"]["code"] == "RU-KRS"
    # Far from it, the gazetteer's nearest place answers as before.
    assert (
        client.get("/api/places/reverse?lon=35.271&lat=51.191").get_json()["features"][0]["properties"][
            "name"
        ]
        == "Sudzha"
    )
    view = "35.2,51.15,35.4,51.25"
    close = client.get(f"/api/places/labels?bbox={view}&zoom=13").get_json()["features"]
    assert "Zarechnoye Pole" in [f["properties"]["label"] for f in close]
    far = client.get(f"/api/places/labels?bbox={view}&zoom=8").get_json()["features"]
    assert "Zarechnoye Pole" not in [f["properties"]["label"] for f in far]


def test_history_delete_and_restore(client, users, app) -> None:
    token = users["editor"]["token"]
    created = _create(client, token)
    url = f"/api/custom-places/{created['id']}"
    changed = client.patch(url, json={"lat": 51.21, "version": 1}, headers=auth(token))
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["version"] == 2 and changed.headers["ETag"] == '"2"'
    # The same content again is no change: no revision, no new version.
    same = client.patch(url, json={"lat": 51.21}, headers={**auth(token), "If-Match": '"2"'})
    assert same.get_json()["version"] == 2
    assert client.delete(url, headers=auth(users["admin"]["token"])).status_code == 204
    assert f"custom:{created['id']}" not in [f["id"] for f in _search(client, "Zarechnoye Pole")]
    assert client.get("/api/custom-places", headers=auth(token)).get_json()["places"] == []
    deleted = client.get("/api/custom-places?deleted=true", headers=auth(token)).get_json()["places"]
    assert [p["id"] for p in deleted] == [created["id"]] and deleted[0]["deleted_at"]
    assert client.patch(url, json={"name": "x", "version": 3}, headers=auth(token)).status_code == 404
    restored = client.post(f"{url}/restore", headers=auth(token))
    assert restored.status_code == 200 and restored.get_json()["deleted_at"] is None
    assert _search(client, "Zarechnoye Pole")[0]["id"] == f"custom:{created['id']}"
    history = client.get(f"{url}/revisions", headers=auth(token)).get_json()["revisions"]
    assert [(r["version"], r["action"], r["user"]) for r in history] == [
        (4, "restore", "editor1"),
        (3, "delete", "admin1"),
        (2, "update", "editor1"),
        (1, "create", "editor1"),
    ]
    assert history[2]["changes"]["geometry"][1]["coordinates"] == [VILLAGE["lon"], 51.21]
    assert history[3]["snapshot"]["name"] == "Zarechnoye Pole"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CustomPlaceRevision)) == 4


def test_a_stale_version_is_a_409_with_the_current_place(client, users) -> None:
    token = users["editor"]["token"]
    created = _create(client, token)
    url = f"/api/custom-places/{created['id']}"
    assert (
        client.patch(url, json={"kind": "village"}, headers={**auth(token), "If-Match": '"1"'}).status_code
        == 200
    )
    stale = client.patch(url, json={"kind": "farm"}, headers={**auth(token), "If-Match": '"1"'})
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "conflict" and "version 2" in body["detail"]
    assert body["current"]["kind"] == "village" and body["current"]["version"] == 2
    assert client.patch(url, json={"kind": "farm"}, headers=auth(token)).status_code == 428
    assert client.delete(url, headers={**auth(token), "If-Match": '"1"'}).status_code == 409
    assert client.get(url, headers=auth(token)).get_json()["kind"] == "village"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Zare\x00chnoye"}, "name"),
        ({"name": "Zare\nchnoye"}, "name"),
        ({"name": "Zare\x1bchnoye"}, "name"),
        ({"name": "\ud800"}, "name"),
        ({"name": "---"}, "name"),
        ({"name": 5}, "name"),
        ({"lon": 181}, "lon"),
        ({"lat": -90.5}, "lat"),
        ({"lat": "north"}, "lat"),
        ({"lon": True}, "lon"),
        ({"lon": None}, "lon"),
        ({"source": ""}, "source"),
        ({"source": "s" * 2001}, "source"),
        ({"alternate_names": 7}, "alternate_names"),
        ({"alternate_names": ["ok", "b\tad"]}, "alternate_names"),
        ({"alternate_names": [f"name {i}" for i in range(51)]}, "alternate_names"),
        ({"kind": "k" * 41}, "kind"),
        ({"country": "Russia"}, "country"),
        ({"region": "Kursk Oblast"}, "region"),
        ({"population": 5}, "population"),
        ({"version": 1}, "version"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, users, app, changes, field) -> None:
    response = client.post(
        "/api/custom-places", json={**VILLAGE, **changes}, headers=auth(users["editor"]["token"])
    )
    assert response.status_code == 400, response.get_json()
    body = response.get_json()
    assert body["error"] == "invalid place" and field in body["detail"]
    assert field in [p["field"] for p in body["problems"]]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CustomPlace)) == 0


def test_bad_bodies_and_anonymous_callers_get_json_errors(client, users) -> None:
    token = users["editor"]["token"]
    assert client.post("/api/custom-places", json=VILLAGE).status_code == 401
    assert client.get("/api/custom-places").status_code == 401
    not_json = client.post("/api/custom-places", data="name=x", headers=auth(token))
    assert not_json.status_code == 415 and not_json.get_json()["error"]
    broken = client.post(
        "/api/custom-places", data="{", headers={**auth(token), "Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and {"error", "detail"} <= broken.get_json().keys()
    listed = client.post("/api/custom-places", json=[VILLAGE], headers=auth(token))
    assert listed.status_code == 400
    assert client.get("/api/custom-places/999", headers=auth(token)).status_code == 404
    created = _create(client, token)
    bad_match = client.patch(
        f"/api/custom-places/{created['id']}",
        json={"kind": "x"},
        headers={**auth(token), "If-Match": "three"},
    )
    assert bad_match.status_code == 412 and bad_match.get_json()["error"]


def test_session_writes_need_the_csrf_token(client, users) -> None:
    log_in(client, "editor1", GOOD_PASSWORD)
    assert client.post("/api/custom-places", json=VILLAGE).status_code == 400
    token = csrf_token(client, "/edit/places/new")
    made = client.post("/api/custom-places", json=VILLAGE, headers={"X-CSRFToken": token})
    assert made.status_code == 201, made.get_json()


def test_the_editor_pages_add_edit_delete_and_restore(client, users, app) -> None:
    log_in(client, "editor1", GOOD_PASSWORD)
    assert 'href="/edit/places"' in client.get("/edit/").get_data(as_text=True)
    token = csrf_token(client, "/edit/places/new")
    form = {"csrf_token": token, **VILLAGE, "alternate_names": "Заречное Поле\nSarechnoje Pole"}
    refused = client.post("/edit/places/new", data={**form, "lat": "95"})
    assert refused.status_code == 422
    assert "Enter a number from -90 to 90" in refused.get_data(as_text=True)
    added = client.post("/edit/places/new", data=form)
    assert added.status_code == 302 and added.headers["Location"].endswith("/edit/places")
    page = client.get("/edit/places").get_data(as_text=True)
    assert "Zarechnoye Pole" in page and "Sarechnoje Pole" in page
    with app.app_context():
        place_id = db.session.scalar(select(CustomPlace.id))
    edited = client.post(f"/edit/places/{place_id}", data={**form, "kind": "village", "version": "1"})
    assert edited.status_code == 302
    stale = client.post(f"/edit/places/{place_id}", data={**form, "kind": "farm", "version": "1"})
    assert stale.status_code == 409
    assert "version 2" in stale.get_data(as_text=True)
    assert client.post(f"/edit/places/{place_id}/delete", data={"csrf_token": token}).status_code == 302
    assert 'id="deleted-places"' in client.get("/edit/places").get_data(as_text=True)
    assert client.post(f"/edit/places/{place_id}/restore", data={"csrf_token": token}).status_code == 302
    history = client.get(f"/edit/places/{place_id}/history").get_data(as_text=True)
    assert history.count('class="revision"') == 4
    assert client.get("/edit/places", headers={"Accept-Language": "de"}).status_code == 200


def test_a_german_editor_reads_the_form_problems_in_german(client, users, app) -> None:
    log_in(client, "editor1", GOOD_PASSWORD)
    token = csrf_token(client, "/edit/places/new")
    client.post("/language", data={"lang": "de", "csrf_token": token})
    form = {"csrf_token": token, **VILLAGE, "lat": "95", "lon": "Osten", "source": "", "country": "Russland"}
    refused = client.post("/edit/places/new", data=form)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    for german in (
        "Geben Sie eine Zahl von -90 bis 90 ein",
        "Geben Sie eine Zahl ein, z. B. 35.27",
        "Geben Sie an, woher die Koordinaten stammen",
        "Geben Sie einen Code wie RU ein oder lassen Sie das Feld leer",
    ):
        assert german in page
    assert "Enter a number" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count(CustomPlace.id))) == 0
    api = client.post("/api/custom-places", json={**VILLAGE, "lat": 95}, headers={"X-CSRFToken": token})
    assert api.status_code == 400
    assert api.get_json()["problems"] == [{"field": "lat", "message": "Enter a number from -90 to 90"}]


def test_hostile_text_is_escaped_on_the_pages(client, users) -> None:
    hostile = "<img src=x onerror=alert(1)>"
    _create(client, users["editor"]["token"], name=hostile, source="javascript:alert(1)")
    log_in(client, "editor1", GOOD_PASSWORD)
    page = client.get("/edit/places").get_data(as_text=True)
    assert hostile not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert 'href="javascript:' not in page


def test_ids_beyond_the_database_integer_are_404s(client, users) -> None:
    token = users["editor"]["token"]
    for method, path in (
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "/restore"),
        ("get", "/revisions"),
    ):
        response = getattr(client, method)(
            f"/api/custom-places/2147483648{path}", json={"kind": "x", "version": 1}, headers=auth(token)
        )
        assert response.status_code == 404, (method, path, response.get_json())
        assert response.get_json()["error"]

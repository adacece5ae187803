"""A dataset's own id and facts travel with an event: stored, served, edited around, never doubled."""

import json

from helpers import GOOD_PASSWORD, auth, csrf_token, feature, log_in
from sqlalchemy import select

from timeline.store.db import db
from timeline.store.models import Event


def with_dataset(event_id, external_id, **attributes):
    raw = feature(event_id)
    raw["properties"]["external_id"] = external_id
    raw["properties"]["attributes"] = attributes
    return raw


def test_external_id_and_attributes_are_stored_and_served(client, users):
    raw = with_dataset(None, "acled:UKR1001", fatalities=3, geo_precision=1, admin1="Kursk")
    response = client.post("/api/events", json=raw, headers=auth(users["admin"]["token"]))
    assert response.status_code == 201, response.get_json()
    served = client.get(f"/api/events/{response.get_json()['id']}").get_json()["properties"]
    assert served["external_id"] == "acled:UKR1001"
    assert served["attributes"] == {"fatalities": 3, "geo_precision": 1, "admin1": "Kursk"}


def test_an_event_without_them_has_neither_property(client, load):
    load(feature("plain"))
    props = client.get("/api/events/plain").get_json()["properties"]
    assert "external_id" not in props and "attributes" not in props


def test_a_second_event_with_the_same_external_id_is_refused(client, users, app):
    token = users["admin"]["token"]
    first = client.post("/api/events", json=with_dataset(None, "acled:UKR7"), headers=auth(token))
    assert first.status_code == 201
    again = client.post("/api/events", json=with_dataset(None, "acled:UKR7"), headers=auth(token))
    assert again.status_code == 422
    assert again.get_json()["problems"][0]["field"] == "external_id"
    with app.app_context():
        assert db.session.scalars(select(Event.id).where(Event.external_id == "acled:UKR7")).all()
        assert len(db.session.scalars(select(Event.pk)).all()) == 1


def test_an_import_with_a_clashing_external_id_imports_nothing(app, load, runner, tmp_path):
    load(with_dataset("held", "acled:UKR9"))
    path = tmp_path / "clash.geojson"
    features = [with_dataset("new-1", "acled:UKR10"), with_dataset("new-2", "acled:UKR9")]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0
    assert "external_id" in result.output and "'held'" in result.output
    with app.app_context():
        assert sorted(db.session.scalars(select(Event.id))) == ["held"]


def test_a_repeated_external_id_in_one_file_is_named(app, runner, tmp_path):
    path = tmp_path / "twice.geojson"
    features = [with_dataset(f"ev-{i}", "acled:UKR5") for i in range(600)]  # the bulk path
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0 and "feature 0" in result.output
    with app.app_context():
        assert db.session.scalars(select(Event.pk)).first() is None


def test_saving_in_the_editor_keeps_them(app, client, users, load):
    load(with_dataset("kept", "acled:UKR3", fatalities=2))
    log_in(client, users["admin"]["username"], GOOD_PASSWORD)
    form = client.get("/edit/events/kept")
    assert form.status_code == 200
    current = client.get("/api/events/kept").get_json()["properties"]
    response = client.post(
        "/edit/events/kept",
        data={
            "csrf_token": csrf_token(client, "/edit/events/kept"),
            "version": str(current["version"]),
            "title": "A new title",
            "start": current["start"],
            "date_precision": current["date_precision"],
            "category": current["category"],
            "confidence": current["confidence"],
            "status": current["status"],
            "lang": current["lang"],
            "lon": "35.2",
            "lat": "51.2",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    props = client.get("/api/events/kept").get_json()["properties"]
    assert props["title"] == "A new title"
    assert props["external_id"] == "acled:UKR3" and props["attributes"] == {"fatalities": 2}


def test_attributes_must_be_flat_and_short(client, users):
    for bad in ({"nested": {"a": 1}}, {"list": [1]}, {"long": "x" * 1001}, {"": 1}):
        raw = feature(None)
        raw["properties"]["attributes"] = bad
        response = client.post("/api/events", json=raw, headers=auth(users["admin"]["token"]))
        assert response.status_code == 422, bad
        assert response.get_json()["problems"][0]["field"] == "attributes"

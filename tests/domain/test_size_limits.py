"""Bounded sizes: positions per geometry, actors and sources per event, features per request, the
long way round the antimeridian, and the anonymous validator's allowance."""

import pytest
from helpers import auth, feature

from timeline.domain import fields


def line(n):
    return {"type": "LineString", "coordinates": [[30 + i / n, 50.0] for i in range(n)]}


def post(client, users, body):
    return client.post("/api/events", json=body, headers=auth(users["admin"]["token"]))


def test_a_geometry_over_the_default_position_limit_is_refused_before_it_is_read(client, users):
    response = post(client, users, feature(None, geometry=line(fields.SIZE_LIMITS.geometry_positions + 1)))
    assert response.status_code == 422
    problem = response.get_json()["problems"][0]
    assert problem["field"] == "geometry" and "50,000 positions" in problem["message"]


def test_the_position_limit_is_configurable_and_inclusive(client, users, monkeypatch):
    monkeypatch.setattr(fields, "SIZE_LIMITS", fields.SizeLimits(geometry_positions=10))
    assert post(client, users, feature(None, geometry=line(10))).status_code == 201
    assert post(client, users, feature(None, geometry=line(11))).status_code == 422
    # Positions count across every ring of a polygon: 6 + 5 is over 10.
    shell = [[30, 50], [32, 50], [32, 52], [31, 52.5], [30, 52], [30, 50]]
    hole = [[30.5, 50.5], [30.5, 51], [31, 51], [31, 50.5], [30.5, 50.5]]
    refused = post(client, users, feature(None, geometry={"type": "Polygon", "coordinates": [shell, hole]}))
    assert refused.status_code == 422 and "more than 10 positions" in refused.get_json()["detail"]
    assert (
        post(client, users, feature(None, geometry={"type": "Polygon", "coordinates": [shell]})).status_code
        == 201
    )


def test_the_limits_are_read_from_the_environment():
    limits = fields.SizeLimits.from_environment(
        {"MAX_GEOMETRY_POSITIONS": "7", "MAX_FEATURES_PER_REQUEST": "3"}
    )
    assert (limits.geometry_positions, limits.features_per_request) == (7, 3)


@pytest.mark.parametrize(
    "geometry",
    [
        {"type": "LineString", "coordinates": [[179, 0], [-179, 0]]},
        {"type": "Polygon", "coordinates": [[[170, 0], [-170, 0], [-170, 5], [170, 5], [170, 0]]]},
    ],
)
def test_a_shape_across_the_antimeridian_the_long_way_round_is_refused(client, users, geometry):
    response = post(client, users, feature(None, geometry=geometry))
    assert response.status_code == 422
    assert "antimeridian" in response.get_json()["problems"][0]["message"]
    # Nothing of it shows up at Greenwich.
    assert client.get("/api/events?bbox=-1,-1,1,6").get_json()["numberMatched"] == 0


def test_a_shape_cut_at_the_antimeridian_is_stored(client, users):
    cut = {"type": "MultiLineString", "coordinates": [[[179, 0], [180, 0]], [[-180, 0], [-179, 0]]]}
    assert post(client, users, feature(None, geometry=cut)).status_code == 201
    assert client.get("/api/events?bbox=-1,-1,1,1").get_json()["numberMatched"] == 0


def test_actors_and_sources_per_event_are_capped(client, users):
    most_actors, most_sources = fields.max_items("actors"), fields.max_items("sources")
    assert post(client, users, feature(None, actors=[f"a{i}" for i in range(most_actors)])).status_code == 201
    too_many = post(client, users, feature(None, actors=[f"a{i}" for i in range(most_actors + 1)]))
    assert too_many.status_code == 422 and too_many.get_json()["problems"][0]["field"] == "actors"
    sources = [{"outlet": f"o{i}"} for i in range(most_sources + 1)]
    refused = post(client, users, feature(None, sources=sources))
    assert refused.status_code == 422 and refused.get_json()["problems"][0]["field"] == "sources"


def test_the_validator_checks_a_bounded_number_of_features(client, monkeypatch):
    monkeypatch.setattr(fields, "SIZE_LIMITS", fields.SizeLimits(features_per_request=3))
    from timeline.web import read_api

    monkeypatch.setattr(read_api, "SIZE_LIMITS", fields.SIZE_LIMITS)
    ok = {"type": "FeatureCollection", "features": [feature(f"e{i}") for i in range(3)]}
    assert client.post("/api/validate", json=ok).status_code == 200
    big = {"type": "FeatureCollection", "features": [feature(f"e{i}") for i in range(4)]}
    response = client.post("/api/validate", json=big)
    assert response.status_code == 413 and "split the file" in response.get_json()["detail"]


def test_anonymous_validation_has_its_own_allowance_and_editors_are_not_counted(
    fresh_database, app_factory, users_on
):
    app = app_factory(fresh_database("validate-limit"), VALIDATE_RATE_LIMIT="2/minute")
    users = users_on(app)
    client = app.test_client()
    body = {"type": "FeatureCollection", "features": [feature("a")]}
    assert [client.post("/api/validate", json=body).status_code for _ in range(2)] == [200, 200]
    refused = client.post("/api/validate", json=body)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.get_json()["error"] == "too many requests"
    editor = auth(users["editor"]["token"])
    assert [client.post("/api/validate", json=body, headers=editor).status_code for _ in range(3)] == [
        200
    ] * 3
    assert client.get("/api/events").status_code == 200  # other reads are not counted

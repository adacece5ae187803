"""The field table is the one source of every field's limit, default and who may set it."""

import pytest
from helpers import auth, feature

from timeline.domain import fields
from timeline.domain.features import FeatureError, event_to_summary, parse_feature
from timeline.store.models import Event, Source

# The sized columns behind each limited field.
COLUMNS = {"title": Event.title, "place": Event.place}
SOURCE_COLUMNS = {"url": Source.url, "outlet": Source.outlet, "title": Source.title}


def test_limits_are_the_sizes_of_the_columns_that_store_them():
    for name, column in COLUMNS.items():
        assert fields.limit(name) == column.property.columns[0].type.length
    for name, column in SOURCE_COLUMNS.items():
        assert fields.SOURCE_LIMITS[name] == column.property.columns[0].type.length
    assert Event.id.property.columns[0].type.length == fields.ID_LENGTH


def problems_of(raw):
    try:
        parse_feature(raw)
    except FeatureError as exc:
        return {p.field: p.message for p in exc.problems}
    return {}


@pytest.mark.parametrize("name", ["title", "description", "place"])
def test_a_text_field_holds_exactly_its_limit(name):
    n = fields.limit(name)
    assert problems_of(feature(**{name: "x" * n})) == {}
    assert str(n) in problems_of(feature(**{name: "x" * (n + 1)}))[name]


def test_actors_and_sources_are_held_to_their_limits():
    n = fields.limit("actors")
    assert problems_of(feature(actors=["a" * n])) == {}
    assert "actors" in problems_of(feature(actors=["a" * (n + 1)]))
    for name in ("outlet", "title"):
        n = fields.SOURCE_LIMITS[name]
        assert problems_of(feature(sources=[{name: "s" * n}])) == {}
        assert "sources[0]" in problems_of(feature(sources=[{name: "s" * (n + 1)}]))
    base = "https://example.org/"
    n = fields.SOURCE_LIMITS["url"]
    assert problems_of(feature(sources=[{"url": base + "p" * (n - len(base))}])) == {}
    assert "sources[0]" in problems_of(feature(sources=[{"url": base + "p" * (n + 1 - len(base))}]))


def test_defaults_come_from_the_table():
    raw = feature()
    for name in ("lang", "category", "confidence", "status", "place", "description"):
        raw["properties"].pop(name, None)
    data = parse_feature(raw)
    assert data.lang == fields.default("lang")
    assert data.category == fields.default("category")
    assert data.confidence == fields.default("confidence")
    assert data.status == fields.default("status")
    assert (data.place, data.description) == (fields.default("place"), fields.default("description"))


def test_the_summary_view_carries_the_summary_fields_of_the_table(app, load):
    from timeline.store.db import db
    from timeline.store.queries import get_event

    load(feature("ev-s"))
    with app.app_context():
        summary = event_to_summary(get_event(db.session, "ev-s"))
    assert tuple(summary["properties"]) == fields.SUMMARY_PROPERTIES


@pytest.mark.parametrize("name", fields.CLIENT_FORBIDDEN)
def test_every_server_managed_field_is_refused_from_a_client(client, users, name):
    body = feature(None)
    body["properties"][name] = "2024-01-01T00:00:00Z" if name.endswith("_at") else 3
    response = client.post("/api/events", json=body, headers=auth(users["editor"]["token"]))
    assert response.status_code == 422
    assert name in [p["field"] for p in response.get_json()["problems"]]


def test_the_editor_form_limits_the_title_as_the_table_does(client, users):
    from helpers import GOOD_PASSWORD, log_in

    log_in(client, users["editor"]["username"], GOOD_PASSWORD)
    page = client.get("/edit/events/new").get_data(as_text=True)
    assert f'name="title" value="" required maxlength="{fields.limit("title")}"' in page

"""The one Event <-> Feature mapping: what it accepts, what it refuses, what it gives back."""

import pytest
from helpers import XSS_PAYLOADS, feature, square

from timeline.domain.features import FeatureError, parse_feature


def problems_of(raw):
    with pytest.raises(FeatureError) as info:
        parse_feature(raw)
    return {p.field: p.message for p in info.value.problems}


def test_defaults_fill_missing_optional_properties():
    data = parse_feature(
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [35, 51]},
            "properties": {"title": "Minimal", "start": "2024-10"},
        }
    )
    assert data.id is None
    assert (data.lang, data.category, data.confidence, data.status) == (
        "en",
        "other",
        "reported",
        "published",
    )
    assert data.start.precision == "month"
    assert data.end is None
    assert data.actors == [] and data.sources == [] and data.description == ""


def test_unknown_properties_are_reported_not_applied():
    data = parse_feature(feature(colour="red", author="someone"))
    assert data.unknown_properties == ["author", "colour"]


def test_server_managed_properties_are_accepted_but_not_reported():
    data = parse_feature(feature(created_at="2020-01-01T00:00:00Z", version=7, updated_at=None))
    assert data.unknown_properties == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"start": "2024-02-30"}, "start", "has 29 days"),
        ({"start": "2024-13", "date_precision": "month"}, "start", "month 13 does not exist"),
        (
            {"start": "2024-11-11", "end": "2024-11-01"},
            "start",
            "Enter the end date on or after the start date",
        ),
        ({"start": None}, "start", "Enter the start date"),
        ({"start": "2024-10", "date_precision": "day"}, "start", "Enter the start date as a day"),
        ({"start": "2024-10-01", "end": "2024-11"}, "start", "Enter the end date as a day"),
        ({"date_precision": "week"}, "start", "date_precision must be one of"),
        ({"confidence": "rumour"}, "confidence", "Choose one of confirmed, reported, claimed"),
        ({"status": "secret"}, "status", "Choose one of draft, published"),
        ({"title": ""}, "title", "Fill in this field"),
        ({"title": None}, "title", "Fill in this field"),
        ({"title": 42}, "title", "as a string"),
        ({"title": "x" * 501}, "title", "at most 500"),
        ({"title": "nul\x00byte"}, "title", "NUL"),
        ({"lang": "not a language"}, "lang", "Enter a language code"),
        ({"category": "Bad Slug!"}, "category", "is not a category key"),
        ({"actors": "Ukraine"}, "actors", "list of strings"),
        ({"sources": [{"url": "javascript:alert(1)"}]}, "sources[0]", "http:// or https://"),
        ({"sources": [{"url": "data:text/html,<b>x</b>"}]}, "sources[0]", "http:// or https://"),
        ({"sources": [{"url": "https://"}]}, "sources[0]", "http:// or https://"),
        ({"sources": [{"url": "https://a.example/x y"}]}, "sources[0]", "spaces"),
        ({"sources": [{"url": "https://ok.example", "published": "2024-02-30"}]}, "sources[0]", "published"),
        ({"sources": "https://example.org"}, "sources", "list of source objects"),
        ({"sources": ["https://example.org"]}, "sources[0]", "as an object"),
    ],
)
def test_bad_properties_are_named(overrides, field, message):
    found = problems_of(feature(**overrides))
    assert field in found, found
    assert message in found[field]


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"type": "Point", "coordinates": [200, 51]}, "outside -180..180"),
        ({"type": "Point", "coordinates": [35, float("nan")]}, "finite"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "not closed"),
        ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "Self-intersection"),
    ],
)
def test_bad_geometry_is_named(geometry, message):
    found = problems_of(feature(geometry=geometry))
    assert message in found["geometry"]


def test_every_problem_is_listed_at_once():
    found = problems_of(
        feature(title="", confidence="rumour", geometry={"type": "Point", "coordinates": [0, 95]})
    )
    assert set(found) == {"title", "confidence", "geometry"}


def test_missing_geometry_and_bad_id():
    raw = feature(id="bad id with spaces")
    raw["geometry"] = None
    found = problems_of(raw)
    assert "Mark the place on the map" in found["geometry"]
    assert "not a valid id" in found["id"]


def test_not_a_feature():
    assert "Feature" in problems_of({"type": "FeatureCollection", "features": []})["type"]
    assert "Feature" in problems_of([1, 2])["type"]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_markup_in_text_is_kept_as_data(payload):
    """Text is stored exactly as given; it is escaped where it is shown, never mangled on input."""
    data = parse_feature(feature(title=payload, description=payload, place=payload, actors=[payload]))
    assert data.title == data.description == data.place == payload
    assert data.actors == [payload]


def test_polygon_comes_back_counter_clockwise():
    cw = {"type": "Polygon", "coordinates": [[[35, 51], [35, 51.1], [35.1, 51.1], [35.1, 51], [35, 51]]]}
    data = parse_feature(feature(geometry=cw))
    assert data.geometry.geojson["coordinates"][0] != cw["coordinates"][0]
    assert parse_feature(feature(geometry=square(35, 51))).geometry.geojson == square(35, 51)

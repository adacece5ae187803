"""Property-based tests (hypothesis): the rules hold for every input, not only the ones we thought of.

Dates with precision, geometry validation, the Event <-> Feature mapping (reading what it wrote
gives back what went in), the input gate, and the CQL2 translation (a generated filter selects
exactly the events a Python predicate built beside it says, on both databases).
"""

import contextlib
import itertools
import json
import re
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from geodata.dates import DateError, parse_partial_date
from geodata.geometry import GeometryError, parse_geometry
from timeline.domain.features import (
    FeatureError,
    apply_event_data,
    event_to_feature,
    feature_content,
    parse_feature,
)
from timeline.domain.input_gate import check_text, integer_problem, local_redirect_target, text_problem
from timeline.store.models import CONFIDENCES, Event

PROFILE = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

days = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))
precisions = st.sampled_from(["year", "month", "day"])
lons = st.floats(min_value=-180, max_value=180, allow_nan=False)
lats = st.floats(min_value=-90, max_value=90, allow_nan=False)
positions = st.tuples(lons, lats).map(list)
# Text as editors type it: any Unicode letter, digit, punctuation or space, and line breaks.
words = st.text(
    alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"], exclude_characters="\u2028\u2029"),
    min_size=1,
    max_size=60,
).map(str.strip)


def written(day: date, precision: str) -> str:
    return {"year": f"{day.year:04d}", "month": f"{day.year:04d}-{day.month:02d}", "day": day.isoformat()}[
        precision
    ]


@PROFILE
@given(days, precisions)
def test_a_date_reads_back_as_written_and_covers_its_whole_period(day, precision):
    text = written(day, precision)
    parsed = parse_partial_date(text)
    assert parsed.isoformat() == text and parsed.precision == precision
    assert parsed.first_day <= day <= parsed.last_day
    assert parse_partial_date(parsed.isoformat()) == parsed


@PROFILE
@given(st.text(max_size=12))
def test_anything_else_is_a_date_error_never_a_crash(text):
    try:
        parsed = parse_partial_date(text)
    except DateError:
        return
    assert re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text.strip())
    assert parsed.first_day <= parsed.last_day


@PROFILE
@given(st.lists(positions, min_size=2, max_size=30))
def test_a_line_is_accepted_with_a_box_around_every_position_or_refused_with_a_reason(coords):
    raw = {"type": "LineString", "coordinates": coords}
    try:
        checked = parse_geometry(raw)
    except GeometryError as exc:
        assert str(exc)
        assert any(abs(a[0] - b[0]) > 180 for a, b in itertools.pairwise(coords))
        return
    box = checked.bbox
    for lon, lat in coords:
        assert box.min_lon <= lon <= box.max_lon and box.min_lat <= lat <= box.max_lat
    assert parse_geometry(checked.geojson) == checked  # normalising twice changes nothing


@PROFILE
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.text(max_size=5), lambda c: st.lists(c, max_size=4)
    )
)
def test_any_coordinates_are_accepted_or_refused_cleanly(coordinates):
    for kind in ("Point", "LineString", "Polygon", "MultiPolygon"):
        with contextlib.suppress(GeometryError):
            parse_geometry({"type": kind, "coordinates": coordinates})


features = st.fixed_dictionaries(
    {
        "title": words,
        "description": st.text(
            alphabet=st.characters(categories=["L", "N", "Zs"]) | st.sampled_from("\n\t"), max_size=200
        ),
        "place": words,
        "actors": st.lists(words, max_size=5),
        "confidence": st.sampled_from(CONFIDENCES),
        "lang": st.sampled_from(["de", "en", "ru", "uk", "en-GB"]),
        "category": st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True),
        "start": st.tuples(days, precisions),
        "sources": st.lists(
            st.fixed_dictionaries(
                {"outlet": words, "title": words, "url": st.sampled_from([None, "https://example.org/a?b=c"])}
            ),
            max_size=3,
        ),
    }
)


@PROFILE
@given(features, positions)
def test_reading_a_written_feature_gives_back_what_was_stored(props, point):
    day, precision = props.pop("start")
    raw = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": point},
        "properties": {**props, "start": written(day, precision), "date_precision": precision},
    }
    try:
        data = parse_feature(raw)
    except FeatureError:
        assume(False)  # e.g. a title of spaces only: refused, which other tests cover
    event = Event()
    apply_event_data(event, data)
    written_once = event_to_feature(event)
    again = Event()
    apply_event_data(again, parse_feature(json.loads(json.dumps(written_once))))
    assert feature_content(again) == feature_content(event)
    assert written_once["properties"]["title"] == raw["properties"]["title"].strip()


@PROFILE
@given(st.text(max_size=40))
def test_the_gate_refuses_exactly_the_characters_it_names(text):
    refused = any((ord(c) < 0x20 and c not in "\t\n\r") or 0xD800 <= ord(c) <= 0xDFFF for c in text)
    assert (text_problem(text) is not None) == refused
    if not refused:
        assert check_text(text) == text


@PROFILE
@given(st.integers())
def test_integers_reach_sql_only_when_they_fit_in_64_bits(number):
    assert (integer_problem(number) is None) == (-(2**63) <= number < 2**63)


@PROFILE
@given(st.text(max_size=30))
def test_a_redirect_target_is_local_or_nothing(target):
    safe = local_redirect_target(target)
    if safe is not None:
        assert safe == target and safe.startswith("/") and not safe.startswith("//")
        assert "\\" not in safe and "\r" not in safe and "\n" not in safe


@pytest.mark.parametrize("payload", ["<script>alert(1)</script>", "${7*7}", '=HYPERLINK("x")'])
def test_user_text_is_kept_as_data(payload):
    data = parse_feature({"type": "Feature", "geometry": {"type": "Point", "coordinates": [35, 51]},
                          "properties": {"title": payload, "start": "2024"}})  # fmt: skip
    assert data.title == payload


# ---------------------------------------------------------------------------- CQL2 (OGC API filter)

CQL2_EVENTS = [
    {"id": f"ev-{i}", "category": category, "confidence": confidence, "place": place}
    for i, (category, confidence, place) in enumerate(
        itertools.product(["offensive", "diplomacy", "deployment"], CONFIDENCES, ["Sudzha", "Kursk", ""])
    )
]
cql2_property = st.sampled_from(["category", "confidence", "place"])
cql2_value = st.sampled_from(
    ["offensive", "diplomacy", "deployment", *CONFIDENCES, "Sudzha", "Kursk", "", "O'Brien"]
)


@st.composite
def cql2_filters(draw, depth=2):
    """A CQL2 text filter and the Python predicate it means, built together."""
    kind = draw(st.sampled_from(["=", "<>", "in", "and", "or", "not"] if depth else ["=", "<>", "in"]))
    if kind in ("and", "or"):
        (lt, lf), (rt, rf) = draw(cql2_filters(depth=depth - 1)), draw(cql2_filters(depth=depth - 1))
        join = all if kind == "and" else any
        return f"({lt}) {kind.upper()} ({rt})", lambda e: join([lf(e), rf(e)])
    if kind == "not":
        text, f = draw(cql2_filters(depth=depth - 1))
        return f"NOT ({text})", lambda e: not f(e)
    name = draw(cql2_property)

    def quoted(v):
        return "'" + v.replace("'", "''") + "'"

    if kind == "in":
        values = draw(st.lists(cql2_value, min_size=1, max_size=3))
        return f"{name} IN ({', '.join(map(quoted, values))})", lambda e: e[name] in values
    value = draw(cql2_value)
    if kind == "=":
        return f"{name} = {quoted(value)}", lambda e: e[name] == value
    return f"{name} <> {quoted(value)}", lambda e: e[name] != value


@pytest.fixture
def cql2_app(app, load):
    from helpers import feature

    load(
        *[
            feature(e["id"], category=e["category"], confidence=e["confidence"], place=e["place"])
            for e in CQL2_EVENTS
        ]
    )
    return app


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=cql2_filters())
def test_a_cql2_filter_selects_exactly_the_events_it_describes(cql2_app, case):
    from sqlalchemy import select

    from timeline.store.cql2 import parse, to_condition
    from timeline.store.db import db

    text, predicate = case
    with cql2_app.app_context():
        condition = to_condition(parse(text), db.engine.dialect.name)
        found = sorted(db.session.scalars(select(Event.id).where(condition)))
    assert found == sorted(e["id"] for e in CQL2_EVENTS if predicate(e)), text


@PROFILE
@given(text=st.text(max_size=80))
def test_any_filter_text_translates_or_is_refused_cleanly(text):
    from timeline.store.cql2 import Cql2Error, parse, to_condition

    with contextlib.suppress(Cql2Error):
        to_condition(parse(text), "sqlite")

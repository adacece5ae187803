"""CQL2 timestamps in every form the grammar takes select the same days, over the items request.

timeline.store.cql2 reads RFC 3339 timestamps itself (pygeofilter's reader took milliseconds per
timestamp); these check that each form a client may send still answers as it did: with ``Z``, an
offset, fractions of a second, the basic form, and a form only pygeofilter's reader knew what to do
with (refused as before: a 400 with the OGC exception, never a 500). The same filters written in
CQL2 JSON select the same events, and a JSON instant dateparser would have guessed at is a 400.
"""

import json

import pytest
from helpers import feature


@pytest.fixture
def story(load):
    load(
        feature("sudzha-day", start="2024-08-06"),
        feature("kursk-month", lon=36.185, lat=51.727, start="2024-10", date_precision="month"),
        feature("moscow-2023", lon=37.6, lat=55.75, start="2023", date_precision="year"),
    )


def items(client, text):
    return client.get(
        "/ogc/collections/events/items", query_string={"filter": text, "filter-lang": "cql2-text"}
    )


@pytest.mark.parametrize(
    ("interval", "expected"),
    [
        ("'2024-08-06T00:00:00Z', '2024-08-06T23:59:59Z'", ["sudzha-day"]),
        ("'2024-08-06T10:00:00+03:00', '2024-10-01T00:00:00-05:00'", ["sudzha-day", "kursk-month"]),
        ("'2024-08-07T00:00:00.123456Z', '2024-09-30T23:59:59.5Z'", []),  # between the two events
        # the basic form, which pygeofilter's reader took for the current time
        ("'20240806T000000Z', '20240806T235959Z'", ["sudzha-day"]),
        ("'2023-12-31 12:00:00Z', '2024-08-06 00:00:00'", ["moscow-2023", "sudzha-day"]),  # a space
    ],
)
def test_interval_timestamps_select_the_days_they_name(client, story, interval, expected):
    response = items(client, f"interval T_INTERSECTS INTERVAL({interval})")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [f["id"] for f in body["features"]] == expected
    assert body["numberMatched"] == len(expected)


def test_a_timestamp_neither_reader_takes_is_a_400(client, story):
    response = items(client, "start T_INTERSECTS TIMESTAMP('2024-0806T10:00:00')")  # mixed forms
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith("filter:")


def items_json(client, node):
    return client.get(
        "/ogc/collections/events/items",
        query_string={"filter": json.dumps(node), "filter-lang": "cql2-json"},
    )


def t_intersects(instant):
    return {"op": "t_intersects", "args": [{"property": "interval"}, instant]}


def compare(op, name, instant):
    return {"op": op, "args": [{"property": name}, instant]}


# The same filter written in CQL2 text and in CQL2 JSON, and the events it selects.
SAME_FILTER_BOTH_WAYS = [
    (
        "interval T_INTERSECTS INTERVAL('2024-08-06T00:00:00Z', '2024-08-06T23:59:59Z')",
        t_intersects({"interval": ["2024-08-06T00:00:00Z", "2024-08-06T23:59:59Z"]}),
        ["sudzha-day"],
    ),
    (
        "interval T_INTERSECTS INTERVAL('2024-08-06T10:00:00+03:00', '2024-10-01T00:00:00-05:00')",
        t_intersects({"interval": ["2024-08-06T10:00:00+03:00", "2024-10-01T00:00:00-05:00"]}),
        ["sudzha-day", "kursk-month"],
    ),
    (
        "interval T_INTERSECTS INTERVAL('2024-08-07T00:00:00.123456Z', '2024-09-30T23:59:59.5Z')",
        t_intersects({"interval": ["2024-08-07T00:00:00.123456Z", "2024-09-30T23:59:59.5Z"]}),
        [],
    ),
    (
        "interval T_INTERSECTS INTERVAL('20240806T000000Z', '20240806T235959Z')",
        t_intersects({"interval": ["20240806T000000Z", "20240806T235959Z"]}),
        ["sudzha-day"],
    ),
    (
        "interval T_INTERSECTS INTERVAL('2023-12-31 12:00:00Z', '2024-08-06 00:00:00')",
        t_intersects({"interval": ["2023-12-31 12:00:00Z", "2024-08-06 00:00:00"]}),
        ["moscow-2023", "sudzha-day"],
    ),
    (
        "interval T_INTERSECTS INTERVAL('..', '2024-08-06T00:00:00Z')",
        t_intersects({"interval": ["..", "2024-08-06T00:00:00Z"]}),
        ["moscow-2023", "sudzha-day"],
    ),
    (
        "interval T_INTERSECTS INTERVAL('2024-10-15', '..')",
        t_intersects({"interval": ["2024-10-15", ".."]}),
        ["kursk-month"],
    ),
    (
        "interval T_INTERSECTS INTERVAL('..', '..')",
        t_intersects({"interval": ["..", ".."]}),
        ["moscow-2023", "sudzha-day", "kursk-month"],
    ),
    (
        "interval T_INTERSECTS DATE('2024-10-15')",
        t_intersects({"date": "2024-10-15"}),
        ["kursk-month"],
    ),
    (
        "start T_INTERSECTS TIMESTAMP('2024-08-06T23:30:00-02:00')",
        {"op": "t_intersects", "args": [{"property": "start"}, {"timestamp": "2024-08-06T23:30:00-02:00"}]},
        ["sudzha-day"],
    ),
    (
        "start >= TIMESTAMP('2024-08-06T10:00:00+03:00')",
        compare(">=", "start", {"timestamp": "2024-08-06T10:00:00+03:00"}),
        ["sudzha-day", "kursk-month"],
    ),
    (
        "end < DATE('2024-01-01')",
        compare("<", "end", {"date": "2024-01-01"}),
        ["moscow-2023"],
    ),
    (  # an OR is not taken apart into the query's window: the translated condition answers
        "interval T_INTERSECTS DATE('2023-06-01') OR interval T_INTERSECTS INTERVAL('2024-10-01', '..')",
        {
            "op": "or",
            "args": [t_intersects({"date": "2023-06-01"}), t_intersects({"interval": ["2024-10-01", ".."]})],
        },
        ["moscow-2023", "kursk-month"],
    ),
]


@pytest.mark.parametrize(("text", "node", "expected"), SAME_FILTER_BOTH_WAYS)
def test_a_filter_selects_the_same_events_in_text_and_json(client, story, text, node, expected):
    answers = []
    for response in (items(client, text), items_json(client, node)):
        assert response.status_code == 200, response.get_json()
        answers.append([f["id"] for f in response.get_json()["features"]])
    assert answers == [expected, expected]


@pytest.mark.parametrize(
    "node",
    [
        t_intersects({"timestamp": "yesterday"}),  # dateparser took relative words
        t_intersects({"timestamp": "6 August 2024"}),
        t_intersects({"timestamp": "2024-0806T10:00:00"}),  # mixed forms, refused in text too
        t_intersects({"timestamp": "2024-08-06T25:00:00Z"}),
        t_intersects({"timestamp": 20240806}),
        t_intersects({"date": "20240806"}),
        t_intersects({"date": "2024-02-30"}),
        t_intersects({"interval": ["2024-08-01"]}),
        t_intersects({"interval": ["2024-08-01", "next week"]}),
        t_intersects({"interval": ["P1D", "2024-08-01"]}),  # durations: not in the text form either
        t_intersects({"timestamp": "2024-08-06T10:00:00Z", "property": "start"}),
    ],
)
def test_a_malformed_json_instant_is_a_400(client, story, node):
    response = items_json(client, node)
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "InvalidParameterValue"
    assert body["description"].startswith("filter:")


def test_a_malformed_text_interval_end_is_a_400(client, story):
    response = items(client, "interval T_INTERSECTS INTERVAL('2024-08-01', 'next week')")
    assert response.status_code == 400
    assert response.get_json()["code"] == "InvalidParameterValue"
